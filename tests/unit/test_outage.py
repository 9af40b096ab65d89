"""The outage tracker: what the staff chat is owed when Coachview fails people in the
conversation. One alert per outage, one notice when it is over, also across processes that
share the database and across a restart in the middle of an outage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from bot.clock import ManualClock
from bot.outage import OutageTracker
from bot.services import Services
from bot.store.models import Notification
from tests.unit.kit import unit_services

STAFF_CHAT = -100123


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    database = tmp_path / "bot.db"
    async with unit_services(
        database, staff_chat_id=STAFF_CHAT, default_language="en"
    ) as services:
        yield services


def staff_messages(services: Services) -> list[str]:
    """What the staff chat is owed, oldest first."""
    with Session(services.db) as session:
        rows = session.exec(
            select(Notification)
            .where(Notification.chat_id == STAFF_CHAT)
            .order_by(col(Notification.id))
        ).all()
    return [row.text for row in rows]


def kinds(services: Services) -> list[str]:
    return ["down" if "not answering" in text else "up" for text in staff_messages(services)]


def test_many_failures_are_one_alert_and_the_cause_is_named(services: Services) -> None:
    tracker = OutageTracker(services)
    for _ in range(5):
        tracker.failed("course types", "Coachview answered 500 to GET /api/v1/Opleidingssoorten")
    assert kinds(services) == ["down"]
    assert "answered 500" in staff_messages(services)[0]


def clock_of(services: Services) -> ManualClock:
    clock = services.clock
    assert isinstance(clock, ManualClock)
    return clock


def quiet_minute_passes(services: Services) -> None:
    clock_of(services).advance(OutageTracker.quiet)


def test_a_cached_read_does_not_end_the_outage(services: Services) -> None:
    tracker = OutageTracker(services)
    tracker.failed("runs of x", "no answer within 5 s")
    quiet_minute_passes(services)
    tracker.succeeded("course types")  # from the cache: proves nothing
    assert kinds(services) == ["down"]
    tracker.succeeded("runs of x")
    assert kinds(services) == ["down", "up"]
    tracker.succeeded("runs of x")
    assert kinds(services) == ["down", "up"]
    tracker.failed("runs of x", "no answer within 5 s")  # a new outage
    assert kinds(services) == ["down", "up", "down"]


def test_a_flaky_coachview_is_one_outage(services: Services) -> None:
    tracker = OutageTracker(services)
    clock = clock_of(services)
    for _ in range(10):  # every other read fails, for ten minutes
        tracker.failed("runs of x", "Coachview answered 500")
        clock.advance(30)
        tracker.succeeded("runs of x")
        clock.advance(30)
    assert kinds(services) == ["down"]
    quiet_minute_passes(services)
    tracker.succeeded("runs of x")
    assert kinds(services) == ["down", "up"]


def test_two_processes_sharing_the_database_alert_once(services: Services) -> None:
    first, second = OutageTracker(services), OutageTracker(services)
    first.failed("course types", "refused")
    second.failed("runs of y", "refused")
    assert kinds(services) == ["down"]
    quiet_minute_passes(services)
    first.succeeded("course types")
    second.succeeded("runs of y")
    assert kinds(services) == ["down", "up"]


def test_an_outage_alerted_before_a_restart_ends_with_the_first_success(
    services: Services,
) -> None:
    OutageTracker(services).failed("course types", "refused")
    restarted = OutageTracker(services)
    restarted.succeeded("course types")
    assert kinds(services) == ["down", "up"]
    restarted.failed("course types", "refused")
    assert kinds(services) == ["down", "up", "down"]


def test_no_staff_chat_no_alerts(services: Services) -> None:
    quiet = Services(
        settings=services.settings.model_copy(update={"staff_chat_id": None}),
        db=services.db,
        coachview=services.coachview,
        clock=services.clock,
    )
    tracker = OutageTracker(quiet)
    tracker.failed("course types", "refused")
    tracker.succeeded("course types")
    assert staff_messages(services) == []
