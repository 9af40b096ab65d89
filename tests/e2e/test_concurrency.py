"""Ordered per chat, concurrent across chats (design decision 2)."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from bot.clock import ManualClock
from bot.telegram.limits import TelegramLimits
from bot.telegram.rate import TelegramRateLimiter
from bot.updates import ChatOrderedProcessor
from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import TelegramSandbox
from tests.harness import Person, RunningBot, running_bot
from tests.waiting import ManualTimer


async def test_two_chats_interleaved_keep_their_own_answers(enrollbot: RunningBot) -> None:
    run = enrollbot.coachview.catalogue.seed.open_run
    anna = enrollbot.person("Anna")
    bob = enrollbot.person("Bob")
    answers = {
        anna: ["Anna", None, "Smit", "anna@example.nl", None, "Smit BV", "Yes, I will attend"],
        bob: ["Bob", "de", "Boer", "bob@example.nl", "0201234567", None, "No, I enroll others"],
    }
    await anna.say(f"/start {run}")
    await bob.say(f"/start {run}")
    for anna_says, bob_says in zip(answers[anna], answers[bob], strict=True):
        await anna.answer(anna_says)
        await bob.answer(bob_says)
    await anna.answers("No", None)
    await bob.answers("Carla", None, "Vos", None, "No", None)
    await anna.tap("✅ Send enrollment")
    await bob.tap("✅ Send enrollment")
    await enrollbot.wait_for(lambda: len(enrollbot.coachview.webaanvragen) == 2)
    bodies = {
        json.loads(w.raw)["contactpersoon"]["voornaam"]: json.loads(w.raw)
        for w in enrollbot.coachview.webaanvragen
    }
    assert bodies["Anna"]["bedrijf"] == {"naam": "Smit BV"}
    assert "deelnemers" not in bodies["Anna"]
    assert bodies["Bob"]["contactpersoon"]["tussenvoegsels"] == "de"
    assert bodies["Bob"]["deelnemers"] == [{"voornaam": "Carla", "achternaam": "Vos"}]


async def test_messages_of_one_chat_are_handled_in_the_order_sent(enrollbot: RunningBot) -> None:
    anna = enrollbot.person("Anna")
    await anna.say(f"/start {enrollbot.coachview.catalogue.seed.open_run}")
    # Sent back to back, without waiting for the replies in between.
    for text in ("Anna", "-", "de Vries", "anna@example.nl"):
        await anna.user.send(text)
    await enrollbot.settle()
    draft = enrollbot.open_draft(anna.user)
    assert draft is not None
    assert draft.data["contact"] == {
        "first_name": "Anna",
        "prefix": None,
        "last_name": "de Vries",
        "email": "anna@example.nl",
        "phone": None,
        "company": None,
        "answers": {},
    }
    assert anna.text.startswith("What is your phone number?")


async def test_a_slow_coachview_answer_in_one_chat_does_not_hold_up_another(
    enrollbot: RunningBot,
) -> None:
    seed = enrollbot.coachview.catalogue.seed
    bob = enrollbot.person("Bob")
    await bob.say(f"/start {seed.open_run}")  # Bob waits at his first name
    anna: Person = enrollbot.person("Anna")
    # Anna's deep link needs a run that is not cached yet: Coachview takes its time.
    enrollbot.coachview.faults.add(method="GET", path="/api/v1/Opleidingen", action="hold")
    bhv_run = enrollbot.coachview.catalogue.runs_of(seed.paged_soort)[0]["id"]
    await anna.user.send(f"/start {bhv_run}")
    await enrollbot.wait_for(lambda: enrollbot.coachview.faults.held == 1)

    try:
        bob.user.skip_unread()
        await bob.user.send("Bob")
        reply = await bob.user.next_reply()
        assert reply.text is not None
        assert reply.text.startswith("Does your last name have a prefix")
        assert anna.user.messages == []  # Anna's answer is still waiting for Coachview
    finally:
        enrollbot.coachview.faults.release()
    first = await anna.user.next_reply()
    assert first.text is not None and first.text.endswith("What is your first name?")


async def test_many_people_at_once_each_get_their_own_next_question(
    enrollbot: RunningBot,
) -> None:
    run = enrollbot.coachview.catalogue.seed.open_run
    people = [enrollbot.person(f"Person{n}") for n in range(20)]
    await asyncio.gather(*(person.user.send(f"/start {run}") for person in people))
    await enrollbot.settle()
    await asyncio.gather(
        *(person.user.send(name) for person, name in zip(people, ["Ab", "Bo"] * 10, strict=True))
    )
    await enrollbot.settle()
    for person in people:
        assert person.text.startswith("Does your last name have a prefix")
    assert {d.data["contact"]["first_name"] for d in enrollbot.drafts()} == {"Ab", "Bo"}
    assert len(enrollbot.drafts()) == 20


async def test_flood_control_in_one_chat_is_waited_out_there_only(enrollbot: RunningBot) -> None:
    run = enrollbot.coachview.catalogue.seed.open_run
    anna = enrollbot.person("Anna")
    bob = enrollbot.person("Bob")
    await anna.say(f"/start {run}")
    await bob.say(f"/start {run}")
    limiter = enrollbot.application.bot.rate_limiter
    assert isinstance(limiter, TelegramRateLimiter)
    limiter.timer = timer = ManualTimer()  # Anna's 2 s pass when the test says so
    enrollbot.telegram.fail_next("sendMessage", error_code=429, retry_after=2, chat_id=anna.id)
    anna.user.skip_unread()
    bob.user.skip_unread()

    await anna.user.send("Anna")  # her reply meets a 429: the bot waits 2 s for her chat only
    await enrollbot.wait_for(
        lambda: any(call.error_code == 429 for call in enrollbot.telegram.calls_to("sendMessage"))
    )
    await bob.user.send("Bob")
    reply = await bob.user.next_reply()
    assert (reply.text or "").startswith("Does your last name have a prefix")
    assert not (anna.text or "").startswith("Does your last name")  # Anna's still waits
    assert timer.waits == [pytest.approx(2)]

    timer.advance(2)
    retried = await anna.user.next_reply()
    assert (retried.text or "").startswith("Does your last name have a prefix")


async def test_a_press_answered_after_telegrams_window_still_moves_on_quietly(
    coachview: CoachviewSandbox, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Under load the answer to a press can come after Telegram's ~15 s: Telegram refuses it,
    the question has moved on all the same, and nobody is told that something went wrong."""
    clock = ManualClock()
    async with (
        TelegramSandbox(limits=TelegramLimits.unlimited(), clock=clock) as telegram,
        running_bot(telegram, coachview, database_url) as bot,
    ):
        anna = bot.person("Anna")
        await anna.say("/start")
        # The dates of a course type are not cached yet: Coachview holds the press up.
        coachview.faults.add(method="GET", path="/api/v1/Opleidingen", action="hold")
        press = asyncio.create_task(anna.user.press("BHV Basis", timeout=60))
        await bot.wait_for(lambda: coachview.faults.held == 1)
        clock.advance(16)  # past Telegram's window for answering the press
        coachview.faults.release()
        await bot.wait_for(
            lambda: any(c.error_code == 400 for c in telegram.calls_to("answerCallbackQuery")),
            what="Telegram to refuse the late answer",
        )
        await bot.settle()
        assert not press.done(), "the press got no answer (its spinner stops by itself)"
        press.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await press

    assert anna.text.endswith("Which date would you like?")
    assert not any("went wrong" in (m.text or "") for m in anna.user.messages)
    refused = [c for c in telegram.calls_to("answerCallbackQuery") if c.error_code == 400]
    assert len(refused) == 1  # the late answer, and no second try to tell her of an error
    late = [r for r in caplog.records if "answered too late" in r.getMessage()]
    assert [r.levelname for r in late] == ["WARNING"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_nothing_is_kept_in_memory_for_a_person_once_their_updates_are_handled(
    enrollbot: RunningBot,
) -> None:
    """Memory stays flat however many people the bot has seen: no per-chat lock, and none of
    the per-chat bookkeeping PTB keeps for a persistence layer this bot does not use."""
    run = enrollbot.coachview.catalogue.seed.open_run
    people = [enrollbot.person(f"Person{n}") for n in range(10)]
    await asyncio.gather(*(person.user.send(f"/start {run}") for person in people))
    await enrollbot.settle()
    await asyncio.gather(*(person.user.send("Anna") for person in people))
    await enrollbot.settle()
    assert all(person.text.startswith("Does your last name have a prefix") for person in people)

    application = enrollbot.application
    processor = application.update_processor
    assert isinstance(processor, ChatOrderedProcessor)
    assert processor.chats_in_progress == 0
    assert application.persistence is None
    assert not application._chat_ids_to_be_updated_in_persistence
    assert not application._user_ids_to_be_updated_in_persistence
