"""The schema's version: Alembic's migrations in ``migrations/`` (beside the packages in a
checkout, inside ``bot`` in a wheel).

``enrollbot migrate`` runs :func:`upgrade`. At start the bot calls :func:`prepare`: an SQLite
database is migrated there and then (the one-file default needs no setup step and has one
process), any other is only checked, because several instances of the bot share it and a
schema change is the operator's deliberate step (``enrollbot migrate``, before the new version
starts). A database behind the code stops the bot with :class:`SchemaNotCurrent`, whose text is
the one line to show. :func:`is_current` is for health checks.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from bot.errors import SchemaNotCurrent

__all__ = [
    "SchemaNotCurrent",
    "current_revision",
    "head_revision",
    "is_current",
    "migrations_dir",
    "prepare",
    "script",
    "upgrade",
]

logger = logging.getLogger(__name__)

#: The PostgreSQL advisory lock held while migrating (any constant; "enrollbt" in ASCII).
_MIGRATION_LOCK = 0x656E726F6C6C6274


def migrations_dir() -> Path:
    """The ``migrations`` folder: beside the packages in a checkout, inside ``bot`` in a wheel."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "migrations", here / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("the migrations folder is missing from this installation")


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def script() -> ScriptDirectory:
    """The migrations, as Alembic reads them."""
    return ScriptDirectory.from_config(_config())


@functools.cache
def head_revision() -> str:
    """The revision this version of the program works with (there is exactly one head)."""
    head = script().get_current_head()
    if head is None:
        raise FileNotFoundError("the migrations folder holds no migration")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; ``None`` for an empty database, or one made before
    migrations."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(engine: Engine) -> bool:
    """Whether the database's schema is the one this version works with (for ``/readyz``).
    Raises SQLAlchemy's ``OperationalError`` when the database cannot be reached."""
    return current_revision(engine) == head_revision()


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the database to this version's schema: ``(revision before, revision now)``.

    An empty database gets every table; a database made before migrations keeps its rows
    (see the first migration). Safe to run again: a current database is left as it is.
    """
    before = current_revision(engine)
    head = head_revision()
    if before != head:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Instances started together each run `enrollbot migrate`: one at a time (the
                # next finds the schema current). SQLite's BEGIN IMMEDIATE does the same.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            command.upgrade(_config(connection), "head")
        logger.info("database migrated from %s to %s", before or "nothing", head)
    return before, head


def prepare(engine: Engine, *, migrate: bool) -> None:
    """Make sure the bot can work with the database: migrate it first when ``migrate``;
    raise :class:`SchemaNotCurrent` when it is not at this version's schema."""
    if migrate:
        upgrade(engine)
    revision = current_revision(engine)
    head = head_revision()
    if revision == head:
        return
    if revision is not None and not _known(revision):
        raise SchemaNotCurrent(
            f"the database is at schema revision {revision}, which this version of enrollbot "
            f"does not know (a newer version migrated it); run that version, or a newer one"
        )
    raise SchemaNotCurrent(
        f"the database is at schema revision {revision or 'none'}, this version needs {head}: "
        "run `enrollbot migrate` first"
    )


def _known(revision: str) -> bool:
    try:
        return script().get_revision(revision) is not None
    except Exception:  # alembic raises its own kinds for an unknown revision
        return False
