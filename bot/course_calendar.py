"""The dates of an enrollment in the person's calendar: an RFC 5545 file (``.ics``).

One event per run (Coachview does not tell the bot a run's separate sessions), its start and
end in UTC from Coachview's Dutch local times, so every calendar shows them right whatever its
zone, across a change to or from summer time too. ``UID`` is fixed per webaanvraag and run: a
calendar that imports a newer file (a higher ``SEQUENCE``) updates the event instead of adding
a second one. The course name is the summary; the description carries the enrollment's
Coachview number and the course code; the location is there when Coachview names one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from icalendar import Calendar, Event

__all__ = ["CalendarEvent", "calendar_file", "event_uid"]

PRODID = "-//enrollbot//course dates//EN"
UID_DOMAIN = "enrollbot"


def event_uid(webaanvraag: str, run_id: str) -> str:
    """The stable ``UID`` of the event of ``run_id`` in webaanvraag ``webaanvraag``."""
    return f"{webaanvraag}-{run_id}@{UID_DOMAIN}".lower()


@dataclass(frozen=True)
class CalendarEvent:
    """One run in someone's calendar."""

    uid: str
    summary: str
    description: str
    start: datetime
    end: datetime | None = None
    location: str | None = None


def calendar_file(events: list[CalendarEvent], *, stamp: datetime, sequence: int = 0) -> bytes:
    """The ``.ics`` file of ``events``, made at ``stamp`` (``DTSTAMP``), revision ``sequence``.

    An event whose end is unknown gets no ``DTEND`` (it shows at its start; no end is guessed).
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp.astimezone(UTC).replace(microsecond=0))
        event.add("sequence", sequence)
        event.add("dtstart", item.start.astimezone(UTC))
        if item.end is not None and item.end > item.start:
            event.add("dtend", item.end.astimezone(UTC))
        event.add("summary", item.summary)
        event.add("description", item.description)
        if item.location:
            event.add("location", item.location)
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
