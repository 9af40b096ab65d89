"""``python -m bench``: every measurement of issue 6, then the table, JSON and Markdown.

    python -m bench                  the full run (1,000 people; about 25 minutes)
    python -m bench --size quick     the same, smaller (about 4 minutes)
    python -m bench --only load,starts --people 500
    python -m bench --cprofile       the load run with the bot under cProfile (bench/out/bot.prof)
    python -m bench --only webhook   first reaction at --rate updates/s: webhook vs long polling
    python -m bench --only instances throughput with 1, 2, 4 instances on PostgreSQL, 1 on SQLite

Raw output goes to ``bench/out/`` (git-ignored); the full run with nothing changed also writes
``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import pstats
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import report
from bench.instances import instances
from bench.proc import ROOT
from bench.scenarios import (
    PROFILES,
    Config,
    Started,
    drafts,
    flood,
    load,
    offered,
    starts,
    webhook,
)
from sandbox.coachview import CoachviewSandbox

SCENARIOS = ("load", "offered", "drafts", "flood", "starts")
EXTRA = ("webhook", "instances")
"""Scenarios run only when named in --only (issue 12: webhook vs long polling, instances)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=sorted(PROFILES), default="full")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="scenarios, comma-separated")
    parser.add_argument("--people", type=int, help="people at once in a wave")
    parser.add_argument("--waves", type=int, help="waves of enrollments in the load run")
    parser.add_argument("--repeats", type=int, help="of those, how many beside an echo wave")
    parser.add_argument("--rate", type=float, help="updates per second offered")
    parser.add_argument("--duration", type=float, help="seconds the rate is offered")
    parser.add_argument("--drafts", type=int, help="open drafts for the memory figure")
    parser.add_argument("--starts", type=int, help="extra starts of each process")
    parser.add_argument(
        "--cprofile", action="store_true", help="run the loaded bot under cProfile"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--results", type=Path, help="the Markdown file (full: bench/RESULTS.md)")
    return parser


def config_from(args: argparse.Namespace) -> Config:
    config = PROFILES[args.size]
    changes: dict[str, Any] = {
        name: getattr(args, name)
        for name in ("people", "waves", "repeats", "rate", "duration", "drafts", "starts")
        if getattr(args, name) is not None
    }
    changes["profile"] = args.cprofile
    changes["out"] = args.out
    config = replace(config, **changes)
    return replace(config, repeats=min(config.repeats, config.waves))


async def run(config: Config, only: tuple[str, ...], command: str) -> dict[str, Any]:
    """Run the chosen scenarios; return everything measured."""
    unknown = set(only) - set(SCENARIOS) - set(EXTRA)
    if unknown:
        raise ValueError(f"unknown scenarios: {sorted(unknown)}")
    config.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "command": command,
        "machine": report.machine(),
        "config": config.to_json(),
    }
    began = time.perf_counter()
    started = Started()
    async with CoachviewSandbox() as coachview:
        # A run sends far more than Coachview's 5,000 requests a day.
        coachview.set_budget(limit=10**9, remaining=10**9)
        if "load" in only:
            results["load"] = await load(config, coachview, started)
        if "offered" in only:
            results["offered"] = await offered(config, coachview, started)
        if "drafts" in only:
            results["drafts"] = await drafts(config, coachview, started)
        if "flood" in only:
            results["flood"] = await flood(config, coachview, started)
        if "starts" in only:
            results["starts"] = await starts(config, coachview, started)
        if "webhook" in only:
            results["webhook"] = await webhook(config, coachview, started)
        if "instances" in only:
            results["instances"] = await instances(config, coachview)
    results["duration_s"] = time.perf_counter() - began
    return results


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    config = config_from(args)
    only = tuple(part.strip() for part in args.only.split(",") if part.strip())
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    results = asyncio.run(run(config, only, command))
    table = report.rows(results)
    results["table"] = [row.__dict__ | {"met": row.met} for row in table]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    report.write_json(config.out / "results.json", results)
    report.write_json(config.out / f"results-{stamp}.json", results)
    # Only the full run as it is documented replaces the committed RESULTS.md.
    documented = config == replace(PROFILES["full"], out=config.out) and set(only) == set(
        SCENARIOS
    )
    target = args.results or (
        ROOT / "bench" / "RESULTS.md" if documented else config.out / "RESULTS.md"
    )
    target.write_text(report.markdown(results, table))
    print(report.text_table(table))
    print(f"\nJSON: {config.out / 'results.json'}\nMarkdown: {target}")
    if config.profile:
        print(f"Profile of the loaded bot: {_profile_summary(config.out / 'bot.prof')}")
    return 0


def _profile_summary(path: Path) -> Path:
    """The cProfile statistics as text: the top functions by cumulative and by own time."""
    summary = path.with_suffix(".txt")
    with summary.open("w") as handle:
        stats = pstats.Stats(str(path), stream=handle)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
    return summary


if __name__ == "__main__":
    sys.exit(main())
