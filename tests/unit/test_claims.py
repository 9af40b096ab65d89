"""What several processes sharing one database must do once, on SQLite and on PostgreSQL: queue
a notification key, remind of an idle draft. (Claiming outbox rows: ``test_outbox.py``; sending
a notification: ``tests/e2e/test_notification_claims.py``.)

Each "process" is an engine of its own, run from a thread so their transactions really meet.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.clock import ManualClock
from bot.coachview.client import CoachviewClient
from bot.config import load_settings
from bot.reminders import DraftKeeper
from bot.services import Services
from bot.store import drafts, notifications
from bot.store.models import Draft, Notification
from tests.harness import wait_until

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run each call in a thread of its own, all starting together; their results."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        start.wait(timeout=30)
        try:
            results[index] = call()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def queue(engine: Engine, key: str) -> bool:
    with Session(engine) as session:
        queued = notifications.enqueue(session, key=key, chat_id=1, text=key, now=NOW)
        session.commit()
        return queued


def waiting_for_a_lock(engine: Engine) -> bool:
    """Whether some PostgreSQL session waits for a lock another holds."""
    with engine.connect() as connection:
        waiting = connection.exec_driver_sql("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return bool(waiting.scalar())


async def test_a_key_queued_by_two_processes_at_once_is_one_message(
    database: Callable[[], Engine],
) -> None:
    """The staff alert "submissions are stuck" is decided by every worker process: when two
    decide it at the same moment, staff get it once and neither process fails."""
    first, second = database(), database()
    with Session(first) as holding:
        assert notifications.enqueue(holding, key="outbox-stuck:1", chat_id=1, text="a", now=NOW)
        # The second queues the same key while the first has not committed yet.
        result: list[bool] = []
        errors: list[BaseException] = []

        def queue_second() -> None:
            try:
                result.append(queue(second, "outbox-stuck:1"))
            except BaseException as error:
                errors.append(error)

        thread = threading.Thread(target=queue_second)
        thread.start()
        if first.dialect.name == "postgresql":
            await wait_until(lambda: waiting_for_a_lock(first), 10, "the second to wait")
        # (On SQLite the second cannot begin writing before the first commits.)
        holding.commit()
    await wait_until(lambda: not thread.is_alive(), 30, "the second process")
    assert errors == []
    assert result == [False]
    with Session(first) as session:
        rows = session.exec(select(Notification)).all()
    assert [(row.key, row.text) for row in rows] == [("outbox-stuck:1", "a")]
    assert sorted(at_once(lambda: queue(first, "k"), lambda: queue(second, "k"))) == [False, True]


@pytest.fixture
async def keepers(database: Callable[[], Engine]) -> AsyncIterator[list[DraftKeeper]]:
    """Two processes' draft housekeeping over one database, their clock at ``NOW``."""
    settings = load_settings(env_file=None, draft_reminder_after=timedelta(hours=1))
    client = CoachviewClient("http://127.0.0.1:9", "id", "secret")
    yield [
        DraftKeeper(
            Services(settings=settings, db=database(), coachview=client, clock=ManualClock(NOW))
        )
        for _ in range(2)
    ]
    await client.aclose()


def test_two_processes_remind_each_idle_person_once(keepers: list[DraftKeeper]) -> None:
    engine = keepers[0].services.db
    with Session(engine) as session:
        for chat in range(1, 41):
            drafts.create_draft(
                session,
                chat_id=chat,
                user_id=chat,
                step="TYPING_EMAIL",
                data={},
                flow={},
                now=NOW - timedelta(hours=2),
                language="en",
            )
        session.commit()

    results = at_once(*(keeper.run_once for keeper in keepers))

    assert sum(reminded for reminded, _deleted in results) == 40
    with Session(engine) as session:
        keys = session.exec(select(Notification.key).order_by(col(Notification.chat_id))).all()
        unreminded = session.exec(
            select(sa.func.count()).where(col(Draft.reminded_at).is_(None))
        ).one()
    assert len(keys) == 40 == len(set(keys))
    assert unreminded == 0
