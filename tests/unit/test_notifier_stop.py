"""The notifier stops when it is cancelled, even as a message is queued at that moment."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pytest

from bot.workers.notify import Notifier
from tests.unit.kit import unit_services


async def test_a_cancel_that_meets_a_wake_up_still_stops_the_wait(tmp_path: Path) -> None:
    async with unit_services(tmp_path / "bot.db") as services:
        notifier = Notifier(services, cast(Any, None), cast(Any, None))
        waiting = asyncio.create_task(notifier._sleep(30.0))
        await asyncio.sleep(0)  # it waits for the event now
        services.notifications_due.set()  # a message is queued ...
        waiting.cancel()  # ... as the bot stops
        with pytest.raises(asyncio.CancelledError):
            await waiting
