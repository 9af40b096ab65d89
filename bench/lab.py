"""The bench's laboratory: a bot (or the echo floor) as a process with its own Telegram
sandbox, and a wave of simulated people measured against it.

Each subject has a Telegram sandbox of its own (one bot polls one server), so the echo floor
and the bot can both be running and take turns, wave after wave, on the same noisy machine.
The Coachview sandbox is shared (only the bot talks to it).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import resource
import secrets
import shutil
import socket
import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from bench.people import Outcome, Script, all_at_once
from bench.proc import BotUnderTest, Usage
from bench.stats import percentile
from bench.telegram import MeasuredTelegram
from sandbox.coachview import CoachviewSandbox

__all__ = [
    "Kind",
    "LoopLag",
    "Subject",
    "WaveResult",
    "coachview_kinds",
    "driver_cpu",
    "start_subject",
]

Kind = Literal["echo", "bot"]
T = TypeVar("T")
MB = 1024 * 1024


def driver_cpu() -> float:
    """CPU seconds of this process so far (the sandboxes and the simulated people)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


@dataclass
class Subject:
    """A running bot (``bot``) or echo floor (``echo``) and the Telegram sandbox it polls."""

    kind: Kind
    telegram: MeasuredTelegram
    process: BotUnderTest
    workdir: Path
    #: Seconds from starting the process to its first getUpdates (or to its webhook being set).
    start_seconds: float
    next_user_id: int = 800_000_000
    #: How it takes updates in: ``polling`` or ``webhook``.
    transport: str = "polling"

    def take_user_ids(self, count: int) -> int:
        first = self.next_user_id
        self.next_user_id += count
        return first

    def usage(self) -> Usage:
        self.process.check_running()
        return self.process.usage()

    def database(self) -> Path:
        return self.workdir / "bot.db"

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Read the bot's SQLite database (read-only, beside the running bot)."""
        uri = f"file:{self.database()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as connection:
            return list(connection.execute(sql).fetchall())


async def start_subject(
    kind: Kind,
    *,
    stack: contextlib.AsyncExitStack,
    coachview: CoachviewSandbox,
    workdir: Path,
    profile: Path | None = None,
    webhook: bool = False,
    settings: dict[str, str] | None = None,
) -> Subject:
    """Start the bot or the echo floor against a new Telegram sandbox; return once it polls
    (``webhook``: the bot in webhook mode, once it has set its webhook).

    The bot runs without its flood guard and reply pacing (simulated people answer in
    microseconds: both would measure the simulation), unless ``settings`` say otherwise."""
    telegram = await stack.enter_async_context(MeasuredTelegram())
    # A fresh folder: a database or log left by an earlier run would change what is measured.
    await asyncio.to_thread(shutil.rmtree, workdir, ignore_errors=True)
    await asyncio.to_thread(workdir.mkdir, parents=True)
    environment = {
        "TELEGRAM_BOT_TOKEN": telegram.token,
        "TELEGRAM_API_URL": telegram.url,
        "LOG_LEVEL": "INFO",
    }
    if kind == "echo":
        # The floor is bare PTB, on its default transport (httpx); BENCH_FLOOR_HTTP=aiohttp
        # puts it on the bot's (bench/README.md).
        environment["ECHO_HTTP"] = os.environ.get("BENCH_FLOOR_HTTP", "httpx")
    if kind == "bot":
        # As in production: Coachview, a database file, a staff chat for the notices.
        staff = telegram.group("Staff")
        environment |= {
            "COACHVIEW_BASE_URL": coachview.url,
            "COACHVIEW_CLIENT_ID": coachview.client_id,
            "COACHVIEW_CLIENT_SECRET": coachview.client_secret,
            "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
            "STAFF_CHAT_ID": str(staff.id),
            "FLOOD_MESSAGES": "1000000",
            "REPLY_PACING": "false",
            **(settings or {}),
        }
    if webhook:
        with socket.socket() as sock:  # a free port for the bot's webhook server
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        environment |= {
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/updates",
            "WEBHOOK_SECRET": secrets.token_urlsafe(32),
            "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
        }
    process = BotUnderTest(
        "bot" if kind == "bot" else "bench.echo",
        environment,
        cwd=workdir,
        log=workdir / "log.txt",
        profile=profile,
    )
    process.start()
    stack.push_async_callback(asyncio.to_thread, process.stop)
    deadline = time.perf_counter() + 60
    while webhook and not telegram.webhook_url:
        process.check_running()
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{kind} did not set its webhook within 60 s; see {process.log}")
        await asyncio.sleep(0.05)
    if webhook:
        return Subject(
            kind=kind,
            telegram=telegram,
            process=process,
            workdir=workdir,
            start_seconds=time.perf_counter() - process.started_at,
            transport="webhook",
        )
    deadline = time.perf_counter() + 60
    while telegram.first_get_updates is None:
        process.check_running()
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{kind} did not poll within 60 s; see {process.log}")
        with contextlib.suppress(AssertionError):
            await telegram.wait_polling(0.5)
    return Subject(
        kind=kind,
        telegram=telegram,
        process=process,
        workdir=workdir,
        start_seconds=telegram.first_get_updates - process.started_at,
    )


def coachview_kinds(coachview: CoachviewSandbox, since: int = 0) -> Counter[str]:
    """The Coachview requests from index ``since`` on, by kind: token, catalogue, post, other."""
    kinds: Counter[str] = Counter()
    for request in coachview.requests[since:]:
        path = request.path.lower()
        if path.endswith("/connect/token"):
            kinds["token"] += 1
        elif request.method == "POST" and path.endswith("/webaanvragen"):
            kinds["post"] += 1
        elif "/opleidingssoorten" in path or "/opleidingen" in path:
            kinds["catalogue"] += 1
        else:
            kinds["other"] += 1
    return kinds


@dataclass
class WaveResult:
    """One wave of people against one subject, and what it cost the subject."""

    kind: Kind
    people: int
    updates: int
    elapsed: float
    cpu: float
    driver_cpu: float
    reactions: list[float] = field(repr=False)
    rss: int
    peak_rss: int
    failures: list[str]
    calls: dict[str, int]
    late_answers: int = 0
    coachview: dict[str, int] = field(default_factory=dict)

    @property
    def updates_per_second(self) -> float:
        return self.updates / self.elapsed if self.elapsed > 0 else float("nan")

    @property
    def cpu_per_update(self) -> float:
        return self.cpu / self.updates if self.updates else float("nan")

    def reaction(self, p: float) -> float:
        return percentile(self.reactions, p)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "people": self.people,
            "updates": self.updates,
            "elapsed_s": self.elapsed,
            "updates_per_s": self.updates_per_second,
            "cpu_s": self.cpu,
            "cpu_ms_per_update": 1000 * self.cpu_per_update,
            "driver_cpu_s": self.driver_cpu,
            "first_reaction_ms": {
                "p50": 1000 * self.reaction(50),
                "p95": 1000 * self.reaction(95),
                "p99": 1000 * self.reaction(99),
                "n": len(self.reactions),
            },
            "rss_mb": self.rss / MB,
            "peak_rss_mb": self.peak_rss / MB,
            "failures": self.failures[:10],
            "failure_count": len(self.failures),
            "bot_api_calls": self.calls,
            "late_answers": self.late_answers,
            "coachview_requests": self.coachview,
        }


async def run_wave(
    subject: Subject,
    scripts: Sequence[Script],
    *,
    coachview: CoachviewSandbox | None = None,
    enrollments: bool = False,
) -> WaveResult:
    """Run ``scripts`` all at once against ``subject``; with ``enrollments``, also wait until
    Coachview holds the webaanvraag of everyone who finished, so the wave pays for its
    submissions."""
    telegram = subject.telegram
    telegram.reset_measurements()
    gc.collect()
    gc.freeze()  # what earlier waves left need not be scanned during this one
    posted_before = len(coachview.webaanvragen) if coachview is not None else 0
    requests_before = len(coachview.requests) if coachview is not None else 0
    before, driver_before = subject.usage(), driver_cpu()
    outcome: Outcome = await all_at_once(
        telegram, scripts, first_user_id=subject.take_user_ids(len(scripts))
    )
    if coachview is not None and enrollments:
        await wait_until(
            lambda: len(coachview.webaanvragen) >= posted_before + outcome.finished, timeout=120
        )
    after, driver_after = subject.usage(), driver_cpu()
    return WaveResult(
        kind=subject.kind,
        people=outcome.people,
        updates=outcome.updates,
        elapsed=outcome.elapsed,
        cpu=after.cpu - before.cpu,
        driver_cpu=driver_after - driver_before,
        reactions=list(telegram.reactions),
        rss=after.rss,
        peak_rss=after.peak_rss,
        failures=outcome.failures,
        calls=dict(telegram.call_counts),
        late_answers=telegram.late_answers,
        coachview=dict(coachview_kinds(coachview, requests_before)) if coachview else {},
    )


async def wait_until(condition: Any, *, timeout: float) -> bool:  # noqa: ASYNC109
    """Poll ``condition()`` every 20 ms until it holds (True) or ``timeout`` passes (False)."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


class LoopLag:
    """How late this process's event loop wakes a 10 ms timer while a measurement runs.

    The sandboxes timestamp the bot's calls on this loop: a stalled driver would show up as a
    slow bot. The lag says how much of a first reaction the driver itself could have added.
    """

    interval = 0.01

    def __init__(self) -> None:
        self.lags: list[float] = []

    async def during(self, work: Awaitable[T]) -> T:
        # Objects left by earlier scenarios need not be scanned by every full collection.
        gc.collect()
        gc.freeze()
        watcher = asyncio.create_task(self._watch())
        try:
            return await work
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _watch(self) -> None:
        while True:
            began = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.lags.append(time.perf_counter() - began - self.interval)

    def to_json(self) -> dict[str, float]:
        return {
            "p99": 1000 * percentile(self.lags, 99),
            "max": 1000 * max(self.lags, default=float("nan")),
        }
