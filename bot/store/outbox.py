"""The outbox: confirmed enrollments waiting to reach Coachview (design decision 3).

A worker claims due rows with a lease (:func:`claim_due`), marks an attempt before it sends
(:func:`start_attempt`, so a crash in flight is known to be ambiguous), and records the outcome.
Every state change is a conditional update on the worker's lease, so two workers sharing one
database never act on the same row, and a worker whose lease ran out cannot overwrite the one
that took over.

Why two workers cannot claim the same row: the claim reads the candidates and writes
``lease_owner``/``lease_until`` in one transaction, and each row's update repeats the "pending
and not leased" condition and counts as a claim only if it changed the row. On SQLite the
transaction starts with ``BEGIN IMMEDIATE`` (``store/db.py``), so claims of several processes
run one after the other. On PostgreSQL they run at the same time: the candidates are read
``FOR UPDATE SKIP LOCKED``, so each process locks the rows it reads and passes over those
another is claiming (without it, the second would wait for the first and then find its
candidates taken: an empty claim while rows wait), and the repeated condition is re-checked on
the locked row.
A row is claimable when it is pending, due, unleased (or its lease ran out) and the oldest
pending row of its chat (:func:`claim_due`); :func:`next_claimable` says when the next one will
be, by the same rules, so a waiting worker neither spins nor oversleeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.store.models import OutboxEntry, OutboxStatus

__all__ = [
    "StuckSummary",
    "claim_due",
    "enqueue",
    "get_entry",
    "list_entries",
    "next_claimable",
    "record_failure",
    "record_rejection",
    "record_submitted",
    "release",
    "resend",
    "start_attempt",
    "stuck_summary",
]


def enqueue(
    session: Session,
    *,
    draft_id: int,
    reference: str,
    chat_id: int,
    user_id: int,
    language: str,
    payload: dict[str, Any],
    summary: dict[str, Any],
    now: datetime,
) -> OutboxEntry:
    """Add a confirmed enrollment, due now (commit together with closing the draft)."""
    entry = OutboxEntry(
        draft_id=draft_id,
        reference=reference,
        chat_id=chat_id,
        user_id=user_id,
        language=language,
        payload=payload,
        summary=summary,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def get_entry(session: Session, *, entry_id: int) -> OutboxEntry | None:
    return session.get(OutboxEntry, entry_id)


def _lease_free(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(col(OutboxEntry.lease_until).is_(None), col(OutboxEntry.lease_until) <= now)


# No earlier pending row of the same chat: one person's rows go out in their order. Built
# once: making an aliased class is costly (it was 3.5 % of the bot's CPU under load).
_EARLIER = sa.orm.aliased(OutboxEntry)
_OLDEST_OF_ITS_CHAT = ~sa.exists().where(
    col(_EARLIER.chat_id) == col(OutboxEntry.chat_id),
    col(_EARLIER.status) == OutboxStatus.PENDING,
    col(_EARLIER.id) < col(OutboxEntry.id),
)


def claim_due(
    session: Session, *, owner: str, now: datetime, lease: timedelta, limit: int = 20
) -> list[OutboxEntry]:
    """Lease up to ``limit`` due rows for ``owner``: the oldest pending row of each chat only,
    so one person's enrollments reach Coachview in the order they were confirmed. Commits."""
    if limit <= 0:
        return []
    candidates = session.exec(
        select(OutboxEntry.id)
        .where(
            col(OutboxEntry.status) == OutboxStatus.PENDING,
            col(OutboxEntry.next_attempt_at) <= now,
            _lease_free(now),
            _OLDEST_OF_ITS_CHAT,
        )
        .order_by(col(OutboxEntry.next_attempt_at), col(OutboxEntry.id))
        .limit(limit)
        .with_for_update(of=OutboxEntry, skip_locked=True)
    ).all()
    claimed = []
    for entry_id in candidates:
        result = session.exec(
            sa.update(OutboxEntry)
            .where(
                col(OutboxEntry.id) == entry_id,
                col(OutboxEntry.status) == OutboxStatus.PENDING,
                _lease_free(now),
            )
            .values(lease_owner=owner, lease_until=now + lease)
        )
        if result.rowcount == 1:
            claimed.append(entry_id)
    session.commit()
    if not claimed:
        return []
    rows = session.exec(select(OutboxEntry).where(col(OutboxEntry.id).in_(claimed))).all()
    return sorted(rows, key=lambda row: claimed.index(row.id))


def _owned(entry_id: int, owner: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(OutboxEntry.id) == entry_id,
        col(OutboxEntry.lease_owner) == owner,
        col(OutboxEntry.status) == OutboxStatus.PENDING,
    )


def _update(session: Session, entry_id: int, owner: str, **values: Any) -> bool:
    result = session.exec(sa.update(OutboxEntry).where(_owned(entry_id, owner)).values(**values))
    return bool(result.rowcount == 1)


def start_attempt(
    session: Session, *, entry_id: int, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Record that a POST is about to go out (and may arrive even if we never hear back)."""
    return _update(
        session,
        entry_id,
        owner,
        maybe_sent=True,
        attempts=OutboxEntry.attempts + 1,
        lease_until=now + lease,
    )


def record_submitted(
    session: Session,
    *,
    entry_id: int,
    owner: str,
    coachview_id: str | None,
    nummer: str,
    payment_url: str | None,
    now: datetime,
) -> bool:
    """Coachview has the webaanvraag: keep its id and number, release the row."""
    return _update(
        session,
        entry_id,
        owner,
        status=OutboxStatus.SUBMITTED,
        coachview_id=coachview_id,
        coachview_nummer=nummer,
        payment_url=payment_url,
        submitted_at=now,
        lease_owner=None,
        lease_until=None,
        last_error=None,
    )


def record_failure(
    session: Session,
    *,
    entry_id: int,
    owner: str,
    error: str,
    maybe_sent: bool,
    retry_at: datetime,
    now: datetime,
) -> bool:
    """A retryable failure: try again at ``retry_at``."""
    return _update(
        session,
        entry_id,
        owner,
        last_error=error[:2000],
        maybe_sent=maybe_sent,
        next_attempt_at=retry_at,
        first_failure_at=sa.func.coalesce(OutboxEntry.first_failure_at, now),
        lease_owner=None,
        lease_until=None,
    )


def record_rejection(
    session: Session,
    *,
    entry_id: int,
    owner: str,
    status: int | None,
    body: str | None,
    error: str,
    now: datetime,
) -> bool:
    """Coachview refused the webaanvraag: keep its answer, stop trying."""
    return _update(
        session,
        entry_id,
        owner,
        status=OutboxStatus.REJECTED,
        response_status=status,
        response_body=body,
        last_error=error[:2000],
        maybe_sent=False,
        first_failure_at=sa.func.coalesce(OutboxEntry.first_failure_at, now),
        lease_owner=None,
        lease_until=None,
    )


def release(session: Session, *, entry_id: int, owner: str) -> bool:
    """Give a claimed row back without an outcome (the worker is stopping)."""
    return _update(session, entry_id, owner, lease_owner=None, lease_until=None)


def next_claimable(session: Session) -> datetime | None:
    """When :func:`claim_due` will next find a row: the earliest moment at which the oldest
    pending row of some chat is due and not leased (``None``: the outbox is empty). A row behind
    an older pending row of its chat becomes claimable when that one is done; the worker hears
    of that from its own task, or from its poll when another process did it."""
    lease_until = col(OutboxEntry.lease_until)
    due = col(OutboxEntry.next_attempt_at)
    free_at = sa.case((lease_until > due, lease_until), else_=due)
    rows = session.exec(
        select(OutboxEntry.next_attempt_at, OutboxEntry.lease_until)
        .where(col(OutboxEntry.status) == OutboxStatus.PENDING, _OLDEST_OF_ITS_CHAT)
        .order_by(free_at)
        .limit(1)
    ).all()
    if not rows:
        return None
    due_at, leased_until = rows[0]
    return max(due_at, leased_until) if leased_until is not None else due_at


@dataclass(frozen=True)
class StuckSummary:
    """Pending rows that have failed at least once: how many, since when, and the newest error."""

    count: int
    since: datetime | None
    last_error: str | None


def stuck_summary(session: Session) -> StuckSummary:
    """How many pending rows have failed at least once, since when the oldest has, and the
    error of the row that is waiting longest (for the staff alert)."""
    failing = (
        col(OutboxEntry.status) == OutboxStatus.PENDING,
        col(OutboxEntry.first_failure_at).is_not(None),
    )
    count, since = session.exec(
        select(sa.func.count(), sa.func.min(OutboxEntry.first_failure_at)).where(*failing)
    ).one()
    last_error = session.exec(
        select(OutboxEntry.last_error)
        .where(*failing)
        .order_by(col(OutboxEntry.first_failure_at), col(OutboxEntry.id))
        .limit(1)
    ).first()
    return StuckSummary(int(count), since, last_error)


def list_entries(
    session: Session, *, statuses: Sequence[OutboxStatus], limit: int = 200
) -> list[OutboxEntry]:
    """Rows in ``statuses``, oldest first (for the operator's view)."""
    return list(
        session.exec(
            select(OutboxEntry)
            .where(col(OutboxEntry.status).in_(list(statuses)))
            .order_by(col(OutboxEntry.id))
            .limit(limit)
        ).all()
    )


def resend(session: Session, *, entry_id: int, now: datetime) -> bool:
    """Put a rejected row back in the queue (after the cause was fixed); not one whose
    personal data was erased (/forget): there is nothing left to send."""
    result = session.exec(
        sa.update(OutboxEntry)
        .where(
            col(OutboxEntry.id) == entry_id,
            col(OutboxEntry.status) == OutboxStatus.REJECTED,
            col(OutboxEntry.erased_at).is_(None),
        )
        .values(
            status=OutboxStatus.PENDING,
            next_attempt_at=now,
            first_failure_at=None,
            lease_owner=None,
            lease_until=None,
        )
    )
    return bool(result.rowcount == 1)
