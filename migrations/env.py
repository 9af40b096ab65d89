"""Alembic's entry point: the project's tables, and the database of ``DATABASE_URL``.

``enrollbot migrate`` (``bot/store/migrations.py``) hands over an open connection; the
``alembic`` command of a checkout (``alembic revision --autogenerate -m "..."``, with
``alembic.ini`` at the top) opens one from the settings. SQLite alters tables in batch mode
(it copies the table), which its limited ALTER TABLE needs.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

from bot.store import models  # noqa: F401 - registers the tables on SQLModel.metadata

config = context.config


def _render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """SQLModel's column types written as the plain SQLAlchemy types they store as, so a
    migration does not depend on SQLModel's internals."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if kind == "type" and isinstance(item, AutoString):
        length = item.length
        return f"sa.String(length={length})" if length else "sa.String()"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from bot.config import load_settings  # noqa: PLC0415 - only the alembic command needs it
    from bot.store.db import open_engine  # noqa: PLC0415

    engine = open_engine(load_settings().database_url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _offline() -> None:
    from bot.config import load_settings  # noqa: PLC0415

    context.configure(
        url=load_settings().database_url,
        target_metadata=SQLModel.metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _offline()
else:
    _online()
