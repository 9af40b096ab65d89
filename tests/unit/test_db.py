"""SQLite's plans for the statements every update runs. (That a database made by an older
version keeps working is the migrations' test: ``test_migrations.py``.)"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from bot.store import drafts
from bot.store.db import create_tables, open_engine


def test_a_chats_open_draft_is_found_through_its_index_whatever_is_bound(tmp_path: Path) -> None:
    """The statements that find a chat's open draft (every update reads one; /start replaces
    one) state the condition of the one-open-draft-per-chat index literally, so SQLite plans
    them with that index once, not again for every value bound."""
    engine = open_engine(f"sqlite:///{tmp_path / 'bot.db'}")
    create_tables(engine)
    now = datetime(2026, 3, 2, tzinfo=UTC)
    executed: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "WHERE drafts.chat_id" in statement:
            executed.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    with Session(engine) as session:
        drafts.create_draft(session, chat_id=7, user_id=7, step="s", data={}, flow={}, now=now)
        drafts.get_open_draft(session, chat_id=7)
        session.commit()
    event.remove(engine, "before_cursor_execute", record)

    assert len(executed) == 2  # the UPDATE that cancels an open draft, then the SELECT
    with engine.connect() as connection:
        for statement, parameters in executed:
            # The plan without the values: every parameter bound to NULL.
            unknown = (None,) * len(parameters)
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", unknown)
            details = " ".join(str(row[-1]) for row in plan)
            assert "ix_drafts_one_open_per_chat (chat_id=?)" in details, (statement, details)
    engine.dispose()
