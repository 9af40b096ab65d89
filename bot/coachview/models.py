"""Typed views of Coachview's JSON: snake_case attributes, Coachview's camelCase as aliases.

Build a model from Coachview's JSON with ``Model.model_validate(data)``, or by attribute name in
code and tests (``Persoon(voornaam="Anna")``); fields Coachview sends that are not declared here
are kept (``extra="allow"``) so nothing it says is lost.

Coachview writes dates without a time zone ("2026-12-01T09:00:00"): they are Dutch local time
[guess, as the product is Dutch]. They parse into aware datetimes in :data:`COACHVIEW_TZ`;
date-only values ("2026-12-01") mean midnight that day. Filters want dates as ``dd-mm-yyyy``
(:func:`format_filter_date`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = [
    "COACHVIEW_TZ",
    "Bedrijf",
    "CoachviewDateTime",
    "CreatedWebaanvraag",
    "Debiteur",
    "Opleiding",
    "OpleidingStatus",
    "Opleidingssoort",
    "Persoon",
    "RateBudget",
    "SkippedRecord",
    "Webaanvraag",
    "WebaanvraagDeelnemer",
    "WebaanvraagOpleiding",
    "format_coachview_datetime",
    "format_filter_date",
    "parse_coachview_datetime",
]

COACHVIEW_TZ = ZoneInfo("Europe/Amsterdam")
"""The zone of Coachview's naive datetimes [guess]."""

OpleidingStatus = Literal["TeStarten", "Definitief", "Geannuleerd"]


def parse_coachview_datetime(value: Any) -> datetime | None:
    """A Coachview date or datetime as an aware datetime; ``None`` for null or empty.

    Naive values are Dutch local time; values with ``Z`` or an offset keep their zone.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value.strip())
    else:
        raise TypeError(f"expected a date string, not {type(value).__name__}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=COACHVIEW_TZ)


def format_coachview_datetime(value: datetime) -> str:
    """``value`` the way Coachview writes datetimes: naive Dutch local time, whole seconds."""
    if value.tzinfo is not None:
        value = value.astimezone(COACHVIEW_TZ)
    return value.replace(tzinfo=None, microsecond=0).isoformat()


def format_filter_date(value: date | datetime) -> str:
    """A date for a ``where`` filter: ``dd-mm-yyyy`` (a datetime counts by its Dutch date)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(COACHVIEW_TZ)
    return value.strftime("%d-%m-%Y")


CoachviewDateTime = Annotated[datetime | None, BeforeValidator(parse_coachview_datetime)]
"""A datetime field as Coachview writes it (see the module docstring)."""


def _as_str(value: Any) -> Any:
    """Ids and numbers may come as JSON numbers; we always hold them as strings."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


CoachviewStr = Annotated[str, BeforeValidator(_as_str)]


class CoachviewModel(BaseModel):
    """Shared configuration: camelCase aliases, by-name construction, unknown fields kept."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="allow",
    )


# -- The catalogue -----------------------------------------------------------------------------


class Opleidingssoort(CoachviewModel):
    """A course type (``GET /api/v1/Opleidingssoorten``)."""

    id: CoachviewStr
    code: str
    naam: str
    publicatie_website: bool = True
    inactief: bool = False

    @property
    def offered(self) -> bool:
        """Published on the website and active: a course type enrollees may choose."""
        return self.publicatie_website and not self.inactief


class Opleiding(CoachviewModel):
    """A scheduled run of a course type (``GET /api/v1/Opleidingen``)."""

    id: CoachviewStr
    code: str
    naam: str
    opleidingssoort_id: CoachviewStr
    opleiding_status_id: str  # OpleidingStatus: TeStarten, Definitief or Geannuleerd
    start_datum: CoachviewDateTime = None
    eind_datum: CoachviewDateTime = None
    aantal_plaatsen_vrij: int | None = None
    deadline_inschrijven: CoachviewDateTime = None

    def open_for_enrollment(self, now: datetime) -> bool:
        """Whether a person can still enroll at ``now``: not cancelled, not full, not started,
        and the enrollment deadline (if any) not passed."""
        if self.opleiding_status_id == "Geannuleerd":
            return False
        if self.aantal_plaatsen_vrij is not None and self.aantal_plaatsen_vrij <= 0:
            return False
        if self.start_datum is not None and self.start_datum <= now:
            return False
        return self.deadline_inschrijven is None or now <= self.deadline_inschrijven


# -- Webaanvragen ------------------------------------------------------------------------------


class Persoon(CoachviewModel):
    """A person in a webaanvraag: the contactpersoon or a deelnemer."""

    voorletters: str | None = None
    voornaam: str | None = None
    tussenvoegsels: str | None = None
    achternaam: str | None = None
    emailadres: str | None = None
    telefoonnummer: str | None = None


class Bedrijf(CoachviewModel):
    """The company in a webaanvraag (address objects stay as Coachview sends them)."""

    naam: str | None = None
    emailadres: str | None = None
    telefoonnummer: str | None = None


class Debiteur(CoachviewModel):
    """Who pays for a webaanvraag."""

    naam_rekeninghouder: str | None = None
    particulier: bool | None = None
    email_type: str | None = None
    emailadres_anders: str | None = None


class CreatedWebaanvraag(CoachviewModel):
    """The answer to ``POST /api/v1/Webaanvragen``: ``nummer`` is the number staff see."""

    id: CoachviewStr | None = None
    nummer: CoachviewStr
    betaalprovider_redirect_url: str | None = None


class Webaanvraag(CoachviewModel):
    """A stored webaanvraag (``GET /api/v1/Webaanvragen``).

    ``aantal_deelnemers`` is the number of participants, the contactpersoon included when
    ``contactpersoon_is_deelnemer``; never count the WebaanvraagDeelnemers rows instead.
    """

    id: CoachviewStr
    nummer: CoachviewStr
    aanvraag_datum: CoachviewDateTime = None
    referentie_nr_klant: str | None = None
    opmerking: str | None = None
    aantal_deelnemers: int
    contactpersoon_is_deelnemer: bool
    contactpersoon: Persoon | None = None
    bedrijf: Bedrijf | None = None
    debiteur: Debiteur | None = None
    status: str | None = None


class WebaanvraagOpleiding(CoachviewModel):
    """A course (type, and run when chosen) that a webaanvraag asks for."""

    id: CoachviewStr
    webaanvraag_id: CoachviewStr
    opleidingssoort_id: CoachviewStr | None = None
    opleidingssoort_code: str | None = None
    opleidingssoort_naam: str | None = None
    opleiding_id: CoachviewStr | None = None
    opleiding_code: str | None = None
    opleiding_naam: str | None = None
    start_datum: CoachviewDateTime = None
    eind_datum: CoachviewDateTime = None


class WebaanvraagDeelnemer(CoachviewModel):
    """A participant of a webaanvraag other than the contactpersoon."""

    id: CoachviewStr
    webaanvraag_id: CoachviewStr
    voornaam: str | None = None
    tussenvoegsels: str | None = None
    achternaam: str | None = None
    emailadres: str | None = None
    telefoonnummer: str | None = None


@dataclass(frozen=True)
class SkippedRecord:
    """A record from Coachview the bot could not use: which, the field at fault, and why."""

    entity: str
    id: str | None
    field: str
    reason: str


# -- Rate limit --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RateBudget:
    """What the last ``X-Rate-Limit-*`` headers said; ``None`` where not (yet) known.

    ``limit`` is the number of requests per period (from the header when it is a number, else
    the client's configured daily limit); ``period`` is the header's text when it names a period
    (AspNetCoreRateLimit sends e.g. ``"1d"``); ``reset_at`` is an aware UTC datetime.
    """

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None
    period: str | None = None

    def exhausted(self, now: datetime) -> bool:
        """Whether the budget is known to be spent at ``now`` (so nothing should be sent)."""
        return (
            self.remaining is not None
            and self.remaining <= 0
            and self.reset_at is not None
            and now < self.reset_at
        )
