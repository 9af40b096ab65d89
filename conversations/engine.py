"""The step machine that runs a conversation whose state is a draft row (design decision 1).

One update is one turn::

    load the chat's draft ── the step parses the input ── invalid? say why, ask again, keep all
                                                       └─ valid: apply it, choose the next step
    ── build the next question (may read the cached catalogue) ── save the draft (commit)
    ── send the question (or edit the message whose button was pressed into it)

A flow is a table of :class:`Step` objects (``conversations/enrollment.py``): each names what the
bot waits for, how it asks, and what a typed text, a pressed button or a shared contact does.
A handler changes ``turn.enrollment`` and returns the name of the next step, normally through
:meth:`Turn.proceed`, which brings an edit started from the review back to the review. Back pops
the step history; every question gets a Back button when there is somewhere to go back to and a
Skip button when it may be skipped.

Inline buttons carry ``e<draft id>.<version>.<action>`` as callback data. The version grows with
every saved answer, so a button on an outdated message, or forged data, changes nothing.

When the catalogue cannot be read (:class:`~bot.errors.CatalogueUnavailable`, raised by
``bot/catalogue.py`` at Coachview's failure or after the patience), the person reads why instead
of the question, with a *Try again* button, and nothing they entered is lost: a question that
could not be built is saved as the current step all the same (Try again, action ``again``, asks
it again, or runs the flow's action the draft names under ``flow["again"]``, as a deep link that
could not be followed does); an answer that could not be applied leaves the draft as it was (Try
again, action ``again:<action>``, applies the same button again, through the step's handler).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final, Literal

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot import floods
from bot.budgets import TRIES_SPENT
from bot.callbacks import CallbackData
from bot.enrollment import Enrollment
from bot.errors import CatalogueUnavailable
from bot.i18n import N_, Translator, esc
from bot.services import Services
from bot.store import drafts
from bot.store.models import Draft
from conversations.fields import Invalid

__all__ = [
    "AGAIN",
    "BACK",
    "SKIP",
    "Button",
    "Chat",
    "Engine",
    "Flow",
    "Input",
    "Prompt",
    "State",
    "Step",
    "Turn",
    "esc",
    "retire_buttons",
    "unavailable",
]

logger = logging.getLogger(__name__)

BACK: Final = "back"
#: The Try again button after a catalogue failure; ``again:<action>`` presses ``<action>`` again.
#: A draft whose ``flow["again"]`` names one of the flow's actions runs that action instead.
AGAIN: Final = "again"
SKIP: Final = "skip"
# Typed on a question that may be skipped, these mean "skip" ("no prefix", "no company").
_SKIP_WORDS: Final = ("skip", "overslaan", "-", "geen", "none", "nee", "no", "nvt", "n.v.t.")
_BACK_WORDS: Final = ("back", "terug")


# -- What arrives -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """What the person did, reduced to what a step can react to."""

    kind: Literal["text", "button", "contact", "other"]
    text: str = ""
    action: str = ""
    label: str = ""  # a pressed button: the question and the choice, as the chat keeps them
    phone: str = ""
    own_contact: bool = False


# -- What is sent -------------------------------------------------------------------------------


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


def markup(
    prompt: Prompt, *, draft_id: int, version: int
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    """The keyboard of ``prompt``, its callback data bound to this draft's version."""
    if prompt.share_contact_label:
        rows = [[KeyboardButton(prompt.share_contact_label, request_contact=True)]]
        rows.extend([KeyboardButton(label)] for label in prompt.typed_choices)
        return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
    rows_inline = [
        [
            InlineKeyboardButton(button.label, url=button.url)
            if button.url
            else InlineKeyboardButton(
                button.label, callback_data=CallbackData(draft_id, version, button.action).encode()
            )
            for button in row
        ]
        for row in prompt.buttons
        if row
    ]
    return InlineKeyboardMarkup(rows_inline) if rows_inline else None


# -- The flow -----------------------------------------------------------------------------------

AskFn = Callable[["Turn"], Awaitable[Prompt]]
TextFn = Callable[["Turn", str], Awaitable[str]]
ButtonFn = Callable[["Turn", str], Awaitable[str | None]]
ContactFn = Callable[["Turn", str, bool], Awaitable[str]]
SkipFn = Callable[["Turn"], Awaitable[str]]
ChoicesFn = Callable[["Turn"], Mapping[str, str]]


@dataclass(frozen=True)
class Step:
    """One thing the bot waits for.

    ``text``, ``button`` and ``contact`` apply an answer and return the next step's name (a
    button handler returns ``None`` to stay and redraw, e.g. to turn a page); they raise
    :class:`~conversations.fields.Invalid` to ask again. ``skip`` makes the question skippable.
    ``typed_choices`` maps labels a person may type instead of pressing a button to actions.
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


ActionFn = Callable[["Engine", "Chat", "Turn", Message | None], Awaitable[None]]


class Flow:
    """The steps of one conversation, by name, and its actions.

    An action is what a handler may return instead of a step, for what ends or replaces the
    draft (submit, cancel, start over): it saves and answers by itself. A handler may also
    return :data:`BACK` to go back to the previous question.
    """

    def __init__(
        self,
        *steps: Step,
        actions: Mapping[str, ActionFn] | None = None,
        fallback: str | None = None,
    ) -> None:
        self.actions: dict[str, ActionFn] = dict(actions or {})
        # The step a draft saved at a step this flow no longer has continues at.
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


@dataclass(frozen=True)
class State:
    """A snapshot of a draft row, detached from the database."""

    id: int
    step: str
    data: dict[str, Any]
    history: tuple[str, ...]
    flow: dict[str, Any]
    version: int
    last_update_id: int | None

    @classmethod
    def of(cls, draft: Draft) -> State:
        return cls(
            id=draft.id or 0,
            step=draft.step,
            data=dict(draft.data),
            history=tuple(draft.history),
            flow=dict(draft.flow),
            version=draft.version,
            last_update_id=draft.last_update_id,
        )


@dataclass
class Turn:
    """One update's work on one draft: the answers, the step, how to speak.

    Handlers change ``enrollment`` and ``flow``; ``notes`` are short lines shown above the next
    question ("Participant removed."). ``services`` is the application's (catalogue, settings).
    """

    state: State
    enrollment: Enrollment
    t: Translator
    now: datetime
    services: Services
    flow: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def step(self) -> str:
        return self.state.step

    def proceed(self, default_next: str) -> str:
        """The step after a completed answer: the review again when this edit is done."""
        return_to = self.flow.get("return_to")
        if return_to and self.flow.get("return_after") == self.state.step:
            return str(return_to)
        return default_next

    def edit_from(self, origin: str, *, until: str) -> None:
        """Start an edit from ``origin`` that returns there once step ``until`` is answered."""
        self.flow["return_to"] = origin
        self.flow["return_after"] = until

    @property
    def editing(self) -> bool:
        return bool(self.flow.get("return_to"))

    def end_edit(self) -> None:
        self.flow.pop("return_to", None)
        self.flow.pop("return_after", None)


@dataclass(frozen=True)
class Chat:
    """Where an update came from, who sent it, and how to answer them."""

    chat_id: int
    user_id: int
    update_id: int
    t: Translator
    bot: Bot


# -- Running turns ------------------------------------------------------------------------------


class Engine:
    """Runs a :class:`Flow` over drafts: load, apply, save, show (see the module docstring)."""

    def __init__(self, flow: Flow, *, services: Services) -> None:
        self.flow = flow
        self.services = services

    def load(self, chat_id: int) -> State | None:
        """The chat's open draft, if any."""
        with self.services.session() as session:
            draft = drafts.get_open_draft(session, chat_id=chat_id)
            return State.of(draft) if draft is not None else None

    def turn(self, chat: Chat, state: State) -> Turn:
        """A turn on ``state``, for a handler that changes the draft outside a step."""
        return Turn(
            state=state,
            enrollment=Enrollment.model_validate(state.data),
            t=chat.t,
            now=self.services.clock.now(),
            services=self.services,
            flow=dict(state.flow),
        )

    async def begin(
        self,
        chat: Chat,
        *,
        step: str,
        enrollment: Enrollment | None = None,
        flow: dict[str, Any] | None = None,
        notes: Sequence[str] = (),
        edit: Message | None = None,
        failure: CatalogueUnavailable | None = None,
    ) -> State:
        """Open a new draft at ``step`` (cancelling an open one) and ask its question.

        With ``failure`` (what led here could not be read) the draft shows that failure instead;
        its Try again runs the action named by ``flow["again"]``, else asks the question.
        """
        now = self.services.clock.now()
        provisional = State(0, step, {}, (), dict(flow or {}), 0, None)
        turn = Turn(provisional, enrollment or Enrollment(), chat.t, now, self.services)
        turn.flow = dict(flow or {})
        if failure is None:
            prompt, _ = await self._ask(turn, self.flow[step])
        else:
            prompt = unavailable(chat.t, failure, AGAIN)
        with self.services.session() as session:
            draft = drafts.create_draft(
                session,
                chat_id=chat.chat_id,
                user_id=chat.user_id,
                step=step,
                data=turn.enrollment.model_dump(mode="json"),
                flow=turn.flow,
                now=now,
                update_id=chat.update_id,
                language=chat.t.language,
            )
            session.commit()
            state = State.of(draft)
        await self._show(chat, state, prompt, edit=edit, notes=[*notes, *turn.notes])
        return state

    async def redisplay(
        self, chat: Chat, state: State, *, notes: Sequence[str] = (), edit: Message | None = None
    ) -> str | None:
        """Ask the current question again (after /help, /language, an invalid answer...).

        Returns the translated reason when the question could not be built (already shown).
        """
        turn = self.turn(chat, state)
        prompt, failure = await self._ask(turn, self.flow[state.step])
        await self._show(chat, state, prompt, notes=[*notes, *turn.notes], edit=edit)
        return chat.t._(failure.message) if failure is not None else None

    async def handle(
        self, chat: Chat, state: State, inp: Input, *, edit: Message | None = None
    ) -> str | None:
        """Apply one input and show what comes next.

        Returns ``None`` when it was applied, else the translated reason it was refused (already
        shown to the person with the question again, unless the input was a button press: then
        the caller shows it as the button's answer and nothing is sent).
        """
        if state.last_update_id is not None and chat.update_id <= state.last_update_id:
            logger.info("update %s was applied before; asking again", chat.update_id)
            await self.redisplay(chat, state)
            return None
        if inp.kind == "button" and (inp.action == AGAIN or inp.action.startswith(AGAIN + ":")):
            refused = self._refuse_try(chat)
            repeat = inp.action.partition(":")[2]
            if refused or not repeat:
                return refused or await self._again(chat, state, edit=edit)
            inp = replace(inp, action=repeat, label="")
        step = self.flow[state.step]
        if (inp.kind == "button" and inp.action == BACK) or (
            inp.kind == "text" and _is_back(chat.t, step, inp.text) and state.history
        ):
            await self.back(chat, state, edit=edit)
            return None
        turn = self.turn(chat, state)
        try:
            target = await self._apply(turn, step, inp)
        except Invalid as invalid:
            reason = chat.t._(invalid.message).format(**invalid.params)
            if inp.kind != "button":
                await self.redisplay(chat, state, notes=[f"⚠️ {esc(reason)}"])
            return reason
        except CatalogueUnavailable as failure:
            # Nothing is saved: Try again applies the same button to the same draft.
            retry = f"{AGAIN}:{inp.action}" if inp.kind == "button" else AGAIN
            if not _fits(state, retry):
                retry = AGAIN
            await self._show(chat, state, unavailable(chat.t, failure, retry), edit=edit)
            return None
        if target == BACK:
            await self.back(chat, state, edit=edit)
        elif target is not None and target in self.flow.actions:
            await self.flow.actions[target](self, chat, turn, edit)
        else:
            moving_on = target not in (None, state.step) and not self.flow[target].home
            if inp.kind == "button" and inp.label and moving_on:
                # The question is edited into the next one: keep the choice readable.
                turn.notes.insert(0, esc(inp.label))
            await self.move(chat, turn, target, edit=edit)
        return None

    async def move(
        self,
        chat: Chat,
        turn: Turn,
        target: str | None,
        *,
        edit: Message | None = None,
        back: bool = False,
    ) -> State:
        """Save ``turn`` at step ``target`` (``None``: stay) and ask its question."""
        state = turn.state
        history = list(state.history)
        leaving_contact_keyboard = False
        if target is None:
            target = state.step
        elif not back and target != state.step:
            history.append(state.step)
        if target != state.step:
            leaving_contact_keyboard = self.flow[state.step].contact is not None
        next_step = self.flow[target]
        if next_step.home:
            history = []
            turn.end_edit()
        turn.flow.pop(AGAIN, None)  # what was to be tried again is behind us
        turn.state = replace(state, step=target, history=tuple(history))
        # A question that cannot be built is saved all the same: Try again asks it again.
        prompt, _ = await self._ask(turn, next_step)
        with self.services.session() as session:
            version = drafts.save_draft(
                session,
                draft_id=state.id,
                expected_version=state.version,
                step=target,
                data=turn.enrollment.model_dump(mode="json"),
                history=history,
                flow=turn.flow,
                now=turn.now,
                update_id=chat.update_id,
                language=chat.t.language,
            )
            session.commit()
        saved = replace(
            turn.state,
            version=version,
            data=turn.enrollment.model_dump(mode="json"),
            flow=dict(turn.flow),
            last_update_id=chat.update_id,
        )
        await self._show(
            chat,
            saved,
            prompt,
            edit=edit,
            notes=turn.notes,
            remove_contact_keyboard=leaving_contact_keyboard,
        )
        return saved

    async def back(self, chat: Chat, state: State, *, edit: Message | None = None) -> None:
        """Go back to the previous question, keeping every answer."""
        if not state.history:
            await self.redisplay(chat, state, edit=edit)
            return
        history = list(state.history)
        target = history.pop()
        turn = self.turn(chat, replace(state, history=tuple(history)))
        await self.move(chat, turn, target, edit=edit, back=True)

    def _refuse_try(self, chat: Chat) -> str | None:
        """Why a Try again press is refused: each may cost a Coachview read, and the person's
        look-up budget (``bot/budgets.py``) is spent; ``None`` when it is not."""
        if self.services.lookups.take(chat.user_id):
            return None
        logger.info("a person's look-up budget is spent; Try again refused")
        return chat.t._(TRIES_SPENT)

    async def _again(self, chat: Chat, state: State, *, edit: Message | None) -> str | None:
        """Try again: the action the draft names (never one the button names: callback data
        can be forged), else ask the current question again."""
        action = state.flow.get(AGAIN)
        if action in self.flow.actions:
            await self.flow.actions[action](self, chat, self.turn(chat, state), edit)
            return None
        return await self.redisplay(chat, state, edit=edit)

    async def _ask(self, turn: Turn, step: Step) -> tuple[Prompt, CatalogueUnavailable | None]:
        """The step's question, or, when the catalogue cannot be read, why not and Try again."""
        try:
            return await step.ask(turn), None
        except CatalogueUnavailable as failure:
            return unavailable(turn.t, failure, AGAIN), failure

    async def _apply(self, turn: Turn, step: Step, inp: Input) -> str | None:
        if inp.kind == "button":
            if inp.action == SKIP and step.skip is not None:
                return await step.skip(turn)
            if step.button is None:
                raise Invalid(N_("That button does not belong to this question."))
            return await step.button(turn, inp.action)
        if inp.kind == "contact":
            if step.contact is None:
                raise Invalid(_wrong_kind(step))
            return await step.contact(turn, inp.phone, inp.own_contact)
        if inp.kind == "other":
            raise Invalid(_wrong_kind(step))
        text = inp.text
        if step.skip is not None and _matches(text, turn.t._("Skip"), *_SKIP_WORDS):
            return await step.skip(turn)
        if step.text is not None:
            return await step.text(turn, text)
        if step.button is not None and step.typed_choices is not None:
            for label, action in step.typed_choices(turn).items():
                if _matches(text, label):
                    return await step.button(turn, action)
        raise Invalid(N_("Please choose one of the buttons."))

    async def _show(
        self,
        chat: Chat,
        state: State,
        prompt: Prompt,
        *,
        edit: Message | None = None,
        notes: Sequence[str] = (),
        remove_contact_keyboard: bool = False,
    ) -> None:
        if not floods.answering():  # a later update of this chat answers (bot/floods.py)
            return
        prompt = self._with_navigation(chat.t, state, prompt)
        keyboard = markup(prompt, draft_id=state.id, version=state.version)
        if remove_contact_keyboard:
            # Telegram takes one keyboard per message: the contact keyboard goes with the notes.
            await chat.bot.send_message(
                chat.chat_id,
                "\n".join(notes) if notes else esc(chat.t._("Thanks!")),
                parse_mode=ParseMode.HTML,
                reply_markup=ReplyKeyboardRemove(),
            )
            notes = ()
        text = "\n\n".join([*notes, prompt.text]) if notes else prompt.text
        if edit is not None and not isinstance(keyboard, ReplyKeyboardMarkup):
            try:
                await edit.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
            except BadRequest as err:
                if "not modified" not in str(err).lower():
                    raise
            return
        if edit is not None:
            await retire_buttons(edit)
        await chat.bot.send_message(
            chat.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard
        )

    def _with_navigation(self, t: Translator, state: State, prompt: Prompt) -> Prompt:
        step = self.flow[state.step]
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
    """Whether a button of this draft with ``action`` fits Telegram's 64 bytes."""
    try:
        CallbackData(state.id, state.version, action).encode()
    except ValueError:
        return False
    return True


async def retire_buttons(message: Message) -> None:
    """Take the buttons off a message that is no longer the current question."""
    if message.reply_markup is None:
        return
    try:
        await message.edit_reply_markup(reply_markup=None)
    except BadRequest as err:
        logger.debug("could not remove old buttons: %s", err)


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
