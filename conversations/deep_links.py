"""Where a deep link (``/start <payload>``) starts an enrollment: at a run (an ``opleiding``
id), at a course type (its id or code), or at the course list.

A run or course type that exists but is not open says so and offers what is: the other dates of
its course type when that is open, else the course list. Typed text reaches Coachview only as a
valid id or code, and each look-up beyond the cached course types counts against the person's
budget (``bot/budgets.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import courses
from bot.budgets import LOOKUPS_SPENT
from bot.coachview.keys import guid, is_course_code
from bot.enrollment import Enrollment
from bot.errors import CoachviewNotFound, CoachviewRejected
from bot.i18n import Translator, esc
from bot.services import Services
from conversations.enrollment import CHOOSING_RUN, FIRST_STEP, TYPING_FIRST_NAME

__all__ = ["Start", "follow"]


@dataclass(frozen=True)
class Start:
    """The first step of a draft a link opens, its answers and course type, and a note."""

    step: str
    enrollment: Enrollment | None = None
    soort: str | None = None
    notes: tuple[str, ...] = ()


async def follow(services: Services, t: Translator, payload: str, user_id: int) -> Start | None:
    """Where ``payload`` starts; ``None``: it names no course (say so, offer the list).

    Raises :class:`~bot.errors.CatalogueUnavailable` when the catalogue cannot be read (a
    failure is not an unknown course).
    """
    run_id = guid(payload)
    if run_id is None and not is_course_code(payload):
        return None  # neither an id nor a code: unknown, and nothing is asked of Coachview
    key = run_id or payload
    catalogue = services.catalogue
    types = await courses.course_types(catalogue)
    kind = courses.find_type(types, key)
    if kind is not None:
        return Start(CHOOSING_RUN, soort=kind.id)
    # Beyond the cached course types each look-up counts against the person's budget.
    budget = services.lookups
    spent = Start(FIRST_STEP, notes=(t._(LOOKUPS_SPENT),))
    run = None
    if run_id is not None:
        if not budget.take(user_id):
            return spent
        try:
            run = await catalogue.get_opleiding(run_id)
        except (CoachviewNotFound, CoachviewRejected):  # Coachview does not know it
            run = None
    if run is None:
        if not budget.take(user_id):
            return spent
        closed = await catalogue.find_opleidingssoort(key)
        if closed is None:
            return None
        return Start(FIRST_STEP, notes=(_not_open(t, closed.naam),))
    kind = courses.find_type(types, run.opleidingssoort_id)
    if kind is None:
        return Start(FIRST_STEP, notes=(_not_open(t, run.naam),))
    if not run.open_for_enrollment(services.clock.now()):
        note = t._("That date can no longer be booked. Please choose another one.")
        return Start(CHOOSING_RUN, soort=kind.id, notes=(note,))
    return Start(TYPING_FIRST_NAME, Enrollment(course=courses.choice_for_run(kind, run)))


def _not_open(t: Translator, name: str) -> str:
    """The note above the course list when a link names a course that takes no enrollments."""
    return t._("{course} is not open for enrollment. Please choose another course.").format(
        course=f"<b>{esc(name)}</b>"
    )
