"""The submission worker: sends the outbox to Coachview, exactly once per enrollment.

Started with the Application, it also sends what was pending before a restart. It claims due
rows with a lease (``store/outbox.py``) and brings each to Coachview in its own task, at most
:attr:`SubmissionWorker.concurrency` at a time:

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

When rows have been failing for longer than ``SUBMISSION_ALERT_AFTER``, staff are told that
submissions are stuck (with the last error), and told again when they flow again; the state of
that alert is the notifications table, so restarts and several processes send each alert once.

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
import os
import random
import secrets
import socket
import time
from datetime import datetime, timedelta
from typing import Any, Final

from sqlmodel import Session

from bot.callbacks import open_button_data
from bot.coachview.models import CreatedWebaanvraag, Opleiding
from bot.coachview.webaanvraag import run_ids
from bot.errors import (
    CoachviewError,
    CoachviewRateLimited,
    CoachviewUnavailable,
)
from bot.i18n import LANGUAGES, Language, esc, translator
from bot.services import Services
from bot.store import notifications, outbox
from bot.store.models import OutboxEntry
from bot.workers.course_reminders import plan_reminder, queue_calendar, reminder_button

__all__ = ["SubmissionWorker", "is_rejection", "new_reference", "staff_summary"]

logger = logging.getLogger(__name__)

REFERENCE_PREFIX: Final = "TG-"
STUCK_KEY: Final = "outbox-stuck:"
FLOWING_KEY: Final = "outbox-flowing:"


def new_reference() -> str:
    """A reference unique to one enrollment, carried in the webaanvraag: ``TG-`` and 16
    hexadecimal digits (no ``,`` or ``;``, which would change the meaning of a filter)."""
    return REFERENCE_PREFIX + secrets.token_hex(8).upper()


def is_rejection(error: CoachviewError) -> bool:
    """Coachview refused this webaanvraag itself: sending the same body again cannot help.

    Everything else is retried: unreachable, 5xx, 429, refused credentials (401, a problem of
    the configuration that staff fix once for all rows), and answers that cannot be read.
    """
    return error.rejection  # one rule for all: bot/errors.py


class SubmissionWorker:
    """Sends due outbox rows; one per process, several processes may share the database."""

    concurrency: int = 20
    """Rows in flight at once in this process."""

    def __init__(
        self,
        services: Services,
        *,
        owner: str | None = None,
        lease: timedelta | None = None,
        retry_base: timedelta | None = None,
        retry_max: timedelta | None = None,
        poll: timedelta | None = None,
    ) -> None:
        settings = services.settings
        self.services = services
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.lease = lease or settings.submission_lease
        self.retry_base = retry_base or settings.submission_retry_base
        self.retry_max = retry_max or settings.submission_retry_max
        self.poll = poll or settings.submission_poll
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._stuck_checked_at: float | None = None

    @property
    def stuck_check_interval(self) -> float:
        """Seconds between two looks at whether submissions are stuck (monotonic clock).

        The worker wakes for every confirmed enrollment; a look costs three queries, and the
        answer can only change as fast as the alert threshold allows: a quarter of it, at most
        five seconds, keeps the alert within moments of the threshold.
        """
        return min(5.0, self.services.settings.submission_alert_after.total_seconds() / 4)

    @property
    def call_limit(self) -> float:
        """Seconds one call to Coachview may take before it is given up: half the lease."""
        return self.lease.total_seconds() / 2

    # The loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Send due rows until cancelled; rows still only claimed are given back then."""
        if self.services.settings.submissions_paused:
            logger.warning("SUBMISSIONS_PAUSED: confirmed enrollments stay in the outbox")
            return
        logger.info("submission worker %s started", self.owner)
        wake = self.services.submissions_due
        try:
            while True:
                wake.clear()
                try:
                    self._check_stuck_now_and_then()
                    self._start_due()
                    timeout = self._idle_time()
                except Exception:
                    logger.exception("submission worker round failed; trying again")
                    timeout = self.retry_base.total_seconds()
                await self._wait(timeout)
        finally:
            await self._stop_tasks()

    def _start_due(self) -> None:
        """Claim as many due rows as there is room for, each sent by its own task."""
        room = self.concurrency - len(self._tasks)
        if room <= 0:
            return
        services = self.services
        with services.session() as session:
            due = outbox.claim_due(
                session, owner=self.owner, now=services.clock.now(), lease=self.lease, limit=room
            )
        for entry in due:
            entry_id = entry.id or 0
            task = asyncio.create_task(self._process_logged(entry), name=f"outbox-{entry_id}")
            self._tasks[entry_id] = task
            task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        for key, running in list(self._tasks.items()):
            if running is task:
                del self._tasks[key]

    def _idle_time(self) -> float:
        """Seconds until a row may be claimed, at most the poll interval."""
        poll = self.poll.total_seconds()
        if len(self._tasks) >= self.concurrency:
            return poll  # a task that ends wakes the loop
        services = self.services
        with services.session() as session:
            claimable_at = outbox.next_claimable(session)
        if claimable_at is None:
            return poll
        return min(poll, max(0.0, (claimable_at - services.clock.now()).total_seconds()))

    async def _wait(self, timeout: float) -> None:  # noqa: ASYNC109 - the loop's own pacing
        """Until ``timeout`` passes, a new row is announced, or a row's task ends."""
        if timeout <= 0:
            await asyncio.sleep(0)
            return
        woken = asyncio.ensure_future(self.services.submissions_due.wait())
        try:
            await asyncio.wait(
                {woken, *self._tasks.values()},
                timeout=timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            woken.cancel()

    async def _stop_tasks(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _process_logged(self, entry: OutboxEntry) -> None:
        try:
            await self.process(entry)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The lease runs out and the row is tried again (looked up first if it was sent).
            logger.exception("outbox %s: unexpected failure; retried after its lease", entry.id)

    # One row --------------------------------------------------------------------------------

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
            reminders = False
            if run is not None:
                # The calendar first: the confirmation, with its buttons, stays the newest.
                queue_calendar(session, entry=entry, nummer=created.nummer, run=run, now=now)
                reminders = plan_reminder(
                    session,
                    self.services.settings,
                    entry=entry,
                    nummer=created.nummer,
                    run=run,
                    now=now,
                )
            self._queue_confirmation(session, entry, created, now, reminders=reminders)
            self._queue_staff_notice(session, entry, created, now)
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
            self._queue_rejection_notices(session, entry, error, now)
            session.commit()
        self.services.wake_notifications()

    # Messages -------------------------------------------------------------------------------

    def _language(self, entry: OutboxEntry) -> Language:
        return entry.language if entry.language in LANGUAGES else "nl"

    def _queue_confirmation(
        self,
        session: Session,
        entry: OutboxEntry,
        created: CreatedWebaanvraag,
        now: datetime,
        *,
        reminders: bool = False,
    ) -> None:
        t = translator(self._language(entry))
        text = t._(
            "✅ Your enrollment has been received. Its number is <b>{number}</b>. "
            "The training provider will contact you about the next steps."
        ).format(number=esc(created.nummer))
        rows: list[list[dict[str, str]]] = []
        if created.betaalprovider_redirect_url:
            text += "\n\n" + t._("Please complete the payment with the button below.")
            rows.append([{"text": t._("💳 Pay now"), "url": created.betaalprovider_redirect_url}])
        if reminders:
            text += "\n\n" + t._("I will remind you the day before the course starts.")
            rows.append([reminder_button(t)])
        markup = {"inline_keyboard": rows} if rows else None
        notifications.enqueue(
            session,
            key=f"confirm:{entry.id}",
            chat_id=entry.chat_id,
            text=text,
            reply_markup=markup,
            now=now,
        )

    def _queue_delayed_notice(self, session: Session, entry: OutboxEntry, now: datetime) -> None:
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
        self, session: Session, entry: OutboxEntry, error: CoachviewError, now: datetime
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
        # One alert per refused attempt: a resend that is refused again is reported again.
        notifications.enqueue(
            session,
            key=f"staff-rejected:{entry.id}:{entry.attempts + 1}",
            chat_id=staff_chat,
            text=staff_text,
            now=now,
        )

    def _queue_staff_notice(
        self, session: Session, entry: OutboxEntry, created: CreatedWebaanvraag, now: datetime
    ) -> None:
        staff_chat = self.services.settings.staff_chat_id
        if staff_chat is None:
            return
        st = translator(self.services.settings.default_language)
        text = st._("🆕 New enrollment <b>{number}</b>").format(number=esc(created.nummer))
        text += "\n" + staff_summary(st, entry.summary)
        # The staff lookup's button (bot/staff.py): by id, or by number when Coachview
        # answered without the id.
        data = open_button_data(created.id or created.nummer)
        button = {"text": st._("🔎 Open"), "callback_data": data}
        markup = {"inline_keyboard": [[button]]}
        notifications.enqueue(
            session,
            key=f"staff:{entry.id}",
            chat_id=staff_chat,
            text=text,
            reply_markup=markup,
            now=now,
        )

    def _check_stuck_now_and_then(self) -> None:
        now = time.monotonic()
        last = self._stuck_checked_at
        if last is not None and now - last < self.stuck_check_interval:
            return
        self._stuck_checked_at = now
        self._check_stuck()

    def _check_stuck(self) -> None:
        """Tell staff when submissions have been failing too long, and when they flow again.

        The newest of these alerts in the notifications table says whether staff were told
        that submissions are stuck; its key names the incident, so processes sharing the
        database and restarts send each alert once.
        """
        settings = self.services.settings
        if settings.staff_chat_id is None:
            return
        now = self.services.clock.now()
        with self.services.session() as session:
            summary = outbox.stuck_summary(session)
            since = summary.since
            stuck = since is not None and now - since >= settings.submission_alert_after
            last = notifications.latest_key(session, prefixes=(STUCK_KEY, FLOWING_KEY))
            alerted = last is not None and last.startswith(STUCK_KEY)
            if stuck == alerted:
                return
            st = translator(settings.default_language)
            if stuck and since is not None:
                text = st._(
                    "⚠️ Enrollments are not reaching Coachview: {count} waiting, the oldest "
                    "since {since}. They are kept and will be sent as soon as Coachview takes "
                    "them again. <code>enrollbot outbox</code> lists them."
                ).format(count=summary.count, since=esc(st.datetime(since, "d MMM HH:mm")))
                if summary.last_error:
                    text += "\n\n" + st._("Last error: {error}").format(
                        error=esc(summary.last_error.splitlines()[0][:300])
                    )
                key = STUCK_KEY + since.isoformat()
            else:
                text = st._("✅ Enrollments reach Coachview again.")
                key = FLOWING_KEY + (last or "").removeprefix(STUCK_KEY)
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
