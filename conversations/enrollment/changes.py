"""Changing an answer from the review (a menu of the fields, then the field's own question),
the participants (change or remove one), and the confirmations of cancel and start over."""

from __future__ import annotations

from typing import Final

from bot import courses
from bot.i18n import N_, Translator, esc
from conversations import questions as extra
from conversations.enrollment.common import current_participant, group_of, yes_no, yes_no_choices
from conversations.enrollment.names import (
    CANCEL,
    CHOOSING_ATTENDANCE,
    CHOOSING_PARTICIPANT_CHANGE,
    RESTART,
    REVIEWING,
    TYPING_COMPANY,
    TYPING_EMAIL,
    TYPING_FIRST_NAME,
    TYPING_LAST_NAME,
    TYPING_PARTICIPANT_EMAIL,
    TYPING_PARTICIPANT_FIRST_NAME,
    TYPING_PARTICIPANT_LAST_NAME,
    TYPING_PARTICIPANT_PREFIX,
    TYPING_PHONE,
    TYPING_PREFIX,
    TYPING_REMARK,
)
from conversations.fields import Invalid
from conversations.steps import BACK, Button, Prompt, Turn

Fields = tuple[tuple[str, str], ...]


_DETAILS: Final[tuple[tuple[str, str], ...]] = (
    (N_("First name"), TYPING_FIRST_NAME),
    (N_("Name prefix"), TYPING_PREFIX),
    (N_("Last name"), TYPING_LAST_NAME),
    (N_("E-mail"), TYPING_EMAIL),
    (N_("Phone"), TYPING_PHONE),
    (N_("Company"), TYPING_COMPANY),
    (N_("Attending yourself"), CHOOSING_ATTENDANCE),
    (N_("Remark"), TYPING_REMARK),
)


_PARTICIPANT_FIELDS: Final[tuple[tuple[str, str], ...]] = (
    (N_("First name"), TYPING_PARTICIPANT_FIRST_NAME),
    (N_("Name prefix"), TYPING_PARTICIPANT_PREFIX),
    (N_("Last name"), TYPING_PARTICIPANT_LAST_NAME),
    (N_("E-mail"), TYPING_PARTICIPANT_EMAIL),
)


def _field_menu(t: Translator, fields: Fields) -> list[list[Button]]:
    """A button per field (``f<i>``), two a row."""
    buttons = [Button(t._(label), f"f{i}") for i, (label, _) in enumerate(fields)]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def _with_questions(turn: Turn, fields: Fields, groups: tuple[extra.Group, ...]) -> Fields:
    """The built-in fields, then the provider's questions of ``groups`` that apply (their
    labels are already in the person's language: ``t._`` leaves them as they are)."""
    enrollment = turn.enrollment
    added = []
    for question in turn.reads.questions.all:
        group = "participant" if "participant" in groups else group_of(question)
        if group not in groups or not question.applies(enrollment):
            continue
        if group == "self" and not enrollment.attending:
            continue
        if group == "participant" and question.for_ != "each-person":
            continue
        added.append((question.title(turn.t.language), extra.step_of(question, group)))
    return (*fields, *added)


def _details(turn: Turn) -> Fields:
    return _with_questions(turn, _DETAILS, ("contact", "self", "enrollment"))


def _participant_fields(turn: Turn) -> Fields:
    return _with_questions(turn, _PARTICIPANT_FIELDS, ("participant",))


def _edit_field(turn: Turn, action: str, fields: Fields) -> str:
    """The question of the field whose button was pressed; the edit returns to the review."""
    index = int(action[1:]) if action.startswith("f") and action[1:].isdigit() else -1
    if not 0 <= index < len(fields):
        raise Invalid(N_("That button does not belong to this question."))
    step = fields[index][1]
    turn.edit_from(REVIEWING, until=step)
    return step


async def ask_detail(turn: Turn) -> Prompt:
    return Prompt(turn.t._("What would you like to change?"), _field_menu(turn.t, _details(turn)))


async def detail_chosen(turn: Turn, action: str) -> str | None:
    return _edit_field(turn, action, _details(turn))


def detail_choices(turn: Turn) -> dict[str, str]:
    return {turn.t._(label): f"f{i}" for i, (label, _) in enumerate(_details(turn))}


async def ask_participant(turn: Turn) -> Prompt:
    t = turn.t
    rows = [
        [Button(participant.full_name or "?", f"o{i}")]
        for i, participant in enumerate(turn.enrollment.participants)
    ]
    return Prompt(t._("Which participant?"), rows)


async def participant_chosen(turn: Turn, action: str) -> str | None:
    if action.startswith("o") and action[1:].isdigit():
        index = int(action[1:])
        if index < len(turn.enrollment.participants):
            turn.progress.cursor = index
            return CHOOSING_PARTICIPANT_CHANGE
    raise Invalid(N_("That button does not belong to this question."))


async def ask_participant_change(turn: Turn) -> Prompt:
    t = turn.t
    participant = current_participant(turn)
    rows = _field_menu(t, _participant_fields(turn))
    rows.append([Button(t._("🗑 Remove this participant"), "remove")])
    text = t._("{name}: what would you like to change?").format(
        name=f"<b>{esc(participant.full_name)}</b>"
    )
    return Prompt(text, rows)


async def participant_change_chosen(turn: Turn, action: str) -> str | None:
    enrollment = turn.enrollment
    if action == "remove":
        if not enrollment.attending and len(enrollment.participants) == 1:
            raise Invalid(
                N_("At least one participant is needed when you do not attend yourself.")
            )
        removed = enrollment.participants.pop(turn.progress.cursor)
        turn.notes.append(
            turn.t._("{name} is no longer on the enrollment.").format(name=esc(removed.full_name))
        )
        return REVIEWING
    return _edit_field(turn, action, _participant_fields(turn))


# -- Cancel and start over ----------------------------------------------------------------------


async def ask_cancel(turn: Turn) -> Prompt:
    t = turn.t
    text = t._("Do you want to cancel this enrollment? Your answers will be deleted.")
    return Prompt(text, yes_no(t, t._("Yes, cancel it"), t._("No, go on")))


def cancel_choices(turn: Turn) -> dict[str, str]:
    return yes_no_choices(turn.t, turn.t._("Yes, cancel it"), turn.t._("No, go on"))


async def cancel_chosen(turn: Turn, action: str) -> str | None:
    if action == "yes":
        return CANCEL
    if action == "no":
        return BACK
    raise Invalid(N_("That button does not belong to this question."))


async def ask_restart(turn: Turn) -> Prompt:
    t = turn.t
    course = turn.enrollment.course
    if course is not None:
        text = t._(
            "You have an enrollment in progress for {course}. Continue where you left off, "
            "or start over?"
        ).format(course=courses.course_line(t, course))
    else:
        text = t._(
            "You have an enrollment in progress. Continue where you left off, or start over?"
        )
    return Prompt(text, [[Button(t._("Continue"), "no"), Button(t._("Start over"), "yes")]])


def restart_choices(turn: Turn) -> dict[str, str]:
    return {turn.t._("Continue"): "no", turn.t._("Start over"): "yes"}


async def restart_chosen(turn: Turn, action: str) -> str | None:
    if action == "yes":
        return RESTART
    if action == "no":
        return BACK
    raise Invalid(N_("That button does not belong to this question."))
