"""Notifications: messages the bot owes someone, sent by the paced sender at most once each."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot.store.models import Notification, NotificationStatus

__all__ = [
    "claim",
    "due",
    "enqueue",
    "latest_key",
    "mark_failed",
    "mark_sent",
    "next_due",
    "postpone",
    "release",
]


_NOTIFICATIONS = Notification.__table__  # type: ignore[attr-defined]
#: Where the database can skip a key it holds already in the INSERT itself. Two processes that
#: queue the same key at once (the staff alert that submissions are stuck) then make one row
#: and no error: with a look-up first, both would find nothing, and on PostgreSQL the second
#: INSERT would fail on the unique key and take its transaction down with it.
_QUEUE_IF_NEW = {
    name: insert(_NOTIFICATIONS)
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(_NOTIFICATIONS.c.id)
    for name, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}


def enqueue(
    session: Session,
    *,
    key: str,
    chat_id: int,
    text: str,
    now: datetime,
    reply_markup: dict[str, Any] | None = None,
    document_name: str | None = None,
    document: bytes | None = None,
) -> bool:
    """Owe ``chat_id`` a message, once per ``key``; ``False`` if that key was queued before.

    With ``document``, the message is that file (named ``document_name``) with ``text`` as
    its caption (at most 1,024 characters)."""
    values: dict[str, Any] = {
        "key": key,
        "chat_id": chat_id,
        "text": text,
        "status": NotificationStatus.PENDING,
        "attempts": 0,
        "not_before": now,
        "created_at": now,
    }
    if reply_markup is not None:  # else SQL NULL, not JSON null
        values["reply_markup"] = reply_markup
    if document is not None:
        values["document_name"] = document_name
        values["document"] = document
    connection = session.connection()
    queue_if_new = _QUEUE_IF_NEW.get(connection.dialect.name)
    if queue_if_new is not None:
        # The new row's id, or no row when the key was there (rowcount says -1 on psycopg).
        return connection.execute(queue_if_new.values(**values)).first() is not None
    exists = session.exec(select(Notification.id).where(Notification.key == key)).first()
    if exists is not None:
        return False
    connection.execute(sa.insert(_NOTIFICATIONS).values(**values))
    return True


def latest_key(session: Session, *, prefixes: tuple[str, ...]) -> str | None:
    """The key of the newest notification whose key starts with one of ``prefixes``."""
    return session.exec(
        select(Notification.key)
        .where(sa.or_(*(col(Notification.key).startswith(prefix) for prefix in prefixes)))
        .order_by(col(Notification.id).desc())
        .limit(1)
    ).first()


def due(session: Session, *, now: datetime, limit: int = 100) -> list[Notification]:
    """The oldest due notification of each chat, oldest first.

    One per chat, so a chat with a long queue (a staff group after a burst of enrollments)
    takes one place in the round and never holds back the messages to other chats.
    """
    oldest_per_chat = (
        select(sa.func.min(Notification.id))
        .where(
            Notification.status == NotificationStatus.PENDING,
            col(Notification.not_before) <= now,
            _unclaimed(now),
        )
        .group_by(col(Notification.chat_id))
    )
    return list(
        session.exec(
            select(Notification)
            .where(col(Notification.id).in_(oldest_per_chat))
            .order_by(col(Notification.id))
            .limit(limit)
        ).all()
    )


def _unclaimed(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        col(Notification.claimed_until).is_(None), col(Notification.claimed_until) <= now
    )


def claim(
    session: Session, *, notification_id: int, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Take a pending notification for sending; ``False`` if another sender has it."""
    result = session.exec(
        sa.update(Notification)
        .where(
            col(Notification.id) == notification_id,
            col(Notification.status) == NotificationStatus.PENDING,
            _unclaimed(now),
        )
        .values(claimed_by=owner, claimed_until=now + lease)
    )
    return bool(result.rowcount == 1)


def release(session: Session, *, notification_id: int) -> None:
    """Give a claimed notification back (it was not sent; try again later)."""
    session.exec(
        sa.update(Notification)
        .where(col(Notification.id) == notification_id)
        .values(claimed_by=None, claimed_until=None)
    )


def next_due(session: Session) -> datetime | None:
    """When the earliest pending notification is due."""
    return session.exec(
        select(sa.func.min(Notification.not_before)).where(
            Notification.status == NotificationStatus.PENDING
        )
    ).one()


def mark_sent(session: Session, *, notification_id: int, now: datetime) -> None:
    session.exec(
        sa.update(Notification)
        .where(col(Notification.id) == notification_id)
        .values(status=NotificationStatus.SENT, sent_at=now, attempts=Notification.attempts + 1)
    )


def postpone(session: Session, *, notification_id: int, until: datetime, error: str) -> None:
    session.exec(
        sa.update(Notification)
        .where(col(Notification.id) == notification_id)
        .values(not_before=until, last_error=error[:500], attempts=Notification.attempts + 1)
    )


def mark_failed(session: Session, *, notification_id: int, error: str) -> None:
    session.exec(
        sa.update(Notification)
        .where(col(Notification.id) == notification_id)
        .values(
            status=NotificationStatus.FAILED,
            last_error=error[:500],
            attempts=Notification.attempts + 1,
        )
    )
