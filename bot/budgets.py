"""Budgets a person cannot drain: how many Coachview look-ups one person's inputs may cause.

The catalogue (course types and their runs) is cached and shared by everyone, so reading it costs
a person nothing. What a person can make the bot ask Coachview beyond it is counted here, per
Telegram user, in a :class:`Quota` (a token bucket on the program's clock):

- people (``PERSON_LOOKUPS_PER_HOUR``, 6): one unit for each look-up of a deep link that the
  cached course types do not answer (a run by its id, a closed course type by id or code) and
  for each *Try again* press. When it is spent, a deep link shows the course list with a note,
  and *Try again* asks to wait a few minutes; the draft is untouched;
- staff (``STAFF_COMMANDS_PER_HOUR``, 300): one unit for each /lookup, /recent, /search and
  each of their buttons; then a message says to wait.

The bucket refills continuously (a spent budget gives one unit back after an hour / size), so
a person is never locked out for long. Memory stays flat: buckets that are full again are
forgotten once there are many.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.i18n import N_

__all__ = ["LOOKUPS_SPENT", "STAFF_SPENT", "TRIES_SPENT", "Quota"]

LOOKUPS_SPENT = N_("I can't look up the course of that link right now. Please choose one below.")
TRIES_SPENT = N_("You have tried many times. Please wait a few minutes, then try again.")
STAFF_SPENT = N_("You have made many look-ups in a short time. Please wait a few minutes.")

_FORGET_AT = 4096


@dataclass
class _Bucket:
    tokens: float
    at: datetime


class Quota:
    """At most ``size`` units per ``period`` for each key, refilled continuously."""

    def __init__(self, size: int, period: timedelta, clock: Clock) -> None:
        if size < 1 or period <= timedelta(0):
            raise ValueError("a quota needs a size of at least 1 and a positive period")
        self.size = size
        self.period = period
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def _refilled(self, key: int, now: datetime) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            return float(self.size)
        elapsed = max((now - bucket.at) / self.period, 0.0)
        return min(float(self.size), bucket.tokens + elapsed * self.size)

    def left(self, key: int) -> int:
        """Whole units ``key`` may still spend now."""
        return int(self._refilled(key, self._clock.now()))

    def take(self, key: int, units: int = 1) -> bool:
        """Spend ``units`` of ``key``'s budget; ``False`` (nothing spent) when too few are left."""
        now = self._clock.now()
        tokens = self._refilled(key, now)
        if tokens < units:
            return False
        self._buckets[key] = _Bucket(tokens - units, now)
        if len(self._buckets) > _FORGET_AT:
            self._forget_full(now)
        return True

    def _forget_full(self, now: datetime) -> None:
        self._buckets = {
            key: bucket
            for key, bucket in self._buckets.items()
            if self._refilled(key, now) < self.size
        }
