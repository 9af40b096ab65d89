"""The dates of an enrollment in the person's calendar (an .ics with the confirmation) and the
reminder the day before the course starts: once, in the person's language, not for a cancelled
date nor for someone who turned reminders off. The bot and Coachview share a manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.store.models import CourseReminder, CourseReminderStatus
from bot.workers.course_reminders import CourseReminderKeeper
from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import ChatMessage, TelegramSandbox
from tests.harness import Person, RunningBot, running_bot

#: 2 March 2026, 09:00 Dutch time; summer time starts on Sunday 29 March at 02:00.
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

WORDS = {
    "en": ("Yes, I will attend", "No", "✅ Send enrollment"),
    "nl": ("Ja, ik doe mee", "Nee", "✅ Inschrijving versturen"),
}


@dataclass
class Desk:
    bot: RunningBot
    clock: ManualClock
    coachview: CoachviewSandbox

    @property
    def run(self) -> dict[str, Any]:
        """The open VCA date: Saturday 28 March 09:00 (winter) to Monday 30 March 16:30."""
        run = self.coachview.catalogue.opleiding(self.coachview.catalogue.seed.open_run)
        assert run is not None
        return run

    async def enroll(self, first_name: str, language: str, run_id: str) -> Person:
        """``first_name`` enrolls themself in ``run_id``; returns once confirmed."""
        person = self.bot.person(first_name, language_code=language)
        attend, no, send = WORDS[language]
        await person.say(f"/start {run_id}")
        email = f"{first_name.lower()}@example.nl"
        await person.answers(first_name, None, "Jansen", email, "06 12345678", None)
        await person.answers(attend, no, None)
        await person.tap(send)
        await self.bot.wait_for(lambda: len(person.user.messages) >= 2 and confirmed(person))
        return person

    def reminders(self) -> list[CourseReminder]:
        with Session(self.bot.services.db) as session:
            return list(session.exec(select(CourseReminder)).all())


def confirmed(person: Person) -> bool:
    return person.text.startswith("✅")


@pytest.fixture
async def desk(
    database_url: str, telegram: TelegramSandbox, tmp_path: Path
) -> AsyncIterator[Desk]:
    clock = ManualClock(NOW)
    async with CoachviewSandbox(clock=clock) as coachview:
        run = coachview.catalogue.opleiding(coachview.catalogue.seed.open_run)
        assert run is not None
        run["startDatum"] = "2026-03-28T09:00:00"
        run["eindDatum"] = "2026-03-30T16:30:00"
        run["startLocatie"] = {"naam": "Cursuscentrum De Linde", "plaats": "Utrecht"}
        async with running_bot(telegram, coachview, database_url, clock=clock) as bot:
            yield Desk(bot, clock, coachview)


def calendar_of(person: Person) -> tuple[ChatMessage, Calendar]:
    """The calendar document just before the confirmation, parsed."""
    *_, document, confirmation = person.user.messages
    assert confirmation.text is not None and confirmation.text.startswith("✅")
    assert document.kind == "document" and document.file is not None, document.describe()
    assert document.file.mime_type == "text/calendar"
    return document, Calendar.from_ical(document.file.data)


async def test_the_confirmation_comes_with_the_dates_for_the_calendar(desk: Desk) -> None:
    anna = await desk.enroll("Anna", "en", desk.run["id"])
    nummer = str(desk.coachview.webaanvragen[-1].nummer)
    document, calendar = calendar_of(anna)
    assert document.file is not None and document.file.name == "VCA-B-01.ics"
    assert document.caption == "📅 The dates of VCA Basis, for your calendar."
    [event] = calendar.walk("VEVENT")
    # 09:00 winter time is 08:00 UTC; 16:30 summer time two days later is 14:30 UTC.
    assert event.decoded("dtstart") == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 3, 30, 14, 30, tzinfo=UTC)
    raw = document.file.data.decode()
    assert "DTSTART:20260328T080000Z" in raw and "DTEND:20260330T143000Z" in raw
    assert event.decoded("dtstamp") == NOW
    assert str(event["uid"]) == f"{nummer}-{desk.run['id']}@enrollbot"
    assert event.decoded("sequence") == 0
    assert str(event["summary"]) == "VCA Basis Utrecht"
    assert str(event["description"]) == f"Enrollment number {nummer} · course VCA-B-01"
    assert str(event["location"]) == "Cursuscentrum De Linde, Utrecht"
    assert "I will remind you the day before the course starts." in anna.text
    assert anna.buttons == ["🔕 No reminders"]

    bert = await desk.enroll("Bert", "nl", desk.run["id"])
    document, calendar = calendar_of(bert)
    assert document.caption == "📅 De datums van VCA Basis, voor je agenda."
    [event] = calendar.walk("VEVENT")
    assert str(event["description"]).startswith("Inschrijvingsnummer ")
    assert event.decoded("dtstart") == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    assert str(event["uid"]) != f"{nummer}-{desk.run['id']}@enrollbot", "one UID per enrollment"


async def test_any_date_gets_no_calendar_and_no_reminder(desk: Desk) -> None:
    anna = desk.bot.person("Anna", language_code="en")
    await anna.say("/start vca-b")
    await anna.tap("Any date (waiting list)")
    await anna.answers("Anna", None, "Jansen", "anna@example.nl", "06 12345678", None)
    await anna.answers("Yes, I will attend", "No", None)
    await anna.tap("✅ Send enrollment")
    await desk.bot.wait_for(lambda: confirmed(anna), what="the confirmation")
    assert [m.kind for m in anna.user.messages][-1] == "text"
    assert not any(m.file for m in anna.user.messages)
    assert anna.buttons == []
    assert desk.reminders() == []


async def test_the_day_before_each_enrollee_is_reminded_once(desk: Desk) -> None:
    seed = desk.coachview.catalogue.seed
    anna = await desk.enroll("Anna", "en", desk.run["id"])
    dirk = await desk.enroll("Dirk", "nl", desk.run["id"])
    bert = await desk.enroll("Bert", "nl", desk.run["id"])
    answer = await bert.tap("🔕 Herinneringen uit")
    assert answer.text == "Oké, geen herinneringen meer voor je opleidingen."
    assert bert.buttons == ["🔔 Herinneringen weer aan"]
    # Carl's date (26 March) is cancelled after he enrolled.
    other = desk.coachview.catalogue.runs_of(seed.open_soort)[1]
    carl = await desk.enroll("Carl", "en", other["id"])
    other["opleidingStatusId"] = "Geannuleerd"
    seen = {p.id: len(p.user.messages) for p in (anna, bert, carl, dirk)}

    keepers = [CourseReminderKeeper(desk.bot.services) for _ in range(2)]
    desk.clock.advance(datetime(2026, 3, 25, 16, 0, tzinfo=UTC) - desk.clock.now())
    assert await keepers[0].run_once() == 0  # 17:00 the day before Carl's date: cancelled
    desk.clock.advance(datetime(2026, 3, 27, 15, 59, tzinfo=UTC) - desk.clock.now())
    assert await keepers[0].run_once() == 0  # 16:59 the day before: not yet

    desk.clock.advance(timedelta(minutes=1))
    sent = await asyncio.gather(*(keeper.run_once() for keeper in keepers))
    assert sum(sent) == 2, "two processes: each reminder queued once"
    await desk.bot.wait_for(lambda: anna.text.startswith("⏰"), what="Anna's reminder")
    await desk.bot.wait_for(lambda: dirk.text.startswith("⏰"), what="Dirk's reminder")
    assert anna.text == (
        "⏰ Your course VCA Basis starts tomorrow at 9:00\u202fAM.\n"
        "📍 Cursuscentrum De Linde, Utrecht\n\n"
        "See you there!"
    )
    assert anna.buttons == ["🔕 No reminders"]
    assert dirk.text.startswith("⏰ Je opleiding VCA Basis begint morgen om 09:00.\n")
    assert len(bert.user.messages) == seen[bert.id], "Bert turned reminders off"
    assert len(carl.user.messages) == seen[carl.id], "Carl's date was cancelled"

    desk.clock.advance(timedelta(hours=1))
    assert await keepers[1].run_once() == 0
    assert [m.text for m in anna.user.messages].count(anna.text) == 1
    reasons = sorted((r.status, r.reason or "") for r in desk.reminders())
    assert reasons == [
        (CourseReminderStatus.QUEUED, ""),
        (CourseReminderStatus.QUEUED, ""),
        (CourseReminderStatus.SKIPPED, "cancelled"),
        (CourseReminderStatus.SKIPPED, "off"),
    ]


async def test_a_moved_date_brings_a_calendar_that_replaces_the_first(desk: Desk) -> None:
    anna = await desk.enroll("Anna", "en", desk.run["id"])
    _, first = calendar_of(anna)
    [first_event] = first.walk("VEVENT")
    desk.run["startDatum"] = "2026-04-02T13:30:00"
    desk.run["eindDatum"] = "2026-04-02T17:00:00"
    keepers = [CourseReminderKeeper(desk.bot.services) for _ in range(2)]
    desk.clock.advance(datetime(2026, 3, 27, 16, 0, tzinfo=UTC) - desk.clock.now())
    moved = await asyncio.gather(*(keeper.run_once() for keeper in keepers))
    assert moved == [0, 0]  # the catalogue says it moved: no reminder today
    [reminder] = desk.reminders()
    assert reminder.starts_at == datetime(2026, 4, 2, 11, 30, tzinfo=UTC)
    await desk.bot.wait_for(lambda: anna.user.messages[-1].kind == "document", what="the news")
    news = anna.user.messages[-1]
    assert news.caption == (
        "📅 VCA Basis has moved: it now starts Thursday 2 April 2026, 13:30. This calendar "
        "file replaces the earlier one."
    )
    assert news.file is not None
    [event] = Calendar.from_ical(news.file.data).walk("VEVENT")
    assert str(event["uid"]) == str(first_event["uid"]), "the same event, replaced"
    assert event.decoded("sequence") == 1 > first_event.decoded("sequence")
    assert event.decoded("dtstart") == datetime(2026, 4, 2, 11, 30, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 4, 2, 15, 0, tzinfo=UTC)
    assert [m.kind for m in anna.user.messages].count("document") == 2, "sent once"
    keeper = keepers[0]
    desk.clock.advance(datetime(2026, 4, 1, 15, 0, tzinfo=UTC) - desk.clock.now())
    assert await keeper.run_once() == 1  # 17:00 summer time on 1 April
    await desk.bot.wait_for(lambda: anna.text.startswith("⏰"), what="the reminder")
    assert anna.text.startswith("⏰ Your course VCA Basis starts tomorrow at 1:30\u202fPM.")


async def test_reminders_can_be_switched_off_for_the_provider(
    database_url: str, telegram: TelegramSandbox, tmp_path: Path
) -> None:
    clock = ManualClock(NOW)
    async with (
        CoachviewSandbox(clock=clock) as coachview,
        running_bot(telegram, coachview, database_url, clock=clock, course_reminders=False) as bot,
    ):
        desk = Desk(bot, clock, coachview)
        anna = await desk.enroll("Anna", "en", coachview.catalogue.seed.open_run)
        assert "remind" not in anna.text
        assert anna.buttons == []
        assert desk.reminders() == []
        calendar_of(anna)  # the calendar still comes
