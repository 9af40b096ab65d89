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

The bot's own reference travels in ``referentieNrKlant`` (the client's reference number), and
it is what makes "exactly once" possible (``bot/submission.py``). When a POST goes out and no
clear answer comes back (the connection broke, the answer timed out, the bot was killed),
Coachview may or may not have stored the webaanvraag; before sending again the worker asks
``GET Webaanvragen?where=referentieNrKlant=<reference>`` and, if it is there, records it as
submitted instead of posting a second one. Why this field:

- it is a top-level text field of the webaanvraag that the sender fills in: by its name the
  customer's own reference number for the request (the field is seen in working integrations;
  that Coachview stores and returns it as sent is a *guess*, checked only against the sandbox);
- it can be filtered on with ``where`` like the other fields of the resource (*guess*: the
  filter is documented for fields in general, not for this one; if Coachview refuses it, the
  look-up fails, and the worker then keeps the row waiting and alerts staff instead of posting
  blindly);
- the bot never asks people for a reference number of their own, so the field is free;
- the alternatives are worse: ``id`` and ``nummer`` are chosen by Coachview, so they are only
  known after an answer, which is what was lost; ``opmerking`` is free text that staff read and
  edit.

The value is ``TG-`` and 16 random hexadecimal digits (:func:`bot.submission.new_reference`),
made once when the person confirms and stored with the payload in the outbox row, so every
attempt sends the same reference. It holds no personal data and no ``,`` or ``;`` (which would
change a filter's meaning).

What it cannot close: Coachview might store a POST after the look-up of the next attempt said
"not there" (a request that was still being processed). The worker makes that window small: it
gives a POST up after half its lease, and the look-up of the next attempt comes only after the
lease has run out (``SUBMISSION_LEASE``, 2 minutes by default), whether the bot lived on or
crashed; the module docstring of ``bot/submission.py`` says what is left.
"""

from __future__ import annotations

from typing import Any

from bot.enrollment import Enrollment, Participant

__all__ = ["REFERENCE_FIELD", "IncompleteEnrollment", "build_webaanvraag", "run_ids"]

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


def run_ids(payload: dict[str, Any]) -> list[str]:
    """The runs (``opleidingId``) a webaanvraag body asks for, in its order."""
    found = []
    for opleiding in payload.get("opleidingen") or []:
        run_id = opleiding.get("opleidingId") if isinstance(opleiding, dict) else None
        if isinstance(run_id, str) and run_id:
            found.append(run_id)
    return found
