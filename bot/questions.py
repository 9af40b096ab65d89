"""The provider's own questions: read from ``QUESTIONS_FILE`` (TOML), asked in the conversation,
sent where each one's ``coachview`` path says.

::

    [[question]]
    id = "geboortedatum"          # stable, [a-z0-9_]: the key of the answer in every draft
    for = "each-person"           # contact | each-person | enrollment
    kind = "date"                 # text | date | email | phone | postcode | choice | yesno
    required = true               # else it has a Skip button (yes/no: never, no is an answer)
    coachview = "geboorteDatum"   # a Persoon field, or a dotted webaanvraag path
    ask = { nl = "Wat is de geboortedatum?", en = "What is the date of birth?" }
    # optional: label (the short name in the review), help, choices = [{ value, nl, en }],
    # when = { company = true } or { course_codes = ["VCA"] }, min_length, max_length, past

Without a file the conversation is the built-in one (no questions of the provider's own). The
file is checked when the program starts (:func:`load_questions`, one line naming the question
and the problem) and by :func:`validate_questions_file` (every problem).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bot.coachview.webaanvraag import Extras, path_problem, persoon_path
from bot.enrollment import Answer, Enrollment, Participant
from bot.i18n import LANGUAGES, Language

__all__ = [
    "Question",
    "Questions",
    "QuestionsError",
    "load_questions",
    "terms_problem",
    "validate_questions_file",
]

Kind = Literal["text", "date", "email", "phone", "postcode", "choice", "yesno"]
For = Literal["contact", "each-person", "enrollment"]
#: The longest id: step names and button data carry it (Telegram allows 64 bytes of data).
MAX_ID: Final = 32

_Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Texts(_Strict):
    """A text in every language the bot speaks."""

    nl: _Line
    en: _Line

    def __call__(self, language: Language) -> str:
        return self.nl if language == "nl" else self.en


class Choice(Texts):
    """One button of a choice question: the value sent, and its label in each language."""

    value: _Line


class When(_Strict):
    """When a question is asked: only with a company given, only for some course types."""

    company: bool | None = None
    course_codes: tuple[_Line, ...] | None = None


class Question(_Strict):
    """One question of the provider's (see the module docstring for the keys)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=MAX_ID)]
    for_: For = Field(alias="for")
    kind: Kind
    required: bool = False
    coachview: _Line
    ask: Texts
    label: Texts | None = None
    help: Texts | None = None
    choices: tuple[Choice, ...] | None = None
    when: When | None = None
    min_length: int | None = Field(default=None, ge=1)
    max_length: int | None = Field(default=None, ge=1, le=1000)
    past: bool = False

    def title(self, language: Language) -> str:
        """The short name shown in the review and on the edit buttons."""
        return (self.label or self.ask)(language)

    def applies(self, enrollment: Enrollment) -> bool:
        """Whether this question is asked for ``enrollment`` (its ``when``)."""
        when = self.when
        if when is None:
            return True
        if when.company is not None and bool(enrollment.contact.company) != when.company:
            return False
        if when.course_codes is not None:
            course = enrollment.course
            codes = {code.casefold() for code in when.course_codes}
            if course is None or course.opleidingssoort_code.casefold() not in codes:
                return False
        return True

    def problems(self) -> list[str]:
        """What is wrong beyond each key's own shape."""
        found = []
        if (self.kind == "choice") != bool(self.choices):
            found.append(
                "choices are needed for kind choice"
                if self.kind == "choice"
                else f"choices are only for kind choice, not {self.kind}"
            )
        values = [choice.value for choice in self.choices or ()]
        if len(set(values)) != len(values):
            found.append("two choices have the same value")
        if self.past and self.kind != "date":
            found.append("past is only for kind date")
        if (self.min_length or self.max_length) and self.kind != "text":
            found.append("min_length and max_length are only for kind text")
        if self.min_length and self.max_length and self.min_length > self.max_length:
            found.append("min_length is more than max_length")
        problem = path_problem(self.coachview, self.for_, kind=self.kind)
        if problem:
            found.append(problem)
        return found


@dataclass(frozen=True)
class Questions:
    """The questions of a file, in its order."""

    all: tuple[Question, ...] = ()

    def of(self, scope: For) -> tuple[Question, ...]:
        return tuple(question for question in self.all if question.for_ == scope)

    def get(self, question_id: str) -> Question | None:
        return next((q for q in self.all if q.id == question_id), None)

    def missing(self, enrollment: Enrollment) -> list[tuple[Question, int | None]]:
        """Applicable questions not answered yet (a file changed after the draft began), each
        with whose: ``None`` the contact person or the enrollment, else a participant's index."""
        found: list[tuple[Question, int | None]] = []
        for question in self.all:
            if not question.applies(enrollment):
                continue
            if question.for_ == "enrollment":
                if question.id not in enrollment.answers:
                    found.append((question, None))
                continue
            if (
                question.for_ == "contact" or enrollment.attending
            ) and question.id not in enrollment.contact.answers:
                found.append((question, None))
            if question.for_ == "each-person":
                found.extend(
                    (question, index)
                    for index, participant in enumerate(enrollment.participants)
                    if question.id not in participant.answers
                )
        return found

    def extras(self, enrollment: Enrollment, *, terms_path: str | None = None) -> Extras:
        """The answers, by ``coachview`` path, for ``build_webaanvraag``; with ``terms_path``
        the time the terms were accepted goes there too."""
        body: dict[str, object] = {}
        contact: dict[str, object] = {}
        for question in self.all:
            if not question.applies(enrollment):
                continue
            if question.for_ == "enrollment":
                _add(body, question, enrollment.answers)
            elif question.for_ == "contact" and not persoon_path(question.coachview, "contact"):
                _add(body, question, enrollment.contact.answers)
            elif question.for_ == "contact" or enrollment.attending:
                _add(contact, question, enrollment.contact.answers)
        if terms_path and enrollment.terms_accepted_at is not None:
            body[terms_path] = enrollment.terms_accepted_at.isoformat(timespec="seconds")
        return Extras(
            body=body,
            contact=contact,
            participants=[self._person(enrollment, p) for p in enrollment.participants],
        )

    def _person(self, enrollment: Enrollment, participant: Participant) -> dict[str, object]:
        answers: dict[str, object] = {}
        for question in self.of("each-person"):
            if question.applies(enrollment):
                _add(answers, question, participant.answers)
        return answers


def _add(target: dict[str, object], question: Question, answers: dict[str, Answer]) -> None:
    value = answers.get(question.id)
    if value is not None:
        target[question.coachview] = value


class QuestionsError(ValueError):
    """The questions file cannot be used; ``str()`` is one line naming the question."""


def _describe(name: str, error: dict[str, Any]) -> str:
    """One line for one pydantic error of the question called ``name``."""
    rest = [str(part) for part in error.get("loc", ())]
    key = ".".join(rest)
    kind = error.get("type")
    if kind == "extra_forbidden":
        return f"{name}: unknown key {key!r}"
    if kind == "missing":
        if len(rest) >= 2 and rest[-1] in LANGUAGES:
            return f"{name}: {'.'.join(rest[:-1])} has no {rest[-1]} translation"
        return f"{name}: {key} is missing"
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    return f"{name}: {key}: {message}" if key else f"{name}: {message}"


def _check(raw: dict[str, Any]) -> tuple[Questions, list[str]]:
    """The questions of a parsed file, and every problem (each question checked on its own)."""
    problems = [f"the file: unknown key {key!r}" for key in raw if key != "question"]
    entries = raw.get("question", [])
    if not isinstance(entries, list):
        return Questions(), [*problems, "the file: question must be a list of [[question]]"]
    parsed: list[Question] = []
    paths: dict[str, str] = {}
    ids: set[str] = set()
    for index, entry in enumerate(entries):
        qid = entry.get("id") if isinstance(entry, dict) else None
        name = f"question {qid}" if isinstance(qid, str) else f"question #{index + 1}"
        if isinstance(qid, str):
            if qid in ids:
                problems.append(f"{name}: the id is used twice")
            ids.add(qid)
        try:
            question = Question.model_validate(entry)
        except ValidationError as err:
            problems.extend(_describe(name, dict(e)) for e in err.errors(include_url=False))
            continue
        problems.extend(f"{name}: {problem}" for problem in question.problems())
        if question.coachview in paths:
            problems.append(
                f"{name}: coachview path {question.coachview!r} is also question "
                f"{paths[question.coachview]}'s"
            )
        paths.setdefault(question.coachview, question.id)
        parsed.append(question)
    return Questions(tuple(parsed)), problems


def _read(path: Path) -> tuple[Questions, list[str]]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        return Questions(), [f"cannot read {path}: {err.strerror or err}"]
    except tomllib.TOMLDecodeError as err:
        return Questions(), [f"{path} is not valid TOML: {err}"]
    return _check(raw)


def validate_questions_file(path: Path | str) -> list[str]:
    """Every problem of the questions file at ``path``, one line each (empty: it is fine)."""
    return _read(Path(path))[1]


def load_questions(path: Path | str | None) -> Questions:
    """The questions of the file at ``path`` (``None``: the built-in conversation only);
    raises :class:`QuestionsError` with the first problem."""
    if path is None:
        return Questions()
    questions, problems = _read(Path(path))
    if problems:
        raise QuestionsError(problems[0])
    return questions


def terms_problem(path: str, questions: Questions) -> str | None:
    """Why the terms' acceptance time cannot go to webaanvraag ``path`` (``TERMS_COACHVIEW``)."""
    problem = path_problem(path, "enrollment", kind="text")
    if problem:
        return problem
    taken = next((q.id for q in questions.all if q.coachview == path), None)
    if taken:
        return f"coachview path {path!r} is also question {taken}'s"
    return None
