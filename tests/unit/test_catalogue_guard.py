"""The catalogue guard (``bot/catalogue.py``): a person's read that is cancelled is cancelled,
even when Coachview's answer arrives at that very moment, so a stopping bot never waits for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.catalogue import GuardedCatalogue
from bot.coachview.models import Opleiding, Opleidingssoort
from bot.outage import OutageTracker
from bot.services import Services
from tests.unit.kit import unit_services

SOORT = Opleidingssoort(id="3f2504e0-4f89-11d3-9a0c-0305e82c3301", code="VCA-B", naam="VCA")


class HeldSource:
    """A catalogue whose course types come when the test says (no HTTP round trip could be
    timed to the step a cancellation arrives in)."""

    def __init__(self) -> None:
        self.answer: asyncio.Future[list[Opleidingssoort]] = (
            asyncio.get_running_loop().create_future()
        )

    async def list_opleidingssoorten(self) -> list[Opleidingssoort]:
        return await self.answer

    async def list_opleidingen(self, opleidingssoort_id: str) -> list[Opleiding]:
        raise AssertionError("not read here")

    async def get_opleiding(self, opleiding_id: str) -> Opleiding:
        raise AssertionError("not read here")

    async def find_opleidingssoort(self, key: str) -> Opleidingssoort | None:
        raise AssertionError("not read here")


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    async with unit_services(tmp_path / "bot.db") as services:
        yield services


async def steps_until(condition: Callable[[], bool]) -> None:
    """Let the event loop run one step at a time until ``condition()`` holds."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def test_a_read_cancelled_as_its_answer_arrives_is_cancelled(services: Services) -> None:
    source = HeldSource()
    guard = GuardedCatalogue(
        source, patience=timedelta(seconds=30), outages=OutageTracker(services)
    )
    reader = asyncio.create_task(guard.list_opleidingssoorten())
    await steps_until(lambda: getattr(reader, "_fut_waiter", None) is not None)  # reading

    source.answer.set_result([SOORT])
    # The answer has reached the guard and the reader is about to resume: Python 3.11's
    # wait_for returned the answer now and dropped the cancellation.
    resumes = reader._fut_waiter  # type: ignore[attr-defined]  # what it waits for
    await steps_until(resumes.done)
    reader.cancel()

    with pytest.raises(asyncio.CancelledError):
        await reader
    assert reader.cancelled()


async def test_an_answer_within_the_patience_is_the_answer(services: Services) -> None:
    source = HeldSource()
    guard = GuardedCatalogue(
        source, patience=timedelta(seconds=30), outages=OutageTracker(services)
    )
    reader = asyncio.create_task(guard.list_opleidingssoorten())
    source.answer.set_result([SOORT])
    assert await reader == [SOORT]
