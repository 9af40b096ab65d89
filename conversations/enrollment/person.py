"""The fields a person is asked by typing, written once for the contact person and for each
participant (the one under the cursor): first name, name prefix, last name, e-mail address."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from bot import courses
from bot.enrollment import Participant
from bot.i18n import N_
from conversations.enrollment.common import current_participant, now_line, then
from conversations.fields import parse_email, parse_name, parse_prefix
from conversations.steps import Prompt, Step, Turn

Who = Literal["contact", "participant"]


@dataclass(frozen=True)
class Field:
    """One typed field of a person: its attribute, its parser, its question to the contact
    person and about a participant, and whom it may be skipped for."""

    attribute: Literal["first_name", "prefix", "last_name", "email"]
    parse: Callable[[str], str]
    asks: dict[Who, str]
    skippable: tuple[Who, ...] = ()


FIRST_NAME: Final = Field(
    "first_name",
    parse_name,
    {"contact": N_("What is your first name?"), "participant": N_("What is their first name?")},
)
PREFIX: Final = Field(
    "prefix",
    parse_prefix,
    {
        "contact": N_(
            "Does your last name have a prefix, such as “van” or “de”? Type it, or skip this."
        ),
        "participant": N_(
            "Does their last name have a prefix, such as “van” or “de”? Type it, or skip this."
        ),
    },
    skippable=("contact", "participant"),
)
LAST_NAME: Final = Field(
    "last_name",
    parse_name,
    {"contact": N_("What is your last name?"), "participant": N_("What is their last name?")},
)
EMAIL: Final = Field(
    "email",
    parse_email,
    {
        "contact": N_("What is your e-mail address?"),
        "participant": N_("What is their e-mail address? Skip this if you do not know it."),
    },
    skippable=("participant",),
)


def _person(turn: Turn, who: Who) -> Participant:
    return turn.enrollment.contact if who == "contact" else current_participant(turn)


def typed(name: str, who: Who, field: Field, *, to: str) -> Step:
    """The step ``name`` that asks ``who`` for ``field``, and goes on to ``to`` (a step, or a
    group of the provider's questions)."""

    async def ask(turn: Turn) -> Prompt:
        t = turn.t
        text = t._(field.asks[who])
        if who == "participant":
            text = t._("Participant {number}: {question}").format(
                number=turn.progress.cursor + 1, question=text
            )
        elif field is FIRST_NAME and turn.enrollment.course and not turn.editing:
            text = courses.course_line(t, turn.enrollment.course) + "\n\n" + text
        return Prompt(text + now_line(t, getattr(_person(turn, who), field.attribute)))

    async def answered(turn: Turn, text: str) -> str:
        setattr(_person(turn, who), field.attribute, field.parse(text))
        return then(turn, to)

    async def skipped(turn: Turn) -> str:
        setattr(_person(turn, who), field.attribute, None)
        return then(turn, to)

    skip = skipped if who in field.skippable else None
    return Step(name, ask=ask, text=answered, skip=skip, goes_to=(to,))
