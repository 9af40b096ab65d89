"""The client's memory of Coachview's answers: shared requests and stale-while-error.

:class:`SingleFlight` lets concurrent callers asking for the same thing share one request;
:class:`TtlCache` keeps answers for a lifetime by the clock and, when a refresh fails because
Coachview is unavailable (:attr:`~bot.errors.CoachviewError.retryable`), serves the copy it has
instead (and does not try again for a minute, so an outage does not cost a timeout per call).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Generic, TypeVar

from bot.clock import Clock
from bot.errors import CoachviewError

__all__ = ["SingleFlight", "TtlCache"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

STALE_RETRY = timedelta(minutes=1)
"""After a failed refresh, the stale copy is served this long (at most the lifetime)."""


class SingleFlight(Generic[T]):
    """Concurrent callers asking for the same key share one running task (and its outcome)."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[T]] = {}

    async def run(self, key: str, factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
        task = self._running.get(key)
        if task is None:
            task = asyncio.create_task(factory())
            self._running[key] = task
            task.add_done_callback(partial(self._forget, key))
        # A caller that is cancelled must not cancel the others' request.
        return await asyncio.shield(task)

    def _forget(self, key: str, task: asyncio.Task[T]) -> None:
        if self._running.get(key) is task:
            del self._running[key]

    async def cancel_all(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class _Entry(Generic[T]):
    value: T
    fetched_at: datetime
    retry_after: datetime | None = None


class TtlCache(Generic[T]):
    """Values kept for ``ttl`` by the clock; concurrent misses share one fetch; when a refresh
    fails with a retryable error the stale value is served (see the module docstring)."""

    def __init__(self, name: str, ttl: timedelta, clock: Clock) -> None:
        self._name = name
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, _Entry[T]] = {}
        self._flights: SingleFlight[T] = SingleFlight()

    def fresh(self, key: str) -> T | None:
        """The value for ``key`` if it is within its lifetime, else ``None``."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        now = self._clock.now()
        if now < entry.fetched_at + self._ttl or (
            entry.retry_after is not None and now < entry.retry_after
        ):
            return entry.value
        return None

    def fresh_values(self) -> list[T]:
        return [value for key in list(self._entries) if (value := self.fresh(key)) is not None]

    async def get(self, key: str, fetch: Callable[[], Awaitable[T]]) -> T:
        value = self.fresh(key)
        if value is not None:
            return value
        return await self._flights.run(key, partial(self._refresh, key, fetch))

    async def _refresh(self, key: str, fetch: Callable[[], Awaitable[T]]) -> T:
        try:
            value = await fetch()
        except CoachviewError as err:
            entry = self._entries.get(key)
            if entry is None or not err.retryable:
                raise
            now = self._clock.now()
            entry.retry_after = now + min(self._ttl, STALE_RETRY)
            logger.warning(
                "Coachview %s could not be refreshed (%s); serving the copy of %s",
                self._name,
                type(err).__name__,
                entry.fetched_at.isoformat(timespec="seconds"),
            )
            return entry.value
        self._entries[key] = _Entry(value, self._clock.now())
        return value

    async def aclose(self) -> None:
        await self._flights.cancel_all()
