"""The Telegram Bot API sandbox: a faithful local Bot API server and simulated people.

::

    async with TelegramSandbox() as sandbox:
        anna = sandbox.user(first_name="Anna")
        bot = telegram.Bot(sandbox.token, base_url=sandbox.url + "/bot")
        await anna.send("/start")
        reply = await anna.next_message()

Modules: ``server`` (the HTTP server and the Bot API methods), ``users`` (the user side),
``formatting`` (parse modes and entities), ``markup`` (keyboards), ``media`` (photos,
documents and inline mode), ``ratelimit`` (the limits of :mod:`bot.telegram.limits`),
``models`` (what tests read), ``state`` (chats and people).
"""

from bot.telegram.limits import TelegramLimits
from sandbox.telegram.models import (
    ApiCall,
    ApiError,
    BotCommand,
    CallbackAnswer,
    ChatMessage,
    InlineAnswer,
    InlineButton,
    InlineResult,
    KeyboardButton,
    ReplyKeyboard,
    SentFile,
)
from sandbox.telegram.server import TelegramSandbox
from sandbox.telegram.users import SandboxGroup, SandboxUser

__all__ = [
    "ApiCall",
    "ApiError",
    "BotCommand",
    "CallbackAnswer",
    "ChatMessage",
    "InlineAnswer",
    "InlineButton",
    "InlineResult",
    "KeyboardButton",
    "ReplyKeyboard",
    "SandboxGroup",
    "SandboxUser",
    "SentFile",
    "TelegramLimits",
    "TelegramSandbox",
]
