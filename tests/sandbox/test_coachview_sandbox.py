"""The Coachview sandbox: faithful to the seed and to ``docs/coachview.md``, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.clock import ManualClock
from bot.coachview.client import CoachviewClient
from bot.coachview.guesses import Guess
from bot.coachview.models import format_filter_date, parse_coachview_datetime
from bot.errors import CoachviewUnavailable
from sandbox.coachview import SCOPES, CoachviewSandbox, Strictness, derive_participants
from tests.coachview_fixtures import (  # noqa: F401 - the *_fixture names are fixtures
    LIVE_OPLEIDING,
    LIVE_OPLEIDINGSSOORT,
    SEED_ONLY_OTHERS,
    SEED_ONLY_SELF,
    SEED_SELF_AND_OTHERS,
    bearer,
    client_fixture,
    clock_fixture,
    http_fixture,
    make_client_fixture,
    problem_errors,
    sandbox_fixture,
    webaanvraag_body,
)
from tests.waiting import wait_until

MakeClient = Callable[..., CoachviewClient]
WEBAANVRAGEN = "/api/v1/Webaanvragen"
TOKEN = "/auth/connect/token"


async def post_raw(
    http: httpx.AsyncClient,
    sandbox: CoachviewSandbox,
    content: str | bytes,
    content_type: str = "application/json",
) -> httpx.Response:
    headers = await bearer(http, sandbox)
    headers["Content-Type"] = content_type
    return await http.post(WEBAANVRAGEN, content=content, headers=headers)


# -- The seed's three scenarios ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("seed_body", "aantal", "contact_is_deelnemer", "others"),
    [
        (SEED_ONLY_SELF, 1, True, []),
        (SEED_SELF_AND_OTHERS, 3, True, ["Nemer 1", "Nemer 2"]),
        (SEED_ONLY_OTHERS, 2, False, ["Nemer 1", "Nemer 2"]),
    ],
    ids=["only-self", "self-and-two-others", "only-two-others"],
)
async def test_seed_scenarios_exactly(
    http: httpx.AsyncClient,
    sandbox: CoachviewSandbox,
    client: CoachviewClient,
    seed_body: str,
    aantal: int,
    contact_is_deelnemer: bool,
    others: list[str],
):
    answer = await post_raw(http, sandbox, seed_body.encode())

    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert set(created) == {"id", "nummer", "betaalproviderRedirectUrl"}
    assert isinstance(created["nummer"], int)
    assert created["betaalproviderRedirectUrl"] is None
    assert sandbox.webaanvragen[0].raw == seed_body.encode()

    webaanvraag = await client.get_webaanvraag(created["id"])
    assert webaanvraag.aantal_deelnemers == aantal
    assert webaanvraag.contactpersoon_is_deelnemer is contact_is_deelnemer
    assert webaanvraag.opmerking == json.loads(seed_body)["opmerking"]
    deelnemers = await client.list_webaanvraag_deelnemers(created["id"])
    assert [(d.voornaam, d.achternaam) for d in deelnemers] == [("Deel", n) for n in others]
    assert all(d.webaanvraag_id == created["id"] for d in deelnemers)
    assert await client.list_webaanvraag_opleidingen(created["id"]) == []


@pytest.mark.parametrize(
    ("contact", "first", "is_deelnemer"),
    [
        ({"voornaam": "Jan", "tussenvoegsels": "van der", "achternaam": "Berg"},
         {"voornaam": " JAN ", "tussenvoegsels": "Van  der", "achternaam": "berg"}, True),
        ({"voornaam": "Jan", "achternaam": "Berg", "emailadres": "jan@example.org"},
         {"voornaam": "Jan", "achternaam": "Berg", "emailadres": "JAN@example.org"}, True),
        ({"voornaam": "Jan", "achternaam": "Berg", "emailadres": "jan@example.org"},
         {"voornaam": "Jan", "achternaam": "Berg"}, True),
        ({"voornaam": "Jan", "achternaam": "Berg", "emailadres": "jan@example.org"},
         {"voornaam": "Jan", "achternaam": "Berg", "emailadres": "jan.berg@example.org"}, False),
        ({"voornaam": "Jan", "tussenvoegsels": "van", "achternaam": "Berg"},
         {"voornaam": "Jan", "achternaam": "Berg"}, False),
    ],
    ids=["case-and-spaces", "same-mail", "one-mail", "other-mail", "other-prefix"],
)  # fmt: skip
def test_is_the_first_deelnemer_the_contactpersoon(
    contact: dict[str, str], first: dict[str, str], is_deelnemer: bool
):
    other = {"voornaam": "Piet", "achternaam": "Bakker"}
    aantal, contact_is_deelnemer, rows = derive_participants(
        {"contactpersoon": contact, "deelnemers": [first, other]}
    )
    assert (aantal, contact_is_deelnemer) == (2, is_deelnemer)
    assert rows == ([other] if is_deelnemer else [first, other])


async def test_get_returns_what_post_stored(
    client: CoachviewClient, sandbox: CoachviewSandbox, http: httpx.AsyncClient
):
    seed = sandbox.catalogue.seed
    body = {
        "referentieNrKlant": "bot-42",
        "opmerking": "Graag een vegetarische lunch",
        "aanvraagIsOrder": False,
        "vrijevelden": {"HOE_GEVONDEN": "Telegram"},
        "bedrijf": {"naam": "Bouwbedrijf De Vries BV", "adres": {"plaats": "Utrecht"}},
        "contactpersoon": {
            "voornaam": "Eva",
            "tussenvoegsels": "de",
            "achternaam": "Vries",
            "emailadres": "eva@example.org",
            "telefoonnummer": "+31612345678",
            "geboorteDatum": "1990-05-17",
        },
        "debiteur": {"particulier": False, "naamRekeninghouder": "De Vries BV"},
        "deelnemers": [
            {"voornaam": "Eva", "tussenvoegsels": "de", "achternaam": "Vries"},
            {"voornaam": "Tom", "achternaam": "Smit", "emailadres": "tom@example.org"},
        ],
        "opleidingen": [
            {"opleidingssoortId": seed.open_soort, "opleidingId": seed.open_run},
            {"opleidingssoortId": seed.empty_soort},
        ],
    }
    created = await client.create_webaanvraag(body)

    headers = await bearer(http, sandbox)  # the record as Coachview sends it
    raw = (await http.get(f"{WEBAANVRAGEN}/{created.id}", headers=headers)).json()
    assert {k: v for k, v in raw.items() if k in body} == body
    assert raw["id"] == created.id
    assert str(raw["nummer"]) == created.nummer
    assert raw["aanvraagDatum"] == "2026-03-02T09:00:00"  # Dutch local time, naive
    assert (raw["aantalDeelnemers"], raw["contactpersoonIsDeelnemer"]) == (2, True)

    rows = await client.list_webaanvraag_opleidingen(str(created.id))
    run = sandbox.catalogue.opleiding(seed.open_run)
    assert run is not None
    assert [(r.opleidingssoort_code, r.opleiding_code, r.opleiding_naam) for r in rows] == [
        ("VCA-B", run["code"], run["naam"]),
        ("EHBO", None, None),
    ]
    assert rows[0].opleidingssoort_naam == "VCA Basis"
    assert rows[0].start_datum is not None
    assert rows[0].start_datum.isoformat(timespec="seconds").startswith(run["startDatum"])
    [tom] = await client.list_webaanvraag_deelnemers(str(created.id))
    assert (tom.voornaam, tom.emailadres) == ("Tom", "tom@example.org")


# -- Validation --------------------------------------------------------------------------------

SOORT = "c7d3ad43-5f38-5a2b-9d0c-1a1a1a1a1a1a"  # replaced by a seeded id in the test


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"opmerking": "x"}, "Contactpersoon"),
        ({"contactpersoon": None}, "Contactpersoon"),
        ({"contactpersoon": {"voornaam": "Anna"}}, "Contactpersoon.Achternaam"),
        (webaanvraag_body(contactpersoon={"voornaam": "Anna", "achternaam": "  "}),
         "Contactpersoon.Achternaam"),
        (webaanvraag_body(deelnemers={"voornaam": "Tom"}), "$.deelnemers"),
        (webaanvraag_body(contactpersoon={"voornaam": 7, "achternaam": "J"}),
         "$.contactpersoon.voornaam"),
        (webaanvraag_body(aanvraagIsOrder="ja"), "$.aanvraagIsOrder"),
        (webaanvraag_body(aantalPersonen="2"), "$.aantalPersonen"),
        (webaanvraag_body(deelnemers=[{"voornaam": "Tom"}]), "Deelnemers[0].Achternaam"),
        (webaanvraag_body(opleidingen=[{"opleidingId": None}]),
         "Opleidingen[0].OpleidingssoortId"),
        (webaanvraag_body(opleidingen=[{"opleidingssoortId": "geen-guid"}]),
         "$.opleidingen[0].opleidingssoortId"),
        (webaanvraag_body(opleidingen=[{"opleidingssoortId": str(uuid.UUID(int=5))}]),
         "Opleidingen[0].OpleidingssoortId"),
        (webaanvraag_body(opleidingen=[{"opleidingssoortId": SOORT,
                                        "opleidingId": str(uuid.UUID(int=6))}]),
         "Opleidingen[0].OpleidingId"),
        (webaanvraag_body(opleidingen=[{"opleidingssoortId": SOORT, "opleidingId": "FULL"}]),
         "Opleidingen[0].OpleidingId"),
        ([webaanvraag_body()], "$"),
    ],
    ids=[
        "no-contactpersoon",
        "null-contactpersoon",
        "no-achternaam",
        "blank-achternaam",
        "deelnemers-not-a-list",
        "name-not-a-string",
        "order-flag-not-a-bool",
        "count-not-a-number",
        "deelnemer-without-achternaam",
        "opleiding-without-soort",
        "soort-not-a-guid",
        "unknown-soort",
        "unknown-run",
        "run-of-another-soort",
        "array-not-object",
    ],
)  # fmt: skip
async def test_invalid_bodies_get_problem_details_naming_the_field(
    http: httpx.AsyncClient, sandbox: CoachviewSandbox, body: Any, field: str
):
    seed = sandbox.catalogue.seed
    text = json.dumps(body).replace(SOORT, seed.open_soort).replace("FULL", seed.full_run)

    answer = await post_raw(http, sandbox, text)

    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert field in problem_errors(answer.text)
    assert sandbox.webaanvragen == []


async def test_malformed_json_and_wrong_content_type(
    http: httpx.AsyncClient, sandbox: CoachviewSandbox
):
    broken = await post_raw(http, sandbox, '{"contactpersoon": {"achternaam": "J"')
    assert broken.status_code == 400
    assert "$" in problem_errors(broken.text)

    empty = await post_raw(http, sandbox, "")
    assert empty.status_code == 400

    form = await post_raw(http, sandbox, "contactpersoon=J", "application/x-www-form-urlencoded")
    assert form.status_code == 415
    assert form.json()["status"] == 415
    assert sandbox.webaanvragen == []


async def test_unknown_fields_are_kept_and_ignored(client: CoachviewClient):
    created = await client.create_webaanvraag(webaanvraag_body(bronkanaal="telegram"))
    stored = await client.get_webaanvraag(str(created.id))
    assert stored.model_extra is not None
    assert stored.model_extra["bronkanaal"] == "telegram"


# -- Tokens and scopes -------------------------------------------------------------------------


async def test_token_endpoint_like_identityserver(
    http: httpx.AsyncClient, sandbox: CoachviewSandbox, clock: ManualClock
):
    good = {"grant_type": "client_credentials", "client_id": "sandbox"}

    async def token(form: dict[str, str], **kwargs: Any) -> httpx.Response:
        return await http.post(TOKEN, data=form, **kwargs)

    wrong = await token({**good, "client_secret": "nope"})
    assert (wrong.status_code, wrong.json()) == (400, {"error": "invalid_client"})
    unknown = await token({**good, "client_id": "wie", "client_secret": "sandbox-secret"})
    assert unknown.json() == {"error": "invalid_client"}
    grant = await token({**good, "client_secret": "sandbox-secret", "grant_type": "password"})
    assert grant.json() == {"error": "unsupported_grant_type"}
    scope = await token({**good, "client_secret": "sandbox-secret", "scope": "api Admin"})
    assert scope.json() == {"error": "invalid_scope"}
    as_json = await http.post(TOKEN, json={**good, "client_secret": "sandbox-secret"})
    assert as_json.json() == {"error": "invalid_request"}

    basic = await token({"grant_type": "client_credentials"}, auth=("sandbox", "sandbox-secret"))
    assert basic.status_code == 200
    issued = basic.json()
    assert issued["expires_in"] == 3600
    assert issued["token_type"] == "Bearer"
    assert set(issued["scope"].split()) == {
        "api",
        "Webaanvragen.Schrijven",
        "Webaanvragen.Lezen",
        "WebaanvraagOpleidingen.Lezen",
        "WebaanvraagDeelnemers.Lezen",
        "Opleidingen.Lezen",
        "Opleidingssoorten.Lezen",
    }
    headers = {"Authorization": f"Bearer {issued['access_token']}"}
    assert (await http.get(WEBAANVRAGEN, headers=headers)).json() == []

    clock.advance(timedelta(hours=1))
    expired = await http.get(WEBAANVRAGEN, headers=headers)
    assert expired.status_code == 401
    assert "invalid_token" in expired.headers["WWW-Authenticate"]
    missing = await http.get(WEBAANVRAGEN)
    assert (missing.status_code, missing.headers["WWW-Authenticate"]) == (401, "Bearer")
    made_up = await http.get(WEBAANVRAGEN, headers={"Authorization": "Bearer abc"})
    assert made_up.status_code == 401


async def test_a_token_has_only_the_scopes_asked_for(
    http: httpx.AsyncClient, sandbox: CoachviewSandbox
):
    headers = await bearer(http, sandbox, scope="api Opleidingen.Lezen")

    assert (await http.get("/api/v1/Opleidingen", headers=headers)).status_code == 200
    assert (await http.get("/api/v1/Opleidingssoorten", headers=headers)).status_code == 403
    refused = await http.post(WEBAANVRAGEN, json=webaanvraag_body(), headers=headers)
    assert refused.status_code == 403
    assert sandbox.webaanvragen == []


# -- Collections -------------------------------------------------------------------------------


async def test_lists_are_bare_arrays_with_paging_count_and_checks(
    http: httpx.AsyncClient, sandbox: CoachviewSandbox
):
    headers = await bearer(http, sandbox)
    soort = sandbox.catalogue.seed.paged_soort

    async def get(path: str, **params: Any) -> httpx.Response:
        return await http.get(path, params=params, headers=headers)

    page = await get(
        "/api/v1/Opleidingen",
        where=f"opleidingssoortId={soort.upper()}",
        skip=10,
        take=5,
        Count="true",
        orderby="startDatum desc",
    )
    assert page.status_code == 200
    assert isinstance(page.json(), list)
    assert page.headers["RowCount"] == "12"
    assert [run["code"] for run in page.json()] == ["BHV-B-02", "BHV-B-01"]

    too_many = await get("/api/v1/Opleidingen", take=101)
    assert too_many.status_code == 400
    assert "take" in problem_errors(too_many.text)
    unknown = await get("/api/v1/Opleidingen", where="kleur=rood")
    assert "kleur" in problem_errors(unknown.text)
    bad_order = await get("/api/v1/Opleidingen", orderby="naam sideways")
    assert "orderby" in problem_errors(bad_order.text)
    bad_number = await get("/api/v1/Opleidingen", where="aantalPlaatsenVrij>veel")
    assert bad_number.status_code == 400

    full = await get("/api/v1/Opleidingen", where="aantalPlaatsenVrij=0")
    assert [run["id"] for run in full.json()] == [sandbox.catalogue.seed.full_run]
    cancelled = await get("/api/v1/Opleidingen", where="opleidingStatusId=geannuleerd")
    assert [run["id"] for run in cancelled.json()] == [sandbox.catalogue.seed.cancelled_run]
    hidden = await get("/api/v1/Opleidingssoorten", where="inactief=true")
    assert [s["code"] for s in hidden.json()] == ["HEF"]

    one = await get(f"/api/v1/opleidingssoorten/{soort}")  # routes ignore case, as in ASP.NET
    assert one.json()["code"] == "BHV-B"
    assert (await get("/api/v1/Bestaatniet")).status_code == 404
    assert (
        await http.delete(f"{WEBAANVRAGEN}/{uuid.uuid4()}", headers=headers)
    ).status_code == 405


async def test_dates_filter_by_day(http: httpx.AsyncClient, sandbox: CoachviewSandbox):
    headers = await bearer(http, sandbox)
    run = sandbox.catalogue.opleiding(sandbox.catalogue.seed.open_run)
    assert run is not None
    day = datetime.fromisoformat(run["startDatum"]).strftime("%d-%m-%Y")

    same_day = await http.get(
        "/api/v1/Opleidingen", params={"where": f"startDatum={day}"}, headers=headers
    )
    assert run["id"] in [r["id"] for r in same_day.json()]
    assert all(r["startDatum"].startswith(run["startDatum"][:10]) for r in same_day.json())


# -- The budget --------------------------------------------------------------------------------


async def test_every_request_counts_and_carries_the_rate_headers(
    http: httpx.AsyncClient, sandbox: CoachviewSandbox, clock: ManualClock
):
    sandbox.set_budget(limit=4, remaining=4)
    headers = await bearer(http, sandbox)  # 1: the token request counts too

    answers = [
        await http.get(WEBAANVRAGEN, headers=headers),  # 2
        await http.get(WEBAANVRAGEN),  # 3: a 401 counts
        await http.get(f"{WEBAANVRAGEN}/{uuid.uuid4()}", headers=headers),  # 4: so does a 404
        await http.get(WEBAANVRAGEN, headers=headers),  # 5: spent
    ]

    assert [a.status_code for a in answers] == [200, 401, 404, 429]
    assert [a.headers["X-Rate-Limit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert all(a.headers["X-Rate-Limit-Limit"] == "1d" for a in answers)
    assert {a.headers["X-Rate-Limit-Reset"] for a in answers} == {"2026-03-03T08:00:00.0000000Z"}
    assert answers[-1].headers["Retry-After"] == str(24 * 3600)
    assert "quota exceeded" in answers[-1].text

    clock.advance(timedelta(days=1))  # the budget is renewed (and the token has expired)
    renewed = await http.get(WEBAANVRAGEN, headers=await bearer(http, sandbox))
    assert renewed.status_code == 200
    assert renewed.headers["X-Rate-Limit-Remaining"] == "2"


# -- Faults ------------------------------------------------------------------------------------


async def test_status_faults_apply_to_the_next_n_matching_requests(
    client: CoachviewClient, sandbox: CoachviewSandbox
):
    rule = sandbox.faults.add(method="POST", path=WEBAANVRAGEN, status=500, times=2)

    await client.list_webaanvragen()  # a GET: not matched
    outcomes = []
    for _ in range(3):
        try:
            await client.create_webaanvraag(webaanvraag_body())
            outcomes.append("201")
        except Exception as err:  # recording what happened
            outcomes.append(type(err).__name__)

    assert outcomes == ["CoachviewUnavailable", "CoachviewUnavailable", "201"]
    assert rule.fired == 2
    assert not rule.active
    assert len(sandbox.webaanvragen) == 1


async def test_an_injected_body_and_headers(http: httpx.AsyncClient, sandbox: CoachviewSandbox):
    sandbox.faults.add(
        path="/api/v1/Opleidingen", status=503, body={"fout": "onderhoud"}, headers={"X-A": "b"}
    )
    answer = await http.get("/api/v1/Opleidingen/whatever")

    assert (answer.status_code, answer.json(), answer.headers["X-A"]) == (
        503,
        {"fout": "onderhoud"},
        "b",
    )
    assert "X-Rate-Limit-Remaining" in answer.headers


async def test_refuse_closes_before_anything_is_stored(
    client: CoachviewClient, sandbox: CoachviewSandbox
):
    await client.list_webaanvragen()
    sandbox.faults.add(method="POST", path=WEBAANVRAGEN, action="refuse")

    with pytest.raises(CoachviewUnavailable):
        await client.create_webaanvraag(webaanvraag_body())

    assert sandbox.webaanvragen == []
    assert sandbox.requests_to(WEBAANVRAGEN, "POST")[-1].status == "refused"


async def test_hang_never_answers_until_the_sandbox_stops(
    make_client: MakeClient, sandbox: CoachviewSandbox
):
    impatient = make_client(timeout=httpx.Timeout(5.0, read=0.3))
    sandbox.faults.add(path="/api/v1/Opleidingssoorten", action="hang")

    with pytest.raises(CoachviewUnavailable, match="timed out"):
        await impatient.list_opleidingssoorten()
    hung = sandbox.requests_to("/api/v1/Opleidingssoorten")[-1]
    assert hung.status == "pending"

    await sandbox.stop()  # releases the hung handler
    await wait_until(lambda: hung.status == "hung", 10)


async def test_probability_faults_repeat_with_the_same_seed(
    http: httpx.AsyncClient, sandbox: CoachviewSandbox
):
    async def run() -> list[int]:
        sandbox.faults.clear()
        sandbox.faults.reseed(7)
        sandbox.faults.add(path="/api/v1/Opleidingen", status=500, times=None, probability=0.3)
        sandbox.faults.add(path="/api/v1/Opleidingen", status=429, times=None, probability=0.2)
        headers = await bearer(http, sandbox)
        return [
            (await http.get("/api/v1/Opleidingen", headers=headers)).status_code for _ in range(30)
        ]

    first, second = await run(), await run()

    assert first == second
    assert {500, 429, 200} <= set(first)


async def test_restart_on_the_same_port_keeps_the_data(
    client: CoachviewClient, sandbox: CoachviewSandbox
):
    created = await client.create_webaanvraag(webaanvraag_body())
    url = sandbox.url
    await sandbox.stop()
    assert not sandbox.running
    await sandbox.start()

    assert sandbox.url == url
    again = await client.create_webaanvraag(webaanvraag_body())
    assert int(again.nummer) == int(created.nummer) + 1
    with pytest.raises(RuntimeError):
        await sandbox.start()


def test_fault_rules_must_make_sense():
    sandbox = CoachviewSandbox(seed_catalogue=False)
    with pytest.raises(ValueError, match="status"):
        sandbox.faults.add(action="drop", status=500)
    with pytest.raises(ValueError, match="delay"):
        sandbox.faults.add(path=WEBAANVRAGEN)
    with pytest.raises(ValueError, match="probability"):
        sandbox.faults.add(status=500, probability=2)
    with pytest.raises(RuntimeError, match="not been started"):
        _ = sandbox.url


# -- The seeded catalogue ----------------------------------------------------------------------


def test_the_seeded_catalogue(clock: ManualClock):
    catalogue = CoachviewSandbox(clock=clock).catalogue
    seed = catalogue.seed
    now = clock.now()

    published = [
        s for s in catalogue.opleidingssoorten if s["publicatieWebsite"] and not s["inactief"]
    ]
    assert len(published) == 10
    retired = catalogue.soort(seed.retired_soort)
    assert retired is not None
    assert retired in published
    assert retired["opleidingssoortStatusId"] == "Vervallen"
    assert len(catalogue.runs_of(seed.paged_soort)) == 12
    assert catalogue.runs_of(seed.empty_soort) == []
    assert seed.paid_soort in catalogue.payment_required

    def run(run_id: str) -> dict[str, Any]:
        found = catalogue.opleiding(run_id)
        assert found is not None
        return found

    def moment(text: str) -> datetime:
        parsed = parse_coachview_datetime(text)
        assert parsed is not None
        return parsed

    assert run(seed.full_run)["aantalPlaatsenVrij"] == 0
    assert run(seed.unpublished_run)["publicatie"] is False
    assert moment(run(seed.unpublished_run)["startDatum"]) > now
    assert run(seed.cancelled_run)["opleidingStatusId"] == "Geannuleerd"
    assert run(seed.cancelled_run)["redenOpleidingGeannuleerdOmschrijving"]
    assert (
        moment(run(seed.started_run)["startDatum"])
        < now
        < moment(run(seed.started_run)["eindDatum"])
    )
    others = [
        r
        for r in catalogue.opleidingen
        if r["id"] not in (seed.started_run,) and r["opleidingStatusId"] != "Geannuleerd"
    ]
    assert all(moment(r["startDatum"]) > now for r in others)
    assert all(1 <= r["aantalPlaatsenVrij"] <= 12 for r in others if r["id"] != seed.full_run)

    # Real-shaped: every field of a live item, with the live item's kinds of value.
    for record in catalogue.opleidingen:
        assert record.keys() == LIVE_OPLEIDING.keys()
        assert record["deadlineInschrijven"] is True  # a flag, not a date
        assert isinstance(record["totaalAantalUur"], float)
        assert record["aantalPersonenOpIngediendeWebaanvragen"] is None
        assert record["auditTrail"].keys() == LIVE_OPLEIDING["auditTrail"].keys()
    for soort in catalogue.opleidingssoorten:
        assert LIVE_OPLEIDINGSSOORT.keys() <= soort.keys()
        assert soort["omschrijvingInhoud"].startswith("<p>")
    unpriced = catalogue.soort(seed.empty_soort)
    assert unpriced is not None
    assert unpriced["totaalBedragExclBtwGepubliceerdeVerkoopregels"] is None

    # Stable ids: a later sandbox (another day) names the same records the same way.
    later = CoachviewSandbox(clock=ManualClock(now + timedelta(days=30))).catalogue
    assert later.seed == seed
    assert [r["id"] for r in later.opleidingen] == [r["id"] for r in catalogue.opleidingen]


async def test_catalogue_filters_of_live_enrollment_sites(
    http: httpx.AsyncClient, sandbox: CoachviewSandbox, clock: ManualClock
):
    headers = await bearer(http, sandbox)
    seed = sandbox.catalogue.seed

    async def ids(path: str, where: str) -> set[str]:
        answer = await http.get(path, params={"where": where}, headers=headers)
        assert answer.status_code == 200, answer.text
        return {record["id"] for record in answer.json()}

    types = await ids("/api/v1/Opleidingssoorten", "publicatieWebsite=true;inactief=false")
    assert len(types) == 10
    assert not {seed.inactive_soort, seed.unpublished_soort} & types
    today = format_filter_date(clock.now())
    excel_g = sandbox.catalogue.soort("EXCEL-G")
    assert excel_g is not None
    runs = await ids(
        "/api/v1/Opleidingen",
        f"opleidingssoortId={excel_g['id']};opleidingStatusId=TeStarten,Definitief;"
        f"startDatum>={today};publicatie=true",
    )
    assert len(runs) == 1
    assert seed.cancelled_run not in runs
    assert seed.unpublished_run in await ids("/api/v1/Opleidingen", "publicatie=false")
    hours = await ids("/api/v1/Opleidingen", "totaalAantalUur>=15")
    assert seed.started_run in hours  # 15 days of 7.5 hours
    assert seed.open_run not in hours
    bad = await http.get(
        "/api/v1/Opleidingen", params={"where": "publicatie=misschien"}, headers=headers
    )
    assert bad.status_code == 400


# -- Standalone --------------------------------------------------------------------------------


@pytest.mark.parametrize("strict", [False, True], ids=["plain", "strict"])
async def test_runs_standalone_and_prints_how_to_connect(strict: bool):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox.coachview",
        "--port",
        "0",
        *(["--strict"] if strict else []),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        printed = ""
        while "Ctrl-C" not in printed:
            line = await asyncio.wait_for(process.stdout.readline(), 30)
            assert line, f"the sandbox stopped early; it printed {printed!r}"
            printed += line.decode()
        url = printed.splitlines()[0].rsplit(" ", 1)[-1]
        assert "COACHVIEW_CLIENT_SECRET=sandbox-secret" in printed
        assert ("strict: every unverified guess refused" in printed) is strict
        async with CoachviewClient(url, "sandbox", "sandbox-secret") as standalone:
            assert len(await standalone.list_opleidingssoorten()) == 9
            assert await standalone.probe(Guess.SEVERAL_ORDERBY_KEYS) is not strict
    finally:
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 30) == 0


# -- As strict as the evidence -----------------------------------------------------------------


async def test_each_endpoint_needs_its_own_scope(
    http: httpx.AsyncClient, sandbox: CoachviewSandbox
):
    for path, scope in [
        ("/api/v1/Webaanvragen", "Webaanvragen.Lezen"),
        ("/api/v1/WebaanvraagOpleidingen", "WebaanvraagOpleidingen.Lezen"),
        ("/api/v1/WebaanvraagDeelnemers", "WebaanvraagDeelnemers.Lezen"),
        ("/api/v1/Opleidingen", "Opleidingen.Lezen"),
        ("/api/v1/Opleidingssoorten", "Opleidingssoorten.Lezen"),
    ]:
        others = " ".join(s for s in SCOPES if s != scope)
        without = await http.get(path, headers=await bearer(http, sandbox, scope=others))
        assert without.status_code == 403, path
        only = await http.get(path, headers=await bearer(http, sandbox, scope=f"api {scope}"))
        assert only.status_code == 200, path


@pytest.mark.parametrize(
    ("switch", "query", "key"),
    [
        ("refuse_reference_filter", {"where": "referentieNrKlant=TG-1"}, "where"),
        ("refuse_less_than", {"where": "aanvraagDatum<01-01-2030"}, "where"),
        ("refuse_less_than", {"where": "aantalDeelnemers<=2"}, "where"),
        ("refuse_dotted_filters", {"where": "contactpersoon.emailadres=a@b.nl"}, "where"),
        ("refuse_dotted_filters", {"orderby": "contactpersoon.achternaam asc"}, "orderby"),
        ("refuse_several_orderby_keys", {"orderby": "aanvraagDatum desc,nummer desc"}, "orderby"),
    ],
)
async def test_each_unverified_query_form_can_be_refused_with_a_400(
    http: httpx.AsyncClient, sandbox: CoachviewSandbox, switch: str, query: dict[str, str], key
):
    headers = await bearer(http, sandbox)
    assert (await http.get(WEBAANVRAGEN, params=query, headers=headers)).status_code == 200

    setattr(sandbox.strict, switch, True)

    refused = await http.get(WEBAANVRAGEN, params=query, headers=headers)
    assert refused.status_code == 400
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert list(problem_errors(refused.text)) == [key]
    # What is confirmed still works under every switch.
    sandbox.strict = Strictness.evidence()
    for confirmed in (
        {"where": "aanvraagDatum>=01-01-2020;nummer>1000", "orderby": "aanvraagDatum desc"},
        {"where": "nummer=1001,1002"},
    ):
        answer = await http.get(WEBAANVRAGEN, params=confirmed, headers=headers)
        assert answer.status_code == 200, confirmed


@pytest.mark.parametrize(
    ("switch", "path"),
    [
        ("lack_webaanvraag_opleidingen", "/api/v1/WebaanvraagOpleidingen"),
        ("lack_webaanvraag_deelnemers", "/api/v1/WebaanvraagDeelnemers"),
    ],
)
async def test_a_webaanvraag_sub_endpoint_can_be_missing(
    http: httpx.AsyncClient, sandbox: CoachviewSandbox, switch: str, path: str
):
    headers = await bearer(http, sandbox)
    assert (await http.get(path, headers=headers)).status_code == 200
    setattr(sandbox.strict, switch, True)
    assert (await http.get(path, headers=headers)).status_code == 404
    assert (await http.get(WEBAANVRAGEN, headers=headers)).status_code == 200


async def test_the_201_answer_can_leave_out_the_id(
    http: httpx.AsyncClient, sandbox: CoachviewSandbox
):
    sandbox.strict.omit_created_id = True
    headers = await bearer(http, sandbox)
    created = await http.post(WEBAANVRAGEN, json=webaanvraag_body(), headers=headers)
    assert created.status_code == 201
    assert set(created.json()) == {"nummer", "betaalproviderRedirectUrl"}
    assert created.json()["nummer"] == sandbox.webaanvragen[0].nummer


async def test_a_filter_on_the_reference_can_be_ignored_silently(
    http: httpx.AsyncClient, sandbox: CoachviewSandbox
):
    headers = await bearer(http, sandbox)
    for ref in ("TG-1", "TG-2"):
        body = webaanvraag_body(referentieNrKlant=ref)
        await http.post(WEBAANVRAGEN, json=body, headers=headers)
    query = {"where": "referentieNrKlant=TG-2;aantalDeelnemers>=1"}
    assert len((await http.get(WEBAANVRAGEN, params=query, headers=headers)).json()) == 1
    sandbox.strict.ignore_reference_filter = True
    answer = await http.get(WEBAANVRAGEN, params=query, headers=headers)
    assert answer.status_code == 200
    assert [w["referentieNrKlant"] for w in answer.json()] == ["TG-1", "TG-2"]
    assert not Strictness.evidence().ignore_reference_filter


async def test_free_fields_can_come_only_when_asked_for(
    http: httpx.AsyncClient, sandbox: CoachviewSandbox
):
    headers = await bearer(http, sandbox)
    body = webaanvraag_body(vrijevelden={"TelegramRef": "TG-1"})
    created = (await http.post(WEBAANVRAGEN, json=body, headers=headers)).json()
    one = f"{WEBAANVRAGEN}/{created['id']}"
    assert (await http.get(one, headers=headers)).json()["vrijevelden"] == {"TelegramRef": "TG-1"}
    sandbox.strict.free_fields_on_request = True
    assert "vrijevelden" not in (await http.get(one, headers=headers)).json()
    assert "vrijevelden" not in (await http.get(WEBAANVRAGEN, headers=headers)).json()[0]
    asked = {"InclusiefVrijeVelden": "true"}
    listed = await http.get(WEBAANVRAGEN, params=asked, headers=headers)
    assert listed.json()[0]["vrijevelden"] == {"TelegramRef": "TG-1"}
    assert sandbox.webaanvragen[0].record["vrijevelden"] == {"TelegramRef": "TG-1"}  # kept
