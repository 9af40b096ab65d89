"""Issue 12: throughput and CPU per update with 1, 2 and 4 instances on PostgreSQL, 1 on SQLite.

    python -m bench --only instances                    # --people (1,000) at once, 2 waves each
    python -m bench --only instances --people 300 --waves 2

Every configuration is the bot in webhook mode (several instances need one URL): a Telegram
sandbox of its own posts to a round-robin balancer (``tests/balancer.py``) in front of the
instances, each a process listening on a port of its own. The PostgreSQL server is started by
the benchmark from the machine's binaries (``tests/postgres.py``), one database per
configuration; SQLite is a file. Each configuration: a warm-up, then ``--waves`` (at most 3)
waves of ``--people`` enrolling at once (the closed loop of the load scenario). Updates per
second as there; CPU per update is the CPU of every instance **and** of the database server
(PostgreSQL's processes: the postmaster, its children, and what it reaped), from the first
update until Coachview holds every enrollment of the wave, so that SQLite (inside the bot's
process) and PostgreSQL (beside it) are compared on what they cost the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.lab import MB, Subject, WaveResult, run_wave
from bench.proc import BotUnderTest, Usage, usage
from bench.scenarios import Config, enrollment_scripts
from bench.stats import percentile
from bench.telegram import MeasuredTelegram
from sandbox.coachview import CoachviewSandbox
from tests.balancer import RoundRobin
from tests.postgres import PostgresServer, find_binaries

__all__ = ["CONFIGURATIONS", "instances"]

CONFIGURATIONS = (("postgresql", 1), ("postgresql", 2), ("postgresql", 4), ("sqlite", 1))
_TICK = os.sysconf("SC_CLK_TCK")


def postgres_cpu(data: Path) -> float:
    """CPU seconds of the PostgreSQL server of ``data`` so far: the postmaster (with what it
    reaped of its ended children) and its children alive now."""
    pid = int((data / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(entry.name) == pid:
            total += sum(int(value) for value in fields[11:15]) / _TICK  # + cutime, cstime
        elif int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


@dataclass
class Cluster(Subject):
    """Several bot processes behind one balancer, and the database server they share."""

    processes: list[BotUnderTest] = field(default_factory=list)
    postgres_data: Path | None = None

    def usage(self) -> Usage:
        readings = []
        for process in self.processes:
            process.check_running()
            readings.append(usage(process.pid))
        database = postgres_cpu(self.postgres_data) if self.postgres_data else 0.0
        return Usage(
            cpu=sum(r.cpu for r in readings) + database,
            rss=sum(r.rss for r in readings),
            peak_rss=sum(r.peak_rss for r in readings),
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _start_cluster(
    stack: contextlib.AsyncExitStack,
    coachview: CoachviewSandbox,
    workdir: Path,
    *,
    count: int,
    database_url: str,
    postgres: PostgresServer | None,
) -> Cluster:
    telegram = await stack.enter_async_context(MeasuredTelegram())
    ports = [_free_port() for _ in range(count)]
    balancer = await stack.enter_async_context(
        RoundRobin([f"http://127.0.0.1:{port}" for port in ports])
    )
    staff = telegram.group("Staff")
    secret = secrets.token_urlsafe(32)
    processes = []
    for number, port in enumerate(ports):
        environment = {
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_API_URL": telegram.url,
            "LOG_LEVEL": "INFO",
            "COACHVIEW_BASE_URL": coachview.url,
            "COACHVIEW_CLIENT_ID": coachview.client_id,
            "COACHVIEW_CLIENT_SECRET": coachview.client_secret,
            "DATABASE_URL": database_url,
            "STAFF_CHAT_ID": str(staff.id),
            "FLOOD_MESSAGES": "1000000",
            "REPLY_PACING": "false",
            "WEBHOOK_URL": f"{balancer.url}/telegram/updates",
            "WEBHOOK_SECRET": secret,
            "WEBHOOK_LISTEN": f"127.0.0.1:{port}",
        }
        process = BotUnderTest(
            "bot", environment, cwd=workdir, log=workdir / f"log{number}.txt", profile=None
        )
        process.start()
        stack.push_async_callback(asyncio.to_thread, process.stop)
        processes.append(process)
    cluster = Cluster(
        kind="bot",
        telegram=telegram,
        process=processes[0],
        workdir=workdir,
        start_seconds=0.0,
        transport="webhook",
        processes=processes,
        postgres_data=postgres.data if postgres is not None else None,
    )
    # Every instance listening (each answers /healthz) and the webhook set.
    for _ in range(1200):
        cluster.usage()  # raises when one of them died
        if telegram.webhook_url and all(_listening(port) for port in ports):
            return cluster
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the instances did not start within 60 s; see {workdir}")


def _fresh(workdir: Path) -> None:
    """An empty folder: a database or log left by an earlier run would change the figures."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def instances(config: Config, coachview: CoachviewSandbox) -> dict[str, Any]:
    """Each of :data:`CONFIGURATIONS` in turn, the same waves; the ratios to one instance."""
    binaries = find_binaries()
    if binaries is None:
        raise RuntimeError("no PostgreSQL binaries (initdb, pg_ctl): install postgresql")
    server = PostgresServer(binaries)
    await asyncio.to_thread(server.start)
    results: dict[str, Any] = {"cores": os.cpu_count(), "configurations": []}
    try:
        for engine, count in CONFIGURATIONS:
            name = f"{engine}-{count}"
            workdir = config.out / f"instances-{name}"
            await asyncio.to_thread(_fresh, workdir)
            if engine == "postgresql":
                url, postgres = server.create_database(), server
            else:
                url, postgres = f"sqlite:///{workdir / 'bot.db'}", None
            async with contextlib.AsyncExitStack() as stack:
                cluster = await _start_cluster(
                    stack, coachview, workdir, count=count, database_url=url, postgres=postgres
                )
                number = 0
                scripts = enrollment_scripts(coachview, number, config.warm_up)
                await run_wave(cluster, scripts, coachview=coachview, enrollments=True)
                number += config.warm_up
                waves: list[WaveResult] = []
                for _ in range(min(config.waves, 3)):
                    scripts = enrollment_scripts(coachview, number, config.people)
                    waves.append(
                        await run_wave(cluster, scripts, coachview=coachview, enrollments=True)
                    )
                    number += config.people
            results["configurations"].append(_summary(name, engine, count, waves))
            print(_line(results["configurations"][-1]), flush=True)
    finally:
        await asyncio.to_thread(server.stop)
    one = next(c for c in results["configurations"] if c["name"] == "postgresql-1")
    for summary in results["configurations"]:
        summary["throughput_vs_one_postgresql"] = summary["updates_per_s"] / one["updates_per_s"]
    return results


def _summary(name: str, engine: str, count: int, waves: list[WaveResult]) -> dict[str, Any]:
    rates = sorted(w.updates_per_second for w in waves)
    cpus = sorted(1000 * w.cpu_per_update for w in waves)
    reactions = [r for w in waves for r in w.reactions]
    busy = sum(w.elapsed for w in waves)
    return {
        "name": name,
        "database": engine,
        "instances": count,
        "updates_per_s": rates[len(rates) // 2],
        "updates_per_s_range": [rates[0], rates[-1]],
        "cpu_ms_per_update": cpus[len(cpus) // 2],
        "cpu_ms_per_update_range": [cpus[0], cpus[-1]],
        "first_reaction_p99_ms": 1000 * percentile(reactions, 99),
        # Cores busy while the waves ran: the instances and the database, and this process
        # (the sandboxes, the simulated people, the balancer). Their sum is the machine's.
        "cores_bot_and_database": sum(w.cpu for w in waves) / busy if busy else 0.0,
        "cores_driver": sum(w.driver_cpu for w in waves) / busy if busy else 0.0,
        "failures": sum(len(w.failures) for w in waves),
        "rss_mb": waves[-1].rss / MB if waves else 0.0,
        "waves": [w.to_json() for w in waves],
    }


def _line(summary: dict[str, Any]) -> str:
    return (
        f"{summary['name']:>13}: {summary['updates_per_s']:7.1f} updates/s "
        f"[{summary['updates_per_s_range'][0]:.1f}-{summary['updates_per_s_range'][1]:.1f}], "
        f"{summary['cpu_ms_per_update']:.2f} ms CPU/update (instances + database), "
        f"p99 {summary['first_reaction_p99_ms']:.0f} ms, cores: bot+db "
        f"{summary['cores_bot_and_database']:.2f}, driver {summary['cores_driver']:.2f}, "
        f"failures {summary['failures']}"
    )
