"""Helpers for tests against the Telegram sandbox (the fixtures are in telegram_fixtures.py).

- :func:`make_bot`: PTB's real ``telegram.Bot`` pointed at a sandbox;
- :func:`build_application` and :func:`polling`: a PTB ``Application`` with handlers, running
  with getUpdates long polling against a sandbox for the length of an ``async with`` block;
- :func:`refused`: the call raises PTB's exception for Telegram's exact error description
  (PTB capitalises the description it puts in the exception, so the text is checked on what
  the sandbox answered).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from typing import Any

import pytest
import telegram
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder
from telegram.request import HTTPXRequest

from sandbox.telegram import TelegramSandbox

__all__ = ["AnyApplication", "build_application", "make_bot", "polling", "refused"]

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def make_bot(sandbox: TelegramSandbox, *, read_timeout: float | None = None) -> telegram.Bot:
    """PTB's Bot pointed at the sandbox (use it with ``async with``)."""
    request = HTTPXRequest(read_timeout=read_timeout) if read_timeout is not None else None
    return telegram.Bot(sandbox.token, base_url=sandbox.url + "/bot", request=request)


def build_application(sandbox: TelegramSandbox) -> AnyApplication:
    """A PTB Application pointed at the sandbox; add handlers, then run it with :func:`polling`."""
    return (
        ApplicationBuilder()
        .token(sandbox.token)
        .base_url(sandbox.url + "/bot")
        .base_file_url(sandbox.url + "/file/bot")
        .build()
    )


@asynccontextmanager
async def polling(
    application: AnyApplication, sandbox: TelegramSandbox
) -> AsyncIterator[AnyApplication]:
    """Run ``application`` with long polling until the block ends; enters once it listens."""
    async with application:
        await application.start()
        updater = application.updater
        if updater is None:
            raise RuntimeError("the application was built without an updater")
        await updater.start_polling(poll_interval=0.0, timeout=timedelta(seconds=5))
        await sandbox.wait_polling()
        try:
            yield application
        finally:
            await updater.stop()
            await application.stop()


@contextmanager
def refused(
    sandbox: TelegramSandbox, error: type[TelegramError], description: str
) -> Iterator[None]:
    """The block raises ``error`` because the sandbox answered exactly ``description``."""
    with pytest.raises(error):
        yield
    last = sandbox.calls[-1]
    assert not last.ok, last
    assert last.description == description, last
