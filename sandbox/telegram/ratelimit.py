"""The sandbox's enforcement of :class:`~bot.telegram.limits.TelegramLimits`.

Time is the monotonic clock, not the sandbox's :class:`~bot.clock.Clock`: the bot's pacer waits
in real time, so a limit measured on a clock that stands still would never let it through.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.telegram.limits import TelegramLimits

__all__ = ["RateLimiter"]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Decides whether one more message may go to a chat now, and records it if so."""

    def __init__(
        self, limits: TelegramLimits, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits
        self._now = monotonic
        self._buckets: dict[int, _Bucket] = {}
        self._groups: dict[int, deque[float]] = {}
        self._overall: deque[float] = deque()

    def acquire(self, chat_id: int, *, is_group: bool) -> int | None:
        """Record a message to ``chat_id`` and return None, or refuse it and return the
        whole seconds to wait (Telegram's ``retry_after``, at least 1)."""
        now = self._now()
        limits = self.limits
        waits: list[float] = []

        bucket: _Bucket | None = None
        if limits.per_chat_interval > 0:
            bucket = self._buckets.get(chat_id)
            if bucket is None:
                bucket = self._buckets[chat_id] = _Bucket(float(limits.per_chat_burst), now)
            bucket.tokens = min(
                float(limits.per_chat_burst),
                bucket.tokens + (now - bucket.updated) / limits.per_chat_interval,
            )
            bucket.updated = now
            if bucket.tokens < 1:
                waits.append((1 - bucket.tokens) * limits.per_chat_interval)

        group: deque[float] | None = None
        if is_group and limits.group_window > 0:
            group = self._groups.setdefault(chat_id, deque())
            _expire(group, now - limits.group_window)
            if len(group) >= limits.group_messages:
                waits.append(group[0] + limits.group_window - now)

        if limits.global_window > 0:
            _expire(self._overall, now - limits.global_window)
            if len(self._overall) >= limits.global_messages:
                waits.append(self._overall[0] + limits.global_window - now)

        if waits:
            return max(1, math.ceil(max(waits)))
        if bucket is not None:
            bucket.tokens -= 1
        if group is not None:
            group.append(now)
        if limits.global_window > 0:
            self._overall.append(now)
        return None


def _expire(times: deque[float], before: float) -> None:
    while times and times[0] <= before:
        times.popleft()
