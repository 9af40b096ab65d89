"""Typed views of Coachview's JSON: snake_case attributes, Coachview's camelCase as aliases.

Build a model from Coachview's JSON with ``Model.model_validate(data)``, or by attribute name in
code and tests (``Persoon(voornaam="Anna")``); fields Coachview sends that are not declared here
are kept (``extra="allow"``) so nothing it says is lost.

Live records are looser than Coachview's documentation suggests (``docs/coachview.md``,
"The catalogue"): flags where a date was expected (``deadlineInschrijven``),
nulls anywhere, numbers as ``52.5`` or ``12``. So only the fields the bot cannot do without are
strict (a record's ``id`` and ``naam``, a run's course type and a start date that is there but
unreadable); every other field is :data:`Lenient`: a value of the wrong kind reads as ``None``
and never fails the record. A record that fails anyway is skipped by the client and recorded as
a :class:`SkippedRecord`.

Coachview writes dates without a time zone ("2026-12-01T09:00:00"): they are Dutch local time
[guess, as the product is Dutch]. They parse into aware datetimes in :data:`COACHVIEW_TZ`;
date-only values ("2026-12-01") mean midnight that day. Filters want dates as ``dd-mm-yyyy``
(:func:`format_filter_date`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic.alias_generators import to_camel

__all__ = [
    "CLOSED_SOORT_STATUSES",
    "COACHVIEW_TZ",
    "OPEN_RUN_STATUSES",
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

OPEN_RUN_STATUSES: Final = ("TeStarten", "Definitief")
"""The statuses of a run that takes enrollments, as live enrollment sites filter them."""

CLOSED_SOORT_STATUSES: Final = frozenset(
    {"inactief", "vervallen", "gearchiveerd", "archief", "geblokkeerd", "beeindigd"}
)
"""``opleidingssoortStatusId`` values (compared case-insensitively) that close a course type.

[guess] The live evidence names the field but none of its values. Live sites select course types
by ``publicatieWebsite`` and ``inactief`` only, so a status is a second line here: a course type
is closed by the statuses that say "no longer in use" in Coachview's Dutch, and every other value
(``Actief``, or one we have never seen) leaves it open. A list of open values instead would hide
the whole catalogue the day Coachview names its active status differently.
"""


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
        raise ValueError(f"expected a date string, not {type(value).__name__}")
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


def _or_none(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """The value validated, or ``None`` when it does not fit (a field the bot can do without)."""
    try:
        return handler(value)
    except ValidationError:
        return None


Lenient = WrapValidator(_or_none)
"""Marks a field that can never fail its record: a value of the wrong kind reads as ``None``."""


def _as_text(value: Any) -> Any:
    """Text as sent; a number becomes its digits (a phone number may come as one)."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    return value


def _as_whole(value: Any) -> Any:
    """A count sent as ``12`` or ``12.0`` (floats without a fraction are whole numbers)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _required_text(value: Any) -> Any:
    """A name the bot shows: text with something in it."""
    value = _as_text(value)
    if isinstance(value, str) and not value.strip():
        raise ValueError("empty")
    return value


def _code(value: Any) -> Any:
    """A code is optional: null or junk reads as no code."""
    value = _as_text(value)
    return value if isinstance(value, str) else ""


def _flag_or_date(value: Any) -> Any:
    """``true``/``false`` as sent (a flag), else a date or datetime."""
    if isinstance(value, bool):
        return value
    return parse_coachview_datetime(value)


OptStr = Annotated[str | None, BeforeValidator(_as_text), Lenient]
"""Text the bot can do without."""
OptBool = Annotated[bool | None, Lenient]
OptInt = Annotated[int | None, BeforeValidator(_as_whole), Lenient]
OptNumber = Annotated[Decimal | None, Lenient]
"""A number sent as ``52.5``, ``12`` or ``"12,50"`` is kept exactly (as a Decimal)."""
OptDateTime = Annotated[datetime | None, BeforeValidator(parse_coachview_datetime), Lenient]
Name = Annotated[str, BeforeValidator(_required_text)]
Code = Annotated[str, BeforeValidator(_code)]
FlagOrDate = Annotated[bool | datetime | None, BeforeValidator(_flag_or_date), Lenient]
"""``deadlineInschrijven``: live records carry a flag where we once expected a date."""


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
    """A course type (``GET /api/v1/Opleidingssoorten``).

    ``prijs_excl_btw`` is ``totaalBedragExclBtwGepubliceerdeVerkoopregels``, the published price
    excluding VAT; ``doel`` the course's goal (plain text); ``omschrijving_inhoud`` its
    description (HTML, not shown: see :mod:`bot.courses`).
    """

    id: CoachviewStr
    code: Code = ""
    naam: Name
    doel: OptStr = None
    omschrijving_inhoud: OptStr = None
    prijs_excl_btw: OptNumber = Field(
        default=None, alias="totaalBedragExclBtwGepubliceerdeVerkoopregels"
    )
    aantal_onderdelen: OptInt = None
    publicatie_website: OptBool = None
    inactief: OptBool = None
    opleidingssoort_status_id: OptStr = None

    @property
    def offered(self) -> bool:
        """Published on the website, active, and not in a closed status: a course type
        enrollees may choose. A flag that is absent does not close it (Coachview's own
        filter, ``publicatieWebsite=true;inactief=false``, has already been applied)."""
        status = (self.opleidingssoort_status_id or "").strip().casefold()
        return (
            self.publicatie_website is not False
            and self.inactief is not True
            and status not in CLOSED_SOORT_STATUSES
        )


class Opleiding(CoachviewModel):
    """A scheduled run of a course type (``GET /api/v1/Opleidingen``).

    ``deadline_inschrijven`` is a flag in live records (``true``: an enrollment deadline applies;
    Coachview does not say when) and a datetime in older guesses; only a datetime that has
    passed closes the run [guess: Coachview enforces its own deadline when staff process the
    webaanvraag]. ``publicatie`` is *Publicatie website/portaal*: only published runs take web
    enrollments.
    """

    id: CoachviewStr
    code: Code = ""
    naam: Name
    opleidingssoort_id: CoachviewStr
    opleiding_status_id: OptStr = None  # OpleidingStatus: TeStarten, Definitief, Geannuleerd...
    publicatie: OptBool = None
    start_datum: CoachviewDateTime = None
    eind_datum: OptDateTime = None
    aantal_plaatsen_vrij: OptInt = None
    deadline_inschrijven: FlagOrDate = None
    deadline_uitschrijven: FlagOrDate = None
    totaal_aantal_uur: OptNumber = None
    aantal_onderdelen: OptInt = None

    def open_for_enrollment(self, now: datetime) -> bool:
        """Whether a person can still enroll at ``now``: to be started or definite, published,
        not full, not started, and a dated enrollment deadline (if any) not passed."""
        if self.opleiding_status_id is not None and (
            self.opleiding_status_id.casefold() not in {s.casefold() for s in OPEN_RUN_STATUSES}
        ):
            return False
        if self.publicatie is False:
            return False
        if self.aantal_plaatsen_vrij is not None and self.aantal_plaatsen_vrij <= 0:
            return False
        if self.start_datum is not None and self.start_datum <= now:
            return False
        deadline = self.deadline_inschrijven
        return not isinstance(deadline, datetime) or now <= deadline


# -- Webaanvragen ------------------------------------------------------------------------------


class Persoon(CoachviewModel):
    """A person in a webaanvraag: the contactpersoon or a deelnemer."""

    voorletters: OptStr = None
    voornaam: OptStr = None
    tussenvoegsels: OptStr = None
    achternaam: OptStr = None
    emailadres: OptStr = None
    telefoonnummer: OptStr = None


class Bedrijf(CoachviewModel):
    """The company in a webaanvraag (address objects stay as Coachview sends them)."""

    naam: OptStr = None
    emailadres: OptStr = None
    telefoonnummer: OptStr = None


class Debiteur(CoachviewModel):
    """Who pays for a webaanvraag."""

    naam_rekeninghouder: OptStr = None
    particulier: OptBool = None
    email_type: OptStr = None
    emailadres_anders: OptStr = None


class CreatedWebaanvraag(CoachviewModel):
    """The answer to ``POST /api/v1/Webaanvragen``: ``nummer`` is the number staff see."""

    id: Annotated[CoachviewStr | None, Lenient] = None
    nummer: CoachviewStr
    betaalprovider_redirect_url: OptStr = None


class Webaanvraag(CoachviewModel):
    """A stored webaanvraag (``GET /api/v1/Webaanvragen``).

    ``aantal_deelnemers`` is the number of participants, the contactpersoon included when
    ``contactpersoon_is_deelnemer``; never count the WebaanvraagDeelnemers rows instead. Only a
    webaanvraag without a readable ``id`` or ``nummer`` is skipped: every other field may be null
    or odd (``None`` then), so that the look-up by reference after an ambiguous POST never
    misses a webaanvraag over a field it does not need.
    """

    id: CoachviewStr
    nummer: CoachviewStr
    aanvraag_datum: OptDateTime = None
    referentie_nr_klant: OptStr = None
    opmerking: OptStr = None
    aantal_deelnemers: OptInt = None
    contactpersoon_is_deelnemer: OptBool = None
    contactpersoon: Annotated[Persoon | None, Lenient] = None
    bedrijf: Annotated[Bedrijf | None, Lenient] = None
    debiteur: Annotated[Debiteur | None, Lenient] = None
    status: OptStr = None


class WebaanvraagOpleiding(CoachviewModel):
    """A course (type, and run when chosen) that a webaanvraag asks for."""

    id: CoachviewStr
    webaanvraag_id: CoachviewStr
    opleidingssoort_id: Annotated[CoachviewStr | None, Lenient] = None
    opleidingssoort_code: OptStr = None
    opleidingssoort_naam: OptStr = None
    opleiding_id: Annotated[CoachviewStr | None, Lenient] = None
    opleiding_code: OptStr = None
    opleiding_naam: OptStr = None
    start_datum: OptDateTime = None
    eind_datum: OptDateTime = None


class WebaanvraagDeelnemer(CoachviewModel):
    """A participant of a webaanvraag other than the contactpersoon."""

    id: CoachviewStr
    webaanvraag_id: CoachviewStr
    voornaam: OptStr = None
    tussenvoegsels: OptStr = None
    achternaam: OptStr = None
    emailadres: OptStr = None
    telefoonnummer: OptStr = None


# -- Records that could not be used ------------------------------------------------------------


@dataclass(frozen=True)
class SkippedRecord:
    """A record of a Coachview list that the bot could not use and left out.

    ``entity`` is the list (``"Opleidingen"``), ``id`` the record's id when it has a readable
    one, ``field`` Coachview's name of the first field that failed (``""`` when the record as a
    whole is not an object), ``reason`` what was wrong with it (never the value itself, which
    may be personal data).
    """

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
