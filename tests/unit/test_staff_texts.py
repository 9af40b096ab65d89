"""Staff answers longer than a Telegram message are split where a reader expects it."""

from __future__ import annotations

from bot.staff import split_text


def test_a_short_text_is_one_piece() -> None:
    assert split_text("<b>Kop</b>\nregel") == ["<b>Kop</b>\nregel"]
    assert split_text("") == [""]


def test_a_long_text_is_cut_at_paragraph_ends_first_then_at_line_ends() -> None:
    first, second = "a" * 19 + "\n" + "b" * 20, "c" * 19 + "\n" + "d" * 20
    assert split_text(f"{first}\n\n{second}\n\n{'e' * 10}", limit=70) == [
        first,
        f"{second}\n\n{'e' * 10}",
    ]
    lines = "\n".join(f"{n:02d}. {'x' * 20}" for n in range(10))
    pieces = split_text(lines, limit=60)
    assert all(len(piece) <= 60 for piece in pieces)
    assert "\n".join(pieces) == lines
    assert [piece.count("\n") for piece in pieces] == [1, 1, 1, 1, 1]


def test_a_line_longer_than_a_message_is_cut_anyway() -> None:
    assert split_text("z" * 25, limit=10) == ["z" * 10, "z" * 10, "z" * 5]
