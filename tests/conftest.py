"""Fixtures shared by the end-to-end tests: both sandboxes and the bot between them."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.sandbox.coachview import CoachviewSandbox
from bot.sandbox.telegram import TelegramSandbox
from bot.telegram_limits import TelegramLimits
from tests.harness import RunningBot, running_bot

STAFF_ID = 900001
STAFF_CHAT = -100900001


@pytest.fixture(autouse=True)
def no_outside_configuration(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Nothing from the developer's shell reaches the bot under test."""
    prefixes = ("TELEGRAM_", "COACHVIEW_", "STAFF_", "DATABASE_", "DEFAULT_", "LOG_LEVEL")
    for name in list(os.environ):
        if name.startswith(prefixes):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    yield


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramSandbox]:
    """The Telegram sandbox; unlimited, since a simulated person types in microseconds."""
    async with TelegramSandbox(limits=TelegramLimits.unlimited()) as sandbox:
        yield sandbox


@pytest.fixture
async def coachview() -> AsyncIterator[CoachviewSandbox]:
    """The Coachview sandbox with its seeded catalogue."""
    async with CoachviewSandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def enrollbot(
    telegram: TelegramSandbox, coachview: CoachviewSandbox, tmp_path: Path
) -> AsyncIterator[RunningBot]:
    """The real bot between the two sandboxes, with staff configured."""
    async with running_bot(
        telegram,
        coachview,
        tmp_path / "bot.db",
        staff_user_ids=str(STAFF_ID),
        staff_chat_id=STAFF_CHAT,
    ) as running:
        yield running
