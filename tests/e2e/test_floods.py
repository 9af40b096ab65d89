"""Floods absorbed per chat: one chat sends 300 messages in a burst while others enroll. The
others complete, the flooder is told once to slow down and gets far fewer replies than it sent,
everything it typed is applied in order, no chat is ever sent more than Telegram's per-chat rate
(the Telegram sandbox enforces it), and once the burst calms it is answered again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.floods import FloodGuard
from bot.telegram.limits import TelegramLimits
from bot.updates import ChatOrderedProcessor
from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import TelegramSandbox
from tests.enrolling import to_review
from tests.harness import RunningBot, running_bot

#: Telegram's limits, twenty times faster (a chat: a message per 50 ms after a burst of 3).
LIMITS = TelegramLimits().scaled(0.05)
SLOW_DOWN = "You are sending messages very fast"
ANSWERS = [
    "Floris",
    "Skip",
    "Jansen",
    "floris@example.nl",
    "06 12345678",
    "Skip",
    "Yes, I will attend",
    "No",
    "Skip",
]


@dataclass
class Seconds:
    """The flood guard's clock, moved by the test (nothing here waits for real time)."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def bot(database_url: str, tmp_path: Path) -> AsyncIterator[RunningBot]:
    async with (
        TelegramSandbox(limits=LIMITS) as telegram,
        CoachviewSandbox() as coachview,
        running_bot(
            telegram, coachview, database_url, limits=LIMITS, flood_messages=20
        ) as running,
    ):
        yield running


def guard(bot: RunningBot) -> FloodGuard:
    processor = bot.application.update_processor
    assert isinstance(processor, ChatOrderedProcessor)
    return processor.floods


async def test_a_flood_is_absorbed_while_others_enroll(bot: RunningBot) -> None:
    seconds = Seconds()
    guard(bot).clock = seconds
    flooder = bot.person("Flo")
    await flooder.say("/start VCA-B")
    await flooder.tap(flooder.buttons[0])
    assert "What is your first name?" in flooder.text
    before = len(flooder.user.messages)
    others = [bot.person(name) for name in ("Anna", "Bram", "Chris")]

    async def flood() -> None:
        # A whole enrollment typed in one go, then junk: 300 messages in all.
        for text in [*ANSWERS, *(f"spam {n}" for n in range(300 - len(ANSWERS)))]:
            await flooder.user.send(text)

    await asyncio.gather(
        flood(), *(to_review(person, "VCA-B", person.user.first_name) for person in others)
    )
    await bot.settle(timeout=60)

    for person in others:
        assert "Please check your enrollment" in person.text
    replies = flooder.user.messages[before:]
    assert sum(SLOW_DOWN in (m.text or "") for m in replies) == 1
    assert len(replies) < 30, len(replies)
    # Nothing typed was lost: every answer was applied, in order.
    draft = bot.open_draft(flooder.user)
    assert draft is not None
    contact = draft.data["contact"]
    assert (contact["first_name"], contact["last_name"]) == ("Floris", "Jansen")
    assert contact["email"] == "floris@example.nl"
    assert draft.step == "REVIEWING"
    # No chat was ever sent more than the per-chat rate: the sandbox refused nothing.
    assert [call for call in bot.telegram.calls if call.error_code == 429] == []

    # Once the burst has calmed, the next message is answered with the state it left.
    seconds.now += guard(bot).window
    await flooder.say("hello?")
    assert "Please check your enrollment" in flooder.text
