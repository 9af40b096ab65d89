"""``reply_markup`` as the Bot API reads it: inline and reply keyboards, removal, force reply.

Error texts are the Bot API's where known (collected from answers of the real API). One rule is
stricter than Telegram: a button with more than one action (say ``url`` and ``callback_data``)
is refused, where Telegram silently uses the first one it looks at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.telegram.limits import CALLBACK_DATA_MAX_BYTES
from sandbox.telegram.models import ApiError, InlineButton, KeyboardButton, ReplyKeyboard

__all__ = ["Markup", "parse_reply_markup"]

_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_KEYBOARD_ACTIONS = (
    "request_users",
    "request_chat",
    "request_contact",
    "request_location",
    "request_poll",
    "web_app",
)
_MAX_BUTTONS = 100


@dataclass(frozen=True, slots=True)
class Markup:
    """A parsed ``reply_markup``; ``inline_json`` is the keyboard a returned Message carries."""

    inline: tuple[tuple[InlineButton, ...], ...] = ()
    reply: ReplyKeyboard | None = None
    remove_keyboard: bool = False
    force_reply: bool = False
    inline_json: dict[str, Any] | None = None

    @property
    def is_inline(self) -> bool:
        """True for an InlineKeyboardMarkup (the only kind a message can carry and edit)."""
        return self.inline_json is not None


def _bad(description: str) -> ApiError:
    return ApiError(400, "Bad Request: " + description)


def _boolean(obj: dict[str, Any], name: str, prefix: str = "") -> bool:
    value = obj.get(name, False)
    if not isinstance(value, bool):
        raise _bad(f'{prefix}field "{name}" must be of type Boolean')
    return value


def _optional_string(obj: dict[str, Any], name: str, prefix: str = "") -> str | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        raise _bad(f'{prefix}field "{name}" must be of type String')
    return value


def _check_url(url: str, what: str) -> None:
    parts = urlsplit(url if "://" in url else "http://" + url)
    if parts.scheme.lower() not in ("http", "https", "tg"):
        raise _bad(f"{what} URL '{url}' is invalid: Unsupported URL protocol")
    if parts.scheme.lower() != "tg" and (not parts.hostname or "." not in parts.hostname):
        raise _bad(f"{what} URL '{url}' is invalid: Wrong HTTP URL")


def _present(button: dict[str, Any], name: str) -> bool:
    value = button.get(name)
    return value is not None and value != "" and value is not False


def _button_text(button: Any, prefix: str, kind: str) -> str:
    """The text of a button object (a non-empty string), as both keyboards require."""
    if not isinstance(button, dict):
        raise _bad(prefix + f"{kind} must be an Object")
    if "text" not in button:
        raise _bad(prefix + 'Can\'t find field "text"')
    text = button["text"]
    if not isinstance(text, str):
        raise _bad(prefix + 'Field "text" must be of type String')
    if not text.strip():
        raise _bad("BUTTON_TEXT_INVALID")
    return text


def _inline_button(button: Any) -> InlineButton:
    prefix = "can't parse inline keyboard button: "
    text = _button_text(button, prefix, "InlineKeyboardButton")
    actions = [name for name in _INLINE_ACTIONS if _present(button, name)]
    if not actions:
        raise _bad(prefix + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise _bad(
            prefix + "exactly one of the optional fields must be used, not " + ", ".join(actions)
        )
    action = actions[0]
    if action in ("pay", "callback_game"):
        raise _bad("BUTTON_TYPE_INVALID")
    callback_data: str | None = None
    url: str | None = None
    if action == "callback_data":
        data = button["callback_data"]
        if not isinstance(data, str):
            raise _bad(prefix + 'Field "callback_data" must be of type String')
        if len(data.encode("utf-8")) > CALLBACK_DATA_MAX_BYTES:
            raise _bad("BUTTON_DATA_INVALID")
        callback_data = data
    elif action == "url":
        url = button["url"]
        if not isinstance(url, str):
            raise _bad(prefix + 'Field "url" must be of type String')
        _check_url(url, "inline keyboard button")
    return InlineButton(text=text, callback_data=callback_data, url=url, raw=dict(button))


def _keyboard_button(button: Any) -> KeyboardButton:
    prefix = "can't parse keyboard button: "
    if isinstance(button, str):
        button = {"text": button}
    text = _button_text(button, prefix, "KeyboardButton")
    actions = [name for name in _KEYBOARD_ACTIONS if _present(button, name)]
    if len(actions) > 1:
        raise _bad(
            prefix + "at most one of the optional fields can be used, not " + ", ".join(actions)
        )
    return KeyboardButton(
        text=text,
        request_contact=_boolean(button, "request_contact", prefix),
        request_location=_boolean(button, "request_location", prefix),
    )


def _rows(markup: dict[str, Any], name: str) -> list[list[Any]]:
    rows = markup[name]
    if not isinstance(rows, list):
        raise _bad(f'field "{name}" must be of type Array')
    for row in rows:
        if not isinstance(row, list):
            raise _bad(f'field "{name}" must be an Array of Arrays')
    if sum(len(row) for row in rows) > _MAX_BUTTONS:
        raise _bad("REPLY_MARKUP_TOO_LONG")
    return rows


def parse_reply_markup(value: Any) -> Markup:
    """Read a ``reply_markup`` parameter (JSON text or decoded object); raise ApiError."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _bad("can't parse reply keyboard markup JSON object") from None
    if not isinstance(value, dict):
        raise _bad("object expected as reply markup")
    if "inline_keyboard" in value:
        rows = _rows(value, "inline_keyboard")
        inline = tuple(tuple(_inline_button(button) for button in row) for row in rows)
        inline_json = {"inline_keyboard": [[dict(b.raw) for b in row] for row in inline]}
        return Markup(inline=inline, inline_json=inline_json)
    if "keyboard" in value:
        rows = _rows(value, "keyboard")
        keyboard = ReplyKeyboard(
            rows=tuple(tuple(_keyboard_button(button) for button in row) for row in rows),
            resize_keyboard=_boolean(value, "resize_keyboard"),
            one_time_keyboard=_boolean(value, "one_time_keyboard"),
            is_persistent=_boolean(value, "is_persistent"),
            selective=_boolean(value, "selective"),
            input_field_placeholder=_optional_string(value, "input_field_placeholder"),
        )
        if not keyboard.rows or not keyboard.buttons:
            raise _bad("keyboard must be non-empty")
        return Markup(reply=keyboard)
    if "remove_keyboard" in value or "hide_keyboard" in value:
        name = "remove_keyboard" if "remove_keyboard" in value else "hide_keyboard"
        _boolean(value, name)
        _boolean(value, "selective")
        return Markup(remove_keyboard=True)
    if "force_reply" in value:
        _boolean(value, "force_reply")
        _boolean(value, "selective")
        _optional_string(value, "input_field_placeholder")
        return Markup(force_reply=True)
    raise _bad("unsupported reply markup type")
