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

The bot's own reference (``TG-`` and 16 hexadecimal digits,
:func:`bot.workers.submission.new_reference`) is what makes "exactly once" possible
(``bot/workers/submission.py``). When a POST goes out and no clear answer comes back (the
connection broke, the answer timed out, the bot was killed), Coachview may or may not have
stored the webaanvraag; before sending again the worker looks for it
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
crashed; the module docstring of ``bot/workers/submission.py`` says what is left.

``aanvraagIsOrder`` is sent only when ``COACHVIEW_AANVRAAG_IS_ORDER`` is set (both live
enrollment forms found send ``true``; Coachview does not document its meaning).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from bot.coachview.models import Webaanvraag
from bot.enrollment import Enrollment, Participant

__all__ = [
    "DEFAULT_REFERENCE_FIELD",
    "Extras",
    "IncompleteEnrollment",
    "build_webaanvraag",
    "carries_reference",
    "check_reference_field",
    "path_problem",
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
    extras: Extras | None = None,
) -> dict[str, Any]:
    """The JSON body of ``POST /api/v1/Webaanvragen`` for a complete enrollment: the answers
    to the provider's own questions (``extras``) where their paths say, the ``reference`` at
    ``reference_field`` (last, so it ends the remark), ``aanvraagIsOrder`` only when it is not
    ``None``."""
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
    if extras is not None:
        _merge_extras(body, extras, attending=bool(enrollment.attending))
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


# -- The provider's own questions (bot/questions.py) ---------------------------------------------
#
# A question's answer goes where its ``coachview`` path says: a field of a Persoon (the contact
# person, or each person) or a dotted path in the webaanvraag itself. The shapes below are the
# fields live forms send (docs/coachview.md); a path outside them is refused when the questions
# file is read, so a typo stops the program instead of losing answers.

_TEXT: Final = "text"
_DATE: Final = "date"  # Coachview takes yyyy-mm-dd
_BOOL: Final = "bool"
_FREE: Final = "free"  # a map of free fields: any code, any value
_ADRES: Final[dict[str, Any]] = {
    "adres1": _TEXT,
    "postcode": _TEXT,
    "plaats": _TEXT,
    "landCode": _TEXT,
}
PERSOON: Final[dict[str, Any]] = {
    "voorletters": _TEXT,
    "voornaam": _TEXT,
    "tussenvoegsels": _TEXT,
    "achternaam": _TEXT,
    "emailadres": _TEXT,
    "telefoonnummer": _TEXT,
    "geboorteDatum": _DATE,
    "geslacht": _TEXT,
    "adres": _ADRES,
    "factuurAdres": _ADRES,
    "opmerking": _TEXT,
    "vrijeveldenPersoon": _FREE,
    "optInOut": _BOOL,
}
WEBAANVRAAG: Final[dict[str, Any]] = {
    "referentieNrKlant": _TEXT,
    "opmerking": _TEXT,
    "aanvraagIsOrder": _BOOL,
    "vrijevelden": _FREE,
    "bedrijf": {
        "naam": _TEXT,
        "emailadres": _TEXT,
        "telefoonnummer": _TEXT,
        "adres": _ADRES,
        "factuurAdres": _ADRES,
    },
    "contactpersoonIsLeidinggevende": _BOOL,
    "debiteur": {
        "naamRekeninghouder": _TEXT,
        "particulier": _BOOL,
        "emailType": _TEXT,
        "emailadresAnders": _TEXT,
    },
}
#: What the bot fills from its own questions (names, e-mail, phone, company, remark): a
#: provider's question cannot take these over (nor the place of the bot's reference,
#: ``COACHVIEW_REFERENCE_FIELD``: checked with the settings).
_BOT_FILLS: Final = frozenset({"opmerking", "bedrijf.naam"})
_BOT_FILLS_PERSOON: Final = frozenset({"voornaam", "tussenvoegsels", "achternaam", "emailadres"})

Scope = Literal["contact", "each-person", "enrollment"]
"""Whose answer it is: the contact person's, every person's, or the enrollment's."""


def persoon_path(path: str, scope: Scope) -> bool:
    """Whether ``path`` of a question for ``scope`` is a field of a Persoon (else of the body).

    Each person's answers always go in their Persoon; the contact person's go in theirs when
    the path starts with a Persoon field (``geboorteDatum``), else in the webaanvraag
    (``debiteur.emailadresAnders``); the enrollment's always in the webaanvraag.
    """
    if scope == "each-person":
        return True
    return scope == "contact" and path.split(".", 1)[0] in PERSOON


def path_problem(path: str, scope: Scope, *, kind: str) -> str | None:
    """Why a question of ``kind`` for ``scope`` cannot send its answer to ``path``, or ``None``.

    ``kind`` is the question's (``date`` and ``yesno`` matter: Coachview's date and yes/no
    fields take nothing else).
    """
    persoon = persoon_path(path, scope)
    shape: Any = PERSOON if persoon else WEBAANVRAAG
    where = "a Persoon" if persoon else "the webaanvraag"
    parts = path.split(".")
    if not all(parts):
        return f"coachview path {path!r} has an empty part"
    for depth, part in enumerate(parts):
        if shape == _FREE:
            if depth != len(parts) - 1:
                return f"coachview path {path!r}: a free field holds one value, not fields"
            shape = _FREE
            break
        if not isinstance(shape, dict) or part not in shape:
            return f"coachview path {path!r} is not a field of {where}"
        shape = shape[part]
    else:
        if shape == _FREE:
            return f"coachview path {path!r} needs a free field code, e.g. {path}.Code"
    if isinstance(shape, dict):
        return f"coachview path {path!r} is an object, not a field: name one of its fields"
    if path in (_BOT_FILLS_PERSOON if persoon else _BOT_FILLS) or (
        persoon and scope == "contact" and path == "telefoonnummer"
    ):
        return f"coachview path {path!r} is filled by the bot's own questions"
    if shape == _DATE and kind != "date":
        return f"coachview path {path!r} takes a date: the question's kind must be date"
    if shape == _BOOL and kind != "yesno":
        return f"coachview path {path!r} takes yes or no: the question's kind must be yesno"
    return None


@dataclass(frozen=True)
class Extras:
    """The answers to the provider's own questions, by ``coachview`` path: for the webaanvraag,
    for the contact person's Persoon, and for each participant's (in the enrollment's order)."""

    body: Mapping[str, object] = field(default_factory=dict)
    contact: Mapping[str, object] = field(default_factory=dict)
    participants: Sequence[Mapping[str, object]] = ()


def _put(target: dict[str, Any], path: str, value: object) -> None:
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def _merge_extras(body: dict[str, Any], extras: Extras, *, attending: bool) -> None:
    """Put the answers in the body the mapping above built (after it, so both combine)."""
    for path, value in extras.body.items():
        _put(body, path, value)
    deelnemers: list[dict[str, Any]] = body.get("deelnemers", [])
    others = deelnemers[1:] if attending and deelnemers else deelnemers
    contacts = (
        [body["contactpersoon"], *deelnemers[:1]]
        if attending and deelnemers
        else [body["contactpersoon"]]
    )
    for path, value in extras.contact.items():
        for persoon in contacts:
            _put(persoon, path, value)
    for persoon, answers in zip(others, extras.participants, strict=False):
        for path, value in answers.items():
            _put(persoon, path, value)
