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
from typing import Final

import phonenumbers
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
    "parse_email",
    "parse_name",
    "parse_phone",
    "parse_prefix",
    "parse_remark",
    "parse_shared_phone",
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
                "A name can only contain letters, spaces, hyphens and apostrophes. "
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
