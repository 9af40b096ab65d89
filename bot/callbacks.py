"""Every callback-data format of the bot's buttons, and the answer to a button that is no longer
ours.

Telegram gives a pressed button's data back as it was sent (at most 64 bytes, and anyone can
forge it). Each family starts with its own prefix, and its handler is registered with that
family's pattern; the data is written by the functions here, never by hand:

- ``e<draft>.<version>.<action>``: a step of the enrollment (:class:`CallbackData`); written by
  the conversation and by the draft reminder (:mod:`bot.workers.reminders`), whose button's
  action is :data:`RESUME`.
- ``s:o:<key>``, ``s:r:<count>:<page>``, ``s:f:<page>:<text>``: the staff look-ups
  (:mod:`bot.staff`, :class:`StaffButton`); ``s:o:`` is written by the staff notice of a new
  enrollment too (:mod:`bot.workers.receipts`).
- ``l:t:<soort id>``, ``l:s:<soort id>``, ``l:r:<run id>``: staff ``/link`` (:mod:`bot.links`):
  the dates of a course type, the link of the course type, the link of a run.
- ``cr:off``, ``cr:on``: the reminders before a course, off or on again
  (:mod:`bot.workers.course_reminders`).
- ``lang:<code>``: /language's choice (``conversations/handlers.py``).
- ``pv:erase``, ``pv:cancel``, ``pv:after``, ``pv:keep``: /forget's question
  (``conversations/privacy.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, cast

from telegram import CallbackQuery, Update, User

from bot.i18n import translator
from bot.services import BotContext
from bot.telegram.limits import CALLBACK_DATA_MAX_BYTES

__all__ = [
    "ENROLLMENT_PATTERN",
    "LANGUAGE_PATTERN",
    "LINK_DATES",
    "LINK_PATTERN",
    "LINK_SHARE_RUN",
    "LINK_SHARE_TYPE",
    "PRIVACY_AFTER",
    "PRIVACY_CANCEL",
    "PRIVACY_ERASE",
    "PRIVACY_KEEP",
    "PRIVACY_PATTERN",
    "REMINDERS_OFF",
    "REMINDERS_ON",
    "REMINDERS_PATTERN",
    "RESUME",
    "RESUME_PATTERN",
    "STAFF_FIND",
    "STAFF_OPEN",
    "STAFF_PATTERN",
    "STAFF_RECENT",
    "CallbackData",
    "StaffButton",
    "language_data",
    "language_of",
    "link_data",
    "on_stale_button",
    "open_button_data",
    "recent_page_data",
    "search_page_data",
    "search_text_room",
]

STAFF_OPEN: Final = "s:o:"
STAFF_RECENT: Final = "s:r:"
STAFF_FIND: Final = "s:f:"
STAFF_PATTERN: Final = r"^s:"
"""The pattern of the staff buttons' handler."""

LINK_DATES: Final = "l:t:"
LINK_SHARE_TYPE: Final = "l:s:"
LINK_SHARE_RUN: Final = "l:r:"
LINK_PATTERN: Final = r"^l:[tsr]:"
"""The pattern of the /link buttons' handler."""

ENROLLMENT_PATTERN: Final = r"^e"
"""The pattern of the enrollment's buttons' handler."""
RESUME: Final = "resume"
"""The action of the draft reminder's button (``e<draft>.<version>.resume``)."""
RESUME_PATTERN: Final = rf"^e[0-9a-f]+\.[0-9a-f]+\.{RESUME}$"
"""The pattern of the draft reminder's button (tried before :data:`ENROLLMENT_PATTERN`)."""

_LANGUAGE: Final = "lang:"
LANGUAGE_PATTERN: Final = rf"^{_LANGUAGE}"
"""The pattern of /language's buttons."""

PRIVACY_ERASE: Final = "pv:erase"
PRIVACY_CANCEL: Final = "pv:cancel"
PRIVACY_AFTER: Final = "pv:after"
PRIVACY_KEEP: Final = "pv:keep"
PRIVACY_PATTERN: Final = r"^pv:"
"""The pattern of /forget's buttons."""

REMINDERS_OFF: Final = "cr:off"
REMINDERS_ON: Final = "cr:on"
REMINDERS_PATTERN: Final = rf"^({REMINDERS_OFF}|{REMINDERS_ON})$"
"""The pattern of the course reminders' on/off button."""


@dataclass(frozen=True)
class CallbackData:
    """The data of one of our inline buttons: which draft, which version, which action."""

    draft_id: int
    version: int
    action: str

    def encode(self) -> str:
        return _checked(f"e{self.draft_id:x}.{self.version:x}.{self.action}")

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


def language_data(code: str) -> str:
    """The data of /language's button for ``code``."""
    return _checked(_LANGUAGE + code)


def language_of(data: str | None) -> str:
    """The language code a /language button carries (unchecked: forged data reads as itself)."""
    return (data or "").removeprefix(_LANGUAGE)


def _checked(data: str) -> str:
    """``data``, when a button can carry it (else ``ValueError``)."""
    if len(data.encode()) > CALLBACK_DATA_MAX_BYTES:
        raise ValueError(f"callback data over Telegram's 64 bytes: {data!r}")
    return data


def open_button_data(key: str) -> str:
    """The callback data of a button that opens the lookup of ``key`` (an id or a nummer)."""
    return _checked(STAFF_OPEN + key)


def recent_page_data(count: int, page: int) -> str:
    """The callback data of a button that shows ``page`` of ``/recent count``."""
    return _checked(f"{STAFF_RECENT}{count}:{page}")


def search_page_data(page: int, text: str) -> str:
    """The callback data of a button that shows ``page`` of ``/search text`` (``text`` cut
    to :func:`search_text_room` first)."""
    return _checked(f"{STAFF_FIND}{page}:{text}")


def search_text_room(last_page: int) -> int:
    """The bytes left for the search text in :func:`search_page_data` up to ``last_page``."""
    return CALLBACK_DATA_MAX_BYTES - len(f"{STAFF_FIND}{last_page}:".encode())


def link_data(kind: Literal["l:t:", "l:s:", "l:r:"], key: str) -> str:
    """The callback data of a /link button: ``kind`` (:data:`LINK_DATES`,
    :data:`LINK_SHARE_TYPE` or :data:`LINK_SHARE_RUN`) for the Coachview id ``key``."""
    return _checked(kind + key)


@dataclass(frozen=True)
class StaffButton:
    """A staff button's data: open a lookup (``key``: an id or a nummer), a page of /recent
    (``count``, ``page``) or of /search (``page``, ``key``: the search text)."""

    kind: Literal["open", "recent", "search"]
    key: str = ""
    count: int = 0
    page: int = 0

    def encode(self) -> str:
        if self.kind == "open":
            return open_button_data(self.key)
        if self.kind == "recent":
            return recent_page_data(self.count, self.page)
        return search_page_data(self.page, self.key)

    @classmethod
    def decode(cls, data: object) -> StaffButton | None:
        """The parsed data, or ``None`` when it is not a staff button's or malformed."""
        if not isinstance(data, str):
            return None
        kind, fields = data[:4], data[4:].split(":", 1)
        if kind == STAFF_OPEN and data[4:]:
            return cls("open", key=data[4:])
        numbers = [field.isascii() and field.isdigit() for field in fields]
        if kind == STAFF_RECENT and len(fields) == 2 and all(numbers):
            return cls("recent", count=int(fields[0]), page=int(fields[1]))
        if kind == STAFF_FIND and len(fields) == 2 and numbers[0] and fields[1]:
            return cls("search", key=fields[1], page=int(fields[0]))
        return None


async def on_stale_button(update: Update, context: BotContext) -> None:
    """Any other button (from an older version of the bot, or forged): answered, no change."""
    query = cast(CallbackQuery, update.callback_query)
    user = cast(User, update.effective_user)
    t = translator(context.services.language_of(user.id, user.language_code))
    await query.answer(t._("This button is no longer active. Please use the latest message."))
