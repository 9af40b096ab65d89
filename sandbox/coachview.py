"""A local Coachview: the REST API as the project knows it, on loopback, for tests, the
demo and benchmarks.

::

    async with CoachviewSandbox(clock=clock) as sandbox:       # 127.0.0.1, a free port
        client = CoachviewClient(sandbox.url, sandbox.client_id, sandbox.client_secret)
        sandbox.faults.add(method="POST", path="/api/v1/Webaanvragen", status=500, times=2)
        sandbox.faults.add(method="POST", path="/api/v1/Webaanvragen", action="drop")
        ...
        sandbox.webaanvragen[-1].body          # exactly what was POSTed
        sandbox.requests                       # every request: method, path (and raw_path, as
                                               # sent: undecoded), query, status

It behaves like Coachview where that is known and like ASP.NET Core / IdentityServer where it
is not (every such choice is marked *guess* below):

- ``POST /auth/connect/token``: client credentials in the form (or HTTP Basic); a wrong client
  or secret gives 400 ``{"error": "invalid_client"}``. Tokens are random and opaque; the API
  answers 401 to a missing, unknown or expired token, and 403 when the token lacks the scope the
  endpoint needs (:data:`ENDPOINT_SCOPES`, *guess* for the read scopes). No ``scope`` asked for
  means every scope the client is allowed.
- Lists are bare JSON arrays with ``skip``/``take`` (``take`` above 100 is refused: 100 is the
  known-good maximum), ``where`` (``field=a,b`` any of, ``;`` and, ``>`` ``>=`` ``<`` ``<=``,
  dates ``dd-mm-yyyy``, dotted nested fields, case-insensitive strings; an unknown field is a
  400), ``orderby=field asc|desc`` and ``Count=true`` (a ``RowCount`` header). Ordering a date
  against a ``dd-mm-yyyy`` value compares with midnight of that day; ``=`` compares the day.
- Every request, token requests too, counts against one daily budget. Every answer carries
  AspNetCoreRateLimit's headers: ``X-Rate-Limit-Limit`` is the period ``1d`` (or the number,
  with ``limit_header="count"``), ``X-Rate-Limit-Remaining``, and ``X-Rate-Limit-Reset`` as
  .NET writes a UTC datetime (``2026-12-01T09:00:00.0000000Z``). A spent budget gives 429 with
  those headers and ``Retry-After`` (seconds).
- ``POST /api/v1/Webaanvragen`` checks the body as ASP.NET model binding would (415 for
  another content type, 400 problem details naming the field) and answers 201 with ``id``,
  ``nummer`` and ``betaalproviderRedirectUrl`` (a URL when a course type requires payment).
  ``aantalDeelnemers``, ``contactpersoonIsDeelnemer`` and the WebaanvraagDeelnemers rows follow
  the seed's three scenarios (:func:`derive_participants`). Inactive or unpublished course types
  and full runs are accepted: a webaanvraag enrolls nobody yet (*guess*).
- The catalogue (:func:`seed_catalogue`) is real-shaped: every field of a live ``Opleidingen``
  item (flags such as ``deadlineInschrijven: true``, nulls, ``totaalAantalUur`` floats,
  ``auditTrail``), course types with ``doel``, HTML ``omschrijvingInhoud`` and a published
  price; every such field can be filtered on (booleans as ``true``/``false``).

Every query form no live integration has shown to work can be refused, and each unverified
answer left out, with :attr:`CoachviewSandbox.strict` (:class:`Strictness`): a sandbox as strict as
the evidence (``sandbox.strict = Strictness.evidence()`` switches everything on).

Faults are injected with :attr:`CoachviewSandbox.faults` (:class:`Faults`); a refused connection
is a stopped sandbox: ``stop()`` then ``start()`` serves again on the same port with the same
data. Run ``python -m sandbox.coachview --port 8081`` to poke at it by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import hmac
import json
import logging
import math
import random
import re
import secrets
import signal
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from http import HTTPStatus
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qsl

from aiohttp import web

from bot.clock import Clock, SystemClock
from bot.coachview.client import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from bot.coachview.models import COACHVIEW_TZ, format_coachview_datetime

__all__ = [
    "ENDPOINT_SCOPES",
    "SCOPES",
    "CatalogueSeed",
    "CoachviewSandbox",
    "FaultRule",
    "Faults",
    "RecordedRequest",
    "SandboxBudget",
    "SandboxCatalogue",
    "StoredWebaanvraag",
    "Strictness",
    "derive_participants",
    "main",
    "seed_catalogue",
]

logger = logging.getLogger(__name__)

SCOPES = (
    "api",
    "Webaanvragen.Schrijven",
    "Webaanvragen.Lezen",
    "WebaanvraagOpleidingen.Lezen",
    "WebaanvraagDeelnemers.Lezen",
    "Opleidingen.Lezen",
    "Opleidingssoorten.Lezen",
)
"""The scopes the sandbox knows; a client may be limited to some of them (``add_client``)."""

ENDPOINT_SCOPES = {
    ("GET", "Webaanvragen"): "Webaanvragen.Lezen",
    ("POST", "Webaanvragen"): "Webaanvragen.Schrijven",
    ("GET", "WebaanvraagOpleidingen"): "WebaanvraagOpleidingen.Lezen",
    ("GET", "WebaanvraagDeelnemers"): "WebaanvraagDeelnemers.Lezen",
    ("GET", "Opleidingssoorten"): "Opleidingssoorten.Lezen",
    ("GET", "Opleidingen"): "Opleidingen.Lezen",
}
"""The scope each endpoint needs, one of its own each (*guess*: only ``Webaanvragen.Schrijven``
and ``Opleidingen.Lezen`` are seen in working integrations)."""

MAX_TAKE = 100
_API = "/api/v1/"
_TOKEN_PATH = "/auth/connect/token"  # noqa: S105 - a path, not a password
_NAMESPACE = uuid.UUID("5b0f6c1e-2f43-4c1a-9a53-7c0ac4ea1d10")


def stable_id(kind: str, key: str) -> str:
    """A deterministic GUID for a seeded record, the same in every run."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}/{key}"))


# -- What the sandbox records ------------------------------------------------------------------


@dataclass
class RecordedRequest:
    """One request as the sandbox saw it; ``status`` is the answer's code, or ``"dropped"``
    (processed, connection closed without an answer), ``"refused"`` (closed unprocessed),
    ``"hung"`` (never answered) or ``"pending"`` (still being handled)."""

    method: str
    path: str
    query: dict[str, str]
    when: datetime
    status: int | str = "pending"
    body: bytes = b""
    raw_path: str = ""
    """The path exactly as the request line carried it: undecoded, dot segments kept."""


@dataclass
class StoredWebaanvraag:
    """A webaanvraag the sandbox accepted: ``body`` is the JSON exactly as POSTed (``raw`` its
    bytes), ``record`` what ``GET Webaanvragen`` returns, and the derived rows."""

    id: str
    nummer: int
    raw: bytes
    body: dict[str, Any]
    record: dict[str, Any]
    opleidingen: list[dict[str, Any]]
    deelnemers: list[dict[str, Any]]


# -- The catalogue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueSeed:
    """The ids of the seeded records that tests and deep links name by role."""

    open_soort: str  # VCA Basis: several open runs
    open_run: str  # its first run: Definitief, places free
    paged_soort: str  # BHV Basis: 12 runs, for paging
    full_soort: str
    full_run: str  # aantalPlaatsenVrij 0
    unpublished_run: str  # publicatie false: not open for web enrollments
    cancelled_run: str  # Geannuleerd
    started_run: str  # began two days ago, still running
    paid_soort: str  # requires payment: POST answers a betaalproviderRedirectUrl
    empty_soort: str  # published and active, no runs
    inactive_soort: str
    unpublished_soort: str
    retired_soort: str  # published and active, but opleidingssoortStatusId "Vervallen"


@dataclass
class SandboxCatalogue:
    """Course types and runs as Coachview's JSON (camelCase dicts), mutable by tests."""

    opleidingssoorten: list[dict[str, Any]]
    opleidingen: list[dict[str, Any]]
    payment_required: set[str]
    seed: CatalogueSeed

    def soort(self, id_or_code: str) -> dict[str, Any] | None:
        """The course type with this id or code (case-insensitive)."""
        key = id_or_code.lower()
        return next(
            (
                s
                for s in self.opleidingssoorten
                if key in (str(s.get("id")).lower(), str(s.get("code")).lower())
            ),
            None,
        )

    def opleiding(self, opleiding_id: str) -> dict[str, Any] | None:
        """The run with this id (case-insensitive)."""
        key = opleiding_id.lower()
        return next((o for o in self.opleidingen if str(o.get("id")).lower() == key), None)

    def runs_of(self, opleidingssoort_id: str) -> list[dict[str, Any]]:
        """The runs of a course type, in catalogue order."""
        key = opleidingssoort_id.lower()
        return [o for o in self.opleidingen if str(o.get("opleidingssoortId")).lower() == key]


_DAYS = ("Maandag", "Dinsdag", "Woensdag", "Donderdag", "Vrijdag", "Zaterdag", "Zondag")

# (code, name, price excl. VAT or None, goal) of the seeded course types.
_SOORTEN: dict[str, tuple[str, float | None, str]] = {
    "VCA-B": (
        "VCA Basis",
        295.0,
        "Je leert veilig werken op de bouwplaats en haalt het diploma Basisveiligheid VCA.",
    ),
    "VCA-VOL": (
        "VCA VOL",
        425.5,
        "Voor leidinggevenden: je herkent risico's en stuurt je ploeg veilig aan.",
    ),
    "BHV-B": ("BHV Basis", 245.0, "Je kunt bij brand en ongeval eerste hulp verlenen."),
    "BHV-H": ("BHV Herhaling", 150.0, "Je houdt je BHV-diploma geldig."),
    "EXCEL-B": ("Excel Basis", 349.0, "Je maakt zelf overzichtelijke tabellen & grafieken."),
    "EXCEL-G": ("Excel Gevorderd", 399.0, "Draaitabellen, formules en macro's."),
    "LG": ("Leidinggeven in de praktijk", 1250.0, "Je groeit als leidinggevende."),
    "TM": ("Timemanagement", 275.0, "Je plant je werk en houdt tijd over."),
    "EHBO": ("EHBO Basis", None, "Je leert eerste hulp bij ongelukken."),
    "HEF": ("Heftruckchauffeur", 650.0, "Je rijdt veilig met een heftruck."),
    "INC": ("Incompany maatwerk", None, "Een training op maat, bij jou op locatie."),
    "VCA-OUD": ("VCA Basis (oude opzet)", 275.0, "De vorige versie van VCA Basis."),
}


def _audit(created: datetime) -> dict[str, Any]:
    """An ``auditTrail`` as live records carry it (milliseconds, naive local time)."""
    stamp = created.astimezone(COACHVIEW_TZ).replace(tzinfo=None)
    return {
        "aangemaaktDatumTijd": stamp.isoformat(timespec="milliseconds"),
        "aangemaaktDoor": "sandbox",
        "gewijzigdDatumTijd": (stamp + timedelta(days=6)).isoformat(timespec="milliseconds"),
        "gewijzigdDoor": "sandbox",
        "etag": 240923003,
    }


def _run_record(
    parent: Mapping[str, Any],
    number: int,
    plaats: str,
    first: date,
    *,
    days: int,
    vrij: int,
    status: str,
    published: bool,
) -> dict[str, Any]:
    """A run of ``parent`` as a live ``GET Opleidingen`` item (every field, flags and nulls)."""
    last = first + timedelta(days=days - 1)
    start = datetime.combine(first, time(9), COACHVIEW_TZ)
    end = datetime.combine(last, time(16, 30), COACHVIEW_TZ)
    cancelled = status == "Geannuleerd"
    return {
        "id": stable_id("opleiding", f"{parent['code']}/{number}"),
        "code": f"{parent['code']}-{number:02d}",
        "naam": f"{parent['naam']} {plaats}",
        "opleidingStatusId": status,
        "opmerking": None,
        "publicatie": published,
        "publicatiePlanning": published,
        "planningstype": "GeenRoostering",
        "planningsfrequentieAantal": 1,
        "planningsfrequentieTijdseenheid": "Dag",
        "planningWeekdagen": "geen",
        "planningConflictafhandeling": "GebruikEerstBeschikbareDag",
        "begindatumOorspronkelijkeOpleiding": None,
        "redenOpleidingGeannuleerdOmschrijving": "Te weinig aanmeldingen" if cancelled else None,
        "deadlineInschrijven": True,
        "deadlineUitschrijven": True,
        "opleidingssoortId": parent["id"],
        "contactpersoonId": stable_id("persoon", "planner"),
        "contactpersoon2Id": None,
        "startLocatieId": stable_id("locatie", plaats),
        "redenOpleidingGeannuleerdId": stable_id("reden", "weinig") if cancelled else None,
        "startDag": _DAYS[first.weekday()],
        "eindDag": _DAYS[last.weekday()],
        "startDatum": format_coachview_datetime(start),
        "eindDatum": format_coachview_datetime(end),
        "aantalPlaatsenMin": 5,
        "aantalPlaatsenMax": 12,
        "aantalPlaatsenVrij": vrij,
        "aantalPlaatsenBezet": max(12 - vrij, 0),
        "totaalStudiebelasting": 0,
        "totaalAantalUur": 7.5 * days,
        "aantalOnderdelen": days,
        "aantalPersonenOpIngediendeWebaanvragen": None,
    }


def seed_catalogue(now: datetime) -> SandboxCatalogue:
    """Nine offered course types and their runs, dated from ``now`` so they stay upcoming; plus
    an inactive, an unpublished and a retired (status "Vervallen") type. Every record has the
    fields and value kinds of a live record (``docs/coachview.md``, "The
    catalogue"): flags, nulls, floats, ``auditTrail``. See :class:`CatalogueSeed` for the
    special cases."""
    today = now.astimezone(COACHVIEW_TZ).date()
    created = datetime.combine(today - timedelta(days=120), time(15, 47, 18, 433000), UTC)
    soorten: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []

    def soort(
        code: str, *, published: bool = True, inactive: bool = False, status: str = "Actief"
    ) -> str:
        naam, price, doel = _SOORTEN[code]
        soort_id = stable_id("opleidingssoort", code)
        soorten.append(
            {
                "id": soort_id,
                "code": code,
                "naam": naam,
                "doel": doel,
                "doelgroep": None,
                "vooropleiding": None,
                "omschrijvingInhoud": (
                    f"<p><strong>{naam}</strong>: {doel}</p>"
                    "<ul><li>Praktijkgericht</li><li>Kleine groepen</li></ul>"
                ),
                "opmerking": None,
                "totaalBedragExclBtwGepubliceerdeVerkoopregels": price,
                "aantalOnderdelen": 1,
                "publicatieWebsite": published,
                "inactief": inactive,
                "opleidingssoortStatusId": status,
                "auditTrail": _audit(created),
            }
        )
        return soort_id

    def run(
        soort_id: str,
        number: int,
        plaats: str,
        start_in: int,
        *,
        days: int = 1,
        vrij: int = 8,
        status: str = "Definitief",
        published: bool = True,
    ) -> str:
        parent = next(s for s in soorten if s["id"] == soort_id)
        first = today + timedelta(days=start_in)
        record = _run_record(
            parent, number, plaats, first, days=days, vrij=vrij, status=status, published=published
        )
        record["auditTrail"] = _audit(created)
        runs.append(record)
        return str(record["id"])

    vca = soort("VCA-B")
    open_run = run(vca, 1, "Utrecht", 10, vrij=8)
    run(vca, 2, "Amersfoort", 24, vrij=12, status="TeStarten")
    run(vca, 3, "Zwolle", 38, vrij=5, status="TeStarten")
    run(vca, 4, "Utrecht", 52, vrij=12, status="TeStarten")
    vol = soort("VCA-VOL")
    run(vol, 1, "Utrecht", 17, days=2, vrij=3)
    run(vol, 2, "Eindhoven", 45, days=2, vrij=10, status="TeStarten")
    bhv = soort("BHV-B")
    places = ("Utrecht", "Amersfoort", "Zwolle", "Arnhem")
    for number in range(1, 13):
        run(
            bhv,
            number,
            places[number % len(places)],
            7 * number,
            days=2,
            vrij=number,
            status="Definitief" if number <= 4 else "TeStarten",
        )
    herhaling = soort("BHV-H")
    full_run = run(herhaling, 1, "Utrecht", 5, vrij=0)
    run(herhaling, 2, "Zwolle", 19, vrij=6)
    run(herhaling, 3, "Arnhem", 33, vrij=9, status="TeStarten")
    excel = soort("EXCEL-B")
    unpublished_run = run(excel, 1, "online", 3, vrij=4, published=False)
    run(excel, 2, "online", 30, vrij=7, status="TeStarten")
    gevorderd = soort("EXCEL-G")
    cancelled_run = run(gevorderd, 1, "online", 14, vrij=10, status="Geannuleerd")
    run(gevorderd, 2, "online", 42, vrij=6, status="TeStarten")
    leiding = soort("LG")
    started_run = run(leiding, 1, "Amersfoort", -2, days=15, vrij=2)
    run(leiding, 2, "Utrecht", 60, days=3, vrij=8, status="TeStarten")
    paid = soort("TM")
    run(paid, 1, "online", 21, vrij=10)
    run(paid, 2, "online", 49, vrij=12, status="TeStarten")
    empty = soort("EHBO")
    inactive = soort("HEF", inactive=True)
    run(inactive, 1, "Zwolle", 20, vrij=6)
    unpublished = soort("INC", published=False)
    run(unpublished, 1, "op locatie", 15, vrij=12)
    retired = soort("VCA-OUD", status="Vervallen")
    run(retired, 1, "Utrecht", 12, vrij=12)

    seed = CatalogueSeed(
        open_soort=vca,
        open_run=open_run,
        paged_soort=bhv,
        full_soort=herhaling,
        full_run=full_run,
        unpublished_run=unpublished_run,
        cancelled_run=cancelled_run,
        started_run=started_run,
        paid_soort=paid,
        empty_soort=empty,
        inactive_soort=inactive,
        unpublished_soort=unpublished,
        retired_soort=retired,
    )
    return SandboxCatalogue(soorten, runs, {paid}, seed)


_seed = seed_catalogue  # CoachviewSandbox's flag of the same name hides the function


def _empty_seed() -> CatalogueSeed:
    return CatalogueSeed(*([""] * len(CatalogueSeed.__dataclass_fields__)))


# -- Strictness --------------------------------------------------------------------------------


@dataclass
class Strictness:
    """Switches that make the sandbox refuse what is not verified against a live Coachview.

    Each ``refuse_*`` switch answers a query that uses that form with a 400 problem-details
    body naming ``where`` or ``orderby``; ``lack_*`` makes an endpoint answer 404 as if it did not
    exist; ``omit_created_id`` leaves ``id`` out of the 201 answer to ``POST Webaanvragen``.
    """

    refuse_reference_filter: bool = False
    """``where`` on ``referentieNrKlant``."""
    refuse_less_than: bool = False
    """The ``<`` and ``<=`` operators (``>`` and ``>=`` are confirmed)."""
    refuse_dotted_filters: bool = False
    """Nested fields (``contactpersoon.emailadres``) in ``where`` or ``orderby``."""
    refuse_several_orderby_keys: bool = False
    """More than one key in ``orderby``."""
    lack_webaanvraag_opleidingen: bool = False
    lack_webaanvraag_deelnemers: bool = False
    omit_created_id: bool = False
    free_fields_on_request: bool = False
    """``vrijevelden`` only in answers to a query with ``InclusiefVrijeVelden=true`` (live
    integrations send that switch; whether Coachview needs it is not known)."""
    ignore_reference_filter: bool = False
    """Worse than a 400: answer as if a condition on ``referentieNrKlant`` were not there (as
    a server that skips fields it cannot filter on would). Not part of :meth:`evidence`."""

    @classmethod
    def evidence(cls) -> Strictness:
        """Every switch but ``ignore_*`` on: only what live integrations have shown works."""
        switches = [name for name in cls.__dataclass_fields__ if not name.startswith("ignore_")]
        return cls(**dict.fromkeys(switches, True))

    def without_ignored(self, resource: str, where: str) -> str:
        """``where`` without the conditions this sandbox ignores."""
        if not (self.ignore_reference_filter and resource == "Webaanvragen"):
            return where
        kept = [
            part
            for part in where.split(";")
            if not part.strip().lower().startswith("referentienrklant")
        ]
        return ";".join(kept)

    def lacks(self, resource: str) -> bool:
        return (resource == "WebaanvraagOpleidingen" and self.lack_webaanvraag_opleidingen) or (
            resource == "WebaanvraagDeelnemers" and self.lack_webaanvraag_deelnemers
        )

    def check_query(self, resource: str, where: str | None, orderby: str | None) -> None:
        """Raise the 400 of the first refused form the query uses."""
        for part in (where or "").split(";"):
            match = _CONDITION.match(part)
            if match is None:
                continue
            name, op, _ = match.groups()
            if self.refuse_less_than and op in ("<", "<="):
                raise _BadRequest("where", f"Operator '{op}' wordt niet ondersteund.")
            if self.refuse_dotted_filters and "." in name:
                raise _BadRequest("where", f"Onbekend veld '{name.strip()}'.")
            if (
                self.refuse_reference_filter
                and resource == "Webaanvragen"
                and name.strip().lower() == "referentienrklant"
            ):
                raise _BadRequest("where", f"Op veld '{name.strip()}' kan niet worden gefilterd.")
        keys = [part for part in (orderby or "").split(",") if part.strip()]
        if self.refuse_several_orderby_keys and len(keys) > 1:
            raise _BadRequest("orderby", f"Ongeldige sortering '{orderby}'.")
        if self.refuse_dotted_filters and any("." in key.split()[0] for key in keys):
            raise _BadRequest("orderby", f"Ongeldige sortering '{orderby}'.")


# -- Fault injection ---------------------------------------------------------------------------

FaultAction = Literal["status", "delay", "drop", "refuse", "hang", "hold"]


@dataclass
class FaultRule:
    """One injected fault; see :meth:`Faults.add`. ``fired`` counts the requests it hit."""

    action: FaultAction
    method: str | None = None
    path: str | None = None
    status: int | None = None
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int | None = 1
    probability: float | None = None
    fired: int = 0

    @property
    def active(self) -> bool:
        return self.times is None or self.fired < self.times

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is None:
            return True
        prefix = self.path.rstrip("/").lower()
        path = path.lower()
        return path == prefix or path.startswith(prefix + "/")


class Faults:
    """The fault rules; the first active rule that matches a request (and wins its draw, for a
    rule with a ``probability``) applies to it."""

    def __init__(self, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self.released = asyncio.Event()
        self._held = 0
        self._rng = random.Random(seed)  # noqa: S311 - repeatable chaos, not secrets

    def add(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        action: FaultAction | None = None,
        status: int | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        times: int | None = 1,
        probability: float | None = None,
    ) -> FaultRule:
        """Add a rule for requests of ``method`` (any when ``None``) to ``path`` or below it.

        Actions (``action`` defaults to ``"status"`` when ``status`` is given, else ``"delay"``):

        - ``"status"``: answer ``status`` with ``body`` (a dict is sent as JSON; default a
          problem-details body) and ``headers``, without processing the request;
        - ``"delay"``: process the request, then answer only after ``delay`` seconds;
        - ``"drop"``: process the request fully, then close the connection without an answer;
        - ``"refuse"``: close the connection before processing (nothing is stored);
        - ``"hang"``: never answer (until the sandbox stops);
        - ``"hold"``: wait until :meth:`release` is called, then process and answer normally
          (a slow Coachview whose end the test decides, without guessing durations).

        ``delay`` also postpones the other actions. The rule applies to the next ``times``
        matching requests (``None``: forever), each with chance ``probability`` when given
        (drawn from a seeded generator: see :meth:`reseed`).
        """
        if action is None:
            action = "status" if status is not None else "delay"
        if (action == "status") != (status is not None):
            raise ValueError("give a status exactly when the action is 'status'")
        if action == "delay" and delay <= 0:
            raise ValueError("a 'delay' rule needs delay > 0 seconds")
        if probability is not None and not 0 <= probability <= 1:
            raise ValueError("probability must be between 0 and 1")
        rule = FaultRule(
            action=action,
            method=method,
            path=path,
            status=status,
            body=body,
            headers=dict(headers or {}),
            delay=delay,
            times=times,
            probability=probability,
        )
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule."""
        self.rules.clear()

    def release(self) -> None:
        """Let every held request (``"hold"``) go on, and those held later pass at once."""
        self.released.set()

    @property
    def held(self) -> int:
        """How many requests are waiting in a ``"hold"`` rule right now."""
        return self._held

    @held.setter
    def held(self, value: int) -> None:
        self._held = value

    def reseed(self, seed: int) -> None:
        """Restart the generator behind ``probability`` rules, for a repeatable chaos run."""
        self._rng.seed(seed)

    def take(self, method: str, path: str) -> FaultRule | None:
        """The rule that applies to this request, counted as fired; ``None`` if none does."""
        for rule in self.rules:
            if not rule.active or not rule.matches(method, path):
                continue
            if rule.probability is not None and self._rng.random() >= rule.probability:
                continue
            rule.fired += 1
            return rule
        return None


# -- The request budget ------------------------------------------------------------------------


@dataclass
class SandboxBudget:
    """The daily request budget: ``remaining`` of ``limit`` until ``reset_at`` (UTC)."""

    limit: int
    remaining: int
    reset_at: datetime
    period: timedelta = timedelta(days=1)

    def renew_if_due(self, now: datetime) -> None:
        if now >= self.reset_at:
            self.remaining = self.limit
            self.reset_at = now + self.period

    def spend(self, now: datetime) -> bool:
        """Count one request; ``False`` when the budget was already spent."""
        self.renew_if_due(now)
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


def _dotnet_utc(value: datetime) -> str:
    """A UTC datetime as .NET's round-trip format writes it: seven fraction digits and Z."""
    value = value.astimezone(UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond:06d}0Z"


# -- Queries: where, orderby, skip/take --------------------------------------------------------


class _BadRequest(Exception):
    """Turns into a 400 problem-details answer naming ``key``."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


_PERSOON_FIELDS = (
    "voorletters",
    "voornaam",
    "tussenvoegsels",
    "achternaam",
    "emailadres",
    "telefoonnummer",
    "geboorteDatum",
    "geslacht",
    "opmerking",
)
_AUDIT_FIELDS = tuple(
    f"auditTrail.{name}"
    for name in (
        "aangemaaktDatumTijd",
        "aangemaaktDoor",
        "gewijzigdDatumTijd",
        "gewijzigdDoor",
        "etag",
    )
)
_FIELDS: dict[str, tuple[str, ...]] = {
    "Webaanvragen": (
        "id",
        "nummer",
        "aanvraagDatum",
        "referentieNrKlant",
        "opmerking",
        "aantalPersonen",
        "aantalDeelnemers",
        "contactpersoonIsDeelnemer",
        "contactpersoonIsLeidinggevende",
        "aanvraagIsOrder",
        "status",
        *(f"contactpersoon.{name}" for name in _PERSOON_FIELDS),
        *(f"bedrijf.{name}" for name in ("naam", "emailadres", "telefoonnummer")),
        *(
            f"debiteur.{name}"
            for name in ("naamRekeninghouder", "particulier", "emailType", "emailadresAnders")
        ),
    ),
    "WebaanvraagOpleidingen": (
        "id",
        "webaanvraagId",
        "opleidingssoortId",
        "opleidingssoortCode",
        "opleidingssoortNaam",
        "opleidingId",
        "opleidingCode",
        "opleidingNaam",
        "startDatum",
        "eindDatum",
    ),
    "WebaanvraagDeelnemers": ("id", "webaanvraagId", *_PERSOON_FIELDS),
    "Opleidingssoorten": (
        "id",
        "code",
        "naam",
        "doel",
        "doelgroep",
        "vooropleiding",
        "omschrijvingInhoud",
        "opmerking",
        "totaalBedragExclBtwGepubliceerdeVerkoopregels",
        "aantalOnderdelen",
        "publicatieWebsite",
        "inactief",
        "opleidingssoortStatusId",
        *_AUDIT_FIELDS,
    ),
    "Opleidingen": (
        "id",
        "code",
        "naam",
        "opleidingStatusId",
        "opmerking",
        "publicatie",
        "publicatiePlanning",
        "planningstype",
        "planningsfrequentieAantal",
        "planningsfrequentieTijdseenheid",
        "planningWeekdagen",
        "planningConflictafhandeling",
        "begindatumOorspronkelijkeOpleiding",
        "redenOpleidingGeannuleerdOmschrijving",
        "deadlineInschrijven",
        "deadlineUitschrijven",
        "opleidingssoortId",
        "contactpersoonId",
        "contactpersoon2Id",
        "startLocatieId",
        "redenOpleidingGeannuleerdId",
        "startDag",
        "eindDag",
        "startDatum",
        "eindDatum",
        "aantalPlaatsenMin",
        "aantalPlaatsenMax",
        "aantalPlaatsenVrij",
        "aantalPlaatsenBezet",
        "totaalStudiebelasting",
        "totaalAantalUur",
        "aantalOnderdelen",
        "aantalPersonenOpIngediendeWebaanvragen",
        *_AUDIT_FIELDS,
    ),
}
"""The fields each collection can be filtered and ordered on (dotted for nested objects)."""

_CONDITION = re.compile(r"^\s*([A-Za-z][\w.]*)\s*(>=|<=|=|>|<)(.*)$")
_FILTER_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")


def _get_ci(mapping: Any, name: str) -> Any:
    """``mapping[name]`` with the key matched case-insensitively, as ASP.NET binds JSON."""
    if not isinstance(mapping, dict):
        return None
    if name in mapping:
        return mapping[name]
    lowered = name.lower()
    return next((v for k, v in mapping.items() if k.lower() == lowered), None)


def _field(resource: str, name: str) -> str:
    """The canonical name of a filter/order field, or a 400 naming it."""
    for known in _FIELDS[resource]:
        if known.lower() == name.strip().lower():
            return known
    raise _BadRequest(name.strip(), f"Onbekend veld '{name.strip()}'.")


def _value_at(record: Mapping[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        value = _get_ci(value, part)
    return value


def _filter_date(text: str) -> date | None:
    match = _FILTER_DATE.match(text.strip())
    if match is None:
        return None
    day, month, year = (int(group) for group in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _compare(actual: Any, op: str, wanted: str, name: str) -> bool:
    """Whether ``actual <op> wanted`` for one filter value (the text after the operator)."""
    wanted = wanted.strip()
    if actual is None:
        return op == "=" and wanted.lower() == "null"
    left: Any
    right: Any
    if isinstance(actual, bool):
        if wanted.lower() not in ("true", "false"):
            raise _BadRequest(name, f"'{wanted}' is geen geldige waarde voor {name}.")
        left, right = actual, wanted.lower() == "true"
    elif isinstance(actual, int | float):
        try:
            left, right = actual, float(wanted)
        except ValueError:
            raise _BadRequest(name, f"'{wanted}' is geen getal.") from None
    elif (day := _filter_date(wanted)) is not None and isinstance(actual, str):
        try:
            moment = datetime.fromisoformat(actual)
        except ValueError:
            raise _BadRequest(name, f"{name} is geen datum.") from None
        if op == "=":
            left, right = moment.date(), day
        else:
            left, right = moment.replace(tzinfo=None), datetime.combine(day, time())
    else:
        left, right = str(actual).casefold(), wanted.casefold()
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: bool(a == b),
        ">": lambda a, b: bool(a > b),
        ">=": lambda a, b: bool(a >= b),
        "<": lambda a, b: bool(a < b),
        "<=": lambda a, b: bool(a <= b),
    }
    return comparisons[op](left, right)


def _where(resource: str, where: str) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate for Coachview's ``where``: ``;`` joins conditions, ``,`` lists any-of."""
    conditions: list[tuple[str, str, list[str]]] = []
    for part in where.split(";"):
        if not part.strip():
            continue
        match = _CONDITION.match(part)
        if match is None:
            raise _BadRequest("where", f"Ongeldige voorwaarde '{part.strip()}'.")
        name, op, values = match.groups()
        options = values.split(",") if op == "=" else [values]
        conditions.append((_field(resource, name), op, options))

    def predicate(record: Mapping[str, Any]) -> bool:
        return all(
            any(_compare(_value_at(record, name), op, option, name) for option in options)
            for name, op, options in conditions
        )

    return predicate


def _sort(resource: str, records: list[dict[str, Any]], orderby: str) -> list[dict[str, Any]]:
    """Records sorted by ``field asc|desc[, field asc|desc ...]``; nulls first."""
    keys: list[tuple[str, bool]] = []
    for part in orderby.split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise _BadRequest("orderby", f"Ongeldige sortering '{part.strip()}'.")
        keys.append((_field(resource, words[0]), len(words) == 2 and words[1].lower() == "desc"))
    result = list(records)
    for name, descending in reversed(keys):

        def key(record: Mapping[str, Any], name: str = name) -> tuple[bool, Any]:
            value = _value_at(record, name)
            return (value is not None, value.casefold() if isinstance(value, str) else value)

        result.sort(key=key, reverse=descending)
    return result


def _int_param(query: Mapping[str, str], name: str, default: int) -> int:
    text = query.get(name.lower())
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise _BadRequest(name, f"The value '{text}' is not valid for {name}.") from None


# -- Validating and deriving a webaanvraag -----------------------------------------------------

_ADRES = {
    "adres1": "string",
    "adres2": "string",
    "adres3": "string",
    "huisnummer": "string",
    "postcode": "string",
    "plaats": "string",
    "landCode": "string",
}
_PERSOON: dict[str, Any] = {
    "voorletters": "string",
    "voornaam": "string",
    "tussenvoegsels": "string",
    "achternaam": "string",
    "emailadres": "string",
    "telefoonnummer": "string",
    "mobielTelefoonnummer": "string",
    "geboorteDatum": "date",
    "geslacht": "string",
    "opmerking": "string",
    "adres": _ADRES,
}
_WEBAANVRAAG: dict[str, Any] = {
    "referentieNrKlant": "string",
    "opmerking": "string",
    "aantalPersonen": "int",
    "aanvraagIsOrder": "bool",
    "contactpersoonIsLeidinggevende": "bool",
    "vrijevelden": "object",
    "bedrijf": {
        "naam": "string",
        "emailadres": "string",
        "telefoonnummer": "string",
        "adres": _ADRES,
        "factuurAdres": _ADRES,
    },
    "contactpersoon": _PERSOON,
    "debiteur": {
        "naamRekeninghouder": "string",
        "particulier": "bool",
        "emailType": "string",
        "emailadresAnders": "string",
    },
    "deelnemers": [_PERSOON],
    "opleidingen": [{"opleidingssoortId": "guid", "opleidingId": "guid"}],
}
"""What ASP.NET would bind a webaanvraag body to; unknown fields are ignored, nulls allowed."""

_DOTNET_TYPES = {
    "string": "System.String",
    "bool": "System.Boolean",
    "int": "System.Int32",
    "guid": "System.Guid",
    "date": "System.DateTime",
    "object": "System.Collections.Generic.Dictionary`2[System.String,System.Object]",
}


def _parses(parse: Callable[[str], object]) -> Callable[[Any], bool]:
    """A check that a JSON value is a string ``parse`` accepts (as a GUID, a date, ...)."""

    def check(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            parse(value)
        except ValueError:
            return False
        return True

    return check


_SCALAR_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "guid": _parses(uuid.UUID),
    "date": _parses(datetime.fromisoformat),
    "object": lambda v: isinstance(v, dict),
}


def _type_error(value: Any, spec: Any, path: str) -> tuple[str, str] | None:
    """The JSON path and .NET type of the first value that would not bind, else ``None``."""
    if value is None:
        return None
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return path, "Coachview.Api.Models.Object"
        for key, item in value.items():
            sub = _get_ci(spec, key)
            if sub is not None and (error := _type_error(item, sub, f"{path}.{key}")):
                return error
        return None
    if isinstance(spec, list):
        if not isinstance(value, list):
            return path, "System.Collections.Generic.List`1[Coachview.Api.Models.Object]"
        for index, item in enumerate(value):
            if error := _type_error(item, spec[0], f"{path}[{index}]"):
                return error
        return None
    return None if _SCALAR_CHECKS[spec](value) else (path, _DOTNET_TYPES[spec])


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _validate(body: dict[str, Any], catalogue: SandboxCatalogue) -> dict[str, list[str]]:
    """ASP.NET-style model errors (``{"Contactpersoon.Achternaam": [...]}``) of a body that
    binds; empty when Coachview would accept it."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    contact = _get_ci(body, "contactpersoon")
    if contact is None:
        add("Contactpersoon", "The Contactpersoon field is required.")
    elif _blank(_get_ci(contact, "achternaam")):
        add("Contactpersoon.Achternaam", "The Achternaam field is required.")
    for index, deelnemer in enumerate(_get_ci(body, "deelnemers") or []):
        if deelnemer is None:
            add(f"Deelnemers[{index}]", "The Deelnemer field is required.")
        elif _blank(_get_ci(deelnemer, "achternaam")):
            add(f"Deelnemers[{index}].Achternaam", "The Achternaam field is required.")
    for index, wanted in enumerate(_get_ci(body, "opleidingen") or []):
        key = f"Opleidingen[{index}]"
        soort_id = _get_ci(wanted, "opleidingssoortId")
        run_id = _get_ci(wanted, "opleidingId")
        if wanted is None or soort_id is None or uuid.UUID(soort_id).int == 0:
            add(f"{key}.OpleidingssoortId", "The OpleidingssoortId field is required.")
            continue
        soort = catalogue.soort(soort_id)
        if soort is None:
            add(f"{key}.OpleidingssoortId", f"Opleidingssoort '{soort_id}' bestaat niet.")
        if run_id is None:
            continue
        run = catalogue.opleiding(run_id)
        if run is None:
            add(f"{key}.OpleidingId", f"Opleiding '{run_id}' bestaat niet.")
        elif soort is not None and run["opleidingssoortId"].lower() != soort["id"].lower():
            add(
                f"{key}.OpleidingId",
                f"Opleiding '{run_id}' hoort niet bij opleidingssoort '{soort_id}'.",
            )
    return errors


def _same_person(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """The seed's test for "the contactpersoon is the first deelnemer": the same names,
    ignoring case and spaces, and the same e-mail address when both have one."""

    def norm(value: Any) -> str:
        return "".join(str(value or "").split()).casefold()

    if any(
        norm(_get_ci(a, name)) != norm(_get_ci(b, name))
        for name in ("voornaam", "tussenvoegsels", "achternaam")
    ):
        return False
    mail_a, mail_b = norm(_get_ci(a, "emailadres")), norm(_get_ci(b, "emailadres"))
    return not (mail_a and mail_b) or mail_a == mail_b


def derive_participants(
    body: Mapping[str, Any],
) -> tuple[int, bool, list[dict[str, Any]]]:
    """``(aantalDeelnemers, contactpersoonIsDeelnemer, WebaanvraagDeelnemers)`` of a body, by
    the seed's three scenarios; an empty ``deelnemers`` list counts as none (*guess*)."""
    contact = _get_ci(body, "contactpersoon") or {}
    deelnemers = [d for d in _get_ci(body, "deelnemers") or [] if isinstance(d, dict)]
    if not deelnemers:
        return 1, True, []
    if _same_person(contact, deelnemers[0]):
        return len(deelnemers), True, deelnemers[1:]
    return len(deelnemers), False, deelnemers


# -- The server --------------------------------------------------------------------------------


@dataclass
class _ApiClient:
    secret: str
    scopes: frozenset[str]


@dataclass
class _IssuedToken:
    client_id: str
    scopes: frozenset[str]
    expires_at: datetime


class _Close(Exception):
    """Close the connection without an answer (recorded with ``status``)."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


_PROBLEM_TYPES = {
    400: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    404: "https://tools.ietf.org/html/rfc9110#section-15.5.5",
    405: "https://tools.ietf.org/html/rfc9110#section-15.5.6",
    415: "https://tools.ietf.org/html/rfc9110#section-15.5.16",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    500: "https://tools.ietf.org/html/rfc9110#section-15.6.1",
}


def _json(data: Any, status: int = 200, content_type: str = "application/json") -> web.Response:
    return web.Response(
        text=json.dumps(data, ensure_ascii=False),
        status=status,
        content_type=content_type,
        charset="utf-8",
    )


def _problem(
    status: int, *, title: str | None = None, errors: Mapping[str, list[str]] | None = None
) -> web.Response:
    """An ASP.NET Core problem-details answer."""
    body: dict[str, Any] = {
        "type": _PROBLEM_TYPES.get(status, "about:blank"),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if errors:
        body["errors"] = dict(errors)
    body["traceId"] = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"
    return _json(body, status, "application/problem+json")


def _validation_problem(errors: Mapping[str, list[str]]) -> web.Response:
    return _problem(400, title="One or more validation errors occurred.", errors=errors)


def _oauth_error(error: str) -> web.Response:
    return _json({"error": error}, 400)


_ROUTE = re.compile(r"^/api/v1/(?P<resource>[A-Za-z]+)(?:/(?P<id>[^/]+))?/?$")


class CoachviewSandbox:
    """A Coachview REST API on loopback, with inspectable state and injectable faults."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        client_id: str = SANDBOX_CLIENT_ID,
        client_secret: str = SANDBOX_CLIENT_SECRET,
        token_lifetime: timedelta = timedelta(hours=1),
        daily_limit: int = 5000,
        seed_catalogue: bool = True,
        scopes: Iterable[str] = SCOPES,
        limit_header: Literal["period", "count"] = "period",
        fault_seed: int = 0,
    ) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime = token_lifetime
        self.limit_header = limit_header
        self.catalogue = (
            _seed(self.clock.now())
            if seed_catalogue
            else SandboxCatalogue([], [], set(), _empty_seed())
        )
        self.requests: list[RecordedRequest] = []
        self.webaanvragen: list[StoredWebaanvraag] = []
        self.faults = Faults(fault_seed)
        self.strict = Strictness()
        self.budget = SandboxBudget(daily_limit, daily_limit, self.clock.now() + timedelta(days=1))
        self._clients: dict[str, _ApiClient] = {}
        self._tokens: dict[str, _IssuedToken] = {}
        self._next_nummer = 1001
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._host = "127.0.0.1"
        self._port: int | None = None
        self.add_client(client_id, client_secret, scopes)

    # -- Lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        """Serve on ``host``: on ``port``, else the port it had before, else a free one."""
        if self._runner is not None:
            raise RuntimeError("the Coachview sandbox is already running")
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await runner.setup()
        chosen = port if port is not None else (self._port or 0)
        try:
            await web.TCPSite(runner, host, chosen).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._host = host
        self._port = int(runner.addresses[0][1])
        logger.info("Coachview sandbox serving at %s", self.url)

    async def stop(self) -> None:
        """Stop serving (connections are then refused); the data stays for a later start."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._stopping.set()
        await runner.cleanup()

    @property
    def url(self) -> str:
        """The server root, as ``COACHVIEW_BASE_URL``."""
        if self._port is None:
            raise RuntimeError("the Coachview sandbox has not been started")
        return f"http://{self._host}:{self._port}"

    @property
    def running(self) -> bool:
        return self._runner is not None

    # -- Test controls -------------------------------------------------------------------------

    def add_client(
        self, client_id: str, client_secret: str, scopes: Iterable[str] = SCOPES
    ) -> None:
        """Allow another API client, with the scopes it may ask for."""
        unknown = set(scopes) - set(SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes: {sorted(unknown)}")
        self._clients[client_id] = _ApiClient(client_secret, frozenset(scopes))

    def expire_tokens(self) -> None:
        """Every token issued so far is expired from now on: the next API call gets 401."""
        now = self.clock.now()
        for token in self._tokens.values():
            token.expires_at = min(token.expires_at, now)

    def set_budget(
        self,
        *,
        limit: int | None = None,
        remaining: int | None = None,
        reset_at: datetime | None = None,
    ) -> None:
        """Change the request budget (only what is given)."""
        if limit is not None:
            self.budget.limit = limit
        if remaining is not None:
            self.budget.remaining = remaining
        if reset_at is not None:
            self.budget.reset_at = reset_at

    def webaanvraag(self, id_or_nummer: str | int) -> StoredWebaanvraag | None:
        """A stored webaanvraag by id or nummer."""
        key = str(id_or_nummer).lower()
        return next((w for w in self.webaanvragen if key in (w.id.lower(), str(w.nummer))), None)

    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """The recorded requests to ``path`` exactly (case-insensitive), of ``method``."""
        return [
            r
            for r in self.requests
            if r.path.lower() == path.lower() and (method is None or r.method == method)
        ]

    # -- Handling a request --------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query={key: request.query[key] for key in request.query},
            when=self.clock.now(),
            raw_path=request.raw_path.split("?", 1)[0],
        )
        self.requests.append(recorded)
        rule = self.faults.take(request.method, request.path)
        try:
            if rule is not None and rule.action != "delay" and rule.delay:
                await self._pause(rule.delay)
            if rule is not None and rule.action == "refuse":
                raise _Close("refused")
            if rule is not None and rule.action == "hang":
                await self._stopping.wait()
                raise _Close("hung")
            if rule is not None and rule.action == "hold":
                self.faults.held += 1
                try:
                    await self.faults.released.wait()
                finally:
                    self.faults.held -= 1
            recorded.body = await request.read()
            response = await self._answer(request, recorded.body, rule)
            recorded.status = response.status
            if rule is not None and rule.action == "delay":
                await self._pause(rule.delay)
            if rule is not None and rule.action == "drop":
                raise _Close("dropped")
        except _Close as close:
            recorded.status = close.status
            # aiohttp closes the connection without an answer when a handler is cancelled.
            raise asyncio.CancelledError from None
        return response

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or until the sandbox stops (then the connection is closed)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        if self._stopping.is_set():
            raise _Close("dropped")

    async def _answer(
        self, request: web.Request, body: bytes, rule: FaultRule | None
    ) -> web.Response:
        """The answer, rate-limit headers included; every request counts against the budget."""
        if request.path.lower().startswith("/betalen/"):
            return web.Response(text="Betaling (Coachview sandbox): niets te betalen.")
        now = self.clock.now()
        allowed = self.budget.spend(now)
        if rule is not None and rule.action == "status":
            response = self._injected(rule)
        elif not allowed:
            response = web.Response(
                text=f"API calls quota exceeded! maximum admitted {self.budget.limit} per 1d.",
                status=429,
            )
            wait = max((self.budget.reset_at - now).total_seconds(), 0)
            response.headers["Retry-After"] = str(math.ceil(wait))
        else:
            try:
                response = await self._route(request, body)
            except _BadRequest as err:
                response = _validation_problem({err.key: [err.message]})
        limit = str(self.budget.limit) if self.limit_header == "count" else "1d"
        rate_headers = {
            "X-Rate-Limit-Limit": limit,
            "X-Rate-Limit-Remaining": str(self.budget.remaining),
            "X-Rate-Limit-Reset": _dotnet_utc(self.budget.reset_at),
        }
        for name, value in rate_headers.items():
            response.headers.setdefault(name, value)
        return response

    @staticmethod
    def _injected(rule: FaultRule) -> web.Response:
        assert rule.status is not None
        if rule.body is None:
            response = _problem(rule.status)
        elif isinstance(rule.body, dict | list):
            response = _json(rule.body, rule.status)
        elif isinstance(rule.body, bytes):
            response = web.Response(body=rule.body, status=rule.status)
        else:
            response = web.Response(text=str(rule.body), status=rule.status)
        response.headers.update(rule.headers)
        return response

    async def _route(self, request: web.Request, body: bytes) -> web.Response:
        path = request.path
        if path.lower() == _TOKEN_PATH:
            if request.method != "POST":
                return _problem(405)
            return self._token(request, body)
        match = _ROUTE.match(path)
        resource = (
            next((name for name in _FIELDS if name.lower() == match["resource"].lower()), None)
            if match
            else None
        )
        if match is None or resource is None:
            return _problem(404)
        record_id = match["id"]
        scope = ENDPOINT_SCOPES.get((request.method, resource))
        if scope is None or (request.method == "POST" and record_id is not None):
            response = _problem(405)
            response.headers["Allow"] = "GET, POST" if resource == "Webaanvragen" else "GET"
            return response
        denied = self._authorize(request, scope)
        if denied is not None:
            return denied
        if self.strict.lacks(resource):
            return _problem(404)
        if request.method == "POST":
            return self._create_webaanvraag(request, body)
        records = self._records(resource)
        if self.strict.free_fields_on_request and not any(
            key.lower() == "inclusiefvrijevelden" and value.lower() == "true"
            for key, value in request.query.items()
        ):
            records = [{k: v for k, v in r.items() if k != "vrijevelden"} for r in records]
        if record_id is not None:
            found = next(
                (r for r in records if str(r.get("id", "")).lower() == record_id.lower()), None
            )
            return _json(found) if found is not None else _problem(404)
        return self._list(request, resource, records, self.strict)

    def _authorize(self, request: web.Request, scope: str) -> web.Response | None:
        """401 for a missing, unknown or expired token; 403 when it lacks ``scope``."""
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        token = self._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            response = web.Response(status=401)
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
        if self.clock.now() >= token.expires_at:
            response = web.Response(status=401)
            response.headers["WWW-Authenticate"] = (
                'Bearer error="invalid_token", error_description="The token expired"'
            )
            return response
        if scope not in token.scopes:
            return web.Response(status=403)
        return None

    def _records(self, resource: str) -> list[dict[str, Any]]:
        if resource == "Webaanvragen":
            return [w.record for w in self.webaanvragen]
        if resource == "WebaanvraagOpleidingen":
            return [row for w in self.webaanvragen for row in w.opleidingen]
        if resource == "WebaanvraagDeelnemers":
            return [row for w in self.webaanvragen for row in w.deelnemers]
        if resource == "Opleidingssoorten":
            return self.catalogue.opleidingssoorten
        return self.catalogue.opleidingen

    @staticmethod
    def _list(
        request: web.Request,
        resource: str,
        records: Sequence[dict[str, Any]],
        strict: Strictness | None = None,
    ) -> web.Response:
        query = {key.lower(): value for key, value in request.query.items()}
        if strict is not None:
            strict.check_query(resource, query.get("where"), query.get("orderby"))
            if query.get("where"):
                query["where"] = strict.without_ignored(resource, query["where"])
        skip = _int_param(query, "skip", 0)
        take = _int_param(query, "take", MAX_TAKE)
        if skip < 0:
            raise _BadRequest("skip", "skip mag niet negatief zijn.")
        if not 0 < take <= MAX_TAKE:
            raise _BadRequest("take", f"take moet tussen 1 en {MAX_TAKE} liggen.")
        selected = list(records)
        if query.get("where"):
            selected = [r for r in selected if _where(resource, query["where"])(r)]
        if query.get("orderby"):
            selected = _sort(resource, selected, query["orderby"])
        response = _json(selected[skip : skip + take])
        if query.get("count", "").lower() == "true":
            response.headers["RowCount"] = str(len(selected))
        return response

    def _token(self, request: web.Request, body: bytes) -> web.Response:
        """IdentityServer's token endpoint, client credentials grant only."""
        if request.content_type != "application/x-www-form-urlencoded":
            return _oauth_error("invalid_request")
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return _oauth_error("invalid_request")
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return _oauth_error("invalid_client")
        client = self._clients.get(client_id)
        if client is None or not hmac.compare_digest(client.secret.encode(), secret.encode()):
            return _oauth_error("invalid_client")
        grant_type = form.get("grant_type")
        if not grant_type:
            return _oauth_error("invalid_request")
        if grant_type != "client_credentials":
            return _oauth_error("unsupported_grant_type")
        requested = frozenset(form.get("scope", "").split())
        if requested - client.scopes:
            return _oauth_error("invalid_scope")
        scopes = requested or client.scopes
        value = secrets.token_urlsafe(32)
        self._tokens[value] = _IssuedToken(
            client_id, scopes, self.clock.now() + self.token_lifetime
        )
        response = _json(
            {
                "access_token": value,
                "expires_in": int(self.token_lifetime.total_seconds()),
                "token_type": "Bearer",
                "scope": " ".join(sorted(scopes)),
            }
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    def _create_webaanvraag(self, request: web.Request, raw: bytes) -> web.Response:
        """``POST Webaanvragen``: check as ASP.NET would, store, derive, answer 201."""
        content_type = request.content_type
        if content_type not in ("application/json", "text/json") and not (
            content_type.startswith("application/") and content_type.endswith("+json")
        ):
            return _problem(415)
        if not raw.strip():
            return _validation_problem({"": ["A non-empty request body is required."]})
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            return _validation_problem({"$": [f"The JSON value could not be parsed: {err}."]})
        if not isinstance(body, dict):
            return _validation_problem(
                {"$": ["The JSON value could not be converted to Coachview.Api.Webaanvraag."]}
            )
        type_error = _type_error(body, _WEBAANVRAAG, "$")
        if type_error is not None:
            path, type_name = type_error
            return _validation_problem(
                {path: [f"The JSON value could not be converted to {type_name}. Path: {path}."]}
            )
        errors = _validate(body, self.catalogue)
        if errors:
            return _validation_problem(errors)
        stored = self._store(raw, body)
        paid = any(
            row["opleidingssoortId"] in self.catalogue.payment_required
            for row in stored.opleidingen
        )
        created = {
            "id": stored.id,
            "nummer": stored.nummer,
            "betaalproviderRedirectUrl": f"{self.url}/betalen/{stored.id}" if paid else None,
        }
        if self.strict.omit_created_id:
            del created["id"]
        response = _json(created, 201)
        response.headers["Location"] = f"{self.url}{_API}Webaanvragen/{stored.id}"
        return response

    def _store(self, raw: bytes, body: dict[str, Any]) -> StoredWebaanvraag:
        webaanvraag_id = str(uuid.uuid4())
        nummer = self._next_nummer
        self._next_nummer += 1
        aantal, contact_is_deelnemer, others = derive_participants(body)
        record = {
            "id": webaanvraag_id,
            "nummer": nummer,
            **{k: v for k, v in body.items() if k.lower() not in ("id", "nummer")},
            "aanvraagDatum": format_coachview_datetime(self.clock.now()),
            "aantalDeelnemers": aantal,
            "contactpersoonIsDeelnemer": contact_is_deelnemer,
            "status": "Nieuw",
        }
        opleidingen = []
        for wanted in _get_ci(body, "opleidingen") or []:
            soort = self.catalogue.soort(_get_ci(wanted, "opleidingssoortId")) or {}
            run_id = _get_ci(wanted, "opleidingId")
            run = (self.catalogue.opleiding(run_id) if run_id else None) or {}
            opleidingen.append(
                {
                    "id": str(uuid.uuid4()),
                    "webaanvraagId": webaanvraag_id,
                    "opleidingssoortId": soort.get("id"),
                    "opleidingssoortCode": soort.get("code"),
                    "opleidingssoortNaam": soort.get("naam"),
                    "opleidingId": run.get("id"),
                    "opleidingCode": run.get("code"),
                    "opleidingNaam": run.get("naam"),
                    "startDatum": run.get("startDatum"),
                    "eindDatum": run.get("eindDatum"),
                }
            )
        deelnemers = [
            {
                "id": str(uuid.uuid4()),
                "webaanvraagId": webaanvraag_id,
                **dict.fromkeys(_PERSOON_FIELDS[:6]),
                **person,
            }
            for person in others
        ]
        stored = StoredWebaanvraag(
            webaanvraag_id, nummer, raw, body, record, opleidingen, deelnemers
        )
        self.webaanvragen.append(stored)
        return stored


# -- Standalone --------------------------------------------------------------------------------


async def _serve(args: argparse.Namespace) -> None:
    sandbox = CoachviewSandbox(
        client_id=args.client_id, client_secret=args.client_secret, daily_limit=args.daily_limit
    )
    if args.strict:
        sandbox.strict = Strictness.evidence()
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    await sandbox.start(args.host, args.port)
    seed = sandbox.catalogue.seed
    print(
        f"Coachview sandbox at {sandbox.url}\n"
        f"  COACHVIEW_BASE_URL={sandbox.url}\n"
        f"  COACHVIEW_CLIENT_ID={sandbox.client_id}\n"
        f"  COACHVIEW_CLIENT_SECRET={sandbox.client_secret}\n"
        f"  a course type: {seed.open_soort}, a run with places: {seed.open_run}\n"
        f"  {'strict: every unverified guess refused' if args.strict else 'not strict'}\n"
        "Ctrl-C stops it.",
        flush=True,
    )
    try:
        await stopped.wait()
    finally:
        await sandbox.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sandbox.coachview [--host H] [--port P] [--strict]``: serve until
    Ctrl-C (point ``COACHVIEW_BASE_URL`` of the demo or ``enrollbot check`` at it)."""
    parser = argparse.ArgumentParser(description="A local fake Coachview REST API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--client-id", default=SANDBOX_CLIENT_ID)
    parser.add_argument("--client-secret", default=SANDBOX_CLIENT_SECRET)
    parser.add_argument("--daily-limit", type=int, default=5000)
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse every unverified query form, lack the webaanvraag sub-endpoints, "
        "leave id out of the 201 answer (Strictness.evidence())",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
