"""The draft is the state: the bot process killed (SIGKILL) in the middle of a conversation and
started again continues exactly where the person was, with every answer kept."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import SandboxUser, TelegramSandbox
from tests.enrolling import remark_of
from tests.harness import BotProcess, wait_until


@pytest.fixture
async def process(
    telegram: TelegramSandbox, coachview: CoachviewSandbox, tmp_path: Path, database_url: str
) -> AsyncIterator[BotProcess]:
    bot = BotProcess(telegram, coachview, database_url, tmp_path / "bot.log", LOG_LEVEL="DEBUG")
    try:
        yield bot
    finally:
        await bot.stop()
        print((tmp_path / "bot.log").read_text(errors="replace"))


async def reply_to(user: SandboxUser, text: str) -> str:
    """Send ``text`` and return the bot's reply (a new message or an edit)."""
    user.skip_unread()
    await user.send(text)
    message = await user.next_reply(timeout=30)
    return message.text or ""


async def asked(user: SandboxUser, question: str) -> None:
    """Wait until the bot's latest message asks ``question``.

    After a SIGKILL the bot may get the last update it handled once more (Telegram had not
    heard that it was done): it recognises it (the draft keeps the last update id) and asks
    the current question again instead of applying it twice, so a question may appear twice.
    """

    def asks() -> bool:
        latest = user.last_message
        return latest is not None and (latest.text or "").startswith(question)

    await wait_until(asks, 30, f"the bot to ask {question!r}")


async def press(user: SandboxUser, label: str) -> str:
    user.skip_unread()
    await user.press(label, timeout=30)
    message = await user.next_reply(timeout=30)
    return message.text or ""


async def test_a_killed_bot_continues_where_the_person_was(
    telegram: TelegramSandbox, coachview: CoachviewSandbox, process: BotProcess
) -> None:
    anna = telegram.user("Anna", language_code="en")
    process.start()
    await telegram.wait_polling(timeout=60)
    assert (await reply_to(anna, f"/start {coachview.catalogue.seed.open_run}")).endswith(
        "What is your first name?"
    )
    assert "prefix" in await reply_to(anna, "Anna")
    assert (await reply_to(anna, "van")).startswith("What is your last name?")
    assert (await reply_to(anna, "Dijk")).startswith("What is your e-mail address?")

    sent_before = len(anna.messages)
    process.kill()
    # The person goes on typing while the bot is down; nothing answers yet.
    await anna.send("anna@example.nl")
    process.start()
    await asked(anna, "What is your phone number?")
    since = [m.text for m in anna.messages[sent_before:-1]]
    assert set(since) <= {"What is your e-mail address?"}  # at most the last question again

    assert await reply_to(anna, "Skip") == "Thanks!"  # takes the number keyboard away...
    assert "company" in ((await anna.next_reply(timeout=30)).text or "")  # ...then asks on
    process.kill()
    process.start()
    await telegram.wait_polling(timeout=60)
    await anna.send("Dijk Advies")
    await asked(anna, "Will you attend")
    assert "someone else" in await press(anna, "Yes, I will attend")
    assert "Anything you would like to tell us" in await press(anna, "No")
    review = await reply_to(anna, "Tot dan!")
    assert "Anna van Dijk" in review
    await press(anna, "✅ Send enrollment")
    calendar = await anna.next_message(timeout=60)
    assert calendar.file is not None and calendar.file.name == "VCA-B-01.ics"
    confirmation = await anna.next_message(timeout=60)
    assert "Your enrollment has been received" in (confirmation.text or "")

    body = json.loads(coachview.webaanvragen[-1].raw)
    assert body["contactpersoon"] == {
        "voornaam": "Anna",
        "tussenvoegsels": "van",
        "achternaam": "Dijk",
        "emailadres": "anna@example.nl",
    }
    assert body["bedrijf"] == {"naam": "Dijk Advies"}
    assert remark_of(body) == "Tot dan!"
    assert len(coachview.webaanvragen) == 1


async def test_an_update_the_bot_was_still_handling_when_killed_is_not_lost(
    telegram: TelegramSandbox, coachview: CoachviewSandbox, process: BotProcess
) -> None:
    """Telegram forgets an update once the bot polls again, which PTB does before handling
    it: the inbox keeps it, so the restarted bot handles it without the person resending."""
    anna = telegram.user("Anna", language_code="en")
    process.start()
    await telegram.wait_polling(timeout=60)
    # The deep link needs Coachview, which takes its time: the bot is mid-update when killed.
    coachview.faults.add(method="GET", path="/api/v1/Opleidingen", action="hold")
    run = coachview.catalogue.runs_of(coachview.catalogue.seed.paged_soort)[0]["id"]
    await anna.send(f"/start {run}")
    await wait_until(
        lambda: coachview.faults.held == 1 and telegram.pending_updates == 0,
        30,
        "the bot to be handling the update, which Telegram already counts as delivered",
    )
    process.kill()
    coachview.faults.clear()
    coachview.faults.release()

    process.start()
    await asked(anna, "Hello! I will help you enroll in a course.")
    assert anna.last_message is not None
    assert (anna.last_message.text or "").endswith("What is your first name?")
    assert len(anna.messages) == 1
