"""The operators' endpoints, over real HTTP: /healthz, /readyz and /metrics.

Prometheus' own parser reads /metrics, and the figures are the ones an operator would look at:
what moved when a person enrolled, what waits in the outbox and for how long, and what
Coachview and Telegram answered.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from bot import serving
from bot.clock import ManualClock
from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import TelegramSandbox
from tests.enrolling import FAST, SAVED, SEND, WEBAANVRAGEN, numbers, to_review
from tests.harness import RunningBot, running_bot
from tests.ops_helpers import get, scrape

TOKEN_PATH = "/auth/connect/token"


@pytest.fixture
async def watched(
    database_url: str, telegram: TelegramSandbox, coachview: CoachviewSandbox, tmp_path: Path
) -> AsyncIterator[RunningBot]:
    """The bot long polling, with health and metrics on a server of their own."""
    async with running_bot(telegram, coachview, database_url, ops=True) as bot:
        yield bot


async def ready(bot: RunningBot) -> tuple[int, dict[str, Any]]:
    status, body = await get(f"{bot.ops_url}/readyz")
    return status, json.loads(body)


async def test_healthz_answers_while_the_bot_runs(watched: RunningBot) -> None:
    assert await get(f"{watched.ops_url}/healthz") == (200, '{"alive": true}')


async def test_readyz_checks_the_database_and_a_coachview_token(
    watched: RunningBot, coachview: CoachviewSandbox
) -> None:
    # No token yet, and Coachview's token endpoint is down: not ready, and it says why.
    coachview.faults.add(method="POST", path=TOKEN_PATH, status=503, times=None)
    status, body = await ready(watched)
    assert status == 503
    assert body == {
        "ready": False,
        "checks": {
            "database": "ok",
            "migrations": "ok",
            "coachview": "failed: CoachviewUnavailable",
        },
    }
    coachview.faults.clear()
    assert await ready(watched) == (
        200,
        {"ready": True, "checks": {"database": "ok", "migrations": "ok", "coachview": "ok"}},
    )
    # A token obtained lately is enough: no new token request while it is valid.
    coachview.faults.add(method="POST", path=TOKEN_PATH, status=503, times=None)
    tokens = watched.services.coachview.request_counts["token"]
    assert (await ready(watched))[0] == 200
    assert watched.services.coachview.request_counts["token"] == tokens


async def test_readyz_answers_not_ready_when_coachview_does_not_answer_in_time(
    watched: RunningBot, coachview: CoachviewSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serving, "READY_TIMEOUT", 0.2)
    coachview.faults.add(method="POST", path=TOKEN_PATH, action="hold", times=None)
    try:
        status, body = await ready(watched)
    finally:
        coachview.faults.release()
    assert status == 503
    assert body["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "coachview": "failed: TimeoutError",
    }


async def test_readyz_fails_when_the_schema_is_behind_the_code(watched: RunningBot) -> None:
    with watched.services.db.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '0002'"))
    status, body = await ready(watched)
    assert status == 503
    assert body["checks"]["migrations"] == "failed: SchemaNotCurrent"


async def test_readyz_fails_when_the_database_does(watched: RunningBot) -> None:
    def broken(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.strip().upper() == "SELECT 1":
            raise sqlite3.OperationalError("unable to open database file")

    event.listen(watched.services.db, "before_cursor_execute", broken)
    status, body = await ready(watched)
    assert status == 503
    assert body["checks"]["database"] == "failed: OperationalError"


async def test_metrics_move_when_a_person_enrolls(
    watched: RunningBot, coachview: CoachviewSandbox
) -> None:
    url = watched.ops_url
    assert url is not None
    before = await scrape(url)
    assert before[("enrollbot_open_drafts", ())] == 0
    assert before[("enrollbot_outbox_rows", (("status", "pending"),))] == 0

    anna = watched.person("Anna")
    await to_review(anna, coachview.catalogue.seed.open_soort, "Anna")
    during = await scrape(url)
    assert during[("enrollbot_open_drafts", ())] == 1

    await anna.tap(SEND)
    await watched.wait_for(lambda: numbers(anna.user), 20, "Coachview's number")
    after = await scrape(url)
    messages = after[("enrollbot_updates_handled_total", (("kind", "message"),))]
    presses = after[("enrollbot_updates_handled_total", (("kind", "callback_query"),))]
    handled = watched.telegram.updates_queued
    assert messages + presses == handled
    assert after[("enrollbot_update_reply_seconds_count", ())] == handled
    assert after[("enrollbot_open_drafts", ())] == 0
    assert after[("enrollbot_outbox_rows", (("status", "submitted"),))] == 1
    assert after[("enrollbot_outbox_oldest_pending_seconds", ())] == 0
    posted = (("endpoint", "Webaanvragen"), ("status", "201"))
    assert after[("enrollbot_coachview_requests_total", posted)] == 1
    assert (
        after[("enrollbot_coachview_requests_total", (("endpoint", "token"), ("status", "200")))]
        == 1
    )
    assert after[("enrollbot_coachview_budget_remaining", ())] == coachview.budget.remaining
    assert after[("enrollbot_telegram_429_total", ())] == 0


async def test_metrics_show_what_waits_in_the_outbox_and_telegrams_429s(
    database_url: str, telegram: TelegramSandbox, tmp_path: Path
) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    async with (
        CoachviewSandbox(clock=clock) as coachview,
        running_bot(telegram, coachview, database_url, clock=clock, ops=True, **FAST) as bot,
    ):
        assert bot.ops_url is not None
        anna = bot.person("Anna")
        await to_review(anna, coachview.catalogue.seed.open_soort, "Anna")
        coachview.faults.add(method="POST", path=WEBAANVRAGEN, status=503, times=None)
        telegram.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=anna.id)
        await anna.tap(SEND)
        await bot.wait_for(lambda: SAVED in anna.text, 20, "the enrollment to wait")
        clock.advance(90)
        figures = await scrape(bot.ops_url)
        assert figures[("enrollbot_outbox_rows", (("status", "pending"),))] == 1
        assert figures[("enrollbot_outbox_oldest_pending_seconds", ())] >= 90
        refused = (("endpoint", "Webaanvragen"), ("status", "503"))
        assert figures[("enrollbot_coachview_requests_total", refused)] >= 1
        assert figures[("enrollbot_telegram_429_total", ())] == 1


async def test_in_webhook_mode_the_endpoints_share_the_webhooks_server(
    database_url: str, telegram: TelegramSandbox, coachview: CoachviewSandbox, tmp_path: Path
) -> None:
    async with running_bot(telegram, coachview, database_url, webhook=True) as bot:
        anna = bot.person("Anna")
        await anna.say("/start")
        assert bot.settings.webhook_url is not None
        url = str(bot.settings.webhook_url).removesuffix("/telegram/updates")
        assert (await get(f"{url}/healthz"))[0] == 200
        figures = await scrape(url)
        assert figures[("enrollbot_updates_handled_total", (("kind", "message"),))] == 1
        assert figures[("enrollbot_open_drafts", ())] == 1


async def test_with_metrics_apart_the_webhooks_server_has_only_the_webhook(
    database_url: str, telegram: TelegramSandbox, coachview: CoachviewSandbox, tmp_path: Path
) -> None:
    database = database_url
    async with running_bot(telegram, coachview, database, webhook=True, ops=True) as bot:
        assert bot.settings.webhook_url is not None
        url = str(bot.settings.webhook_url).removesuffix("/telegram/updates")
        assert (await get(f"{url}/metrics"))[0] == 404
        assert (await get(f"{bot.ops_url}/healthz"))[0] == 200
