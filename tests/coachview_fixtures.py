"""Fixtures and helpers for the Coachview client and sandbox tests.

A test module imports the fixtures it uses by their ``*_fixture`` names (the fixture itself is
called ``sandbox``, ``client``, ...); no conftest is needed.

The sandbox and the client share one :class:`ManualClock`, so token lifetimes, cache lifetimes
and the daily budget move only when a test moves the clock.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.clock import ManualClock
from bot.coachview.client import CoachviewClient
from sandbox.coachview import CoachviewSandbox

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

# The seed document's three example bodies, character for character
# (tests/data/coachview-webaanvragen-api.txt).
SEED_ONLY_SELF = """{
 "opmerking": "Een persoon schrijft alleen zichzelf in",
 "contactpersoon": {
  "voornaam": "Contact",
  "achternaam": "Persoon"
 }
}"""
SEED_ONLY_OTHERS = """{
 "opmerking": "Een persoon schrijft alleen anderen in",
 "contactpersoon": {
  "voornaam": "Contact",
  "achternaam": "Persoon"
 },
 "deelnemers": [
  {
    "voornaam": "Deel",
    "achternaam": "Nemer 1"
  },
  {
    "voornaam": "Deel",
    "achternaam": "Nemer 2"
  }
 ]
}"""
SEED_SELF_AND_OTHERS = """{
 "opmerking": "Een persoon schrijft zichzelf en anderen in",
 "contactpersoon": {
  "voornaam": "Contact",
  "achternaam": "Persoon"
 },
 "deelnemers": [
  {
    "voornaam": "Contact",
    "achternaam": "Persoon"
  },
  {
    "voornaam": "Deel",
    "achternaam": "Nemer 1"
  },
  {
    "voornaam": "Deel",
    "achternaam": "Nemer 2"
  }
 ]
}"""


# A live ``GET /api/v1/Opleidingen`` item as an integration against production Coachview printed
# it (docs/coachview.md, "The catalogue"; the ids are whole here).
LIVE_OPLEIDING: dict[str, Any] = {
    "id": "47a8c98a-9ad5-4bc5-909c-3eff9485d32c",
    "code": "PC-KLAS-77-Utrecht",
    "naam": "Opleiding De pedagogisch coach",
    "opleidingStatusId": "TeStarten",
    "opmerking": None,
    "publicatie": True,
    "publicatiePlanning": True,
    "planningstype": "GeenRoostering",
    "planningsfrequentieAantal": 1,
    "planningsfrequentieTijdseenheid": "Dag",
    "planningWeekdagen": "geen",
    "planningConflictafhandeling": "GebruikEerstBeschikbareDag",
    "begindatumOorspronkelijkeOpleiding": None,
    "redenOpleidingGeannuleerdOmschrijving": None,
    "deadlineInschrijven": True,
    "deadlineUitschrijven": True,
    "opleidingssoortId": "eee7e3ad-533a-4554-a0fc-d2923fe20ccf",
    "contactpersoonId": "3d74e4bc-baef-4c26-9591-d33f7d4cc297",
    "contactpersoon2Id": None,
    "startLocatieId": "f2cd4ebb-11a0-4619-b44b-4ec6f5c52dce",
    "redenOpleidingGeannuleerdId": None,
    "startDag": "Vrijdag",
    "eindDag": "Vrijdag",
    "startDatum": "2025-06-06T09:30:00",
    "eindDatum": "2025-12-12T17:00:00",
    "aantalPlaatsenMin": 5,
    "aantalPlaatsenMax": 12,
    "aantalPlaatsenVrij": 12,
    "aantalPlaatsenBezet": 0,
    "totaalStudiebelasting": 0,
    "totaalAantalUur": 52.5,
    "aantalOnderdelen": 7,
    "aantalPersonenOpIngediendeWebaanvragen": None,
    "auditTrail": {
        "aangemaaktDatumTijd": "2025-01-16T15:47:18.433",
        "aangemaaktDoor": "lindsey.derks",
        "gewijzigdDatumTijd": "2025-01-22T11:34:10.919",
        "gewijzigdDoor": "lindsey.derks",
        "etag": 240923003,
    },
}

# The fields live ``GET /api/v1/Opleidingssoorten`` items are known to carry [code].
LIVE_OPLEIDINGSSOORT: dict[str, Any] = {
    "id": "eee7e3ad-533a-4554-a0fc-d2923fe20ccf",
    "code": "PC-KLAS",
    "naam": "De pedagogisch coach",
    "doel": "Je coacht pedagogisch medewerkers in hun dagelijkse werk.",
    "omschrijvingInhoud": "<p>Zeven dagen <strong>praktijk</strong>.</p><ul><li>Dag 1</li></ul>",
    "totaalBedragExclBtwGepubliceerdeVerkoopregels": 2495.0,
    "aantalOnderdelen": 7,
    "publicatieWebsite": True,
    "inactief": False,
    "opleidingssoortStatusId": "Actief",
}


@pytest.fixture(name="clock")
def clock_fixture() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(name="sandbox")
async def sandbox_fixture(clock: ManualClock) -> AsyncIterator[CoachviewSandbox]:
    async with CoachviewSandbox(clock=clock) as running:
        yield running


@pytest.fixture(name="make_client")
async def make_client_fixture(
    sandbox: CoachviewSandbox, clock: ManualClock
) -> AsyncIterator[Callable[..., CoachviewClient]]:
    """Make clients against the sandbox (closed after the test); keywords override."""
    made: list[CoachviewClient] = []

    def make(**overrides: Any) -> CoachviewClient:
        options: dict[str, Any] = {
            "base_url": sandbox.url,
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "clock": clock,
            "timeout": httpx.Timeout(5.0),
        }
        options.update(overrides)
        client = CoachviewClient(**options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture(name="client")
def client_fixture(make_client: Callable[..., CoachviewClient]) -> CoachviewClient:
    return make_client()


@pytest.fixture(name="http")
async def http_fixture(sandbox: CoachviewSandbox) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client for speaking to the sandbox directly."""
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=5.0) as plain:
        yield plain


async def bearer(
    http: httpx.AsyncClient, sandbox: CoachviewSandbox, scope: str = ""
) -> dict[str, str]:
    """An ``Authorization`` header with a fresh token of the sandbox's client."""
    form = {
        "grant_type": "client_credentials",
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
    }
    if scope:
        form["scope"] = scope
    answer = await http.post("/auth/connect/token", data=form)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def webaanvraag_body(**extra: Any) -> dict[str, Any]:
    """A small valid webaanvraag body (the contactpersoon only), with ``extra`` fields."""
    body: dict[str, Any] = {
        "opmerking": "test",
        "contactpersoon": {"voornaam": "Anna", "achternaam": "Jansen"},
    }
    body.update(extra)
    return body


def problem_errors(response_body: str | None) -> dict[str, list[str]]:
    """The ``errors`` of an ASP.NET problem-details body."""
    assert response_body is not None
    problem = json.loads(response_body)
    assert problem["status"] == 400
    assert problem["title"] == "One or more validation errors occurred."
    errors: dict[str, list[str]] = problem["errors"]
    return errors
