"""Submitting: the confirmation with Coachview's number, the payment button, and what the person
hears when Coachview cannot be reached."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import SandboxGroup, TelegramSandbox
from tests.harness import Person, RunningBot, running_bot


@pytest.fixture
async def quick_retries(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    staff_group: SandboxGroup,
    database_url: str,
) -> AsyncIterator[RunningBot]:
    """The bot with the outbox worker's waits shortened from minutes to moments."""
    async with running_bot(
        telegram,
        coachview,
        database_url,
        staff_chat_id=staff_group.id,
        submission_lease=1,
        submission_retry_base=0.2,
        submission_retry_max=1,
    ) as running:
        yield running


async def fill_in(person: Person, link: str) -> None:
    await person.say(f"/start {link}")
    if person.text.endswith("Which date would you like?"):
        await person.tap(next(b for b in person.buttons if "place" in b))
    await person.answers("Anna", None, "Smit", "anna@example.nl", None, None)
    await person.answers("Yes, I will attend", "No", None)
    assert person.text.startswith("Please check your enrollment")


async def test_a_course_that_must_be_paid_gets_a_pay_button(enrollbot: RunningBot) -> None:
    anna = enrollbot.person()
    await fill_in(anna, "TM")  # Timemanagement: Coachview answers with a payment link
    await anna.tap("✅ Send enrollment")
    await enrollbot.wait_for(lambda: "received" in anna.text)
    stored = enrollbot.coachview.webaanvragen[-1]
    assert "Please complete the payment with the button below." in anna.text
    button, reminders = anna.screen.buttons
    assert button.text == "💳 Pay now"
    assert reminders.text == "🔕 No reminders"
    assert button.url == f"{enrollbot.coachview.url}/betalen/{stored.id}"


async def test_coachview_unreachable_the_enrollment_is_saved_and_sent_later(
    quick_retries: RunningBot,
) -> None:
    enrollbot = quick_retries
    anna = enrollbot.person()
    await fill_in(anna, enrollbot.coachview.catalogue.seed.open_run)
    enrollbot.coachview.faults.add(
        method="POST", path="/api/v1/Webaanvragen", status=503, times=None
    )
    await anna.tap("✅ Send enrollment")
    await enrollbot.wait_for(lambda: "Your enrollment is saved" in anna.text)
    assert "I will send it automatically" in anna.text
    assert enrollbot.coachview.webaanvragen == []
    [entry] = enrollbot.outbox()
    assert entry.status == "pending" and entry.attempts >= 1

    enrollbot.coachview.faults.clear()
    await enrollbot.wait_for(lambda: "received" in anna.text, timeout=30)
    assert len(enrollbot.coachview.webaanvragen) == 1
    texts = [m.text or "" for m in anna.user.messages]
    assert sum("Your enrollment is saved" in t for t in texts) == 1
    assert sum("has been received" in t for t in texts) == 1
