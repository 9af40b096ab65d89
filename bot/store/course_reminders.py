"""Course reminders: the message owed the day before a run starts
(``bot/workers/course_reminders.py``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.store.models import CourseReminder, CourseReminderStatus

__all__ = ["due", "move", "plan", "settle"]


def plan(
    session: Session,
    *,
    outbox_id: int,
    run_id: str,
    chat_id: int,
    user_id: int,
    language: str,
    course: str,
    starts_at: datetime,
    remind_at: datetime,
    nummer: str,
    now: datetime,
) -> bool:
    """Owe a reminder for ``run_id`` of outbox row ``outbox_id``; ``False`` if owed already."""
    exists = session.exec(
        select(CourseReminder.id).where(
            CourseReminder.outbox_id == outbox_id, CourseReminder.run_id == run_id
        )
    ).first()
    if exists is not None:
        return False
    session.add(
        CourseReminder(
            outbox_id=outbox_id,
            run_id=run_id,
            chat_id=chat_id,
            user_id=user_id,
            language=language,
            course=course,
            starts_at=starts_at,
            remind_at=remind_at,
            nummer=nummer,
            created_at=now,
        )
    )
    session.flush()
    return True


def due(session: Session, *, now: datetime, limit: int = 100) -> list[CourseReminder]:
    """Pending reminders whose time has come, earliest first."""
    return list(
        session.exec(
            select(CourseReminder)
            .where(
                CourseReminder.status == CourseReminderStatus.PENDING,
                col(CourseReminder.remind_at) <= now,
            )
            .order_by(col(CourseReminder.remind_at))
            .limit(limit)
        ).all()
    )


def settle(
    session: Session, *, reminder_id: int, status: CourseReminderStatus, reason: str | None = None
) -> bool:
    """Take a pending reminder out of the queue (queued or skipped); ``False`` if another
    process did first. The caller queues the message in the same transaction."""
    result = session.exec(
        sa.update(CourseReminder)
        .where(
            col(CourseReminder.id) == reminder_id,
            col(CourseReminder.status) == CourseReminderStatus.PENDING,
        )
        .values(status=status, reason=reason)
    )
    return bool(result.rowcount == 1)


def move(
    session: Session,
    *,
    reminder_id: int,
    was: datetime,
    starts_at: datetime,
    remind_at: datetime,
) -> bool:
    """The run moved from ``was`` to ``starts_at``: remind at the new time, one revision on.
    ``False`` when another process recorded the move first."""
    result = session.exec(
        sa.update(CourseReminder)
        .where(
            col(CourseReminder.id) == reminder_id,
            col(CourseReminder.status) == CourseReminderStatus.PENDING,
            col(CourseReminder.starts_at) == was,
        )
        .values(starts_at=starts_at, remind_at=remind_at, revision=CourseReminder.revision + 1)
    )
    return bool(result.rowcount == 1)
