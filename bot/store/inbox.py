"""The inbox: Telegram updates received and not yet handled (see ``bot/updates.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.store.models import InboxUpdate

__all__ = ["pending", "record"]


def record(
    session: Session,
    *,
    received: Mapping[int, dict[str, Any]],
    handled: Iterable[int],
    now: datetime,
) -> None:
    """Keep the updates just received and forget those handled since the last call."""
    done = list(handled)
    if done:
        session.exec(sa.delete(InboxUpdate).where(col(InboxUpdate.update_id).in_(done)))
    if received:
        known = set(
            session.exec(
                select(InboxUpdate.update_id).where(col(InboxUpdate.update_id).in_(received))
            ).all()
        )
        session.add_all(
            InboxUpdate(update_id=update_id, payload=payload, received_at=now)
            for update_id, payload in received.items()
            if update_id not in known
        )


def pending(session: Session) -> list[InboxUpdate]:
    """What was received and never handled (the process stopped in between), oldest first."""
    return list(session.exec(select(InboxUpdate).order_by(col(InboxUpdate.update_id))).all())
