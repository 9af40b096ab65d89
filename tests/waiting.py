"""Waiting in a test for something to happen, without guessing how long it takes.

:func:`wait_until` is the one helper for it (``tests.harness`` offers it too): it checks a
condition every 10 ms and fails with what it waited for when ``timeout`` passes, so a hung test
fails instead of waiting forever. The timeout is a guard, never an assertion on speed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["ManualTimer", "wait_until"]


async def wait_until(
    condition: Callable[[], object], timeout: float = 10.0, what: str = ""
) -> None:
    """Wait until ``condition()`` holds, checked every 10 ms; fail after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await asyncio.sleep(0.01)


class ManualTimer:
    """The rate limiter's seconds, standing still until :meth:`advance` moves them."""

    def __init__(self) -> None:
        self.now = time.monotonic()
        #: Every wait the limiter began, in seconds.
        self.waits: list[float] = []
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        self.waits.append(seconds)
        woken = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, woken))
        await woken

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for due, woken in list(self._sleepers):
            if due <= self.now:
                self._sleepers.remove((due, woken))
                if not woken.done():
                    woken.set_result(None)
