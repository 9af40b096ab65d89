"""Parsers and validators of what people type: each takes the raw text and returns the value to
keep, or raises :class:`Invalid` with the (untranslated) reason to show.

Names accept letters of any script, accents, spaces, hyphens, apostrophes and dots; digits and
other symbols are refused. E-mail addresses are checked by ``email-validator`` (syntax only, no
DNS), phone numbers by ``phonenumbers`` (Dutch numbers without country code accepted) and kept in
E.164 form (``+31612345678``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Final

import phonenumbers
from babel.dates import get_month_names
from email_validator import EmailNotValidError, validate_email

from bot.i18n import N_

__all__ = [
    "MAX_COMPANY",
    "MAX_NAME",
    "MAX_REMARK",
    "NO_WORDS",
    "YES_WORDS",
    "Invalid",
    "parse_company",
    "parse_date",
    "parse_email",
    "parse_name",
    "parse_phone",
    "parse_postcode",
    "parse_prefix",
    "parse_remark",
    "parse_shared_phone",
    "parse_text",
    "readable_phone",
]

MAX_NAME: Final = 100
MAX_COMPANY: Final = 100
MAX_REMARK: Final = 1000
PHONE_REGION: Final = "NL"

_NAME_PUNCTUATION: Final = frozenset("-'’‘. ")
_SPACES = re.compile(r"\s+")
#: Typed instead of pressing a yes or no button, in Dutch or English.
YES_WORDS: Final = frozenset({"ja", "j", "yes", "y", "jazeker", "ok", "oké", "okay", "jawel"})
NO_WORDS: Final = frozenset({"nee", "n", "no", "nope", "neen"})


class Invalid(ValueError):
    """The input cannot be used; ``message`` is an untranslated text with ``params``."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def _clean(text: str) -> str:
    """Text with its whitespace collapsed and control characters removed."""
    visible = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
    return _SPACES.sub(" ", visible).strip()


def _clean_multiline(text: str) -> str:
    """Like :func:`_clean` but keeping line breaks (at most one empty line in a row)."""
    lines = [_clean(line) for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _require(text: str) -> str:
    cleaned = _clean(text)
    if not cleaned:
        raise Invalid(N_("That was empty. Please type an answer."))
    return cleaned


def _check_length(value: str, limit: int) -> str:
    if len(value) > limit:
        raise Invalid(
            N_("That is too long: at most {limit} characters, you typed {length}."),
            limit=limit,
            length=len(value),
        )
    return value


def _is_name_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in ("L", "M") or ch in _NAME_PUNCTUATION


def parse_name(text: str) -> str:
    """A first or last name: letters (any script) with spaces, hyphens, apostrophes, dots."""
    value = _check_length(_require(text), MAX_NAME)
    if not all(_is_name_char(ch) for ch in value):
        raise Invalid(
            N_(
                "A name can only contain letters, spaces, hyphens, apostrophes and dots. "
                "Please type it again."
            )
        )
    if not any(unicodedata.category(ch)[0] == "L" for ch in value):
        raise Invalid(N_("A name needs at least one letter. Please type it again."))
    return value


def parse_prefix(text: str) -> str:
    """Tussenvoegsels such as "van der" or "'t": the characters of a name, lowercase kept."""
    value = _check_length(_require(text), 20)
    if not all(_is_name_char(ch) for ch in value) or not any(ch.isalpha() for ch in value):
        raise Invalid(
            N_("A name prefix is something like “van”, “de” or “van der”. Please type it again.")
        )
    return value


def parse_email(text: str) -> str:
    """An e-mail address, syntax checked (no DNS look-up), its domain normalized."""
    value = _check_length(_require(text), 254)
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise Invalid(
            N_("“{value}” is not an e-mail address. Please type it like name@example.nl."),
            value=value,
        ) from None
    return result.normalized


def parse_phone(text: str) -> str:
    """A phone number, Dutch by default, kept as E.164 (``+31612345678``)."""
    value = _check_length(_require(text), 32)
    if re.search(r"[A-Za-z]", value):
        raise Invalid(
            N_("“{value}” is not a phone number. Please type it like 06 12345678."), value=value
        )
    if value.startswith("00"):
        value = "+" + value[2:]
    try:
        number = phonenumbers.parse(value, PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise Invalid(
            N_("“{value}” is not a phone number. Please type it like 06 12345678."), value=value
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def readable_phone(e164: str) -> str:
    """A stored number as people read it (``+31 6 12345678``)."""
    try:
        number = phonenumbers.parse(e164, PHONE_REGION)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def parse_shared_phone(phone_number: str) -> str:
    """The number from a shared Telegram contact (sent without ``+``) in E.164 form."""
    digits = phone_number.strip()
    return parse_phone(digits if digits.startswith("+") else "+" + digits)


def parse_company(text: str) -> str:
    """A company name: any printable text, bounded."""
    return _check_length(_require(text), MAX_COMPANY)


def parse_remark(text: str) -> str:
    """A remark for the training provider: free text with line breaks, bounded."""
    value = _clean_multiline(text)
    if not value:
        raise Invalid(N_("That was empty. Please type an answer."))
    return _check_length(value, MAX_REMARK)


def parse_text(text: str, *, min_length: int | None = None, max_length: int | None = None) -> str:
    """An answer in words (one of the provider's questions), bounded (200 by default)."""
    value = _check_length(_require(text), max_length or 200)
    if min_length and len(value) < min_length:
        raise Invalid(
            N_("That is too short: at least {limit} characters, you typed {length}."),
            limit=min_length,
            length=len(value),
        )
    return value


def _month_names() -> dict[str, int]:
    """Month names and abbreviations, Dutch and English (``maart``, ``mrt``, ``March``...)."""
    names: dict[str, int] = {}
    for language in ("nl", "en"):
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, locale=language).items():
                names[name.casefold().rstrip(".")] = number
    names["sept"] = 9
    return names


_MONTHS: Final = _month_names()
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2,4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WORDS_DATE = re.compile(r"^(\d{1,2})\.?\s*([^\W\d_]+)\.?,?\s*(\d{2,4})$")


def parse_date(text: str, *, today: date, past: bool = False) -> date:
    """A date typed the Dutch way: ``12-3-1990``, ``12/3/1990``, ``12 maart 1990``, ``12 mrt
    1990`` (English month names too), or ``1990-03-12``; with ``past``, before ``today``."""
    value = _check_length(_require(text), 40)
    folded = value.casefold()
    parts: tuple[str, str, str] | None = None
    if match := _ISO_DATE.match(folded):
        parts = (match[3], match[2], match[1])
    elif match := _NUMERIC_DATE.match(folded):
        parts = (match[1], match[2], match[3])
    elif (match := _WORDS_DATE.match(folded)) and match[2] in _MONTHS:
        parts = (match[1], str(_MONTHS[match[2]]), match[3])
    if parts is None:
        raise Invalid(
            N_("“{value}” is not a date. Please type it like 12-3-1990 or 12 March 1990."),
            value=value,
        )
    day, month, year = (int(part) for part in parts)
    if year < 100:
        raise Invalid(N_("Please type the year in full, like 12-3-1990."))
    try:
        result = date(year, month, day)
    except ValueError:
        raise Invalid(
            N_("“{value}” is not a date that exists. Please check it."), value=value
        ) from None
    if result.year < 1900 or result.year > today.year + 10:
        raise Invalid(N_("“{value}” is not a date that exists. Please check it."), value=value)
    if past and result >= today:
        raise Invalid(N_("That date is not in the past. Please check it."))
    return result


_POSTCODE = re.compile(r"^([1-9][0-9]{3})\s*([A-Za-z]{2})$")


def parse_postcode(text: str) -> str:
    """A Dutch postcode, kept as ``1234 AB``."""
    value = _check_length(_require(text), 20)
    match = _POSTCODE.match(value)
    if match is None or match[2].upper() in ("SA", "SD", "SS"):
        raise Invalid(
            N_("“{value}” is not a Dutch postcode. Please type it like 1234 AB."), value=value
        )
    return f"{match[1]} {match[2].upper()}"
