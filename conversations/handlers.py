"""Telegram meets the enrollment: the PTB handlers that turn updates into inputs of the step
machine (through the runner, ``conversations/runner.py``), the commands available in every
question (/start, /cancel, /help, /language), and the command menu.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, cast

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)
from telegram.helpers import create_deep_linked_url

from bot.callbacks import (
    ENROLLMENT_PATTERN,
    LANGUAGE_PATTERN,
    RESUME_PATTERN,
    CallbackData,
    language_data,
    language_of,
    on_stale_button,
)
from bot.errors import DraftConflict
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, Language, Translator, esc, translator
from bot.menu import COMMANDS
from bot.services import BotContext, Services
from bot.store import drafts
from bot.store.models import DraftStatus
from conversations.enrollment import CONFIRMING_CANCEL, CONFIRMING_RESTART
from conversations.runner import Origin, Runner
from conversations.steps import Input, State
from conversations.view import retire_buttons, say

__all__ = ["LANGUAGE_NAMES", "EnrollmentChat", "register", "set_commands"]

logger = logging.getLogger(__name__)

LANGUAGE_NAMES: dict[str, str] = {"nl": "Nederlands", "en": "English"}

Loaded = tuple[State, int | None]
"""A chat's open draft as the step machine reads it, and the last update applied to it."""


# -- Wiring -------------------------------------------------------------------------------------


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> EnrollmentChat:
    """Add the enrollment handlers, in the order they are tried."""
    chat = EnrollmentChat()
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("start", chat.on_start, filters=private))
    application.add_handler(CommandHandler("cancel", chat.on_cancel, filters=private))
    application.add_handler(CommandHandler("help", chat.on_help, filters=private))
    application.add_handler(CommandHandler("language", on_language, filters=private))
    application.add_handler(CommandHandler(["start", "help"], on_group_start, filters=~private))
    application.add_handler(
        CallbackQueryHandler(chat.on_language_chosen, pattern=LANGUAGE_PATTERN)
    )
    application.add_handler(CallbackQueryHandler(chat.on_resume, pattern=RESUME_PATTERN))
    application.add_handler(CallbackQueryHandler(chat.on_button, pattern=ENROLLMENT_PATTERN))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & private, on_edited))
    application.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & private & filters.COMMAND, chat.on_unknown_command
        )
    )
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & private & ~filters.COMMAND, chat.on_message)
    )
    application.add_handler(CallbackQueryHandler(on_stale_button))
    return chat


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The command menu, in Dutch and English (Telegram picks by the person's app language;
    the default language's menu is everyone else's)."""
    bot = application.bot
    services = application.bot_data.services
    default = services.settings.default_language if services else DEFAULT_LANGUAGE
    for language in LANGUAGES:
        t = translator(language)
        commands = [BotCommand(name, t._(description)) for name, description in COMMANDS]
        code = None if language == default else language
        await bot.set_my_commands(
            commands, scope=BotCommandScopeAllPrivateChats(), language_code=code
        )
    await bot.set_my_commands(
        [BotCommand("start", translator(default)._("Enroll in a course"))],
        scope=BotCommandScopeAllGroupChats(),
    )


# -- The handlers that reach a draft ------------------------------------------------------------


class EnrollmentChat:
    """The enrollment's handlers: each loads the chat's draft and runs one input through the
    :class:`~conversations.runner.Runner` (built on the application's services at first use)."""

    def __init__(self) -> None:
        self._runner: Runner | None = None

    def runner(self, context: BotContext) -> Runner:
        services = context.services
        if self._runner is None or self._runner.services is not services:
            self._runner = Runner(services)
        return self._runner

    def _turn(self, update: Update, context: BotContext) -> tuple[Runner, Origin, Loaded | None]:
        """The runner, where the update came from (in the person's language), and the chat's
        open draft."""
        runner = self.runner(context)
        user = cast(User, update.effective_user)
        chat_id = cast(int, update.effective_chat and update.effective_chat.id)
        language = context.services.language_of(user.id, user.language_code)
        origin = Origin(chat_id, user.id, update.update_id, translator(language), context.bot)
        return runner, origin, runner.load(chat_id)

    async def on_start(self, update: Update, context: BotContext) -> None:
        """/start, or /start <course>: begin, or ask whether to continue the open draft."""
        runner, origin, loaded = self._turn(update, context)
        payload = " ".join(context.args or []).strip()
        if loaded is None:
            await runner.start(origin, payload)
            return
        state, _ = loaded
        if _redelivered(origin, loaded):
            await runner.run(origin, state, Input("show"))
            return
        progress = state.progress.model_copy(update={"restart_with": payload or None})
        await runner.run(
            origin, replace(state, progress=progress), Input("goto", target=CONFIRMING_RESTART)
        )

    async def on_message(self, update: Update, context: BotContext) -> None:
        """A message in a private chat: the answer to the current question."""
        message = cast(Message, update.effective_message)
        runner, origin, loaded = self._turn(update, context)
        if loaded is None:
            await runner.start(origin, "")
            return
        state, _ = loaded
        if _redelivered(origin, loaded):
            logger.info("update %s was applied before; asking again", origin.update_id)
            await runner.run(origin, state, Input("show"))
            return
        await runner.run(origin, state, _input(message))

    async def on_button(self, update: Update, context: BotContext) -> None:
        """A pressed button of a question; outdated or forged buttons change nothing."""
        query = cast(CallbackQuery, update.callback_query)
        runner, origin, loaded = self._turn(update, context)
        if loaded is not None and _redelivered(origin, loaded):
            await runner.run(origin, loaded[0], Input("show"))
            await query.answer()
            return
        services = context.services
        if loaded is None:
            await query.answer(_stale_reason(services, origin.t, query.data, None))
            return
        state, _ = loaded
        message = query.message if isinstance(query.message, Message) else None
        inp = Input("button", data=query.data or "", label=_pressed_label(message, query.data))
        try:
            outcome = await runner.run(origin, state, inp, edit=message)
        except DraftConflict:
            await query.answer(origin.t._("This button is no longer active."))
            return
        if outcome.happened == "stale":
            await query.answer(_stale_reason(services, origin.t, query.data, state))
            return
        await query.answer(outcome.reason, show_alert=outcome.reason is not None)

    async def on_resume(self, update: Update, context: BotContext) -> None:
        """The button of the idle reminder: ask the question the person stopped at again."""
        query = cast(CallbackQuery, update.callback_query)
        runner, origin, loaded = self._turn(update, context)
        data = CallbackData.decode(query.data)
        if data is None or loaded is None or data.draft_id != loaded[0].draft_id:
            state = loaded[0] if loaded is not None else None
            await query.answer(_stale_reason(context.services, origin.t, query.data, state))
            return
        await query.answer()
        if isinstance(query.message, Message):
            await retire_buttons(query.message)
        await runner.run(origin, loaded[0], Input("show"))

    async def on_help(self, update: Update, context: BotContext) -> None:
        """/help: what the bot does, then the current question again."""
        runner, origin, loaded = self._turn(update, context)
        t = origin.t
        text = t._(
            "I enroll you (and others, if you like) in a course of the training provider.\n\n"
            "/start — enroll in a course\n"
            "/cancel — cancel the enrollment you are filling in\n"
            "/language — Nederlands / English\n"
            "/privacy — what I keep about you; /mydata to see it, /forget to erase it\n"
            "/help — this help\n\n"
            "Every question has a Back button, and before sending you can check and change "
            "everything."
        )
        await origin.bot.send_message(origin.chat_id, esc(text), parse_mode=ParseMode.HTML)
        if loaded is not None:
            await runner.run(origin, loaded[0], Input("show"))

    async def on_cancel(self, update: Update, context: BotContext) -> None:
        """/cancel: ask before deleting the draft."""
        runner, origin, loaded = self._turn(update, context)
        if loaded is None:
            await origin.bot.send_message(
                origin.chat_id,
                origin.t._("There is no enrollment in progress. Type /start to begin."),
            )
            return
        state, _ = loaded
        if state.step == CONFIRMING_CANCEL:
            await runner.run(origin, state, Input("show"))
            return
        await runner.run(origin, state, Input("goto", target=CONFIRMING_CANCEL))

    async def on_language_chosen(self, update: Update, context: BotContext) -> None:
        """A language button: remember it, confirm in that language, ask the question again."""
        query = cast(CallbackQuery, update.callback_query)
        code = language_of(query.data)
        if code not in LANGUAGES:
            await on_stale_button(update, context)
            return
        user = cast(User, update.effective_user)
        context.services.remember_language(user.id, code)
        runner, origin, loaded = self._turn(update, context)
        await query.answer()
        # Translators: said in the language just chosen, on purpose: the
        # Dutch text names Dutch ("Nederlands"), the English one English.
        confirmation = origin.t._("Okay, I will speak English with you.")
        pressed = query.message if isinstance(query.message, Message) else None
        await say(origin.reply(pressed), esc(confirmation))
        if loaded is not None:
            await runner.run(origin, loaded[0], Input("show"))

    async def on_unknown_command(self, update: Update, context: BotContext) -> None:
        """A command the bot does not know (for this person)."""
        runner, origin, loaded = self._turn(update, context)
        text = origin.t._("I do not know that command. /help lists what I can do.")
        if loaded is None:
            await origin.bot.send_message(origin.chat_id, text)
            return
        await runner.run(origin, loaded[0], Input("show"), notes=[esc(text)])


def _redelivered(origin: Origin, loaded: Loaded) -> bool:
    """The update was applied already, and is handled again: the process that applied it
    stopped before striking it from the inbox (maybe before replying). Ask again."""
    _, last_update_id = loaded
    return last_update_id is not None and origin.update_id <= last_update_id


def _input(message: Message) -> Input:
    if message.text is not None:
        return Input("text", text=message.text)
    if message.contact is not None:
        user = message.from_user
        own = user is not None and message.contact.user_id == user.id
        return Input("contact", phone=message.contact.phone_number, own_contact=own)
    return Input("other")


def _pressed_label(message: Message | None, data: str | None) -> str:
    """The question and the pressed button's label, as the chat keeps them once the question
    is edited into the next one."""
    label = ""
    if message is not None and message.reply_markup is not None:
        for row in message.reply_markup.inline_keyboard:
            label = next((b.text for b in row if b.callback_data == data), label)
        question = (message.text or "").strip().splitlines()
        label = f"{question[-1]} ✓ {label}" if question and label else label
    return label


def _stale_reason(services: Services, t: Translator, data: str | None, state: State | None) -> str:
    decoded = CallbackData.decode(data)
    if decoded is not None and (state is None or state.draft_id != decoded.draft_id):
        with services.session() as session:
            old = drafts.get_draft(session, draft_id=decoded.draft_id)
        if old is not None and old.status == DraftStatus.SUBMITTED:
            return t._("This enrollment has been sent already.")
    return t._("This button is no longer active. Please use the latest message.")


# -- Handlers that need no draft ----------------------------------------------------------------


def _language_of(services: Services, user: User) -> Language:
    return services.language_of(user.id, user.language_code)


async def on_edited(update: Update, context: BotContext) -> None:
    """An edited answer is not picked up: say so, so nobody thinks it was."""
    message = cast(Message, update.effective_message)
    user = cast(User, update.effective_user)
    t = translator(_language_of(context.services, user))
    await message.reply_text(
        t._(
            "I do not pick up edited messages. Just go on: you can change every answer "
            "at the end, before you send the enrollment."
        )
    )


async def on_language(update: Update, context: BotContext) -> None:
    """/language: choose Dutch or English."""
    user = cast(User, update.effective_user)
    chat_id = cast(int, update.effective_chat and update.effective_chat.id)
    t = translator(_language_of(context.services, user))
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(name, callback_data=language_data(code))
                for code, name in LANGUAGE_NAMES.items()
            ]
        ]
    )
    await context.bot.send_message(
        chat_id, t._("Which language do you prefer?"), reply_markup=keyboard
    )


async def on_group_start(update: Update, context: BotContext) -> None:
    """In a group, enrolling happens in a private chat: answer with a link to one."""
    message = cast(Message, update.effective_message)
    user = cast(User, update.effective_user)
    t = translator(_language_of(context.services, user))
    payload = "_".join(context.args or [])[:64] or None
    try:
        link = create_deep_linked_url(context.bot.username, payload)
    except ValueError:  # not a payload Telegram carries (only A-Z, a-z, 0-9, _ and -)
        link = create_deep_linked_url(context.bot.username)
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t._("Enroll in a private chat"), url=link)]]
    )
    await message.reply_text(
        t._("Enrolling works in a private chat with me, so your details stay private."),
        reply_markup=keyboard,
    )
