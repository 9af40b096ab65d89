"""The course catalogue as the conversation offers it: which course types and runs can be
chosen, how they read, and how a deep link names one.

The catalogue comes from Coachview through the client's cache, so browsing costs no API calls.
Coachview itself selects what live enrollment sites offer (published, active course types; runs
to be started or definite, published, from today); a run is then offered when
:meth:`~bot.coachview.models.Opleiding.open_for_enrollment` says so too: not cancelled, not
started, its enrollment deadline not passed, a place free (or unknown).

A course type shows its published price and its goal (``doel``, plain text). Its description
(``omschrijvingInhoud``) is HTML of any length and is left out: turning it into Telegram's few
tags needs a sanitizer plus a converter of lists and headings, and the goal already says what
the course is for in a line, leaving the dates and the question readable within one message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final, Protocol

from bot.coachview.models import Opleiding, Opleidingssoort
from bot.enrollment import CourseChoice
from bot.i18n import Translator, esc
from bot.telegram.limits import MESSAGE_TEXT_MAX

__all__ = [
    "Catalogue",
    "choice_for_run",
    "choice_for_type",
    "course_details",
    "course_line",
    "course_screen_room",
    "course_types",
    "find_type",
    "run_label",
    "run_line",
    "runs_of",
    "shorten",
]

GOAL_MAX: Final = 700
"""The most characters of a course's goal shown above its dates (a longer one is shortened)."""
NOTES_ROOM: Final = 600
"""Characters kept free in a course screen for the notes shown above it (welcome, a link's
note, the echo of the pressed button)."""


class Catalogue(Protocol):
    """The part of the Coachview client the conversation reads (cached there)."""

    async def list_opleidingssoorten(self) -> list[Opleidingssoort]: ...

    async def list_opleidingen(self, opleidingssoort_id: str) -> list[Opleiding]: ...

    async def get_opleiding(self, opleiding_id: str) -> Opleiding: ...

    async def find_opleidingssoort(self, key: str) -> Opleidingssoort | None: ...


async def course_types(catalogue: Catalogue) -> list[Opleidingssoort]:
    """The course types people may choose: published and active, by name."""
    types = await catalogue.list_opleidingssoorten()
    return sorted((kind for kind in types if kind.offered), key=lambda kind: kind.naam.casefold())


async def runs_of(catalogue: Catalogue, soort_id: str, *, now: datetime) -> list[Opleiding]:
    """The runs of a course type one can still enroll in, soonest first."""
    runs = await catalogue.list_opleidingen(soort_id)
    offered = [run for run in runs if run.open_for_enrollment(now)]
    return sorted(offered, key=lambda run: (run.start_datum is None, run.start_datum or now))


def choice_for_type(kind: Opleidingssoort) -> CourseChoice:
    """The course type alone: "any date", a waiting list."""
    return CourseChoice(
        opleidingssoort_id=kind.id,
        opleidingssoort_code=kind.code,
        opleidingssoort_naam=kind.naam,
    )


def choice_for_run(kind: Opleidingssoort, run: Opleiding) -> CourseChoice:
    """A scheduled run of a course type."""
    return CourseChoice(
        opleidingssoort_id=kind.id,
        opleidingssoort_code=kind.code,
        opleidingssoort_naam=kind.naam,
        opleiding_id=run.id,
        opleiding_naam=run.naam,
        start=run.start_datum,
        free_places=run.aantal_plaatsen_vrij,
    )


def run_line(t: Translator, run: Opleiding) -> str:
    """A run in the message above the buttons: its days and its name (HTML)."""
    when = t.period(run.start_datum, run.eind_datum) if run.start_datum else ""
    return f"• <b>{esc(when)}</b> {esc(run.naam)}" if when else f"• {esc(run.naam)}"


def run_label(t: Translator, run: Opleiding) -> str:
    """A run on a button: its date and free places (plain text, buttons take no HTML)."""
    when = t.date(run.start_datum, "EEE d MMM y") if run.start_datum else t._("date to be set")
    if run.aantal_plaatsen_vrij is None:
        return when
    places = t.ngettext(
        "{count} place left", "{count} places left", run.aantal_plaatsen_vrij
    ).format(count=t.number(run.aantal_plaatsen_vrij))
    return f"{when} · {places}"


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: cut at a word and ended with "…" if too long."""
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    cut = text[: limit - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" \n,.;:-") + "…"


def course_details(t: Translator, kind: Opleidingssoort, *, room: int) -> str:
    """The price and goal of a course type as HTML lines (``""`` when it has neither); the goal
    is shortened to fit ``room`` characters with the price."""
    lines = []
    if kind.prijs_excl_btw is not None:
        lines.append(t._("{price} excl. VAT").format(price=esc(t.money(kind.prijs_excl_btw))))
    goal = (kind.doel or "").strip()
    room -= sum(len(line) + 1 for line in lines)
    if goal and room > 20:
        lines.append(f"<i>{esc(shorten(goal, min(room, GOAL_MAX)))}</i>")
    return "\n".join(lines)


def course_screen_room(*parts: str) -> int:
    """The characters left for a course's details in a message that also holds ``parts``."""
    return MESSAGE_TEXT_MAX - NOTES_ROOM - sum(len(part) for part in parts)


def course_line(t: Translator, course: CourseChoice) -> str:
    """The chosen course as one HTML line: name, and the date or "any date"."""
    name = f"<b>{esc(course.opleidingssoort_naam)}</b>"
    if course.any_date:
        return t._("{course}, any date (waiting list)").format(course=name)
    if course.start is None:
        return name
    return t._("{course}, starting {date}").format(
        course=name, date=esc(t.datetime(course.start, "d MMMM y, HH:mm"))
    )


def find_type(types: Sequence[Opleidingssoort], key: str) -> Opleidingssoort | None:
    """A course type named by a deep link: its id, or its code (case-insensitive)."""
    folded = key.casefold()
    for kind in types:
        if kind.id.casefold() == folded or kind.code.casefold() == folded:
            return kind
    return None
