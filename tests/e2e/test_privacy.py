"""Privacy the AVG way, as a person and the staff meet it: /privacy, /mydata, /forget (with an
enrollment still on its way), and nothing personal where it does not belong."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.store.models import OutboxStatus
from bot.workers.retention import Retention
from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import SandboxGroup, TelegramSandbox
from tests.enrolling import FAST, WEBAANVRAGEN, reference_of, remark_of
from tests.harness import Person, RunningBot, running_bot
from tests.privacy_kit import EMAIL, FIRST, SEND, fill_in, flush_inbox, found_in, traces

CONTACT = "privacy@provider.example"


@pytest.fixture
async def bot(
    database_url: str,
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    staff_group: SandboxGroup,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[RunningBot]:
    """The bot with staff, a privacy contact, quick submissions and a retention round every
    few milliseconds (each still taken through the database's lease)."""
    monkeypatch.setattr(Retention, "interval", 0.02)
    async with running_bot(
        telegram,
        coachview,
        database_url,
        staff_chat_id=staff_group.id,
        default_language="en",
        privacy_contact=CONTACT,
        **FAST,
    ) as running:
        yield running


async def enroll(bot: RunningBot, person: Person) -> str:
    """Fill in, send, and wait for the confirmation; Coachview's number."""
    await fill_in(person, bot.coachview.catalogue.seed.open_run)
    await person.tap(SEND)
    await bot.wait_for(lambda: "has been received" in person.text, what="the confirmation")
    return str(bot.coachview.webaanvragen[-1].nummer)


def staff_texts(group: SandboxGroup) -> list[str]:
    return [message.text or "" for message in group.messages]


async def test_privacy_says_what_is_kept_for_how_long_and_whom_to_ask(bot: RunningBot) -> None:
    anna = bot.person("Anna", language_code="en")
    await anna.say("/privacy")
    text = anna.text
    assert text.startswith(
        "🔒 Your data and your privacy\n"
        "I keep your details only to enroll you in the training provider's courses."
    )
    assert "An unfinished enrollment is deleted 1 month after your last answer." in text
    assert "phone numbers in it are removed 1 month after that" in text
    assert "The training provider's staff, and Coachview" in text
    assert "/mydata shows everything I keep about you; /forget erases it." in text
    assert text.endswith(f"Questions, or to see or erase that: {CONTACT}")

    daan = bot.person("Daan", language_code="nl")
    await daan.say("/privacy")
    assert daan.text.startswith("🔒 Je gegevens en je privacy")
    assert "1 maand na je laatste antwoord" in daan.text
    assert daan.text.endswith(CONTACT)

    await anna.say("/start")
    assert "🔒 How I handle your details: /privacy" in anna.text
    assert ("privacy", "Your data: what I keep, see it, erase it") in [
        (c.command, c.description) for c in anna.user.visible_commands()
    ]


async def test_without_a_privacy_contact_privacy_names_the_provider(
    enrollbot: RunningBot,
) -> None:
    anna = enrollbot.person("Anna", language_code="en")
    await anna.say("/privacy")
    assert "@" not in anna.text
    assert anna.text.endswith(
        "What reached the provider's administration is kept by the training provider; "
        "ask them to see or erase that."
    )


async def test_mydata_shows_everything_kept_as_a_summary_and_as_json(bot: RunningBot) -> None:
    person = bot.person(FIRST, language_code="en")
    await person.say("/mydata")
    assert "Nothing else: I keep no enrollment of yours." in (person.user.messages[-2].text or "")

    number = await enroll(bot, person)
    await person.say("/language")
    await person.tap("English")
    await person.say(f"/start {bot.coachview.catalogue.seed.open_run}")
    await person.answers("Zora", None)
    await person.say("/mydata")

    summary, document = person.user.messages[-2:]
    assert summary.text is not None and document.file is not None
    assert document.file.name == "my-data.json"
    assert document.caption == "Everything I keep about you, as it is stored."
    assert "Your Telegram id: " + str(person.id) in summary.text
    assert "The language you chose: English" in summary.text
    assert "The enrollment you are filling in:\n   VCA Basis" in summary.text
    assert "   Zora" in summary.text
    assert f"received by the training provider, number {number}" in summary.text
    assert f"{FIRST} Quixwater" in summary.text
    data = json.loads(document.file.data)
    assert data["telegram_user_id"] == person.id
    assert data["language"] == "en"
    [sent] = data["confirmed_enrollments"]
    assert sent["coachview_number"] == number
    assert sent["sent_to_coachview"]["contactpersoon"]["emailadres"] == EMAIL
    assert remark_of(sent["sent_to_coachview"]) == "Glutenvrij graag, xyzzy"
    answers = [d["answers"] for d in data["enrollments_being_filled_in"]]
    assert {"first_name": "Zora"}.items() <= answers[-1]["contact"].items()


async def test_forget_erases_every_trace_and_tells_staff_only_the_number(
    bot: RunningBot, staff_group: SandboxGroup
) -> None:
    person = bot.person(FIRST, language_code="en")
    number = await enroll(bot, person)
    await bot.wait_for(lambda: any(number in t for t in staff_texts(staff_group)), what="staff")
    await person.say("/language")
    await person.tap("English")
    await person.say(f"/start {bot.coachview.catalogue.seed.open_run}")
    await person.answers(FIRST, None, "Quixwater-Two")
    assert traces(bot, person.id), "the search finds the values before /forget"

    await person.say("/forget")
    assert person.text.startswith("🗑 Erase your data?")
    assert f"kept by the provider; ask {CONTACT} about it." in person.text
    assert person.buttons == ["🗑 Yes, erase everything", "No, keep it"]
    await person.tap("🗑 Yes, erase everything")

    assert person.text.startswith("✅ Done: I have erased everything I kept about you.")
    assert (
        f"Your enrollment {number} reached the training provider, who keeps it in their "
        f"administration. To have it changed or erased, ask {CONTACT}."
    ) in person.text
    assert person.buttons == []
    await bot.wait_for(
        lambda: "erase everything" in staff_texts(staff_group)[-1], what="the staff notice"
    )
    notice = staff_texts(staff_group)[-1]
    assert notice == (
        "🗑 Someone had the bot erase everything it kept about them.\n"
        f"Their enrollment {number} is in Coachview, where the provider keeps it: change or "
        "erase it there if they ask you to."
    )
    assert str(person.id) not in notice

    flush_inbox(bot)
    assert traces(bot, person.id) == []
    [row] = bot.outbox()
    assert (row.reference, row.coachview_nummer, row.status) == (
        reference_of(bot.coachview.webaanvragen[-1].body),
        number,
        OutboxStatus.SUBMITTED,
    )
    assert row.summary == {
        "course": "VCA Basis",
        "course_start": row.summary["course_start"],
        "participants": 2,
    }

    # The person is a stranger now: no draft, no language, a new start.
    assert bot.drafts() == []
    await person.say("/mydata")
    assert "Nothing else: I keep no enrollment of yours." in (person.user.messages[-2].text or "")


async def test_forget_cancels_an_enrollment_not_sent_yet(
    database_url: str,
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    staff_group: SandboxGroup,
    tmp_path: Path,
) -> None:
    async with running_bot(
        telegram,
        coachview,
        database_url,
        staff_chat_id=staff_group.id,
        default_language="en",
        submissions_paused=True,
    ) as paused:
        person = paused.person(FIRST, language_code="en")
        await fill_in(person, coachview.catalogue.seed.open_run)
        await person.tap(SEND)
        await person.say("/forget")
        assert "One of your enrollments has not reached the training provider yet." in (
            person.text
        )
        assert person.buttons == [
            "❌ Cancel it and erase everything",
            "📨 Send it first, then erase",
            "No, keep everything",
        ]
        await person.tap("❌ Cancel it and erase everything")
        assert "Your enrollment that had not been sent yet is canceled." in person.text
        assert "ask the training provider" not in person.text  # nothing reached Coachview
        await paused.wait_for(
            lambda: (
                "1 enrollment that had not reached Coachview yet was canceled."
                in staff_texts(staff_group)[-1]
            ),
            what="staff told of the erasure",
        )
        flush_inbox(paused)
        assert traces(paused, person.id) == []
        assert paused.outbox() == [], "it will never be sent"


async def test_forget_while_it_is_being_sent_erases_once_it_arrived(
    bot: RunningBot, staff_group: SandboxGroup
) -> None:
    held = bot.coachview.faults.add(method="POST", path=WEBAANVRAGEN, action="hold")
    person = bot.person(FIRST, language_code="en")
    await fill_in(person, bot.coachview.catalogue.seed.open_run)
    await person.tap(SEND)
    await bot.wait_for(lambda: bot.coachview.faults.held == 1, what="the POST on its way")

    await person.say("/forget")
    await person.tap("❌ Cancel it and erase everything")
    assert "One enrollment was being sent already, so I could not cancel it." in person.text
    assert "you will get its confirmation here, and then I erase it too" in person.text
    await bot.wait_for(
        lambda: "1 enrollment is still on its way" in staff_texts(staff_group)[-1],
        what="staff told it is on its way",
    )

    bot.coachview.faults.release()
    assert held.fired == 1
    await bot.wait_for(lambda: "has been received" in person.text, what="the confirmation")
    number = str(bot.coachview.webaanvragen[-1].nummer)
    await bot.wait_for(
        lambda: f"Their enrollment {number} is in Coachview" in staff_texts(staff_group)[-1],
        what="staff told its number once it arrived",
    )
    flush_inbox(bot)
    await bot.wait_for(lambda: traces(bot, person.id) == [], what="the erasure")
    assert [row.coachview_nummer for row in bot.outbox()] == [number]


async def test_in_another_group_nothing_personal_is_shown(
    bot: RunningBot, telegram: TelegramSandbox, staff_group: SandboxGroup
) -> None:
    person = bot.person(FIRST, language_code="en")
    colleagues = telegram.group("Colleagues", members=[person.user])
    number = await enroll(bot, person)
    for command in ("/mydata", "/forget", "/privacy", "/start"):
        await colleagues.send(f"{command}@{telegram.bot_username}", by=person.user)
        await bot.settle()
    group_texts = [message.text or "" for message in colleagues.messages]
    assert group_texts[0] == "Your data is shown and erased only in a private chat with me."
    assert group_texts[1] == group_texts[0]
    assert group_texts[2].startswith("🔒 Your data and your privacy")
    assert len(group_texts) == 4
    assert [found_in(text) for text in group_texts] == [[]] * 4
    assert traces(bot, person.id), "/forget in a group erases nothing"

    # Staff read what they need: the number, course, contact and company; no e-mail, phone,
    # colleague's details or remark.
    await bot.wait_for(lambda: any(number in t for t in staff_texts(staff_group)), what="staff")
    [notice] = [t for t in staff_texts(staff_group) if number in t]
    assert notice.startswith(f"🆕 New enrollment {number}")
    assert found_in(notice) == ["Zorbalina", "Quixwater"]


async def test_a_month_after_it_arrived_only_number_course_and_dates_are_kept(
    database_url: str,
    telegram: TelegramSandbox,
    staff_group: SandboxGroup,
    tmp_path: Path,
) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    async with (
        CoachviewSandbox(clock=clock) as coachview,
        running_bot(
            telegram,
            coachview,
            database_url,
            clock=clock,
            staff_chat_id=staff_group.id,
            default_language="en",
        ) as bot,
    ):
        person = bot.person(FIRST, language_code="en")
        number = await enroll(bot, person)
        retention = Retention(bot.services, owner="the test")
        clock.advance(timedelta(days=29, hours=23))
        round_ = retention.run_once()
        assert round_ is not None and round_.sent_cleared == 0
        await person.say("/mydata")
        assert "(names and contact details removed)" not in (person.user.messages[-2].text or "")

        clock.advance(timedelta(hours=1))
        round_ = retention.run_once()
        assert round_ is not None and round_.sent_cleared == 1
        await person.say("/mydata")
        summary, document = person.user.messages[-2:]
        assert summary.text is not None and document.file is not None
        assert (
            f"• VCA Basis (2 Mar 2026): received by the training provider, number {number}\n"
            "   (names and contact details removed)"
        ) in summary.text
        [sent] = json.loads(document.file.data)["confirmed_enrollments"]
        assert (sent["coachview_number"], sent["sent_to_coachview"]) == (number, {})
        assert sent["summary"] == {
            "course": "VCA Basis",
            "course_start": sent["summary"]["course_start"],
            "participants": 2,
        }
        assert found_in(document.file.data.decode()) == []
        assert json.loads(document.file.data)["enrollments_being_filled_in"] == []
