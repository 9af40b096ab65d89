"""Telegram meets the enrollment flow: PTB handlers that turn updates into engine inputs, the
commands available in every question (/start, /cancel, /help, /language), and the actions that
end a draft (submit, cancel, start over).
"""

from __future__ import annotations

import logging
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

from bot import courses
from bot.budgets import LOOKUPS_SPENT
from bot.callbacks import CallbackData, on_stale_button
from bot.catalogue import LINKED
from bot.coachview.keys import guid, is_course_code
from bot.coachview.webaanvraag import build_webaanvraag
from bot.enrollment import Enrollment
from bot.errors import CatalogueUnavailable, CoachviewNotFound, CoachviewRejected, DraftConflict
from bot.i18n import LANGUAGES, Language, Translator, translator
from bot.menu import COMMANDS
from bot.services import BotContext, Services
from bot.store import drafts, outbox
from bot.store.models import DraftStatus
from bot.workers.reminders import RESUME
from bot.workers.submission import new_reference
from conversations import enrollment as flow
from conversations.engine import (
    AGAIN,
    Chat,
    Engine,
    Input,
    State,
    Turn,
    esc,
    retire_buttons,
)

__all__ = ["build_engine", "register", "set_commands"]

logger = logging.getLogger(__name__)

LANGUAGE_NAMES: dict[str, str] = {"nl": "Nederlands", "en": "English"}


# -- Wiring -------------------------------------------------------------------------------------


def build_engine(services: Services) -> Engine:
    """The enrollment engine with its actions."""
    return Engine(
        flow.build_flow(
            {flow.SUBMIT: submit, flow.CANCEL: cancel, flow.RESTART: restart},
            services.questions,
        ),
        services=services,
    )


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add the enrollment handlers, in the order they are tried."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("start", on_start, filters=private))
    application.add_handler(CommandHandler("cancel", on_cancel, filters=private))
    application.add_handler(CommandHandler("help", on_help, filters=private))
    application.add_handler(CommandHandler("language", on_language, filters=private))
    application.add_handler(CommandHandler(["start", "help"], on_group_start, filters=~private))
    application.add_handler(CallbackQueryHandler(on_language_chosen, pattern=r"^lang:"))
    application.add_handler(
        CallbackQueryHandler(on_resume, pattern=rf"^e[0-9a-f]+\.[0-9a-f]+\.{RESUME}$")
    )
    application.add_handler(CallbackQueryHandler(on_button, pattern=r"^e"))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & private, on_edited))
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & private & filters.COMMAND, on_unknown_command)
    )
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & private & ~filters.COMMAND, on_message)
    )
    application.add_handler(CallbackQueryHandler(on_stale_button))


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The command menu, in Dutch and English (Telegram picks by the person's app language)."""
    bot = application.bot
    for language in LANGUAGES:
        t = translator(language)
        commands = [BotCommand(name, t._(description)) for name, description in COMMANDS]
        code = None if language == "nl" else language
        await bot.set_my_commands(
            commands, scope=BotCommandScopeAllPrivateChats(), language_code=code
        )
    await bot.set_my_commands(
        [BotCommand("start", translator("nl")._("Enroll in a course"))],
        scope=BotCommandScopeAllGroupChats(),
    )


# -- Who is talking ------------------------------------------------------------------------------


def _engine(context: BotContext) -> Engine:
    return cast(Engine, context.bot_data.engine)


def _language_of(services: Services, user: User) -> Language:
    return services.language_of(user.id, user.language_code)


def _chat(update: Update, context: BotContext) -> tuple[Chat, State | None]:
    """The chat an update came from, in the person's language, and its open draft."""
    services = context.services
    user = cast(User, update.effective_user)
    chat_id = cast(int, update.effective_chat and update.effective_chat.id)
    language = services.language_of(user.id, user.language_code)
    with services.session() as session:
        draft = drafts.get_open_draft(session, chat_id=chat_id)
        state = State.of(draft) if draft is not None else None
    chat = Chat(chat_id, user.id, update.update_id, translator(language), context.bot)
    return chat, state


def _input(message: Message) -> Input:
    if message.text is not None:
        return Input("text", text=message.text)
    if message.contact is not None:
        user = message.from_user
        own = user is not None and message.contact.user_id == user.id
        return Input("contact", phone=message.contact.phone_number, own_contact=own)
    return Input("other")


# -- Starting ------------------------------------------------------------------------------------


async def on_start(update: Update, context: BotContext) -> None:
    """/start, or /start <course>: begin, or ask whether to continue the open draft."""
    engine = _engine(context)
    chat, state = _chat(update, context)
    payload = " ".join(context.args or []).strip()
    if state is None:
        await start_enrollment(engine, chat, payload)
        return
    if _redelivered(chat, state):
        await engine.redisplay(chat, state)
        return
    turn = engine.turn(chat, state)
    turn.flow["restart_with"] = payload
    if state.step == flow.CONFIRMING_RESTART:
        await engine.move(chat, turn, None)
    else:
        await engine.move(chat, turn, flow.CONFIRMING_RESTART)


def _redelivered(chat: Chat, state: State) -> bool:
    """The update was applied already, and is handled again: the process that applied it
    stopped before striking it from the inbox (maybe before replying). Ask again."""
    return state.last_update_id is not None and chat.update_id <= state.last_update_id


async def start_enrollment(
    engine: Engine, chat: Chat, payload: str, *, edit: Message | None = None
) -> None:
    """Open a new draft: at the named course when ``payload`` names one, else the catalogue."""
    t = chat.t
    welcome = t._("Hello! I will help you enroll in a course. It takes about two minutes.")
    welcome += "\n" + t._("🔒 How I handle your details: /privacy")
    notes = [welcome]
    if payload:
        try:
            start = await _deep_link(engine, t, payload, chat.user_id)
        except CatalogueUnavailable as failure:
            # Not an unknown course: say so, and Try again follows the link again (RESTART).
            await engine.begin(
                chat,
                step=flow.FIRST_STEP,
                flow={"restart_with": payload, AGAIN: flow.RESTART},
                notes=notes,
                edit=edit,
                failure=CatalogueUnavailable(LINKED, cause=failure.cause),
            )
            return
        if start is not None:
            step, enrollment, flow_state, note = start
            await engine.begin(
                chat,
                step=step,
                enrollment=enrollment,
                flow=flow_state,
                notes=[*notes, *([note] if note else [])],
                edit=edit,
            )
            return
        notes.append(t._("I do not know the course in that link; please choose one below."))
    await engine.begin(chat, step=flow.FIRST_STEP, notes=notes, edit=edit)


async def _deep_link(
    engine: Engine, t: Translator, payload: str, user_id: int
) -> tuple[str, Enrollment | None, dict[str, Any], str] | None:
    """Where a deep link starts: a run (``opleiding`` id) or a course type (id or code).

    A run or course type that exists but is not open says so and offers what is: the other
    dates of its course type when that is open, else the course list. ``None``: unknown.
    Raises :class:`CatalogueUnavailable` when the catalogue cannot be read (a failure is not
    an unknown course).
    """
    run_id = guid(payload)
    if run_id is None and not is_course_code(payload):
        return None  # neither an id nor a code: unknown, and nothing is asked of Coachview
    key = run_id or payload
    catalogue = engine.services.catalogue
    now = engine.services.clock.now()
    types = await courses.course_types(catalogue)
    kind = courses.find_type(types, key)
    if kind is not None:
        return flow.CHOOSING_RUN, None, {"soort": kind.id}, ""
    # Beyond the cached course types each look-up counts against the person's budget.
    budget = engine.services.lookups
    spent: tuple[str, Enrollment | None, dict[str, Any], str] = (
        flow.FIRST_STEP,
        None,
        {},
        t._(LOOKUPS_SPENT),
    )
    run = None
    if run_id is not None:
        if not budget.take(user_id):
            return spent
        try:
            run = await catalogue.get_opleiding(run_id)
        except (CoachviewNotFound, CoachviewRejected):  # Coachview does not know it
            run = None
    if run is None:
        if not budget.take(user_id):
            return spent
        closed = await catalogue.find_opleidingssoort(key)
        if closed is None:
            return None
        return flow.FIRST_STEP, None, {}, _not_open(t, closed.naam)
    kind = courses.find_type(types, run.opleidingssoort_id)
    if kind is None:
        return flow.FIRST_STEP, None, {}, _not_open(t, run.naam)
    if not run.open_for_enrollment(now):
        note = t._("That date can no longer be booked. Please choose another one.")
        return flow.CHOOSING_RUN, None, {"soort": kind.id}, note
    enrollment = Enrollment(course=courses.choice_for_run(kind, run))
    return flow.TYPING_FIRST_NAME, enrollment, {}, ""


def _not_open(t: Translator, name: str) -> str:
    """The note above the course list when a link names a course that takes no enrollments."""
    return t._("{course} is not open for enrollment. Please choose another course.").format(
        course=f"<b>{esc(name)}</b>"
    )


# -- Messages and buttons -------------------------------------------------------------------------


async def on_message(update: Update, context: BotContext) -> None:
    """A message in a private chat: the answer to the current question."""
    message = cast(Message, update.effective_message)
    engine = _engine(context)
    chat, state = _chat(update, context)
    if state is None:
        await start_enrollment(engine, chat, "")
        return
    await engine.handle(chat, state, _input(message))


async def on_button(update: Update, context: BotContext) -> None:
    """A pressed button of a question; outdated or forged buttons change nothing."""
    query = cast(CallbackQuery, update.callback_query)
    engine = _engine(context)
    chat, state = _chat(update, context)
    data = CallbackData.decode(query.data)
    if state is not None and _redelivered(chat, state):
        await engine.redisplay(chat, state)
        await query.answer()
        return
    if data is None or state is None or data.draft_id != state.id or data.version != state.version:
        await query.answer(_stale_reason(context.services, chat.t, data, state))
        return
    message = query.message if isinstance(query.message, Message) else None
    label = ""
    if message is not None and message.reply_markup is not None:
        for row in message.reply_markup.inline_keyboard:
            label = next((b.text for b in row if b.callback_data == query.data), label)
        question = (message.text or "").strip().splitlines()
        label = f"{question[-1]} ✓ {label}" if question and label else label
    try:
        reason = await engine.handle(
            chat, state, Input("button", action=data.action, label=label), edit=message
        )
    except DraftConflict:
        await query.answer(chat.t._("This button is no longer active."))
        return
    await query.answer(reason, show_alert=reason is not None)


async def on_resume(update: Update, context: BotContext) -> None:
    """The button of the idle reminder: ask the question the person stopped at again."""
    query = cast(CallbackQuery, update.callback_query)
    chat, state = _chat(update, context)
    data = CallbackData.decode(query.data)
    if data is None or state is None or data.draft_id != state.id:
        await query.answer(_stale_reason(context.services, chat.t, data, state))
        return
    await query.answer()
    if isinstance(query.message, Message):
        await retire_buttons(query.message)
    await _engine(context).redisplay(chat, state)


def _stale_reason(
    services: Services, t: Translator, data: CallbackData | None, state: State | None
) -> str:
    if data is not None and (state is None or state.id != data.draft_id):
        with services.session() as session:
            old = drafts.get_draft(session, draft_id=data.draft_id)
        if old is not None and old.status == DraftStatus.SUBMITTED:
            return t._("This enrollment has been sent already.")
    return t._("This button is no longer active. Please use the latest message.")


async def on_edited(update: Update, context: BotContext) -> None:
    """An edited answer is not picked up: say so, so nobody thinks it was."""
    message = cast(Message, update.effective_message)
    chat, _ = _chat(update, context)
    await message.reply_text(
        chat.t._(
            "I do not pick up edited messages. Just go on: you can change every answer "
            "at the end, before you send the enrollment."
        )
    )


# -- Commands --------------------------------------------------------------------------------


async def on_help(update: Update, context: BotContext) -> None:
    """/help: what the bot does, then the current question again."""
    engine = _engine(context)
    chat, state = _chat(update, context)
    t = chat.t
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
    await chat.bot.send_message(chat.chat_id, esc(text), parse_mode=ParseMode.HTML)
    if state is not None:
        await engine.redisplay(chat, state)


async def on_cancel(update: Update, context: BotContext) -> None:
    """/cancel: ask before deleting the draft."""
    engine = _engine(context)
    chat, state = _chat(update, context)
    if state is None:
        await chat.bot.send_message(
            chat.chat_id, chat.t._("There is no enrollment in progress. Type /start to begin.")
        )
        return
    if state.step == flow.CONFIRMING_CANCEL:
        await engine.redisplay(chat, state)
        return
    await engine.move(chat, engine.turn(chat, state), flow.CONFIRMING_CANCEL)


async def on_language(update: Update, context: BotContext) -> None:
    """/language: choose Dutch or English."""
    chat, _ = _chat(update, context)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(name, callback_data=f"lang:{code}")
                for code, name in LANGUAGE_NAMES.items()
            ]
        ]
    )
    await chat.bot.send_message(
        chat.chat_id, chat.t._("Which language do you prefer?"), reply_markup=keyboard
    )


async def on_language_chosen(update: Update, context: BotContext) -> None:
    """A language button: remember it, confirm in that language, ask the question again."""
    query = cast(CallbackQuery, update.callback_query)
    code = (query.data or "").removeprefix("lang:")
    if code not in LANGUAGES:
        await on_stale_button(update, context)
        return
    services = context.services
    user = cast(User, update.effective_user)
    services.remember_language(user.id, code)
    chat, state = _chat(update, context)
    await query.answer()
    # Translators: said in the language just chosen, on purpose: the
    # Dutch text names Dutch ("Nederlands"), the English one English.
    confirmation = chat.t._("Okay, I will speak English with you.")
    if isinstance(query.message, Message):
        await query.message.edit_text(confirmation)
    else:
        await chat.bot.send_message(chat.chat_id, confirmation)
    if state is not None:
        await _engine(context).redisplay(chat, state)


async def on_unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not know (for this person)."""
    engine = _engine(context)
    chat, state = _chat(update, context)
    text = chat.t._("I do not know that command. /help lists what I can do.")
    if state is None:
        await chat.bot.send_message(chat.chat_id, text)
        return
    await engine.redisplay(chat, state, notes=[esc(text)])


async def on_group_start(update: Update, context: BotContext) -> None:
    """In a group, enrolling happens in a private chat: answer with a link to one."""
    message = cast(Message, update.effective_message)
    user = cast(User, update.effective_user)
    t = translator(_language_of(context.services, user))
    payload = "_".join(context.args or [])[:64]
    link = (
        f"https://t.me/{context.bot.username}?start={payload}"
        if payload
        else (f"https://t.me/{context.bot.username}")
    )
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t._("Enroll in a private chat"), url=link)]]
    )
    await message.reply_text(
        t._("Enrolling works in a private chat with me, so your details stay private."),
        reply_markup=keyboard,
    )


# -- Actions that end a draft -------------------------------------------------------------------


async def submit(engine: Engine, chat: Chat, turn: Turn, edit: Message | None) -> None:
    """Close the draft and queue its webaanvraag in one transaction; the worker sends it."""
    services = engine.services
    state = turn.state
    enrollment = turn.enrollment
    reference = new_reference()
    extras = services.questions.extras(enrollment, terms_path=services.settings.terms_coachview)
    payload = build_webaanvraag(
        enrollment,
        reference=reference,
        reference_field=services.settings.coachview_reference_field,
        aanvraag_is_order=services.settings.coachview_aanvraag_is_order,
        extras=extras,
    )
    course = enrollment.course
    summary = {
        "course": course.opleidingssoort_naam if course else "",
        "course_start": course.start.isoformat() if course and course.start else None,
        "contact": enrollment.contact.full_name,
        "company": enrollment.contact.company,
        "participants": enrollment.participant_count,
        "terms_accepted_at": enrollment.terms_accepted_at.isoformat()
        if enrollment.terms_accepted_at
        else None,
    }
    with services.session() as session:
        drafts.close_draft(
            session,
            draft_id=state.id,
            expected_version=state.version,
            status=DraftStatus.SUBMITTED,
            now=turn.now,
        )
        outbox.enqueue(
            session,
            draft_id=state.id,
            reference=reference,
            chat_id=chat.chat_id,
            user_id=chat.user_id,
            language=chat.t.language,
            payload=payload,
            summary=summary,
            now=turn.now,
        )
        session.commit()
    services.wake_submissions()
    t = chat.t
    text = (
        flow.review_text(t, enrollment, services.questions)
        + "\n\n"
        + esc(t._("📨 Thank you! Your enrollment is being sent; the confirmation follows here."))
    )
    if edit is not None:
        await edit.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=None)
    else:
        await chat.bot.send_message(chat.chat_id, text, parse_mode=ParseMode.HTML)


async def cancel(engine: Engine, chat: Chat, turn: Turn, edit: Message | None) -> None:
    """Delete the draft, after the person confirmed."""
    services = engine.services
    with services.session() as session:
        drafts.delete_draft(session, draft_id=turn.state.id, expected_version=turn.state.version)
        session.commit()
    text = chat.t._(
        "Your enrollment is canceled and your answers are deleted. Type /start to begin again."
    )
    if edit is not None:
        await edit.edit_text(text, reply_markup=None)
    else:
        await chat.bot.send_message(chat.chat_id, text)


async def restart(engine: Engine, chat: Chat, turn: Turn, edit: Message | None) -> None:
    """Start over: a new draft (at the course of the link that started this, if any)."""
    await start_enrollment(engine, chat, str(turn.flow.get("restart_with") or ""), edit=edit)
