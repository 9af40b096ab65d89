"""The bot dies (SIGKILL) on the way to Coachview, and still every enrollment arrives once.

The bot runs as its own process (``python -m bot``, as in production) so it can be killed with
no shutdown code running. Where it dies is chosen without hooks in the bot:

- *after confirming, before sending*: the first process runs with ``SUBMISSIONS_PAUSED`` (an
  operator's switch), so the outbox row is committed and nothing is sent, as when the process
  dies between the commit and the POST;
- *while the POST is in flight*: Coachview holds the POST (stored and not yet answered, or not
  even read), and the test kills the bot as soon as the sandbox has the request.

Two outbox workers over one database file run as two processes of ``tests/outbox_worker.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from bot.coachview.reference import new_reference
from bot.store import outbox
from bot.store.db import open_engine
from bot.store.models import OutboxEntry, OutboxStatus
from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import TelegramSandbox
from tests.enrolling import (
    FAST_ENV,
    SAVED,
    SEND,
    WEBAANVRAGEN,
    ScriptedPerson,
    count,
    numbers,
    reference_lookups,
    reference_of,
)
from tests.harness import ROOT, BotProcess, wait_until


def rows(database: str) -> list[OutboxEntry]:
    engine = open_engine(database)
    try:
        with Session(engine) as session:
            return list(session.exec(select(OutboxEntry).order_by(col(OutboxEntry.id))).all())
    finally:
        engine.dispose()


@contextlib.contextmanager
def bot_process(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    tmp_path: Path,
    database: str,
    **env: str,
) -> Iterator[BotProcess]:
    process = BotProcess(telegram, coachview, database, tmp_path / "bot.log", **FAST_ENV, **env)
    process.start()
    try:
        yield process
    finally:
        if process.process is not None and process.process.poll() is None:
            process.kill()  # a graceful stop waits for Telegram's long poll to end


async def test_killed_after_confirming_before_sending_then_restarted_sends_once(
    telegram: TelegramSandbox, coachview: CoachviewSandbox, tmp_path: Path, database_url: str
) -> None:
    anna = ScriptedPerson(telegram, "Anna")
    paused = bot_process(telegram, coachview, tmp_path, database_url, SUBMISSIONS_PAUSED="true")
    with paused as first:
        await anna.enroll(coachview.catalogue.seed.open_soort)
        (entry,) = rows(database_url)
        assert (entry.status, entry.attempts, entry.maybe_sent) == ("pending", 0, False)
        first.kill()
    assert coachview.requests_to(WEBAANVRAGEN) == []

    with bot_process(telegram, coachview, tmp_path, database_url):
        await wait_until(lambda: numbers(anna.user), 20, "the confirmation after the restart")
        (stored,) = coachview.webaanvragen
        assert numbers(anna.user) == [str(stored.nummer)]
        assert reference_of(stored.body) == entry.reference
        assert len(coachview.requests_to(WEBAANVRAGEN, "POST")) == 1
        assert count(anna.user, SAVED) == 0  # nothing failed, as far as Anna can tell


@pytest.mark.parametrize("coachview_has_it", [True, False], ids=["stored", "not read"])
async def test_killed_while_the_post_is_in_flight_then_restarted_sends_once(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    tmp_path: Path,
    database_url: str,
    coachview_has_it: bool,
) -> None:
    if coachview_has_it:
        coachview.faults.add(method="POST", path=WEBAANVRAGEN, action="delay", delay=60)
    else:
        coachview.faults.add(method="POST", path=WEBAANVRAGEN, action="hang")
    anna = ScriptedPerson(telegram, "Anna")
    with bot_process(telegram, coachview, tmp_path, database_url) as first:
        await anna.to_review(coachview.catalogue.seed.open_soort)
        press = asyncio.create_task(anna.user.press(SEND, timeout=60))
        await wait_until(
            lambda: coachview.requests_to(WEBAANVRAGEN, "POST"), 20, "the POST to arrive"
        )
        if coachview_has_it:  # the request is recorded before its body is read: wait for both
            await wait_until(lambda: coachview.webaanvragen, 20, "Coachview to store it")
        first.kill()
        press.cancel()
        with contextlib.suppress(asyncio.CancelledError, AssertionError):
            await press
    assert len(coachview.requests_to(WEBAANVRAGEN, "POST")) == 1
    assert len(coachview.webaanvragen) == (1 if coachview_has_it else 0)
    (entry,) = rows(database_url)
    assert (entry.status, entry.maybe_sent, entry.coachview_nummer) == ("pending", True, None)
    coachview.faults.clear()

    with bot_process(telegram, coachview, tmp_path, database_url):
        await wait_until(lambda: numbers(anna.user), 20, "the confirmation after the restart")
        (stored,) = coachview.webaanvragen
        assert reference_of(stored.body) == entry.reference
        assert numbers(anna.user) == [str(stored.nummer)]
        posts = coachview.requests_to(WEBAANVRAGEN, "POST")
        assert len(posts) == (1 if coachview_has_it else 2)
        lookups = reference_lookups(coachview)
        assert len(lookups) == 1
        assert all(lookup.when < post.when for lookup in lookups for post in posts[1:])


def _worker(coachview: CoachviewSandbox, database: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "COACHVIEW_BASE_URL": coachview.url,
        "COACHVIEW_CLIENT_ID": coachview.client_id,
        "COACHVIEW_CLIENT_SECRET": coachview.client_secret,
        "DATABASE_URL": database,
        "LOG_LEVEL": "INFO",
        **FAST_ENV,
    }
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.outbox_worker"],
            cwd=log.parent,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def _recorded_by(log: Path) -> set[int]:
    """The outbox rows a worker recorded as submitted, from its log (written after the
    commit, whether the webaanvraag was posted or found by a look-up)."""
    found = set()
    for line in log.read_text().splitlines():
        if " submitted as webaanvraag " in line:
            found.add(int(line.split("outbox ", 1)[1].split()[0]))
    return found


def _enqueue(database: str, soort: str, count: int, chats: int) -> None:
    """``count`` confirmed enrollments of ``chats`` people, as the submit action writes them."""
    engine = open_engine(database)
    now = datetime.now(UTC)
    with Session(engine) as session:
        for number in range(count):
            reference = new_reference()
            outbox.enqueue(
                session,
                draft_id=number + 1,
                reference=reference,
                chat_id=700_000_000 + number % chats,
                user_id=700_000_000 + number % chats,
                language="en",
                payload={
                    "opmerking": f"enrollment {number}\n{reference}",
                    "contactpersoon": {"voornaam": "Anna", "achternaam": f"Jansen {number}"},
                    "opleidingen": [{"opleidingssoortId": soort}],
                },
                summary={},
                now=now,
            )
        session.commit()
    engine.dispose()


async def test_two_worker_processes_over_one_database_send_each_row_once(
    coachview: CoachviewSandbox, tmp_path: Path, database_url: str
) -> None:
    database = database_url
    # Slow answers widen every window; errors and lost answers make rows change hands.
    coachview.faults.add(method="POST", path=WEBAANVRAGEN, status=500, probability=0.15)
    coachview.faults.add(method="POST", path=WEBAANVRAGEN, action="drop", probability=0.15)
    coachview.faults.add(method="POST", path=WEBAANVRAGEN, action="delay", delay=0.4, times=None)
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    first, second = (_worker(coachview, database, log) for log in logs)
    try:
        await wait_until(
            lambda: all("worker" in log.read_text() for log in logs), 20, "both workers started"
        )
        # Fifty people confirm a hundred enrollments at once. A worker has at most twenty in
        # flight and each takes 0.4 s, so whichever polls second still finds rows to take.
        _enqueue(database, coachview.catalogue.seed.open_soort, count=100, chats=50)
        mark = f":{first.pid}:"

        def sending_by_first() -> set[int | None]:
            return {
                e.id
                for e in rows(database)
                if e.lease_owner and mark in e.lease_owner and e.maybe_sent
            }

        await wait_until(
            lambda: _recorded_by(logs[0]) and len(sending_by_first()) >= 2,
            30,
            "the first worker with POSTs in flight",
        )
        first.kill()  # SIGKILL: its leases run out and the second takes its rows over
        first.wait(timeout=30)
        held = {e.id for e in rows(database) if e.lease_owner and mark in e.lease_owner}
        await wait_until(
            lambda: all(e.status == OutboxStatus.SUBMITTED for e in rows(database)),
            60,
            "every row submitted",
        )
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)

    entries = rows(database)
    arrived = [reference_of(stored.body) for stored in coachview.webaanvragen]
    assert sorted(arrived) == sorted(entry.reference for entry in entries)  # each once
    for chat in {entry.chat_id for entry in entries}:
        mine = [entry.reference for entry in entries if entry.chat_id == chat]
        assert [ref for ref in arrived if ref in mine] == mine  # in order of confirmation
    by_first, by_second = (_recorded_by(log) for log in logs)
    assert by_first and by_second, "both workers took part"
    assert not by_first & by_second
    # (The first may have died between recording a row and logging it: no union check.)
    assert held, "the first worker died holding rows"
    assert held <= by_second, "the second took over the rows the first held when it died"
    assert any(r.status == "dropped" for r in coachview.requests), "answers were lost"
