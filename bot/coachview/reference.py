"""The bot's own reference in a webaanvraag: what makes "exactly once" possible.

Each enrollment gets a reference when the person confirms (:func:`new_reference`: ``TG-`` and 16
hexadecimal digits, no personal data, no ``,`` or ``;``), stored with the payload in the outbox
row, so every attempt sends the same one. When a POST goes out and no clear answer comes back
(the connection broke, the answer timed out, the bot was killed), Coachview may or may not have
stored the webaanvraag; before sending again the worker (``bot/workers/exactly_once.py``) looks for
it (:meth:`bot.coachview.submit.Submissions.find_webaanvraag_by_reference`) and, if it is there,
records it as submitted instead of posting a second one.

Where the reference travels is the operator's choice, ``COACHVIEW_REFERENCE_FIELD``
(:func:`place_reference`, :func:`carries_reference`):

- ``opmerking`` (the default): appended to the remark, on a line of its own. Every account has
  the field, the seed's bodies send it, and staff see where the enrollment came from;
- ``vrijevelden.<code>``: a free field the provider created for it in Coachview (the cleanest
  place, but it must exist first);
- ``referentieNrKlant``: only when the provider wants it there. Live forms show that field to
  customers as their own order/PO reference and it may be printed on their invoice, so it is
  not a free technical field.

The look-up never depends on filtering by the reference (unverified): it finds the candidates
by a confirmed filter (received since the enrollment was confirmed) and matches the reference
here; only with ``referentieNrKlant`` is the direct filter tried first.

What it cannot close: Coachview might store a POST after the look-up of the next attempt said
"not there" (a request that was still being processed). The worker makes that window small: it
gives a POST up after half its lease, and the look-up of the next attempt comes only after the
lease has run out (``SUBMISSION_LEASE``, 2 minutes by default), whether the bot lived on or
crashed; the module docstring of ``bot/workers/exactly_once.py`` says what is left.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any, Final

from bot.coachview.models import Webaanvraag

__all__ = [
    "DEFAULT_REFERENCE_FIELD",
    "REFERENCE_PREFIX",
    "carries_reference",
    "check_reference_field",
    "new_reference",
    "place_reference",
]

REFERENCE_PREFIX: Final = "TG-"

DEFAULT_REFERENCE_FIELD: Final = "opmerking"
"""Where the bot's reference travels unless ``COACHVIEW_REFERENCE_FIELD`` says otherwise."""

_FREE_FIELD = re.compile(r"^vrijevelden\.([A-Za-z][A-Za-z0-9_]{0,63})$")


def new_reference() -> str:
    """A reference unique to one enrollment, carried in the webaanvraag: ``TG-`` and 16
    hexadecimal digits (no ``,`` or ``;``, which would change the meaning of a filter)."""
    return REFERENCE_PREFIX + secrets.token_hex(8).upper()


def check_reference_field(field: str) -> str:
    """``field`` if it is a place the reference can travel in, else :class:`ValueError`."""
    if field in ("opmerking", "referentieNrKlant") or _FREE_FIELD.match(field):
        return field
    raise ValueError(
        "must be opmerking, referentieNrKlant or vrijevelden.<code> "
        "(the code of a free field, letters, digits and _)"
    )


def place_reference(body: dict[str, Any], field: str, reference: str) -> None:
    """Put ``reference`` into ``body`` at ``field`` (see the module docstring)."""
    free = _FREE_FIELD.match(check_reference_field(field))
    if free is not None:
        body["vrijevelden"] = {**body.get("vrijevelden", {}), free.group(1): reference}
    elif field == "opmerking":
        remark = body.get("opmerking")
        body["opmerking"] = f"{remark}\n{reference}" if remark else reference
    else:
        body[field] = reference


def carries_reference(webaanvraag: Webaanvraag, field: str, reference: str) -> bool:
    """Whether Coachview's ``webaanvraag`` carries ``reference`` at ``field`` (any case;
    in ``opmerking`` on a line of its own, as :func:`place_reference` puts it)."""
    wanted = reference.strip().casefold()
    free = _FREE_FIELD.match(field)
    if free is not None:
        fields = (webaanvraag.model_extra or {}).get("vrijevelden")
        code = free.group(1).casefold()
        values = (
            [v for k, v in fields.items() if k.casefold() == code]
            if isinstance(fields, Mapping)
            else []
        )
        return any(str(value).strip().casefold() == wanted for value in values)
    if field == "opmerking":
        lines = (webaanvraag.opmerking or "").splitlines()
        return any(line.strip().casefold() == wanted for line in lines)
    return (webaanvraag.referentie_nr_klant or "").strip().casefold() == wanted
