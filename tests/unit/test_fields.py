"""Parsers of typed answers: what is accepted, how it is kept, what is refused."""

from __future__ import annotations

import pytest

from conversations.fields import (
    Invalid,
    parse_company,
    parse_email,
    parse_name,
    parse_phone,
    parse_prefix,
    parse_remark,
    parse_shared_phone,
)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("Jan", "Jan"),
        ("  Anne-Marie  ", "Anne-Marie"),
        ("O'Brien", "O'Brien"),
        ("D’Angelo", "D’Angelo"),
        ("José  María", "José María"),
        ("Øystein", "Øystein"),
        ("Ζωή", "Ζωή"),
        ("Наталья", "Наталья"),
        ("陈伟", "陈伟"),
        ("J.P.", "J.P."),
    ],
)
def test_names_of_every_script_are_names(typed, kept):
    assert parse_name(typed) == kept


@pytest.mark.parametrize(
    "typed",
    ["", "   ", "Jan2", "R2D2", "<b>Jan</b>", "Jan & Piet", "Jan*", "@jan", "'-.", "x" * 101],
)
def test_not_a_name(typed):
    with pytest.raises(Invalid):
        parse_name(typed)


def test_a_name_of_exactly_100_characters_is_accepted():
    assert parse_name("a" * 100) == "a" * 100


@pytest.mark.parametrize("typed", ["van", "van der", "de", "'t", "van 't", "d'"])
def test_prefixes(typed):
    assert parse_prefix(typed) == typed


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("jan@example.nl", "jan@example.nl"), (" Jan.Jansen@Example.NL ", "Jan.Jansen@example.nl")],
)
def test_email_addresses_are_checked_and_normalized(typed, kept):
    assert parse_email(typed) == kept


@pytest.mark.parametrize(
    "typed", ["jan", "jan@", "@example.nl", "jan@@example.nl", "jan@localhost"]
)
def test_not_an_email_address(typed):
    with pytest.raises(Invalid):
        parse_email(typed)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("06 12345678", "+31612345678"),
        ("0612345678", "+31612345678"),
        ("+31 6 1234 5678", "+31612345678"),
        ("0031612345678", "+31612345678"),
        ("020-1234567", "+31201234567"),
        ("+32 470 12 34 56", "+32470123456"),
    ],
)
def test_phone_numbers_are_kept_in_one_form(typed, kept):
    assert parse_phone(typed) == kept


@pytest.mark.parametrize("typed", ["12", "06-1234", "phone", "0612345678901234", "+99 123"])
def test_not_a_phone_number(typed):
    with pytest.raises(Invalid):
        parse_phone(typed)


def test_a_shared_contact_number_without_plus_is_understood():
    assert parse_shared_phone("31612345678") == "+31612345678"


def test_company_names_keep_their_symbols():
    assert parse_company("Jansen & Zn <BV>") == "Jansen & Zn <BV>"


def test_a_remark_keeps_its_lines_and_has_a_bound():
    assert parse_remark("Line one\n\n\n\nLine  two") == "Line one\n\nLine two"
    with pytest.raises(Invalid) as refused:
        parse_remark("x" * 1001)
    assert refused.value.params == {"limit": 1000, "length": 1001}
