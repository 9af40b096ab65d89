"""Choosing the course: a course type from the catalogue, then one of its dates (or any date,
the waiting list), both paged."""

from __future__ import annotations

from typing import Final

from bot import courses
from bot.coachview.models import Opleidingssoort
from bot.i18n import N_, Translator, esc
from conversations.enrollment.names import CHOOSING_RUN, TYPING_FIRST_NAME
from conversations.fields import Invalid
from conversations.steps import Button, Prompt, Turn

PAGE_SIZE: Final = 6


def _paged(
    t: Translator, items: list[tuple[str, str]], page: int
) -> tuple[list[list[Button]], int, int]:
    """One page of (label, action) buttons, with Previous/Next; returns rows, page, pages."""
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows = [[Button(label, action)] for label, action in shown]
    nav = []
    if page > 0:
        nav.append(Button(t._("« Previous"), f"p{page - 1}"))
    if page < pages - 1:
        nav.append(Button(t._("Next »"), f"p{page + 1}"))
    if nav:
        rows.append(nav)
    return rows, page, pages


def _page_note(t: Translator, page: int, pages: int) -> str:
    """ "Page 2 of 3" on a line of its own above the question (the question stays last, which
    is what the chat keeps of it once a choice is made)."""
    if pages <= 1:
        return ""
    return t._("Page {page} of {pages}").format(page=page + 1, pages=pages) + "\n"


def _option(action: str) -> str:
    """The catalogue id an option button ``o:<id>`` stands for."""
    if not action.startswith("o:") or len(action) < 3:
        raise Invalid(N_("That button does not belong to this question."))
    return action[2:]


async def ask_course_type(turn: Turn) -> Prompt:
    t = turn.t
    types = await courses.course_types(turn.reads.catalogue)
    items = [(kind.naam, f"o:{kind.id}") for kind in types]
    rows, page, pages = _paged(t, items, turn.progress.page)
    turn.progress.page = page
    if not types:
        return Prompt(
            t._("There are no courses open for enrollment right now. Please try again later.")
        )
    text = _page_note(t, page, pages) + t._("Which course would you like to enroll in?")
    return Prompt(text, rows)


async def course_type_chosen(turn: Turn, action: str) -> str | None:
    if action.startswith("p") and action[1:].isdigit():
        turn.progress.page = int(action[1:])
        return None
    turn.progress.soort = _option(action)
    turn.progress.page = 0
    await _chosen_type(turn)
    return CHOOSING_RUN


async def _chosen_type(turn: Turn) -> Opleidingssoort:
    types = await courses.course_types(turn.reads.catalogue)
    kind = courses.find_type(types, turn.progress.soort or "")
    if kind is None:
        raise Invalid(N_("That course is no longer offered. Please choose another one."))
    return kind


async def ask_run(turn: Turn) -> Prompt:
    t = turn.t
    kind = await _chosen_type(turn)
    runs = await courses.runs_of(turn.reads.catalogue, kind.id, now=turn.now)
    items = [(courses.run_label(t, run), f"o:{run.id}") for run in runs]
    rows, page, pages = _paged(t, items, turn.progress.page)
    turn.progress.page = page
    rows.append([Button(t._("Any date (waiting list)"), "any")])
    head = f"<b>{esc(kind.naam)}</b>\n"
    shown = runs[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    text = ""
    if shown:
        text += "\n".join(courses.run_line(t, run) for run in shown) + "\n\n"
    text += _page_note(t, page, pages)
    if runs:
        text += t._("Which date would you like?")
    else:
        text += t._(
            "No dates are planned right now. You can enroll for any date: we put you on the "
            "waiting list and contact you when a date is set."
        )
    details = courses.course_details(t, kind, room=courses.course_screen_room(head, text))
    if details:
        head += details + "\n\n"
    return Prompt(head + text, rows)


async def run_chosen(turn: Turn, action: str) -> str | None:
    if action.startswith("p") and action[1:].isdigit():
        turn.progress.page = int(action[1:])
        return None
    kind = await _chosen_type(turn)
    if action == "any":
        turn.enrollment.course = courses.choice_for_type(kind)
    else:
        run_id = _option(action)
        runs = await courses.runs_of(turn.reads.catalogue, kind.id, now=turn.now)
        run = next((run for run in runs if run.id == run_id), None)
        if run is None:
            raise Invalid(N_("That date can no longer be booked. Please choose another one."))
        turn.enrollment.course = courses.choice_for_run(kind, run)
    turn.progress.page = 0
    return turn.proceed(TYPING_FIRST_NAME)
