"""Retention: personal data is kept no longer than needed (the rules are in
``bot/store/privacy.py``).

One background job, started with the Application in every process, runs a round every
:attr:`Retention.interval` seconds; each round is done by one process only: the one that takes
the round's lease in the database (the ``leases`` table), so several processes sharing a
database do each round once. A round

- removes the personal fields of enrollments that reached Coachview more than
  ``SENT_RETENTION`` ago (their reference, Coachview number, course and dates stay), with their
  drafts;
- empties the texts of notifications that were sent (or given up);
- deletes updates left in the inbox for longer than :attr:`Retention.update_limit` (a handled
  update leaves it within a second);
- finishes the erasures asked for with /forget while an enrollment was on its way: once it
  arrived and its confirmation went out, it is erased and staff are told its number.

Abandoned drafts are deleted by :class:`bot.workers.reminders.DraftKeeper` (``DRAFT_RETENTION``).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlmodel import Session

from bot.i18n import esc, translator
from bot.services import Services
from bot.store import notifications, privacy
from bot.store.privacy import Erasure
from bot.workers.periodic import every

__all__ = ["LEASE", "Retention", "RetentionRound", "queue_erasure_notice"]

logger = logging.getLogger(__name__)

LEASE: Final = "retention"


@dataclass(frozen=True)
class RetentionRound:
    """What one round did (counts only: no personal data)."""

    sent_cleared: int
    texts_cleared: int
    updates_dropped: int
    erasures_finished: int


class Retention:
    """Applies the retention rules, one round per :attr:`interval` across all processes."""

    interval: float = 60.0
    #: How long an update may wait in the inbox before it is dropped unanswered.
    update_limit: timedelta = timedelta(days=1)

    def __init__(self, services: Services, *, owner: str | None = None) -> None:
        self.services = services
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"

    async def run(self) -> None:
        """A round every :attr:`interval` seconds (when this process wins it), until cancelled."""
        await every(self.interval, self.run_once, "retention round")

    def run_once(self) -> RetentionRound | None:
        """One round, if this process takes its lease; ``None`` when another process has it."""
        services = self.services
        now = services.clock.now()
        with services.session() as session:
            until = now + timedelta(seconds=self.interval)
            if not privacy.claim_lease(
                session, name=LEASE, owner=self.owner, now=now, until=until
            ):
                return None
        with services.session() as session:
            sent = privacy.remove_sent_personal_data(
                session, sent_before=now - services.settings.sent_retention, now=now
            )
            texts = privacy.remove_sent_texts(session)
            updates = privacy.forget_old_updates(session, received_before=now - self.update_limit)
            finished = privacy.finish_erasures(session, now=now)
            for erasure in finished:
                queue_erasure_notice(session, services, erasure, now)
            session.commit()
        done = RetentionRound(sent, texts, updates, len(finished))
        if sent or updates or finished:
            logger.info(
                "retention: personal data removed from %s sent enrollments, %s old updates "
                "dropped, %s erasures finished",
                sent,
                updates,
                len(finished),
            )
        if finished:
            services.wake_notifications()
        return done


def queue_erasure_notice(
    session: Session, services: Services, erasure: Erasure, now: datetime
) -> None:
    """Tell staff that a person's data was erased: the Coachview numbers (which the provider
    keeps) and what happened to enrollments on their way; nothing about the person."""
    settings = services.settings
    if settings.staff_chat_id is None:
        return
    t = translator(settings.default_language)
    lines = [t._("🗑 Someone had the bot erase everything it kept about them.")]
    if erasure.numbers:
        numbers = ", ".join(f"<b>{esc(number)}</b>" for number in erasure.numbers)
        lines.append(
            t.ngettext(
                "Their enrollment {numbers} is in Coachview, where the provider keeps it: "
                "change or erase it there if they ask you to.",
                "Their enrollments {numbers} are in Coachview, where the provider keeps them: "
                "change or erase them there if they ask you to.",
                len(erasure.numbers),
            ).format(numbers=numbers)
        )
    if erasure.refused:
        lines.append(
            t.ngettext(
                "{count} enrollment that Coachview had refused was erased with it; it never "
                "reached Coachview.",
                "{count} enrollments that Coachview had refused were erased with it; they never "
                "reached Coachview.",
                erasure.refused,
            ).format(count=erasure.refused)
        )
    if erasure.cancelled:
        lines.append(
            t.ngettext(
                "{count} enrollment that had not reached Coachview yet was canceled.",
                "{count} enrollments that had not reached Coachview yet were canceled.",
                erasure.cancelled,
            ).format(count=erasure.cancelled)
        )
    if erasure.waiting:
        lines.append(
            t.ngettext(
                "{count} enrollment is still on its way to Coachview; it is erased here once "
                "it has arrived, and you will get its number then.",
                "{count} enrollments are still on their way to Coachview; they are erased here "
                "once they have arrived, and you will get their numbers then.",
                erasure.waiting,
            ).format(count=erasure.waiting)
        )
    if len(lines) == 1:
        lines.append(t._("None of their enrollments is in Coachview."))
    notifications.enqueue(
        session,
        key=f"erased:{secrets.token_hex(8)}",
        chat_id=settings.staff_chat_id,
        text="\n".join(lines),
        now=now,
    )
