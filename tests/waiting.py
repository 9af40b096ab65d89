"""Waiting in a test for something to happen, without guessing how long it takes.

:func:`wait_until` is the one helper for it (``tests.harness`` offers it too): it checks a
condition every 10 ms and fails with what it waited for when ``timeout`` passes, so a hung test
fails instead of waiting forever. The timeout is a guard, never an assertion on speed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["wait_until"]


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
