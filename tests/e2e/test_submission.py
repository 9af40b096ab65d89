"""Every confirmed enrollment reaches Coachview exactly once, whatever fails in between.

The bot runs in this process against both sandboxes; Coachview's failures are real ones: a
stopped sandbox refuses connections, injected faults answer 500 or 429, drop the answer after
storing the webaanvraag, or answer too late. The outbox worker's waits are shortened by settings
(``tests/enrolling.py``), so an outage of a second stands for one of an hour.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.store.models import OutboxStatus
from bot.workers.submission import SubmissionWorker
from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import SandboxGroup, TelegramSandbox
from tests.enrolling import (
    BEING_SENT,
    CONFIRMED,
    FAST,
    FLOWING,
    NEW,
    REFUSED,
    SAVED,
    SEND,
    STUCK,
    WEBAANVRAGEN,
    count,
    numbers,
    reference_lookups,
    reference_of,
    texts,
    to_review,
)
from tests.harness import RunningBot, running_bot


@dataclass
class Setup:
    bot: RunningBot
    coachview: CoachviewSandbox
    staff: SandboxGroup
    database: str

    @property
    def soort(self) -> str:
        return self.coachview.catalogue.seed.open_soort

    def posts(self) -> int:
        return len(self.coachview.requests_to(WEBAANVRAGEN, "POST"))

    def references(self) -> list[str]:
        """The bot's reference of every webaanvraag Coachview stored, in arrival order."""
        return [reference_of(stored.body) for stored in self.coachview.webaanvragen]

    async def all_submitted(self, rows: int, timeout: float = 20.0) -> None:
        await self.bot.wait_for(
            lambda: [e.status for e in self.bot.outbox()] == [OutboxStatus.SUBMITTED] * rows,
            timeout,
            f"{rows} outbox rows submitted",
        )


@pytest.fixture
async def setup(
    telegram: TelegramSandbox, coachview: CoachviewSandbox, database_url: str
) -> AsyncIterator[Setup]:
    staff = telegram.group("Staff")
    database = database_url
    async with running_bot(
        telegram, coachview, database, staff_chat_id=staff.id, default_language="en", **FAST
    ) as bot:
        yield Setup(bot, coachview, staff, database)


def _dotnet_utc(moment: datetime) -> str:
    """A UTC time as ASP.NET writes ``X-Rate-Limit-Reset``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


async def test_coachview_down_for_a_while_then_every_enrollment_arrives_once_in_order(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, coachview, staff = setup.bot, setup.coachview, setup.staff
    # One row at a time: when the 429 is read no other request is under way, so any request
    # that reaches Coachview after it and before the reset was sent while the budget was spent.
    monkeypatch.setattr(SubmissionWorker, "concurrency", 1)
    anna, bram, cor = bot.person("Anna"), bot.person("Bram"), bot.person("Cor")
    for person in (anna, bram, cor):
        await to_review(person, setup.soort, person.user.first_name)

    # Coachview goes away: connections are refused. Everyone presses Send anyway.
    await coachview.stop()
    for person in (anna, bram, cor):
        await person.tap(SEND)
        assert count(person.user, BEING_SENT) == 1
    await bot.wait_for(
        lambda: all(count(p.user, SAVED) == 1 for p in (anna, bram, cor)),
        what="everyone told that the enrollment is saved and will be sent",
    )
    # Anna enrolls a second time while Coachview is still away.
    await to_review(anna, setup.soort, "Anna")
    await anna.tap(SEND)
    await bot.wait_for(lambda: count(staff, STUCK) == 1, what="the staff alert")
    assert "ConnectError" in next(text for text in texts(staff) if STUCK in text)

    # It comes back, but answers 500 three times, then 429 until a reset in 1.5 s, then works.
    reset = datetime.now(UTC) + timedelta(seconds=1.5)
    coachview.faults.add(method="POST", path=WEBAANVRAGEN, status=500, times=3)
    limited = coachview.faults.add(
        method="POST",
        path=WEBAANVRAGEN,
        status=429,
        headers={"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": _dotnet_utc(reset)},
        times=1,
    )
    assert setup.posts() == 0
    await coachview.start()
    await setup.all_submitted(4)
    await bot.wait_for(lambda: count(staff, FLOWING) == 1, what="the all-clear for staff")
    await bot.wait_for(lambda: len(numbers(anna.user)) == 2, what="Anna's confirmations")

    # Each enrollment arrived once, Anna's first one first.
    rows = sorted(bot.outbox(), key=lambda entry: entry.id or 0)
    assert sorted(setup.references()) == sorted(entry.reference for entry in rows)
    anna_rows = [entry.reference for entry in rows if entry.chat_id == anna.id]
    assert [ref for ref in setup.references() if ref in anna_rows] == anna_rows
    # What people read: the "saved" message once, then each number once, in order.
    stored = {reference_of(w.body): str(w.nummer) for w in coachview.webaanvragen}
    assert numbers(anna.user) == [stored[ref] for ref in anna_rows]
    for person in (anna, bram, cor):
        assert count(person.user, SAVED) == 1
    assert len(numbers(bram.user)) == len(numbers(cor.user)) == 1
    await bot.wait_for(lambda: count(staff, NEW) == 4, what="four staff notices")
    assert count(staff, STUCK) == 1
    # Nothing was sent while the request budget was spent.
    assert limited.fired == 1
    answered = next(r for r in coachview.requests if r.status == 429)
    during = [r for r in coachview.requests if answered.when < r.when < reset]
    assert during == [], "requests were sent before X-Rate-Limit-Reset"


@pytest.mark.parametrize("failure", ["drop", "late answer"])
async def test_an_answer_lost_after_coachview_stored_it_makes_no_duplicate(
    setup: Setup, failure: str
) -> None:
    bot, coachview = setup.bot, setup.coachview
    if failure == "drop":
        coachview.faults.add(method="POST", path=WEBAANVRAGEN, action="drop")
    else:
        # Stored at once, answered after the worker gave up on the POST (half the lease).
        coachview.faults.add(method="POST", path=WEBAANVRAGEN, action="delay", delay=3.0)
    anna = bot.person("Anna")
    await to_review(anna, setup.soort, "Anna")
    await anna.tap(SEND)

    await setup.all_submitted(1)
    await bot.wait_for(lambda: numbers(anna.user), what="the confirmation")
    assert len(coachview.webaanvragen) == 1
    assert setup.posts() == 1
    (entry,) = bot.outbox()
    assert len(reference_lookups(coachview)) == 1
    assert numbers(anna.user) == [str(coachview.webaanvragen[0].nummer)]
    assert entry.coachview_nummer == str(coachview.webaanvragen[0].nummer)
    assert count(anna.user, SAVED) == 1


async def test_send_pressed_twice_and_on_a_second_device_makes_one_webaanvraag(
    setup: Setup, telegram: TelegramSandbox
) -> None:
    bot, coachview = setup.bot, setup.coachview
    anna = bot.person("Anna")
    await to_review(anna, setup.soort, "Anna")
    review = anna.screen
    stale_copy = copy.deepcopy(review)  # what a second phone still shows
    send = next(button for button in review.buttons if button.text == SEND)

    # A double tap: both presses reach the bot before it answered either.
    first, second = await asyncio.gather(
        anna.user.press(SEND, message=review), anna.user.press(SEND, message=review)
    )
    await bot.settle()
    assert "This enrollment has been sent already." in {first.text, second.text}
    # Later, the second phone's old copy of the review: its Send button is pressed too.
    assert send.callback_data is not None
    query_id, _ = telegram.press_button(
        anna.user._chat, anna.user.person, stale_copy, send.callback_data
    )
    await bot.wait_for(lambda: telegram.callback_answer(query_id), what="the answer")
    answer = telegram.callback_answer(query_id)
    assert answer is not None
    assert answer.text == "This enrollment has been sent already."

    await setup.all_submitted(1)
    await bot.wait_for(lambda: numbers(anna.user), what="the confirmation")
    await bot.settle()
    assert len(bot.outbox()) == 1
    assert len(coachview.webaanvragen) == 1
    assert setup.posts() == 1
    assert len(numbers(anna.user)) == 1
    assert count(anna.user, BEING_SENT) == 1


def _enrollbot(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    database: str,
    *args: str,
) -> tuple[int, str]:
    """``enrollbot ARGS`` as the operator runs it (its ``main``), against the test's database;
    the exit code and what it printed."""
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("DATABASE_URL", database)
    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().out


async def test_a_refused_enrollment_is_kept_reported_and_resent_after_the_fix(
    setup: Setup,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    bot, coachview, staff = setup.bot, setup.coachview, setup.staff
    problem = {
        "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": {"Opleidingen[0].OpleidingId": ["Opleiding is gesloten."]},
    }
    coachview.faults.add(method="POST", path=WEBAANVRAGEN, status=400, body=problem)
    anna = bot.person("Anna")
    await to_review(anna, setup.soort, "Anna")
    await anna.tap(SEND)

    await bot.wait_for(lambda: count(anna.user, REFUSED) == 1, what="Anna told")
    await bot.wait_for(lambda: count(staff, "Coachview refused an enrollment"), what="staff")
    (entry,) = bot.outbox()
    alert = next(text for text in texts(staff) if "refused an enrollment" in text)
    assert f"outbox {entry.id}, HTTP 400" in alert
    assert "Opleiding is gesloten." in alert
    assert f"enrollbot outbox resend {entry.id}" in alert
    assert entry.status == OutboxStatus.REJECTED
    assert entry.payload["contactpersoon"]["voornaam"] == "Anna"
    assert reference_of(entry.payload) == entry.reference
    assert json.loads(entry.response_body or "")["errors"] == problem["errors"]
    # No retry, however often the worker looks.
    bot.services.wake_submissions()
    # The worker clears the wake-up as it begins a round, and claims in the same step.
    await bot.wait_for(lambda: not bot.services.submissions_due.is_set(), what="another look")
    await bot.settle()
    assert setup.posts() == 1
    assert numbers(anna.user) == []
    assert count(anna.user, SAVED) == 0

    def enrollbot(*args: str) -> tuple[int, str]:
        return _enrollbot(monkeypatch, capsys, tmp_path, setup.database, *args)

    code, listed = enrollbot("outbox")
    assert code == 0
    assert "1 submission(s) not in Coachview yet (1 rejected" in listed
    assert "rejected (HTTP 400)" in listed
    assert entry.reference in listed
    assert "Opleiding is gesloten." in listed
    assert "enrollbot outbox resend ID" in listed

    # Staff fixed the cause in Coachview; the operator resends it.
    code, resent = enrollbot("outbox", "resend", str(entry.id))
    assert (code, "queued again" in resent) == (0, True)
    code, again = enrollbot("outbox", "resend", str(entry.id))
    assert (code, "is not a rejected submission" in again) == (1, True)
    await setup.all_submitted(1, timeout=30)  # the running bot's poll finds it
    await bot.wait_for(lambda: numbers(anna.user), what="the confirmation")
    assert numbers(anna.user) == [str(coachview.webaanvragen[0].nummer)]
    assert len(coachview.webaanvragen) == 1
    assert count(anna.user, REFUSED) == 1
    await bot.wait_for(lambda: count(staff, NEW) == 1, what="the staff notice")
    code, empty = enrollbot("outbox")
    assert (code, "The outbox is empty" in empty) == (0, True)


async def test_refused_credentials_keep_enrollments_waiting_and_alert_staff(
    setup: Setup,
) -> None:
    """A 401 is the configuration's fault, not the enrollment's: it waits, it is not refused."""
    bot, coachview, staff = setup.bot, setup.coachview, setup.staff
    anna = bot.person("Anna")
    await to_review(anna, setup.soort, "Anna")
    coachview.expire_tokens()
    coachview.faults.add(
        path="/auth/connect/token", status=400, body={"error": "invalid_client"}, times=None
    )
    await anna.tap(SEND)

    await bot.wait_for(lambda: count(staff, STUCK) == 1, what="the staff alert")
    alert = next(text for text in texts(staff) if STUCK in text)
    assert "CoachviewAuthError" in alert
    assert "refused the credentials" in alert
    assert count(anna.user, SAVED) == 1
    assert count(anna.user, REFUSED) == 0
    (entry,) = bot.outbox()
    assert entry.status == OutboxStatus.PENDING
    assert coachview.webaanvragen == []
    assert {r.status for r in coachview.requests_to(WEBAANVRAGEN, "POST")} == {401}

    # The operator fixes the secret.
    coachview.faults.clear()
    await setup.all_submitted(1)
    await bot.wait_for(lambda: numbers(anna.user), what="the confirmation")
    await bot.wait_for(lambda: count(staff, FLOWING) == 1, what="the all-clear")
    assert len(coachview.webaanvragen) == 1
    assert CONFIRMED in texts(anna.user)[-1]
