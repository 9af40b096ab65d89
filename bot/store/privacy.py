"""Personal data across the tables: what the bot holds about one person, erasing it, and the
retention rules (``bot/workers/retention.py`` runs them; ``conversations/privacy.py`` answers
/mydata and /forget).

What is personal: the answers of a draft (``drafts.data``); the webaanvraag, the staff summary
and Coachview's answer of an outbox row (``payload``, ``summary``, ``response_body``); the
texts of notifications; the updates in the inbox (message texts, names); the language chosen
(``people``); and the Telegram ids that tie these rows to the person. An outbox row whose
personal fields were removed keeps its reference, Coachview's id and number, the course, the
number of participants and its dates, so operators can still answer "did it arrive".

The notifications that belong to an outbox row are found by their keys, as the submission
worker writes them (``bot/workers/receipts.py``): ``confirm:``, ``delayed:``, ``rejected:`` and
``staff:`` with the row's id, ``staff-rejected:`` with the row's id and the attempt.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot.store.models import (
    CourseReminder,
    Draft,
    InboxUpdate,
    Lease,
    Notification,
    NotificationStatus,
    OutboxEntry,
    OutboxStatus,
    Person,
)

__all__ = [
    "KEPT_SUMMARY",
    "Erasure",
    "Holdings",
    "claim_lease",
    "erase_person",
    "finish_erasures",
    "forget_old_updates",
    "holdings",
    "remove_sent_personal_data",
    "remove_sent_texts",
]

#: What the staff summary of an outbox row keeps once its personal fields are removed.
KEPT_SUMMARY: Final = ("course", "course_start", "participants")
_ENTRY_KEYS: Final = ("confirm", "delayed", "rejected", "staff")
_UNSYNCED: dict[str, Any] = {"synchronize_session": False}


# -- What the bot holds ---------------------------------------------------------------------------


@dataclass
class Holdings:
    """Everything the bot holds about one person (for /mydata)."""

    user_id: int
    language: str | None = None
    drafts: list[Draft] = field(default_factory=list)
    entries: list[OutboxEntry] = field(default_factory=list)
    messages_waiting: int = 0

    @property
    def pending(self) -> list[OutboxEntry]:
        """Confirmed enrollments that have not reached Coachview yet."""
        return [entry for entry in self.entries if entry.status == OutboxStatus.PENDING]


def holdings(session: Session, *, user_id: int) -> Holdings:
    """What the bot holds about ``user_id``, oldest first."""
    person = session.get(Person, user_id)
    found = Holdings(user_id, language=person.language if person is not None else None)
    found.drafts = list(
        session.exec(
            select(Draft)
            .where(sa.or_(col(Draft.user_id) == user_id, col(Draft.chat_id) == user_id))
            .order_by(col(Draft.id))
        ).all()
    )
    found.entries = list(
        session.exec(
            select(OutboxEntry)
            .where(col(OutboxEntry.user_id) == user_id)
            .order_by(col(OutboxEntry.id))
        ).all()
    )
    found.messages_waiting = session.exec(
        select(sa.func.count()).where(
            col(Notification.chat_id) == user_id,
            col(Notification.status) == NotificationStatus.PENDING,
        )
    ).one()
    return found


# -- Erasing one person ---------------------------------------------------------------------------


@dataclass
class Erasure:
    """What an erasure found: the Coachview numbers of enrollments that arrived there (the
    provider keeps those), enrollments refused by Coachview and erased, enrollments cancelled
    before they were sent, and those still on their way (erased once they arrived)."""

    numbers: list[str] = field(default_factory=list)
    refused: int = 0
    cancelled: int = 0
    waiting: int = 0


def _entry_notifications(entry_ids: Iterable[int]) -> sa.ColumnElement[bool]:
    """The notifications queued about these outbox rows (by the submission worker, and the
    calendar files of bot/workers/course_reminders.py)."""
    ids = list(entry_ids)
    keys = [f"{kind}:{entry_id}" for entry_id in ids for kind in _ENTRY_KEYS]
    return sa.or_(
        col(Notification.key).in_(keys),
        *(col(Notification.key).startswith(f"staff-rejected:{entry_id}:") for entry_id in ids),
        *(col(Notification.key).startswith(f"calendar:{entry_id}:") for entry_id in ids),
    )


def _scrub(session: Session, entry: OutboxEntry, now: datetime, *, forget: bool) -> None:
    """Remove an outbox row's personal fields; ``forget``: its Telegram ids too."""
    values: dict[str, Any] = {
        "payload": {},
        "summary": {key: entry.summary[key] for key in KEPT_SUMMARY if key in entry.summary},
        "response_body": None,
        "payment_url": None,
        "erased_at": now,
    }
    if forget:
        values.update(chat_id=0, user_id=0, last_error=None, erase_requested_at=None)
    session.exec(
        sa.update(OutboxEntry)
        .where(col(OutboxEntry.id) == entry.id)
        .values(**values)
        .execution_options(**_UNSYNCED)
    )


def _forget_entries(session: Session, entries: list[OutboxEntry], now: datetime) -> Erasure:
    """Erase arrived or refused rows, and the notifications about them."""
    erasure = Erasure()
    for entry in entries:
        _scrub(session, entry, now, forget=True)
        if entry.coachview_nummer:
            erasure.numbers.append(entry.coachview_nummer)
        elif entry.status == OutboxStatus.REJECTED:
            erasure.refused += 1
    if entries:
        session.exec(
            sa.delete(Notification)
            .where(_entry_notifications(entry.id or 0 for entry in entries))
            .execution_options(**_UNSYNCED)
        )
        session.exec(
            sa.delete(CourseReminder)
            .where(col(CourseReminder.outbox_id).in_([entry.id or 0 for entry in entries]))
            .execution_options(**_UNSYNCED)
        )
    return erasure


def _mentions(value: Any, user_id: int) -> bool:
    """Whether a Telegram update (as JSON) names ``user_id`` as a chat or a user."""
    if isinstance(value, dict):
        if value.get("id") == user_id:
            return True
        return any(_mentions(item, user_id) for item in value.values())
    if isinstance(value, list):
        return any(_mentions(item, user_id) for item in value)
    return False


def erase_person(
    session: Session,
    *,
    user_id: int,
    now: datetime,
    cancel: bool,
    staff_chat_id: int | None = None,
) -> Erasure:
    """Erase everything the bot holds about ``user_id`` (committed by the caller).

    Confirmed enrollments still on their way to Coachview are cancelled when ``cancel`` and no
    attempt to send them has started; the others go on, marked to be erased once they arrived
    (:func:`finish_erasures`). Drafts, the language, the updates in the inbox and every
    notification to the person go now (when their chat is ``staff_chat_id``, the staff
    notices about other people's enrollments stay); arrived and refused enrollments keep only what
    :data:`KEPT_SUMMARY` and the reference, number and dates say, without the person's ids.
    """
    entries = list(
        session.exec(select(OutboxEntry).where(col(OutboxEntry.user_id) == user_id)).all()
    )
    done = [entry for entry in entries if entry.status != OutboxStatus.PENDING]
    erasure = _forget_entries(session, done, now)
    for entry in entries:
        if entry.status != OutboxStatus.PENDING:
            continue
        if cancel:
            cancelled = session.exec(
                sa.delete(OutboxEntry)
                .where(
                    col(OutboxEntry.id) == entry.id,
                    col(OutboxEntry.status) == OutboxStatus.PENDING,
                    col(OutboxEntry.maybe_sent).is_(False),
                    sa.or_(
                        col(OutboxEntry.lease_until).is_(None),
                        col(OutboxEntry.lease_until) <= now,
                    ),
                )
                .execution_options(**_UNSYNCED)
            )
            if cancelled.rowcount == 1:
                erasure.cancelled += 1
                continue
        session.exec(
            sa.update(OutboxEntry)
            .where(col(OutboxEntry.id) == entry.id)
            .values(erase_requested_at=now)
            .execution_options(**_UNSYNCED)
        )
        erasure.waiting += 1
    chats = {user_id, *(entry.chat_id for entry in entries)}
    session.exec(
        sa.delete(Draft)
        .where(sa.or_(col(Draft.user_id) == user_id, col(Draft.chat_id).in_(chats)))
        .execution_options(**_UNSYNCED)
    )
    session.exec(
        sa.delete(Person).where(col(Person.user_id) == user_id).execution_options(**_UNSYNCED)
    )
    session.exec(
        sa.delete(CourseReminder)
        .where(
            sa.or_(col(CourseReminder.user_id) == user_id, col(CourseReminder.chat_id).in_(chats))
        )
        .execution_options(**_UNSYNCED)
    )
    session.exec(
        sa.delete(Notification)
        .where(col(Notification.chat_id).in_(chats - {staff_chat_id}))
        .execution_options(**_UNSYNCED)
    )
    updates = [
        row.update_id
        for row in session.exec(select(InboxUpdate)).all()
        if _mentions(row.payload, user_id)
    ]
    if updates:
        session.exec(
            sa.delete(InboxUpdate)
            .where(col(InboxUpdate.update_id).in_(updates))
            .execution_options(**_UNSYNCED)
        )
    return erasure


def finish_erasures(session: Session, *, now: datetime) -> list[Erasure]:
    """Erase the rows whose person asked /forget while they were on their way, once they
    arrived (or were refused) and the person's confirmation went out. Commit after."""
    finished = []
    for entry in session.exec(
        select(OutboxEntry).where(
            col(OutboxEntry.erase_requested_at).is_not(None),
            col(OutboxEntry.status) != OutboxStatus.PENDING,
        )
    ).all():
        unsent = session.exec(
            select(Notification.id).where(
                _entry_notifications([entry.id or 0]),
                col(Notification.chat_id) == entry.chat_id,
                col(Notification.status) == NotificationStatus.PENDING,
            )
        ).first()
        if unsent is None:
            finished.append(_forget_entries(session, [entry], now))
    return finished


# -- Retention ------------------------------------------------------------------------------------


def remove_sent_personal_data(
    session: Session, *, sent_before: datetime, now: datetime, limit: int = 100
) -> int:
    """Remove the personal fields of rows that reached Coachview before ``sent_before``, and
    their drafts; return how many rows. The person's ids stay (for /mydata and /forget)."""
    entries = list(
        session.exec(
            select(OutboxEntry)
            .where(
                col(OutboxEntry.status) == OutboxStatus.SUBMITTED,
                col(OutboxEntry.submitted_at) <= sent_before,
                col(OutboxEntry.erased_at).is_(None),
            )
            .order_by(col(OutboxEntry.id))
            .limit(limit)
        ).all()
    )
    for entry in entries:
        _scrub(session, entry, now, forget=False)
    if entries:
        session.exec(
            sa.delete(Draft)
            .where(col(Draft.id).in_([entry.draft_id for entry in entries]))
            .execution_options(**_UNSYNCED)
        )
    return len(entries)


def remove_sent_texts(session: Session) -> int:
    """Empty the texts of notifications that were sent or given up (they are kept for their
    key only, which makes each message go once); return how many."""
    result = session.exec(
        sa.update(Notification)
        .where(
            col(Notification.status) != NotificationStatus.PENDING, col(Notification.text) != ""
        )
        .values(text="", reply_markup=None)
        .execution_options(**_UNSYNCED)
    )
    return int(result.rowcount)


def forget_old_updates(session: Session, *, received_before: datetime) -> int:
    """Delete updates received before ``received_before`` that are still in the inbox (a
    handled update leaves it within a second; one this old cannot be answered any more)."""
    result = session.exec(
        sa.delete(InboxUpdate)
        .where(col(InboxUpdate.received_at) <= received_before)
        .execution_options(**_UNSYNCED)
    )
    return int(result.rowcount)


# -- Once across processes ------------------------------------------------------------------------

_LEASES = Lease.__table__  # type: ignore[attr-defined]
#: The first claim's INSERT; RETURNING says whether it inserted (on PostgreSQL through psycopg
#: the rowcount of an INSERT is -1).
_INSERT_IF_NEW = {
    "sqlite": sqlite.insert(_LEASES)
    .on_conflict_do_nothing(index_elements=["name"])
    .returning(_LEASES.c.name),
    "postgresql": postgresql.insert(_LEASES)
    .on_conflict_do_nothing(index_elements=["name"])
    .returning(_LEASES.c.name),
}


def claim_lease(
    session: Session, *, name: str, owner: str, now: datetime, until: datetime
) -> bool:
    """Take the lease ``name`` until ``until`` if nobody holds it at ``now``; commits.

    The first claim inserts the row; later claims update it only where the lease ran out, in
    one statement, so of several processes claiming at once exactly one gets it.
    """
    row = {"name": name, "owner": owner, "until": until}
    insert = _INSERT_IF_NEW.get(session.get_bind().dialect.name)
    connection = session.connection()
    if insert is not None:
        claimed = connection.execute(insert, row).first() is not None
    else:  # no INSERT that skips a present row: look first
        claimed = session.exec(select(Lease.name).where(Lease.name == name)).first() is None
        if claimed:
            connection.execute(_LEASES.insert(), row)
    if not claimed:
        result = connection.execute(
            sa.update(_LEASES)
            .where(_LEASES.c.name == name, _LEASES.c.until <= now)
            .values(owner=owner, until=until)
        )
        claimed = result.rowcount == 1
    session.commit()
    return claimed
