"""Never silence: wherever the conversation reads Coachview and Coachview fails, the person is
answered in their language with a Try again button, and nothing they entered is lost; staff
hear once per outage, and once when it is over.

One test per place where the conversation calls Coachview: the course list, a course type's
dates, a deep link's course type and its run, a course or date pressed after the catalogue
cache ran out, and the course changed from the review. The failures are the Coachview sandbox's
own: 5xx answers, a dropped connection, a stopped sandbox, and a request it holds (a hang; the
bot's patience is lowered, and the tests look at what the person reads, never at the time).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from bot.clock import ManualClock
from bot.outage import DOWN_KEY, UP_KEY, OutageTracker
from bot.store.models import Notification
from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import SandboxGroup, TelegramSandbox
from tests.conftest import STAFF_ID
from tests.enrolling import count, to_review
from tests.harness import Person, RunningBot, running_bot, wait_until

TYPES = "/api/v1/Opleidingssoorten"
RUNS = "/api/v1/Opleidingen"
TRY_AGAIN = "🔄 Try again"
COURSES_DOWN = "Sorry, I can't load the courses right now."
DATES_DOWN = "Sorry, I can't load the dates right now."
LINK_DOWN = "Sorry, I can't load the course of your link right now."
KEPT = "Everything you entered is kept."
ALERT = "Coachview is not answering"
RECOVERED = "Coachview answers again"
PATIENCE = timedelta(seconds=2)  # short, yet ample for a loopback answer on a busy machine
TTL = timedelta(minutes=10)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def bot(
    database_url: str,
    telegram: TelegramSandbox,
    staff_group: SandboxGroup,
    clock: ManualClock,
    tmp_path: Path,
) -> AsyncIterator[RunningBot]:
    """The bot with a short patience; Coachview and the bot share a clock the test moves (to
    age the catalogue cache)."""
    staff: dict[str, Any] = {"staff_user_ids": str(STAFF_ID), "staff_chat_id": staff_group.id}
    quick: dict[str, Any] = {
        "coachview_patience": PATIENCE,
        "catalogue_ttl": TTL,
        "default_language": "en",
    }
    async with (
        CoachviewSandbox(clock=clock) as coachview,
        running_bot(telegram, coachview, database_url, clock=clock, **staff, **quick) as bot,
    ):
        yield bot


def runs_requested(coachview: CoachviewSandbox, soort_id: str) -> int:
    """How many times the bot asked Coachview for the runs of ``soort_id``."""
    return sum(
        1
        for request in coachview.requests
        if request.path == RUNS and soort_id.lower() in request.query.get("where", "").lower()
    )


def alert_keys(bot: RunningBot) -> list[str]:
    with Session(bot.services.db) as session:
        keys = session.exec(select(Notification.key).order_by(col(Notification.id))).all()
    return [key for key in keys if key.startswith((DOWN_KEY, UP_KEY))]


async def test_the_course_list_failing_at_start(bot: RunningBot) -> None:
    rule = bot.coachview.faults.add(path=TYPES, status=500, times=None)
    anna = bot.person()
    await anna.say("/start")
    assert COURSES_DOWN in anna.text
    assert KEPT in anna.text
    assert anna.buttons == [TRY_AGAIN]

    rule.times = rule.fired  # Coachview recovers
    await anna.tap(TRY_AGAIN)
    assert "Which course would you like to enroll in?" in anna.text
    await anna.tap("BHV Basis")
    assert anna.text.endswith("Which date would you like?")


async def test_a_dutch_person_is_told_in_dutch(bot: RunningBot) -> None:
    rule = bot.coachview.faults.add(path=TYPES, status=503, times=None)
    kees = bot.person("Kees", language_code="nl")
    await kees.say("/start")
    assert "Sorry, ik kan de opleidingen nu niet laden." in kees.text
    assert kees.buttons == ["🔄 Opnieuw proberen"]

    rule.times = rule.fired
    await kees.tap("🔄 Opnieuw proberen")
    assert "Voor welke opleiding wil je je inschrijven?" in kees.text


async def test_a_course_types_dates_failing(bot: RunningBot) -> None:
    rule = bot.coachview.faults.add(path=RUNS, action="drop", times=None)
    anna = bot.person()
    await anna.say("/start")
    await anna.tap("BHV Basis")
    assert DATES_DOWN in anna.text
    assert anna.buttons == [TRY_AGAIN, "⬅️ Back"]

    rule.times = rule.fired
    await anna.tap(TRY_AGAIN)
    assert "BHV Basis" in anna.text
    assert anna.text.endswith("Which date would you like?")
    await anna.tap(anna.buttons[0])
    assert anna.text.endswith("What is your first name?")
    assert "BHV Basis, starting" in anna.text


async def test_a_deep_link_while_coachview_is_down(bot: RunningBot) -> None:
    await bot.coachview.stop()  # connections refused
    anna = bot.person()
    await anna.say("/start vca-b")
    assert anna.text.startswith("Hello!")
    assert LINK_DOWN in anna.text
    assert "I do not know the course in that link" not in anna.text
    assert anna.buttons == [TRY_AGAIN]

    await bot.coachview.start()
    await anna.tap(TRY_AGAIN)
    assert "VCA Basis" in anna.text
    assert anna.text.endswith("Which date would you like?")


async def test_a_deep_link_to_a_run_that_cannot_be_loaded(bot: RunningBot) -> None:
    run_id = bot.coachview.catalogue.seed.open_run
    rule = bot.coachview.faults.add(path=f"{RUNS}/{run_id}", status=502, times=None)
    anna = bot.person()
    await anna.say(f"/start {run_id}")
    assert LINK_DOWN in anna.text
    assert anna.buttons == [TRY_AGAIN]

    rule.times = rule.fired
    await anna.tap(TRY_AGAIN)
    assert "VCA Basis, starting" in anna.text
    assert anna.text.endswith("What is your first name?")
    draft = bot.open_draft(anna.user)
    assert draft is not None
    assert draft.data["course"]["opleiding_id"] == run_id


async def test_a_hanging_coachview_is_answered_and_its_late_answer_kept(bot: RunningBot) -> None:
    soort = bot.coachview.catalogue.seed.open_soort
    bot.coachview.faults.add(path=RUNS, action="hold")
    anna = bot.person()
    await anna.say("/start vca-b")
    assert DATES_DOWN in anna.text
    assert anna.buttons == [TRY_AGAIN]
    assert bot.coachview.faults.held == 1  # the bot answered while Coachview still holds it

    bot.coachview.faults.release()
    await anna.tap(TRY_AGAIN)
    assert anna.text.endswith("Which date would you like?")
    # The held request's answer was used: Try again asked Coachview nothing new.
    assert runs_requested(bot.coachview, soort) == 1


async def test_a_course_pressed_after_the_cache_ran_out(
    bot: RunningBot, clock: ManualClock
) -> None:
    anna = bot.person()
    await anna.say("/start")
    clock.advance(TTL + timedelta(seconds=1))
    bot.coachview.faults.add(path=TYPES, action="hold")
    await anna.tap("BHV Basis")
    assert COURSES_DOWN in anna.text
    assert anna.buttons == [TRY_AGAIN]

    bot.coachview.faults.release()
    await anna.tap(TRY_AGAIN)  # presses BHV Basis again for her
    assert "BHV Basis" in anna.text
    assert anna.text.endswith("Which date would you like?")


async def test_a_date_pressed_after_the_cache_ran_out(bot: RunningBot, clock: ManualClock) -> None:
    anna = bot.person()
    await anna.say("/start vca-b")
    first_date = anna.buttons[0]
    clock.advance(TTL + timedelta(seconds=1))
    bot.coachview.faults.add(path=RUNS, status=403, times=None)  # a refusal: no stale copy
    await anna.tap(first_date)
    assert DATES_DOWN in anna.text
    assert anna.buttons == [TRY_AGAIN]
    bot.coachview.faults.clear()
    await anna.tap(TRY_AGAIN)
    assert anna.text.endswith("What is your first name?")
    draft = bot.open_draft(anna.user)
    assert draft is not None
    assert draft.data["course"]["opleiding_id"] == bot.coachview.catalogue.seed.open_run


async def test_changing_the_course_from_the_review_loses_nothing(
    bot: RunningBot, clock: ManualClock
) -> None:
    anna = bot.person()
    await to_review(anna, "vca-b", "Anna")
    clock.advance(TTL + timedelta(seconds=1))
    rule = bot.coachview.faults.add(path=TYPES, status=401, times=None)  # refused even after renew
    await anna.tap("📅 Change course")
    assert COURSES_DOWN in anna.text
    assert TRY_AGAIN in anna.buttons

    rule.times = rule.fired
    await anna.tap(TRY_AGAIN)
    await anna.tap("EHBO Basis")
    await anna.tap("Any date (waiting list)")
    assert "Please check your enrollment" in anna.text
    assert "EHBO Basis, any date" in anna.text
    for answer in ("Anna", "Jansen", "anna@example.nl"):
        assert answer in anna.text


async def test_one_outage_is_one_staff_alert_and_one_recovery(
    bot: RunningBot, staff_group: SandboxGroup, clock: ManualClock
) -> None:
    rule = bot.coachview.faults.add(path=TYPES, status=500, times=None)
    people = [bot.person(name) for name in ("Anna", "Bram", "Cleo")]
    for person in people:
        await person.say("/start")
        assert COURSES_DOWN in person.text
    await person_taps_try_again(people[0], expect=COURSES_DOWN)
    await wait_until(lambda: count(staff_group, ALERT) == 1, 20, "the staff alert")

    rule.times = rule.fired
    anna, *others = people
    await person_taps_try_again(anna, expect="Which course would you like to enroll in?")
    assert alert_keys(bot) == [f"{DOWN_KEY}1"]  # too soon to call it over
    clock.advance(OutageTracker.quiet)
    for person in others:
        await person_taps_try_again(person, expect="Which course would you like to enroll in?")
    await wait_until(lambda: count(staff_group, RECOVERED) == 1, 20, "the recovery notice")
    assert alert_keys(bot) == [f"{DOWN_KEY}1", f"{UP_KEY}1"]
    assert count(staff_group, ALERT) == 1

    # The next outage is a new incident: one alert again.
    rule = bot.coachview.faults.add(path=RUNS, status=500, times=None)
    for person in people:
        await person.tap("BHV Basis")
        assert DATES_DOWN in person.text
    await wait_until(lambda: count(staff_group, ALERT) == 2, 20, "the second outage's alert")
    assert alert_keys(bot) == [f"{DOWN_KEY}1", f"{UP_KEY}1", f"{DOWN_KEY}2"]


async def person_taps_try_again(person: Person, *, expect: str) -> None:
    answer = await person.tap(TRY_AGAIN)
    assert expect in person.text
    if expect.startswith("Sorry"):
        # Still down: the button says so, since the message itself cannot change.
        assert answer.text == expect


async def test_a_forged_try_again_runs_no_action(bot: RunningBot) -> None:
    """Try again repeats a button through its question's own handler; the flow's actions
    (send, cancel, start over) cannot be named by a forged button."""
    anna = bot.person()
    await to_review(anna, "vca-b", "Anna")
    await anna.tap("📅 Change course")
    draft = bot.open_draft(anna.user)
    assert draft is not None
    for action in ("SUBMIT", "CANCEL", "RESTART"):
        data = f"e{draft.id:x}.{draft.version:x}.again:{action}"
        answer = await anna.user.press_forged(data, message=anna.screen)
        await bot.settle()
        assert answer.text == "That button does not belong to this question."
    assert bot.outbox() == []
    after = bot.open_draft(anna.user)
    assert after is not None
    assert (after.id, after.version, after.data) == (draft.id, draft.version, draft.data)
