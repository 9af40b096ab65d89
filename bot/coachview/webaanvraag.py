"""From a finished :class:`~bot.enrollment.Enrollment` to the webaanvraag body Coachview expects.

A pure function, tested against the three example bodies of Coachview's own documentation
(Coachview's support article on webaanvragen, kept in ``tests/data``), which decide who goes where:

========================= =================== ===========================================
the person enrolls        ``contactpersoon``  ``deelnemers``
========================= =================== ===========================================
only themself             the person          omitted
only others               the person          the others
themself and others       the person          the person **first**, then the others
========================= =================== ===========================================

Nothing empty is sent: absent values are left out rather than sent as ``""`` or ``null``.

The bot's own reference (``TG-`` and 16 hexadecimal digits, :func:`bot.submission.new_reference`)
is what makes "exactly once" possible (``bot/submission.py``). When a POST goes out and no clear
answer comes back (the connection broke, the answer timed out, the bot was killed), Coachview may
or may not have stored the webaanvraag; before sending again the worker looks for it
(:meth:`bot.coachview.client.CoachviewClient.find_webaanvraag_by_reference`) and, if it is
there, records it as submitted instead of posting a second one.

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
here; only with ``referentieNrKlant`` is the direct filter tried first (see the client).

The reference is made once when the person confirms and stored with the payload in the outbox
row, so every attempt sends the same one. It holds no personal data and no ``,`` or ``;``.

What it cannot close: Coachview might store a POST after the look-up of the next attempt said
"not there" (a request that was still being processed). The worker makes that window small: it
gives a POST up after half its lease, and the look-up of the next attempt comes only after the
lease has run out (``SUBMISSION_LEASE``, 2 minutes by default), whether the bot lived on or
crashed; the module docstring of ``bot/submission.py`` says what is left.

``aanvraagIsOrder`` is sent only when ``COACHVIEW_AANVRAAG_IS_ORDER`` is set (both live
enrollment forms found send ``true``; Coachview does not document its meaning).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from bot.coachview.models import Webaanvraag
from bot.enrollment import Enrollment, Participant

__all__ = [
    "DEFAULT_REFERENCE_FIELD",
    "IncompleteEnrollment",
    "build_webaanvraag",
    "carries_reference",
    "check_reference_field",
    "place_reference",
    "run_ids",
]

DEFAULT_REFERENCE_FIELD: Final = "opmerking"
"""Where the bot's reference travels unless ``COACHVIEW_REFERENCE_FIELD`` says otherwise."""

_FREE_FIELD = re.compile(r"^vrijevelden\.([A-Za-z][A-Za-z0-9_]{0,63})$")


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


class IncompleteEnrollment(ValueError):
    """The enrollment lacks something Coachview needs (a programming error if it happens)."""


def _persoon(person: Participant, *, phone: str | None = None) -> dict[str, str]:
    fields = {
        "voornaam": person.first_name,
        "tussenvoegsels": person.prefix,
        "achternaam": person.last_name,
        "emailadres": person.email,
        "telefoonnummer": phone,
    }
    return {key: value for key, value in fields.items() if value}


def build_webaanvraag(
    enrollment: Enrollment,
    *,
    reference: str | None = None,
    reference_field: str = DEFAULT_REFERENCE_FIELD,
    aanvraag_is_order: bool | None = None,
) -> dict[str, Any]:
    """The JSON body of ``POST /api/v1/Webaanvragen`` for a complete enrollment: the
    ``reference`` at ``reference_field``, ``aanvraagIsOrder`` only when it is not ``None``."""
    if not enrollment.is_complete or enrollment.course is None:
        raise IncompleteEnrollment("the enrollment is not complete")
    contact = enrollment.contact
    contactpersoon = _persoon(contact, phone=contact.phone)
    others = [_persoon(participant) for participant in enrollment.participants]

    body: dict[str, Any] = {}
    if enrollment.remark:
        body["opmerking"] = enrollment.remark
    if aanvraag_is_order is not None:
        body["aanvraagIsOrder"] = aanvraag_is_order
    if contact.company:
        body["bedrijf"] = {"naam": contact.company}
    body["contactpersoon"] = contactpersoon
    if others:
        body["deelnemers"] = [dict(contactpersoon), *others] if enrollment.attending else others
    course = enrollment.course
    opleiding: dict[str, str] = {"opleidingssoortId": course.opleidingssoort_id}
    if course.opleiding_id:
        opleiding["opleidingId"] = course.opleiding_id
    body["opleidingen"] = [opleiding]
    if reference:
        place_reference(body, reference_field, reference)
    return body


def run_ids(payload: dict[str, Any]) -> list[str]:
    """The runs (``opleidingId``) a webaanvraag body asks for, in its order."""
    found = []
    for opleiding in payload.get("opleidingen") or []:
        run_id = opleiding.get("opleidingId") if isinstance(opleiding, dict) else None
        if isinstance(run_id, str) and run_id:
            found.append(run_id)
    return found
