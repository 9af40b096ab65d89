"""The tables. Each is read and written only through the keyword-only functions of its module
(``people.py``, ``drafts.py``, ``outbox.py``, ``notifications.py``), which take the session;
``privacy.py`` reads and erases one person's rows across them, applies the retention rules and
holds the ``leases``.

Times are aware datetimes; SQLModel stores them in UTC and returns them in UTC.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

__all__ = [
    "NAMING_CONVENTION",
    "ChatClaim",
    "CourseReminder",
    "CourseReminderStatus",
    "Draft",
    "DraftStatus",
    "InboxUpdate",
    "Lease",
    "Notification",
    "NotificationStatus",
    "OutboxEntry",
    "OutboxStatus",
    "Person",
]

#: How constraints and indexes are named, so that a migration can name the one it changes on
#: every database (set before the tables below are defined: names are given as they are made).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION


class InboxUpdate(SQLModel, table=True):
    """An update fetched from Telegram and not yet fully handled.

    Written before Telegram is told the update arrived (the next getUpdates confirms it) and
    deleted once it is handled, so an update is never lost between the two: after a crash the
    bot handles what is left here first. See ``bot/updates.py``.
    """

    __tablename__ = "inbox"
    __table_args__ = (sa.Index("ix_inbox_chat_update", "chat_id", "update_id"),)

    update_id: int = Field(
        sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    received_at: datetime
    #: The chat (else the user) the update belongs to: a chat's updates are handled in order.
    chat_id: int | None = Field(default=None, sa_type=sa.BigInteger)


class ChatClaim(SQLModel, table=True):
    """A chat whose updates one process is handling now, until ``until`` (renewed as it goes).

    With several processes behind one webhook, the next update of a chat may reach another
    process while the previous one is still being handled; the process holding the claim
    handles the chat's updates from the inbox one after the other, in order, and the others
    leave them to it. A process that dies leaves a claim that runs out. See
    ``bot/store/chats.py``.
    """

    __tablename__ = "chat_claims"

    chat_id: int = Field(
        sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    owner: str = Field(max_length=64)
    until: datetime


class Person(SQLModel, table=True):
    """A Telegram user the bot has met: what they chose to be spoken to in."""

    __tablename__ = "people"

    user_id: int = Field(
        sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    language: str | None = Field(default=None, max_length=8)
    updated_at: datetime
    #: Turned off the reminder the day before a course (bot/workers/course_reminders.py).
    reminders_off: bool | None = None


class DraftStatus(StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"
    CANCELLED = "cancelled"


#: The condition of an open draft, written out as the partial index states it. For
#: ``status = ?`` SQLite can use the partial index only by planning the statement again for
#: each value bound (a chat's open draft is read on every update: 7.5 instead of 2 µs with
#: 20,000 drafts); stated literally, the statement is planned with the index once.
OPEN_DRAFT = sa.text("status = 'open'")


class Draft(SQLModel, table=True):
    """One enrollment being filled in: the whole conversation state (design decision 1).

    ``step`` is the question the person is answering; ``data`` the answers so far (an
    :class:`~bot.enrollment.Enrollment` as JSON); ``history`` the steps behind it, for Back;
    ``flow`` the conversation's own bookkeeping (where an edit from the review returns to, the
    course type being browsed, the page). ``version`` grows with every saved answer: a save
    that finds another version lost a race (:class:`~bot.errors.DraftConflict`), and buttons
    carry it so a press on an outdated question changes nothing.
    ``last_update_id`` makes a Telegram update that arrives twice count once; ``language`` is
    the one the conversation was last held in (for the idle reminder), ``reminded_at`` when
    that reminder was queued (cleared by every saved answer).
    At most one draft per chat is open.
    """

    __tablename__ = "drafts"
    __table_args__ = (
        sa.Index(
            "ix_drafts_one_open_per_chat",
            "chat_id",
            unique=True,
            sqlite_where=OPEN_DRAFT,
            postgresql_where=OPEN_DRAFT,
        ),
        sa.Index("ix_drafts_status_updated", "status", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=sa.BigInteger)
    user_id: int = Field(sa_type=sa.BigInteger)
    status: DraftStatus = Field(default=DraftStatus.OPEN, sa_type=sa.String(16))
    step: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    history: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    flow: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = 1
    last_update_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    language: str | None = Field(default=None, max_length=8)
    created_at: datetime
    updated_at: datetime
    reminded_at: datetime | None = None


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    REJECTED = "rejected"


class OutboxEntry(SQLModel, table=True):
    """A confirmed enrollment on its way to Coachview (design decision 3).

    Written in the same transaction that closes the draft; one per draft, so a double "submit"
    makes one row. ``reference`` travels in the webaanvraag and lets the worker find it in
    Coachview after an ambiguous failure (``maybe_sent``). A worker claims a row by writing its
    ``lease_owner`` and ``lease_until``; a crashed worker's lease runs out and another takes over.
    """

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_status_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(unique=True)
    reference: str = Field(unique=True, max_length=64)
    chat_id: int = Field(sa_type=sa.BigInteger, index=True)
    user_id: int = Field(sa_type=sa.BigInteger)
    language: str = Field(max_length=8)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=sa.String(16))
    attempts: int = 0
    maybe_sent: bool = False
    next_attempt_at: datetime
    first_failure_at: datetime | None = None
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    last_error: str | None = None
    response_status: int | None = None
    response_body: str | None = None
    coachview_id: str | None = Field(default=None, max_length=64)
    coachview_nummer: str | None = Field(default=None, max_length=64)
    payment_url: str | None = None
    created_at: datetime
    submitted_at: datetime | None = None
    # Privacy (bot/store/privacy.py): when the person asked /forget while the row was still on
    # its way (it is erased once it arrived), and when its personal fields were removed.
    erase_requested_at: datetime | None = None
    erased_at: datetime | None = None


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Notification(SQLModel, table=True):
    """A message the bot owes someone outside a conversation's reply: confirmations, staff
    notices, reminders. Queued once per ``key``; a sender claims it (``claimed_by`` until
    ``claimed_until``) before sending, so two processes never send the same one.
    """

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_status_due", "status", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=128)
    chat_id: int = Field(sa_type=sa.BigInteger)
    text: str
    reply_markup: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    status: NotificationStatus = Field(default=NotificationStatus.PENDING, sa_type=sa.String(16))
    attempts: int = 0
    not_before: datetime
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    #: A file sent with ``text`` as its caption (the calendar of an enrollment), if any.
    document_name: str | None = Field(default=None, max_length=128)
    document: bytes | None = Field(default=None, sa_type=sa.LargeBinary)


class CourseReminderStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"  # the reminder is in the notifications table
    SKIPPED = "skipped"  # cancelled run, reminders turned off, or too late


class CourseReminder(SQLModel, table=True):
    """The reminder the day before a run starts, owed to the contact person of an enrollment.

    Planned when Coachview took the enrollment (one per outbox row and run); due at
    ``remind_at`` (the day before, at a sensible local hour). A process takes it by moving
    ``status`` from pending in one conditional update, in the transaction that queues the
    message, so several processes send it once. ``starts_at`` follows the catalogue when the
    run moves (the person then gets a new calendar file); ``reason`` says why one was skipped.
    """

    __tablename__ = "course_reminders"
    __table_args__ = (
        sa.UniqueConstraint("outbox_id", "run_id"),
        sa.Index("ix_course_reminders_status_due", "status", "remind_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int
    run_id: str = Field(max_length=64)
    chat_id: int = Field(sa_type=sa.BigInteger)
    user_id: int = Field(sa_type=sa.BigInteger)
    language: str = Field(max_length=8)
    course: str
    starts_at: datetime
    remind_at: datetime
    status: CourseReminderStatus = Field(
        default=CourseReminderStatus.PENDING, sa_type=sa.String(16)
    )
    reason: str | None = Field(default=None, max_length=32)
    created_at: datetime
    #: The webaanvraag's number (the calendar event's UID) and how often the run moved since
    #: (the SEQUENCE of the calendar file sent with the news).
    nummer: str = Field(default="", max_length=64)
    revision: int = 0


class Lease(SQLModel, table=True):
    """A job that must run in one process at a time, whatever the number of processes: the one
    that wrote its ``owner`` and ``until`` (when the lease had run out) runs it until ``until``.
    See ``bot/store/privacy.py``."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=64)
    owner: str = Field(max_length=64)
    until: datetime
