"""Webhook mode: Telegram (the sandbox) posts every update to the bot's webhook.

The bot sets its webhook with a secret, refuses requests without it (403, nothing stored,
nothing logged of it), answers 200 only once the update is in the inbox, and handles every
update once, whether Telegram sends it again after a failure or twice for its own reasons.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from bot.app import ALLOWED_UPDATES
from bot.serving import WEBHOOK_MAX_CONNECTIONS
from bot.store.models import InboxUpdate
from bot.updates import SECRET_HEADER
from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import TelegramSandbox
from tests.enrolling import CONFIRMED, SEND, count, numbers, to_review
from tests.harness import RunningBot, running_bot
from tests.ops_helpers import scrape

SECRET = "s3cret_webhook-token"
GREETING = "Hello! I will help you enroll in a course."


@pytest.fixture
async def hooked(
    database_url: str, telegram: TelegramSandbox, coachview: CoachviewSandbox, tmp_path: Path
) -> AsyncIterator[RunningBot]:
    """The bot in webhook mode: the sandbox posts to it, getUpdates is refused."""
    database = database_url
    async with running_bot(
        telegram, coachview, database, webhook=True, webhook_secret=SECRET
    ) as bot:
        yield bot


def webhook_url(bot: RunningBot) -> str:
    assert bot.settings.webhook_url is not None
    return str(bot.settings.webhook_url)


async def post(bot: RunningBot, body: Any, secret: str | None = SECRET) -> int:
    """POST ``body`` to the bot's webhook as Telegram would (``secret=None``: no header)."""
    headers = {} if secret is None else {SECRET_HEADER: secret}
    async with (
        aiohttp.ClientSession() as session,
        session.post(webhook_url(bot), json=body, headers=headers) as response,
    ):
        return response.status


def inbox_rows(bot: RunningBot) -> list[InboxUpdate]:
    with Session(bot.services.db) as session:
        return list(session.exec(select(InboxUpdate)).all())


@contextmanager
def inbox_statements(bot: RunningBot) -> Iterator[list[str]]:
    """The SQL statements that touch the inbox table while the block runs."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "inbox" in statement.lower():
            seen.append(statement)

    event.listen(bot.services.db, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(bot.services.db, "before_cursor_execute", note)


async def test_a_whole_enrollment_over_the_webhook(
    hooked: RunningBot, telegram: TelegramSandbox, coachview: CoachviewSandbox
) -> None:
    [call] = telegram.calls_to("setWebhook")
    assert call.params["url"] == webhook_url(hooked)
    assert call.params["secret_token"] == SECRET
    assert sorted(call.params["allowed_updates"]) == sorted(ALLOWED_UPDATES)
    assert call.params["max_connections"] == WEBHOOK_MAX_CONNECTIONS

    anna = hooked.person("Anna")
    await to_review(anna, coachview.catalogue.seed.open_soort, "Anna")
    await anna.tap(SEND)
    await hooked.wait_for(lambda: numbers(anna.user), 20, "Coachview's number for Anna")

    assert CONFIRMED in anna.text
    assert len(coachview.webaanvragen) == 1
    assert telegram.calls_to("getUpdates") == []
    posts = telegram.webhook.posts
    assert posts and all(p.ok for p in posts)
    assert len({p.update_id for p in posts}) == len(posts) == telegram.updates_queued
    await hooked.wait_for(lambda: not inbox_rows(hooked), 10, "the handled updates to be struck")


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET[:-1]])
async def test_a_request_without_the_secret_is_refused_and_nothing_is_stored(
    hooked: RunningBot,
    telegram: TelegramSandbox,
    caplog: pytest.LogCaptureFixture,
    secret: str | None,
) -> None:
    anna = telegram.user("Anna", language_code="en")
    update = {
        "update_id": 990_000_001,
        "message": {
            "message_id": 1,
            "date": 1_780_000_000,
            "chat": {"id": anna.id, "type": "private", "first_name": "Anna"},
            "from": {"id": anna.id, "is_bot": False, "first_name": "Anna"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    caplog.set_level(logging.DEBUG)
    with inbox_statements(hooked) as statements:
        assert await post(hooked, update, secret) == 403
    assert statements == []
    assert inbox_rows(hooked) == []
    assert anna.messages == []
    figures = await scrape(webhook_url(hooked).removesuffix("/telegram/updates"))
    assert figures[("enrollbot_webhook_requests_total", (("status", "403"),))] == 1
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "secret" in logged  # the refusal is logged ...
    assert SECRET not in logged  # ... without the secret
    if secret:
        assert secret not in logged


async def test_not_an_update_is_refused(hooked: RunningBot) -> None:
    assert await post(hooked, ["not", "an", "update"]) == 400
    assert await post(hooked, {"no_update_id": 1}) == 400
    assert inbox_rows(hooked) == []


async def test_an_update_answered_with_an_error_is_sent_again_and_handled_once(
    hooked: RunningBot, telegram: TelegramSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """The database fails once while the update is being kept: the bot answers 503 (so
    Telegram keeps the update), the sandbox sends it again, the bot handles it once."""
    failed: list[str] = []
    dbapi = hooked.services.db.dialect.dbapi  # the driver's own error, as SQLAlchemy wraps it
    assert dbapi is not None

    def fail_first_keep(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not failed and statement.lstrip().upper().startswith("INSERT") and "inbox" in statement:
            failed.append(statement)
            raise dbapi.OperationalError("disk I/O error")

    event.listen(hooked.services.db, "before_cursor_execute", fail_first_keep)
    anna = hooked.person("Anna")
    update = await anna.user.send("/start")
    await hooked.settle()

    attempts = [p for p in telegram.webhook.posts if p.update_id == update.update_id]
    assert [p.status for p in attempts] == [503, 200]
    assert failed
    assert len(anna.user.messages) == 1, anna.user.transcript()
    assert count(anna.user, GREETING) == 1
    [logged] = [r.getMessage() for r in caplog.records if "could not keep" in r.getMessage()]
    assert "disk I/O error" in logged
    assert "Anna" not in logged  # nothing of the update itself


async def test_an_update_sent_twice_is_handled_once(
    hooked: RunningBot, telegram: TelegramSandbox
) -> None:
    anna = hooked.person("Anna")
    update = await anna.user.send("/start")
    await hooked.settle()
    replies = len(anna.user.messages)
    assert replies >= 1

    # Telegram did not hear the 200 (say) and sends the update again, at once and later on.
    assert await post(hooked, update.to_dict()) == 200
    await hooked.wait_for(lambda: not inbox_rows(hooked), 10, "the handled update to be struck")
    assert await post(hooked, update.to_dict()) == 200

    await anna.say("/help")  # the next update is handled after them, in order
    history = anna.user.history
    before_help = history[: next(i for i, m in enumerate(history) if m.text == "/help")]
    assert sum(m.from_bot for m in before_help) == replies, anna.user.transcript()
    assert count(anna.user, GREETING) == 1
    assert "/start — enroll in a course" in (anna.user.messages[replies].text or "")
