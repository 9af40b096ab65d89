"""The notification sender: delivers queued messages within Telegram's limits, none lost.

Confirmations, staff notices, alerts and reminders are rows in ``notifications`` (written in the
same transaction as what they report). This sender delivers them oldest first, pacing each chat
(about one message per second in a private chat, 20 per minute in a group) and the bot as a
whole (about 30 per second), so a burst of enrollments neither trips Telegram's flood control nor
delays the conversations, whose replies do not wait behind this queue: each round takes the
oldest message of each chat, and notifications use at most two thirds of the overall rate, so
the replies of conversations always find room (:meth:`Notifier._wait_for`). A 429 holds that chat
back for Telegram's ``retry_after`` and a network failure for a few seconds, the message staying
queued; a message Telegram will never take (blocked bot, bad request) is marked failed and
logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections import deque
from datetime import datetime, timedelta

from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.services import Services
from bot.store import notifications
from bot.store.models import Notification
from bot.telegram_limits import TelegramLimits

__all__ = ["Notifier"]

logger = logging.getLogger(__name__)


class Notifier:
    """Sends due notifications, paced per chat and overall."""

    idle_poll: float = 30.0
    network_retry: float = 5.0
    #: How long a claimed message is this sender's before another process may take it over.
    claim_lease: timedelta = timedelta(seconds=60)

    def __init__(
        self, services: Services, bot: Bot, *, limits: TelegramLimits | None = None
    ) -> None:
        self.services = services
        self.bot = bot
        self.limits = limits or TelegramLimits()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._chat_free_at: dict[int, float] = {}
        self._recent: deque[float] = deque()
        self._group_recent: dict[int, deque[float]] = {}
        #: Messages per global window for notifications; the rest is left to conversations.
        self.global_share = max(1, self.limits.global_messages * 2 // 3)

    async def run(self) -> None:
        """Send until cancelled."""
        while True:
            try:
                wait = await self.run_once()
            except Exception:
                logger.exception("notification round failed; trying again")
                wait = 1.0
            await self._sleep(wait)

    async def run_once(self) -> float:
        """Send what may go now; return how long to wait before the next round."""
        services = self.services
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
            wait = self._wait_for(item.chat_id)
            if wait > 0:
                soonest = wait if soonest is None else min(soonest, wait)
                continue
            await self._send(item)
        return soonest if soonest is not None else 0.0

    async def _sleep(self, seconds: float) -> None:
        event = self.services.notifications_due
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        event.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), min(seconds, self.idle_poll))

    def _wait_for(self, chat_id: int) -> float:
        """Seconds until a message to ``chat_id`` is within every limit (0: now).

        Pacing runs on the monotonic clock: it is about Telegram's real seconds, whatever the
        program's clock says (tests move that one).
        """
        limits = self.limits
        now = time.monotonic()
        waits = [self._chat_free_at.get(chat_id, 0.0) - now]
        if limits.global_window:
            while self._recent and now - self._recent[0] >= limits.global_window:
                self._recent.popleft()
            if len(self._recent) >= self.global_share:
                waits.append(self._recent[0] + limits.global_window - now)
        if chat_id < 0 and limits.group_window:
            recent = self._group_recent.setdefault(chat_id, deque())
            while recent and now - recent[0] >= limits.group_window:
                recent.popleft()
            if len(recent) >= limits.group_messages:
                waits.append(recent[0] + limits.group_window - now)
        return max(0.0, *waits)

    def _sent(self, chat_id: int) -> None:
        now = time.monotonic()
        self._recent.append(now)
        self._chat_free_at[chat_id] = now + self.limits.per_chat_interval
        if chat_id < 0:
            self._group_recent.setdefault(chat_id, deque()).append(now)

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
            await self.bot.send_message(
                item.chat_id, item.text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
        except RetryAfter as error:
            delay = error.retry_after
            seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
            self._chat_free_at[item.chat_id] = time.monotonic() + seconds
            logger.warning("notification %s: flood control, waiting %.0f s", item.id, seconds)
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
            self._chat_free_at[item.chat_id] = time.monotonic() + self.network_retry
            self._release(item)
            return
        self._sent(item.chat_id)
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
