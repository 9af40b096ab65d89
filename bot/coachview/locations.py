"""Where a course run takes place, when Coachview says so [guess].

Live ``Opleidingen`` records carry only ``startLocatieId`` (a GUID); the name of the place is
not in the record. With ``InclusiefDirecteRelaties=true`` Coachview embeds related objects
[code], most likely as ``startLocatie`` with a ``naam`` (and maybe ``plaats``) [guess]; some
exports carry a plain ``locatie`` text [guess]. :func:`run_location` reads whichever is there
and says ``None`` otherwise, so calendars and course cards show a place only when one is known.
"""

from __future__ import annotations

from typing import Any

from bot.coachview.models import Opleiding

__all__ = ["run_location"]


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def run_location(run: Opleiding) -> str | None:
    """The place of ``run`` as one line ("Cursuscentrum, Utrecht"), or ``None``."""
    extra = run.model_extra or {}
    embedded = extra.get("startLocatie")
    if isinstance(embedded, dict):
        parts = [_text(embedded.get(name)) for name in ("naam", "plaats")]
        found = [part for part in parts if part]
        if found:
            return ", ".join(dict.fromkeys(found))
    return _text(extra.get("locatie"))
