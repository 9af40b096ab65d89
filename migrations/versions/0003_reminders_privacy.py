"""Course reminders and calendar files; privacy's erasure and retention.

- ``course_reminders``: the reminder the day before a course date, owed to the contact person of
  an enrollment (one per outbox row and run); ``people.reminders_off`` for who turned them off;
  ``notifications.document_name`` and ``.document`` for a file sent with a notification (the
  calendar of an enrollment).
- ``leases``: a job that runs in one process at a time (the retention rounds);
  ``outbox.erase_requested_at`` and ``.erased_at`` for /forget and retention.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "course_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("course", sa.String(), nullable=False),
        _time("starts_at"),
        _time("remind_at"),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        _time("created_at"),
        sa.Column("nummer", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_reminders")),
        sa.UniqueConstraint("outbox_id", "run_id", name=op.f("uq_course_reminders_outbox_id")),
    )
    op.create_index("ix_course_reminders_status_due", "course_reminders", ["status", "remind_at"])
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        _time("until"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.add_column(sa.Column("document_name", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("document", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(_time("erase_requested_at", nullable=True))
        batch_op.add_column(_time("erased_at", nullable=True))
    with op.batch_alter_table("people") as batch_op:
        batch_op.add_column(sa.Column("reminders_off", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people") as batch_op:
        batch_op.drop_column("reminders_off")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("erase_requested_at")
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.drop_column("document")
        batch_op.drop_column("document_name")
    op.drop_table("leases")
    op.drop_index("ix_course_reminders_status_due", table_name="course_reminders")
    op.drop_table("course_reminders")
