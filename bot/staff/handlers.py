"""The staff commands and buttons: what staff typed or pressed, checked, then answered by
:mod:`bot.staff.lookups`; each costs one of the staff member's ``STAFF_COMMANDS_PER_HOUR``."""

from __future__ import annotations

import logging
from typing import Final, cast

from telegram import CallbackQuery, Message, Update, User

from bot.budgets import STAFF_SPENT
from bot.callbacks import StaffButton, on_stale_button
from bot.i18n import Translator, esc, translator
from bot.services import BotContext
from bot.staff.cards import send
from bot.staff.lookups import lookup, recent, search, search_text

__all__ = ["on_button", "on_lookup", "on_recent", "on_search", "pressed_by_staff", "where"]

logger = logging.getLogger(__name__)

RECENT_DEFAULT: Final = 10
RECENT_MAX: Final = 50


async def pressed_by_staff(update: Update, context: BotContext) -> bool:
    """The staff gate for buttons: a press by staff is answered and ``True``; anyone else's
    is answered as an outdated button (nothing else happens) and ``False``."""
    query = cast(CallbackQuery, update.callback_query)
    user = cast(User, update.effective_user)
    if user.id not in context.services.settings.staff_user_ids:
        await on_stale_button(update, context)
        return False
    await query.answer()
    return True


def where(update: Update, context: BotContext) -> tuple[int, Translator]:
    """The chat to answer in, and the staff member's language."""
    user = cast(User, update.effective_user)
    chat_id = cast(int, update.effective_chat and update.effective_chat.id)
    return chat_id, translator(context.services.language_of(user.id, user.language_code))


async def on_lookup(update: Update, context: BotContext) -> None:
    """/lookup <nummer | id | e-mail | reference>."""
    chat_id, t = where(update, context)
    text = " ".join(context.args or [])
    if not text:
        usage = t._(
            "Type /lookup and an enrollment's number, id or e-mail address, "
            "for example /lookup 1001."
        )
        await send(context.bot, chat_id, esc(usage))
        return
    if await _spent(update, context, chat_id, t):
        return
    await lookup(context, chat_id, t, text)


async def _spent(update: Update, context: BotContext, chat_id: int, t: Translator) -> bool:
    """Whether the staff member's command quota is spent (then they are told so)."""
    user = cast(User, update.effective_user)
    if context.services.staff_commands.take(user.id):
        return False
    logger.info("a staff member's command quota is spent")
    await send(context.bot, chat_id, esc(t._(STAFF_SPENT)))
    return True


async def on_recent(update: Update, context: BotContext) -> None:
    """/recent [n]."""
    chat_id, t = where(update, context)
    args = context.args or []
    count = RECENT_DEFAULT
    if args:
        count = int(args[0]) if args[0].isdigit() else 0
        if len(args) > 1 or not 1 <= count <= RECENT_MAX:
            usage = t._(
                "Type /recent for the latest {default} enrollments, or /recent and a number "
                "up to {most}, for example /recent 20."
            ).format(default=RECENT_DEFAULT, most=RECENT_MAX)
            await send(context.bot, chat_id, esc(usage))
            return
    if await _spent(update, context, chat_id, t):
        return
    await recent(context, chat_id, t, count, page=0)


async def on_search(update: Update, context: BotContext) -> None:
    """/search <text>."""
    chat_id, t = where(update, context)
    text = search_text(" ".join(context.args or []))
    if not text:
        usage = t._(
            "Type /search and a name, e-mail address or company, for example /search de Vries."
        )
        await send(context.bot, chat_id, esc(usage))
        return
    if await _spent(update, context, chat_id, t):
        return
    await search(context, chat_id, t, text, page=0)


async def on_button(update: Update, context: BotContext) -> None:
    """A button of a staff answer or notice; for anyone not on staff, an outdated button."""
    query = cast(CallbackQuery, update.callback_query)
    if not await pressed_by_staff(update, context):
        return
    chat_id, t = where(update, context)
    message = query.message if isinstance(query.message, Message) else None
    button = StaffButton.decode(query.data)
    if button is None:
        logger.info("staff button with unknown data ignored")
        return
    if await _spent(update, context, chat_id, t):
        return
    if button.kind == "open":
        await lookup(context, chat_id, t, button.key)
    elif button.kind == "recent":
        count = min(button.count, RECENT_MAX)
        await recent(context, chat_id, t, count, page=button.page, edit=message)
    else:
        await search(context, chat_id, t, button.key, page=button.page, edit=message)
