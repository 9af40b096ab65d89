"""The step machine, pure: a conversation's state and one input in, an :class:`Outcome` out.

A conversation is a :class:`StepTable` of :class:`Step` objects (``conversations/enrollment/``):
each names how the bot asks (``ask``) and what a typed text, a pressed button or a shared
contact does. A step function changes ``turn.enrollment`` and ``turn.progress`` and returns the
name of the next step, normally through :meth:`Turn.proceed`, which brings an edit started from
the review back to the review. :func:`advance` applies one :class:`Input` and says what happened::

    input ── Back? ── go back a step (keeping every answer)
          └─ the step parses it ── invalid: refused, with the reason; the state is unchanged
                                └─ valid: the next step's question (moved, or stayed)
                                         or an action of the table (submit, cancel, restart)
          └─ the catalogue cannot be read: unavailable, with a Try again button; nothing changes

No database, no Telegram, no clock, no logging of people's text: what a step may read comes in
:class:`Reads` (the translator, the time, the cached catalogue, the provider's questions, the
limits), so tests pass an in-memory catalogue. Saving the state and sending the prompt is the
runner's (``conversations/runner.py``) and the view's (``conversations/view.py``).

Inline buttons carry ``e<draft id>.<version>.<action>`` as callback data: the version grows with
every saved answer, so a button on an outdated message, or forged data, changes nothing
(:attr:`Outcome.happened` ``"stale"``). Back pops the history; every question gets a Back button
when there is somewhere to go back to and a Skip button when it may be skipped.

When the catalogue cannot be read (:class:`~bot.errors.CatalogueUnavailable`) the person reads
why, with a *Try again* button, and loses nothing: a question that could not be built is saved
as the current step all the same (Try again, action ``again``, asks it again, or runs the action
``progress.again`` names, as a deep link that could not be followed does); an answer that could
not be applied leaves the state as it was (Try again, ``again:<action>``, presses it again).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict

from bot.budgets import TRIES_SPENT
from bot.callbacks import CallbackData
from bot.courses import Catalogue
from bot.enrollment import Enrollment
from bot.errors import CatalogueUnavailable
from bot.i18n import N_, Translator, esc
from bot.questions import Questions
from conversations.fields import Invalid

__all__ = [
    "AGAIN",
    "BACK",
    "SKIP",
    "Button",
    "Happened",
    "Input",
    "Outcome",
    "Progress",
    "Prompt",
    "Reads",
    "State",
    "Step",
    "StepTable",
    "Turn",
    "advance",
    "unavailable",
]

BACK: Final = "back"
#: The Try again button after a catalogue failure; ``again:<action>`` presses ``<action>`` again.
#: A state whose ``progress.again`` names one of the table's actions runs that action instead.
AGAIN: Final = "again"
SKIP: Final = "skip"
# Typed on a question that may be skipped, these mean "skip" ("no prefix", "no company").
_SKIP_WORDS: Final = ("skip", "overslaan", "-", "geen", "none", "nee", "no", "nvt", "n.v.t.")
_BACK_WORDS: Final = ("back", "terug")


# -- What arrives -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """What the person did, reduced to what a step can react to.

    ``button``: the pressed button's raw callback ``data`` (forged data is refused as stale) and
    its ``label`` (the question and the choice, as the chat keeps them). ``show``: ask the
    current question again (after /help, /language, ...). ``goto``: move to step ``target`` (a
    command such as /cancel asks there).
    """

    kind: Literal["text", "button", "contact", "other", "show", "goto"]
    text: str = ""
    data: str = ""
    label: str = ""
    phone: str = ""
    own_contact: bool = False
    target: str = ""


# -- What is shown ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """An inline button: a translated label and the action it triggers, or a URL it opens."""

    label: str
    action: str = ""
    url: str | None = None


@dataclass(frozen=True)
class Prompt:
    """A question or screen: HTML text and inline buttons.

    A prompt with ``share_contact_label`` uses a reply keyboard instead (Telegram offers contact
    sharing only there): the share button, then ``typed_choices`` as buttons that send text.
    """

    text: str
    buttons: Sequence[Sequence[Button]] = ()
    share_contact_label: str = ""
    typed_choices: Sequence[str] = ()


# -- The state ----------------------------------------------------------------------------------


class Progress(BaseModel):
    """Where the conversation is, beyond the step: stored beside the answers (the draft's
    ``flow`` column, as JSON; keys it does not know are ignored, so old drafts load)."""

    model_config = ConfigDict(extra="ignore")

    #: The participant being entered or edited (an index of ``enrollment.participants``).
    cursor: int = 0
    #: The page of the list of course types or dates being browsed.
    page: int = 0
    #: The course type whose dates are offered (a catalogue id).
    soort: str | None = None
    #: The deep link's payload that started this draft: Start over follows it again.
    restart_with: str | None = None
    #: An edit from ``return_to`` (the review) goes back there once ``return_after`` is answered.
    return_to: str | None = None
    return_after: str | None = None
    #: The action Try again runs (a deep link that could not be followed), else none.
    again: str | None = None
    #: Answering the open questions from the review: each answer leads to the next open one.
    open: bool = False

    def stored(self) -> dict[str, object]:
        """What the draft row keeps: the values that differ from the defaults."""
        return self.model_dump(mode="json", exclude_defaults=True)


@dataclass(frozen=True)
class State:
    """A conversation between two inputs: a draft row, detached from the database."""

    step: str
    enrollment: Enrollment = field(default_factory=Enrollment)
    progress: Progress = field(default_factory=Progress)
    history: tuple[str, ...] = ()
    #: The draft's id and version, which a button must name (0 before the draft is saved).
    draft_id: int = 0
    version: int = 0


@dataclass(frozen=True)
class Reads:
    """What a step may read: the person's language, the time, the cached catalogue (its reads
    may raise :class:`~bot.errors.CatalogueUnavailable`), the provider's questions, the limits,
    and whether a Try again is allowed now (each may cost a Coachview read)."""

    t: Translator
    now: datetime
    catalogue: Catalogue
    questions: Questions
    max_participants: int
    terms_url: str | None = None
    may_try_again: Callable[[], bool] = lambda: True


@dataclass
class Turn:
    """One input's work on a state: the answers and the progress a step changes, and the notes
    (short lines above the next question, "Participant removed.")."""

    step: str
    enrollment: Enrollment
    progress: Progress
    reads: Reads
    notes: list[str] = field(default_factory=list)

    @property
    def t(self) -> Translator:
        return self.reads.t

    @property
    def now(self) -> datetime:
        return self.reads.now

    def proceed(self, default_next: str) -> str:
        """The step after a completed answer: the review again when this edit is done."""
        progress = self.progress
        if progress.return_to and progress.return_after == self.step:
            return progress.return_to
        return default_next

    def edit_from(self, origin: str, *, until: str) -> None:
        """Start an edit from ``origin`` that returns there once step ``until`` is answered."""
        self.progress.return_to = origin
        self.progress.return_after = until

    @property
    def editing(self) -> bool:
        return bool(self.progress.return_to)

    def end_edit(self) -> None:
        self.progress.return_to = None
        self.progress.return_after = None


# -- The table ----------------------------------------------------------------------------------

AskFn = Callable[[Turn], Awaitable[Prompt]]
TextFn = Callable[[Turn, str], Awaitable[str]]
ButtonFn = Callable[[Turn, str], Awaitable[str | None]]
ContactFn = Callable[[Turn, str, bool], Awaitable[str]]
SkipFn = Callable[[Turn], Awaitable[str]]
ChoicesFn = Callable[[Turn], Mapping[str, str]]


@dataclass(frozen=True)
class Step:
    """One thing the bot waits for.

    ``text``, ``button`` and ``contact`` apply an answer and return the next step's name (a
    button handler returns ``None`` to stay and redraw, e.g. to turn a page); they raise
    :class:`~conversations.fields.Invalid` to ask again. ``skip`` makes the question skippable.
    ``typed_choices`` maps labels a person may type instead of pressing a button to actions.
    ``goes_to`` lists where it may lead (the table's map; :func:`advance` does not read it).
    A ``home`` step (the review) clears the history and ends an edit.
    """

    name: str
    ask: AskFn
    text: TextFn | None = None
    button: ButtonFn | None = None
    contact: ContactFn | None = None
    skip: SkipFn | None = None
    typed_choices: ChoicesFn | None = None
    back: bool = True
    home: bool = False
    goes_to: tuple[str, ...] = ()


class StepTable:
    """The steps of one conversation, by name, and the names of its actions: what a step may
    return instead of a step, for what ends or replaces the draft (submit, cancel, start over),
    which the runner carries out. A step may also return :data:`BACK`."""

    def __init__(
        self, *steps: Step, actions: Collection[str] = (), fallback: str | None = None
    ) -> None:
        self.actions = frozenset(actions)
        # The step a draft saved at a step this table no longer has continues at.
        self.fallback = fallback
        self.steps: dict[str, Step] = {}
        for step in steps:
            if step.name in self.steps:
                raise ValueError(f"step {step.name} defined twice")
            self.steps[step.name] = step

    def __getitem__(self, name: str) -> Step:
        if name not in self.steps and self.fallback is not None:
            return self.steps[self.fallback]
        return self.steps[name]

    def __contains__(self, name: object) -> bool:
        return name in self.steps


# -- What happened ------------------------------------------------------------------------------

Happened = Literal["moved", "stayed", "back", "shown", "refused", "unavailable", "action", "stale"]


@dataclass(frozen=True)
class Outcome:
    """What one input did.

    - ``moved``, ``stayed``, ``back``: ``state`` is to be saved (its version is the one it was
      loaded at: the save checks it), then ``prompt`` shown below ``notes``;
      ``leaving_contact`` says the contact keyboard is to be taken away.
    - ``shown``: nothing changed; ``prompt`` is the current question again.
    - ``refused``: ``reason`` (translated) says why; nothing changed. A refused button press
      shows nothing (``prompt`` is ``None``: its answer carries the reason); a refused message
      gets the question again with the reason above it.
    - ``unavailable``: the catalogue could not be read; nothing changed; ``prompt`` says so,
      with Try again (and ``reason`` too when it was the current question that could not be
      asked again: a pressed Try again's answer says it).
    - ``action``: the runner carries out ``action`` on ``state`` (answers changed, not saved).
    - ``stale``: a button of another draft or version, or forged data: nothing changed.
    """

    happened: Happened
    state: State
    prompt: Prompt | None = None
    notes: tuple[str, ...] = ()
    reason: str | None = None
    action: str | None = None
    leaving_contact: bool = False

    @property
    def saves(self) -> bool:
        """Whether the state is to be saved."""
        return self.happened in ("moved", "stayed", "back")


# -- Advancing ----------------------------------------------------------------------------------


async def advance(table: StepTable, state: State, inp: Input, reads: Reads) -> Outcome:
    """Apply ``inp`` to ``state`` (see the module docstring and :class:`Outcome`)."""
    t = reads.t
    if inp.kind == "show":
        return await _shown(table, state, reads)
    if inp.kind == "goto":
        turn = _turn(state, reads)
        return await _move(table, state, turn, None if inp.target == state.step else inp.target)
    action = ""
    label = inp.label
    if inp.kind == "button":
        pressed = await _pressed(table, state, inp, reads)
        if isinstance(pressed, Outcome):
            return pressed
        action, again = pressed
        label = "" if again else label
    step = table[state.step]
    if (inp.kind == "button" and action == BACK) or (
        inp.kind == "text" and _is_back(t, step, inp.text) and state.history
    ):
        return await _back(table, state, reads)
    turn = _turn(state, reads)
    try:
        target = await _apply(turn, step, inp, action)
    except Invalid as invalid:
        reason = t._(invalid.message).format(**invalid.params)
        if inp.kind == "button":
            return Outcome("refused", state, reason=reason)
        shown = await _shown(table, state, reads, notes=[f"⚠️ {esc(reason)}"])
        return replace(shown, happened="refused", reason=reason)
    except CatalogueUnavailable as failure:
        # Nothing changes: Try again applies the same button to the same state.
        retry = f"{AGAIN}:{action}" if inp.kind == "button" else AGAIN
        if not _fits(state, retry):
            retry = AGAIN
        prompt = _navigation(table, state, unavailable(t, failure, retry), t)
        return Outcome("unavailable", state, prompt)
    if target == BACK:
        return await _back(table, state, reads)
    if target is not None and target in table.actions:
        changed = replace(state, enrollment=turn.enrollment, progress=turn.progress)
        return Outcome("action", changed, notes=tuple(turn.notes), action=target)
    moving_on = target not in (None, state.step) and not table[target].home
    if inp.kind == "button" and label and moving_on:
        # The question is edited into the next one: keep the choice readable.
        turn.notes.insert(0, esc(label))
    return await _move(table, state, turn, target)


async def _pressed(
    table: StepTable, state: State, inp: Input, reads: Reads
) -> tuple[str, bool] | Outcome:
    """The action of a pressed button and whether it is pressed again (Try again), or what the
    press did: nothing (another draft or version, or forged), refused (no Try again left), or
    Try again's."""
    data = CallbackData.decode(inp.data)
    if data is None or data.draft_id != state.draft_id or data.version != state.version:
        return Outcome("stale", state)
    action = data.action
    if action == AGAIN or action.startswith(AGAIN + ":"):
        if not reads.may_try_again():
            return Outcome("refused", state, reason=reads.t._(TRIES_SPENT))
        action = action.partition(":")[2]
        if not action:
            return await _again(table, state, reads)
        return action, True
    return action, False


def _turn(state: State, reads: Reads) -> Turn:
    """A turn on copies of the state's answers and progress (a refused input changes nothing)."""
    return Turn(
        step=state.step,
        enrollment=state.enrollment.model_copy(deep=True),
        progress=state.progress.model_copy(deep=True),
        reads=reads,
    )


async def _move(
    table: StepTable, state: State, turn: Turn, target: str | None, *, back: bool = False
) -> Outcome:
    """``turn``'s answers at step ``target`` (``None``: stay), with its question."""
    history = list(state.history)
    if target is None:
        target = state.step
    elif not back and target != state.step:
        history.append(state.step)
    leaving_contact = target != state.step and table[state.step].contact is not None
    next_step = table[target]
    if next_step.home:
        history = []
        turn.end_edit()
    turn.progress.again = None  # what was to be tried again is behind us
    turn.step = target
    # A question that cannot be built is saved all the same: Try again asks it again.
    prompt = await _ask(turn, next_step)
    moved = replace(
        state,
        step=target,
        history=tuple(history),
        enrollment=turn.enrollment,
        progress=turn.progress,
    )
    happened: Happened = "back" if back else ("stayed" if target == state.step else "moved")
    return Outcome(
        happened,
        moved,
        _navigation(table, moved, prompt, turn.t),
        tuple(turn.notes),
        leaving_contact=leaving_contact,
    )


async def _back(table: StepTable, state: State, reads: Reads) -> Outcome:
    """The previous question, keeping every answer (the current one again at the first)."""
    if not state.history:
        return await _shown(table, state, reads)
    *history, target = state.history
    earlier = replace(state, history=tuple(history))
    return await _move(table, earlier, _turn(earlier, reads), target, back=True)


async def _shown(
    table: StepTable, state: State, reads: Reads, *, notes: Sequence[str] = ()
) -> Outcome:
    """The current question again; nothing is saved. When the catalogue cannot be read the
    outcome is ``unavailable``, with why as the ``reason`` too."""
    turn = _turn(state, reads)
    try:
        prompt = await table[state.step].ask(turn)
    except CatalogueUnavailable as failure:
        prompt = _navigation(table, state, unavailable(reads.t, failure, AGAIN), reads.t)
        return Outcome(
            "unavailable", state, prompt, tuple(notes), reason=reads.t._(failure.message)
        )
    return Outcome(
        "shown", state, _navigation(table, state, prompt, reads.t), (*notes, *turn.notes)
    )


async def _again(table: StepTable, state: State, reads: Reads) -> Outcome:
    """Try again: the action the state names (never one the button names: callback data can
    be forged), else the current question again."""
    action = state.progress.again
    if action is not None and action in table.actions:
        return Outcome("action", state, action=action)
    return await _shown(table, state, reads)


async def _ask(turn: Turn, step: Step) -> Prompt:
    """The step's question, or, when the catalogue cannot be read, why not and Try again."""
    try:
        return await step.ask(turn)
    except CatalogueUnavailable as failure:
        return unavailable(turn.t, failure, AGAIN)


async def _apply(turn: Turn, step: Step, inp: Input, action: str) -> str | None:
    if inp.kind == "button":
        if action == SKIP and step.skip is not None:
            return await step.skip(turn)
        if step.button is None:
            raise Invalid(N_("That button does not belong to this question."))
        return await step.button(turn, action)
    if inp.kind == "contact":
        if step.contact is None:
            raise Invalid(_wrong_kind(step))
        return await step.contact(turn, inp.phone, inp.own_contact)
    if inp.kind != "text":
        raise Invalid(_wrong_kind(step))
    text = inp.text
    if step.skip is not None and _matches(text, turn.t._("Skip"), *_SKIP_WORDS):
        return await step.skip(turn)
    if step.text is not None:
        return await step.text(turn, text)
    if step.button is not None and step.typed_choices is not None:
        for label, choice in step.typed_choices(turn).items():
            if _matches(text, label):
                return await step.button(turn, choice)
    raise Invalid(N_("Please choose one of the buttons."))


def _navigation(table: StepTable, state: State, prompt: Prompt, t: Translator) -> Prompt:
    """``prompt`` with Back (when there is somewhere to go back to) and Skip (when allowed)."""
    step = table[state.step]
    can_back = step.back and bool(state.history)
    if prompt.share_contact_label:
        typed = [*prompt.typed_choices]
        typed += [t._("Skip")] if step.skip else []
        typed += [t._("⬅️ Back")] if can_back else []
        return replace(prompt, typed_choices=typed)
    row: list[Button] = []
    if can_back:
        row.append(Button(t._("⬅️ Back"), BACK))
    if step.skip is not None:
        row.append(Button(t._("Skip"), SKIP))
    return replace(prompt, buttons=[*prompt.buttons, row]) if row else prompt


def unavailable(t: Translator, failure: CatalogueUnavailable, retry: str) -> Prompt:
    """What a person reads when the catalogue cannot be read: why, and a Try again button."""
    text = (
        "⚠️ "
        + esc(t._(failure.message))
        + "\n"
        + esc(t._("Everything you entered is kept. Please try again in a moment."))
    )
    return Prompt(text, [[Button(t._("🔄 Try again"), retry)]])


def _fits(state: State, action: str) -> bool:
    """Whether a button of this state with ``action`` fits Telegram's 64 bytes."""
    try:
        CallbackData(state.draft_id, state.version, action).encode()
    except ValueError:
        return False
    return True


def _matches(text: str, *labels: str) -> bool:
    folded = " ".join(text.split()).casefold()
    return any(folded == " ".join(label.split()).casefold() for label in labels)


def _is_back(t: Translator, step: Step, text: str) -> bool:
    """Typed Back: the label (as a reply keyboard sends it), or the word on a button question
    (on a text question "Back" might be someone's name)."""
    if not step.back:
        return False
    if _matches(text, t._("⬅️ Back")):
        return True
    return step.text is None and _matches(text, *_BACK_WORDS)


def _wrong_kind(step: Step) -> str:
    if step.text is not None:
        return N_("I can only read text here. Please type your answer.")
    return N_("Please choose one of the buttons.")
