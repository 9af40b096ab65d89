"""The measurements of issue 6, each beside its reference in the same run.

* :func:`load`: the echo floor and the bot, both running, take turns: a wave of ``people``
  echo chats, then a wave of ``people`` enrollments, ``repeats`` times; then more bot waves
  until ``waves`` waves of enrollments have finished, the bot's memory read after each.
  Items 1 (floor), 2 (enrollment under load), 4 (Coachview cost) and half of 5 (memory across
  finished conversations).
* :func:`offered`: a fresh echo floor, then a fresh bot, each offered ``rate`` updates a second
  for ``duration`` seconds (item 3).
* :func:`drafts`: a fresh echo floor, then a fresh bot, with ``drafts`` people who each start
  and answer one question, leaving that many open drafts (item 5: peak memory).
* :func:`flood`: issue 15: the first reaction of ``flood_others`` people enrolling while one
  chat sends ``flood`` messages, beside a quiet wave of as many; and how many messages the
  flooding chat was sent, per second.
* :func:`starts`: the time from starting the process to its first ``getUpdates``, for every
  process the other scenarios started plus ``starts`` more of each (item 5: start).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import sqlite3
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.lab import (
    MB,
    Kind,
    LoopLag,
    Subject,
    WaveResult,
    coachview_kinds,
    driver_cpu,
    run_wave,
    start_subject,
    wait_until,
)
from bench.people import Action, Script, at_fixed_rate, echo_script, enrollment_script
from bench.stats import percentile
from sandbox.coachview import CoachviewSandbox

__all__ = ["PROFILES", "Config", "drafts", "flood", "load", "offered", "starts", "webhook"]

_FIRST_NAMES = ("Anna", "Bram", "Chantal", "Daan", "Eva", "Fatima", "Gijs", "Hanna", "Ilse")
ECHO_LENGTH = 12  # texts per echo chat: the mean length of an enrollment (13 or 11 updates)


@dataclass(frozen=True)
class Config:
    """How much of everything; ``PROFILES`` has the ready-made sizes."""

    people: int = 1000
    waves: int = 10
    repeats: int = 3
    rate: float = 100.0
    duration: float = 60.0
    drafts: int = 10_000
    starts: int = 3
    drain: float = 60.0
    warm_up: int = 20  # people per subject before anything is measured
    flood: int = 300  # messages one chat sends in the flood scenario
    flood_others: int = 50  # people who enroll meanwhile (and in the quiet wave beside it)
    profile: bool = False
    out: Path = field(default=Path("bench/out"))

    def to_json(self) -> dict[str, Any]:
        return {
            "people": self.people,
            "waves": self.waves,
            "repeats": self.repeats,
            "rate": self.rate,
            "duration_s": self.duration,
            "drafts": self.drafts,
            "starts": self.starts,
            "drain_s": self.drain,
            "warm_up": self.warm_up,
            "flood": self.flood,
            "flood_others": self.flood_others,
            "profile": self.profile,
        }


PROFILES: dict[str, Config] = {
    "full": Config(),
    "quick": Config(people=200, waves=3, repeats=2, duration=20.0, drafts=2000, starts=2),
    "smoke": Config(
        people=3,
        waves=2,
        repeats=1,
        rate=20.0,
        duration=1.0,
        drafts=4,
        starts=0,
        drain=0.0,
        warm_up=1,
        flood=30,
        flood_others=3,
    ),
}


def enrollment_scripts(coachview: CoachviewSandbox, first: int, count: int) -> list[list[Action]]:
    """``count`` enrollments: every second person comes through the website's deep link."""
    run = coachview.catalogue.seed.open_run
    return [
        enrollment_script(n, deep_link=run if n % 2 else None) for n in range(first, first + count)
    ]


def echo_scripts(first: int, count: int) -> list[list[Action]]:
    return [echo_script(n, length=ECHO_LENGTH) for n in range(first, first + count)]


@dataclass
class Started:
    """Start times of every process the scenarios started, by kind."""

    seconds: dict[Kind, list[float]] = field(default_factory=lambda: {"echo": [], "bot": []})

    def note(self, subject: Subject) -> Subject:
        self.seconds[subject.kind].append(subject.start_seconds)
        return subject


async def _warm_up(subject: Subject, coachview: CoachviewSandbox, people: int) -> WaveResult:
    """A few people before anything is measured (connections, caches, first code paths)."""
    if subject.kind == "echo":
        return await run_wave(subject, echo_scripts(0, people))
    scripts = enrollment_scripts(coachview, 0, people)
    return await run_wave(subject, scripts, coachview=coachview, enrollments=True)


async def load(config: Config, coachview: CoachviewSandbox, started: Started) -> dict[str, Any]:
    """Items 1, 2, 4 and the memory across finished conversations."""
    async with contextlib.AsyncExitStack() as stack:
        profile = config.out / "bot.prof" if config.profile else None
        echo = started.note(
            await start_subject(
                "echo", stack=stack, coachview=coachview, workdir=config.out / "load-echo"
            )
        )
        bot = started.note(
            await start_subject(
                "bot",
                stack=stack,
                coachview=coachview,
                workdir=config.out / "load-bot",
                profile=profile,
            )
        )
        bot_start = bot.usage()
        requests_start = len(coachview.requests)
        await _warm_up(echo, coachview, config.warm_up)
        warm_up = await _warm_up(bot, coachview, config.warm_up)
        finished = config.warm_up
        memory = [{"finished": finished, "rss_mb": bot.usage().rss / MB}]
        echo_waves: list[WaveResult] = []
        bot_waves: list[WaveResult] = []
        number = config.warm_up
        for index in range(config.waves):
            if index < config.repeats:
                echo_waves.append(await run_wave(echo, echo_scripts(number, config.people)))
            wave = await run_wave(
                bot,
                enrollment_scripts(coachview, number, config.people),
                coachview=coachview,
                enrollments=True,
            )
            bot_waves.append(wave)
            number += config.people
            finished += wave.people - len(wave.failures)
            memory.append({"finished": finished, "rss_mb": wave.rss / MB})
        # What the conversations left to do: submissions, confirmations, staff notices.
        drained_at = time.perf_counter()
        await wait_until(lambda: _pending_notifications(bot) == 0, timeout=config.drain)
        drain_seconds = time.perf_counter() - drained_at
        bot_end = bot.usage()
        total_updates = sum(w.updates for w in [warm_up, *bot_waves])
        notifications = _notifications(bot)
        coachview_total = coachview_kinds(coachview, requests_start)
        enrollments = len(coachview.webaanvragen)
    steady = bot_waves[1:] or bot_waves
    steady_kinds: dict[str, int] = {}
    for wave in steady:
        for kind, count in wave.coachview.items():
            steady_kinds[kind] = steady_kinds.get(kind, 0) + count
    steady_enrollments = config.people * len(steady)
    return {
        "echo_waves": [w.to_json() for w in echo_waves],
        "bot_waves": [w.to_json() for w in bot_waves],
        "pairs": [
            {
                "cpu_ratio": b.cpu_per_update / e.cpu_per_update,
                "throughput_ratio": b.updates_per_second / e.updates_per_second,
            }
            for e, b in zip(echo_waves, bot_waves, strict=False)
        ],
        "memory": memory,
        "memory_growth_mb_per_1000": _slope(memory[2:] if len(memory) > 3 else memory[1:]),
        "bot_total": {
            "cpu_s": bot_end.cpu - bot_start.cpu,
            "updates": total_updates,
            "cpu_ms_per_update": 1000 * (bot_end.cpu - bot_start.cpu) / total_updates,
            "drain_s": drain_seconds,
            "peak_rss_mb": bot_end.peak_rss / MB,
        },
        "notifications": notifications,
        "coachview": {
            "enrollments": enrollments,
            "requests": dict(coachview_total),
            "per_enrollment": sum(coachview_total.values()) / max(enrollments, 1),
            "steady_enrollments": steady_enrollments,
            "steady_requests": steady_kinds,
            "steady_per_enrollment": sum(steady_kinds.values()) / max(steady_enrollments, 1),
        },
    }


def _pending_notifications(bot: Subject) -> int:
    try:
        rows = bot.query("SELECT count(*) FROM notifications WHERE status = 'pending'")
    except sqlite3.Error:  # locked for a moment: not drained yet
        return -1
    return int(rows[0][0])


def _notifications(bot: Subject) -> dict[str, dict[str, int]]:
    """Notification rows by kind (the key's prefix: confirm, staff, ...) and status."""
    rows = bot.query(
        "SELECT substr(key, 1, instr(key, ':') - 1), status, count(*) "
        "FROM notifications GROUP BY 1, 2"
    )
    result: dict[str, dict[str, int]] = {}
    for kind, status, count in rows:
        result.setdefault(str(kind), {})[str(status)] = int(count)
    return result


def _slope(points: list[dict[str, float]]) -> float:
    """Least-squares MB per 1,000 finished conversations (NaN with fewer than two points)."""
    if len(points) < 2:
        return math.nan
    xs = [p["finished"] / 1000 for p in points]
    ys = [p["rss_mb"] for p in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mean_x) ** 2 for x in xs)
    if var == 0:
        return math.nan
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var


async def offered(config: Config, coachview: CoachviewSandbox, started: Started) -> dict[str, Any]:
    """Item 3: ``rate`` updates a second for ``duration`` seconds, echo floor then bot."""
    results: dict[str, Any] = {}
    for kind in ("echo", "bot"):
        async with contextlib.AsyncExitStack() as stack:
            subject = started.note(
                await start_subject(
                    kind, stack=stack, coachview=coachview, workdir=config.out / f"offered-{kind}"
                )
            )
            await _warm_up(subject, coachview, config.warm_up)
            results[kind] = await _offer(subject, coachview, config)
    results["cpu_ratio"] = (
        results["bot"]["cpu_ms_per_update"] / results["echo"]["cpu_ms_per_update"]
    )
    return results


TRANSPORT_ROUNDS = 3


async def webhook(config: Config, coachview: CoachviewSandbox, started: Started) -> dict[str, Any]:
    """Issue 12: first reaction at ``rate`` updates a second, by long polling and by webhook.

    Two fresh bots, both running, take turns (the order alternating) for ``TRANSPORT_ROUNDS``
    rounds of ``duration / TRANSPORT_ROUNDS`` seconds each: on a shared, noisy machine the two
    then see the same noise, which one run after the other did not (the load of other work
    on the two cores decided which came out faster).
    """
    del started  # a webhook start is not a start to the first getUpdates
    segment = replace(config, duration=config.duration / TRANSPORT_ROUNDS)
    transports = ("polling", "webhook")
    runs: dict[str, list[dict[str, Any]]] = {transport: [] for transport in transports}
    reactions: dict[str, list[float]] = {transport: [] for transport in transports}
    async with contextlib.AsyncExitStack() as stack:
        subjects = {
            transport: await start_subject(
                "bot",
                stack=stack,
                coachview=coachview,
                workdir=config.out / f"transport-{transport}",
                webhook=transport == "webhook",
            )
            for transport in transports
        }
        for subject in subjects.values():
            await _warm_up(subject, coachview, config.warm_up)
        for number in range(TRANSPORT_ROUNDS):
            for transport in transports if number % 2 == 0 else transports[::-1]:
                subject = subjects[transport]
                runs[transport].append(await _offer(subject, coachview, segment))
                reactions[transport] += subject.telegram.reactions
    results: dict[str, Any] = {}
    for transport in transports:
        offered = sum(run["offered"] for run in runs[transport])
        found = reactions[transport]
        results[transport] = {
            "offered": offered,
            "failure_count": sum(run["failure_count"] for run in runs[transport]),
            "cpu_ms_per_update": 1000 * sum(run["cpu_s"] for run in runs[transport]) / offered,
            "first_reaction_ms": reaction_ms(found),
            "rounds": runs[transport],
        }
    return results


async def _offer(subject: Subject, coachview: CoachviewSandbox, config: Config) -> dict[str, Any]:
    telegram = subject.telegram
    run = coachview.catalogue.seed.open_run
    base = 1_000_000

    def make_script(number: int) -> Script:
        if subject.kind == "echo":
            return echo_script(base + number, length=ECHO_LENGTH)
        return enrollment_script(base + number, deep_link=run if number % 2 else None)

    telegram.reset_measurements()
    posted = len(coachview.webaanvragen)
    before, driver_before = subject.usage(), driver_cpu()
    lag = LoopLag()
    outcome = await lag.during(
        at_fixed_rate(
            telegram,
            make_script,
            rate=config.rate,
            duration=config.duration,
            first_user_id=subject.take_user_ids(10_000_000),
        )
    )
    if subject.kind == "bot":
        await wait_until(
            lambda: len(coachview.webaanvragen) >= posted + outcome.finished, timeout=60
        )
    after, driver_after = subject.usage(), driver_cpu()
    reactions = telegram.reactions
    elapsed = outcome.elapsed
    return {
        "offered": outcome.updates,
        "offered_per_s": outcome.updates / elapsed if elapsed else math.nan,
        "people": outcome.people,
        "finished": outcome.finished,
        "failure_count": len(outcome.failures),
        "failures": outcome.failures[:10],
        "cpu_s": after.cpu - before.cpu,
        "cpu_ms_per_update": 1000 * (after.cpu - before.cpu) / outcome.updates,
        "cpu_share_of_a_core": (after.cpu - before.cpu) / elapsed if elapsed else math.nan,
        "driver_cpu_s": driver_after - driver_before,
        "first_reaction_ms": reaction_ms(reactions),
        "telegram_limit": {
            "messages_sent": telegram.messages_sent,
            "messages_per_s": telegram.messages_sent / elapsed if elapsed else math.nan,
            "over_global_limit": telegram.over_global_limit,
            "paced_delay_at_end_s": telegram.paced_delay,
            "max_paced_delay_s": telegram.max_paced_delay,
        },
        "bot_api_calls": dict(telegram.call_counts),
        "late_answers": telegram.late_answers,
        "driver_loop_lag_ms": lag.to_json(),
        "rss_mb": after.rss / MB,
    }


def reaction_ms(reactions: list[float]) -> dict[str, float]:
    """First-reaction times (seconds) as milliseconds: p50, p95, p99, max, and how many."""
    return {
        "p50": 1000 * percentile(reactions, 50),
        "p95": 1000 * percentile(reactions, 95),
        "p99": 1000 * percentile(reactions, 99),
        "max": 1000 * max(reactions, default=math.nan),
        "n": len(reactions),
    }


async def drafts(config: Config, coachview: CoachviewSandbox, started: Started) -> dict[str, Any]:
    """Item 5: peak memory with ``drafts`` open drafts (two answers each), beside the echo
    floor after as many people sent two texts."""
    results: dict[str, Any] = {}
    run = coachview.catalogue.seed.open_run
    for kind in ("echo", "bot"):
        async with contextlib.AsyncExitStack() as stack:
            subject = started.note(
                await start_subject(
                    kind, stack=stack, coachview=coachview, workdir=config.out / f"drafts-{kind}"
                )
            )
            idle = subject.usage()
            made = 0
            failures = 0
            while made < config.drafts:
                count = min(config.people, config.drafts - made)
                if kind == "echo":
                    scripts = [echo_script(made + n, length=2) for n in range(count)]
                else:
                    scripts = [
                        [Action(text=f"/start {run}"), Action(text=_FIRST_NAMES[n % 9])]
                        for n in range(count)
                    ]
                wave = await run_wave(subject, scripts)
                failures += len(wave.failures)
                made += count
            usage = subject.usage()
            result: dict[str, Any] = {
                "people": made,
                "failure_count": failures,
                "idle_rss_mb": idle.rss / MB,
                "rss_mb": usage.rss / MB,
                "peak_rss_mb": usage.peak_rss / MB,
            }
            if kind == "bot":
                rows = subject.query("SELECT count(*) FROM drafts WHERE status = 'open'")
                result["open_drafts"] = int(rows[0][0])
            results[kind] = result
    return results


async def starts(config: Config, coachview: CoachviewSandbox, started: Started) -> dict[str, Any]:
    """Item 5: process start to first getUpdates, ``starts`` more of each, taking turns."""
    for index in range(config.starts):
        for kind in ("echo", "bot"):
            async with contextlib.AsyncExitStack() as stack:
                workdir = config.out / f"start-{kind}-{index}"
                started.note(
                    await start_subject(kind, stack=stack, coachview=coachview, workdir=workdir)
                )
    return {kind: list(values) for kind, values in started.seconds.items()}


#: The flood guard and the reply pacing as in production (their defaults);
#: ``BENCH_REPLY_PACING=false`` runs the scenario without the pacing (bench/README.md).
FLOOD_SETTINGS = {
    "FLOOD_MESSAGES": "20",
    "FLOOD_WINDOW": "10",
    "REPLY_PACING": os.environ.get("BENCH_REPLY_PACING", "true"),
}
FLOOD_RATE = 100.0  # messages a second the flooding chat sends


async def flood(config: Config, coachview: CoachviewSandbox, started: Started) -> dict[str, Any]:
    """Issue 15: others' first reaction while one chat floods, beside a quiet wave; the
    messages sent to the flooding chat. Waves alternate quiet, flood, ``repeats`` times."""
    async with contextlib.AsyncExitStack() as stack:
        bot = started.note(
            await start_subject(
                "bot",
                stack=stack,
                coachview=coachview,
                workdir=config.out / "flood-bot",
                settings=FLOOD_SETTINGS,
            )
        )
        await _warm_up(bot, coachview, config.warm_up)
        number = config.warm_up
        quiet: list[WaveResult] = []
        flooded: list[dict[str, Any]] = []
        for _ in range(max(config.repeats, 1)):
            scripts = enrollment_scripts(coachview, number, config.flood_others)
            quiet.append(await run_wave(bot, scripts, coachview=coachview, enrollments=True))
            number += config.flood_others
            flooded.append(await _flooded_wave(bot, coachview, config, number))
            number += config.flood_others
    others_p99 = [1000 * percentile(w["others_reactions"], 99) for w in flooded]
    quiet_p99 = [1000 * w.reaction(99) for w in quiet]
    for wave in flooded:
        del wave["others_reactions"]
    return {
        "reply_pacing": FLOOD_SETTINGS["REPLY_PACING"],
        "quiet_waves": [w.to_json() for w in quiet],
        "flood_waves": flooded,
        "quiet_p99_ms": quiet_p99,
        "flood_p99_ms": others_p99,
        "p99_ratios": [f / q for f, q in zip(others_p99, quiet_p99, strict=True)],
    }


async def _flooded_wave(
    bot: Subject, coachview: CoachviewSandbox, config: Config, number: int
) -> dict[str, Any]:
    """One wave of enrollments while one chat sends ``config.flood`` texts at FLOOD_RATE."""
    telegram = bot.telegram
    flooder = telegram.user("Flood", language_code="en", user_id=bot.take_user_ids(1))
    await flooder.send(f"/start {coachview.catalogue.seed.open_run}")
    await flooder.next_message(timeout=30)
    before = len(flooder.messages)
    began = time.perf_counter()

    async def send_flood() -> None:
        for n in range(config.flood):
            await flooder.send(f"flood {n}")
            await asyncio.sleep(1 / FLOOD_RATE)

    scripts = enrollment_scripts(coachview, number, config.flood_others)
    wave, _ = await asyncio.gather(
        run_wave(bot, scripts, coachview=coachview, enrollments=True), send_flood()
    )
    # Every update of the flood has reached the bot before the figures are read.
    await wait_until(lambda: telegram.pending_updates == 0, timeout=120)
    elapsed = time.perf_counter() - began
    sent = len(flooder.messages) - before
    others = [
        seconds
        for seconds, chat in zip(telegram.reactions, telegram.reaction_chats, strict=True)
        if chat != flooder.id
    ]
    return {
        "wave": wave.to_json(),
        "flood_messages": config.flood,
        "messages_to_flooder": sent,
        "messages_to_flooder_per_s": sent / elapsed if elapsed else math.nan,
        "seconds": elapsed,
        "others_reactions": others,
        "others_first_reaction_ms": {
            p: 1000 * percentile(others, int(p[1:])) for p in ("p50", "p95", "p99")
        },
    }
