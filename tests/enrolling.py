"""Helpers for the tests of the way to Coachview: people who enroll, and what they then read.

``FAST`` are settings that make the outbox worker's waits short (the same code, smaller
numbers), so a test of an outage of Coachview takes a second, not half an hour.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sandbox.coachview import CoachviewSandbox, RecordedRequest
from sandbox.telegram import SandboxGroup, SandboxUser, TelegramSandbox
from tests.harness import Person, wait_until

SEND = "✅ Send enrollment"
BEING_SENT = "Thank you! Your enrollment is being sent"
CONFIRMED = "Your enrollment has been received. Its number is"
SAVED = "Your enrollment is saved. The training provider's system cannot be reached"
REFUSED = "did not accept it automatically"
STUCK = "Enrollments are not reaching Coachview"
FLOWING = "Enrollments reach Coachview again"
NEW = "New enrollment"
WEBAANVRAGEN = "/api/v1/Webaanvragen"

FAST: dict[str, Any] = {
    "submission_lease": timedelta(seconds=1),
    "submission_retry_base": timedelta(milliseconds=50),
    "submission_retry_max": timedelta(milliseconds=300),
    "submission_poll": timedelta(milliseconds=500),
    "submission_alert_after": timedelta(milliseconds=300),
}
"""Settings for a quick outbox worker (as keyword arguments of ``running_bot``): the one
preset, which :data:`FAST_ENV` repeats for a bot in its own process."""


def environment(settings: dict[str, Any]) -> dict[str, str]:
    """``settings`` (keyword arguments of ``running_bot``) as the environment of a bot in its
    own process: ``SUBMISSION_LEASE="1.0"`` for ``submission_lease=timedelta(seconds=1)``."""
    return {
        name.upper(): str(value.total_seconds() if isinstance(value, timedelta) else value)
        for name, value in settings.items()
    }


FAST_ENV: dict[str, str] = {**environment(FAST), "SUBMISSION_LEASE": "2"}
""":data:`FAST` for a bot in its own process (``BotProcess``), the lease a little longer: a
process starts slowly, and a row must not change hands while its first owner is starting."""


async def to_review(person: Person, soort: str, first_name: str) -> None:
    """Enroll ``first_name`` (themself only) in the first date of ``soort``, up to the review."""
    await person.say(f"/start {soort}")
    await person.tap(person.buttons[0])
    email = f"{first_name.lower()}@example.nl"
    await person.answers(first_name, None, "Jansen", email, "06 12345678", None)
    await person.answers("Yes, I will attend", "No", None)
    assert "Please check your enrollment" in person.text, person.text


def reference_of(body: dict[str, Any]) -> str:
    """The bot's reference in a webaanvraag body as posted: where COACHVIEW_REFERENCE_FIELD's
    default puts it, the last line of ``opmerking``."""
    return str(body["opmerking"]).splitlines()[-1]


def remark_of(body: dict[str, Any]) -> str:
    """The remark the person typed, from a body as posted: ``opmerking`` without the bot's
    reference, which must be on its last line."""
    remark, reference = str(body["opmerking"]).rsplit("\n", 1)
    assert re.fullmatch(r"TG-[0-9A-F]{16}", reference), body["opmerking"]
    return remark


def reference_lookups(coachview: CoachviewSandbox) -> list[RecordedRequest]:
    """The look-ups by reference Coachview received: the webaanvragen received since a date."""
    return [
        r
        for r in coachview.requests_to(WEBAANVRAGEN, "GET")
        if r.query.get("where", "").startswith("aanvraagDatum>=")
    ]


def texts(chat: SandboxUser | SandboxGroup) -> list[str]:
    """Every message the bot sent to ``chat``, as it reads now."""
    return [message.text or "" for message in chat.messages]


def count(chat: SandboxUser | SandboxGroup, fragment: str) -> int:
    """How many of the bot's messages in ``chat`` contain ``fragment``."""
    return sum(fragment in text for text in texts(chat))


def numbers(user: SandboxUser) -> list[str]:
    """The webaanvraag numbers of the confirmations ``user`` received, in order."""
    found = []
    for text in texts(user):
        if CONFIRMED in text:
            found.append(text.split(CONFIRMED, 1)[1].split(".", 1)[0].strip())
    return found


class ScriptedPerson:
    """A person enrolling with a bot that runs in another process: each step waits until the
    bot's newest message shows the expected words (no ``settle``: the bot is not ours)."""

    def __init__(self, telegram: TelegramSandbox, first_name: str) -> None:
        self.user = telegram.user(first_name, language_code="en")
        self.first_name = first_name

    @property
    def text(self) -> str:
        message = self.user.last_message
        return (message.text or "") if message else ""

    async def expect(self, fragment: str, timeout: float = 30.0) -> None:
        await wait_until(
            lambda: fragment in self.text,
            timeout,
            f"{fragment!r} in {self.first_name}'s chat:\n{self.user.transcript()}",
        )

    async def to_review(self, soort: str) -> None:
        """From /start to the review of a finished enrollment (of themself only)."""
        user = self.user
        await user.send(f"/start {soort}")
        await self.expect("Which date would you like?")
        await user.press(0)
        await self.expect("What is your first name?")
        steps: list[tuple[str, str, str]] = [
            ("send", self.first_name, "prefix"),
            ("press", "Skip", "What is your last name?"),
            ("send", "Jansen", "What is your e-mail address?"),
            ("send", f"{self.first_name.lower()}@example.nl", "What is your phone number?"),
            ("send", "06 12345678", "Which company"),
            ("press", "Skip", "Will you attend"),
            ("press", "Yes, I will attend", "someone else too?"),
            ("press", "No", "Anything you would like to tell us"),
            ("press", "Skip", "Please check your enrollment"),
        ]
        for action, value, expected in steps:
            if action == "send":
                await user.send(value)
            else:
                await user.press(value)
            await self.expect(expected)

    async def enroll(self, soort: str) -> None:
        """From /start to pressing Send, and the bot saying it is being sent."""
        await self.to_review(soort)
        await self.user.press(SEND)
        await self.expect(BEING_SENT)
