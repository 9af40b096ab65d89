"""The notification sender: delivers queued messages within Telegram's limits, none lost.

Confirmations, staff notices, alerts and reminders are rows in ``notifications`` (written in the
same transaction as what they report). This sender delivers them oldest first, one message per
chat each round, so a chat with a long queue (a staff group after a burst of enrollments) never
holds back the others. The pacing is the bot's rate limiter's (``bot/telegram/rate.py``): a
notification goes as a *background* message, which keeps to each chat's rate and to a share of
the overall rate, leaving room for the conversations' replies; a chat that is not ready is
skipped for this round. A 429 holds that chat back for Telegram's ``retry_after`` and a network
failure for a few seconds, the message staying queued; a message Telegram will never take
(blocked bot, bad request) is marked failed and logged. Each message is claimed before it is
sent, so two processes never send the same one.

A row may carry a file (an enrollment's calendar): it goes as a document, the text its caption.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import ExtBot

from bot.services import Services
from bot.store import notifications
from bot.store.models import Notification
from bot.telegram.rate import TelegramRateLimiter

__all__ = ["Notifier"]

logger = logging.getLogger(__name__)

BACKGROUND = {"background": True}


class Notifier:
    """Sends due notifications, paced by the bot's rate limiter."""

    idle_poll: float = 30.0
    network_retry: float = 5.0
    #: The shortest time from the start of one round to the start of the next. Each round reads
    #: the queue; without it a wait of a few milliseconds (the next free slot of the overall
    #: rate while replies fill it) or a wake-up per confirmed enrollment would read it hundreds
    #: of times a second.
    least_round: float = 0.1
    #: How long a claimed message is this sender's before another process may take it over.
    claim_lease: timedelta = timedelta(seconds=60)

    def __init__(
        self, services: Services, bot: ExtBot[dict[str, Any]], limiter: TelegramRateLimiter
    ) -> None:
        self.services = services
        self.bot = bot
        self.limiter = limiter
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._held_until: dict[int, float] = {}  # after a network failure

    async def run(self) -> None:
        """Send until cancelled.

        Each round starts by forgetting earlier wake-ups and then reads the queue, so a message
        queued while a round runs wakes the next one. Rounds are at least ``least_round``
        apart: every confirmed enrollment wakes the sender, and under a burst one round then
        takes what arrived meanwhile instead of reading the queue once per enrollment.
        """
        event = self.services.notifications_due
        while True:
            event.clear()
            started = time.monotonic()
            try:
                wait = await self.run_once()
            except Exception:
                logger.exception("notification round failed; trying again")
                wait = 1.0
            pause = self.least_round - (time.monotonic() - started)
            if pause > 0:
                await asyncio.sleep(pause)
                wait -= pause
            await self._sleep(wait)

    async def run_once(self) -> float:
        """Send what may go now; return how long to wait before the next round."""
        services = self.services
        busy = self.limiter.background_wait()
        if busy > 0:
            # The replies fill the overall rate: no message could go, so the queue is not read.
            return busy
        now = services.clock.now()
        with services.session() as session:
            due = notifications.due(session, now=now)
            later = notifications.next_due(session)
        if not due:
            if later is None:
                return self.idle_poll
            return max(0.0, (later - now).total_seconds())
        soonest: float | None = None
        for item in due:
            wait = max(
                self.limiter.wait_for(item.chat_id, background=True),
                self._held_until.get(item.chat_id, 0.0) - time.monotonic(),
            )
            if wait > 0:
                soonest = wait if soonest is None else min(soonest, wait)
                continue
            await self._send(item)
        return soonest if soonest is not None else 0.0

    async def _sleep(self, seconds: float) -> None:
        """Until ``seconds`` pass (at most ``idle_poll``) or a message is queued."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancellation that
        # arrives as the event is set, and the stopping bot then waits for this task forever.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(min(seconds, self.idle_poll)):
                await self.services.notifications_due.wait()

    async def _send(self, item: Notification) -> None:
        services = self.services
        with services.session() as session:
            claimed = notifications.claim(
                session,
                notification_id=item.id or 0,
                owner=self.owner,
                now=services.clock.now(),
                lease=self.claim_lease,
            )
            session.commit()
        if not claimed:
            return  # another process is sending it
        markup = (
            InlineKeyboardMarkup.de_json(item.reply_markup, self.bot)
            if item.reply_markup
            else None
        )
        try:
            if item.document is not None:
                await self.bot.send_document(
                    item.chat_id,
                    InputFile(item.document, filename=item.document_name or "file"),
                    caption=item.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    rate_limit_args=BACKGROUND,
                )
            else:
                await self.bot.send_message(
                    item.chat_id,
                    item.text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    rate_limit_args=BACKGROUND,
                )
        except RetryAfter:
            # The limiter holds this chat back for retry_after; the message stays queued.
            logger.warning("notification %s: flood control, trying again later", item.id)
            self._release(item)
            return
        except Forbidden as error:
            logger.warning("notification %s cannot be delivered: %s", item.id, error)
            self._record(item, failed=str(error))
            return
        except BadRequest as error:
            logger.error("notification %s refused by Telegram: %s", item.id, error)
            self._record(item, failed=str(error))
            return
        except NetworkError as error:
            logger.warning("notification %s: network error, retrying: %s", item.id, error)
            self._held_until[item.chat_id] = time.monotonic() + self.network_retry
            self._release(item)
            return
        self._held_until.pop(item.chat_id, None)
        self._record(item, sent_at=services.clock.now())

    def _release(self, item: Notification) -> None:
        with self.services.session() as session:
            notifications.release(session, notification_id=item.id or 0)
            session.commit()

    def _record(
        self,
        item: Notification,
        *,
        sent_at: datetime | None = None,
        failed: str | None = None,
    ) -> None:
        with self.services.session() as session:
            if sent_at is not None:
                notifications.mark_sent(session, notification_id=item.id or 0, now=sent_at)
            elif failed is not None:
                notifications.mark_failed(session, notification_id=item.id or 0, error=failed)
            session.commit()
