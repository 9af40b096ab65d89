"""Telegram's flood limits for everything the bot sends, in one place.

Every Bot API call goes through :class:`TelegramRateLimiter` (PTB's ``BaseRateLimiter`` hook):

- A 429 (``retry_after``) holds back only the chat it came from; the call waits that long and
  is tried again (up to :attr:`~TelegramRateLimiter.max_retries` times). PTB's own
  ``AIORateLimiter`` halts *every* chat after any 429, which would stall all conversations for
  one busy group, so this class exists.
- Messages to a group stay within ``group_messages`` per ``group_window`` (20 a minute).
- Every message keeps to a token bucket per chat (about one a second after a short burst):
  one chat never gets more than Telegram's per-chat rate, so it never takes more than its
  share of the overall rate (a flooding chat's backlog is answered once: ``bot/floods.py``).
- *Background* messages (notifications: ``rate_limit_args={"background": True}``) also keep to
  a share of the overall rate, so a burst of notifications leaves room for the conversations'
  replies, which are never held back by the overall limit. The notification sender asks
  :meth:`wait_for` before sending and skips a chat that is not ready, so one busy chat never
  blocks its queue.

All pacing is on the monotonic clock of its :class:`Timer`: it is about Telegram's real
seconds, whatever the program's clock says (tests move that one, and give the limiter a timer
of their own to wait out a 429 without waiting). The numbers come from
:class:`~bot.telegram.limits.TelegramLimits`, which the Telegram sandbox enforces too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any, Protocol

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.telegram.limits import RATE_LIMITED_METHODS, TelegramLimits

__all__ = ["MonotonicTimer", "TelegramRateLimiter", "Timer"]

logger = logging.getLogger(__name__)

JSONDict = dict[str, Any]


class Timer(Protocol):
    """The seconds the limiter paces by, and its way of waiting them."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicTimer:
    """The real seconds: :func:`time.monotonic` and :func:`asyncio.sleep`."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class TelegramRateLimiter(BaseRateLimiter[JSONDict]):
    """Paces sends within Telegram's limits and waits out a 429 per chat."""

    max_retries = 3
    #: The part of the overall rate background messages may use.
    background_share = 2 / 3

    def __init__(
        self,
        limits: TelegramLimits | None = None,
        *,
        pace_replies: bool = True,
        timer: Timer | None = None,
    ) -> None:
        self.limits = limits or TelegramLimits()
        #: Where the seconds come from (tests replace it with one they move).
        self.timer: Timer = timer or MonotonicTimer()
        #: Whether replies keep to the per-chat token bucket too (``REPLY_PACING``).
        self.pace_replies = pace_replies
        self._blocked_until: dict[int | str, float] = {}
        self._tokens: dict[int | str, tuple[float, float]] = {}  # chat -> (tokens, at)
        self._recent: deque[float] = deque()
        self._group_recent: dict[int | str, deque[float]] = {}
        #: How many times Telegram answered 429 (flood control), for the metrics.
        self.too_many_requests = 0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    # -- Asking and recording ------------------------------------------------------------------

    def wait_for(
        self, chat_id: int | str, *, background: bool = False, paced: bool | None = None
    ) -> float:
        """Seconds until a message to ``chat_id`` is within every limit (0: now).

        ``paced``: keep to the chat's token bucket (default: when ``background``); replies
        are paced too, so one chat never gets more than Telegram's per-chat rate and never
        more than its share of the overall rate (``bot/floods.py`` answers a backlog once)."""
        paced = background if paced is None else paced
        limits = self.limits
        now = self.timer.monotonic()
        waits = [self._blocked_until.get(chat_id, 0.0) - now]
        if _is_group(chat_id) and limits.group_window:
            recent = self._trim(self._group_recent.get(chat_id), limits.group_window, now)
            if recent is not None and len(recent) >= limits.group_messages:
                waits.append(recent[0] + limits.group_window - now)
        if paced and limits.per_chat_interval:
            tokens = self._refilled(chat_id, now)
            if tokens < 1:
                waits.append((1 - tokens) * limits.per_chat_interval)
        if background:
            waits.append(self._background_share_wait(now))
        return max(0.0, *waits)

    def background_wait(self) -> float:
        """Seconds until *any* background message is within the overall share (0: now).

        The same for every chat, so the notification sender asks this before it looks for
        due messages: while the conversations' replies fill the overall rate, it waits
        without reading the queue at all.
        """
        return max(0.0, self._background_share_wait(self.timer.monotonic()))

    def _background_share_wait(self, now: float) -> float:
        window = self.limits.global_window
        if not window:
            return 0.0
        self._trim(self._recent, window, now)
        share = max(1, int(self.limits.global_messages * self.background_share))
        if len(self._recent) < share:
            return 0.0
        # The share frees when enough of the oldest sends leave the window.
        return self._recent[len(self._recent) - share] + window - now

    def _sent(self, chat_id: int | str) -> None:
        now = self.timer.monotonic()
        self._recent.append(now)
        self._trim(self._recent, self.limits.global_window, now)  # a second's sends at most
        if self.limits.per_chat_interval:
            self._tokens[chat_id] = (self._refilled(chat_id, now) - 1, now)
        if _is_group(chat_id):
            self._group_recent.setdefault(chat_id, deque()).append(now)
        self._forget_idle(now)

    def _refilled(self, chat_id: int | str, now: float) -> float:
        limits = self.limits
        tokens, at = self._tokens.get(chat_id, (float(limits.per_chat_burst), now))
        return min(float(limits.per_chat_burst), tokens + (now - at) / limits.per_chat_interval)

    @staticmethod
    def _trim(recent: deque[float] | None, window: float, now: float) -> deque[float] | None:
        while recent and now - recent[0] >= window:
            recent.popleft()
        return recent

    def _forget_idle(self, now: float) -> None:
        """Drop the state of chats that are within all limits again (memory stays flat)."""
        if len(self._tokens) < 4096:
            return
        limits = self.limits
        full = limits.per_chat_burst * limits.per_chat_interval
        self._tokens = {c: v for c, v in self._tokens.items() if now - v[1] < full}
        self._blocked_until = {c: t for c, t in self._blocked_until.items() if t > now}
        self._group_recent = {
            c: r for c, r in self._group_recent.items() if r and now - r[-1] < limits.group_window
        }

    # -- PTB's hook --------------------------------------------------------------------------

    async def process_request(  # noqa: PLR0917 - PTB's signature
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: JSONDict | None,
    ) -> bool | JSONDict | list[JSONDict]:
        background = bool(rate_limit_args and rate_limit_args.get("background"))
        retries = 0 if background else self.max_retries
        chat_id = data.get("chat_id")
        chat: int | str | None = None
        if isinstance(chat_id, int | str):
            with contextlib.suppress(ValueError):
                chat = int(chat_id)
            chat = chat if chat is not None else chat_id
        counts = endpoint.lower() in RATE_LIMITED_METHODS
        for attempt in range(retries + 1):
            if chat is not None:
                paced = counts and (background or self.pace_replies)
                wait = self.wait_for(chat, background=background and counts, paced=paced)
                if wait > 0:
                    await self.timer.sleep(wait)
            try:
                result = await callback(*args, **kwargs)
            except RetryAfter as error:
                self.too_many_requests += 1
                if chat is not None:
                    self._blocked_until[chat] = self.timer.monotonic() + _seconds(
                        error.retry_after
                    )
                if attempt == retries:
                    raise
                logger.warning(
                    "flood control on %s: retrying after %.1f s",
                    endpoint,
                    _seconds(error.retry_after),
                )
                if chat is None:
                    await self.timer.sleep(_seconds(error.retry_after))
                continue
            if counts and chat is not None:
                self._sent(chat)
            return result
        raise AssertionError("unreachable")  # pragma: no cover


def _is_group(chat_id: int | str) -> bool:
    return isinstance(chat_id, str) or chat_id < 0


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
