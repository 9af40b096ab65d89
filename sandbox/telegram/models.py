"""What the Telegram sandbox records and shows to tests: calls, messages, buttons, answers.

Messages are immutable snapshots (:class:`ChatMessage`): an edit or a deletion replaces the
stored snapshot, so a message a test holds keeps showing what it showed when the test got it,
and ``user.messages`` / ``user.last_message`` always show the current state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
    "SentFile",
    "WebhookPost",
]


class ApiError(Exception):
    """A Bot API error answer: HTTP status ``error_code`` with Telegram's ``description``."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        """The error envelope Telegram sends."""
        data: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            data["parameters"] = {"retry_after": self.retry_after}
        return data


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Bot API call the bot made: its decoded parameters and how the sandbox answered."""

    method: str
    params: dict[str, Any]
    ok: bool
    error_code: int | None
    description: str | None
    when: datetime
    retry_after: int | None = None


@dataclass(frozen=True, slots=True)
class WebhookPost:
    """One delivery of an update to the bot's webhook and how the bot answered it.

    ``status`` is the HTTP status (``None`` when no answer came: refused, broken or timed out,
    then ``error`` says which); a status other than 2xx means Telegram sends the update again.
    """

    update_id: int
    status: int | None
    error: str | None
    when: datetime

    @property
    def ok(self) -> bool:
        """True when the bot took the update (2xx): it is not sent again."""
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class InlineButton:
    """A button of an inline keyboard; ``raw`` is the button object as the bot sent it."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class KeyboardButton:
    """A button of a reply keyboard (the custom keyboard under the text field)."""

    text: str
    request_contact: bool = False
    request_location: bool = False


@dataclass(frozen=True, slots=True)
class ReplyKeyboard:
    """A reply keyboard as the bot sent it."""

    rows: tuple[tuple[KeyboardButton, ...], ...]
    resize_keyboard: bool = False
    one_time_keyboard: bool = False
    is_persistent: bool = False
    selective: bool = False
    input_field_placeholder: str | None = None

    @property
    def buttons(self) -> list[KeyboardButton]:
        """All buttons, row by row."""
        return [button for row in self.rows for button in row]


@dataclass(frozen=True, slots=True)
class BotCommand:
    """A command of the bot's menu."""

    command: str
    description: str


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """What the bot answered (answerCallbackQuery) to one pressed button."""

    query_id: str
    data: str
    message_id: int
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int
    when: datetime


@dataclass(frozen=True, slots=True)
class SentFile:
    """A file the bot uploaded (``sendPhoto``, ``sendDocument``): its name, type and bytes."""

    file_id: str
    name: str
    mime_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class InlineResult:
    """One result of an inline answer, as the person's client lists it."""

    id: str
    type: str
    title: str | None
    description: str | None
    message_text: str | None
    raw: dict[str, Any] = field(repr=False)
    inline_keyboard: tuple[tuple[InlineButton, ...], ...] = ()

    @property
    def buttons(self) -> list[InlineButton]:
        """The inline buttons of the message the result posts, row by row."""
        return [button for row in self.inline_keyboard for button in row]


@dataclass(frozen=True, slots=True)
class InlineAnswer:
    """The bot's answer to an inline query (``answerInlineQuery``); ``cached``: Telegram's
    cache gave it without asking the bot."""

    query_id: str
    query: str
    results: tuple[InlineResult, ...]
    cache_time: int
    is_personal: bool
    next_offset: str
    when: datetime
    cached: bool = False

    @property
    def titles(self) -> list[str]:
        return [result.title or "" for result in self.results]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A message in a sandbox chat, sent by the bot or by a simulated person.

    ``text`` is the plain text after entity parsing and ``entities`` its Bot API entities
    (UTF-16 offsets). ``kind`` is ``text``, ``sticker``, ``photo``, ``document``, ``voice``,
    ``location`` or ``contact``; a photo or document the bot sent has ``file`` and
    ``caption``. ``raw`` is the Message object as the Bot API serialises it.
    """

    chat_id: int
    message_id: int
    date: datetime
    from_bot: bool
    sender_id: int
    kind: str
    text: str | None
    entities: tuple[dict[str, Any], ...]
    raw: dict[str, Any] = field(compare=False, repr=False)
    inline_keyboard: tuple[tuple[InlineButton, ...], ...] = ()
    reply_keyboard: ReplyKeyboard | None = None
    remove_keyboard: bool = False
    force_reply: bool = False
    edit_date: datetime | None = None
    deleted: bool = False
    caption: str | None = None
    file: SentFile | None = None

    @property
    def edited(self) -> bool:
        """True once the bot edited the text or the keyboard."""
        return self.edit_date is not None

    @property
    def buttons(self) -> list[InlineButton]:
        """The inline buttons, row by row."""
        return [button for row in self.inline_keyboard for button in row]

    @property
    def button_texts(self) -> list[str]:
        """The texts of the inline buttons, row by row."""
        return [button.text for button in self.buttons]

    def entity_texts(self, entity_type: str) -> list[str]:
        """The parts of the text covered by entities of ``entity_type`` (e.g. ``"bold"``)."""
        if self.text is None:
            return []
        units = self.text.encode("utf-16-le")
        return [
            units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
            for e in self.entities
            if e["type"] == entity_type
        ]

    def describe(self) -> str:
        """One line for transcripts and assertion messages."""
        who = "bot" if self.from_bot else "user"
        body = repr(self.text) if self.text is not None else f"<{self.kind}>"
        if self.file is not None:
            body = f"<{self.kind} {self.file.name}>" + (
                f" {self.caption!r}" if self.caption else ""
            )
        notes = []
        if self.buttons:
            notes.append("buttons " + repr(self.button_texts))
        if self.reply_keyboard is not None:
            notes.append("keyboard " + repr([b.text for b in self.reply_keyboard.buttons]))
        if self.edited:
            notes.append("edited")
        if self.deleted:
            notes.append("deleted")
        suffix = f"  [{'; '.join(notes)}]" if notes else ""
        return f"#{self.message_id} {who}: {body}{suffix}"
