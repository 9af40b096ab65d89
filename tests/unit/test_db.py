"""A database made by an older version keeps working: new nullable columns are added."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session

from bot.store import drafts
from bot.store.db import create_tables, open_engine


def test_a_nullable_column_added_since_is_added_to_an_existing_table(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = open_engine(f"sqlite:///{path}")
    create_tables(engine)
    engine.dispose()
    with sqlite3.connect(path) as old:  # the drafts table as it was before drafts.language
        old.execute("ALTER TABLE drafts DROP COLUMN language")

    engine = open_engine(f"sqlite:///{path}")
    create_tables(engine)
    now = datetime(2026, 3, 2, tzinfo=UTC)
    with Session(engine) as session:
        draft = drafts.create_draft(
            session, chat_id=1, user_id=1, step="s", data={}, flow={}, now=now, language="en"
        )
        session.commit()
        assert drafts.get_open_draft(session, chat_id=1) == draft
    create_tables(engine)  # and again: nothing left to add
    engine.dispose()
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT language FROM drafts").fetchall() == [("en",)]
