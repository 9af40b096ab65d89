"""The Coachview REST client: the one thing the rest of the program talks to Coachview through.

One :class:`CoachviewClient` holds one ``httpx.AsyncClient``, an OAuth2 token and a catalogue
cache; open it with the Application and close it with ``aclose()`` (or ``async with``). Every
failure becomes an exception of :mod:`bot.errors`. The work is done by one module per job, each
saying what is known and what is a guess (``docs/coachview.md`` has the sources):

================================ ===========================================================
:mod:`bot.coachview.http`        the HTTP client, paths, answers as exceptions, pages
:mod:`bot.coachview.auth`        OAuth2 client credentials (an ``httpx.Auth``), 401 renewal
:mod:`bot.coachview.budget`      the 5,000-a-day budget, ``X-Rate-Limit-*``, request counts
:mod:`bot.coachview.parsing`     JSON to models; records the bot cannot use are skipped
:mod:`bot.coachview.cache`       shared requests, lifetimes, stale copies during an outage
:mod:`bot.coachview.catalogue`   course types and runs, as live enrollment sites ask for them
:mod:`bot.coachview.lookups`     webaanvragen read back for staff; the guesses' fallbacks
:mod:`bot.coachview.submit`      ``POST Webaanvragen`` and the look-up by the bot's reference
:mod:`bot.coachview.filters`     ``where`` values: ``,`` and ``;`` change a filter's meaning
================================ ===========================================================

Besides these: the scope each endpoint needs is a guess (:data:`ENDPOINT_SCOPES`, for
``enrollbot check``), and Coachview's naive datetimes are read as Dutch local time
(:mod:`bot.coachview.models`). Nothing here logs personal data, filter values or the secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx

from bot.clock import Clock, SystemClock
from bot.coachview.auth import TokenInfo
from bot.coachview.budget import parse_reset
from bot.coachview.catalogue import OFFERED_TYPES, Catalogue
from bot.coachview.guesses import LOCAL_SEARCH_WINDOW, Guess, GuessBook
from bot.coachview.http import API_PREFIX, DEFAULT_TIMEOUT, CoachviewHttp
from bot.coachview.lookups import WebaanvraagLookups
from bot.coachview.models import (
    CreatedWebaanvraag,
    Opleiding,
    Opleidingssoort,
    RateBudget,
    SkippedRecord,
    Webaanvraag,
    WebaanvraagDeelnemer,
    WebaanvraagOpleiding,
)
from bot.coachview.reference import DEFAULT_REFERENCE_FIELD
from bot.coachview.submit import Submissions

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENDPOINT_SCOPES",
    "OFFERED_TYPES",
    "SANDBOX_CLIENT_ID",
    "SANDBOX_CLIENT_SECRET",
    "CoachviewClient",
    "TokenInfo",
    "parse_reset",
]

SANDBOX_CLIENT_ID = "sandbox"
"""The credentials of the local Coachview sandbox (:mod:`sandbox.coachview`)."""
SANDBOX_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - a local fake's well-known secret

ENDPOINT_SCOPES: Mapping[tuple[str, str], str] = {
    ("POST", "Webaanvragen"): "Webaanvragen.Schrijven",
    ("GET", "Webaanvragen"): "Webaanvragen.Lezen",
    ("GET", "WebaanvraagOpleidingen"): "WebaanvraagOpleidingen.Lezen",
    ("GET", "WebaanvraagDeelnemers"): "WebaanvraagDeelnemers.Lezen",
    ("GET", "Opleidingssoorten"): "Opleidingssoorten.Lezen",
    ("GET", "Opleidingen"): "Opleidingen.Lezen",
}
"""The scope each endpoint the bot uses needs, besides ``api`` (*guess* after the pattern of
``Webaanvragen.Schrijven`` and ``Opleidingen.Lezen``, which are seen in live integrations)."""


class CoachviewClient:
    """Coachview's REST API, typed; one instance for the whole program.

    ``request_counts`` counts every HTTP request sent (``"token"`` and ``"api"``); ``budget``
    is what the last ``X-Rate-Limit-*`` headers said; ``skipped_records`` the records the latest
    fetch of each list had to leave out.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        scope: str = "",
        *,
        catalogue_ttl: timedelta = timedelta(minutes=10),
        clock: Clock | None = None,
        timeout: httpx.Timeout | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        page_size: int = 100,
        daily_limit: int = 5000,
        reference_field: str = DEFAULT_REFERENCE_FIELD,
    ) -> None:
        clock = clock if clock is not None else SystemClock()
        self._http = CoachviewHttp(
            base_url,
            client_id,
            client_secret,
            scope,
            clock=clock,
            timeout=timeout,
            transport=transport,
            page_size=page_size,
            daily_limit=daily_limit,
        )
        self._guesses = GuessBook()
        self._lookups = WebaanvraagLookups(self._http, self._guesses)
        self._submissions = Submissions(self._http, self._lookups, reference_field=reference_field)
        self._catalogue = Catalogue(self._http, ttl=catalogue_ttl, clock=clock)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        base_url: str | None = None,
        clock: Clock | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> CoachviewClient:
        """The client the configuration asks for.

        ``base_url`` overrides ``COACHVIEW_BASE_URL`` (the demo passes the embedded sandbox's
        URL); without configured credentials the sandbox's are used, which only a sandbox
        accepts (configuration guarantees credentials whenever ``COACHVIEW_BASE_URL`` is set).
        """
        url = base_url or (
            str(settings.coachview_base_url) if settings.coachview_base_url else None
        )
        if url is None:
            raise ValueError("no Coachview URL: COACHVIEW_BASE_URL is unset and none was given")
        secret = settings.coachview_client_secret
        return cls(
            url,
            settings.coachview_client_id or SANDBOX_CLIENT_ID,
            secret.get_secret_value() if secret is not None else SANDBOX_CLIENT_SECRET,
            settings.coachview_scope,
            catalogue_ttl=settings.catalogue_ttl,
            clock=clock,
            timeout=timeout,
            reference_field=settings.coachview_reference_field,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop pending shared requests and close the connections."""
        await self._catalogue.aclose()
        await self._http.aclose()

    # -- What the client knows -----------------------------------------------------------------

    @property
    def budget(self) -> RateBudget:
        """The request budget as the last response's ``X-Rate-Limit-*`` headers told it."""
        return self._http.meter.budget

    @property
    def request_counts(self) -> Mapping[str, int]:
        """How many HTTP requests were sent: ``{"token": n, "api": m}`` (a copy)."""
        return self._http.meter.request_counts

    @property
    def requests_by_endpoint(self) -> Mapping[tuple[str, str], int]:
        """Requests sent, by endpoint (``token``, ``Webaanvragen``, ``Opleidingen/{id}``...)
        and answer (the HTTP status, or ``error`` when none came); a copy."""
        return self._http.meter.requests_by_endpoint

    @property
    def skipped_records(self) -> list[SkippedRecord]:
        """The records the latest fetch of each list left out because the bot cannot use
        them (no id, no name, an unreadable start date, ...); each was logged once."""
        return self._http.skips.records

    @property
    def reference_field(self) -> str:
        """Where the bot's reference travels (``COACHVIEW_REFERENCE_FIELD``)."""
        return self._submissions.reference_field

    @property
    def search_window(self) -> int | None:
        """How many of the newest webaanvragen a search (or a look-up by e-mail) looks through
        itself, because Coachview refuses dotted filters; ``None`` while Coachview filters."""
        return LOCAL_SEARCH_WINDOW if self._guesses.state(Guess.DOTTED_FILTER) is False else None

    def guess_state(self, guess: Guess) -> bool | None:
        """What Coachview said to ``guess``: accepted, refused (fallback used) or not known."""
        return self._guesses.state(guess)

    # -- Checks --------------------------------------------------------------------------------

    async def ensure_token(self) -> None:
        """Make sure a token is at hand: the one obtained lately while it is valid, else a
        new one (raises as the token request does). For the readiness check."""
        await self._http.ensure_token()

    async def token_info(self) -> TokenInfo:
        """The current token's lifetime and scopes (fetching a token if there is none)."""
        return await self._http.ensure_token()

    async def probe_endpoint(self, method: str, entity: str) -> None:
        """``GET {entity}?take=1``: raises what the endpoint answers when it is not 2xx
        (``CoachviewForbidden`` names no scope: see :data:`ENDPOINT_SCOPES`)."""
        if method != "GET":
            raise ValueError("only GET endpoints can be probed: the check never writes")
        await self._http.call("GET", f"{API_PREFIX}/{entity}", params={"skip": 0, "take": 1})

    async def probe(self, guess: Guess) -> bool:
        """Whether Coachview accepts ``guess`` (:meth:`WebaanvraagLookups.probe`)."""
        return await self._lookups.probe(guess)

    # -- Webaanvragen (bot.coachview.submit, bot.coachview.lookups) ----------------------------

    async def create_webaanvraag(self, payload: Mapping[str, Any]) -> CreatedWebaanvraag:
        """``POST Webaanvragen`` (:meth:`Submissions.create_webaanvraag`)."""
        return await self._submissions.create_webaanvraag(payload)

    async def find_webaanvraag_by_reference(
        self, reference: str, *, since: datetime | None = None
    ) -> Webaanvraag | None:
        """The webaanvraag carrying the bot's reference
        (:meth:`Submissions.find_webaanvraag_by_reference`)."""
        return await self._submissions.find_webaanvraag_by_reference(reference, since=since)

    async def get_webaanvraag(self, webaanvraag_id: str) -> Webaanvraag:
        """One webaanvraag by its id; :class:`CoachviewNotFound` when there is none."""
        return await self._lookups.get_webaanvraag(webaanvraag_id)

    async def list_webaanvragen(
        self,
        *,
        where: str | None = None,
        skip: int = 0,
        take: int = 100,
        orderby: str | None = None,
        free_fields: bool = False,
    ) -> list[Webaanvraag]:
        """One page of webaanvragen (:meth:`WebaanvraagLookups.list_webaanvragen`)."""
        return await self._lookups.list_webaanvragen(
            where=where, skip=skip, take=take, orderby=orderby, free_fields=free_fields
        )

    async def find_webaanvraag_by_nummer(self, nummer: str) -> Webaanvraag | None:
        """The webaanvraag with this ``nummer`` (the number staff see), if there is one."""
        return await self._lookups.find_webaanvraag_by_nummer(nummer)

    async def find_webaanvragen_by_email(
        self, emailadres: str, *, take: int = 10
    ) -> list[Webaanvraag]:
        """The newest ``take`` webaanvragen whose contactpersoon has this e-mail address."""
        return await self._lookups.find_webaanvragen_by_email(emailadres, take=take)

    async def recent_webaanvragen(self, *, skip: int = 0, take: int = 10) -> list[Webaanvraag]:
        """The newest webaanvragen first: one page of ``take`` after ``skip``."""
        return await self._lookups.recent_webaanvragen(skip=skip, take=take)

    async def search_webaanvragen(self, text: str, *, take: int = 10) -> list[Webaanvraag]:
        """Up to ``take`` webaanvragen, newest first, whose contact's name or e-mail address,
        or company's name, starts with ``text`` (:mod:`bot.coachview.lookups`)."""
        return await self._lookups.search_webaanvragen(text, take=take)

    async def list_webaanvraag_opleidingen(
        self, *webaanvraag_ids: str
    ) -> list[WebaanvraagOpleiding]:
        """The courses the given webaanvragen ask for (one request for all of them)."""
        return await self._lookups.list_webaanvraag_opleidingen(*webaanvraag_ids)

    async def list_webaanvraag_deelnemers(self, webaanvraag_id: str) -> list[WebaanvraagDeelnemer]:
        """The participants of a webaanvraag other than the contactpersoon."""
        return await self._lookups.list_webaanvraag_deelnemers(webaanvraag_id)

    # -- The catalogue (bot.coachview.catalogue) -----------------------------------------------

    async def list_opleidingssoorten(self) -> list[Opleidingssoort]:
        """The course types people may choose (cached)."""
        return await self._catalogue.list_opleidingssoorten()

    async def find_opleidingssoort(self, key: str) -> Opleidingssoort | None:
        """The course type whose id or code is ``key``, offered or not (cached)."""
        return await self._catalogue.find_opleidingssoort(key)

    async def get_opleidingssoort(self, opleidingssoort_id: str) -> Opleidingssoort:
        """One course type (from the cache when it is there)."""
        return await self._catalogue.get_opleidingssoort(opleidingssoort_id)

    async def list_opleidingen(self, opleidingssoort_id: str) -> list[Opleiding]:
        """The runs of a course type that take web enrollments, earliest first (cached)."""
        return await self._catalogue.list_opleidingen(opleidingssoort_id)

    async def get_opleiding(self, opleiding_id: str) -> Opleiding:
        """One course run (cached; concurrent callers share one request)."""
        return await self._catalogue.get_opleiding(opleiding_id)
