"""The step machine, pure: a conversation's state and one input in, an
:class:`~conversations.steps.Outcome` out (:func:`advance`)::

    input ── Back? ── go back a step (keeping every answer)
          └─ the step parses it ── invalid: refused, with the reason; the state is unchanged
                                └─ valid: the next step's question (moved, or stayed)
                                         or an action of the table (submit, cancel, restart)
          └─ the catalogue cannot be read: unavailable, with a Try again button; nothing changes

No database, no Telegram, no clock, no logging of people's text: saving the state and sending
the prompt is the runner's (``conversations/runner.py``) and the view's
(``conversations/view.py``).

Inline buttons carry ``e<draft id>.<version>.<action>`` as callback data: the version grows with
every saved answer, so a button on an outdated message, or forged data, changes nothing
(``stale``). Back pops the history; every question gets a Back button when there is somewhere
to go back to and a Skip button when it may be skipped.

When the catalogue cannot be read (:class:`~bot.errors.CatalogueUnavailable`) the person reads
why, with a *Try again* button, and loses nothing: a question that could not be built is saved
as the current step all the same (Try again, action ``again``, asks it again, or runs the action
``progress.again`` names, as a deep link that could not be followed does); an answer that could
not be applied leaves the state as it was (Try again, ``again:<action>``, presses it again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from bot.budgets import TRIES_SPENT
from bot.callbacks import CallbackData
from bot.errors import CatalogueUnavailable
from bot.i18n import N_, Translator, esc
from conversations.fields import Invalid
from conversations.steps import (
    AGAIN,
    BACK,
    SKIP,
    Button,
    Happened,
    Input,
    Outcome,
    Prompt,
    Reads,
    State,
    Step,
    StepTable,
    Turn,
)

__all__ = ["advance", "unavailable"]

# Typed on a question that may be skipped, these mean "skip" ("no prefix", "no company").
_SKIP_WORDS: Final = ("skip", "overslaan", "-", "geen", "none", "nee", "no", "nvt", "n.v.t.")
_BACK_WORDS: Final = ("back", "terug")


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
