"""Telegram's limits, in one place shared by the bot's outgoing pacer and the Telegram sandbox.

Telegram's bots FAQ ("My bot is hitting limits, how do I avoid this?") gives three rates for
sending messages; :class:`TelegramLimits` holds them so that a test can scale the pacer and the
sandbox together (``TelegramLimits().scaled(0.05)`` turns the 60 s group window into 3 s)::

    in one chat        about 1 message per second; short bursts are tolerated, then 429
    in one group       at most 20 messages per minute
    overall            about 30 messages per second (broadcasts to many chats)

What counts: every method that puts a new message into a chat (:data:`RATE_LIMITED_METHODS`:
``sendMessage`` and the other ``send*`` methods, ``copyMessage``, ``forwardMessage``).
Edits, deletions, ``answerCallbackQuery`` and ``sendChatAction`` do not count: the FAQ's
numbers are about messages sent, and an edit adds no message and notifies nobody. (Telegram
meters edits with flood limits of its own that it does not publish, so a bot that edits in a
tight loop can still get a 429 there; the sandbox does not model that.)

The other constants are fixed sizes from the Bot API reference; the sandbox enforces them and
the bot can use them to keep its texts and keyboards within bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import timedelta

__all__ = [
    "BOT_COMMANDS_MAX",
    "BOT_COMMAND_DESCRIPTION_MAX",
    "BOT_COMMAND_MAX_LENGTH",
    "CALLBACK_ANSWER_TEXT_MAX",
    "CALLBACK_ANSWER_TIMEOUT",
    "CALLBACK_DATA_MAX_BYTES",
    "CAPTION_MAX",
    "INLINE_QUERY_TIMEOUT",
    "INLINE_RESULTS_MAX",
    "INLINE_RESULT_ID_MAX_BYTES",
    "MESSAGE_DELETE_WINDOW",
    "MESSAGE_TEXT_MAX",
    "RATE_LIMITED_METHODS",
    "TelegramLimits",
]

MESSAGE_TEXT_MAX = 4096
"""Characters (Unicode code points) of a message text after entity parsing."""

CALLBACK_DATA_MAX_BYTES = 64
"""Bytes (UTF-8) of an inline button's ``callback_data``; it must also be at least 1."""

CALLBACK_ANSWER_TEXT_MAX = 200
"""Characters of the notification text of ``answerCallbackQuery``."""

CALLBACK_ANSWER_TIMEOUT = timedelta(seconds=15)
"""How long a callback query can be answered. Telegram does not document it; reports range from
10 to 30 s, so the sandbox takes a value that a bot answering promptly always meets."""

MESSAGE_DELETE_WINDOW = timedelta(hours=48)
"""A message can only be deleted if it was sent less than this long ago."""

# Media and inline mode (course links, issue 14).
CAPTION_MAX = 1024
"""Characters of a photo's or document's caption after entity parsing."""

INLINE_RESULTS_MAX = 50
"""Results of one ``answerInlineQuery``."""

INLINE_RESULT_ID_MAX_BYTES = 64
"""Bytes of an inline result's ``id`` (at least 1, unique within one answer)."""

INLINE_QUERY_TIMEOUT = timedelta(seconds=10)
"""How long an inline query can be answered (the client gives up after about 10 s)."""

BOT_COMMANDS_MAX = 100
BOT_COMMAND_MAX_LENGTH = 32
BOT_COMMAND_DESCRIPTION_MAX = 256

RATE_LIMITED_METHODS = frozenset(
    name.lower()
    for name in (
        "sendMessage",
        "sendPhoto",
        "sendAudio",
        "sendDocument",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendVideoNote",
        "sendPaidMedia",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendChecklist",
        "sendDice",
        "sendSticker",
        "sendInvoice",
        "sendGame",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    )
)
"""Bot API methods (lower case) whose calls count against the message rates."""


@dataclass(frozen=True, slots=True)
class TelegramLimits:
    """The sending rates of Telegram's FAQ; a window or interval of 0 switches that limit off.

    ``per_chat_interval`` and ``per_chat_burst`` form a token bucket per chat: ``burst``
    messages may go out back to back, after which one more is allowed every ``interval``
    seconds. The group and overall limits are sliding windows: at most ``group_messages`` in
    any ``group_window`` seconds per group chat, and ``global_messages`` in any
    ``global_window`` seconds over all chats together.
    """

    per_chat_interval: float = 1.0
    per_chat_burst: int = 3
    group_messages: int = 20
    group_window: float = 60.0
    global_messages: int = 30
    global_window: float = 1.0

    def __post_init__(self) -> None:
        for name in ("per_chat_burst", "group_messages", "global_messages"):
            if getattr(self, name) < 1:
                raise ValueError(f"TelegramLimits.{name} must be at least 1")
        for name in ("per_chat_interval", "group_window", "global_window"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"TelegramLimits.{name} must be a finite number >= 0")

    @classmethod
    def unlimited(cls) -> TelegramLimits:
        """Limits that never refuse anything (for tests and benchmarks that must not pace)."""
        return cls(per_chat_interval=0.0, group_window=0.0, global_window=0.0)

    def scaled(self, factor: float) -> TelegramLimits:
        """The same counts over time spans multiplied by ``factor`` (0.05: a 3 s group window)."""
        if not (factor > 0 and math.isfinite(factor)):
            raise ValueError("the scale factor must be a positive number")
        return replace(
            self,
            per_chat_interval=self.per_chat_interval * factor,
            group_window=self.group_window * factor,
            global_window=self.global_window * factor,
        )

    @property
    def global_per_second(self) -> float:
        """The overall rate in messages per second (infinite when that limit is off)."""
        if self.global_window == 0:
            return math.inf
        return self.global_messages / self.global_window

    @property
    def is_unlimited(self) -> bool:
        """True when no limit is in force."""
        return self.per_chat_interval == 0 and self.group_window == 0 and self.global_window == 0
