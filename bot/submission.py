"""The submission worker: sends the outbox to Coachview, exactly once per enrollment.

Started with the Application, it also sends what was pending before a restart. For each due row
(claimed with a lease, see ``store/outbox.py``):

1. If an earlier attempt may have reached Coachview (``maybe_sent``: sent, no clear answer), it
   first looks the webaanvraag up by the bot's reference (``referentieNrKlant``); found means
   submitted, and nothing is posted again.
2. It records the attempt, then POSTs the payload.
3. Success: the row keeps Coachview's id and number; the enrollee's confirmation and the staff
   notification are queued in the same transaction (``store/notifications.py``).
4. Retryable failure (unreachable, timeout, 5xx, 429): back-off with jitter, doubling from
   :attr:`SubmissionWorker.base_delay` up to :attr:`SubmissionWorker.max_delay`, or until
   Coachview's ``X-Rate-Limit-Reset``; a row waits as long as it takes, it is never dropped.
   The enrollee hears once that the enrollment is saved and will be sent.
5. Rejection (400/403/404/422): no retry; the row keeps the payload and Coachview's answer,
   staff are alerted with the reason, the enrollee is told that staff will contact them.

When rows have been failing for longer than ``SUBMISSION_ALERT_AFTER``, staff are told that
submissions are stuck, and told again when they flow again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
from datetime import datetime, timedelta
from typing import Any, Final

from bot.coachview.models import CreatedWebaanvraag
from bot.errors import CoachviewError, CoachviewRateLimited
from bot.i18n import LANGUAGES, Language, translator
from bot.services import Services
from bot.store import notifications, outbox
from bot.store.models import OutboxEntry
from conversations.engine import esc

__all__ = ["SubmissionWorker", "new_reference"]

logger = logging.getLogger(__name__)

REFERENCE_PREFIX: Final = "TG-"


def new_reference() -> str:
    """A reference unique to one enrollment, carried in ``referentieNrKlant``."""
    return REFERENCE_PREFIX + secrets.token_hex(8).upper()


class SubmissionWorker:
    """Sends due outbox rows; one per process, several processes may share the database."""

    base_delay: timedelta = timedelta(seconds=5)
    max_delay: timedelta = timedelta(minutes=30)
    lease: timedelta = timedelta(seconds=60)
    idle_poll: float = 30.0

    def __init__(self, services: Services, *, owner: str | None = None) -> None:
        self.services = services
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._incident: datetime | None = None  # since when submissions are stuck (alerted)

    # The loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Send due rows until cancelled."""
        logger.info("submission worker %s started", self.owner)
        while True:
            try:
                sent_any = await self.run_once()
            except Exception:
                logger.exception("submission worker round failed; trying again")
                sent_any = False
            if sent_any:
                continue
            await self._sleep_until_due()

    async def run_once(self) -> bool:
        """Claim and process the rows due now; ``True`` if there were any."""
        services = self.services
        now = services.clock.now()
        with services.session() as session:
            due = outbox.claim_due(session, owner=self.owner, now=now, lease=self.lease)
        if due:
            await asyncio.gather(*(self.process(entry) for entry in due))
        await self._check_stuck()
        return bool(due)

    async def _sleep_until_due(self) -> None:
        services = self.services
        with services.session() as session:
            due_at = outbox.next_due(session)
        timeout = self.idle_poll
        if due_at is not None:
            timeout = min(timeout, max(0.0, (due_at - services.clock.now()).total_seconds()))
        event = services.submissions_due
        event.clear()
        if timeout <= 0:
            await asyncio.sleep(0)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    # One row --------------------------------------------------------------------------------

    async def process(self, entry: OutboxEntry) -> None:
        """Bring one claimed row to Coachview, or record why not yet."""
        client = self.services.coachview
        entry_id = entry.id or 0
        try:
            if entry.maybe_sent:
                found = await client.find_webaanvraag_by_reference(entry.reference)
                if found is not None:
                    logger.info("outbox %s was already in Coachview as %s", entry_id, found.nummer)
                    created = CreatedWebaanvraag(id=found.id, nummer=found.nummer)
                    self._succeeded(entry, created)
                    return
            with self.services.session() as session:
                started = outbox.start_attempt(
                    session,
                    entry_id=entry_id,
                    owner=self.owner,
                    now=self.services.clock.now(),
                    lease=self.lease,
                )
                session.commit()
            if not started:
                logger.warning("outbox %s: lease lost before sending", entry_id)
                return
            created = await client.create_webaanvraag(entry.payload)
        except CoachviewError as error:
            if error.retryable:
                self._retry_later(entry, error)
            else:
                self._rejected(entry, error)
            return
        self._succeeded(entry, created)

    def _succeeded(self, entry: OutboxEntry, created: CreatedWebaanvraag) -> None:
        now = self.services.clock.now()
        with self.services.session() as session:
            if not outbox.record_submitted(
                session,
                entry_id=entry.id or 0,
                owner=self.owner,
                coachview_id=created.id,
                nummer=created.nummer,
                payment_url=created.betaalprovider_redirect_url,
                now=now,
            ):
                logger.warning("outbox %s: lease lost; the new owner records it", entry.id)
                session.rollback()
                return
            self._queue_confirmation(session, entry, created, now)
            self._queue_staff_notice(session, entry, created, now)
            session.commit()
        logger.info("outbox %s submitted as webaanvraag %s", entry.id, created.nummer)
        self.services.wake_notifications()

    def _retry_later(self, entry: OutboxEntry, error: CoachviewError) -> None:
        now = self.services.clock.now()
        attempts = entry.attempts + 1
        delay = min(self.max_delay, self.base_delay * (2 ** min(attempts - 1, 16)))
        delay = delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography
        retry_at = now + delay
        if isinstance(error, CoachviewRateLimited) and error.reset_at is not None:
            retry_at = max(retry_at, error.reset_at)
        logger.warning(
            "outbox %s: Coachview failed (%s), retrying at %s",
            entry.id,
            type(error).__name__,
            retry_at.isoformat(timespec="seconds"),
        )
        with self.services.session() as session:
            outbox.record_failure(
                session,
                entry_id=entry.id or 0,
                owner=self.owner,
                error=f"{type(error).__name__}: {error}",
                maybe_sent=error.maybe_processed or entry.maybe_sent,
                retry_at=retry_at,
                now=now,
            )
            self._queue_delayed_notice(session, entry, now)
            session.commit()
        self.services.wake_notifications()

    def _rejected(self, entry: OutboxEntry, error: CoachviewError) -> None:
        now = self.services.clock.now()
        logger.error(
            "outbox %s: Coachview refused the webaanvraag (%s %s)",
            entry.id,
            error.status,
            type(error).__name__,
        )
        with self.services.session() as session:
            outbox.record_rejection(
                session,
                entry_id=entry.id or 0,
                owner=self.owner,
                status=error.status,
                body=error.body,
                error=f"{type(error).__name__}: {error}",
                now=now,
            )
            self._queue_rejection_notices(session, entry, error, now)
            session.commit()
        self.services.wake_notifications()

    # Messages -------------------------------------------------------------------------------

    def _language(self, entry: OutboxEntry) -> Language:
        return entry.language if entry.language in LANGUAGES else "nl"

    def _queue_confirmation(
        self, session: Any, entry: OutboxEntry, created: CreatedWebaanvraag, now: datetime
    ) -> None:
        t = translator(self._language(entry))
        text = t._(
            "✅ Your enrollment has been received. Its number is <b>{number}</b>. "
            "The training provider will contact you about the next steps."
        ).format(number=esc(created.nummer))
        markup = None
        if created.betaalprovider_redirect_url:
            text += "\n\n" + t._("Please complete the payment with the button below.")
            markup = {
                "inline_keyboard": [
                    [{"text": t._("💳 Pay now"), "url": created.betaalprovider_redirect_url}]
                ]
            }
        notifications.enqueue(
            session,
            key=f"confirm:{entry.id}",
            chat_id=entry.chat_id,
            text=text,
            reply_markup=markup,
            now=now,
        )

    def _queue_delayed_notice(self, session: Any, entry: OutboxEntry, now: datetime) -> None:
        t = translator(self._language(entry))
        text = t._(
            "Your enrollment is saved. The training provider's system cannot be reached right "
            "now, so I will send it automatically as soon as it can. You do not need to do "
            "anything; you will get the confirmation here."
        )
        notifications.enqueue(
            session, key=f"delayed:{entry.id}", chat_id=entry.chat_id, text=text, now=now
        )

    def _queue_rejection_notices(
        self, session: Any, entry: OutboxEntry, error: CoachviewError, now: datetime
    ) -> None:
        t = translator(self._language(entry))
        text = t._(
            "Your enrollment is saved, but the training provider's system did not accept it "
            "automatically. A staff member will look at it and contact you. You do not need to "
            "enroll again."
        )
        notifications.enqueue(
            session, key=f"rejected:{entry.id}", chat_id=entry.chat_id, text=text, now=now
        )
        staff_chat = self.services.settings.staff_chat_id
        if staff_chat is None:
            return
        st = translator(self.services.settings.default_language)
        reason = (error.body or str(error))[:1500]
        staff_text = st._(
            "⚠️ Coachview refused an enrollment (outbox {id}, HTTP {status}). It is kept; fix the "
            "cause and resend it with <code>enrollbot outbox resend {id}</code>.\n\n"
            "{summary}\n\nCoachview said:\n<pre>{reason}</pre>"
        ).format(
            id=entry.id,
            status=error.status or "-",
            summary=staff_summary(st, entry.summary),
            reason=esc(reason),
        )
        notifications.enqueue(
            session, key=f"staff-rejected:{entry.id}", chat_id=staff_chat, text=staff_text, now=now
        )

    def _queue_staff_notice(
        self, session: Any, entry: OutboxEntry, created: CreatedWebaanvraag, now: datetime
    ) -> None:
        staff_chat = self.services.settings.staff_chat_id
        if staff_chat is None:
            return
        st = translator(self.services.settings.default_language)
        text = st._("🆕 New enrollment <b>{number}</b>").format(number=esc(created.nummer))
        text += "\n" + staff_summary(st, entry.summary)
        # The staff lookup's button (bot/staff.py): by id, or by number when Coachview
        # answered without the id.
        button = {"text": st._("🔎 Open"), "callback_data": f"s:o:{created.id or created.nummer}"}
        markup = {"inline_keyboard": [[button]]}
        notifications.enqueue(
            session,
            key=f"staff:{entry.id}",
            chat_id=staff_chat,
            text=text,
            reply_markup=markup,
            now=now,
        )

    async def _check_stuck(self) -> None:
        """Tell staff when submissions have been failing too long, and when they flow again."""
        settings = self.services.settings
        if settings.staff_chat_id is None:
            return
        now = self.services.clock.now()
        with self.services.session() as session:
            count, since = outbox.stuck_since(session)
            stuck = since is not None and now - since >= settings.submission_alert_after
            if stuck == (self._incident is not None):
                return
            st = translator(settings.default_language)
            if stuck and since is not None:
                text = st._(
                    "⚠️ Enrollments are not reaching Coachview: {count} waiting, the oldest "
                    "since {since}. They are kept and will be sent when Coachview answers again."
                ).format(count=count, since=esc(st.datetime(since, "d MMM HH:mm")))
                key = f"stuck:{since.isoformat()}"
                self._incident = since
            else:
                text = st._("✅ Enrollments reach Coachview again.")
                key = f"flowing:{self._incident.isoformat() if self._incident else now}"
                self._incident = None
            notifications.enqueue(
                session, key=key, chat_id=settings.staff_chat_id, text=text, now=now
            )
            session.commit()
        self.services.wake_notifications()


def staff_summary(t: Any, summary: dict[str, Any]) -> str:
    """The lines staff read about an enrollment: course, contact, company, participants."""
    lines = []
    if summary.get("course"):
        lines.append(t._("Course: {course}").format(course=esc(summary["course"])))
    if summary.get("contact"):
        lines.append(t._("Contact: {name}").format(name=esc(summary["contact"])))
    if summary.get("company"):
        lines.append(t._("Company: {company}").format(company=esc(summary["company"])))
    count = int(summary.get("participants", 0))
    lines.append(
        t.ngettext("{count} participant", "{count} participants", count).format(count=count)
    )
    return "\n".join(lines)
