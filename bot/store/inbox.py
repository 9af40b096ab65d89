"""The inbox: Telegram updates received and not yet handled (see ``bot/updates.py``).

Written for every batch ``getUpdates`` returns, so it goes through SQLAlchemy Core on a plain
connection: the rows are never read back as objects while the bot runs, and the ORM's unit of
work would double the cost of each batch (bench/README.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlmodel import Session, col, select

from bot.store.models import InboxUpdate

__all__ = ["pending", "record"]

_INBOX = InboxUpdate.__table__  # type: ignore[attr-defined]


def record(
    connection: Connection,
    *,
    received: Mapping[int, dict[str, Any]],
    handled: Iterable[int],
    now: datetime,
) -> None:
    """Keep the updates just received and forget those handled since the last call."""
    done = list(handled)
    if done:
        connection.execute(sa.delete(_INBOX).where(_INBOX.c.update_id.in_(done)))
    if received:
        known = set(
            connection.execute(
                sa.select(_INBOX.c.update_id).where(_INBOX.c.update_id.in_(list(received)))
            ).scalars()
        )
        rows = [
            {"update_id": update_id, "payload": payload, "received_at": now}
            for update_id, payload in received.items()
            if update_id not in known
        ]
        if rows:
            connection.execute(sa.insert(_INBOX), rows)


def pending(session: Session) -> list[InboxUpdate]:
    """What was received and never handled (the process stopped in between), oldest first."""
    return list(session.exec(select(InboxUpdate).order_by(col(InboxUpdate.update_id))).all())
