"""Notifications: staff hear of every new enrollment, enrollees get their number, unfinished
enrollments get one reminder and are deleted in the end, and a burst stays within Telegram's
limits without losing a message or stalling anyone's conversation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from bot.clock import ManualClock
from bot.coachview.reference import new_reference
from bot.coachview.webaanvraag import build_webaanvraag
from bot.enrollment import Contact, CourseChoice, Enrollment
from bot.store import notifications, outbox
from bot.store.models import Notification
from bot.telegram.limits import TelegramLimits
from bot.workers.reminders import DraftKeeper
from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import TelegramSandbox
from tests.e2e.conftest import StaffDesk, text
from tests.harness import RunningBot, running_bot


async def test_staff_hear_of_a_new_enrollment_and_open_it_with_one_press(
    desk: StaffDesk,
) -> None:
    anna = desk.bot.person("Anna", language_code="en")
    await anna.say(f"/start {desk.coachview.catalogue.seed.open_run}")
    await anna.answers("Anna", None, "de Vries", "anna@example.nl", "06 12345678", "Vries & Co")
    await anna.answers("Yes, I will attend", "Yes", "Piet", None, "Jansen", None, "No", None)
    await anna.tap("✅ Send enrollment")
    await desk.bot.wait_for(lambda: len(desk.group.messages) == 1, what="the staff notice")

    stored = desk.coachview.webaanvragen[-1]
    notice = desk.group.messages[-1]
    assert notice.text == (  # in DEFAULT_LANGUAGE: the staff chat is shared
        f"🆕 Nieuwe inschrijving {stored.nummer}\n"
        "Opleiding: VCA Basis\n"
        "Contactpersoon: Anna de Vries\n"
        "Bedrijf: Vries & Co\n"
        "2 deelnemers"
    )
    assert notice.button_texts == ["🔎 Openen"]
    await desk.bot.wait_for(lambda: "received" in anna.text, what="the confirmation")
    assert f"Its number is {stored.nummer}." in anna.text

    await desk.group.press("🔎 Openen", by=desk.sam.user)
    await desk.bot.settle()
    lookup = desk.group.messages[-1]
    assert lookup.text is not None
    assert lookup.text.startswith(f"📄 Enrollment {stored.nummer}\n")
    assert (
        "👥 2 participants\n"
        "1. Anna de Vries (contact person)\n"
        "2. Piet Jansen\n\n"
        "📚 Courses\n"
        "VCA Basis Utrecht (VCA-B-01)\n"
    ) in lookup.text


def reminder_rows(bot: RunningBot) -> list[Notification]:
    with Session(bot.services.db) as session:
        query = select(Notification).where(col(Notification.key).startswith("remind:"))
        return list(session.exec(query).all())


async def test_an_unfinished_enrollment_gets_one_reminder_then_is_deleted_silently(
    telegram: TelegramSandbox,
    clock: ManualClock,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(DraftKeeper, "interval", 0.02)
    async with (
        CoachviewSandbox(clock=clock) as coachview,
        running_bot(
            telegram,
            coachview,
            database_url,
            clock=clock,
            draft_reminder_after=timedelta(hours=2),
            draft_retention=timedelta(days=7),
        ) as bot,
    ):
        anna = bot.person("Anna", language_code="en")
        await anna.say(f"/start {coachview.catalogue.seed.open_run}")
        await anna.answers("Anna", None)
        assert anna.text.endswith("What is your last name?")

        clock.advance(timedelta(hours=2))
        await bot.wait_for(lambda: len(reminder_rows(bot)) == 1, what="the reminder")
        await bot.wait_for(lambda: anna.text.startswith("⏰"), what="the reminder to arrive")
        reminder = anna.screen
        assert reminder.text == (
            "⏰ You have not finished your enrollment for VCA Basis yet. Your answers are "
            "saved: shall we go on where you left off?"
        )
        assert reminder.button_texts == ["▶️ Continue"]

        await anna.tap("▶️ Continue")
        assert anna.text.endswith("What is your last name?")
        [pressed] = [m for m in anna.user.messages if m.message_id == reminder.message_id]
        assert pressed.button_texts == [], "the reminder's button is used up"
        assert text(await anna.say("de Vries")).endswith("What is your e-mail address?")

        # Anna pauses again, and Bert stops at the first question.
        clock.advance(timedelta(days=1))
        await bot.wait_for(lambda: len(reminder_rows(bot)) == 2, what="Anna's second reminder")
        bert = bot.person("Bert", language_code="nl")
        await bert.say("/start")
        clock.advance(timedelta(hours=2))
        await bot.wait_for(lambda: len(reminder_rows(bot)) == 3, what="Bert's reminder")
        await bot.wait_for(lambda: bert.text.startswith("⏰"), what="Bert's reminder to arrive")
        assert bert.text == (
            "⏰ Je bent begonnen met een inschrijving, maar je bent nog niet klaar. Je "
            "antwoorden zijn bewaard: zullen we verdergaan waar je gebleven was?"
        )
        await bot.wait_for(lambda: anna.text.startswith("⏰"), what="Anna's second reminder")
        seen_by_anna = len(anna.user.messages)

        # A week after her last answer Anna's draft is deleted; Bert's, younger, stays.
        clock.advance(timedelta(days=6) - timedelta(hours=2))
        await bot.wait_for(
            lambda: [d.chat_id for d in bot.drafts()] == [bert.id], what="the deletion"
        )
        assert len(anna.user.messages) == seen_by_anna, "the deletion is not announced"
        assert len(reminder_rows(bot)) == 3, "one reminder per pause"
        assert text(await anna.say("Hello")).startswith("Hello! I will help you")


async def test_a_burst_of_100_enrollments_reaches_staff_whole_within_telegrams_limits(
    database_url: str,
) -> None:
    limits = TelegramLimits().scaled(0.02)  # a group takes 20 messages per 1.2 s
    async with (
        TelegramSandbox(limits=limits) as telegram,
        CoachviewSandbox() as coachview,
    ):
        staff = telegram.user("Sam", language_code="en")
        group = telegram.group("Staff", [staff])
        enrollees = [telegram.user(f"Persoon {n}", language_code="nl") for n in range(100)]
        async with running_bot(
            telegram,
            coachview,
            database_url,
            limits=limits,
            staff_user_ids=str(staff.id),
            staff_chat_id=group.id,
        ) as bot:
            services = bot.services
            course = CourseChoice(
                opleidingssoort_id=coachview.catalogue.seed.open_soort,
                opleidingssoort_naam="VCA Basis",
                opleiding_id=coachview.catalogue.seed.open_run,
            )
            with services.session() as session:
                for number, person in enumerate(enrollees):
                    contact = Contact(
                        first_name="Persoon", last_name=str(number), email=f"p{number}@example.nl"
                    )
                    enrollment = Enrollment(course=course, contact=contact, attending=True)
                    reference = new_reference()
                    outbox.enqueue(
                        session,
                        draft_id=100_000 + number,
                        reference=reference,
                        chat_id=person.id,
                        user_id=person.id,
                        language="nl",
                        payload=build_webaanvraag(enrollment, reference=reference),
                        summary={
                            "course": "VCA Basis",
                            "contact": f"Persoon {number}",
                            "participants": 1,
                        },
                        now=services.clock.now(),
                    )
                session.commit()
            services.wake_submissions()

            olga = bot.person("Olga", language_code="en")
            await bot.wait_for(lambda: len(coachview.webaanvragen) >= 20, what="the burst")
            await olga.say("/start")
            assert olga.text.endswith("Which course would you like to enroll in?")
            assert len(group.messages) < 100, "the conversation did not wait for the burst"

            await bot.wait_for(lambda: len(group.messages) == 100, 60, "every staff notice")
            await bot.wait_for(
                lambda: all(len(person.messages) == 2 for person in enrollees),
                30,
                "every calendar and confirmation",
            )
    numbers = sorted(str(w.nummer) for w in coachview.webaanvragen)
    noticed = sorted((m.text or "").splitlines()[0].rsplit(" ", 1)[1] for m in group.messages)
    assert noticed == numbers and len(numbers) == 100
    for person in enrollees:
        calendar, confirmation = person.messages
        assert calendar.file is not None and calendar.file.name.endswith(".ics")
        assert (confirmation.text or "").startswith("✅ Je inschrijving is ontvangen.")
    assert telegram.rate_limit_violations == []


async def test_a_long_staff_backlog_does_not_hold_up_an_enrollees_confirmation(
    database_url: str,
) -> None:
    limits = TelegramLimits().scaled(0.05)  # a group takes 20 messages per 3 s
    async with (
        TelegramSandbox(limits=limits) as telegram,
        CoachviewSandbox() as coachview,
    ):
        group = telegram.group("Staff")
        anna = telegram.user("Anna", language_code="en")
        async with running_bot(
            telegram, coachview, database_url, limits=limits, staff_chat_id=group.id
        ) as bot:
            services = bot.services
            with services.session() as session:
                for number in range(120):
                    notifications.enqueue(
                        session,
                        key=f"backlog:{number}",
                        chat_id=group.id,
                        text=f"Melding {number}",
                        now=services.clock.now(),
                    )
                notifications.enqueue(
                    session,
                    key="anna",
                    chat_id=anna.id,
                    text="Voor Anna",
                    now=services.clock.now(),
                )
                session.commit()
            services.wake_notifications()
            await anna.next_message()
    sent = [call.params["chat_id"] for call in telegram.calls_to("sendMessage") if call.ok]
    assert sent.index(anna.id) < limits.group_messages, "Anna waited for the group's window"
    assert telegram.rate_limit_violations == []
