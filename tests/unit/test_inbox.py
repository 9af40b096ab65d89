"""The inbox table: each update kept once until handled, whatever Telegram sends again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from bot.store import inbox
from bot.store.db import create_tables, open_engine

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def update(update_id: int) -> dict[str, object]:
    return {"update_id": update_id, "message": {"message_id": update_id, "text": "hi"}}


@pytest.mark.parametrize("skip_in_insert", [True, False], ids=["on-conflict", "look-up"])
def test_an_update_is_kept_once_until_it_is_handled(
    database_url: str, monkeypatch: pytest.MonkeyPatch, skip_in_insert: bool
) -> None:
    if not skip_in_insert:  # as on a database without INSERT ... ON CONFLICT DO NOTHING
        monkeypatch.setattr(inbox, "_KEEP_IF_NEW", {})
    engine = open_engine(database_url)
    create_tables(engine)
    with engine.begin() as connection:
        inbox.record(connection, received={1: update(1), 2: update(2)}, handled=[], now=NOW)
    with engine.begin() as connection:  # after a restart Telegram sends 2 again, and 3
        inbox.record(connection, received={2: update(2), 3: update(3)}, handled=[1], now=NOW)
    with Session(engine) as session:
        left = inbox.pending(session)
    assert [row.update_id for row in left] == [2, 3]
    assert left[0].payload == update(2)
    with engine.begin() as connection:
        inbox.record(connection, received={}, handled=[2, 3], now=NOW)
    with Session(engine) as session:
        assert inbox.pending(session) == []
    engine.dispose()


@pytest.mark.parametrize("skip_in_insert", [True, False], ids=["on-conflict", "look-up"])
def test_an_update_posted_to_the_webhook_is_kept_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch, skip_in_insert: bool
) -> None:
    """Telegram sends an update again when it missed the answer: the second is not new."""
    if not skip_in_insert:
        monkeypatch.setattr(inbox, "_KEEP_IF_NEW", {})
    engine = open_engine(database_url)
    create_tables(engine)
    with engine.begin() as connection:
        assert inbox.keep(connection, update_id=7, payload=update(7), now=NOW)
    with engine.begin() as connection:
        assert not inbox.keep(connection, update_id=7, payload=update(7), now=NOW)
        assert inbox.keep(connection, update_id=8, payload=update(8), now=NOW)
    with Session(engine) as session:
        assert [row.update_id for row in inbox.pending(session)] == [7, 8]
    engine.dispose()


def test_a_chats_waiting_updates_are_found_in_order(database_url: str) -> None:
    engine = open_engine(database_url)
    create_tables(engine)
    with engine.begin() as connection:
        inbox.record(
            connection,
            received={5: update(5), 3: update(3), 4: update(4)},
            handled=[],
            now=NOW,
            chats={5: 70, 3: 70, 4: 71},
        )
    with engine.begin() as connection:
        assert inbox.waiting_in_chat(connection, chat_id=70) == [(3, update(3)), (5, update(5))]
        inbox.record(connection, received={}, handled=[3], now=NOW)
        assert inbox.waiting_in_chat(connection, chat_id=70) == [(5, update(5))]
        assert inbox.waiting_in_chat(connection, chat_id=72) == []
    engine.dispose()
