"""Languages: the gettext catalogs, the translator of one update, Babel formatting.

Every text a person reads is written in English in the code, marked with ``_()`` (or ``N_()``
where it is defined at import time and translated when shown, ``ngettext`` for counts) and
translated through the catalogs in ``locales/<lang>/LC_MESSAGES/messages.po``. Placeholders are
named: ``t._("Hello {name}").format(name=...)``, never an f-string inside ``_()``.

The language of an update is the person's stored choice, else Telegram's ``language_code``,
else ``DEFAULT_LANGUAGE`` (:func:`pick_language`).
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import io
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Final, Literal, get_args
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import (
    format_date,
    format_datetime,
    format_interval,
    format_time,
    format_timedelta,
)
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "N_",
    "Language",
    "Translator",
    "esc",
    "locales_dir",
    "pick_language",
    "translator",
]

logger = logging.getLogger(__name__)

Language = Literal["nl", "en"]
LANGUAGES: Final[tuple[Language, ...]] = get_args(Language)
DEFAULT_LANGUAGE: Final[Language] = "nl"
"""The provider's language, for a text whose reader's language is unknown where the settings
(``DEFAULT_LANGUAGE``, whose default this is too) are not at hand."""
DOMAIN: Final = "messages"
# The provider is Dutch: dates and times are shown in Dutch time whatever the language.
TIMEZONE: Final[dt.tzinfo] = ZoneInfo("Europe/Amsterdam")


def esc(value: object) -> str:
    """A value shown inside an HTML message, escaped: ``<b>&*`` shows exactly as typed."""
    return html.escape(str(value), quote=False)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a text for extraction without translating it now (it is translated when shown)."""
    return message


def locales_dir() -> Path:
    """The ``locales`` folder: beside the packages in a checkout, inside ``bot`` in a wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "locales", here / "locales"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("the locales folder is missing from this installation")


def _load(language: Language) -> NullTranslations:
    """The compiled catalog, or (when the ``.mo`` is missing or stale) the ``.po`` compiled now."""
    folder = locales_dir() / language / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    # Installers write both files in one go (the .po a moment after the .mo): a .mo counts as
    # stale only when its .po was changed well after it was compiled.
    if mo.exists() and (not po.exists() or mo.stat().st_mtime + 2 >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return Translations(handle, domain=DOMAIN)
    if not po.exists():
        raise FileNotFoundError(f"no catalog for language {language!r} at {po}")
    logger.warning("%s is missing or older than its .po: compiling it in memory", mo)
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@dataclass(frozen=True)
class Translator:
    """The texts and formats of one language."""

    language: Language
    translations: NullTranslations = field(repr=False)
    locale: Locale = field(repr=False)

    def _(self, message: str) -> str:
        """Translate ``message``."""
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate a text that depends on a count ``n``."""
        return self.translations.ngettext(singular, plural, n)

    def date(self, value: dt.date, fmt: str = "medium") -> str:
        """A date as people of this language write it (``d MMM y`` in Dutch, ``MMM d, y``)."""
        return format_date(value, format=fmt, locale=self.locale)

    def datetime(self, value: dt.datetime, fmt: str = "medium") -> str:
        """A moment in Dutch time, formatted for this language."""
        return format_datetime(value, format=fmt, tzinfo=TIMEZONE, locale=self.locale)

    def time(self, value: dt.datetime, fmt: str = "short") -> str:
        """A time of day in Dutch time, formatted for this language."""
        return format_time(value, format=fmt, tzinfo=TIMEZONE, locale=self.locale)

    def period(self, start: dt.datetime, end: dt.datetime | None, skeleton: str = "yMMMEd") -> str:
        """A span of days as this language writes it ("za 5 - zo 6 dec 2026")."""
        start = start.astimezone(TIMEZONE)
        end = (end or start).astimezone(TIMEZONE)
        return format_interval(start, end, skeleton, tzinfo=TIMEZONE, locale=self.locale)

    def number(self, value: int | float | Decimal) -> str:
        """A number with this language's separators."""
        return format_decimal(value, locale=self.locale)

    def money(self, amount: Decimal, currency: str = "EUR") -> str:
        """An amount of money as this language writes it ("€ 1.250,00", "€1,250.00")."""
        return format_currency(amount, currency, locale=self.locale)

    def duration(self, value: dt.timedelta) -> str:
        """A length of time in words, rounded to its largest unit ("1 maand", "1 day")."""
        return format_timedelta(value, locale=self.locale)


@functools.cache
def translator(language: Language) -> Translator:
    """The translator of ``language`` (catalogs are read once per process)."""
    return Translator(language, _load(language), Locale.parse(language))


def pick_language(stored: str | None, telegram_code: str | None, default: Language) -> Language:
    """The language of a person: their choice, else Telegram's ``language_code``, else default."""
    for candidate in (stored, telegram_code):
        if candidate:
            primary = candidate.split("-")[0].split("_")[0].lower()
            for language in LANGUAGES:
                if primary == language:
                    return language
    return default
