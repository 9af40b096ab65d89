"""Attending yourself, and the other participants: another one, up to the cap (the run's free
places, or ``MAX_PARTICIPANTS``)."""

from __future__ import annotations

from bot.i18n import N_, Translator
from conversations.enrollment.common import (
    capacity,
    drop_unfinished,
    first_question,
    participant_done,
    yes_no,
    yes_no_choices,
)
from conversations.enrollment.names import (
    CHOOSING_ANOTHER,
    REVIEWING,
    TYPING_PARTICIPANT_FIRST_NAME,
)
from conversations.fields import Invalid
from conversations.steps import Button, Prompt, Turn


def _attendance_labels(t: Translator) -> tuple[str, str]:
    return t._("Yes, I will attend"), t._("No, I enroll others")


async def ask_attendance(turn: Turn) -> Prompt:
    t = turn.t
    yes, no = _attendance_labels(t)
    return Prompt(t._("Will you attend the course yourself?"), yes_no(t, yes, no))


def attendance_choices(turn: Turn) -> dict[str, str]:
    return yes_no_choices(turn.t, *_attendance_labels(turn.t))


def start_new_participant(turn: Turn) -> str:
    turn.progress.cursor = len(turn.enrollment.participants)
    if turn.editing:
        turn.edit_from(turn.progress.return_to or REVIEWING, until=participant_done(turn))
    return TYPING_PARTICIPANT_FIRST_NAME


async def attendance_chosen(turn: Turn, action: str) -> str | None:
    if action not in ("yes", "no"):
        raise Invalid(N_("That button does not belong to this question."))
    enrollment = turn.enrollment
    enrollment.attending = action == "yes"
    if not enrollment.attending and not enrollment.participants:
        turn.notes.append(turn.t._("Then please tell me who will attend."))
        return start_new_participant(turn)
    if enrollment.attending and not turn.editing:
        cap, from_run = capacity(turn)
        if enrollment.participant_count >= cap and from_run:
            turn.notes.append(
                turn.t.ngettext(
                    "This date has {count} free place left, so this enrollment is for you.",
                    "This date has {count} free places left: they are for you and the people "
                    "you already entered.",
                    cap,
                ).format(count=cap)
            )
        return first_question(turn, "self")
    return turn.proceed(CHOOSING_ANOTHER)


async def ask_another(turn: Turn) -> Prompt:
    t = turn.t
    enrollment = turn.enrollment
    cap, from_run = capacity(turn)
    if enrollment.participant_count >= cap:
        if from_run:
            text = t.ngettext(
                "This date has {count} free place, and this enrollment fills it.",
                "This date has {count} free places, and they are all taken by the people "
                "you entered.",
                cap,
            ).format(count=cap)
        else:
            text = t.ngettext(
                "You can enroll at most {count} person at once.",
                "You can enroll at most {count} people at once.",
                cap,
            ).format(count=cap)
        return Prompt(text, [[Button(t._("Continue"), "no")]])
    if enrollment.participants:
        question = t._("Do you want to enroll another person?")
    else:
        question = t._("Do you want to enroll someone else too?")
    return Prompt(question, yes_no(t, t._("Yes"), t._("No")))


def another_choices(turn: Turn) -> dict[str, str]:
    return {**yes_no_choices(turn.t, turn.t._("Yes"), turn.t._("No")), turn.t._("Continue"): "no"}


async def another_chosen(turn: Turn, action: str) -> str | None:
    if action == "yes":
        cap, _ = capacity(turn)
        if turn.enrollment.participant_count >= cap:
            raise Invalid(N_("No more people fit in this enrollment."))
        return start_new_participant(turn)
    if action == "no":
        drop_unfinished(turn.enrollment)
        turn.progress.cursor = 0
        return turn.proceed(first_question(turn, "enrollment"))
    raise Invalid(N_("That button does not belong to this question."))
