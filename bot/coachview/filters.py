"""Coachview's ``where`` filters, built from values that cannot change their meaning.

In ``where=field=value`` a ``,`` means "any of" and a ``;`` joins conditions [doc], so a value
holding either would ask another question than the one meant: :data:`SEPARATORS` is that rule,
in this one place. :func:`filter_value` refuses such a value before anything is sent,
:func:`is_filter_value` tells whether a text can be one, and :func:`before_separator` keeps what
comes before the first separator (what a search can still look for). Values travel in the query
string, where httpx escapes them.

The staff search asks "starts with" of several fields (:func:`search_filters`); Coachview's
``where`` has no "or" across fields, so each reading of the text is one filter, and the answers
are checked here too (:func:`matches`): rows of a condition Coachview ignored are not shown.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, Final

from bot.coachview.models import Webaanvraag

__all__ = [
    "SEPARATORS",
    "Reading",
    "all_of",
    "any_of",
    "before_separator",
    "filter_value",
    "is_filter_value",
    "matches",
    "search_filters",
    "search_readings",
    "starts_with",
    "value_of",
]

SEPARATORS: Final = ",;"
"""The characters that change a filter's meaning: ``,`` "any of", ``;`` "and"."""


def is_filter_value(value: str) -> bool:
    """Whether ``value`` can be a filter value as it is: not empty, no separator."""
    return bool(value) and not any(char in value for char in SEPARATORS)


def filter_value(value: str) -> str:
    """``value`` for ``where=field=value``; :class:`ValueError` unless :func:`is_filter_value`."""
    if not is_filter_value(value):
        raise ValueError("a filter value must be non-empty and contain neither ',' nor ';'")
    return value


def before_separator(text: str) -> str:
    """``text`` up to its first separator (all of it when it has none)."""
    for separator in SEPARATORS:
        text = text.split(separator, 1)[0]
    return text


def any_of(values: Iterable[str]) -> str:
    """The value of a condition that holds for any of ``values``: ``a,b,c``."""
    return ",".join(filter_value(value) for value in values)


def all_of(conditions: Iterable[str]) -> str:
    """One ``where`` of conditions that must all hold: ``a=1;b>=2``."""
    return ";".join(conditions)


def starts_with(field: str, prefix: str) -> str:
    """A ``where`` condition "``field`` starts with ``prefix``" as a range that Coachview's
    ``>=`` and ``<`` can express: ``naam>=jan;naam<jao`` (``>=`` and ``<`` compare texts
    case-insensitively, as SQL Server's default collation does [guess])."""
    prefix = filter_value(prefix)
    if prefix[-1] == chr(sys.maxunicode):  # nothing sorts after it: no upper bound
        return f"{field}>={prefix}"
    after = chr(ord(prefix[-1]) + 1)
    while after in SEPARATORS:  # a separator would change the filter's meaning: widen a little
        after = chr(ord(after) + 1)
    return all_of([f"{field}>={prefix}", f"{field}<{prefix[:-1]}{after}"])


Reading = tuple[tuple[str, str], ...]
"""One reading of a search text: ``(dotted field, prefix)`` conditions that must all hold."""


def search_readings(text: str) -> list[Reading]:
    """The readings of a staff search: an e-mail address (it has an ``@``), else a surname,
    first name or company name, else "first name surname" (a surname may carry its prefix,
    "de Vries", or Coachview may keep the prefix apart in ``tussenvoegsels``)."""
    words = text.split()
    if not words:
        raise ValueError("nothing to search for")
    whole = " ".join(words)
    if "@" in whole:
        return [(("contactpersoon.emailadres", whole),)]
    readings: list[Reading] = [
        (("contactpersoon.achternaam", whole),),
        (("bedrijf.naam", whole),),
    ]
    if len(words) == 1:
        readings.append((("contactpersoon.voornaam", whole),))
        return readings
    first = ("contactpersoon.voornaam", words[0])
    readings.append((first, ("contactpersoon.achternaam", " ".join(words[1:]))))
    if len(words) > 2:
        readings.append((first, ("contactpersoon.achternaam", words[-1])))
    return readings


def search_filters(text: str) -> list[str]:
    """The ``where`` filters of a staff search, one per reading (:func:`search_readings`),
    each condition a "starts with" range."""
    return [
        all_of(starts_with(field, prefix) for field, prefix in reading)
        for reading in search_readings(text)
    ]


def value_of(webaanvraag: Webaanvraag, dotted: str) -> str:
    """The text at a dotted field of a webaanvraag (``""`` when absent)."""
    value: Any = webaanvraag.model_dump(by_alias=True, mode="json")
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def matches(webaanvraag: Webaanvraag, reading: Reading) -> bool:
    """Whether every condition of ``reading`` holds: the field starts with the prefix, in any
    case and with the spaces Coachview's comparison would see."""
    return all(
        value_of(webaanvraag, field).casefold().startswith(prefix.casefold())
        for field, prefix in reading
    )
