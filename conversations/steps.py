"""What a conversation is made of: the step table, the state, the input, the prompt, the
outcome. The step machine that runs them is ``conversations/machine.py`` (pure); the
enrollment's table is ``conversations/enrollment/``.

A conversation is a :class:`StepTable` of :class:`Step` objects: each names how the bot asks
(``ask``) and what a typed text, a pressed button or a shared contact does. A step function
changes ``turn.enrollment`` and ``turn.progress`` and returns the name of the next step,
normally through :meth:`Turn.proceed`, which brings an edit started from the review back to
the review. What a step may read comes in :class:`Reads` (the translator, the time, the cached
catalogue, the provider's questions, the limits), so tests pass an in-memory catalogue.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict

from bot.courses import Catalogue
from bot.enrollment import Enrollment
from bot.i18n import Translator
from bot.questions import Questions

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
]

BACK: Final = "back"
#: The Try again button after a catalogue failure; ``again:<action>`` presses ``<action>`` again.
#: A state whose ``progress.again`` names one of the table's actions runs that action instead.
AGAIN: Final = "again"
SKIP: Final = "skip"


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
