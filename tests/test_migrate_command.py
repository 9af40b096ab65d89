"""``enrollbot migrate`` and the bot's start on a database behind its schema, as an operator
meets them: ``python -m bot`` as a process, on SQLite and on PostgreSQL.

On PostgreSQL the bot migrates nothing itself (several instances share the database); on
SQLite it does unless ``DATABASE_AUTO_MIGRATE=false`` (every ``[sqlite]`` end-to-end test starts
the bot on a new file and so relies on it). Either way a database behind the code stops it
with one line that says what to run.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.store import migrations
from bot.store.db import open_engine
from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import TelegramSandbox
from tests.harness import BotProcess


def enrollbot(bot: BotProcess, *args: str) -> subprocess.CompletedProcess[str]:
    """``enrollbot ARGS`` with the bot's environment, as the operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=bot.cwd,
        env=bot.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def current(url: str) -> bool:
    engine = open_engine(url)
    try:
        return migrations.is_current(engine)
    finally:
        engine.dispose()


async def test_the_bot_refuses_a_database_behind_it_until_enrollbot_migrate(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    empty_database_url: str,
    tmp_path: Path,
) -> None:
    on_sqlite = empty_database_url.startswith("sqlite")
    log = tmp_path / "bot.log"
    bot = BotProcess(
        telegram,
        coachview,
        empty_database_url,
        log,
        **({"DATABASE_AUTO_MIGRATE": "false"} if on_sqlite else {}),
    )
    bot.start()
    assert bot.process is not None
    code = await asyncio.to_thread(bot.process.wait, 60)
    said = log.read_text()
    assert code == 2, said
    head = migrations.head_revision()
    assert (
        f"enrollbot: the database is at schema revision none, this version needs {head}: "
        "run `enrollbot migrate` first\n"
    ) in said
    assert "Traceback" not in said
    assert not current(empty_database_url)

    migrated = enrollbot(bot, "migrate")
    assert (migrated.returncode, migrated.stdout) == (
        0,
        f"The database is migrated from schema revision none to {head}.\n",
    ), migrated.stderr
    assert current(empty_database_url)
    again = enrollbot(bot, "migrate")
    assert again.stdout == f"The database is at schema revision {head} already: nothing to do.\n"

    bot.start()
    try:
        anna = telegram.user("Anna", language_code="en")
        await anna.send("/start")
        reply = await anna.next_reply(timeout=30)
        assert reply.text, "the bot answers once the database is migrated"
    finally:
        await bot.stop()


async def test_migrate_says_in_one_line_when_the_database_cannot_be_reached(
    tmp_path: Path, telegram: TelegramSandbox, coachview: CoachviewSandbox
) -> None:
    nowhere = f"postgresql+psycopg://enrollbot@/enrollbot?host={tmp_path}"
    bot = BotProcess(telegram, coachview, nowhere, tmp_path / "bot.log")
    result = enrollbot(bot, "migrate")
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("enrollbot: cannot migrate the database: connection")


def test_migrate_leaves_a_database_of_a_newer_version_alone(
    empty_database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = open_engine(empty_database_url)
    migrations.upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'f00d'")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    assert main(["migrate"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        "enrollbot: cannot migrate the database: Can't locate revision identified by 'f00d' "
        "(a newer version of enrollbot migrated it)"
    )
    assert migrations.current_revision(engine) == "f00d"
    engine.dispose()
