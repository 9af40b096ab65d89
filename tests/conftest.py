"""Fixtures shared by the end-to-end tests: both sandboxes and the bot between them."""

from __future__ import annotations

import asyncio
import io
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.telegram.limits import TelegramLimits
from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import SandboxGroup, SandboxUser, TelegramSandbox
from tests.harness import RunningBot, running_bot
from tests.postgres import PostgresServer, find_binaries

STAFF_ID = 900001


@pytest.fixture(autouse=True)
def no_outside_configuration(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Nothing from the developer's shell reaches the bot under test."""
    prefixes: tuple[str, ...] = ("TELEGRAM_", "COACHVIEW_", "STAFF_", "DATABASE_", "DEFAULT_")
    prefixes += ("LOG_LEVEL", "QUESTIONS_FILE", "TERMS_")
    for name in list(os.environ):
        if name.startswith(prefixes):
            monkeypatch.delenv(name)
    for name in (
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "WEBHOOK_LISTEN",
        "METRICS_LISTEN",
        "LOG_FORMAT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    yield


HANG_REPORT_AFTER = 90.0
"""Seconds after which a test that still runs has its asyncio tasks' stacks printed (before
pytest-timeout's 120 s ends it), so a hang in CI says where it waits."""


@pytest.fixture(autouse=True)
async def report_a_hang() -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()

    def dump() -> None:
        out = io.StringIO()
        for task in asyncio.all_tasks(loop):
            print(f"--- {task.get_name()}: {task.get_coro()!r}", file=out)
            task.print_stack(limit=12, file=out)
        print(f"asyncio tasks after {HANG_REPORT_AFTER:g} s:\n{out.getvalue()}", file=sys.stderr)

    timer = threading.Timer(HANG_REPORT_AFTER, loop.call_soon_threadsafe, args=(dump,))
    timer.daemon = True
    timer.start()
    yield
    timer.cancel()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run, started when a test first needs it. Without the
    binaries the PostgreSQL variants fail under CI (which must prove both) and skip elsewhere."""
    binaries = find_binaries()
    if binaries is None:
        reason = (
            "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin, "
            "$POSTGRES_BIN or PATH: install the postgresql package"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    server = PostgresServer(binaries)
    try:
        server.start()
        yield server
    finally:
        server.stop()


DATABASES = ["sqlite", "postgresql"]


def _database(request: pytest.FixtureRequest, tmp_path: Path, *, migrated: bool) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.create_database(migrated=migrated)
    yield url
    server.drop_database(url)
    assert not (tmp_path / "bot.db").exists(), (
        "this test made an SQLite database in its [postgresql] run: give the bot `database_url`"
    )


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The bot's database, once as an SQLite file (which the bot migrates when it starts) and
    once as a PostgreSQL database of its own, migrated as ``enrollbot migrate`` does (test ids
    ``[sqlite]`` and ``[postgresql]``)."""
    yield from _database(request, tmp_path, migrated=True)


@pytest.fixture(params=DATABASES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without any table yet, on SQLite and on PostgreSQL."""
    yield from _database(request, tmp_path, migrated=False)


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramSandbox]:
    """The Telegram sandbox; unlimited, since a simulated person types in microseconds."""
    async with TelegramSandbox(limits=TelegramLimits.unlimited()) as sandbox:
        yield sandbox


@pytest.fixture
async def coachview() -> AsyncIterator[CoachviewSandbox]:
    """The Coachview sandbox with its seeded catalogue."""
    async with CoachviewSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def staff(telegram: TelegramSandbox) -> SandboxUser:
    """A staff member (in STAFF_USER_IDS), also in the staff group."""
    return telegram.user("Sanne", language_code="nl", user_id=STAFF_ID)


@pytest.fixture
def staff_group(telegram: TelegramSandbox, staff: SandboxUser) -> SandboxGroup:
    """The group that receives staff notifications (STAFF_CHAT_ID)."""
    return telegram.group("Staff", members=[staff])


@pytest.fixture
async def enrollbot(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    staff_group: SandboxGroup,
    database_url: str,
) -> AsyncIterator[RunningBot]:
    """The real bot between the two sandboxes, with staff configured."""
    async with running_bot(
        telegram,
        coachview,
        database_url,
        staff_user_ids=str(STAFF_ID),
        staff_chat_id=staff_group.id,
    ) as running:
        yield running
