"""What several processes sharing one database must do once or alone, on SQLite and on
PostgreSQL: queue a notification key, remind of an idle draft, handle a chat's updates (in
order). (Claiming outbox rows: ``test_outbox.py``; sending a notification:
``tests/e2e/test_notification_claims.py``.)

Each "process" is an engine of its own, run from a thread so their transactions really meet.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.clock import ManualClock
from bot.coachview.client import CoachviewClient
from bot.config import load_settings
from bot.services import Services
from bot.store import chats, drafts, inbox, notifications
from bot.store.models import Draft, Notification
from bot.workers.reminders import DraftKeeper
from tests.harness import wait_until
from tests.threads import at_once

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


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


LEASE = timedelta(seconds=30)


def claim(engine: Engine, chat_id: int, owner: str, now: datetime = NOW) -> bool:
    with engine.begin() as connection:
        return chats.claim(connection, chat_id=chat_id, owner=owner, now=now, lease=LEASE)


def test_a_chat_is_one_processes_until_it_lets_go_or_its_claim_runs_out(
    database: Callable[[], Engine],
) -> None:
    first, second = database(), database()
    assert claim(first, 7, "a")
    assert not claim(second, 7, "b")
    assert claim(first, 7, "a", NOW + LEASE / 2)  # renewed: now until NOW + 1.5 LEASE
    assert not claim(second, 7, "b", NOW + LEASE)
    with first.connect() as connection:
        assert chats.holder(connection, chat_id=7, now=NOW + LEASE) == "a"
    # "a" dies holding it: once its claim runs out the chat is free for another.
    assert claim(second, 7, "b", NOW + LEASE * 1.5)
    with first.begin() as connection:
        assert not chats.release(connection, chat_id=7, owner="a")
    with second.begin() as connection:
        assert chats.release(connection, chat_id=7, owner="b")
        assert chats.holder(connection, chat_id=7, now=NOW) is None
    assert claim(first, 7, "a")


def test_renewing_keeps_only_the_claims_still_held(database: Callable[[], Engine]) -> None:
    """A process renews all its chats in one write; a claim that ran out meanwhile (and may be
    another's now) is not taken back, and the process learns it lost it."""
    first, second = database(), database()
    assert claim(first, 1, "a") and claim(first, 2, "a")
    with first.begin() as connection:
        kept = chats.renew(
            connection, chat_ids=[1, 2], owner="a", now=NOW + LEASE / 2, lease=LEASE
        )
    assert kept == {1, 2}
    assert not claim(second, 1, "b", NOW + LEASE)  # renewed until NOW + 1.5 LEASE
    assert claim(second, 2, "b", NOW + LEASE * 2)  # ran out: "b" takes it
    with first.begin() as connection:
        kept = chats.renew(
            connection, chat_ids=[1, 2], owner="a", now=NOW + LEASE * 2, lease=LEASE
        )
        assert kept == set()
        assert chats.holder(connection, chat_id=2, now=NOW + LEASE * 2) == "b"


def test_two_processes_claiming_the_same_chats_at_once_never_share_one(
    database: Callable[[], Engine],
) -> None:
    first, second = database(), database()

    def claim_all(engine: Engine, owner: str) -> set[int]:
        return {chat for chat in range(1, 61) if claim(engine, chat, owner)}

    got_a, got_b = at_once(lambda: claim_all(first, "a"), lambda: claim_all(second, "b"))
    assert not got_a & got_b
    assert got_a | got_b == set(range(1, 61))


def test_two_processes_handle_each_chats_updates_once_and_in_order(
    database: Callable[[], Engine],
) -> None:
    """Updates of ten chats reach two processes by turns (as a load balancer spreads them);
    each stores what it got and handles chats by the claims' protocol (``bot/store/chats.py``).
    Every update is handled once, each chat's in the order Telegram numbered them."""
    engines = {"a": database(), "b": database()}
    handled: list[tuple[str, int, int]] = []  # (process, chat, update id)

    def drain(owner: str, chat: int) -> None:
        engine = engines[owner]
        while claim(engine, chat, owner):
            with engine.connect() as connection:
                waiting = inbox.waiting_in_chat(connection, chat_id=chat)
            for update_id, _payload in waiting:
                handled.append((owner, chat, update_id))
                with engine.begin() as connection:
                    inbox.record(connection, received={}, handled=[update_id], now=NOW)
                if not claim(engine, chat, owner):
                    return
            with engine.begin() as connection:
                chats.release(connection, chat_id=chat, owner=owner)
            with engine.connect() as connection:
                if not inbox.waiting_in_chat(connection, chat_id=chat):
                    return

    # Updates 1 and 2 are chat 0's, 3 and 4 chat 1's, ..., 21 and 22 chat 0's again: each
    # chat's updates go to both processes.
    sent = [(update_id, (update_id - 1) // 2 % 10) for update_id in range(1, 201)]
    previous: dict[int, int | None] = {}
    last_of: dict[int, int] = {}
    for update_id, chat in sent:
        previous[update_id] = last_of.get(chat)
        last_of[chat] = update_id
    stored = {update_id: threading.Event() for update_id, _chat in sent}

    def receive(owner: str, updates: list[tuple[int, int]]) -> None:
        for update_id, chat in updates:
            # Telegram sends a chat's next update once the previous one was answered.
            before = previous[update_id]
            if before is not None:
                assert stored[before].wait(timeout=30)
            with engines[owner].begin() as connection:
                inbox.record(
                    connection,
                    received={update_id: {"update_id": update_id}},
                    handled=[],
                    now=NOW,
                    chats={update_id: chat},
                )
            stored[update_id].set()
            drain(owner, chat)

    at_once(lambda: receive("a", sent[0::2]), lambda: receive("b", sent[1::2]))

    assert sorted(update_id for _owner, _chat, update_id in handled) == list(range(1, 201))
    for chat in range(10):
        mine = [update_id for _owner, of, update_id in handled if of == chat]
        assert mine == sorted(mine), f"chat {chat} out of order"
    # Which process handled what depends on the scheduling (under load one may win every
    # claim); what must hold whatever it is, is asserted above and below.
    with engines["a"].connect() as connection:
        assert chats.abandoned(connection, now=NOW) == []
