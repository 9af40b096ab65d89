"""From a finished :class:`~bot.enrollment.Enrollment` to the webaanvraag body Coachview expects.

A pure function, tested against the three example bodies of Coachview's own documentation
(``shared/seed/coachview-webaanvragen-api.txt``), which decide who goes where:

========================= =================== ===========================================
the person enrolls        ``contactpersoon``  ``deelnemers``
========================= =================== ===========================================
only themself             the person          omitted
only others               the person          the others
themself and others       the person          the person **first**, then the others
========================= =================== ===========================================

Nothing empty is sent: absent values are left out rather than sent as ``""`` or ``null``.

The bot's own reference travels in ``referentieNrKlant`` (the client's reference number). It is
a top-level text field of the webaanvraag that Coachview stores and returns, and that can be
filtered on (``where=referentieNrKlant=...``), so after an ambiguous failure the submission
worker can ask Coachview whether the webaanvraag already arrived; the bot never asks people for a
reference number of their own, so the field is free for this use.
"""

from __future__ import annotations

from typing import Any

from bot.enrollment import Enrollment, Participant

__all__ = ["REFERENCE_FIELD", "IncompleteEnrollment", "build_webaanvraag"]

REFERENCE_FIELD = "referentieNrKlant"


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


def build_webaanvraag(enrollment: Enrollment, *, reference: str | None = None) -> dict[str, Any]:
    """The JSON body of ``POST /api/v1/Webaanvragen`` for a complete enrollment."""
    if not enrollment.is_complete or enrollment.course is None:
        raise IncompleteEnrollment("the enrollment is not complete")
    contact = enrollment.contact
    contactpersoon = _persoon(contact, phone=contact.phone)
    others = [_persoon(participant) for participant in enrollment.participants]

    body: dict[str, Any] = {}
    if reference:
        body[REFERENCE_FIELD] = reference
    if enrollment.remark:
        body["opmerking"] = enrollment.remark
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
    return body
