"""The submission worker: sends the outbox to Coachview, exactly once per enrollment.

Started with the Application, it also sends what was pending before a restart. It claims due
rows with a lease (``store/outbox.py``) and brings each to Coachview in its own task, at most
:attr:`SubmissionWorker.concurrency` at a time, by the exactly-once protocol of
:mod:`bot.workers.exactly_once` (look up what may have been sent, record the attempt, POST,
record the answer); the texts people and staff get are in :mod:`bot.workers.receipts`. It
wakes when a row is confirmed (``Services.submissions_due``), when a row's task ends, and when
the next row becomes due, at the latest after ``SUBMISSION_POLL``.

When rows have been failing for longer than ``SUBMISSION_ALERT_AFTER``, staff are told that
submissions are stuck (with the last error), and told again when they flow again; the state of
that alert is the notifications table, so restarts and several processes send each alert once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from datetime import timedelta
from typing import Final

from bot.i18n import esc, translator
from bot.services import Services
from bot.store import notifications, outbox
from bot.store.models import OutboxEntry
from bot.workers.exactly_once import Submitter

__all__ = ["SubmissionWorker"]

logger = logging.getLogger(__name__)

STUCK_KEY: Final = "outbox-stuck:"
FLOWING_KEY: Final = "outbox-flowing:"


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
        self.poll = poll or settings.submission_poll
        #: The exactly-once protocol, one row at a time.
        self.submitter = Submitter(
            services,
            owner=self.owner,
            lease=self.lease,
            retry_base=retry_base or settings.submission_retry_base,
            retry_max=retry_max or settings.submission_retry_max,
        )
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
                    timeout = self.submitter.retry_base.total_seconds()
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
            await self.submitter.process(entry)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The lease runs out and the row is tried again (looked up first if it was sent).
            logger.exception("outbox %s: unexpected failure; retried after its lease", entry.id)

    # The alarm ------------------------------------------------------------------------------

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
