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

The bot's own reference goes where ``COACHVIEW_REFERENCE_FIELD`` says
(:mod:`bot.coachview.reference`, which tells why it makes "exactly once" possible).

``aanvraagIsOrder`` is sent only when ``COACHVIEW_AANVRAAG_IS_ORDER`` is set (both live
enrollment forms found send ``true``; Coachview does not document its meaning).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from bot.coachview.reference import (
    DEFAULT_REFERENCE_FIELD,
    carries_reference,
    check_reference_field,
    place_reference,
)
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
