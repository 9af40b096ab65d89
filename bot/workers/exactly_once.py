"""The exactly-once protocol: one claimed outbox row brought to Coachview, or why not yet.

:class:`Submitter` takes a row the worker (:mod:`bot.workers.submission`) claimed with a lease
(``store/outbox.py``):

1. If an earlier attempt may have reached Coachview (``maybe_sent``: a POST went out and no
   clear answer came back, or the process died while it was out), it first looks the webaanvraag
   up by the bot's reference, carried where ``COACHVIEW_REFERENCE_FIELD`` says (see
   :mod:`bot.coachview.webaanvraag`), among the webaanvragen received since the enrollment was
   confirmed. Found means submitted: nothing is posted again. A look-up that fails, for
   whatever reason, is retried later; the row is never posted blindly.
2. It records the attempt (``maybe_sent``, the lease renewed), then POSTs the payload. The POST
   is given up after half the lease, so it is over, answered or not, before another worker may
   take the row over; after such an ambiguous end the next attempt also waits for the lease to
   run out, so in every case the look-up comes at least a lease after the POST went out.
3. Success: the row keeps Coachview's id and number; the enrollee's confirmation and the staff
   notice are queued in the same transaction (``store/notifications.py``), once each.
4. Retryable failure (unreachable, timeout, 5xx, 429, and refused credentials, which are a
   configuration problem rather than a problem of the enrollment): back-off with jitter, each
   wait about as long as the row has been failing so far (so the waits roughly double), from
   ``SUBMISSION_RETRY_BASE`` up to ``SUBMISSION_RETRY_MAX``, and never before Coachview's
   ``X-Rate-Limit-Reset``. A row waits as long as it takes; it is never dropped. The enrollee
   hears once that the enrollment is saved and will be sent.
5. Rejection (400/403/404/422 to the POST): no retry; the row keeps the payload and Coachview's
   answer, staff are alerted with the reason (again after each resend that is refused), the
   enrollee is told once that staff will contact them. ``enrollbot outbox resend ID`` queues it
   again after the cause is fixed.

The texts it queues are in :mod:`bot.workers.receipts`.

What remains: a webaanvraag arrives twice only if Coachview stores a POST more than a lease
(``SUBMISSION_LEASE``, 2 minutes by default) after it was sent, having given no answer the bot
could read, so that the look-up before the next attempt says "not there". A longer lease
narrows that window further, at the price of a slower take-over after a crash and a later
confirmation after an ambiguous failure. Coachview offers no idempotency key that would close
it. (The other way round cannot happen: a webaanvraag the look-up finds is never posted again.)
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timedelta

from bot.coachview.models import CreatedWebaanvraag, Opleiding
from bot.coachview.webaanvraag import run_ids
from bot.errors import (
    CoachviewError,
    CoachviewRateLimited,
    CoachviewUnavailable,
)
from bot.services import Services
from bot.store import outbox
from bot.store.models import OutboxEntry
from bot.workers import receipts
from bot.workers.course_reminders import plan_reminder, queue_calendar

__all__ = ["Submitter", "is_rejection"]

logger = logging.getLogger(__name__)


def is_rejection(error: CoachviewError) -> bool:
    """Coachview refused this webaanvraag itself: sending the same body again cannot help.

    Everything else is retried: unreachable, 5xx, 429, refused credentials (401, a problem of
    the configuration that staff fix once for all rows), and answers that cannot be read.
    """
    return error.rejection  # one rule for all: bot/errors.py


class Submitter:
    """Brings claimed rows to Coachview for one owner (the worker of one process)."""

    def __init__(
        self,
        services: Services,
        *,
        owner: str,
        lease: timedelta,
        retry_base: timedelta,
        retry_max: timedelta,
    ) -> None:
        self.services = services
        self.owner = owner
        self.lease = lease
        self.retry_base = retry_base
        self.retry_max = retry_max

    @property
    def call_limit(self) -> float:
        """Seconds one call to Coachview may take before it is given up: half the lease."""
        return self.lease.total_seconds() / 2

    async def process(self, entry: OutboxEntry) -> None:
        """Bring one claimed row to Coachview, or record why not yet."""
        posted = False
        try:
            if entry.maybe_sent and await self._found_already(entry):
                return
            started_at = self.services.clock.now()
            if not self._start_attempt(entry, started_at):
                return
            posted = True
            created = await self._post(entry, started_at)
            if created is not None:
                self._succeeded(entry, created, await self._run_of(entry))
        except asyncio.CancelledError:
            if not posted:
                self._release(entry)
            # A POST in flight may still arrive: the row keeps its lease and ``maybe_sent``,
            # so whoever takes it over after the lease looks it up first.
            raise

    async def _found_already(self, entry: OutboxEntry) -> bool:
        """Whether the row is settled by a look-up: found (recorded) or the look-up failed
        (retry later, still ``maybe_sent``). ``False``: not in Coachview, send it."""
        client = self.services.coachview
        try:
            async with asyncio.timeout(self.call_limit):
                found = await client.find_webaanvraag_by_reference(
                    entry.reference, since=entry.created_at
                )
        except TimeoutError:
            self._retry_later(
                entry, CoachviewUnavailable("the look-up by reference took too long")
            )
            return True
        except CoachviewError as error:
            self._retry_later(entry, error)
            return True
        if found is None:
            logger.info("outbox %s: not in Coachview; sending it", entry.id)
            return False
        logger.info("outbox %s was already in Coachview as %s", entry.id, found.nummer)
        created = CreatedWebaanvraag(id=found.id, nummer=found.nummer)
        self._succeeded(entry, created, await self._run_of(entry))
        return True

    def _start_attempt(self, entry: OutboxEntry, now: datetime) -> bool:
        with self.services.session() as session:
            started = outbox.start_attempt(
                session, entry_id=entry.id or 0, owner=self.owner, now=now, lease=self.lease
            )
            session.commit()
        if not started:
            logger.warning("outbox %s: lease lost before sending", entry.id)
        return started

    async def _post(self, entry: OutboxEntry, started_at: datetime) -> CreatedWebaanvraag | None:
        """POST the payload; ``None`` when it failed (and that is recorded).

        After an ambiguous failure the next attempt (which starts with the look-up) waits until
        the lease of this one has run out, as a worker taking over after a crash would: a
        request Coachview is still processing gets that long to land before it is looked for.
        """
        settle_until = started_at + self.lease
        try:
            async with asyncio.timeout(self.call_limit):
                return await self.services.coachview.create_webaanvraag(entry.payload)
        except TimeoutError:
            error = CoachviewUnavailable(
                f"POST Webaanvragen got no answer within {self.call_limit:g} s; "
                "it may have been processed",
                maybe_processed=True,
            )
            self._retry_later(entry, error, not_before=settle_until)
        except CoachviewError as error:
            if is_rejection(error):
                self._rejected(entry, error)
            else:
                ambiguous = settle_until if error.maybe_processed else None
                self._retry_later(entry, error, not_before=ambiguous)
        return None

    def _release(self, entry: OutboxEntry) -> None:
        with self.services.session() as session:
            outbox.release(session, entry_id=entry.id or 0, owner=self.owner)
            session.commit()

    async def _run_of(self, entry: OutboxEntry) -> Opleiding | None:
        """The run the enrollment is for, for its calendar and reminder (from the cached
        catalogue); ``None`` for "any date", or when it cannot be read (logged: the
        confirmation then goes without them)."""
        ids = run_ids(entry.payload)
        if not ids:
            return None
        try:
            async with asyncio.timeout(self.call_limit):
                return await self.services.coachview.get_opleiding(ids[0])
        except (TimeoutError, CoachviewError) as error:
            logger.warning(
                "outbox %s: the course date could not be read (%s); no calendar or reminder",
                entry.id,
                type(error).__name__,
            )
            return None

    def _succeeded(
        self, entry: OutboxEntry, created: CreatedWebaanvraag, run: Opleiding | None = None
    ) -> None:
        settings, now = self.services.settings, self.services.clock.now()
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
            reminders = False
            if run is not None:
                # The calendar first: the confirmation, with its buttons, stays the newest.
                queue_calendar(
                    session,
                    entry=entry,
                    nummer=created.nummer,
                    run=run,
                    now=now,
                    default_language=settings.default_language,
                )
                reminders = plan_reminder(
                    session, settings, entry=entry, nummer=created.nummer, run=run, now=now
                )
            receipts.queue_confirmation(
                session, settings, entry, created, now, reminders=reminders
            )
            receipts.queue_staff_notice(session, settings, entry, created, now)
            session.commit()
        logger.info("outbox %s submitted as webaanvraag %s", entry.id, created.nummer)
        self.services.wake_notifications()

    def retry_at(
        self,
        entry: OutboxEntry,
        error: CoachviewError,
        now: datetime,
        *,
        not_before: datetime | None = None,
    ) -> datetime:
        """When to try a failed row again: about as long from now as it has been failing
        (at least the base, at most the maximum), times a random 0.5-1; never before the
        rate limit resets, nor before ``not_before``."""
        failing_for = now - entry.first_failure_at if entry.first_failure_at else timedelta(0)
        delay = min(self.retry_max, max(self.retry_base, failing_for))
        delay = delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography
        retry_at = now + delay
        if isinstance(error, CoachviewRateLimited) and error.reset_at is not None:
            retry_at = max(retry_at, error.reset_at)
        if not_before is not None:
            retry_at = max(retry_at, not_before)
        return retry_at

    def _retry_later(
        self, entry: OutboxEntry, error: CoachviewError, *, not_before: datetime | None = None
    ) -> None:
        now = self.services.clock.now()
        retry_at = self.retry_at(entry, error, now, not_before=not_before)
        logger.warning(
            "outbox %s: Coachview failed (%s %s), retrying at %s",
            entry.id,
            type(error).__name__,
            error.status or "-",
            retry_at.isoformat(timespec="seconds"),
        )
        with self.services.session() as session:
            # Once a POST may have gone out, the row stays "maybe sent" until it is found or
            # refused: a later definite failure says nothing about the earlier request.
            if not outbox.record_failure(
                session,
                entry_id=entry.id or 0,
                owner=self.owner,
                error=f"{type(error).__name__}: {error}",
                maybe_sent=entry.maybe_sent or error.maybe_processed,
                retry_at=retry_at,
                now=now,
            ):
                logger.warning("outbox %s: lease lost; the new owner retries it", entry.id)
                session.rollback()
                return
            receipts.queue_delayed_notice(session, self.services.settings, entry, now)
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
            if not outbox.record_rejection(
                session,
                entry_id=entry.id or 0,
                owner=self.owner,
                status=error.status,
                body=error.body,
                error=f"{type(error).__name__}: {error}",
                now=now,
            ):
                logger.warning("outbox %s: lease lost; the new owner records it", entry.id)
                session.rollback()
                return
            receipts.queue_rejection_notices(session, self.services.settings, entry, error, now)
            session.commit()
        self.services.wake_notifications()
