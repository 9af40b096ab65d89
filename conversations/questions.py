"""The provider's own questions (``QUESTIONS_FILE``, ``bot/questions.py``) as steps of the flow.

Each question is a step of its own, named after its id: ``ASKING:<id>`` asks the contact person
(their "contact" and "each-person" questions) or about the enrollment, ``ASKING_PARTICIPANT:<id>``
asks about the participant under the cursor. They come in four groups, each asked in the file's
order where it belongs in the conversation (questions whose ``when`` does not hold are passed)::

    company ─ [contact] ─ attending? ─ yes: [self] ─ ...
    participant's e-mail ─ [participant] ─ another?
    no more participants ─ [enrollment] ─ remark

An answer is parsed by its kind, kept in the draft (``answers``, by id), typed, and every step
works like the built-in ones: a clear re-ask, Skip when not required, Back, editing from the
review.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Literal

from bot.enrollment import Answer, Participant
from bot.i18n import N_, TIMEZONE, Translator, esc
from bot.questions import Question, Questions
from conversations.fields import (
    NO_WORDS,
    YES_WORDS,
    Invalid,
    parse_date,
    parse_email,
    parse_phone,
    parse_postcode,
    parse_text,
    readable_phone,
)
from conversations.steps import Button, Prompt, Step, Turn

__all__ = [
    "ASKING",
    "ASKING_PARTICIPANT",
    "Group",
    "answer_text",
    "build_steps",
    "first_step",
    "step_of",
]

ASKING: Final = "ASKING:"
ASKING_PARTICIPANT: Final = "ASKING_PARTICIPANT:"

Group = Literal["contact", "self", "participant", "enrollment"]
"""Where questions are asked: the contact's own, each-person for the contact (when attending),
each-person for a participant, the enrollment's."""

#: Where a group's questions lead once answered (``conversations/enrollment/common.py`` decides).
AfterFn = Callable[[Turn, Group], str]
ParticipantFn = Callable[[Turn], Participant]
#: The step after an answer, given the one the flow would take (the review may ask the next
#: open question instead).
ResumeFn = Callable[[Turn, str], str]


def _group(questions: Questions, group: Group) -> tuple[Question, ...]:
    if group in ("self", "participant"):
        return questions.of("each-person")
    return questions.of("contact" if group == "contact" else "enrollment")


def step_of(question: Question, group: Group) -> str:
    """The name of the step that asks ``question`` in ``group``."""
    prefix = ASKING_PARTICIPANT if group == "participant" else ASKING
    return prefix + question.id


def first_step(turn: Turn, group: Group, after: AfterFn, *, following: str | None = None) -> str:
    """The first question of ``group`` that applies (after question ``following``), else where
    the group leads."""
    questions = _group(turn.reads.questions, group)
    ids = [question.id for question in questions]
    start = ids.index(following) + 1 if following in ids else 0
    for question in questions[start:]:
        if question.applies(turn.enrollment):
            return step_of(question, group)
    return after(turn, group)


def last_step(turn: Turn, group: Group, default: str) -> str:
    """The step of the last question of ``group`` that applies, else ``default``."""
    applying = [q for q in _group(turn.reads.questions, group) if q.applies(turn.enrollment)]
    return step_of(applying[-1], group) if applying else default


# -- Showing answers -----------------------------------------------------------------------------


def answer_text(t: Translator, question: Question, value: Answer) -> str:
    """An answer as the person reads it (not escaped)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return t._("Yes") if value else t._("No")
    if question.kind == "date":
        from datetime import date  # noqa: PLC0415 - only here

        return t.date(date.fromisoformat(value), "long")
    if question.kind == "phone":
        return readable_phone(value)
    if question.kind == "choice":
        choice = next((c for c in question.choices or () if c.value == value), None)
        return choice(t.language) if choice is not None else value
    return value


# -- The steps -----------------------------------------------------------------------------------


def _choice_buttons(t: Translator, question: Question) -> list[list[Button]]:
    if question.kind == "yesno":
        return [[Button(t._("Yes"), "yes"), Button(t._("No"), "no")]]
    return [
        [Button(choice(t.language), f"c{i}")] for i, choice in enumerate(question.choices or ())
    ]


def _typed_choices(t: Translator, question: Question) -> dict[str, str]:
    """Labels (and values) a person may type instead of pressing a button."""
    if question.kind == "yesno":
        return {
            t._("Yes"): "yes",
            t._("No"): "no",
            **dict.fromkeys(YES_WORDS, "yes"),
            **dict.fromkeys(NO_WORDS, "no"),
        }
    found: dict[str, str] = {}
    for i, choice in enumerate(question.choices or ()):
        found[choice(t.language)] = f"c{i}"
        found[choice.value] = f"c{i}"
    return found


def _parse(turn: Turn, question: Question, text: str) -> Answer:
    kind = question.kind
    if kind == "date":
        today = turn.now.astimezone(TIMEZONE).date()
        return parse_date(text, today=today, past=question.past).isoformat()
    if kind == "email":
        return parse_email(text)
    if kind == "phone":
        return parse_phone(text)
    if kind == "postcode":
        return parse_postcode(text)
    return parse_text(text, min_length=question.min_length, max_length=question.max_length)


def _question_step(
    question: Question,
    group: Group,
    *,
    after: AfterFn,
    participant: ParticipantFn,
    resume: ResumeFn,
) -> Step:
    name = step_of(question, group)

    def answers(turn: Turn) -> dict[str, Answer]:
        if question.for_ == "enrollment":
            return turn.enrollment.answers
        if group == "participant":
            return participant(turn).answers
        return turn.enrollment.contact.answers

    def done(turn: Turn, value: Answer) -> str:
        answers(turn)[question.id] = value
        return resume(turn, turn.proceed(first_step(turn, group, after, following=question.id)))

    async def ask(turn: Turn) -> Prompt:
        t = turn.t
        text = esc(question.ask(t.language))
        if group == "participant":
            number = turn.progress.cursor + 1
            text = t._("Participant {number}: {question}").format(number=number, question=text)
        elif group == "self":
            text = t._("About you: {question}").format(question=text)
        if question.help is not None:
            text += "\n<i>" + esc(question.help(t.language)) + "</i>"
        known = answers(turn)
        if known.get(question.id) is not None:
            value = answer_text(t, question, known[question.id])
            text += "\n" + t._("(now: {value})").format(value=esc(value))
        buttons = _choice_buttons(t, question) if question.kind in ("choice", "yesno") else []
        return Prompt(text, buttons)

    async def typed(turn: Turn, text: str) -> str:
        return done(turn, _parse(turn, question, text))

    async def pressed(turn: Turn, action: str) -> str | None:
        if question.kind == "yesno" and action in ("yes", "no"):
            return done(turn, action == "yes")
        choices = question.choices or ()
        if action.startswith("c") and action[1:].isdigit() and int(action[1:]) < len(choices):
            return done(turn, choices[int(action[1:])].value)
        raise Invalid(N_("That button does not belong to this question."))

    async def skip(turn: Turn) -> str:
        return done(turn, None)

    buttoned = question.kind in ("choice", "yesno")
    return Step(
        name,
        ask=ask,
        text=None if buttoned else typed,
        button=pressed if buttoned else None,
        typed_choices=(lambda turn: _typed_choices(turn.t, question)) if buttoned else None,
        # Yes or no is an answer either way (and "no" typed would read as Skip).
        skip=None if question.required or question.kind == "yesno" else skip,
    )


def build_steps(
    questions: Questions, *, after: AfterFn, participant: ParticipantFn, resume: ResumeFn
) -> list[Step]:
    """A step for every question in every group it is asked in."""
    steps: list[Step] = []
    for question in questions.all:
        groups: tuple[Group, ...] = (
            ("self", "participant")
            if question.for_ == "each-person"
            else ("contact",)
            if question.for_ == "contact"
            else ("enrollment",)
        )
        steps.extend(
            _question_step(question, group, after=after, participant=participant, resume=resume)
            for group in groups
        )
    return steps
