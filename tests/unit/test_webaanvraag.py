"""The Enrollment -> webaanvraag mapping against the three examples of Coachview's own docs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.coachview.models import Webaanvraag
from bot.coachview.webaanvraag import (
    IncompleteEnrollment,
    build_webaanvraag,
    carries_reference,
    check_reference_field,
)
from bot.enrollment import Contact, CourseChoice, Enrollment, Participant

SEED = Path(__file__).resolve().parents[1] / "data" / "coachview-webaanvragen-api.txt"
COURSE = CourseChoice(opleidingssoort_id="soort-1", opleidingssoort_naam="VCA Basis")


def seed_examples() -> list[dict[str, object]]:
    """The three JSON bodies of the seed document, verbatim."""
    text = SEED.read_text(encoding="utf-8")
    bodies = re.findall(r"^\{\n.*?^\}", text, flags=re.S | re.M)
    assert len(bodies) == 3
    return [json.loads(body) for body in bodies]


def person(first: str, last: str) -> Participant:
    return Participant(first_name=first, last_name=last)


def seed_enrollment(remark: str, *, attending: bool, others: int) -> Enrollment:
    return Enrollment(
        course=COURSE,
        contact=Contact(first_name="Contact", last_name="Persoon", email="c@example.nl"),
        attending=attending,
        participants=[person("Deel", f"Nemer {n}") for n in range(1, others + 1)],
        remark=remark,
    )


def without_email(body: dict[str, Any]) -> dict[str, Any]:
    """The seed's bodies carry names only: compare without the e-mail we also send."""
    clean: dict[str, Any] = json.loads(json.dumps(body))
    clean["contactpersoon"].pop("emailadres")
    for deelnemer in clean.get("deelnemers", []):
        deelnemer.pop("emailadres", None)
    return clean


@pytest.mark.parametrize(
    ("index", "attending", "others"),
    [(0, True, 0), (1, False, 2), (2, True, 2)],
    ids=["only-themself", "only-others", "themself-and-others"],
)
def test_each_seed_scenario_produces_the_seed_body(index, attending, others):
    example = seed_examples()[index]
    enrollment = seed_enrollment(str(example["opmerking"]), attending=attending, others=others)

    body = without_email(build_webaanvraag(enrollment, reference="TG-1"))

    # The seed's body, but for the bot's reference on a line of its own under the remark
    # (COACHVIEW_REFERENCE_FIELD's default) and the course.
    assert body["opmerking"] == f"{example['opmerking']}\nTG-1"
    for key, value in example.items():
        if key != "opmerking":
            assert body[key] == value, key
    assert ("deelnemers" in body) == ("deelnemers" in example)
    assert set(body) - set(example) == {"opleidingen"}


def test_contact_person_attending_with_others_goes_first_with_the_same_details():
    enrollment = seed_enrollment("x", attending=True, others=1)
    enrollment.contact.phone = "+31612345678"
    body = build_webaanvraag(enrollment)
    assert body["deelnemers"][0] == body["contactpersoon"]
    assert body["deelnemers"][1] == {"voornaam": "Deel", "achternaam": "Nemer 1"}


def test_coachview_field_names_and_nothing_empty_is_sent():
    enrollment = Enrollment(
        course=CourseChoice(
            opleidingssoort_id="soort-1", opleidingssoort_naam="VCA", opleiding_id="run-7"
        ),
        contact=Contact(
            first_name="Jan",
            prefix="van der",
            last_name="Berg",
            email="jan@example.nl",
            phone="+31612345678",
            company="Berg & Zn",
        ),
        attending=False,
        participants=[Participant(first_name="Piet", last_name="Jansen")],
    )
    body = build_webaanvraag(enrollment, reference="TG-ABC")
    assert body == {
        "opmerking": "TG-ABC",
        "bedrijf": {"naam": "Berg & Zn"},
        "contactpersoon": {
            "voornaam": "Jan",
            "tussenvoegsels": "van der",
            "achternaam": "Berg",
            "emailadres": "jan@example.nl",
            "telefoonnummer": "+31612345678",
        },
        "deelnemers": [{"voornaam": "Piet", "achternaam": "Jansen"}],
        "opleidingen": [{"opleidingssoortId": "soort-1", "opleidingId": "run-7"}],
    }


def test_any_date_sends_the_course_type_only():
    enrollment = seed_enrollment("", attending=True, others=0)
    body = build_webaanvraag(enrollment)
    assert body["opleidingen"] == [{"opleidingssoortId": "soort-1"}]
    assert "opmerking" not in body
    assert "bedrijf" not in body


def test_an_incomplete_enrollment_is_refused():
    with pytest.raises(IncompleteEnrollment):
        build_webaanvraag(Enrollment(course=COURSE, attending=False))


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("opmerking", {"opmerking": "Graag vegetarisch\nTG-9"}),
        ("referentieNrKlant", {"opmerking": "Graag vegetarisch", "referentieNrKlant": "TG-9"}),
        (
            "vrijevelden.TelegramRef",
            {"opmerking": "Graag vegetarisch", "vrijevelden": {"TelegramRef": "TG-9"}},
        ),
    ],
)
def test_the_reference_goes_where_the_operator_chose_and_is_found_there(field, expected):
    enrollment = seed_enrollment("Graag vegetarisch", attending=True, others=0)
    body = build_webaanvraag(enrollment, reference="TG-9", reference_field=field)
    assert {key: body[key] for key in expected} == expected
    assert ("referentieNrKlant" in body) == (field == "referentieNrKlant")
    # What Coachview gives back carries it where the look-up matches it, in any case.
    stored = Webaanvraag.model_validate(
        {"id": "w-1", "nummer": 1001, "aantalDeelnemers": 1, "contactpersoonIsDeelnemer": True}
        | body
    )
    assert carries_reference(stored, field, "tg-9")
    assert not carries_reference(stored, field, "TG-1")


def test_a_remark_that_merely_mentions_the_reference_does_not_match():
    stored = Webaanvraag.model_validate(
        {
            "id": "w-1",
            "nummer": 1001,
            "aantalDeelnemers": 1,
            "contactpersoonIsDeelnemer": True,
            "opmerking": "zie TG-9 van vorige week",
        }
    )
    assert not carries_reference(stored, "opmerking", "TG-9")


@pytest.mark.parametrize(("setting", "sent"), [(None, None), (True, True), (False, False)])
def test_aanvraag_is_order_is_sent_only_when_set(setting, sent):
    body = build_webaanvraag(
        seed_enrollment("x", attending=True, others=0), aanvraag_is_order=setting
    )
    assert body.get("aanvraagIsOrder") is sent
    assert ("aanvraagIsOrder" in body) == (setting is not None)


@pytest.mark.parametrize("field", ["", "bedrijf.naam", "vrijevelden.", "vrijevelden.a b"])
def test_a_reference_field_the_bot_cannot_use_is_refused(field):
    with pytest.raises(ValueError, match="opmerking, referentieNrKlant or vrijevelden"):
        check_reference_field(field)
