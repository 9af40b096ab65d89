"""The person's privacy commands: /privacy (what is kept, why, how long, who sees it, whom to
ask), /mydata (everything the bot holds about them: a summary and the JSON as stored, written
by ``conversations/mydata.py``) and /forget (erase it all, after a confirmation button).

/mydata and /forget work only in the person's private chat; in a group they answer with a link
to it and show nothing. The erasure itself is ``bot/store/privacy.py``; staff hear of it without
any personal data (``bot/workers/retention.py``).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Final, cast

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters
from telegram.helpers import create_deep_linked_url

from bot.callbacks import (
    PRIVACY_AFTER,
    PRIVACY_CANCEL,
    PRIVACY_ERASE,
    PRIVACY_KEEP,
    PRIVACY_PATTERN,
)
from bot.config import Settings
from bot.i18n import Translator, esc, translator
from bot.services import BotContext, Services
from bot.store import privacy
from bot.workers.retention import queue_erasure_notice
from conversations.mydata import mydata_document, mydata_summary
from conversations.view import Reply, say

__all__ = ["DOCUMENT_NAME", "mydata_document", "mydata_summary", "privacy_text", "register"]

logger = logging.getLogger(__name__)

#: The name of the file /mydata sends.
DOCUMENT_NAME: Final = "my-data.json"


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add the privacy commands (before the enrollment's answer to unknown commands)."""
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("privacy", on_privacy))
    application.add_handler(CommandHandler("mydata", on_mydata, filters=private))
    application.add_handler(CommandHandler("forget", on_forget, filters=private))
    application.add_handler(CommandHandler(["mydata", "forget"], on_in_group, filters=~private))
    application.add_handler(CallbackQueryHandler(on_forget_button, pattern=PRIVACY_PATTERN))


def _who(update: Update, context: BotContext) -> tuple[int, int, Translator]:
    user = cast(User, update.effective_user)
    chat_id = cast(int, update.effective_chat and update.effective_chat.id)
    language = context.services.language_of(user.id, user.language_code)
    return chat_id, user.id, translator(language)


def _contact(t: Translator, settings: Settings) -> str:
    """Whom to ask: ``PRIVACY_CONTACT`` when set, else the provider."""
    if settings.privacy_contact:
        return esc(settings.privacy_contact)
    return esc(t._("the training provider"))


# -- /privacy -------------------------------------------------------------------------------------


def privacy_text(t: Translator, settings: Settings) -> str:
    """What the bot keeps, why, for how long, who sees it, and whom to ask (HTML)."""
    lines = [
        "🔒 <b>" + esc(t._("Your data and your privacy")) + "</b>",
        esc(t._("I keep your details only to enroll you in the training provider's courses.")),
        "",
        "<b>" + esc(t._("What I keep, why, and for how long")) + "</b>",
        "• "
        + esc(
            t._(
                "The enrollment you are filling in (your answers), so you can go on where you "
                "left off. An unfinished enrollment is deleted {period} after your last answer."
            )
        ).format(period=esc(t.duration(settings.draft_retention))),
        "• "
        + esc(
            t._(
                "A confirmed enrollment, until the training provider's administration has it. "
                "The names, e-mail addresses and phone numbers in it are removed {period} after "
                "that; its number, course and dates stay."
            )
        ).format(period=esc(t.duration(settings.sent_retention))),
        "• "
        + esc(
            t._(
                "The language you chose with /language, so I speak it with you, until you "
                "/forget it."
            )
        ),
        "• " + esc(t._("Your messages, only until I have answered them.")),
        "",
        "<b>" + esc(t._("Who sees it")) + "</b>",
        esc(
            t._(
                "The training provider's staff, and Coachview, the provider's administration, "
                "where your enrollment is registered. Nobody else: I show your details in no "
                "other chat or group."
            )
        ),
        "",
        "<b>" + esc(t._("Your rights")) + "</b>",
        esc(t._("/mydata shows everything I keep about you; /forget erases it.")),
    ]
    if settings.privacy_contact:
        lines.append(
            esc(
                t._(
                    "What reached the provider's administration is kept by the training "
                    "provider. Questions, or to see or erase that: {contact}"
                )
            ).format(contact=esc(settings.privacy_contact))
        )
    else:
        lines.append(
            esc(
                t._(
                    "What reached the provider's administration is kept by the training "
                    "provider; ask them to see or erase that."
                )
            )
        )
    return "\n".join(lines)


async def on_privacy(update: Update, context: BotContext) -> None:
    """/privacy, in a private chat or a group (it says nothing about anyone)."""
    chat_id, _, t = _who(update, context)
    text = privacy_text(t, context.services.settings)
    await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)


async def on_in_group(update: Update, context: BotContext) -> None:
    """/mydata or /forget in a group: only in the private chat, so nothing shows here."""
    message = cast(Message, update.effective_message)
    _, _, t = _who(update, context)
    link = create_deep_linked_url(context.bot.username)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(t._("Open a private chat"), url=link)]])
    await message.reply_text(
        t._("Your data is shown and erased only in a private chat with me."),
        reply_markup=keyboard,
    )


# -- /mydata --------------------------------------------------------------------------------------


async def on_mydata(update: Update, context: BotContext) -> None:
    """/mydata: a readable summary, then the JSON document as a file."""
    chat_id, user_id, t = _who(update, context)
    services = context.services
    with services.session() as session:
        found = privacy.holdings(session, user_id=user_id)
    bot = context.bot
    await bot.send_message(chat_id, mydata_summary(t, found), parse_mode=ParseMode.HTML)
    document = json.dumps(mydata_document(found), ensure_ascii=False, indent=2)
    await bot.send_document(
        chat_id,
        document.encode(),
        filename=DOCUMENT_NAME,
        caption=t._("Everything I keep about you, as it is stored."),
    )


# -- /forget --------------------------------------------------------------------------------------


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data)


def _question(t: Translator, settings: Settings, pending: int) -> tuple[str, InlineKeyboardMarkup]:
    lines = [
        "🗑 <b>" + esc(t._("Erase your data?")) + "</b>",
        "",
        esc(
            t._(
                "I will erase everything I keep about you: the enrollment you are filling in, "
                "your language choice, messages still to be sent to you, and the names and "
                "contact details of the enrollments you sent."
            )
        ),
        esc(
            t._(
                "What already reached the training provider's administration (Coachview) is "
                "kept by the provider; ask {contact} about it."
            )
        ).format(contact=_contact(t, settings)),
    ]
    if not pending:
        keyboard = [
            [_button(t._("🗑 Yes, erase everything"), PRIVACY_ERASE)],
            [_button(t._("No, keep it"), PRIVACY_KEEP)],
        ]
        return "\n".join(lines), InlineKeyboardMarkup(keyboard)
    lines.extend(
        [
            "",
            esc(
                t.ngettext(
                    "One of your enrollments has not reached the training provider yet. Shall I "
                    "cancel it, or send it first and erase everything once it has arrived?",
                    "{count} of your enrollments have not reached the training provider yet. "
                    "Shall I cancel them, or send them first and erase everything once they have "
                    "arrived?",
                    pending,
                )
            ).format(count=pending),
        ]
    )
    keyboard = [
        [_button(t._("❌ Cancel it and erase everything"), PRIVACY_CANCEL)],
        [_button(t._("📨 Send it first, then erase"), PRIVACY_AFTER)],
        [_button(t._("No, keep everything"), PRIVACY_KEEP)],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(keyboard)


def _pending(services: Services, user_id: int) -> int:
    with services.session() as session:
        return len(privacy.holdings(session, user_id=user_id).pending)


async def on_forget(update: Update, context: BotContext) -> None:
    """/forget: ask first (and what to do with an enrollment still on its way)."""
    chat_id, user_id, t = _who(update, context)
    services = context.services
    text, keyboard = _question(t, services.settings, _pending(services, user_id))
    await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard)


def erased_text(
    t: Translator, settings: Settings, erasure: privacy.Erasure, *, cancel: bool
) -> str:
    """What the person reads after the erasure (HTML)."""
    lines = ["✅ " + esc(t._("Done: I have erased everything I kept about you."))]
    contact = _contact(t, settings)
    if erasure.numbers:
        numbers = ", ".join(f"<b>{esc(number)}</b>" for number in erasure.numbers)
        lines.append(
            esc(
                t.ngettext(
                    "Your enrollment {numbers} reached the training provider, who keeps it in "
                    "their administration. To have it changed or erased, ask {contact}.",
                    "Your enrollments {numbers} reached the training provider, who keeps them "
                    "in their administration. To have them changed or erased, ask {contact}.",
                    len(erasure.numbers),
                )
            ).format(numbers=numbers, contact=contact)
        )
    if erasure.cancelled:
        lines.append(
            esc(
                t.ngettext(
                    "Your enrollment that had not been sent yet is canceled.",
                    "Your {count} enrollments that had not been sent yet are canceled.",
                    erasure.cancelled,
                )
            ).format(count=erasure.cancelled)
        )
    if erasure.waiting:
        if cancel:
            lines.append(
                esc(
                    t.ngettext(
                        "One enrollment was being sent already, so I could not cancel it.",
                        "{count} enrollments were being sent already, so I could not cancel them.",
                        erasure.waiting,
                    )
                ).format(count=erasure.waiting)
            )
        lines.append(
            esc(
                t.ngettext(
                    "Your enrollment is on its way to the training provider: you will get its "
                    "confirmation here, and then I erase it too, without another message.",
                    "Your enrollments are on their way to the training provider: you will get "
                    "their confirmations here, and then I erase them too, without another "
                    "message.",
                    erasure.waiting,
                )
            )
        )
    lines.append(
        esc(
            t._(
                "The messages in this chat stay in your Telegram app; you can delete them there. "
                "Type /start to enroll again."
            )
        )
    )
    return "\n\n".join(lines)


async def on_forget_button(update: Update, context: BotContext) -> None:
    """A button of /forget's question."""
    query = cast(CallbackQuery, update.callback_query)
    chat_id, user_id, t = _who(update, context)
    message = query.message if isinstance(query.message, Message) else None
    reply = Reply(context.bot, chat_id, t, message)
    services = context.services
    action = query.data or ""
    if action not in (PRIVACY_ERASE, PRIVACY_CANCEL, PRIVACY_AFTER) or chat_id != user_id:
        await query.answer()
        await say(reply, esc(t._("Okay, nothing is erased.")))
        return
    pending = _pending(services, user_id)
    if action == PRIVACY_ERASE and pending:
        # Something was confirmed since the question: ask again, with that choice.
        await query.answer()
        text, keyboard = _question(t, services.settings, pending)
        await say(reply, text, keyboard)
        return
    now = services.clock.now()
    with services.session() as session:
        erasure = privacy.erase_person(
            session,
            user_id=user_id,
            now=now,
            cancel=action == PRIVACY_CANCEL,
            staff_chat_id=services.settings.staff_chat_id,
        )
        queue_erasure_notice(session, services, erasure, now)
        session.commit()
    services.forget_language(user_id)
    context.application.drop_user_data(user_id)
    context.application.drop_chat_data(chat_id)
    services.wake_notifications()
    logger.info(
        "user %s had their data erased (%s in Coachview, %s cancelled, %s on their way)",
        user_id,
        len(erasure.numbers),
        erasure.cancelled,
        erasure.waiting,
    )
    await query.answer()
    text = erased_text(t, services.settings, erasure, cancel=action == PRIVACY_CANCEL)
    await say(reply, text)
