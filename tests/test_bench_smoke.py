"""The benchmark, run small, so that it cannot rot: every scenario against the real bot
process and the echo floor, a few people each. Speed is not asserted here (bench/README.md)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from bench import echo, report
from bench.__main__ import SCENARIOS, run
from bench.instances import CONFIGURATIONS
from bench.scenarios import PROFILES
from bot.app import CONCURRENT_UPDATES


def test_the_floor_runs_with_the_bots_concurrency() -> None:
    assert echo.CONCURRENT_UPDATES == CONCURRENT_UPDATES


async def test_every_benchmark_runs_and_every_enrollment_arrives(tmp_path: Path) -> None:
    config = replace(PROFILES["smoke"], out=tmp_path)

    results = await run(config, SCENARIOS, "python -m bench --size smoke")

    load = results["load"]
    waves = load["echo_waves"] + load["bot_waves"]
    assert len(load["bot_waves"]) == config.waves
    assert [w["failure_count"] for w in waves] == [0] * len(waves)
    for wave in load["bot_waves"]:
        # A whole enrollment is 11 or 13 updates; every one of them got a reaction.
        assert wave["first_reaction_ms"]["n"] == wave["updates"] >= 11 * config.people
        assert wave["coachview_requests"]["post"] == config.people
    enrollments = config.warm_up + config.waves * config.people
    assert load["coachview"]["enrollments"] == enrollments
    assert load["memory"][-1]["finished"] == enrollments

    for kind in ("echo", "bot"):
        offered = results["offered"][kind]
        assert offered["failure_count"] == 0
        assert offered["offered"] == round(config.rate * config.duration)
        assert offered["first_reaction_ms"]["n"] == offered["offered"]
    assert results["drafts"]["bot"]["open_drafts"] == config.drafts
    # The flood scenario starts a bot of its own (with the production flood guard).
    assert len(results["starts"]["echo"]) == 3
    assert len(results["starts"]["bot"]) == 4
    for wave in results["flood"]["flood_waves"]:
        assert wave["wave"]["failure_count"] == 0  # the others all enrolled
        assert 1 <= wave["messages_to_flooder"] < config.flood

    table = report.rows(results)
    assert {row.item for row in table} == {"1, 2", "2", "3", "4", "5", "15.2", "–"}
    text = report.markdown(results, table)
    assert "| # | What | Bot | Reference | Ratio | Target | Met |" in text
    assert results["machine"]["cores"] and results["machine"]["python"] in text
    json.dumps(results)  # everything measured can be written as JSON


async def test_the_webhook_benchmark_runs_both_transports(tmp_path: Path) -> None:
    config = replace(PROFILES["smoke"], out=tmp_path)

    results = await run(config, ("webhook",), "python -m bench --size smoke --only webhook")

    for transport in ("polling", "webhook"):
        offered = results["webhook"][transport]
        assert offered["failure_count"] == 0
        assert offered["offered"] >= round(config.rate * config.duration)
        assert offered["first_reaction_ms"]["n"] == offered["offered"]
    webhook_rounds = results["webhook"]["webhook"]["rounds"]
    assert all(run["bot_api_calls"].get("getUpdates", 0) == 0 for run in webhook_rounds)
    assert [row.item for row in report.rows(results)] == ["12"]


async def test_the_instances_benchmark_runs_every_configuration(
    tmp_path: Path, postgres: object
) -> None:
    """Issue 12: 1, 2 and 4 instances on PostgreSQL (a server the benchmark starts itself; the
    ``postgres`` fixture only skips this where there are no binaries) and 1 on SQLite."""
    del postgres
    config = replace(PROFILES["smoke"], out=tmp_path)

    results = await run(config, ("instances",), "python -m bench --size smoke --only instances")

    found = results["instances"]["configurations"]
    assert [(c["database"], c["instances"]) for c in found] == list(CONFIGURATIONS)
    for configuration in found:
        assert configuration["failures"] == 0
        for wave in configuration["waves"]:
            assert wave["first_reaction_ms"]["n"] == wave["updates"] >= 11 * config.people
            assert wave["coachview_requests"]["post"] == config.people
    json.dumps(results)
