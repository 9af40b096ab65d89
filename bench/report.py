"""The results as a table (printed), JSON (everything measured) and Markdown (RESULTS.md)."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.proc import ROOT
from bench.stats import Spread, spread

__all__ = ["Row", "machine", "markdown", "rows", "text_table", "write_json"]

PACKAGES = (
    "python-telegram-bot",
    "httpx",
    "httpcore",
    "sqlalchemy",
    "sqlmodel",
    "pydantic",
    "babel",
    "aiohttp",
)


def machine() -> dict[str, Any]:
    """What the figures came from: processor, cores, memory, system, Python, packages, commit."""
    model = ""
    with_cpuinfo = Path("/proc/cpuinfo")
    if with_cpuinfo.exists():
        for line in with_cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        first = meminfo.read_text().splitlines()[0]
        memory = f"{int(first.split()[1]) / 1024 / 1024:.1f} GiB"
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    return {
        "processor": model or platform.processor(),
        "cores": os.cpu_count(),
        "memory": memory,
        "system": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "load_average": os.getloadavg(),
        # What the echo floor speaks HTTP over (bench/lab.py); the bot always uses aiohttp.
        "floor_http": os.environ.get("BENCH_FLOOR_HTTP", "httpx"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure of the bot beside its reference."""

    item: str
    what: str
    bot: str
    reference: str
    ratio: str = ""
    target: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> str:
        return {True: "yes", False: "NO", None: ""}[self.met]


def _num(value: float, digits: int = 1) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _spread(values: list[float], digits: int = 1) -> str:
    s = spread(values)
    if s.n <= 1:
        return _num(s.median, digits)
    return f"{_num(s.median, digits)} [{_num(s.low, digits)}–{_num(s.high, digits)}]"


def _median(values: list[float]) -> Spread:
    return spread(values)


def rows(results: dict[str, Any]) -> list[Row]:
    """The table of issue 6's items, from the results of one run."""
    config = results["config"]
    table: list[Row] = []
    load = results.get("load")
    if load:
        pairs = len(load["pairs"])
        echo_waves = load["echo_waves"]
        bot_waves = load["bot_waves"][:pairs]
        people = config["people"]
        cpu_ratios = [p["cpu_ratio"] for p in load["pairs"]]
        table.append(
            Row(
                "1, 2",
                f"Updates per second, {people:,} people at once (bot: whole enrollments)",
                _spread([w["updates_per_s"] for w in bot_waves], 0),
                _spread([w["updates_per_s"] for w in echo_waves], 0) + " (echo floor)",
                _spread([p["throughput_ratio"] for p in load["pairs"]], 2) + "×",
            )
        )
        table.append(
            Row(
                "1, 2",
                "CPU per update, ms (bot process, OS accounting)",
                _spread([w["cpu_ms_per_update"] for w in bot_waves], 2),
                _spread([w["cpu_ms_per_update"] for w in echo_waves], 2) + " (echo floor)",
                _spread(cpu_ratios, 2) + "×",
                "≤ 1.25×",
                _median(cpu_ratios).median <= 1.25,
            )
        )

        def pcts(waves: list[dict[str, Any]]) -> str:
            return " / ".join(
                _num(_median([w["first_reaction_ms"][p] for w in waves]).median, 0)
                for p in ("p50", "p95", "p99")
            )

        late = sum(w.get("late_answers", 0) for w in load["bot_waves"])
        presses = late + sum(
            w["bot_api_calls"].get("answerCallbackQuery", 0)
            - w["bot_api_calls"].get("answerCallbackQuery!", 0)
            for w in load["bot_waves"]
        )
        table.append(
            Row(
                "2",
                f"First reaction p50 / p95 / p99, ms, {people:,} people at once",
                pcts(bot_waves)
                + (f"; {late:,} of {presses:,} presses answered after 15 s" if late else ""),
                pcts(echo_waves) + " (echo floor)",
            )
        )
    offered = results.get("offered")
    if offered:
        bot, echo = offered["bot"], offered["echo"]
        rate, duration = config["rate"], config["duration_s"]
        p99 = bot["first_reaction_ms"]["p99"]
        table.append(
            Row(
                "3",
                f"First reaction p99, ms, {rate:g} updates/s offered for {duration:g} s",
                _num(p99, 1) + f" (p50 {_num(bot['first_reaction_ms']['p50'], 1)}, p95 "
                f"{_num(bot['first_reaction_ms']['p95'], 1)}; the driver's own lag p99 "
                f"{_num(bot.get('driver_loop_lag_ms', {}).get('p99', math.nan), 1)})",
                _num(echo["first_reaction_ms"]["p99"], 1) + " (echo floor)",
                _num(p99 / echo["first_reaction_ms"]["p99"], 2) + "×",
                "≤ 50 ms",
                p99 <= 50,
            )
        )
        table.append(
            Row(
                "3",
                f"CPU per update, ms, at {rate:g} updates/s",
                _num(bot["cpu_ms_per_update"], 2),
                _num(echo["cpu_ms_per_update"], 2) + " (echo floor)",
                _num(offered["cpu_ratio"], 2) + "×",
                "≤ 1.25×",
                offered["cpu_ratio"] <= 1.25,
            )
        )
        limit = bot["telegram_limit"]
        share = limit["over_global_limit"] / max(limit["messages_sent"], 1)
        table.append(
            Row(
                "3",
                f"New messages per second at {rate:g} updates/s (not paced; real limit counted)",
                f"{_num(limit['messages_per_s'], 1)}/s: {share:.0%} over the limit; a paced "
                f"queue would wait {_num(limit['max_paced_delay_s'], 1)} s",
                "30/s (Telegram overall)",
            )
        )
    transports = results.get("webhook")
    if transports:
        hook, poll = transports["webhook"], transports["polling"]
        rate = config["rate"]

        def reaction(run: dict[str, Any]) -> str:
            first = run["first_reaction_ms"]
            rounds = " / ".join(_num(r["first_reaction_ms"]["p99"], 0) for r in run["rounds"])
            return f"{_num(first['p99'], 1)} (p50 {_num(first['p50'], 1)}; rounds {rounds})"

        table.append(
            Row(
                "12",
                f"First reaction p99, ms, {rate:g} updates/s, taking turns: webhook vs polling",
                reaction(hook) + f"; CPU/update {_num(hook['cpu_ms_per_update'], 2)} ms",
                reaction(poll)
                + f"; CPU/update {_num(poll['cpu_ms_per_update'], 2)} ms (long polling)",
                _num(hook["first_reaction_ms"]["p99"] / poll["first_reaction_ms"]["p99"], 2) + "×",
            )
        )
    if load:
        cost = load["coachview"]
        steady = cost["steady_per_enrollment"]
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(cost["steady_requests"].items()))
        table.append(
            Row(
                "4",
                "Coachview requests per enrollment (steady: after the first wave)",
                f"{steady:.3f} ({kinds})",
                "1 (one POST)",
                f"{steady:.3f}×",
                "≤ 1.005",
                steady <= 1.005,
            )
        )
        table.append(
            Row(
                "4",
                "Coachview requests per enrollment (whole run, from the bot's start)",
                f"{cost['per_enrollment']:.3f}",
                "1 (one POST)",
            )
        )
    flooded = results.get("flood")
    if flooded:
        ratios = flooded["p99_ratios"]
        waves = flooded["flood_waves"]
        others = config.get("flood_others", 0)
        table.append(
            Row(
                "15.2",
                f"Others' first reaction p99, ms, {others} enrolling while one chat sends "
                f"{config.get('flood', 0)} messages",
                _spread(flooded["flood_p99_ms"], 0),
                _spread(flooded["quiet_p99_ms"], 0) + " (quiet)",
                _spread(ratios, 2) + "×",
            )
        )
        table.append(
            Row(
                "15.2",
                "Messages sent to the flooding chat (per second over the flood wave)",
                " / ".join(
                    f"{w['messages_to_flooder']} ({_num(w['messages_to_flooder_per_s'], 2)}/s)"
                    for w in waves
                ),
                "≤ 1/s (Telegram per chat)",
            )
        )
    memory = results.get("drafts")
    if memory:
        bot_peak = memory["bot"]["peak_rss_mb"]
        table.append(
            Row(
                "5",
                f"Peak RSS, MB, with {memory['bot'].get('open_drafts', 0):,} open drafts",
                _num(bot_peak, 1),
                _num(memory["echo"]["peak_rss_mb"], 1) + " (echo floor)",
                _num(bot_peak / memory["echo"]["peak_rss_mb"], 2) + "×",
                "≤ 120 MB",
                bot_peak <= 120,
            )
        )
    if load:
        track = load["memory"]
        growth = load["memory_growth_mb_per_1000"]
        table.append(
            Row(
                "5",
                f"RSS across {track[-1]['finished']:,} finished conversations, MB",
                f"{_num(track[1]['rss_mb'] if len(track) > 1 else math.nan, 1)} → "
                f"{_num(track[-1]['rss_mb'], 1)}; {_num(growth, 2)} per 1,000",
                "",
                "",
                "flat (< 0.5 per 1,000)",
                None if math.isnan(growth) else growth < 0.5,
            )
        )
    started = results.get("starts")
    if started:
        bot_start = _median(started["bot"]).median
        table.append(
            Row(
                "5",
                "Process start to first getUpdates, s",
                _spread(started["bot"], 2),
                _spread(started["echo"], 2) + " (echo floor)",
                _num(bot_start / _median(started["echo"]).median, 2) + "×",
                "≤ 1.5 s",
                bot_start <= 1.5,
            )
        )
    if load:
        notes = load["notifications"]

        def sent(kind: str) -> str:
            counts = notes.get(kind, {})
            return f"{counts.get('sent', 0):,} of {sum(counts.values()):,}"

        table.append(
            Row(
                "–",
                f"Sent when the load ended plus {load['bot_total']['drain_s']:.0f} s "
                "(confirmations; staff notices)",
                f"{sent('confirm')}; {sent('staff')}",
                "",
            )
        )
    return table


HEADERS = ("#", "What", "Bot", "Reference", "Ratio", "Target", "Met")


def _cells(row: Row) -> tuple[str, ...]:
    return (row.item, row.what, row.bot, row.reference, row.ratio, row.target, row.verdict)


def text_table(table: list[Row]) -> str:
    """The table for the terminal."""
    lines = [HEADERS, *(_cells(row) for row in table)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADERS))]
    out = []
    for index, line in enumerate(lines):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def markdown_table(table: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in table]
    return "\n".join(lines)


def _floor_transport(floor_http: str) -> str:
    if floor_http == "aiohttp":
        return (
            "The echo floor speaks HTTP over aiohttp, as the bot does "
            "(`BENCH_FLOOR_HTTP=aiohttp`): a ratio is the bot's own work alone."
        )
    return (
        "The echo floor is bare PTB and speaks HTTP over httpx, PTB's default; the bot speaks "
        "it over aiohttp (`bot/telegram/http.py`), which costs less per call: a ratio includes "
        "that saving. `bench/README.md` has the ratios on one transport."
    )


def markdown(results: dict[str, Any], table: list[Row], notes: str = "") -> str:
    """RESULTS.md: the machine, the command, the table, then the details of each item."""
    m = results["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    load_avg = ", ".join(f"{x:.2f}" for x in m["load_average"])
    parts = [
        "# Benchmark results",
        "",
        f"Produced by `{results['command']}` on {m['date']} in {results['duration_s'] / 60:.1f}"
        f" min, at commit `{m['commit']}`"
        + (" (with uncommitted changes)" if m["uncommitted_changes"] else "")
        + ". How to read it: `bench/README.md`.",
        "",
        "## The machine",
        "",
        f"- {m['processor']}, {m['cores']} cores, {m['memory']}; {m['system']}",
        f"- Python {m['python']}; {packages}",
        f"- Load average when the run began: {load_avg} (a shared machine: other work ran "
        "beside the benchmark, which is why every figure stands beside its reference)",
        "",
        "## The table",
        "",
        "Figures are medians with [min–max] over the repeated waves where there are several.",
        _floor_transport(m.get("floor_http", "httpx")),
        "",
        markdown_table(table),
        "",
    ]
    if notes:
        parts += [notes.strip(), ""]
    parts += ["## Details", "", "```json", json.dumps(_details(results), indent=1), "```", ""]
    return "\n".join(parts)


def _details(results: dict[str, Any]) -> dict[str, Any]:
    """The per-wave figures, without the long lists."""
    keep = dict(results)
    keep.pop("machine", None)
    return keep


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=str) + "\n")
