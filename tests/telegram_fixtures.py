"""Fixtures for tests against the Telegram sandbox.

A test module loads them with ``pytest_plugins = ("tests.telegram_fixtures",)`` (and imports
helpers from ``tests.telegram_helpers``):

- ``sandbox``: a started :class:`TelegramSandbox` without rate limits;
- ``bot``: PTB's real ``telegram.Bot`` talking to it over loopback HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram

from bot.telegram.limits import TelegramLimits
from sandbox.telegram import TelegramSandbox
from tests.telegram_helpers import make_bot

__all__ = ["bot", "sandbox"]


@pytest.fixture
async def sandbox() -> AsyncIterator[TelegramSandbox]:
    """A running sandbox with no rate limits (tests of the limits make their own)."""
    async with TelegramSandbox(limits=TelegramLimits.unlimited()) as running:
        yield running


@pytest.fixture
async def bot(sandbox: TelegramSandbox) -> AsyncIterator[telegram.Bot]:
    """An initialised PTB Bot talking to ``sandbox``."""
    async with make_bot(sandbox) as initialised:
        yield initialised
