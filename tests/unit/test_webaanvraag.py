"""The Enrollment -> webaanvraag mapping against the three examples of Coachview's own docs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.coachview.webaanvraag import IncompleteEnrollment, build_webaanvraag
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

    for key, value in example.items():
        assert body[key] == value, key
    assert ("deelnemers" in body) == ("deelnemers" in example)
    assert set(body) - set(example) == {"opleidingen", "referentieNrKlant"}


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
        "referentieNrKlant": "TG-ABC",
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
