"""The database engine: SQLite by default (WAL), any SQLAlchemy URL via ``DATABASE_URL``.

The schema is Alembic's (``bot/store/migrations.py``): :func:`create_tables` brings a database
to the current schema, as ``enrollbot migrate`` does. The directory of an SQLite file is
created when missing. Every write goes through a short transaction; SQLite runs in WAL mode
with a busy timeout, so several processes can share one file (PostgreSQL is the choice for
more).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from bot.store import models  # noqa: F401 - registers the tables on SQLModel.metadata

__all__ = ["Session", "create_tables", "open_engine"]

SQLITE_BUSY_TIMEOUT_MS = 10_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock at the start: two processes updating the same rows
    # wait for each other (busy_timeout) instead of failing halfway with "database is locked".
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def open_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; for SQLite the file's directory is created and WAL is switched on."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True)
    database = parsed.database or ""
    if database in ("", ":memory:"):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False},
            poolclass=StaticPool,
        )
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def create_tables(engine: Engine) -> None:
    """Bring the database to the current schema by running its migrations (tests, tools)."""
    from bot.store import migrations  # noqa: PLC0415 - Alembic loads only where it is used

    migrations.upgrade(engine)
