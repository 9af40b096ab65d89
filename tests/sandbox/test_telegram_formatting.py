"""The sandbox's parse modes: the texts and entities Telegram (tdlib) produces, and its errors."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.telegram.formatting import (
    EntityParseError,
    FormattedText,
    find_bot_commands,
    parse_html,
    parse_text,
    utf16_length,
)


def spans(formatted: FormattedText) -> list[tuple[Any, ...]]:
    return [(e.type, e.offset, e.length, *dict(e.extra).values()) for e in formatted.entities]


def test_utf16_length_counts_surrogate_pairs() -> None:
    assert utf16_length("abc") == 3
    assert utf16_length("é") == 1
    assert utf16_length("😀") == 2


def test_html_decodes_entities_and_reads_attributes() -> None:
    parsed = parse_html(
        "<B>Vet</B> &#x1F600; caf&#233; &quot;q&quot; "
        "<a href='https://x.nl?a=1&amp;b=2'>l</a> <a>example.com</a> "
        '<code class="language-py">c</code> <b>x</>'
    )
    assert parsed.text == 'Vet 😀 café "q" l example.com c x'
    assert spans(parsed) == [
        ("bold", 0, 3),
        ("text_link", 16, 1, "https://x.nl?a=1&b=2"),
        ("text_link", 18, 11, "http://example.com"),
        ("code", 30, 1),  # a language only counts inside <pre>
        ("bold", 32, 1),
    ]


def test_html_spoilers_custom_emoji_and_blockquotes() -> None:
    parsed = parse_html(
        '<span class="tg-spoiler">a</span><tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
        "<blockquote>q</blockquote>"
    )
    assert spans(parsed) == [
        ("spoiler", 0, 1),
        ("custom_emoji", 1, 2, "5368324170671202286"),
        ("blockquote", 3, 1),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("😀<x>", 'Unsupported start tag "x" at byte offset 4'),
        ("é<b>", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<a href=x y>", 'Can\'t find end tag corresponding to start tag "a"'),
        ("<b =x>", 'Empty attribute name in the tag "b" at byte offset 0'),
        ("<a href=x/y>", "Unexpected end of name token at byte offset 8"),
        ("<b></b", "Unclosed end tag at byte offset 3"),
        ('<tg-emoji emoji-id="x">👍</tg-emoji>', "Invalid custom emoji identifier specified"),
        ("&#xD800;", "Text contains invalid Unicode characters after decoding HTML entities"),
    ],
)
def test_html_errors_name_the_byte_offset(text: str, message: str) -> None:
    with pytest.raises(EntityParseError) as raised:
        parse_html(text)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("/start", [(0, 6)]),
        ("/start@enroll_bot x", [(0, 17)]),
        ("x /help, /x@ab", [(2, 5)]),
        ("(/ok)", [(1, 3)]),
        ("a/start", []),
        ("/start/x", []),
        ("/", []),
        ("/é", []),
        ("😀 /go", [(3, 3)]),
    ],
)
def test_bot_commands_are_found_like_telegram_does(
    text: str, found: list[tuple[int, int]]
) -> None:
    assert [(e.offset, e.length) for e in find_bot_commands(text)] == found


def test_parse_text_trims_and_adds_commands_outside_code() -> None:
    parsed = parse_text("  <b> hi </b> <code>/start</code> /go\n", "HTML")
    assert parsed.text == "hi  /start /go"
    assert spans(parsed) == [("bold", 0, 3), ("code", 4, 6), ("bot_command", 11, 3)]
    assert parse_text("plain *text*", None).entities == ()
    with pytest.raises(ValueError, match="BBCode"):
        parse_text("x", "BBCode")
