"""Counts for the operators' metrics (``bot/metrics.py``): read when Prometheus scrapes.

Three cheap statements: the open drafts (the partial index on open drafts answers it), the
outbox rows by status, and the time the oldest pending row was confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from bot.store.models import OPEN_DRAFT, Draft, OutboxEntry, OutboxStatus

__all__ = ["Counts", "counts"]

_DRAFTS = Draft.__table__  # type: ignore[attr-defined]
_OUTBOX = OutboxEntry.__table__  # type: ignore[attr-defined]
_OPEN_DRAFTS = sa.select(sa.func.count()).select_from(_DRAFTS).where(OPEN_DRAFT)
_OUTBOX_BY_STATUS = sa.select(_OUTBOX.c.status, sa.func.count()).group_by(_OUTBOX.c.status)
_OLDEST_PENDING = sa.select(sa.func.min(_OUTBOX.c.created_at)).where(
    _OUTBOX.c.status == OutboxStatus.PENDING.value
)


@dataclass(frozen=True)
class Counts:
    """What the database holds now."""

    open_drafts: int
    outbox: dict[str, int]
    oldest_pending: datetime | None


def counts(connection: Connection) -> Counts:
    """The open drafts, the outbox rows by status (every status, 0 where none) and the
    confirmation time of the oldest pending row (``None`` when nothing is pending)."""
    open_drafts = connection.execute(_OPEN_DRAFTS).scalar_one()
    outbox = {status.value: 0 for status in OutboxStatus}
    for status, number in connection.execute(_OUTBOX_BY_STATUS):
        outbox[str(status)] = int(number)
    oldest = connection.execute(_OLDEST_PENDING).scalar_one_or_none()
    return Counts(int(open_drafts), outbox, oldest)
