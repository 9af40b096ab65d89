"""The Coachview models against the shapes live records have: the real ``Opleidingen`` item of a
production integration, and variations of it (flags, nulls, floats, missing fields, junk)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from bot.coachview.models import (
    COACHVIEW_TZ,
    CreatedWebaanvraag,
    Opleiding,
    Opleidingssoort,
    Webaanvraag,
    WebaanvraagDeelnemer,
    WebaanvraagOpleiding,
)
from tests.coachview_fixtures import LIVE_OPLEIDING, LIVE_OPLEIDINGSSOORT

BEFORE_START = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def live_run(**changes: Any) -> dict[str, Any]:
    """The live item with ``changes`` (a value of ``...`` removes the field)."""
    item = {**LIVE_OPLEIDING, **changes}
    return {key: value for key, value in item.items() if value is not ...}


def test_the_live_run_parses_as_it_is() -> None:
    run = Opleiding.model_validate(LIVE_OPLEIDING)

    assert run.id == "47a8c98a-9ad5-4bc5-909c-3eff9485d32c"
    assert run.naam == "Opleiding De pedagogisch coach"
    assert run.opleidingssoort_id == "eee7e3ad-533a-4554-a0fc-d2923fe20ccf"
    assert run.deadline_inschrijven is True  # a flag: "a deadline applies", not a date
    assert run.deadline_uitschrijven is True
    assert run.start_datum == datetime(2025, 6, 6, 9, 30, tzinfo=COACHVIEW_TZ)  # naive = Dutch
    assert run.start_datum.utcoffset().total_seconds() == 7200  # type: ignore[union-attr]
    assert run.totaal_aantal_uur == Decimal("52.5")
    assert run.aantal_plaatsen_vrij == 12
    assert run.publicatie is True
    assert run.model_extra is not None
    assert run.model_extra["auditTrail"]["etag"] == 240923003  # unknown fields are kept
    assert run.open_for_enrollment(BEFORE_START)
    assert not run.open_for_enrollment(datetime(2025, 6, 6, 8, 0, tzinfo=UTC))  # started


@pytest.mark.parametrize(
    "changes",
    [
        {"deadlineInschrijven": False, "deadlineUitschrijven": None},
        {"deadlineInschrijven": "2025-06-01T00:00:00", "deadlineUitschrijven": "ja"},
        {"aantalPlaatsenVrij": 12.0, "totaalAantalUur": 52},
        {"aantalPlaatsenVrij": None, "eindDatum": None, "opleidingStatusId": None},
        {"eindDatum": "12-12-2025", "totaalAantalUur": "veel", "aantalOnderdelen": [7]},
        {"code": None, "publicatie": None, "startDag": 5, "auditTrail": "kapot"},
        {"aantalPlaatsenVrij": "twaalf", "deadlineInschrijven": {"datum": 1}},
        {"eindDatum": ..., "deadlineInschrijven": ..., "aantalPlaatsenVrij": ..., "code": ...},
        {"startDatum": "2025-06-06T09:30:00.1234567", "eindDatum": "2025-12-12"},
        {"nieuwVeld": {"wat": "dan ook"}, "publicatiePlanning": "misschien"},
    ],
)
def test_fields_the_bot_can_do_without_never_fail_a_run(changes: dict[str, Any]) -> None:
    run = Opleiding.model_validate(live_run(**changes))

    assert run.id == LIVE_OPLEIDING["id"]
    assert run.start_datum is not None
    assert run.start_datum.date() == date(2025, 6, 6)
    assert run.open_for_enrollment(BEFORE_START)


def test_unreadable_values_read_as_unknown() -> None:
    run = Opleiding.model_validate(
        live_run(aantalPlaatsenVrij="twaalf", totaalAantalUur="veel", eindDatum="gisteren")
    )
    assert run.aantal_plaatsen_vrij is None
    assert run.totaal_aantal_uur is None
    assert run.eind_datum is None
    assert Opleiding.model_validate(live_run(code=None)).code == ""


def test_what_closes_a_run() -> None:
    def is_open(**changes: Any) -> bool:
        return Opleiding.model_validate(live_run(**changes)).open_for_enrollment(BEFORE_START)

    assert is_open(opleidingStatusId="Definitief")
    assert not is_open(opleidingStatusId="Geannuleerd")
    assert not is_open(opleidingStatusId="Uitgevoerd")
    assert not is_open(publicatie=False)
    assert not is_open(aantalPlaatsenVrij=0)
    assert is_open(deadlineInschrijven=True)  # a flag alone closes nothing
    assert not is_open(deadlineInschrijven="2025-04-30T00:00:00")  # a dated one that passed
    assert is_open(deadlineInschrijven="2025-05-30T00:00:00")
    assert is_open(startDatum=None)  # a date to be set


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": None}, "id"),
        ({"id": ...}, "id"),
        ({"naam": None}, "naam"),
        ({"naam": "   "}, "naam"),
        ({"opleidingssoortId": ...}, "opleidingssoortId"),
        ({"startDatum": "volgende week"}, "startDatum"),
        ({"startDatum": 20250606}, "startDatum"),
    ],
)
def test_a_run_the_bot_cannot_use_fails_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Opleiding.model_validate(live_run(**changes))
    (error,) = caught.value.errors()
    assert error["loc"] == (field,)


def test_a_live_course_type() -> None:
    kind = Opleidingssoort.model_validate(LIVE_OPLEIDINGSSOORT)

    assert kind.prijs_excl_btw == Decimal("2495.0")
    assert kind.doel == "Je coacht pedagogisch medewerkers in hun dagelijkse werk."
    assert kind.omschrijving_inhoud is not None
    assert kind.aantal_onderdelen == 7
    assert kind.offered


@pytest.mark.parametrize(
    ("changes", "offered"),
    [
        ({"publicatieWebsite": False}, False),
        ({"inactief": True}, False),
        ({"opleidingssoortStatusId": "Vervallen"}, False),
        ({"opleidingssoortStatusId": "INACTIEF"}, False),
        ({"opleidingssoortStatusId": "Definitief"}, True),  # a value never seen: stays open
        ({"opleidingssoortStatusId": None, "publicatieWebsite": None, "inactief": None}, True),
        ({"inactief": "nee", "totaalBedragExclBtwGepubliceerdeVerkoopregels": "gratis"}, True),
    ],
)
def test_which_course_types_are_offered(changes: dict[str, Any], offered: bool) -> None:
    kind = Opleidingssoort.model_validate({**LIVE_OPLEIDINGSSOORT, **changes})
    assert kind.offered is offered


def test_a_course_type_needs_only_an_id_and_a_name() -> None:
    bare = Opleidingssoort.model_validate({"id": 42, "naam": "EHBO", "code": None})
    assert (bare.id, bare.code, bare.prijs_excl_btw, bare.doel) == ("42", "", None, None)
    assert Opleidingssoort.model_validate(
        {"id": "x", "naam": "N", "totaalBedragExclBtwGepubliceerdeVerkoopregels": 149}
    ).prijs_excl_btw == Decimal(149)
    with pytest.raises(ValidationError):
        Opleidingssoort.model_validate({"id": "x", "naam": None})


def test_webaanvraag_records_take_nulls_and_junk_where_the_bot_can() -> None:
    record = Webaanvraag.model_validate(
        {
            "id": "w-1",
            "nummer": 1042,
            "aantalDeelnemers": 2.0,
            "contactpersoonIsDeelnemer": None,
            "aanvraagDatum": "2026-03-02T09:00:00.0000000",
            "contactpersoon": {"voornaam": "Anna", "telefoonnummer": 612345678, "adres": None},
            "bedrijf": "onbekend",
            "debiteur": None,
            "referentieNrKlant": None,
            "status": None,
            "vrijevelden": {"VrijveldFunctie": "coach"},
        }
    )
    assert (record.nummer, record.aantal_deelnemers) == ("1042", 2)
    assert record.contactpersoon_is_deelnemer is None
    assert record.aanvraag_datum == datetime(2026, 3, 2, 9, 0, tzinfo=COACHVIEW_TZ)
    assert record.contactpersoon is not None
    assert record.contactpersoon.telefoonnummer == "612345678"
    assert record.bedrijf is None
    bare = Webaanvraag.model_validate({"id": "w-2", "nummer": "1043", "aantalDeelnemers": None})
    assert bare.aantal_deelnemers is None  # still found by a look-up; shown as unknown
    with pytest.raises(ValidationError):
        Webaanvraag.model_validate({"id": "w-3", "nummer": None, "aantalDeelnemers": 1})

    row = WebaanvraagOpleiding.model_validate(
        {"id": "r", "webaanvraagId": "w-1", "startDatum": True, "opleidingId": None}
    )
    assert (row.start_datum, row.opleiding_id) == (None, None)
    person = WebaanvraagDeelnemer.model_validate(
        {"id": "d", "webaanvraagId": "w-1", "achternaam": None, "emailadres": 5}
    )
    assert (person.achternaam, person.emailadres) == (None, "5")
    created = CreatedWebaanvraag.model_validate({"nummer": 7, "id": {"guid": "?"}})
    assert (created.nummer, created.id) == ("7", None)
