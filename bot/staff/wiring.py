"""The staff gate, the staff handlers' registration and the staff members' menus."""

from __future__ import annotations

import logging
from typing import Any, Final

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeChatMember, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, TypeHandler, filters

from bot.callbacks import STAFF_PATTERN
from bot.config import Settings
from bot.i18n import LANGUAGES, N_, translator
from bot.menu import COMMANDS as EVERYONES_COMMANDS
from bot.services import BotContext, Services
from bot.staff.handlers import on_button, on_lookup, on_recent, on_search

__all__ = ["COMMANDS", "register", "set_commands", "staff_only"]

logger = logging.getLogger(__name__)

#: The staff commands, with their (translatable) descriptions for the menu.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("lookup", N_("Look up an enrollment by number, id or e-mail")),
    ("recent", N_("The latest enrollments")),
    ("search", N_("Find enrollments by name, e-mail or company")),
    ("link", N_("Share a course: its link and QR code")),  # bot/links.py
)

_MENU_SET: Final = "staff_menu_set"


def staff_only(settings: Settings) -> filters.User:
    """The staff gate: a handler filter that passes only the users of ``STAFF_USER_IDS``."""
    return filters.User(user_id=settings.staff_user_ids)


def register(application: Application[Any, Any, Any, Any, Any, Any], settings: Settings) -> None:
    """Add the staff handlers; before the enrollment's, which answer unknown commands."""
    if not settings.staff_user_ids:
        return
    staff = staff_only(settings)
    application.add_handler(TypeHandler(Update, _menu_on_first_update), group=-1)
    application.add_handler(CommandHandler("lookup", on_lookup, filters=staff))
    application.add_handler(CommandHandler("recent", on_recent, filters=staff))
    application.add_handler(CommandHandler("search", on_search, filters=staff))
    application.add_handler(CallbackQueryHandler(on_button, pattern=STAFF_PATTERN))


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Give every staff member the staff commands in their menu (as far as Telegram lets us)."""
    services: Services | None = application.bot_data.services
    if services is None:
        return
    for user_id in sorted(services.settings.staff_user_ids):
        await _set_menu(application.bot, services.settings, user_id)


async def _set_menu(bot: Bot, settings: Settings, user_id: int) -> bool:
    """The menu of one staff member: all commands in their private chat with the bot, and the
    staff commands in the staff group. ``False`` when Telegram refused (they never wrote to the
    bot, or are not in the group)."""
    try:
        for language in LANGUAGES:
            t = translator(language)
            code = None if language == settings.default_language else language
            staff = [BotCommand(name, t._(text)) for name, text in COMMANDS]
            everyone = [BotCommand(name, t._(text)) for name, text in EVERYONES_COMMANDS]
            await bot.set_my_commands(
                everyone + staff, scope=BotCommandScopeChat(user_id), language_code=code
            )
            chat = settings.staff_chat_id
            if chat is not None and chat < 0:
                await bot.set_my_commands(
                    staff, scope=BotCommandScopeChatMember(chat, user_id), language_code=code
                )
    except TelegramError as error:
        logger.warning("could not set the staff menu of staff member %s yet: %s", user_id, error)
        return False
    return True


async def _menu_on_first_update(update: Update, context: BotContext) -> None:
    """A staff member's first update since the start: make sure their menu is there."""
    user = update.effective_user
    settings = context.services.settings
    if user is None or user.id not in settings.staff_user_ids or context.user_data is None:
        return
    if not context.user_data.get(_MENU_SET):
        context.user_data[_MENU_SET] = await _set_menu(context.bot, settings, user.id)
