"""The kinds of value that may name a Coachview record, checked before anything is sent.

Text a person types never reaches a Coachview URL as it is. Every value that goes into a path
is a GUID (Coachview's ids are GUIDs), checked by :func:`guid` and then percent-encoded as one
path segment (:func:`path_segment`); every value that goes into a ``where`` filter travels in
the query string, where httpx escapes it. A course code, which the catalogue filters on, has the
shape codes really have (``"PC-KLAS-77-Utrecht"``, ``"VCA-B"``): letters and digits in groups
joined by one ``-``, ``_`` or ``.`` (:func:`is_course_code`). A deep link whose payload is
neither is unknown without asking Coachview.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

__all__ = ["COURSE_CODE_MAX", "guid", "is_course_code", "path_segment"]

COURSE_CODE_MAX = 50
"""The longest course code taken (live codes are around 20 characters)."""

_COURSE_CODE = re.compile(r"[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*")
_GUID = re.compile(r"\{?[0-9A-Fa-f]{8}-?(?:[0-9A-Fa-f]{4}-?){3}[0-9A-Fa-f]{12}\}?")


def guid(value: str) -> str | None:
    """``value`` as a GUID in its canonical form (lower case, with dashes), else ``None``.

    Only ASCII hex digits in the usual groups are taken (``uuid.UUID`` alone would also take
    ``urn:uuid:`` prefixes and surrounding whitespace)."""
    if not isinstance(value, str) or _GUID.fullmatch(value) is None:
        return None
    return str(uuid.UUID(value))


def is_course_code(value: str) -> bool:
    """Whether ``value`` has the shape of a course code (see the module docstring)."""
    return (
        isinstance(value, str)
        and len(value) <= COURSE_CODE_MAX
        and _COURSE_CODE.fullmatch(value) is not None
    )


def path_segment(value: str) -> str:
    """A record id as one percent-encoded path segment; :class:`ValueError` unless a GUID."""
    canonical = guid(value)
    if canonical is None:
        raise ValueError("a Coachview id in a path must be a GUID")
    return quote(canonical, safe="")
