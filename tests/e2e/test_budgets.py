"""Budgets a person cannot drain: however many deep links to unknown ids or *Try again* presses
a person sends, Coachview is asked a handful of times an hour beyond the cached catalogue; staff
have their own, generous, quota. The Coachview sandbox counts the requests."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from bot.clock import ManualClock
from sandbox.coachview import CoachviewSandbox
from tests.e2e.conftest import StaffDesk

LOOKUPS = 6
"""PERSON_LOOKUPS_PER_HOUR as configured by default."""


def api_requests(coachview: CoachviewSandbox) -> int:
    return sum(1 for r in coachview.requests if r.path.startswith("/api/"))


async def test_a_thousand_deep_links_to_random_ids_cost_a_handful_of_requests(
    desk: StaffDesk,
) -> None:
    bot = desk.bot
    anna = bot.person("Anna")
    await anna.say("/start")  # the catalogue is cached now
    before = api_requests(bot.coachview)
    rng = random.Random(15)
    for number in range(1000):
        key = str(uuid.UUID(int=rng.getrandbits(128))) if number % 2 else f"X-{number}"
        await anna.user.send(f"/start {key}")
        await anna.user.send("Start over")  # the draft of the link before is open
    await bot.settle(timeout=120)
    assert api_requests(bot.coachview) - before <= LOOKUPS
    # The person reads why the link was not followed, and is offered the course list.
    # (Of a backlog only the newest state is answered: bot/floods.py.)
    assert "can't look up the course of that link" in anna.text
    assert "Which course would you like to enroll in?" in anna.text
    # An hour later the budget is back: a link is looked up again.
    assert isinstance(bot.services.clock, ManualClock)
    bot.services.clock.advance(timedelta(hours=1))
    await anna.say(f"/start {uuid.uuid4()}")
    await anna.say("Start over")
    assert "I do not know the course in that link" in anna.text
    assert api_requests(bot.coachview) - before > LOOKUPS


async def test_try_again_presses_are_counted_too(desk: StaffDesk) -> None:
    bot = desk.bot
    bot.coachview.faults.add(path="/api/v1/Opleidingssoorten", status=503, times=None)
    anna = bot.person("Anna")
    await anna.say("/start")
    assert "🔄 Try again" in anna.buttons, anna.text
    before = api_requests(bot.coachview)
    reasons = [await anna.tap("🔄 Try again") for _ in range(50)]
    assert api_requests(bot.coachview) - before <= LOOKUPS
    assert "Please wait a few minutes" in (reasons[-1].text or "")
    # The draft is untouched: when Coachview answers again and time has passed, it goes on.
    bot.coachview.faults.clear()
    assert isinstance(bot.services.clock, ManualClock)
    bot.services.clock.advance(timedelta(hours=1))
    await anna.tap("🔄 Try again")
    assert "Which course" in anna.text, anna.text


async def test_staff_have_a_quota_of_their_own(desk: StaffDesk) -> None:
    quota = desk.bot.services.staff_commands
    sam = desk.sam
    while quota.left(sam.id) > 0:
        quota.take(sam.id)
    before = api_requests(desk.coachview)
    await sam.say("/recent")
    assert "You have made many look-ups in a short time" in sam.text
    assert api_requests(desk.coachview) == before


def test_the_defaults_are_what_these_tests_assume(desk: StaffDesk) -> None:
    assert desk.bot.settings.person_lookups_per_hour == LOOKUPS
