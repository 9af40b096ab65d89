"""The loop of the workers that look now and then: one round every so many seconds."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable

__all__ = ["every"]

logger = logging.getLogger(__name__)


async def every(
    seconds: float, round_: Callable[[], object | Awaitable[object]], what: str
) -> None:
    """Run ``round_`` (plain or async) every ``seconds`` until cancelled; a round that fails is
    logged (as ``what`` failed) and the next one is tried as usual."""
    while True:
        try:
            result = round_()
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("%s failed; trying again", what)
        await asyncio.sleep(seconds)
