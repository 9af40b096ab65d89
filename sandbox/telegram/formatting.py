"""Message text as Telegram processes it: parse modes, entities and UTF-16 offsets.

The parsers follow tdlib (``td/telegram/MessageEntity.cpp``), which the Bot API server uses:
they walk the UTF-8 bytes, so the byte offsets in their error messages are the ones Telegram
reports, and they count entity offsets in UTF-16 code units as the Bot API does. The error
texts are tdlib's; the server prefixes them with ``Bad Request: can't parse entities:``.

What is not modelled: the Markdown and MarkdownV2 parse modes (the bot sends HTML only; they
are refused as unsupported), the automatic detection of URLs, e-mail addresses, mentions, hashtags
and phone numbers (only ``bot_command`` entities are detected), and the ``tg-time`` tag.

One deliberate deviation: Telegram keeps an ``&`` that does not start a known HTML entity as a
literal character; here it is an error, because the HTML rules require it to be written as
``&amp;`` and a bot that forgets to escape ``&`` would show ``&lt;`` typed by a user as ``<``.
For the same reason a ``>`` outside a tag is an error here (Telegram shows it as it is): every
``>`` of user data must arrive escaped as ``&gt;``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Entity",
    "EntityParseError",
    "FormattedText",
    "find_bot_commands",
    "parse_html",
    "parse_text",
    "utf16_length",
]


class EntityParseError(ValueError):
    """The text is not valid in its parse mode; ``str()`` is tdlib's message."""


@dataclass(frozen=True, slots=True)
class Entity:
    """One MessageEntity: type and UTF-16 span, plus the type's own fields (url, language...)."""

    type: str
    offset: int
    length: int
    extra: tuple[tuple[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The entity as the Bot API serialises it."""
        data: dict[str, Any] = {"type": self.type, "offset": self.offset, "length": self.length}
        data.update(self.extra)
        return data


@dataclass(frozen=True, slots=True)
class FormattedText:
    """A text and its entities, as stored on a message."""

    text: str
    entities: tuple[Entity, ...] = field(default=())

    def entities_json(self) -> list[dict[str, Any]]:
        """The entities as the Bot API serialises them."""
        return [entity.to_json() for entity in self.entities]


# tdlib's type priorities, used to order entities that share offset and length.
_PRIORITY = {
    "mention": 50,
    "hashtag": 50,
    "bot_command": 50,
    "url": 50,
    "email": 50,
    "bold": 90,
    "italic": 91,
    "code": 20,
    "pre": 11,
    "text_link": 49,
    "text_mention": 49,
    "cashtag": 50,
    "phone_number": 50,
    "underline": 92,
    "strikethrough": 93,
    "blockquote": 0,
    "expandable_blockquote": 0,
    "spoiler": 94,
    "custom_emoji": 99,
}

_SPACE = frozenset(b" \t\r\n\0\v")
_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)


def utf16_length(text: str) -> int:
    """The length of ``text`` in UTF-16 code units, the unit of entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _sorted(entities: list[Entity]) -> tuple[Entity, ...]:
    return tuple(sorted(entities, key=lambda e: (e.offset, -e.length, _PRIORITY.get(e.type, 50))))


def _utf16_units(byte: int) -> int:
    """UTF-16 units contributed by a UTF-8 byte: 0 for continuation bytes."""
    if byte & 0xC0 == 0x80:
        return 0
    return 2 if byte >= 0xF0 else 1


def _code_units(code: int) -> int:
    return 2 if code > 0xFFFF else 1


def _encode_code_point(code: int) -> bytes:
    return chr(code).encode("utf-8", "surrogatepass")


def _link_entity(url: str, offset: int, length: int) -> Entity | None:
    """A text_link entity for ``url``, or None where Telegram would drop an unusable link."""
    url = url.strip()
    if not url:
        return None
    if "://" not in url and not url.startswith(("tg:", "mailto:")):
        if "." not in url.split("/")[0]:
            return None
        url = "http://" + url
    return Entity("text_link", offset, length, (("url", url),))


class _Bytes:
    """A UTF-8 text read like tdlib's NUL-terminated C string: past the end reads as 0."""

    def __init__(self, text: str) -> None:
        self.data = text.encode("utf-8")
        self.size = len(self.data)

    def __getitem__(self, index: int) -> int:
        return self.data[index] if index < self.size else 0

    def slice(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", "replace")


def _decode_html_entity(text: _Bytes, pos: int) -> tuple[int, int]:
    """The code point of the entity at ``pos`` (an ``&``) and the position after it; (0, pos)."""
    end = pos + 1
    code = 0
    if text[pos + 1] == ord("#"):
        end += 1
        if text[pos + 2] == ord("x"):
            end += 1
            while chr(text[end]) in "0123456789abcdefABCDEF" and text[end]:
                code = code * 16 + int(chr(text[end]), 16)
                end += 1
        else:
            while ord("0") <= text[end] <= ord("9"):
                code = code * 10 + text[end] - ord("0")
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while chr(text[end]).isascii() and chr(text[end]).isalpha():
            end += 1
        name = text.slice(pos + 1, end)
        named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(name)
        if named is None:
            return 0, pos
        code = ord(named)
    if text[end] == ord(";"):
        end += 1
    return code, end


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    out_offset: int


def parse_html(source: str) -> FormattedText:  # noqa: PLR0912, PLR0915 - tdlib's shape
    """Parse Telegram's HTML style (tdlib ``parse_html``); raise :class:`EntityParseError`."""
    text = _Bytes(source)
    out = bytearray()
    entities: list[Entity] = []
    nested: list[_OpenTag] = []
    utf16 = 0
    i = 0
    while i < text.size:
        c = text[i]
        if c == ord("&"):
            code, after = _decode_html_entity(text, i)
            if code == 0:
                raise EntityParseError(
                    f'Character "&" at byte offset {i} must be escaped as "&amp;"'
                )
            utf16 += _code_units(code)
            out += _encode_code_point(code)
            i = after
            continue
        if c == ord(">"):
            raise EntityParseError(f'Character ">" at byte offset {i} must be escaped as "&gt;"')
        if c != ord("<"):
            utf16 += _utf16_units(c)
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if text[i] != ord("/"):
            i = _parse_start_tag(text, begin, nested=nested, utf16=utf16, out_offset=len(out))
        else:
            if not nested:
                raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
            while text[i] not in _SPACE and text[i] != ord(">"):
                i += 1
            end_name = text.slice(begin + 2, i).lower()
            while text[i] in _SPACE and text[i] != 0:
                i += 1
            if text[i] != ord(">"):
                raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
            tag = nested[-1]
            if end_name and end_name != tag.name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag.name}>", '
                    f'found "</{end_name}>"'
                )
            if utf16 > tag.utf16_offset:
                _close_html_entity(tag, utf16, bytes(out[tag.out_offset :]), entities)
            nested.pop()
        i += 1  # past the '>'
    if nested:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{nested[-1].name}"'
        )
    for index, entity in enumerate(entities):
        if entity.type == "code" and entity.extra:
            entities[index] = Entity("code", entity.offset, entity.length)
    try:
        result = out.decode("utf-8")
    except UnicodeDecodeError:
        raise EntityParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        ) from None
    return FormattedText(result, _sorted(entities))


def _parse_start_tag(  # noqa: PLR0912 - tdlib's shape
    text: _Bytes, begin: int, *, nested: list[_OpenTag], utf16: int, out_offset: int
) -> int:
    """Read a start tag whose ``<`` is at ``begin``; push it; return the index of its ``>``."""
    i = begin + 1
    while text[i] not in _SPACE and text[i] != ord(">"):
        i += 1
    if text[i] == 0:
        raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
    name = text.slice(begin + 1, i).lower()
    if name not in _HTML_TAGS:
        raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {begin}')

    argument = ""
    while text[i] != ord(">"):
        while text[i] != 0 and text[i] in _SPACE:
            i += 1
        if text[i] == ord(">"):
            break
        attribute_begin = i
        while text[i] not in _SPACE and chr(text[i]) not in "=>/\"'":
            i += 1
        attribute = text.slice(attribute_begin, i)
        if not attribute:
            raise EntityParseError(
                f'Empty attribute name in the tag "{name}" at byte offset {begin}'
            )
        while text[i] != 0 and text[i] in _SPACE:
            i += 1
        if text[i] != ord("="):
            if text[i] == 0:
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {begin}')
            if name == "blockquote" and attribute == "expandable":
                argument = "1"
            continue
        i += 1
        while text[i] != 0 and text[i] in _SPACE:
            i += 1
        if text[i] == 0:
            raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {begin}')
        value, i = _attribute_value(text, i)
        if text[i] == 0:
            raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
        if name == "a" and attribute == "href":
            argument = value
        elif name == "code" and attribute == "class" and value.startswith("language-"):
            argument = value.removeprefix("language-")
        elif name == "span" and attribute == "class" and value.startswith("tg-"):
            argument = value.removeprefix("tg-")
        elif name == "tg-emoji" and attribute == "emoji-id":
            argument = value
        elif name == "blockquote" and attribute == "expandable":
            argument = "1"
    if name == "span" and argument != "spoiler":
        raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
    nested.append(_OpenTag(name, argument, utf16, out_offset))
    return i


def _attribute_value(text: _Bytes, i: int) -> tuple[str, int]:
    """Read a quoted string or a name token starting at ``i``; return it and the next index."""
    if chr(text[i]) not in "'\"":
        token_begin = i
        while chr(text[i]).isascii() and (chr(text[i]).isalnum() or chr(text[i]) in ".-"):
            if text[i] == 0:
                break
            i += 1
        if text[i] not in _SPACE and text[i] != ord(">"):
            raise EntityParseError(f"Unexpected end of name token at byte offset {token_begin}")
        return text.slice(token_begin, i).lower(), i
    quote = text[i]
    i += 1
    value = bytearray()
    while text[i] != quote and text[i] != 0:
        if text[i] == ord("&"):
            code, after = _decode_html_entity(text, i)
            if code != 0:
                value += _encode_code_point(code)
                i = after
                continue
        value.append(text[i])
        i += 1
    if text[i] == quote:
        i += 1
    return value.decode("utf-8", "replace"), i


def _close_html_entity(tag: _OpenTag, utf16: int, inner: bytes, entities: list[Entity]) -> None:
    """Append the entity a closed tag produces (tdlib's rules for each tag)."""
    offset = tag.utf16_offset
    length = utf16 - offset
    simple = {
        "i": "italic",
        "em": "italic",
        "b": "bold",
        "strong": "bold",
        "s": "strikethrough",
        "strike": "strikethrough",
        "del": "strikethrough",
        "u": "underline",
        "ins": "underline",
        "tg-spoiler": "spoiler",
        "span": "spoiler",
    }
    if tag.name in simple:
        entities.append(Entity(simple[tag.name], offset, length))
    elif tag.name == "tg-emoji":
        if not tag.argument.isdigit() or int(tag.argument) == 0 or int(tag.argument) >= 2**63:
            raise EntityParseError("Invalid custom emoji identifier specified")
        emoji_id = (("custom_emoji_id", tag.argument),)
        entities.append(Entity("custom_emoji", offset, length, emoji_id))
    elif tag.name == "a":
        url = tag.argument or inner.decode("utf-8", "replace")
        link = _link_entity(url, offset, length)
        if link is not None:
            entities.append(link)
    elif tag.name == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last.type == "code"
            and (last.offset, last.length) == (offset, length)
            and last.extra
        ):
            entities[-1] = Entity("pre", offset, length, (("language", last.extra[0][1]),))
        else:
            entities.append(Entity("pre", offset, length))
    elif tag.name == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last.type == "pre"
            and (last.offset, last.length) == (offset, length)
            and tag.argument
        ):
            entities[-1] = Entity("pre", offset, length, (("language", tag.argument),))
        else:
            extra = (("language", tag.argument),) if tag.argument else ()
            entities.append(Entity("code", offset, length, extra))
    else:  # blockquote
        kind = "expandable_blockquote" if tag.argument else "blockquote"
        entities.append(Entity(kind, offset, length))


# -- Plain text: trimming and bot commands --------------------------------------------------

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


def _is_word_character(character: str) -> bool:
    return character == "_" or character.isalnum()


def find_bot_commands(text: str) -> list[Entity]:
    """The ``bot_command`` entities Telegram detects in ``text`` (tdlib ``match_bot_commands``)."""
    found: list[Entity] = []
    for match in _COMMAND_RE.finditer(text):
        start, end = match.span()
        before = text[start - 1] if start > 0 else ""
        if before and (_is_word_character(before) or before in "/<>"):
            continue
        after = text[end] if end < len(text) else ""
        if after and (_is_word_character(after) or after in "/<>@"):
            continue
        offset = utf16_length(text[:start])
        found.append(Entity("bot_command", offset, utf16_length(match.group())))
    return found


_NO_COMMANDS_INSIDE = frozenset({"code", "pre", "text_link", "text_mention", "custom_emoji"})


def with_bot_commands(formatted: FormattedText) -> FormattedText:
    """Add the detected bot commands that do not fall inside code, pre or link entities."""
    commands = [
        command
        for command in find_bot_commands(formatted.text)
        if not any(
            entity.type in _NO_COMMANDS_INSIDE
            and entity.offset < command.offset + command.length
            and command.offset < entity.offset + entity.length
            for entity in formatted.entities
        )
    ]
    if not commands:
        return formatted
    return FormattedText(formatted.text, _sorted([*formatted.entities, *commands]))


_TRIM = " \t\r\n\v\f"


def trim(formatted: FormattedText) -> FormattedText:
    """Strip leading and trailing white space as Telegram does, moving the entities along."""
    text = formatted.text
    stripped = text.strip(_TRIM)
    if stripped == text:
        return formatted
    start = utf16_length(text[: len(text) - len(text.lstrip(_TRIM))])
    end = start + utf16_length(stripped)
    entities: list[Entity] = []
    for entity in formatted.entities:
        new_start = max(entity.offset, start)
        new_end = min(entity.offset + entity.length, end)
        if new_end > new_start:
            length = new_end - new_start
            entities.append(Entity(entity.type, new_start - start, length, entity.extra))
    return FormattedText(stripped, tuple(entities))


def parse_text(text: str, parse_mode: str | None) -> FormattedText:
    """Parse ``text`` in ``parse_mode`` (HTML or None: the bot uses no other), trim it and add
    the bot commands Telegram would detect; raise :class:`EntityParseError`, or ``ValueError``
    for another parse mode (Markdown and MarkdownV2 are not modelled)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        formatted = parse_html(text)
    elif mode == "":
        formatted = FormattedText(text)
    else:
        raise ValueError(parse_mode)
    return with_bot_commands(trim(formatted))
