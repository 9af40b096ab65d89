"""The schema's migrations, on SQLite and on PostgreSQL: one line of them, an empty database
brought to exactly the tables of ``bot/store/models.py``, and a database made by the last
release before migrations (``tests/data/schema-4fa9c39.*.sql``) kept with all its rows."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel

from bot.errors import SchemaNotCurrent
from bot.store import drafts, inbox, migrations, notifications, outbox
from bot.store.db import open_engine
from bot.store.models import DraftStatus, OutboxStatus
from tests.threads import at_once

DATA = Path(__file__).resolve().parents[1] / "data"
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def empty(empty_database_url: str) -> Any:
    engine = open_engine(empty_database_url)
    yield engine
    engine.dispose()


def differences(engine: Engine) -> list[Any]:
    """What Alembic's autogenerate finds between the database and the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def made_by_the_last_release(engine: Engine) -> None:
    """The tables as release 4fa9c39 made them at start (no ``alembic_version``)."""
    dump = (DATA / f"schema-4fa9c39.{engine.dialect.name}.sql").read_text()
    statements = [part.strip() for part in dump.split(";") if "CREATE" in part]
    with engine.begin() as connection:
        for statement in statements:
            body = "\n".join(line for line in statement.splitlines() if not line.startswith("--"))
            connection.exec_driver_sql(body)


def test_the_migrations_are_one_line_with_one_head() -> None:
    script = migrations.script()
    assert len(script.get_heads()) == 1
    assert script.get_current_head() == migrations.head_revision()
    assert len(script.get_bases()) == 1


def test_an_empty_database_is_migrated_to_exactly_the_models(empty: Engine) -> None:
    assert not migrations.is_current(empty)
    assert migrations.upgrade(empty) == (None, migrations.head_revision())
    assert migrations.is_current(empty)
    assert differences(empty) == []
    assert tables(empty) == {*SQLModel.metadata.tables, "alembic_version"}
    # Again: nothing to do.
    assert migrations.upgrade(empty) == (migrations.head_revision(),) * 2
    # And all the way down, for a developer's round trip.
    with empty.begin() as connection:
        config = migrations._config(connection)
        command.downgrade(config, "base")
    assert tables(empty) == {"alembic_version"}
    assert migrations.current_revision(empty) is None


def test_instances_migrating_at_once_take_turns(empty_database_url: str) -> None:
    """Each instance of a deployment runs `enrollbot migrate` as it starts: one migrates,
    the others find the schema current and change nothing."""
    engines = [open_engine(empty_database_url) for _ in range(3)]
    try:
        results = at_once(*(functools.partial(migrations.upgrade, engine) for engine in engines))
    finally:
        for engine in engines:
            engine.dispose()
    head = migrations.head_revision()
    assert all(after == head for _before, after in results)
    engine = open_engine(empty_database_url)
    assert migrations.is_current(engine)
    assert differences(engine) == []
    engine.dispose()


def _insert(engine: Engine, table: str, **values: Any) -> None:
    """A row as the last release wrote it (its own types: JSON, times with their zone)."""

    def typed(name: str, value: Any) -> sa.ColumnClause[Any]:
        if isinstance(value, datetime):
            return sa.column(name, sa.DateTime(timezone=True))
        if isinstance(value, dict | list):
            return sa.column(name, sa.JSON())
        return sa.column(name)

    columns = [typed(name, value) for name, value in values.items()]
    with engine.begin() as connection:
        connection.execute(sa.table(table, *columns).insert().values(**values))


def test_a_database_of_the_last_release_keeps_its_drafts_and_outbox(empty: Engine) -> None:
    made_by_the_last_release(empty)
    moment = NOW
    common = {"user_id": 11, "created_at": moment, "updated_at": moment}
    _insert(empty, "drafts", chat_id=11, status="open", step="TYPING_EMAIL", data={"a": 1},
            history=["CHOOSING_COURSE"], flow={}, version=3, language="en", **common)  # fmt: skip
    _insert(empty, "drafts", chat_id=12, status="submitted", step="DONE", data={},
            history=[], flow={}, version=9, **(common | {"user_id": 12}))  # fmt: skip
    for number, status in enumerate(["pending", "submitted"], start=1):
        _insert(empty, "outbox", draft_id=number, reference=f"TG-{number}", chat_id=11,
                user_id=11, language="nl", payload={"referentieNrKlant": "TG-1"},
                summary={}, status=status, attempts=0, maybe_sent=False,
                next_attempt_at=moment, created_at=moment)  # fmt: skip
    _insert(empty, "notifications", key="confirm:1", chat_id=11, text="Hallo", status="pending",
            attempts=0, not_before=moment, created_at=moment)  # fmt: skip
    _insert(empty, "inbox", update_id=77, payload={"update_id": 77}, received_at=moment)
    assert migrations.current_revision(empty) is None

    with pytest.raises(SchemaNotCurrent, match="run `enrollbot migrate` first"):
        migrations.prepare(empty, migrate=False)
    migrations.prepare(empty, migrate=True)

    assert migrations.is_current(empty)
    assert differences(empty) == []
    with Session(empty) as session:
        kept = drafts.get_open_draft(session, chat_id=11)
        assert kept is not None
        assert (kept.step, kept.data, kept.history, kept.version, kept.language) == (
            "TYPING_EMAIL",
            {"a": 1},
            ["CHOOSING_COURSE"],
            3,
            "en",
        )
        assert kept.created_at == NOW
        closed = drafts.get_draft(session, draft_id=2)
        assert closed is not None and closed.status == DraftStatus.SUBMITTED
        waiting = outbox.list_entries(session, statuses=[OutboxStatus.PENDING])
        assert [(e.reference, e.payload) for e in waiting] == [
            ("TG-1", {"referentieNrKlant": "TG-1"})
        ]
        assert len(outbox.list_entries(session, statuses=list(OutboxStatus))) == 2
        # The bot goes on with them: the waiting row is sent, new rows get new ids.
        claimed = outbox.claim_due(
            session, owner="w", now=NOW + timedelta(seconds=1), lease=timedelta(minutes=1)
        )
        assert [e.reference for e in claimed] == ["TG-1"]
        assert [row.update_id for row in inbox.pending(session)] == [77]
        assert notifications.due(session, now=NOW)[0].text == "Hallo"
        new = drafts.create_draft(
            session, chat_id=13, user_id=13, step="s", data={}, flow={}, now=NOW
        )
        session.commit()
        assert new.id == 3


def test_a_database_from_before_a_later_column_gets_it(empty: Engine) -> None:
    """An older release made ``drafts`` without ``language``; its own start added such
    columns. The first migration does the same for a database that never met that code."""
    made_by_the_last_release(empty)
    with empty.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE drafts DROP COLUMN language")
        connection.exec_driver_sql("DROP INDEX ix_drafts_status_updated")
    migrations.upgrade(empty)
    assert differences(empty) == []
    with Session(empty) as session:
        drafts.create_draft(
            session, chat_id=1, user_id=1, step="s", data={}, flow={}, now=NOW, language="en"
        )
        session.commit()
        kept = drafts.get_open_draft(session, chat_id=1)
        assert kept is not None and kept.language == "en"


def test_a_database_migrated_by_a_newer_version_is_refused(empty: Engine) -> None:
    migrations.upgrade(empty)
    with empty.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00d'")
    assert not migrations.is_current(empty)
    with pytest.raises(SchemaNotCurrent, match="f00d, which this version of enrollbot does not"):
        migrations.prepare(empty, migrate=False)
