"""What the enrollment's steps share: yes/no buttons, the known answer under a question, the
participant cap, the participant under the cursor, and the way through the provider's own
questions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.enrollment import Enrollment, Participant
from bot.i18n import Translator, esc
from bot.questions import Question
from conversations import questions as extra
from conversations.enrollment.names import (
    CHOOSING_ANOTHER,
    CHOOSING_ATTENDANCE,
    QUESTIONS,
    TYPING_PARTICIPANT_EMAIL,
    TYPING_REMARK,
)
from conversations.fields import NO_WORDS, YES_WORDS
from conversations.steps import Button, Prompt, Step, Turn


def yes_no(t: Translator, yes: str, no: str) -> list[list[Button]]:
    return [[Button(yes, "yes"), Button(no, "no")]]


def yes_no_choices(t: Translator, yes: str, no: str) -> dict[str, str]:
    """The button labels, and yes/no typed in Dutch or English."""
    return {
        yes: "yes",
        no: "no",
        **dict.fromkeys(YES_WORDS, "yes"),
        **dict.fromkeys(NO_WORDS, "no"),
    }


def now_line(t: Translator, value: str | None) -> str:
    """Shown under a question whose answer is known (after Back, or when editing)."""
    return "\n" + t._("(now: {value})").format(value=esc(value)) if value else ""


def capacity(turn: Turn) -> tuple[int, bool]:
    """The most people this enrollment may hold, and whether that is the run's free places."""
    course = turn.enrollment.course
    most = turn.reads.max_participants
    if course is not None and course.free_places is not None and course.free_places <= most:
        return course.free_places, True
    return most, False


def current_participant(turn: Turn) -> Participant:
    """The participant being entered or edited (created on first use)."""
    index = turn.progress.cursor
    participants = turn.enrollment.participants
    while len(participants) <= index:
        participants.append(Participant())
    return participants[index]


def drop_unfinished(enrollment: Enrollment) -> None:
    enrollment.participants = [p for p in enrollment.participants if p.is_complete]


# -- The table's steps ------------------------------------------------------------------------


def buttons(
    name: str,
    ask: Callable[[Turn], Awaitable[Prompt]],
    chosen: Callable[[Turn, str], Awaitable[str | None]],
    choices: Callable[[Turn], dict[str, str]] | None = None,
    *,
    to: tuple[str, ...],
    back: bool = True,
    home: bool = False,
) -> Step:
    """A question answered with buttons (or their labels typed)."""
    return Step(
        name, ask=ask, button=chosen, typed_choices=choices, back=back, home=home, goes_to=to
    )


def typing(
    name: str,
    ask: Callable[[Turn], Awaitable[Prompt]],
    answered: Callable[[Turn, str], Awaitable[str]],
    skipped: Callable[[Turn], Awaitable[str]],
    *,
    to: str,
    contact: Callable[[Turn, str, bool], Awaitable[str]] | None = None,
) -> Step:
    """A question answered by typing (or by sharing a contact), which may be skipped."""
    return Step(name, ask=ask, text=answered, contact=contact, skip=skipped, goes_to=(to,))


# -- The provider's own questions (conversations/questions.py) ---------------------------------


def then(turn: Turn, to: str) -> str:
    """The step ``to`` names (a group of the provider's questions: its first that applies),
    or the review again when this edit is done."""
    group = QUESTIONS.get(to)
    return turn.proceed(first_question(turn, group) if group is not None else to)


def after_questions(turn: Turn, group: extra.Group) -> str:
    """Where a group of the provider's questions leads once answered."""
    if group == "contact":
        return CHOOSING_ATTENDANCE
    if group == "self":
        cap, _ = capacity(turn)
        if turn.enrollment.participant_count >= cap:
            return first_question(turn, "enrollment")
        return CHOOSING_ANOTHER
    if group == "participant":
        return CHOOSING_ANOTHER
    return TYPING_REMARK


def first_question(turn: Turn, group: extra.Group) -> str:
    return extra.first_step(turn, group, after_questions)


def participant_done(turn: Turn) -> str:
    """The last question about a participant: where adding one from the review ends."""
    return extra.last_step(turn, "participant", TYPING_PARTICIPANT_EMAIL)


def group_of(question: Question) -> extra.Group:
    """The group a question of the contact person or of the enrollment is asked in."""
    if question.for_ == "contact":
        return "contact"
    return "self" if question.for_ == "each-person" else "enrollment"
