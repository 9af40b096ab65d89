"""``python -m bot`` in webhook mode, as the container runs it: configured by the environment,
logging JSON lines, stopped by SIGTERM, and killed (SIGKILL) after it acknowledged an update
it had not yet handled: the restarted bot handles it, and Telegram never sends it again."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import TelegramSandbox
from tests.enrolling import CONFIRMED, FAST_ENV, ScriptedPerson
from tests.harness import BotProcess, free_socket, wait_until

SECRET = secrets.token_urlsafe(32)


@pytest.fixture
async def process(
    database_url: str, telegram: TelegramSandbox, coachview: CoachviewSandbox, tmp_path: Path
) -> AsyncIterator[BotProcess]:
    with free_socket() as sock:  # a free port, given to the bot (closed here first)
        port = sock.getsockname()[1]
    bot = BotProcess(
        telegram,
        coachview,
        database_url,
        tmp_path / "bot.log",
        WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/updates",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN=f"127.0.0.1:{port}",
        LOG_FORMAT="json",
        # Anna's update must stay in hand until the test releases Coachview's answer: the
        # 5 s patience of the conversation would otherwise end it first on a busy machine.
        COACHVIEW_PATIENCE="120",
        **FAST_ENV,
    )
    try:
        yield bot
    finally:
        await bot.stop()
        print(bot.log.read_text(errors="replace"))


def log_lines(process: BotProcess) -> list[dict[str, str]]:
    return [json.loads(line) for line in process.log.read_text().splitlines() if line.strip()]


async def test_an_enrollment_through_the_webhook_of_a_process_logging_json(
    telegram: TelegramSandbox, coachview: CoachviewSandbox, process: BotProcess
) -> None:
    process.start()
    await wait_until(lambda: telegram.webhook_url, 60, "the bot to set its webhook")
    anna = ScriptedPerson(telegram, "Anna")
    await anna.enroll(coachview.catalogue.seed.open_soort)
    await anna.expect(CONFIRMED)
    await process.stop()

    assert process.process is not None and process.process.returncode == 0
    assert telegram.calls_to("getUpdates") == []
    lines = log_lines(process)  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    messages = [line["message"] for line in lines]
    assert "taking updates by webhook" in messages
    assert not any(SECRET in line for line in process.log.read_text().splitlines())


async def test_an_update_acknowledged_and_then_killed_is_handled_after_the_restart(
    telegram: TelegramSandbox, coachview: CoachviewSandbox, process: BotProcess
) -> None:
    anna = telegram.user("Anna", language_code="en")
    process.start()
    await wait_until(lambda: telegram.webhook_url, 60, "the bot to set its webhook")
    # The deep link needs Coachview, which holds the answer: the bot is mid-update.
    coachview.faults.add(method="GET", path="/api/v1/Opleidingen", action="hold")
    run = coachview.catalogue.runs_of(coachview.catalogue.seed.paged_soort)[0]["id"]
    update = await anna.send(f"/start {run}")
    await wait_until(
        lambda: coachview.faults.held == 1 and telegram.pending_updates == 0,
        60,
        "the bot to acknowledge the update and be handling it",
    )
    process.kill()
    coachview.faults.clear()
    coachview.faults.release()

    process.start()
    await wait_until(
        lambda: (
            (anna.last_message is not None)
            and (anna.last_message.text or "").endswith("What is your first name?")
        ),
        60,
        f"the bot to handle the update after its restart:\n{anna.transcript()}",
    )
    assert len(anna.messages) == 1
    posts = [post for post in telegram.webhook.posts if post.update_id == update.update_id]
    assert [post.status for post in posts] == [200]  # Telegram had it answered: never resent


async def test_sigterm_takes_nothing_new_and_finishes_what_it_took(
    telegram: TelegramSandbox, coachview: CoachviewSandbox, process: BotProcess
) -> None:
    anna = telegram.user("Anna", language_code="en")
    bert = telegram.user("Bert", language_code="en")
    process.start()
    await wait_until(lambda: telegram.webhook_url, 60, "the bot to set its webhook")
    coachview.faults.add(method="GET", path="/api/v1/Opleidingen", action="hold")
    run = coachview.catalogue.runs_of(coachview.catalogue.seed.paged_soort)[0]["id"]
    await anna.send(f"/start {run}")
    await wait_until(
        lambda: coachview.faults.held == 1, 20, "the bot to be handling Anna's update"
    )

    stopping = asyncio.create_task(process.stop())  # SIGTERM
    late = await bert.send("/start")
    await wait_until(
        lambda: any(p.update_id == late.update_id and not p.ok for p in telegram.webhook.posts),
        20,
        "Telegram to find the stopping bot closed to new updates",
    )
    assert not stopping.done()  # still finishing Anna's update
    coachview.faults.clear()
    coachview.faults.release()
    await stopping
    assert process.process is not None and process.process.returncode == 0
    assert (anna.last_message is not None) and "What is your first name?" in (
        anna.last_message.text or ""
    )
    assert bert.messages == []

    process.start()  # Telegram delivers Bert's update to the bot that is back
    await wait_until(lambda: bert.messages, 60, "Bert's answer from the restarted bot")
    assert len(anna.messages) == 1
    # The restarted bot tells the operator that Telegram could not deliver in between.
    warnings = [line["message"] for line in log_lines(process) if line["level"] == "WARNING"]
    assert any("last failed post to the webhook" in text for text in warnings), warnings
