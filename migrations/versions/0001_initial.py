"""The schema of the last release that made its tables itself (main at 4fa9c39).

On an empty database this creates the five tables. A database that release (or an older one)
made has the tables already and no ``alembic_version``: it is adopted as it is, keeping every
row. What an older release had not made yet (a table, a nullable column added later, an index)
is added, and the constraints get the names of the naming convention (``pk_outbox``,
``uq_outbox_draft_id``), so later migrations can name them on every database: PostgreSQL's own
names (``outbox_pkey``, ``outbox_draft_id_key``) are changed; SQLite's constraints had no names
and cannot be renamed, so a table with unique columns is copied with named ones (batch mode).

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_DRAFT = sa.text("status = 'open'")
#: The naming convention of ``bot/store/models.py`` as it was at this revision.
NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s", "pk": "pk_%(table_name)s"}


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _telegram_id(name: str) -> sa.Column[object]:
    """A primary key that Telegram numbers (no sequence of ours)."""
    return sa.Column(name, sa.BigInteger(), autoincrement=False, nullable=False, primary_key=True)


def _tables() -> list[tuple[str, list[sa.Column[object]], list[str]]]:
    """Each table: its columns, and the columns that are unique on their own."""
    return [
        (
            "drafts",
            [
                sa.Column("id", sa.Integer(), nullable=False, primary_key=True),
                sa.Column("chat_id", sa.BigInteger(), nullable=False),
                sa.Column("user_id", sa.BigInteger(), nullable=False),
                sa.Column("status", sa.String(length=16), nullable=False),
                sa.Column("step", sa.String(length=64), nullable=False),
                sa.Column("data", sa.JSON(), nullable=False),
                sa.Column("history", sa.JSON(), nullable=False),
                sa.Column("flow", sa.JSON(), nullable=False),
                sa.Column("version", sa.Integer(), nullable=False),
                sa.Column("last_update_id", sa.BigInteger(), nullable=True),
                sa.Column("language", sa.String(length=8), nullable=True),
                _time("created_at"),
                _time("updated_at"),
                _time("reminded_at", nullable=True),
            ],
            [],
        ),
        (
            "inbox",
            [
                _telegram_id("update_id"),
                sa.Column("payload", sa.JSON(), nullable=False),
                _time("received_at"),
            ],
            [],
        ),
        (
            "notifications",
            [
                sa.Column("id", sa.Integer(), nullable=False, primary_key=True),
                sa.Column("key", sa.String(length=128), nullable=False),
                sa.Column("chat_id", sa.BigInteger(), nullable=False),
                sa.Column("text", sa.String(), nullable=False),
                sa.Column("reply_markup", sa.JSON(), nullable=True),
                sa.Column("status", sa.String(length=16), nullable=False),
                sa.Column("attempts", sa.Integer(), nullable=False),
                _time("not_before"),
                sa.Column("last_error", sa.String(), nullable=True),
                _time("created_at"),
                _time("sent_at", nullable=True),
                sa.Column("claimed_by", sa.String(length=64), nullable=True),
                _time("claimed_until", nullable=True),
            ],
            ["key"],
        ),
        (
            "outbox",
            [
                sa.Column("id", sa.Integer(), nullable=False, primary_key=True),
                sa.Column("draft_id", sa.Integer(), nullable=False),
                sa.Column("reference", sa.String(length=64), nullable=False),
                sa.Column("chat_id", sa.BigInteger(), nullable=False),
                sa.Column("user_id", sa.BigInteger(), nullable=False),
                sa.Column("language", sa.String(length=8), nullable=False),
                sa.Column("payload", sa.JSON(), nullable=False),
                sa.Column("summary", sa.JSON(), nullable=False),
                sa.Column("status", sa.String(length=16), nullable=False),
                sa.Column("attempts", sa.Integer(), nullable=False),
                sa.Column("maybe_sent", sa.Boolean(), nullable=False),
                _time("next_attempt_at"),
                _time("first_failure_at", nullable=True),
                sa.Column("lease_owner", sa.String(length=64), nullable=True),
                _time("lease_until", nullable=True),
                sa.Column("last_error", sa.String(), nullable=True),
                sa.Column("response_status", sa.Integer(), nullable=True),
                sa.Column("response_body", sa.String(), nullable=True),
                sa.Column("coachview_id", sa.String(length=64), nullable=True),
                sa.Column("coachview_nummer", sa.String(length=64), nullable=True),
                sa.Column("payment_url", sa.String(), nullable=True),
                _time("created_at"),
                _time("submitted_at", nullable=True),
            ],
            ["draft_id", "reference"],
        ),
        (
            "people",
            [
                _telegram_id("user_id"),
                sa.Column("language", sa.String(length=8), nullable=True),
                _time("updated_at"),
            ],
            [],
        ),
    ]


def _indexes() -> list[tuple[str, str, list[str], dict[str, Any]]]:
    """Each index: its name, table, columns and options."""
    return [
        (
            "ix_drafts_one_open_per_chat",
            "drafts",
            ["chat_id"],
            {"unique": True, "sqlite_where": OPEN_DRAFT, "postgresql_where": OPEN_DRAFT},
        ),
        ("ix_drafts_status_updated", "drafts", ["status", "updated_at"], {}),
        ("ix_notifications_status_due", "notifications", ["status", "not_before"], {}),
        ("ix_outbox_chat_id", "outbox", ["chat_id"], {}),
        ("ix_outbox_status_due", "outbox", ["status", "next_attempt_at"], {}),
    ]


def upgrade() -> None:
    existing = sa.inspect(op.get_bind())
    tables = set(existing.get_table_names())
    for name, columns, unique in _tables():
        if name not in tables:
            keys = [column.name for column in columns if column.primary_key]
            op.create_table(
                name,
                *columns,
                sa.PrimaryKeyConstraint(*keys, name=op.f(f"pk_{name}")),
                *(sa.UniqueConstraint(c, name=op.f(f"uq_{name}_{c}")) for c in unique),
            )
            continue
        _adopt(existing, name, columns, unique)
    for index, table, indexed, options in _indexes():
        if table in tables and index in {i["name"] for i in existing.get_indexes(table)}:
            continue
        op.create_index(index, table, indexed, **options)


def _adopt(
    existing: sa.Inspector, name: str, columns: list[sa.Column[object]], unique: list[str]
) -> None:
    """A table made before migrations: add what it lacks, give its constraints our names."""
    present = {column["name"] for column in existing.get_columns(name)}
    for column in columns:
        if column.name not in present:
            op.add_column(name, column)
    if op.get_bind().dialect.name == "sqlite":
        if unique:
            # SQLite cannot rename a constraint: the table is copied, with names this time.
            with op.batch_alter_table(name, recreate="always", naming_convention=NAMES):
                pass
        return
    primary = existing.get_pk_constraint(name).get("name")
    if primary and primary != f"pk_{name}":
        op.execute(f'ALTER TABLE "{name}" RENAME CONSTRAINT "{primary}" TO "pk_{name}"')
    for constraint in existing.get_unique_constraints(name):
        (only,) = constraint["column_names"]
        wanted = f"uq_{name}_{only}"
        if only in unique and constraint["name"] != wanted:
            op.execute(
                f'ALTER TABLE "{name}" RENAME CONSTRAINT "{constraint["name"]}" TO "{wanted}"'
            )


def downgrade() -> None:
    for index, table, _indexed, _options in reversed(_indexes()):
        op.drop_index(index, table_name=table)
    for table, _columns, _unique in reversed(_tables()):
        op.drop_table(table)
