"""``enrollbot outbox``: what waits for Coachview, what is stuck, what was refused."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import SystemClock
from bot.config import Settings
from bot.store import migrations, outbox
from bot.store.db import open_engine
from bot.store.models import OutboxEntry, OutboxStatus

__all__ = ["list_outbox", "resend_outbox"]


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _state(entry: OutboxEntry, now: datetime, alert_after: timedelta) -> str:
    """``rejected``, ``stuck`` (failing longer than SUBMISSION_ALERT_AFTER), or ``pending``."""
    if entry.status == OutboxStatus.REJECTED:
        return "rejected"
    if entry.first_failure_at is not None and now - entry.first_failure_at >= alert_after:
        return "stuck"
    return "pending"


def _row(entry: OutboxEntry, now: datetime, alert_after: timedelta) -> str:
    state = _state(entry, now, alert_after)
    if state == "rejected":
        how = f"rejected (HTTP {entry.response_status or '-'})"
    elif entry.lease_until is not None and entry.lease_until > now:
        how = f"{state}, being sent now (until {_when(entry.lease_until)})"
    elif entry.first_failure_at is not None:
        how = (
            f"{state}, failing since {_when(entry.first_failure_at)}, "
            f"next try {_when(entry.next_attempt_at)}"
        )
    else:
        how = f"{state}, due {_when(entry.next_attempt_at)}"
    course = entry.summary.get("course", "")
    people = entry.summary.get("participants", "?")
    line = (
        f"{entry.id:>6}  {_when(entry.created_at)}  {how}  attempts={entry.attempts}  "
        f"ref={entry.reference}  {course} ({people} people)"
    )
    if entry.maybe_sent and entry.status == OutboxStatus.PENDING:
        line += "\n        may have reached Coachview: it is looked up there before any resend"
    if entry.last_error:
        line += f"\n        last error: {entry.last_error.splitlines()[0][:160]}"
    if entry.status == OutboxStatus.REJECTED and entry.response_body:
        line += f"\n        Coachview said: {entry.response_body[:300]}"
    return line


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[Engine]:
    """The bot's database, at this version's schema, closed again at the end."""
    engine = open_engine(settings.database_url)
    try:
        migrations.prepare(engine, migrate=settings.migrate_on_start)
        yield engine
    finally:
        engine.dispose()


def list_outbox(settings: Settings) -> int:
    """Print pending, stuck and rejected rows; exit code 0."""
    now = SystemClock().now()
    with _database(settings) as engine, Session(engine) as session:
        entries = outbox.list_entries(
            session, statuses=[OutboxStatus.PENDING, OutboxStatus.REJECTED]
        )
    if not entries:
        print("The outbox is empty: every confirmed enrollment reached Coachview.")
        return 0
    alert_after = settings.submission_alert_after
    states = [_state(entry, now, alert_after) for entry in entries]
    counts = ", ".join(
        f"{states.count(name)} {name}"
        for name in ("pending", "stuck", "rejected")
        if name in states
    )
    print(f"{len(entries)} submission(s) not in Coachview yet ({counts}; times in UTC):")
    for entry in entries:
        print(_row(entry, now, alert_after))
    if "rejected" in states:
        print("Resend a rejected one after fixing its cause: enrollbot outbox resend ID")
    return 0


def resend_outbox(settings: Settings, entry_id: int) -> int:
    """Queue a rejected row again; exit code 0 if it was rejected, 1 if not."""
    with _database(settings) as engine, Session(engine) as session:
        changed = outbox.resend(session, entry_id=entry_id, now=SystemClock().now())
        session.commit()
    if not changed:
        print(f"Outbox {entry_id} is not a rejected submission; nothing changed.")
        return 1
    print(
        f"Outbox {entry_id} is queued again; the running bot sends it within "
        f"{settings.submission_poll.total_seconds():g} seconds."
    )
    return 0
