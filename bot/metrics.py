"""Numbers for operators: the Prometheus metrics of one bot, in a registry of its own.

Counted as they happen: updates handled by kind, the time from an update's arrival (put on
PTB's update queue, by the poller or the webhook) to the end of its handling, when its reply
has been sent, and the webhook's requests by answer. Read from the running bot when Prometheus
scrapes (:class:`_Snapshot`): open drafts, outbox rows by status and the age of the oldest
pending one, Coachview's requests by endpoint and answer and its request budget left, and
Telegram's 429 answers.

Each :class:`Metrics` has its own ``CollectorRegistry`` (not prometheus-client's global one),
so two bots in one process (the tests) never share or clash.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Iterator
from datetime import UTC
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from telegram import Update

from bot.store import stats
from bot.updates import ChatOrderedProcessor

if TYPE_CHECKING:
    from telegram.ext import Application

    from bot.coachview.client import CoachviewClient
    from bot.telegram.rate import TelegramRateLimiter

__all__ = ["CONTENT_TYPE", "ArrivalQueue", "MeasuredProcessor", "Metrics", "update_kind"]

logger = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The content type of :meth:`Metrics.render` (Prometheus' text format)."""

UPDATE_KINDS = (
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "chat_member",
    "channel_post",
    "edited_channel_post",
)
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Seconds: a reply within a tenth of a second is the normal case, 15 s the limit of a button."""


def update_kind(update: object) -> str:
    """``message``, ``callback_query``...: the part of the update that is set."""
    if isinstance(update, Update):
        for kind in UPDATE_KINDS:
            if getattr(update, kind, None) is not None:
                return kind
    return "other"


class Metrics:
    """The metrics of one Application; :meth:`watch` it once it runs."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "enrollbot_updates_handled",
            "Updates handled, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "enrollbot_update_reply_seconds",
            "Seconds from an update's arrival to the end of its handling (its reply sent)",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.webhook = Counter(
            "enrollbot_webhook_requests",
            "Requests to the webhook, by the answer (403: without the secret; 503: not stored)",
            ["status"],
            registry=self.registry,
        )
        self._arrived: dict[int, float] = {}
        self._snapshot = _Snapshot()
        self.registry.register(self._snapshot)

    def watch(
        self, application: Application[Any, Any, Any, Any, Any, Any], limiter: TelegramRateLimiter
    ) -> None:
        """Read the database, Coachview and Telegram figures from this running bot."""
        self._snapshot.application = application
        self._snapshot.limiter = limiter

    def arrived(self, update: object) -> None:
        """An update came in (the clock of its latency starts)."""
        if isinstance(update, Update):
            self._arrived.setdefault(update.update_id, time.monotonic())

    def handled(self, update: object) -> None:
        """An update is done with: count it, and how long it took since it came in."""
        self.updates.labels(update_kind(update)).inc()
        if isinstance(update, Update):
            arrived = self._arrived.pop(update.update_id, None)
            if arrived is not None:
                self.latency.observe(time.monotonic() - arrived)

    def render(self) -> bytes:
        """Every metric in Prometheus' text format."""
        return generate_latest(self.registry)


class ArrivalQueue(asyncio.Queue[object]):
    """PTB's update queue, noting when each update was put on it."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__()
        self._metrics = metrics

    def put_nowait(self, item: object) -> None:
        self._metrics.arrived(item)
        super().put_nowait(item)


class MeasuredProcessor(ChatOrderedProcessor):
    """The per-chat ordered processor, telling :class:`Metrics` when each update is done."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await super().do_process_update(update, coroutine)
        finally:
            self.metrics.handled(update)


class _Snapshot(Collector):
    """The figures read at scrape time from the running bot."""

    def __init__(self) -> None:
        self.application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self.limiter: TelegramRateLimiter | None = None

    def collect(self) -> Iterator[Metric]:
        if self.limiter is not None:
            yield CounterMetricFamily(
                "enrollbot_telegram_429",
                "Times Telegram answered 429 Too Many Requests (flood control)",
                value=self.limiter.too_many_requests,
            )
        services = None if self.application is None else self.application.bot_data.services
        if services is None:
            return
        yield from self._coachview(services.coachview)
        try:
            with services.db.connect() as connection:
                counts = stats.counts(connection)
        except SQLAlchemyError:
            logger.warning("metrics: the database could not be read", exc_info=True)
            return
        yield GaugeMetricFamily(
            "enrollbot_open_drafts", "Enrollments being filled in", value=counts.open_drafts
        )
        outbox = GaugeMetricFamily(
            "enrollbot_outbox_rows",
            "Confirmed enrollments in the outbox, by status",
            labels=["status"],
        )
        for status, number in sorted(counts.outbox.items()):
            outbox.add_metric([status], number)
        yield outbox
        age = 0.0
        if counts.oldest_pending is not None:
            oldest = counts.oldest_pending
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            age = max(0.0, (services.clock.now() - oldest).total_seconds())
        yield GaugeMetricFamily(
            "enrollbot_outbox_oldest_pending_seconds",
            "Age of the oldest enrollment not yet in Coachview (0: none waits)",
            value=age,
        )

    @staticmethod
    def _coachview(coachview: CoachviewClient) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "enrollbot_coachview_requests",
            "HTTP requests to Coachview, by endpoint and answer (status, or error)",
            labels=["endpoint", "status"],
        )
        for (endpoint, status), number in sorted(coachview.requests_by_endpoint.items()):
            requests.add_metric([endpoint, status], number)
        yield requests
        remaining = coachview.budget.remaining
        if remaining is not None:
            yield GaugeMetricFamily(
                "enrollbot_coachview_budget_remaining",
                "Requests left in Coachview's rate-limit period (its X-Rate-Limit-Remaining)",
                value=remaining,
            )
