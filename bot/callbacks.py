"""The callback data of the buttons that more than one module writes or reads, and the answer
to a button that is no longer ours.

Telegram gives a pressed button's data back as it was sent (at most 64 bytes, and anyone can
forge it). Each family starts with its own prefix, and its handler is registered with that
prefix as its pattern:

- ``e<draft>.<version>.<action>``: a step of the enrollment (:class:`CallbackData`); written by
  the conversation and by the draft reminder (:mod:`bot.workers.reminders`).
- ``s:o:<key>``, ``s:r:<count>:<page>``, ``s:f:<page>:<text>``: the staff look-ups
  (:mod:`bot.staff`); ``s:o:`` is written by the staff notice of a new enrollment too
  (:mod:`bot.workers.submission`).

A family that one module alone writes and reads keeps its prefix there (``lang:`` and ``pv:``
in the conversation, ``l:`` in :mod:`bot.links`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, cast

from telegram import CallbackQuery, Update, User

from bot.i18n import translator
from bot.services import BotContext
from bot.telegram.limits import CALLBACK_DATA_MAX_BYTES

__all__ = [
    "STAFF_FIND",
    "STAFF_OPEN",
    "STAFF_RECENT",
    "CallbackData",
    "on_stale_button",
    "open_button_data",
]

STAFF_OPEN: Final = "s:o:"
STAFF_RECENT: Final = "s:r:"
STAFF_FIND: Final = "s:f:"


@dataclass(frozen=True)
class CallbackData:
    """The data of one of our inline buttons: which draft, which version, which action."""

    draft_id: int
    version: int
    action: str

    def encode(self) -> str:
        data = f"e{self.draft_id:x}.{self.version:x}.{self.action}"
        if len(data.encode()) > CALLBACK_DATA_MAX_BYTES:
            raise ValueError(f"callback data over Telegram's 64 bytes: {data!r}")
        return data

    @classmethod
    def decode(cls, data: object) -> CallbackData | None:
        """The parsed data, or ``None`` when it is not ours or malformed (forged)."""
        if not isinstance(data, str) or not data.startswith("e"):
            return None
        parts = data[1:].split(".", 2)
        if len(parts) != 3 or not parts[2]:
            return None
        try:
            return cls(int(parts[0], 16), int(parts[1], 16), parts[2])
        except ValueError:
            return None


def open_button_data(key: str) -> str:
    """The callback data of a button that opens the lookup of ``key`` (an id or a nummer)."""
    return STAFF_OPEN + key


async def on_stale_button(update: Update, context: BotContext) -> None:
    """Any other button (from an older version of the bot, or forged): answered, no change."""
    query = cast(CallbackQuery, update.callback_query)
    user = cast(User, update.effective_user)
    t = translator(context.services.language_of(user.id, user.language_code))
    await query.answer(t._("This button is no longer active. Please use the latest message."))
