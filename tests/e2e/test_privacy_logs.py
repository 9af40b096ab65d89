"""No personal data in the logs: enrollments with distinctive values, a typing mistake, a
Coachview refusal whose answer repeats the person's details, /mydata and /forget; the log lines
up to INFO (DEBUG for the bot's own code) name none of those values."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.store.models import OutboxStatus
from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import SandboxGroup, SandboxUser, TelegramSandbox
from tests.enrolling import FAST, REFUSED, WEBAANVRAGEN, count
from tests.harness import BotProcess, running_bot, wait_until
from tests.privacy_kit import EMAIL, FIRST, LAST, SEND, fill_in, found_in


async def test_no_personal_data_reaches_the_logs(
    database_url: str,
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    staff_group: SandboxGroup,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    for package in ("bot", "conversations"):
        caplog.set_level(logging.DEBUG, logger=package)
    refusal = {
        "title": "One or more validation errors occurred.",
        "status": 400,
        "errors": {
            "Contactpersoon.Emailadres": [f"'{EMAIL}' is geen geldig e-mailadres."],
            "Contactpersoon.Achternaam": [f"'{FIRST} {LAST}' is te lang."],
        },
    }
    async with running_bot(
        telegram,
        coachview,
        database_url,
        staff_chat_id=staff_group.id,
        default_language="en",
        **FAST,
    ) as bot:
        person = bot.person(FIRST, language_code="en")
        run = coachview.catalogue.seed.open_run
        await fill_in(person, run)
        await person.tap(SEND)
        await bot.wait_for(lambda: "has been received" in person.text, what="the confirmation")

        coachview.faults.add(method="POST", path=WEBAANVRAGEN, status=503)
        coachview.faults.add(method="POST", path=WEBAANVRAGEN, status=400, body=refusal)
        await fill_in(person, run)
        await person.tap(SEND)
        await bot.wait_for(lambda: count(person.user, REFUSED) == 1, what="the refusal")
        rejected = next(e for e in bot.outbox() if e.status == OutboxStatus.REJECTED)
        assert rejected.response_body is not None and EMAIL in rejected.response_body
        await bot.wait_for(
            lambda: any(EMAIL in (m.text or "") for m in staff_group.messages),
            what="staff read Coachview's answer",
        )

        await person.say(f"/start {run}")
        await person.answers(FIRST, None, LAST)
        await person.say(EMAIL.replace("@", " at "))  # not an e-mail address
        assert "What is your e-mail address?" in person.text
        await person.say("/mydata")
        await person.say("/forget")
        await person.tap("🗑 Yes, erase everything")
        assert person.text.startswith("✅")

    records = [r for r in caplog.records if r.name.startswith(("bot", "conversations"))]
    assert any("refused the webaanvraag" in r.getMessage() for r in records), "logs captured"
    outline = [r.getMessage() for r in records if "Coachview's 400 answer" in r.getMessage()]
    assert (
        outline
        and '"fields": ["Contactpersoon.Achternaam", "Contactpersoon.Emailadres"]' in (outline[0])
    )
    leaks = [
        f"{r.levelname} {r.name}: {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if found_in(f"{r.getMessage()} {r.exc_text or ''} {r.stack_info or ''}")
    ]
    assert leaks == []


async def test_the_bot_process_at_debug_logs_no_message_text(
    database_url: str, telegram: TelegramSandbox, coachview: CoachviewSandbox, tmp_path: Path
) -> None:
    log = tmp_path / "bot.log"
    process = BotProcess(telegram, coachview, database_url, log, LOG_LEVEL="DEBUG")
    person = telegram.user(FIRST, language_code="en")
    process.start()
    try:
        await telegram.wait_polling(timeout=60)
        await person.send(f"/start {coachview.catalogue.seed.open_run}")
        await wait_until(lambda: "first name" in latest(person), 30)
        await person.send(FIRST)
        await wait_until(lambda: "prefix" in latest(person), 30)
    finally:
        await process.stop()
    written = log.read_text(errors="replace")
    assert " DEBUG " in written, "debug lines are written"
    assert "Processing update" not in written, "python-telegram-bot's update dumps are not"
    assert found_in(written) == []
    assert telegram.token not in written, "nor the bot token"
    assert coachview.client_secret not in written, "nor Coachview's client secret"


def latest(user: SandboxUser) -> str:
    message = user.last_message
    return (message.text or "") if message is not None else ""
