"""The calendar file and the reminder's time, across the changes to and from summer time."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar

from bot.coachview.models import parse_coachview_datetime
from bot.course_calendar import CalendarEvent, calendar_file, event_uid
from bot.workers.course_reminders import remind_at


def test_dutch_times_become_utc_in_winter_and_summer() -> None:
    start = parse_coachview_datetime("2026-10-24T09:30:00")  # summer time, UTC+2
    end = parse_coachview_datetime("2026-10-26T17:00:00")  # winter time again, UTC+1
    assert start is not None and end is not None
    event = CalendarEvent(
        uid=event_uid("1001", "ABC-def"),
        summary="Excel, gevorderd; deel 1",
        description="Inschrijvingsnummer 1001\nregel twee",
        start=start,
        end=end,
    )
    data = calendar_file([event], stamp=datetime(2026, 10, 1, 12, 0, 0, 123, tzinfo=UTC))
    text = data.decode()
    assert "DTSTART:20261024T073000Z\r\n" in text
    assert "DTEND:20261026T160000Z\r\n" in text
    assert "DTSTAMP:20261001T120000Z\r\n" in text
    assert "UID:1001-abc-def@enrollbot\r\n" in text
    assert "SUMMARY:Excel\\, gevorderd\\; deel 1\r\n" in text  # escaped as RFC 5545 wants
    assert "LOCATION" not in text
    [parsed] = Calendar.from_ical(data).walk("VEVENT")
    assert str(parsed["description"]) == "Inschrijvingsnummer 1001\nregel twee"


def test_an_unknown_end_is_left_out_rather_than_guessed() -> None:
    start = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    event = CalendarEvent(uid="x@enrollbot", summary="S", description="D", start=start)
    [parsed] = Calendar.from_ical(calendar_file([event], stamp=start)).walk("VEVENT")
    assert "DTEND" not in parsed
    assert parsed.decoded("dtstart") == start


def test_the_reminder_goes_the_dutch_day_before_at_the_dutch_hour() -> None:
    # Monday 30 March 2026, 09:00 summer time; the day before is Sunday 29, the day of change.
    start = parse_coachview_datetime("2026-03-30T09:00:00")
    assert start is not None
    assert remind_at(start, 17) == datetime(2026, 3, 29, 15, 0, tzinfo=UTC)
    # 00:30 on 1 January is 31 December in UTC: the day before counts in Dutch dates (31
    # December), not in UTC ones (30 December).
    early = parse_coachview_datetime("2027-01-01T00:30:00")
    assert early is not None
    assert remind_at(early, 17) == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
