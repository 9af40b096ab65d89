"""Fixtures shared by the end-to-end tests: both sandboxes and the bot between them."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.sandbox.coachview import CoachviewSandbox
from bot.sandbox.telegram import SandboxGroup, SandboxUser, TelegramSandbox
from bot.telegram_limits import TelegramLimits
from tests.harness import RunningBot, running_bot

STAFF_ID = 900001


@pytest.fixture(autouse=True)
def no_outside_configuration(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Nothing from the developer's shell reaches the bot under test."""
    prefixes: tuple[str, ...] = ("TELEGRAM_", "COACHVIEW_", "STAFF_", "DATABASE_", "DEFAULT_")
    prefixes += ("LOG_LEVEL", "QUESTIONS_FILE", "TERMS_")
    for name in list(os.environ):
        if name.startswith(prefixes):
            monkeypatch.delenv(name)
    for name in (
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "WEBHOOK_LISTEN",
        "METRICS_LISTEN",
        "LOG_FORMAT",
    ):
        monkeypatch.delenv(name, raising=False)
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
def staff(telegram: TelegramSandbox) -> SandboxUser:
    """A staff member (in STAFF_USER_IDS), also in the staff group."""
    return telegram.user("Sanne", language_code="nl", user_id=STAFF_ID)


@pytest.fixture
def staff_group(telegram: TelegramSandbox, staff: SandboxUser) -> SandboxGroup:
    """The group that receives staff notifications (STAFF_CHAT_ID)."""
    return telegram.group("Staff", members=[staff])


@pytest.fixture
async def enrollbot(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    staff_group: SandboxGroup,
    tmp_path: Path,
) -> AsyncIterator[RunningBot]:
    """The real bot between the two sandboxes, with staff configured."""
    async with running_bot(
        telegram,
        coachview,
        tmp_path / "bot.db",
        staff_user_ids=str(STAFF_ID),
        staff_chat_id=staff_group.id,
    ) as running:
        yield running
