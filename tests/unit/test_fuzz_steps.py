"""Every step fuzzed (issue 15): random sequences of inputs on the pure step machine.

From every step of the enrollment's table, Hypothesis sends texts (any Unicode, control
characters, up to 4,096 characters, and the words the steps react to), button data (the
prompt's own, forged, of a stale version or another draft, other steps' actions, 64 bytes),
contacts and other kinds of message. After every input:

- nothing raises;
- the state survives the draft row: its answers, progress and history go through JSON and load
  back equal (``model_dump`` → ``model_validate``, as the row is saved and read);
- the prompt shown belongs to the state's step: asking the state's question again shows the
  same prompt, and every button's callback data fits Telegram's 64 bytes;
- a step moves only where the table says it goes;
- and a valid answer afterwards always proceeds.

The second property does the same with the provider's own questions (``tests/questions_kit``:
one of every kind, for every group): the table has a step for each (``ASKING:*`` and
``ASKING_PARTICIPANT:*``). It starts from every step of that table, in three parts of 300
examples each (the course and the contact person, the participants and the review, the
questions), with or without a company and a course their ``when`` names. A question moves only
to a later question of its group, to where the group leads (``AFTER_QUESTIONS``), to the review,
or, while the open questions are answered from the review, to another open question; a valid
answer of its kind (:data:`VALID_ANSWER`, typed) proceeds.

Settings: ``tests/unit/test_properties.py``'s (``derandomize=True``: the same examples on every
run and machine; no deadline: the machine is shared; 300 examples), its texts too.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from dataclasses import replace
from datetime import timedelta
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.callbacks import CallbackData
from bot.enrollment import Contact, CourseChoice, Enrollment, Participant
from bot.questions import Question, Questions
from bot.telegram.limits import CALLBACK_DATA_MAX_BYTES
from conversations import enrollment as spec
from conversations.enrollment.names import QUESTIONS as GROUPS
from conversations.questions import ASKING, ASKING_PARTICIPANT, step_of
from conversations.steps import AGAIN, BACK, SKIP, Input, Outcome, Progress, State, Step
from tests.questions_kit import QUESTIONS
from tests.unit.test_properties import PROPERTIES, TYPED
from tests.unit.test_steps import NOW, Talk, reads

SEQUENCES = settings(
    PROPERTIES,
    suppress_health_check=[*PROPERTIES.suppress_health_check, HealthCheck.data_too_large],
)

#: A valid answer to a question of the provider's, by its kind: typed (a choice's and a yes/no's
#: by their label, as a person may type them instead of pressing).
VALID_ANSWER = {
    "text": "Planner",
    "date": "12-3-1990",
    "email": "anna@example.nl",
    "phone": "06 12345678",
    "postcode": "1234 AB",
    "choice": "Vocational",
    "yesno": "Yes",
}
#: Words and labels the steps react to, typed.
WORDS = st.sampled_from(
    [
        "skip", "Skip", "-", "nee", "ja", "yes", "no", "back", "terug", "⬅️ Back", "Continue",
        "Start over", "Yes, I will attend", "No, I enroll others", "Yes, cancel it", "Excel",
        "Anna", "van", "anna@example.nl", "06 12345678", "", " ", "\x00", "\u202e", "<b>&",
        *VALID_ANSWER.values(), "Mbo", "HBO", "1234AB", "31-12-2099", "Nee",
    ]
)  # fmt: skip
#: The actions of every step, and Try again's: pressed where they do not belong.
ACTIONS = st.sampled_from(
    [
        "o:s0", "o:r0", "o:nothing", "o:", "p0", "p1", "p99", "any", "yes", "no", "f0", "f7",
        "f99", "o0", "o9", "remove", "submit", "terms", "missing", "course", "details",
        "participants", "add", "cancel", BACK, SKIP, AGAIN, f"{AGAIN}:o:s0", f"{AGAIN}:submit",
        "c0", "resume",
    ]
)  # fmt: skip
#: Data of 64 bytes and less that is not ours, or mangled.
FORGED = st.one_of(
    st.text(max_size=64).filter(lambda data: len(data.encode()) <= CALLBACK_DATA_MAX_BYTES),
    st.binary(max_size=64).map(lambda raw: raw.decode("latin-1")),
    st.sampled_from(["e", "e7", "e7.1", "e7.1.", "e.1.yes", "e7..yes", "E7.1.yes", "e7.1.x" * 10]),
)
PHONES = st.one_of(st.text(max_size=30), st.sampled_from(["+31612345678", "0612345678", "+1"]))

DRAFT = 7


NONE = Questions()
KIT = Questions(
    tuple(Question.model_validate(entry) for entry in tomllib.loads(QUESTIONS)["question"])
)
#: Where the second property starts, in three parts (drawn from all 31 at once, 300 examples
#: miss some): the course and the contact person, the participants and the review, and the
#: provider's questions.
_BUILT_IN = [step.name for step in spec.STEPS]
_PARTICIPANTS = _BUILT_IN.index(spec.CHOOSING_ANOTHER)
STARTS = {
    "contact": _BUILT_IN[:_PARTICIPANTS],
    "participants-review": _BUILT_IN[_PARTICIPANTS:],
    "questions": [
        name
        for name in spec.build_table(KIT).steps
        if name.startswith((ASKING, ASKING_PARTICIPANT))
    ],
}


def enrollment(*, company: bool = False, course: str | None = None) -> Enrollment:
    """Answers as a draft at any step may hold them; with a company (a question's ``when``
    names it), with a course of type ``course`` (another's names one)."""
    choice = None
    if course is not None:
        choice = CourseChoice(
            opleidingssoort_id="s0",
            opleidingssoort_code=course,
            opleidingssoort_naam="Excel",
            opleiding_id="r0",
            opleiding_naam="Excel 1",
            start=NOW + timedelta(days=7),
            free_places=5,
        )
    return Enrollment(
        course=choice,
        contact=Contact(
            first_name="Anna",
            last_name="Dijk",
            email="anna@example.nl",
            company="Acme" if company else None,
        ),
        attending=True,
        participants=[Participant(first_name="Bram", last_name="Vos")],
    )


def start(step: str, answers: Enrollment | None = None) -> State:
    return State(step, answers or enrollment(), Progress(soort="s0"), history=(spec.FIRST_STEP,))


@st.composite
def an_input(draw: st.DrawFn, talk: Talk) -> Input:
    """One input for the conversation as it stands."""
    state = talk.state
    kinds = ["text", "words", "own", "action", "stale", "another draft", "forged", "other"]
    kind = draw(st.sampled_from(kinds))
    if kind == "text":
        return Input("text", text=draw(TYPED))
    if kind == "words":
        return Input("text", text=draw(WORDS))
    if kind == "own":  # a button of the prompt on screen, or a contact shared
        actions = [button.action for row in talk.prompt.buttons for button in row if button.action]
        if not actions:
            return Input("contact", phone=draw(PHONES), own_contact=draw(st.booleans()))
        action = draw(st.sampled_from(actions))
        return Input("button", data=CallbackData(DRAFT, state.version, action).encode())
    if kind in ("action", "stale"):
        version = state.version
        if kind == "stale":
            version = draw(st.integers(0, version - 1) | st.integers(version + 1, 2**31))
        action = draw(ACTIONS)
        return Input("button", data=CallbackData(DRAFT, version, action).encode())
    if kind == "another draft":  # another chat's, or an earlier draft's of this one
        draft = draw(st.integers(1, 2**40).filter(lambda other: other != DRAFT))
        return Input("button", data=CallbackData(draft, state.version, draw(ACTIONS)).encode())
    if kind == "forged":
        return Input("button", data=draw(FORGED))
    return Input("other")


async def check(talk: Talk, outcome: Outcome) -> None:
    """The state loads back from its row; the prompt is the state's question; buttons fit."""
    state = talk.state
    row = json.loads(
        json.dumps(
            {
                "step": state.step,
                "data": state.enrollment.model_dump(mode="json"),
                "history": list(state.history),
                "flow": state.progress.stored(),
            }
        )
    )
    assert Enrollment.model_validate(row["data"]) == state.enrollment
    assert Progress.model_validate(row["flow"]) == state.progress
    assert tuple(row["history"]) == state.history and row["step"] == state.step
    if outcome.prompt is None or outcome.happened in ("unavailable", "action", "stale"):
        return
    again = await Talk(talk.reads).begin(replace(state, draft_id=DRAFT))
    assert again.prompt == outcome.prompt, (state.step, outcome.happened)
    for row_ in outcome.prompt.buttons:
        for button in row_:
            if button.url is None:
                CallbackData(DRAFT, state.version, button.action).encode()  # raises if too long


VALID_TEXT = {
    spec.TYPING_FIRST_NAME: "Anna",
    spec.TYPING_PREFIX: "van",
    spec.TYPING_LAST_NAME: "Dijk",
    spec.TYPING_EMAIL: "anna@example.nl",
    spec.TYPING_PHONE: "06 12345678",
    spec.TYPING_COMPANY: "Acme",
    spec.TYPING_PARTICIPANT_FIRST_NAME: "Bram",
    spec.TYPING_PARTICIPANT_PREFIX: "de",
    spec.TYPING_PARTICIPANT_LAST_NAME: "Vos",
    spec.TYPING_PARTICIPANT_EMAIL: "bram@example.nl",
    spec.TYPING_REMARK: "See you there",
}


def question_of(step: str) -> Question | None:
    """The provider's question that step ``step`` asks, if any."""
    for prefix in (ASKING_PARTICIPANT, ASKING):
        if step.startswith(prefix):
            return KIT.get(step.removeprefix(prefix))
    return None


def test_the_kit_has_a_question_and_a_valid_answer_of_every_kind() -> None:
    kinds = set(get_args(Question.model_fields["kind"].annotation))
    assert {question.kind for question in KIT.all} == kinds == set(VALID_ANSWER)
    assert {question.for_ for question in KIT.all} == {"contact", "each-person", "enrollment"}


async def answer_validly(talk: Talk) -> Outcome:
    """The answer a person who follows the question gives: the text it asks for, else its
    first button that is no page turn."""
    if talk.step in VALID_TEXT:
        return await talk.say(VALID_TEXT[talk.step])
    question = question_of(talk.step)
    if question is not None:
        return await talk.say(VALID_ANSWER[question.kind])
    for row in talk.prompt.buttons:
        for button in row:
            if button.url is None and not button.action.startswith("p"):
                return await talk.send(Input("button", data=talk.data(button.action)))
    raise AssertionError(f"nothing to answer at {talk.step}: {talk.prompt}")


def group_steps(questions: Questions) -> dict[str, list[str]]:
    """The steps of each group of the provider's questions, in the file's order, by the name
    the table's map gives the group."""
    asked = {
        "contact": questions.of("contact"),
        "self": questions.of("each-person"),
        "participant": questions.of("each-person"),
        "enrollment": questions.of("enrollment"),
    }
    return {name: [step_of(q, group) for q in asked[group]] for name, group in GROUPS.items()}


def goes_to(step: Step, questions: Questions = NONE, *, open_: bool = False) -> set[str]:
    """Where the table says ``step`` goes (a group of the provider's questions: its questions,
    and where the group leads), the review (where every edit returns), and, answering the open
    questions from the review (``open_``), any of the provider's questions.

    A question of the provider's goes to a later question of its group or where the group
    leads."""
    groups = group_steps(questions)
    every = {name for names in groups.values() for name in names}
    places = {spec.REVIEWING, *(every if open_ else ())}
    todo = list(step.goes_to)
    for name, names in groups.items():
        if step.name in names:
            todo += [*names[names.index(step.name) + 1 :], *spec.AFTER_QUESTIONS[name]]
    while todo:
        place = todo.pop()
        if place in places:
            continue
        places.add(place)
        todo.extend(spec.AFTER_QUESTIONS.get(place, ()))
        todo.extend(groups.get(place, ()))
        if place == spec.OPEN_QUESTIONS:
            todo.extend(every)
    return places


async def converse(
    step: str,
    draws: st.DataObject,
    questions: Questions = NONE,
    answers: Enrollment | None = None,
) -> None:
    talk = Talk(reads(questions=questions))
    await talk.begin(start(step, answers))
    for _ in range(draws.draw(st.integers(1, 6), label="inputs")):
        before = talk.state
        outcome = await talk.send(draws.draw(an_input(talk)))
        await check(talk, outcome)
        if outcome.happened == "moved":
            places = goes_to(talk.table[before.step], questions, open_=before.progress.open)
            assert talk.step in places, (before.step, talk.step)
        if outcome.happened == "action":  # the draft ends (or starts over): a new one begins
            await talk.begin(start(step, answers))
    before = talk.state
    outcome = await answer_validly(talk)
    assert outcome.happened in ("moved", "back", "action"), (before.step, outcome)


@SEQUENCES
@given(step=st.sampled_from([step.name for step in spec.STEPS]), draws=st.data())
def test_random_inputs_never_break_a_conversation(step: str, draws: st.DataObject) -> None:
    asyncio.run(converse(step, draws))


@pytest.mark.parametrize("starts", STARTS.values(), ids=list(STARTS))
@SEQUENCES
@given(
    company=st.booleans(),
    course=st.sampled_from([None, "C0", "VCA-B"]),
    draws=st.data(),
)
def test_random_inputs_never_break_the_providers_questions(
    starts: list[str], company: bool, course: str | None, draws: st.DataObject
) -> None:
    step = draws.draw(st.sampled_from(starts), label="start")
    asyncio.run(converse(step, draws, KIT, enrollment(company=company, course=course)))
