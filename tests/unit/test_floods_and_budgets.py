"""The flood guard's and the budgets' decisions on their own clocks (the end-to-end tests are
``tests/e2e/test_floods.py`` and ``tests/e2e/test_budgets.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.budgets import Quota
from bot.clock import ManualClock
from bot.floods import FloodGuard


class Seconds:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_told_once_and_answered_again_once_it_calms() -> None:
    seconds = Seconds()
    guard = FloodGuard(20, 10.0, clock=seconds)
    starts = []
    for _ in range(60):
        ticket, burst = guard.arrived(1)
        starts.append(burst)
        guard.finished(ticket)
        seconds.now += 0.1
    assert starts.count(True) == 1
    assert starts.index(True) == 20  # the 21st update within 10 s
    ticket, _ = guard.arrived(1)
    assert not guard.answers(ticket)  # still in the burst
    guard.finished(ticket)
    seconds.now += 10.0
    ticket, burst = guard.arrived(1)
    assert guard.answers(ticket) and not burst  # calm: answered, and not told again
    guard.finished(ticket)


def test_only_the_newest_update_of_a_backlog_is_answered() -> None:
    guard = FloodGuard(20, 10.0, clock=Seconds())
    first, _ = guard.arrived(7)
    second, _ = guard.arrived(7)
    other, _ = guard.arrived(8)
    assert not guard.answers(first)
    assert guard.answers(second) and guard.answers(other)


def test_chats_that_went_quiet_are_forgotten() -> None:
    seconds = Seconds()
    guard = FloodGuard(20, 10.0, clock=seconds)
    for chat in range(5000):
        ticket, _ = guard.arrived(chat)
        guard.finished(ticket)
    seconds.now += 10.0
    ticket, _ = guard.arrived(-1)
    guard.finished(ticket)
    assert guard.chats <= 1


def test_a_spent_quota_refills_over_its_period() -> None:
    clock = ManualClock(datetime(2026, 3, 2, tzinfo=UTC))
    quota = Quota(6, timedelta(hours=1), clock)
    assert [quota.take(1) for _ in range(7)] == [True] * 6 + [False]
    assert quota.take(2)  # another person's budget is their own
    clock.advance(timedelta(minutes=10))
    assert quota.take(1) and not quota.take(1)
    clock.advance(timedelta(hours=2))
    assert quota.left(1) == 6
