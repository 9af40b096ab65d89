"""Drafts: the enrollments being filled in, one open draft per chat.

A draft is read, changed in memory by one conversation turn, and saved with
:func:`save_draft`, which writes only if nobody saved it in between (the version still matches)
and raises :class:`~bot.errors.DraftConflict` otherwise. Sessions never stay open across an
``await``: read, compute (maybe awaiting Coachview), then save in a second short transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.errors import DraftConflict
from bot.store.models import OPEN_DRAFT, Draft, DraftStatus

# The UPDATEs and DELETEs below run in short sessions that hold no Draft they could leave stale,
# so SQLAlchemy need not evaluate their WHERE clause against loaded objects ("synchronize");
# skipping it takes a third off the cost of saving a turn (bench/README.md).
_UNSYNCED: dict[str, Any] = {"synchronize_session": False}

__all__ = [
    "close_draft",
    "create_draft",
    "delete_abandoned_drafts",
    "delete_draft",
    "get_draft",
    "get_open_draft",
    "idle_drafts",
    "mark_reminded",
    "save_draft",
]


# Read and written on every update: built once (a third off reading the draft).
_DRAFTS = Draft.__table__  # type: ignore[attr-defined]
_OPEN_DRAFT_OF_CHAT = select(Draft).where(Draft.chat_id == sa.bindparam("chat_id"), OPEN_DRAFT)


def get_open_draft(session: Session, *, chat_id: int) -> Draft | None:
    """The chat's open draft, if any."""
    return session.exec(_OPEN_DRAFT_OF_CHAT, params={"chat_id": chat_id}).first()


def get_draft(session: Session, *, draft_id: int) -> Draft | None:
    """A draft by id, whatever its status."""
    return session.get(Draft, draft_id)


def create_draft(
    session: Session,
    *,
    chat_id: int,
    user_id: int,
    step: str,
    data: dict[str, Any],
    flow: dict[str, Any],
    now: datetime,
    update_id: int | None = None,
    language: str | None = None,
) -> Draft:
    """Open a new draft for the chat, cancelling one that was still open."""
    session.exec(
        sa.update(Draft)
        .where(col(Draft.chat_id) == chat_id, OPEN_DRAFT)
        .values(status=DraftStatus.CANCELLED, updated_at=now, version=Draft.version + 1)
        .execution_options(**_UNSYNCED)
    )
    draft = Draft(
        chat_id=chat_id,
        user_id=user_id,
        step=step,
        data=data,
        flow=flow,
        history=[],
        last_update_id=update_id,
        language=language,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    return draft


def save_draft(
    session: Session,
    *,
    draft_id: int,
    expected_version: int,
    step: str,
    data: dict[str, Any],
    history: list[str],
    flow: dict[str, Any],
    now: datetime,
    update_id: int | None = None,
    language: str | None = None,
    status: DraftStatus = DraftStatus.OPEN,
) -> int:
    """Write a turn's result if the draft is still at ``expected_version``; return the new one."""
    values: dict[str, Any] = {
        "step": step,
        "data": data,
        "history": history,
        "flow": flow,
        "status": status,
        "version": expected_version + 1,
        "updated_at": now,
        "reminded_at": None,
    }
    if update_id is not None:
        values["last_update_id"] = update_id
    if language is not None:
        values["language"] = language
    # Through Core on the table: the ORM's bulk UPDATE adds a quarter to every turn's save.
    result = session.connection().execute(
        sa.update(_DRAFTS)
        .where(
            _DRAFTS.c.id == draft_id,
            _DRAFTS.c.version == expected_version,
            _DRAFTS.c.status == DraftStatus.OPEN,
        )
        .values(**values)
    )
    if result.rowcount != 1:
        raise DraftConflict(f"draft {draft_id} changed since version {expected_version}")
    return expected_version + 1


def close_draft(
    session: Session, *, draft_id: int, expected_version: int, status: DraftStatus, now: datetime
) -> None:
    """Mark an open draft submitted or cancelled (same version check as :func:`save_draft`)."""
    result = session.exec(
        sa.update(Draft)
        .where(
            col(Draft.id) == draft_id,
            col(Draft.version) == expected_version,
            col(Draft.status) == DraftStatus.OPEN,
        )
        .values(status=status, version=expected_version + 1, updated_at=now)
        .execution_options(**_UNSYNCED)
    )
    if result.rowcount != 1:
        raise DraftConflict(f"draft {draft_id} changed since version {expected_version}")


def delete_draft(session: Session, *, draft_id: int, expected_version: int) -> None:
    """Delete an open draft (the person cancelled it), with the version check of saving."""
    result = session.exec(
        sa.delete(Draft)
        .where(
            col(Draft.id) == draft_id,
            col(Draft.version) == expected_version,
            col(Draft.status) == DraftStatus.OPEN,
        )
        .execution_options(**_UNSYNCED)
    )
    if result.rowcount != 1:
        raise DraftConflict(f"draft {draft_id} changed since version {expected_version}")


def idle_drafts(session: Session, *, idle_since: datetime, limit: int = 100) -> list[Draft]:
    """Open drafts untouched since ``idle_since`` and not yet reminded."""
    return list(
        session.exec(
            select(Draft)
            .where(
                Draft.status == DraftStatus.OPEN,
                col(Draft.updated_at) <= idle_since,
                col(Draft.reminded_at).is_(None),
            )
            .order_by(col(Draft.updated_at))
            .limit(limit)
        ).all()
    )


def mark_reminded(session: Session, *, draft_id: int, now: datetime) -> bool:
    """Record that the idle reminder went out; ``False`` if the draft moved on meanwhile."""
    result = session.exec(
        sa.update(Draft)
        .where(col(Draft.id) == draft_id, col(Draft.reminded_at).is_(None))
        .values(reminded_at=now)
        .execution_options(**_UNSYNCED)
    )
    return bool(result.rowcount == 1)


def delete_abandoned_drafts(session: Session, *, untouched_since: datetime) -> int:
    """Delete open or cancelled drafts untouched since ``untouched_since``; return how many."""
    result = session.exec(
        sa.delete(Draft)
        .where(
            col(Draft.status).in_([DraftStatus.OPEN, DraftStatus.CANCELLED]),
            col(Draft.updated_at) <= untouched_since,
        )
        .execution_options(**_UNSYNCED)
    )
    return int(result.rowcount)
