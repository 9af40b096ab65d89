"""The pure step machine (``conversations/machine.py``) on the enrollment's table: every step and
the edge cases, with an in-memory catalogue: no database, no Telegram, no network.

:class:`Talk` holds a conversation as the runner would (a saved outcome bumps the version, as
the draft row does) and presses buttons by their labels, with the callback data Telegram would
give back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.callbacks import CallbackData
from bot.coachview.models import Opleiding, Opleidingssoort
from bot.enrollment import Contact, Enrollment, Participant
from bot.errors import CatalogueUnavailable
from bot.i18n import N_, translator
from bot.questions import Questions, load_questions
from conversations import enrollment as spec
from conversations.machine import advance
from conversations.steps import (
    AGAIN,
    BACK,
    Input,
    Outcome,
    Progress,
    Prompt,
    Reads,
    State,
    StepTable,
)
from tests.questions_kit import QUESTIONS

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DOWN = N_("I can't load the courses right now.")


def _types() -> list[Opleidingssoort]:
    names = ["Excel", "Agile", "Outlook", "Teams", "Access", "PowerPoint", "Project", "Visio"]
    return [Opleidingssoort(id=f"s{i}", code=f"C{i}", naam=name) for i, name in enumerate(names)]


def _runs() -> list[Opleiding]:
    runs = [
        Opleiding(
            id=f"r{i}",
            naam=f"Excel {i + 1}",
            opleidingssoort_id="s0",
            start_datum=NOW + timedelta(days=7 * (i + 1)),
            aantal_plaatsen_vrij=5,
        )
        for i in range(8)
    ]
    runs.append(
        Opleiding(
            id="w1",
            naam="Agile, one place",
            opleidingssoort_id="s1",
            start_datum=NOW + timedelta(days=10),
            aantal_plaatsen_vrij=1,
        )
    )
    return runs


class MemoryCatalogue:
    """The catalogue the conversation reads, in memory; ``down`` makes every read fail as the
    guarded catalogue's do when Coachview cannot be reached."""

    def __init__(self) -> None:
        self.types = _types()
        self.runs = _runs()
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise CatalogueUnavailable(DOWN, cause="test")

    async def list_opleidingssoorten(self) -> list[Opleidingssoort]:
        self._check()
        return list(self.types)

    async def list_opleidingen(self, opleidingssoort_id: str) -> list[Opleiding]:
        self._check()
        return [run for run in self.runs if run.opleidingssoort_id == opleidingssoort_id]

    async def get_opleiding(self, opleiding_id: str) -> Opleiding:
        self._check()
        return next(run for run in self.runs if run.id == opleiding_id)

    async def find_opleidingssoort(self, key: str) -> Opleidingssoort | None:
        self._check()
        return next((kind for kind in self.types if key in (kind.id, kind.code)), None)


def reads(catalogue: MemoryCatalogue | None = None, **changes: Any) -> Reads:
    base = Reads(
        t=translator("en"),
        now=NOW,
        catalogue=catalogue or MemoryCatalogue(),
        questions=Questions(),
        max_participants=10,
    )
    return replace(base, **changes)


class Talk:
    """A conversation held in memory: the state, and the prompt last shown."""

    def __init__(self, reads: Reads, table: StepTable | None = None) -> None:
        self.reads = reads
        self.table = table or spec.build_table(reads.questions)
        self.state = State(spec.FIRST_STEP, draft_id=7, version=1)
        self.prompt = Prompt("")
        self.last = Outcome("shown", self.state)

    @property
    def catalogue(self) -> MemoryCatalogue:
        assert isinstance(self.reads.catalogue, MemoryCatalogue)
        return self.reads.catalogue

    @property
    def step(self) -> str:
        return self.state.step

    @property
    def text(self) -> str:
        return "\n\n".join([*self.last.notes, self.prompt.text])

    @property
    def labels(self) -> list[str]:
        return [button.label for row in self.prompt.buttons for button in row]

    async def send(self, inp: Input) -> Outcome:
        outcome = await advance(self.table, self.state, inp, self.reads)
        if outcome.saves:
            self.state = replace(outcome.state, version=self.state.version + 1)
        if outcome.prompt is not None:
            self.prompt = outcome.prompt
        self.last = outcome
        return outcome

    async def begin(self, state: State | None = None) -> Outcome:
        self.state = replace(state or self.state, draft_id=7, version=1)
        return await self.send(Input("show"))

    async def say(self, text: str) -> Outcome:
        return await self.send(Input("text", text=text))

    def data(self, action: str) -> str:
        return CallbackData(self.state.draft_id, self.state.version, action).encode()

    async def press(self, label: str) -> Outcome:
        """Press the button of the last prompt whose label starts with ``label``."""
        for row in self.prompt.buttons:
            for button in row:
                if button.label.startswith(label) and button.url is None:
                    return await self.send(Input("button", data=self.data(button.action)))
        raise AssertionError(f"no button {label!r} in {self.labels}")

    async def answers(self, *values: str | None) -> None:
        """Type each value, or Skip for ``None`` (typed: the phone's keyboard sends it so)."""
        for value in values:
            outcome = await self.say("Skip" if value is None else value)
            assert outcome.happened == "moved", (value, outcome.reason, self.text)


async def to_review(talk: Talk, *, attending: bool = True) -> None:
    await talk.begin()
    await talk.press("Excel")
    await talk.press("Mon 9 Mar")
    await talk.answers("Anna", None, "Jansen", "anna@example.nl", "06 12345678", None)
    if attending:
        await talk.press("Yes, I will attend")
        await talk.press("No")
    else:
        await talk.press("No, I enroll others")
        await talk.answers("Bram", None, "Vos", None)
        await talk.press("No")
    await talk.press("Skip")
    assert talk.step == spec.REVIEWING, talk.text


# -- Every step, in the order a person meets them -----------------------------------------------


async def test_a_whole_enrollment_step_by_step() -> None:
    talk = Talk(reads())
    await talk.begin()
    assert talk.step == spec.CHOOSING_COURSE_TYPE
    assert "Which course would you like to enroll in?" in talk.text
    assert talk.labels[:2] == ["Access", "Agile"]  # by name
    walk = [
        ("Excel", spec.CHOOSING_RUN, "Which date would you like?"),
        ("Mon 9 Mar", spec.TYPING_FIRST_NAME, "What is your first name?"),
        ("Anna", spec.TYPING_PREFIX, "prefix"),
        ("van", spec.TYPING_LAST_NAME, "What is your last name?"),
        ("Dijk", spec.TYPING_EMAIL, "What is your e-mail address?"),
        ("anna@example.nl", spec.TYPING_PHONE, "What is your phone number?"),
        ("06 12345678", spec.TYPING_COMPANY, "Which company"),
        ("Acme", spec.CHOOSING_ATTENDANCE, "Will you attend the course yourself?"),
        ("Yes, I will attend", spec.CHOOSING_ANOTHER, "someone else too?"),
        ("Yes", spec.TYPING_PARTICIPANT_FIRST_NAME, "Participant 1: What is their first name?"),
        ("Bram", spec.TYPING_PARTICIPANT_PREFIX, "Participant 1"),
        ("Skip", spec.TYPING_PARTICIPANT_LAST_NAME, "What is their last name?"),
        ("Vos", spec.TYPING_PARTICIPANT_EMAIL, "What is their e-mail address?"),
        ("bram@example.nl", spec.CHOOSING_ANOTHER, "enroll another person?"),
        ("No", spec.TYPING_REMARK, "Anything you would like to tell us"),
        ("Vegetarian, please", spec.REVIEWING, "Please check your enrollment"),
    ]
    for value, step, question in walk:
        if any(label.startswith(value) for label in talk.labels):
            outcome = await talk.press(value)
        else:
            outcome = await talk.say(value)
        assert outcome.happened == "moved", (value, outcome.reason)
        assert talk.step == step, value
        assert question in talk.text, value
    review = talk.text
    for shown in ("Anna van Dijk", "+31 6 12345678", "Company: Acme", "Bram Vos, bram@example"):
        assert shown in review
    assert "2 participants" in review and "Vegetarian, please" in review
    assert talk.state.history == ()  # the review is home
    outcome = await talk.press("✅ Send enrollment")
    assert (outcome.happened, outcome.action) == ("action", spec.SUBMIT)
    assert outcome.state.enrollment.participant_count == 2


async def test_every_step_of_the_table_asks_its_question() -> None:
    """Each step, reached with a full enrollment behind it, asks something with a way on."""
    enrollment = Enrollment(
        contact=Contact(first_name="Anna", last_name="Dijk", email="anna@example.nl"),
        attending=True,
        participants=[Participant(first_name="Bram", last_name="Vos")],
    )
    progress = Progress(soort="s0")
    for step in spec.STEPS:
        talk = Talk(reads())
        state = State(step.name, enrollment, progress, history=(spec.FIRST_STEP,))
        outcome = await talk.begin(state)
        assert outcome.happened == "shown" and talk.prompt.text, step.name
        reachable = talk.prompt.buttons or step.text is not None
        assert reachable or talk.prompt.share_contact_label, step.name
        navigation = [*talk.labels, *talk.prompt.typed_choices]
        assert ("⬅️ Back" in navigation) == step.back, step.name


def test_every_step_says_where_it_goes() -> None:
    table = spec.build_table()
    places = {*table.steps, *table.actions, BACK, *spec.AFTER_QUESTIONS, spec.OPEN_QUESTIONS}
    for step in spec.STEPS:
        assert step.goes_to, step.name
        assert set(step.goes_to) <= places, step.name


# -- Back ---------------------------------------------------------------------------------------


async def test_back_goes_to_the_previous_question_and_keeps_the_answer() -> None:
    talk = Talk(reads())
    await talk.begin()
    await talk.press("Excel")
    await talk.press("Mon 9 Mar")
    await talk.answers("Anna", None)
    outcome = await talk.press("⬅️ Back")
    assert outcome.happened == "back"
    assert talk.step == spec.TYPING_PREFIX
    outcome = await talk.press("⬅️ Back")
    assert talk.step == spec.TYPING_FIRST_NAME
    assert "(now: Anna)" in talk.text
    assert talk.state.enrollment.contact.first_name == "Anna"
    assert talk.state.history == (spec.CHOOSING_COURSE_TYPE, spec.CHOOSING_RUN)


async def test_back_without_history_asks_the_question_again() -> None:
    talk = Talk(reads())
    await talk.begin()
    assert "⬅️ Back" not in talk.labels
    outcome = await talk.send(Input("button", data=talk.data(BACK)))
    assert outcome.happened == "shown" and talk.step == spec.CHOOSING_COURSE_TYPE
    assert (await talk.say("back")).happened == "refused"  # nothing to go back to


async def test_back_typed_on_a_button_question_but_a_name_on_a_text_question() -> None:
    talk = Talk(reads())
    await talk.begin()
    await talk.press("Excel")
    outcome = await talk.say("terug")
    assert outcome.happened == "back" and talk.step == spec.CHOOSING_COURSE_TYPE
    await talk.press("Excel")
    await talk.press("Mon 9 Mar")
    outcome = await talk.say("Back")  # someone may be called Back
    assert outcome.happened == "moved" and talk.state.enrollment.contact.first_name == "Back"
    outcome = await talk.say("⬅️ Back")  # the label, as a reply keyboard sends it
    assert outcome.happened == "back" and talk.step == spec.TYPING_FIRST_NAME


# -- Typed answers, skip words, typed choices ---------------------------------------------------


@pytest.mark.parametrize("word", ["skip", "Overslaan", "-", "geen", "n.v.t."])
async def test_skip_words_skip_a_question_that_may_be_skipped(word: str) -> None:
    talk = Talk(reads())
    await talk.begin(State(spec.TYPING_COMPANY, history=(spec.TYPING_PHONE,)))
    assert "Skip" in talk.labels
    outcome = await talk.say(word)
    assert outcome.happened == "moved" and talk.step == spec.CHOOSING_ATTENDANCE
    assert talk.state.enrollment.contact.company is None


async def test_a_skip_word_is_an_answer_where_skipping_is_not_allowed() -> None:
    talk = Talk(reads())
    await talk.begin(State(spec.TYPING_EMAIL))
    assert "Skip" not in talk.labels
    outcome = await talk.say("skip")
    assert outcome.happened == "refused" and talk.step == spec.TYPING_EMAIL


@pytest.mark.parametrize(
    ("typed", "attending"), [("ja", True), ("Yes, I will attend", True), ("NEE", False)]
)
async def test_typed_choices_press_their_button(typed: str, attending: bool) -> None:
    talk = Talk(reads())
    await talk.begin(State(spec.CHOOSING_ATTENDANCE))
    outcome = await talk.say(typed)
    assert outcome.happened == "moved"
    assert talk.state.enrollment.attending is attending


async def test_a_typed_text_that_is_no_choice_asks_for_a_button() -> None:
    talk = Talk(reads())
    await talk.begin(State(spec.CHOOSING_ATTENDANCE))
    outcome = await talk.say("perhaps")
    assert outcome.happened == "refused"
    assert outcome.reason == "Please choose one of the buttons."
    assert talk.text.startswith("⚠️ Please choose one of the buttons.")
    assert "Will you attend" in talk.text


# -- Refused input keeps everything -------------------------------------------------------------


async def test_an_invalid_answer_keeps_the_draft_and_asks_again() -> None:
    talk = Talk(reads())
    await to_review(talk)
    await talk.press("✏️ Change details")
    await talk.press("E-mail")
    before = talk.state
    outcome = await talk.say("anna at example")
    assert outcome.happened == "refused" and not outcome.saves
    assert talk.state == before
    assert "⚠️" in talk.text and "What is your e-mail address?" in talk.text
    assert "(now: anna@example.nl)" in talk.text


@pytest.mark.parametrize("kind", ["contact", "other"])
async def test_a_message_of_the_wrong_kind_is_refused(kind: str) -> None:
    talk = Talk(reads())
    await talk.begin(State(spec.TYPING_EMAIL))
    outcome = await talk.send(Input(kind, phone="+31612345678", own_contact=True))  # type: ignore[arg-type]
    assert outcome.happened == "refused"
    assert outcome.reason == "I can only read text here. Please type your answer."


async def test_a_button_of_another_step_is_refused_and_changes_nothing() -> None:
    talk = Talk(reads())
    await talk.begin(State(spec.CHOOSING_ATTENDANCE))
    outcome = await talk.send(Input("button", data=talk.data("o:s0")))
    assert outcome.happened == "refused" and outcome.prompt is None  # the answer says why
    assert outcome.reason == "That button does not belong to this question."
    await talk.begin(State(spec.TYPING_EMAIL))
    outcome = await talk.send(Input("button", data=talk.data("yes")))
    assert outcome.reason == "That button does not belong to this question."


@pytest.mark.parametrize(
    "data", ["e7.0.yes", "e7.2.yes", "e8.1.yes", "x", "", "e7.1.", "e-1.1.yes", "e7.zz.yes"]
)
async def test_a_stale_or_forged_button_changes_nothing(data: str) -> None:
    talk = Talk(reads())
    await talk.begin(State(spec.CHOOSING_ATTENDANCE))
    outcome = await talk.send(Input("button", data=data))
    assert outcome.happened == "stale" and outcome.prompt is None
    assert talk.state.enrollment.attending is None


# -- Pages --------------------------------------------------------------------------------------


async def test_the_course_types_and_the_dates_turn_pages() -> None:
    talk = Talk(reads())
    await talk.begin()
    assert "Visio" not in talk.labels and "Page 1 of 2" in talk.text
    outcome = await talk.press("Next »")
    assert outcome.happened == "stayed" and talk.state.progress.page == 1
    assert "Page 2 of 2" in talk.text and "Visio" in talk.labels
    await talk.press("« Previous")
    await talk.press("Excel")
    assert talk.state.progress.page == 0 and talk.state.progress.soort == "s0"
    assert len([label for label in talk.labels if label.startswith(("Mon", "Tue"))]) == 6
    await talk.press("Next »")
    assert "Page 2 of 2" in talk.text
    await talk.press("Any date")
    assert talk.step == spec.TYPING_FIRST_NAME
    course = talk.state.enrollment.course
    assert course is not None and course.opleiding_id is None and course.opleidingssoort_id == "s0"


async def test_a_page_out_of_range_shows_the_last_page() -> None:
    talk = Talk(reads())
    await talk.begin(State(spec.CHOOSING_COURSE_TYPE, progress=Progress(page=9)))
    assert "Page 2 of 2" in talk.text


# -- The catalogue unavailable ------------------------------------------------------------------


async def test_a_button_the_catalogue_cannot_follow_is_tried_again_on_the_same_draft() -> None:
    talk = Talk(reads())
    await talk.begin()
    talk.catalogue.down = True
    before = talk.state
    outcome = await talk.press("Excel")
    assert outcome.happened == "unavailable" and not outcome.saves and talk.state == before
    assert "I can't load the courses right now." in talk.text
    assert "Everything you entered is kept" in talk.text
    talk.catalogue.down = False
    outcome = await talk.press("🔄 Try again")
    assert outcome.happened == "moved" and talk.step == spec.CHOOSING_RUN


async def test_a_question_the_catalogue_cannot_build_is_saved_and_asked_again() -> None:
    talk = Talk(reads())
    await talk.begin()
    await talk.press("Excel")
    await talk.press("Mon 9 Mar")
    talk.catalogue.down = True
    outcome = await talk.press("⬅️ Back")  # the dates cannot be read
    assert outcome.happened == "back" and talk.step == spec.CHOOSING_RUN
    assert "I can't load the courses right now." in talk.text
    talk.catalogue.down = False
    outcome = await talk.press("🔄 Try again")
    assert outcome.happened == "shown" and "Which date would you like?" in talk.text


async def test_try_again_runs_the_action_the_draft_names_not_the_button() -> None:
    talk = Talk(reads())
    state = State(spec.FIRST_STEP, progress=Progress(again=spec.RESTART, restart_with="C0"))
    await talk.begin(state)
    outcome = await talk.send(Input("button", data=talk.data(AGAIN)))
    assert (outcome.happened, outcome.action) == ("action", spec.RESTART)
    forged = await talk.send(Input("button", data=talk.data(f"{AGAIN}:{spec.SUBMIT}")))
    assert forged.happened == "refused" and forged.action is None


async def test_try_again_is_refused_when_the_budget_is_spent() -> None:
    talk = Talk(reads(may_try_again=lambda: False))
    await talk.begin()
    outcome = await talk.send(Input("button", data=talk.data(AGAIN)))
    assert outcome.happened == "refused"
    assert outcome.reason is not None and outcome.reason.startswith("You have tried many times")


# -- Editing from the review --------------------------------------------------------------------


async def test_an_edit_from_the_review_comes_back_to_the_review() -> None:
    talk = Talk(reads())
    await to_review(talk)
    await talk.press("✏️ Change details")
    assert talk.step == spec.CHOOSING_DETAIL
    await talk.press("E-mail")
    assert talk.step == spec.TYPING_EMAIL
    assert talk.state.progress.return_to == spec.REVIEWING
    outcome = await talk.say("anna@work.example")
    assert outcome.happened == "moved" and talk.step == spec.REVIEWING
    assert "anna@work.example" in talk.text
    assert talk.state.progress.return_to is None and talk.state.history == ()


async def test_changing_the_course_from_the_review_returns_after_the_date() -> None:
    talk = Talk(reads())
    await to_review(talk)
    await talk.press("📅 Change course")
    await talk.press("Agile")
    await talk.press("Any date")
    assert talk.step == spec.REVIEWING and "Agile" in talk.text


async def test_participants_are_added_changed_and_removed_from_the_review() -> None:
    talk = Talk(reads())
    await to_review(talk, attending=False)
    await talk.press("➕ Add participant")
    await talk.answers("Cor", None, "Mol", None)
    assert talk.step == spec.REVIEWING and "3. " not in talk.text and "2. Cor Mol" in talk.text
    await talk.press("👥 Change participants")
    await talk.press("Bram Vos")
    await talk.press("Last name")
    await talk.say("Visser")
    assert "1. Bram Visser" in talk.text
    await talk.press("👥 Change participants")
    await talk.press("Cor Mol")
    outcome = await talk.press("🗑 Remove this participant")
    assert talk.step == spec.REVIEWING and "Cor Mol is no longer on the enrollment." in talk.text
    await talk.press("👥 Change participants")
    await talk.press("Bram Visser")
    outcome = await talk.press("🗑 Remove this participant")
    assert outcome.happened == "refused"  # someone must attend
    assert outcome.reason == "At least one participant is needed when you do not attend yourself."


# -- The participant cap ------------------------------------------------------------------------


async def test_no_more_people_than_the_cap() -> None:
    talk = Talk(reads(max_participants=2))
    await talk.begin(State(spec.CHOOSING_ATTENDANCE, Enrollment()))
    await talk.press("Yes, I will attend")
    await talk.press("Yes")
    await talk.answers("Bram", None, "Vos", None)
    assert talk.step == spec.CHOOSING_ANOTHER
    assert "You can enroll at most 2 people at once." in talk.text
    assert talk.labels == ["Continue", "⬅️ Back"]
    outcome = await talk.send(Input("button", data=talk.data("yes")))
    assert outcome.reason == "No more people fit in this enrollment."
    await talk.press("Continue")
    assert talk.step == spec.TYPING_REMARK


async def test_a_cap_below_the_free_places_is_said_as_the_cap() -> None:
    talk = Talk(reads(max_participants=2))  # the date has 5 free places
    await talk.begin()
    await talk.press("Excel")
    await talk.press("Mon 9 Mar")
    await talk.answers("Anna", None, "Jansen", "anna@example.nl", None, None)
    await talk.press("Yes, I will attend")
    await talk.press("Yes")
    await talk.answers("Bram", None, "Vos", None)
    assert talk.step == spec.CHOOSING_ANOTHER
    assert "You can enroll at most 2 people at once." in talk.text
    assert "free place" not in talk.text


async def test_a_date_with_one_free_place_is_for_the_contact_alone() -> None:
    talk = Talk(reads())
    await talk.begin()
    await talk.press("Agile")
    await talk.press("Thu 12 Mar")
    await talk.answers("Anna", None, "Jansen", "anna@example.nl", None, None)
    await talk.press("Yes, I will attend")
    assert talk.step == spec.TYPING_REMARK  # no "someone else?"
    assert "This date has 1 free place left, so this enrollment is for you." in talk.text


# -- Contact sharing ----------------------------------------------------------------------------


async def test_a_shared_own_number_is_taken_and_the_contact_keyboard_goes() -> None:
    talk = Talk(reads())
    await talk.begin(State(spec.TYPING_PHONE, history=(spec.TYPING_EMAIL,)))
    assert talk.prompt.share_contact_label == "📱 Share my number"
    assert list(talk.prompt.typed_choices) == ["Skip", "⬅️ Back"]
    other = await talk.send(Input("contact", phone="+31612345678", own_contact=False))
    assert other.reason == "Please share your own number (with the button), or type it."
    outcome = await talk.send(Input("contact", phone="31612345678", own_contact=True))
    assert outcome.happened == "moved" and outcome.leaving_contact
    assert talk.state.enrollment.contact.phone == "+31612345678"
    assert "✓ Phone: +31 6 12345678" in talk.text


# -- Cancel, start over, commands ---------------------------------------------------------------


async def test_cancel_asks_first_and_no_goes_back() -> None:
    talk = Talk(reads())
    await to_review(talk)
    await talk.press("✖️ Cancel enrollment")
    assert talk.step == spec.CONFIRMING_CANCEL
    await talk.press("No, go on")
    assert talk.step == spec.REVIEWING
    await talk.press("✖️ Cancel enrollment")
    outcome = await talk.press("Yes, cancel it")
    assert (outcome.happened, outcome.action) == ("action", spec.CANCEL)


async def test_a_command_moves_to_its_step_and_continue_returns() -> None:
    talk = Talk(reads())
    await talk.begin(State(spec.TYPING_EMAIL, history=(spec.TYPING_LAST_NAME,)))
    outcome = await talk.send(Input("goto", target=spec.CONFIRMING_RESTART))
    assert outcome.happened == "moved" and "Continue where you left off" in talk.text
    assert "⬅️ Back" not in talk.labels
    again = await talk.send(Input("goto", target=spec.CONFIRMING_RESTART))
    assert again.happened == "stayed"
    await talk.press("Continue")
    assert talk.step == spec.TYPING_EMAIL
    await talk.send(Input("goto", target=spec.CONFIRMING_RESTART))
    outcome = await talk.press("Start over")
    assert (outcome.happened, outcome.action) == ("action", spec.RESTART)


async def test_the_general_terms_are_accepted_before_sending() -> None:
    talk = Talk(reads(terms_url="https://example.nl/terms"))
    await to_review(talk)
    assert "✅ Send enrollment" not in talk.labels
    refused = await talk.send(Input("button", data=talk.data("submit")))
    assert refused.reason == "Please accept the general terms first."
    outcome = await talk.press("☑️ I accept the general terms")
    assert outcome.happened == "stayed" and talk.state.enrollment.terms_accepted_at == NOW
    assert "✓ General terms accepted on" in talk.text
    assert (await talk.press("✅ Send enrollment")).action == spec.SUBMIT


# -- The provider's questions -------------------------------------------------------------------


async def test_the_providers_questions_are_asked_where_they_belong(tmp_path: Path) -> None:
    path = tmp_path / "questions.toml"
    path.write_text(QUESTIONS, encoding="utf-8")
    talk = Talk(reads(questions=load_questions(path)))
    await talk.begin(State(spec.TYPING_COMPANY, history=(spec.TYPING_PHONE,)))
    await talk.press("Skip")
    assert talk.step == "ASKING:factuur_postcode" and "What is your postcode?" in talk.text
    refused = await talk.say("12")
    assert refused.happened == "refused"
    await talk.say("1234 AB")
    assert talk.step != "ASKING:factuur_postcode"
    assert talk.state.enrollment.contact.answers["factuur_postcode"] == "1234 AB"


# -- The state as the draft row keeps it --------------------------------------------------------


def test_an_old_drafts_progress_loads_and_unknown_keys_are_ignored() -> None:
    old = {
        "cursor": 1,
        "page": 2,
        "soort": "s0",
        "restart_with": "",
        "return_to": "REVIEWING",
        "return_after": "TYPING_PARTICIPANT_EMAIL",
        "again": "RESTART",
        "open": True,
        "from_a_later_version": [1, 2],
    }
    progress = Progress.model_validate(old)
    assert (progress.cursor, progress.page, progress.soort) == (1, 2, "s0")
    assert (progress.return_to, progress.return_after) == ("REVIEWING", "TYPING_PARTICIPANT_EMAIL")
    assert progress.again == "RESTART" and progress.open
    assert Progress.model_validate({}).stored() == {}
    assert Progress.model_validate(progress.stored()) == progress


async def test_a_draft_at_a_step_that_no_longer_exists_continues_at_the_review() -> None:
    talk = Talk(reads())
    outcome = await talk.begin(State("ASKING:removed_question", Enrollment()))
    assert outcome.happened == "shown" and "Please check your enrollment" in talk.text
