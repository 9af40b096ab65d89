"""The Coachview REST client: the one place in the program that speaks HTTP to Coachview.

One :class:`CoachviewClient` holds one ``httpx.AsyncClient``, an OAuth2 token and a catalogue
cache; open it with the Application and close it with ``aclose()`` (or ``async with``). Every
failure becomes an exception of :mod:`bot.errors`; see :meth:`CoachviewClient._raise_for_status`
and :func:`_unavailable` for the mapping.

What is known and what is a guess (``docs/coachview.md`` has the sources):

- Known: ``/auth/connect/token`` with client credentials, ``{base}/api/v1/{Entity}[/{id}]``,
  ``POST Webaanvragen`` answering 201 with ``nummer``, bare JSON arrays, ``skip``/``take``,
  ``where=field=value`` (``,`` any of, ``;`` and, dates ``dd-mm-yyyy``), ``orderby``, 401 for
  a missing or expired token, 403 for a missing scope, 429 and 5,000 requests a day.
- Seen in live enrollment sites: the catalogue filters :data:`OFFERED_TYPES` and
  ``opleidingssoortId=..;opleidingStatusId=TeStarten,Definitief;startDatum>=..;publicatie=true``
  (:meth:`CoachviewClient.list_opleidingen`), and ``where=code=`` on course types. Records the
  bot cannot use are skipped, never the whole list (:attr:`CoachviewClient.skipped_records`).
- Guessed, and where to change it:

  * the paths: :attr:`CoachviewClient.token_path` and :attr:`CoachviewClient.api_prefix`
    (class attributes; a subclass or an assignment changes them);
  * the 201 answer carries the new ``id`` (:class:`~bot.coachview.models.CreatedWebaanvraag`
    accepts its absence);
  * the filter field names ``referentieNrKlant``, ``nummer``, ``webaanvraagId``,
    ``opleidingssoortId``, ``startDatum`` and the dotted ``contactpersoon.achternaam``,
    ``contactpersoon.voornaam``, ``contactpersoon.emailadres`` and ``bedrijf.naam`` (in the
    methods that use them);
  * ``>=`` and ``<`` compare texts case-insensitively, as SQL Server's default collation does,
    so "starts with" is a range (:func:`_starts_with`, for the staff search);
  * ``orderby`` takes several keys separated by commas (:attr:`CoachviewClient.newest_first`);
  * the four unverified query forms (filtering on ``referentieNrKlant``, ``<``, dotted filters,
    several ``orderby`` keys) each have a fallback in confirmed syntax, chosen when Coachview
    answers 400 (:mod:`bot.coachview.guesses`, :meth:`CoachviewClient._guarded`);
  * the scope each endpoint needs (:data:`ENDPOINT_SCOPES`, for ``enrollbot check``);
  * 100 as the page size (``page_size=``; 100 is known to work, the maximum is unknown);
  * the rate-limit headers follow AspNetCoreRateLimit: ``X-Rate-Limit-Limit`` a period such as
    ``1d`` (then ``daily_limit=``, 5,000 by default, is the count) or a number,
    ``X-Rate-Limit-Reset`` an ISO-8601 UTC datetime; epoch seconds, seconds from now and
    ``Retry-After`` are read too (:func:`parse_reset`);
  * a token is renewed 60 s (at most 10 % of its lifetime) before it expires
    (:data:`TOKEN_RENEW_MARGIN`);
  * Coachview's naive datetimes are Dutch local time (:mod:`bot.coachview.models`).

Nothing here logs personal data, filter values or the client secret.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import sys
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar, cast

import httpx
from pydantic import BaseModel, ValidationError

from bot.clock import Clock, SystemClock
from bot.coachview.guesses import LOCAL_SEARCH_WINDOW, Guess, GuessBook
from bot.coachview.keys import is_course_code, path_segment
from bot.coachview.models import (
    OPEN_RUN_STATUSES,
    CreatedWebaanvraag,
    Opleiding,
    Opleidingssoort,
    RateBudget,
    SkippedRecord,
    Webaanvraag,
    WebaanvraagDeelnemer,
    WebaanvraagOpleiding,
    format_filter_date,
)
from bot.coachview.webaanvraag import (
    DEFAULT_REFERENCE_FIELD,
    carries_reference,
    check_reference_field,
)
from bot.errors import (
    CoachviewAuthError,
    CoachviewError,
    CoachviewForbidden,
    CoachviewNotFound,
    CoachviewRateLimited,
    CoachviewRejected,
    CoachviewUnavailable,
)

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

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=5.0)
"""Coachview may take long on a deep page (it then answers 500); 30 s is the patience for it."""

TOKEN_RENEW_MARGIN = timedelta(seconds=60)
"""Renew a token this long before it expires (but never more than 10 % of its lifetime)."""

SANDBOX_CLIENT_ID = "sandbox"
"""The credentials of the local Coachview sandbox (:mod:`sandbox.coachview`)."""
SANDBOX_CLIENT_SECRET = "sandbox-secret"  # noqa: S105 - a local fake's well-known secret

LOW_BUDGET_FRACTION = 0.1
"""Warn (once per crossing) when fewer than this part of the request budget is left."""

OFFERED_TYPES = "publicatieWebsite=true;inactief=false"
"""The ``where`` of the course types people may choose, as live enrollment sites send it."""

_MAX_BODY = 20_000
_MAX_PAGES = 50
_MAX_SKIP_LISTS = 500
"""The most lists whose skipped records are remembered (the oldest is forgotten first)."""

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

_REFERENCE_SCAN_PAGES = 3
"""Pages of the newest webaanvragen a look-up by reference reads when it has no start date."""

_PROBE_REFERENCE = "TG-0000000000000000"
_PROBE_EMAIL = "enrollbot-check@example.invalid"


@dataclass(frozen=True)
class TokenInfo:
    """A token as Coachview issued it: its lifetime and the scopes it says it grants
    (``None`` when the answer did not list them)."""

    lifetime: timedelta
    scopes: frozenset[str] | None


T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


# -- Small helpers -----------------------------------------------------------------------------


class _SingleFlight(Generic[T]):
    """Concurrent callers asking for the same key share one running task (and its outcome)."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[T]] = {}

    async def run(self, key: str, factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
        task = self._running.get(key)
        if task is None:
            task = asyncio.create_task(factory())
            self._running[key] = task
            task.add_done_callback(partial(self._forget, key))
        # A caller that is cancelled must not cancel the others' request.
        return await asyncio.shield(task)

    def _forget(self, key: str, task: asyncio.Task[T]) -> None:
        if self._running.get(key) is task:
            del self._running[key]

    async def cancel_all(self) -> None:
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class _Entry(Generic[T]):
    value: T
    fetched_at: datetime
    retry_after: datetime | None = None


class _TtlCache(Generic[T]):
    """Values kept for ``ttl`` by the clock; concurrent misses share one fetch; when a refresh
    fails with a retryable error the stale value is served (and the refresh is not tried again
    for a minute, so an outage does not cost a timeout per call)."""

    def __init__(self, name: str, ttl: timedelta, clock: Clock) -> None:
        self._name = name
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, _Entry[T]] = {}
        self._flights: _SingleFlight[T] = _SingleFlight()

    def fresh(self, key: str) -> T | None:
        """The value for ``key`` if it is within its lifetime, else ``None``."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        now = self._clock.now()
        if now < entry.fetched_at + self._ttl or (
            entry.retry_after is not None and now < entry.retry_after
        ):
            return entry.value
        return None

    def fresh_values(self) -> list[T]:
        return [value for key in list(self._entries) if (value := self.fresh(key)) is not None]

    async def get(self, key: str, fetch: Callable[[], Awaitable[T]]) -> T:
        value = self.fresh(key)
        if value is not None:
            return value
        return await self._flights.run(key, partial(self._refresh, key, fetch))

    async def _refresh(self, key: str, fetch: Callable[[], Awaitable[T]]) -> T:
        try:
            value = await fetch()
        except (CoachviewUnavailable, CoachviewRateLimited) as err:
            entry = self._entries.get(key)
            if entry is None:
                raise
            now = self._clock.now()
            entry.retry_after = now + min(self._ttl, timedelta(minutes=1))
            logger.warning(
                "Coachview %s could not be refreshed (%s); serving the copy of %s",
                self._name,
                type(err).__name__,
                entry.fetched_at.isoformat(timespec="seconds"),
            )
            return entry.value
        self._entries[key] = _Entry(value, self._clock.now())
        return value

    async def aclose(self) -> None:
        await self._flights.cancel_all()


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: datetime


def parse_reset(text: str | None, now: datetime) -> datetime | None:
    """When a rate limit resets, from ``X-Rate-Limit-Reset`` or ``Retry-After``; aware UTC.

    Accepts an ISO-8601 datetime (AspNetCoreRateLimit's form; naive means UTC), epoch seconds,
    seconds from ``now``, or an HTTP date. ``None`` when absent or unreadable.
    """
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if number > 1e9:  # seconds since 1970: any such moment is after 2001
            return datetime.fromtimestamp(number, UTC)
        return now + timedelta(seconds=max(number, 0.0))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _body(response: httpx.Response) -> str:
    return response.text[:_MAX_BODY]


def _outline(response: httpx.Response) -> str:
    """An error answer for the log, without the values it may repeat from the request (the
    person's name, e-mail address...): a problem-details body's title, status and trace id and
    the names of the fields it finds fault with; of any other body only its length. The whole
    body is kept in the exception (``body``) for the outbox and staff."""
    try:
        answer = response.json()
    except ValueError:
        return f"{len(response.content)} bytes, not JSON"
    if not isinstance(answer, dict):
        return f"{len(response.content)} bytes of JSON"
    outline = {key: answer[key] for key in ("title", "status", "traceId") if key in answer}
    errors = answer.get("errors")
    if isinstance(errors, dict):
        outline["fields"] = sorted(str(name) for name in errors)
    return json.dumps(outline, ensure_ascii=False)


def _filter_value(value: str) -> str:
    """A value for ``where=field=value``: ``,`` and ``;`` would change the filter's meaning."""
    if not value or any(char in value for char in ",;"):
        raise ValueError("a filter value must be non-empty and contain neither ',' nor ';'")
    return value


def _id_segment(entity: str, value: str) -> str:
    """A record id as a path segment (:func:`~bot.coachview.keys.path_segment`); a value that
    is no GUID names no record: :class:`CoachviewNotFound`, and nothing is sent."""
    try:
        return path_segment(value)
    except ValueError:
        raise CoachviewNotFound(f"no {entity} record: the id is not a GUID") from None


def _is_guid(value: str) -> bool:
    """Whether ``value`` reads as a GUID (Coachview's ids are GUIDs)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _starts_with(field: str, prefix: str) -> str:
    """A ``where`` condition "``field`` starts with ``prefix``" as a range that Coachview's
    ``>=`` and ``<`` can express: ``naam>=jan;naam<jao``."""
    prefix = _filter_value(prefix)
    if prefix[-1] == chr(sys.maxunicode):  # nothing sorts after it: no upper bound
        return f"{field}>={prefix}"
    after = chr(ord(prefix[-1]) + 1)
    while after in ",;":  # a separator would change the filter's meaning: widen a little
        after = chr(ord(after) + 1)
    return f"{field}>={prefix};{field}<{prefix[:-1]}{after}"


Reading = tuple[tuple[str, str], ...]
"""One reading of a search text: ``(dotted field, prefix)`` conditions that must all hold."""


def _search_readings(text: str) -> list[Reading]:
    """The readings of a staff search: an e-mail address (it has an ``@``), else a surname,
    first name or company name, else "first name surname" (a surname may carry its prefix,
    "de Vries", or Coachview may keep the prefix apart in ``tussenvoegsels``)."""
    words = text.split()
    if not words:
        raise ValueError("nothing to search for")
    whole = " ".join(words)
    if "@" in whole:
        return [(("contactpersoon.emailadres", whole),)]
    readings: list[Reading] = [
        (("contactpersoon.achternaam", whole),),
        (("bedrijf.naam", whole),),
    ]
    if len(words) == 1:
        readings.append((("contactpersoon.voornaam", whole),))
        return readings
    first = ("contactpersoon.voornaam", words[0])
    readings.append((first, ("contactpersoon.achternaam", " ".join(words[1:]))))
    if len(words) > 2:
        readings.append((first, ("contactpersoon.achternaam", words[-1])))
    return readings


def _search_filters(text: str) -> list[str]:
    """The ``where`` filters of a staff search, one per reading (:func:`_search_readings`),
    each condition a "starts with" range."""
    return [
        ";".join(_starts_with(field, prefix) for field, prefix in reading)
        for reading in _search_readings(text)
    ]


def _value_of(webaanvraag: Webaanvraag, dotted: str) -> str:
    """The text at a dotted field of a webaanvraag (``""`` when absent)."""
    value: Any = webaanvraag.model_dump(by_alias=True, mode="json")
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def _matches(webaanvraag: Webaanvraag, reading: Reading) -> bool:
    """Whether every condition of ``reading`` holds: the field starts with the prefix, in any
    case and with the spaces Coachview's comparison would see."""
    return all(
        _value_of(webaanvraag, field).casefold().startswith(prefix.casefold())
        for field, prefix in reading
    )


def _newest_first_key(webaanvraag: Webaanvraag) -> tuple[datetime, int, str]:
    """Sorts as :attr:`CoachviewClient.newest_first` does (reversed)."""
    nummer = webaanvraag.nummer
    return (
        webaanvraag.aanvraag_datum or datetime.min.replace(tzinfo=UTC),
        int(nummer) if nummer.isdigit() else 0,
        nummer,
    )


async def _all_of(*calls: Awaitable[T]) -> list[T]:
    """The results of concurrent ``calls``; when some fail, the first failure is raised after
    all have ended (none is left running with its error unread)."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return cast(list[T], results)


def _unavailable(method: str, path: str, err: httpx.TransportError) -> CoachviewUnavailable:
    """A transport failure as :class:`CoachviewUnavailable`: ``maybe_processed`` unless the
    request certainly never reached Coachview (no connection could be made)."""
    never_sent = (
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.PoolTimeout,
        httpx.ProxyError,
        httpx.UnsupportedProtocol,
    )
    if isinstance(err, never_sent):
        return CoachviewUnavailable(
            f"Coachview could not be reached for {method} {path} ({type(err).__name__})",
            maybe_processed=False,
        )
    how = "timed out" if isinstance(err, httpx.TimeoutException) else "broke off"
    return CoachviewUnavailable(
        f"Coachview {how} during {method} {path} ({type(err).__name__}: {err}); "
        "it may have processed the request",
        maybe_processed=True,
    )


def _skip_reason(error: Mapping[str, Any]) -> str:
    """What was wrong with a field, in words that never quote its value."""
    kind = str(error.get("type", ""))
    if kind == "missing":
        return "missing"
    if kind == "value_error":
        return "unreadable value"
    return str(error.get("msg", kind))


def _skipped(entity: str, item: Any, err: ValidationError) -> SkippedRecord:
    """The :class:`SkippedRecord` of a list item that failed its model."""
    if not isinstance(item, dict):
        return SkippedRecord(entity, None, "", "not an object")
    raw_id = item.get("id")
    record_id = str(raw_id) if isinstance(raw_id, str | int) and str(raw_id).strip() else None
    first = err.errors(include_url=False, include_input=False, include_context=False)[0]
    field = ".".join(str(part) for part in first["loc"])
    return SkippedRecord(entity, record_id, field, _skip_reason(first))


# -- The client --------------------------------------------------------------------------------


class CoachviewClient:
    """Coachview's REST API, typed; one instance for the whole program.

    ``request_counts`` counts every HTTP request sent (``"token"`` and ``"api"``); ``budget``
    is what the last ``X-Rate-Limit-*`` headers said; ``skipped_records`` the records the latest
    fetch of each list had to leave out.
    """

    token_path = "/auth/connect/token"  # noqa: S105 - a path, not a password
    api_prefix = "/api/v1"
    newest_first = "aanvraagDatum desc,nummer desc"
    newest_first_one_key = "aanvraagDatum desc"

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
        if not 1 <= page_size <= 100:
            raise ValueError("page_size must be between 1 and 100")
        self._reference_field = check_reference_field(reference_field)
        self._guesses = GuessBook()
        self._token_info: TokenInfo | None = None
        self._client_id = client_id
        self._client_secret = client_secret
        self._scope = scope.strip()
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._page_size = page_size
        self._daily_limit = daily_limit
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "enrollbot"},
        )
        self._token: _Token | None = None
        self._token_flight: _SingleFlight[_Token] = _SingleFlight()
        self._soorten: _TtlCache[list[Opleidingssoort]] = _TtlCache(
            "course types", catalogue_ttl, self._clock
        )
        self._runs: _TtlCache[list[Opleiding]] = _TtlCache(
            "course runs", catalogue_ttl, self._clock
        )
        # Runs looked up by id (a deep link names one) that no cached list held.
        self._run: _TtlCache[Opleiding] = _TtlCache("course run", catalogue_ttl, self._clock)
        # Course types looked up by id or code whether offered or not ([] when unknown).
        self._soort: _TtlCache[list[Opleidingssoort]] = _TtlCache(
            "course type", catalogue_ttl, self._clock
        )
        self._skips: dict[str, list[SkippedRecord]] = {}
        self._budget = RateBudget()
        self._budget_low = False
        self._counts: dict[str, int] = {"token": 0, "api": 0}
        self._by_endpoint: dict[tuple[str, str], int] = {}

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
        await self._token_flight.cancel_all()
        await self._soorten.aclose()
        await self._runs.aclose()
        await self._run.aclose()
        await self._soort.aclose()
        await self._http.aclose()

    @property
    def budget(self) -> RateBudget:
        """The request budget as the last response's ``X-Rate-Limit-*`` headers told it."""
        return self._budget

    @property
    def request_counts(self) -> Mapping[str, int]:
        """How many HTTP requests were sent: ``{"token": n, "api": m}`` (a copy)."""
        return dict(self._counts)

    @property
    def reference_field(self) -> str:
        """Where the bot's reference travels (``COACHVIEW_REFERENCE_FIELD``)."""
        return self._reference_field

    @property
    def search_window(self) -> int | None:
        """How many of the newest webaanvragen a search (or a look-up by e-mail) looks through
        itself, because Coachview refuses dotted filters; ``None`` while Coachview filters."""
        return LOCAL_SEARCH_WINDOW if self._guesses.state(Guess.DOTTED_FILTER) is False else None

    def guess_state(self, guess: Guess) -> bool | None:
        """What Coachview said to ``guess``: accepted, refused (fallback used) or not known."""
        return self._guesses.state(guess)

    async def token_info(self) -> TokenInfo:
        """The current token's lifetime and scopes (fetching a token if there is none)."""
        await self._access_token()
        assert self._token_info is not None
        return self._token_info

    async def probe_endpoint(self, method: str, entity: str) -> None:
        """``GET {entity}?take=1``: raises what the endpoint answers when it is not 2xx
        (``CoachviewForbidden`` names no scope: see :data:`ENDPOINT_SCOPES`)."""
        if method != "GET":
            raise ValueError("only GET endpoints can be probed: the check never writes")
        await self._api("GET", f"{self.api_prefix}/{entity}", params={"skip": 0, "take": 1})

    async def probe(self, guess: Guess) -> bool:
        """Send ``guess`` alone in the smallest request (``take=1``); remember and return
        whether Coachview accepted it: a filter that matches nothing must give an empty answer
        (else Coachview ignores it, which counts as refused). Errors other than 400 are
        raised, nothing remembered."""
        where, orderby = {
            Guess.REFERENCE_FILTER: (f"referentieNrKlant={_PROBE_REFERENCE}", None),
            Guess.LESS_THAN: ("aanvraagDatum<01-01-2000", None),
            Guess.DOTTED_FILTER: (
                f"contactpersoon.emailadres={_PROBE_EMAIL}",
                "contactpersoon.achternaam asc",
            ),
            Guess.SEVERAL_ORDERBY_KEYS: (None, self.newest_first),
        }[guess]
        try:
            found = await self.list_webaanvragen(where=where, orderby=orderby, take=1)
        except CoachviewRejected as error:
            if error.status != 400:
                raise
            self._guesses.refused(guess)
            return False
        if where is not None and found:
            # Nothing matches the probe's filter: an answer means Coachview ignored it.
            self._guesses.refused(guess, ignored=True)
            return False
        self._guesses.accepted(guess)
        return True

    async def _guarded(
        self, guesses: Iterable[Guess], attempt: Callable[[frozenset[Guess]], Awaitable[T]]
    ) -> T:
        """``attempt(usable)``, where ``usable`` are the ``guesses`` not known to be refused.

        A 400 to it probes each of those guesses that is not known yet (:meth:`probe`, which
        remembers the verdict); when a probe finds one refused, ``attempt`` runs again without
        it. A 400 that no guess explains is raised (Coachview refused the question itself).
        """
        wanted = frozenset(guesses)
        while True:
            usable = frozenset(guess for guess in wanted if self._guesses.usable(guess))
            try:
                result = await attempt(usable)
            except CoachviewRejected as error:
                untried = [guess for guess in usable if self._guesses.state(guess) is None]
                if error.status != 400 or not untried:
                    raise
                verdicts = [await self.probe(guess) for guess in untried]
                if all(verdicts):
                    raise
                continue
            return result

    def _orderby(self, usable: frozenset[Guess]) -> str:
        if Guess.SEVERAL_ORDERBY_KEYS in usable:
            return self.newest_first
        return self.newest_first_one_key

    @staticmethod
    def _newest(found: Iterable[Webaanvraag]) -> list[Webaanvraag]:
        """Newest first, as :attr:`newest_first` sorts (for pages sorted by one key)."""
        return sorted(found, key=_newest_first_key, reverse=True)

    @property
    def skipped_records(self) -> list[SkippedRecord]:
        """The records the latest fetch of each list left out because the bot cannot use
        them (no id, no name, an unreadable start date, ...); each was logged once."""
        return [skip for skips in self._skips.values() for skip in skips]

    @property
    def requests_by_endpoint(self) -> Mapping[tuple[str, str], int]:
        """Requests sent, by endpoint (``token``, ``Webaanvragen``, ``Opleidingen/{id}``...)
        and answer (the HTTP status, or ``error`` when none came); a copy."""
        return dict(self._by_endpoint)

    async def ensure_token(self) -> None:
        """Make sure a token is at hand: the one obtained lately while it is valid, else a
        new one (raises as the token request does). For the readiness check."""
        await self._access_token()

    # -- Webaanvragen --------------------------------------------------------------------------

    async def create_webaanvraag(self, payload: Mapping[str, Any]) -> CreatedWebaanvraag:
        """``POST Webaanvragen``; on 201 the new webaanvraag's ``nummer`` (and ``id``).

        An answer that cannot be read raises :class:`CoachviewError` with ``maybe_processed``:
        Coachview did store the webaanvraag.
        """
        path = f"{self.api_prefix}/Webaanvragen"
        response = await self._api("POST", path, json=dict(payload))
        try:
            created = CreatedWebaanvraag.model_validate(response.json())
        except ValueError as err:
            raise CoachviewError(
                f"Coachview answered POST {path} with {response.status_code} "
                "but no readable webaanvraag number",
                status=response.status_code,
                body=_body(response),
                maybe_processed=True,
            ) from err
        logger.info("Coachview stored webaanvraag nummer %s", created.nummer)
        return created

    async def get_webaanvraag(self, webaanvraag_id: str) -> Webaanvraag:
        """One webaanvraag by its id; :class:`CoachviewNotFound` when there is none."""
        path = f"{self.api_prefix}/Webaanvragen/{_id_segment('Webaanvragen', webaanvraag_id)}"
        response = await self._api("GET", path)
        return self._parse(response, Webaanvraag)

    async def list_webaanvragen(
        self,
        *,
        where: str | None = None,
        skip: int = 0,
        take: int = 100,
        orderby: str | None = None,
        free_fields: bool = False,
    ) -> list[Webaanvraag]:
        """One page of webaanvragen; ``where``/``orderby`` in Coachview's own syntax;
        ``free_fields`` asks for the ``vrijevelden`` too (``InclusiefVrijeVelden``)."""
        params: dict[str, str | int] = {"skip": skip, "take": take}
        if where:
            params["where"] = where
        if orderby:
            params["orderby"] = orderby
        if free_fields:
            params["InclusiefVrijeVelden"] = "true"
        response = await self._api("GET", f"{self.api_prefix}/Webaanvragen", params=params)
        items, _ = self._parse_list(response, Webaanvraag, list_key="Webaanvragen")
        return items

    async def find_webaanvraag_by_reference(
        self, reference: str, *, since: datetime | None = None
    ) -> Webaanvraag | None:
        """The webaanvraag that carries the bot's ``reference`` (where
        :attr:`reference_field` says), if Coachview has it.

        With ``referentieNrKlant`` the direct filter is tried first. Otherwise, or when
        Coachview refuses that filter, the webaanvragen received since the day before ``since``
        (the moment the enrollment was confirmed) are read newest first and matched here;
        without ``since``, the newest few hundred.
        """
        reference = _filter_value(reference)
        if self._reference_field != "referentieNrKlant":
            return await self._scan_for_reference(reference, since)

        async def attempt(usable: frozenset[Guess]) -> Webaanvraag | None:
            if Guess.REFERENCE_FILTER not in usable:
                return await self._scan_for_reference(reference, since)
            found = await self.list_webaanvragen(where=f"referentieNrKlant={reference}", take=2)
            if any(not carries_reference(w, "referentieNrKlant", reference) for w in found):
                # Coachview ignored the filter: trusting it could post an enrollment twice.
                self._guesses.refused(Guess.REFERENCE_FILTER, ignored=True)
                return await self._scan_for_reference(reference, since)
            return found[0] if found else None

        return await self._guarded([Guess.REFERENCE_FILTER], attempt)

    async def _scan_for_reference(
        self, reference: str, since: datetime | None
    ) -> Webaanvraag | None:
        """Read webaanvragen newest first (one ``orderby`` key, ``>=`` on the date: confirmed
        syntax only) until one carries ``reference``."""
        where = None
        if since is not None:
            where = f"aanvraagDatum>={format_filter_date(since - timedelta(days=1))}"
        pages = _MAX_PAGES if since is not None else _REFERENCE_SCAN_PAGES
        for page_number in range(pages):
            page = await self.list_webaanvragen(
                where=where,
                skip=page_number * self._page_size,
                take=self._page_size,
                orderby=self.newest_first_one_key,
                free_fields=self._reference_field.startswith("vrijevelden."),
            )
            for webaanvraag in page:
                if carries_reference(webaanvraag, self._reference_field, reference):
                    return webaanvraag
            if len(page) < self._page_size:
                return None
        return None

    async def find_webaanvraag_by_nummer(self, nummer: str) -> Webaanvraag | None:
        """The webaanvraag with this ``nummer`` (the number staff see), if there is one."""
        found = await self.list_webaanvragen(where=f"nummer={_filter_value(nummer)}", take=1)
        # Checked here too: a Coachview that ignored the filter must not show another one.
        return next((w for w in found if w.nummer.strip() == nummer.strip()), None)

    async def find_webaanvragen_by_email(
        self, emailadres: str, *, take: int = 10
    ) -> list[Webaanvraag]:
        """The newest ``take`` webaanvragen whose contactpersoon has this e-mail address.

        When Coachview refuses dotted filters, the newest :data:`LOCAL_SEARCH_WINDOW` are
        searched here (:attr:`search_window` says so)."""
        emailadres = _filter_value(emailadres)
        wanted = emailadres.strip().casefold()

        def has_it(webaanvraag: Webaanvraag) -> bool:
            return _value_of(webaanvraag, "contactpersoon.emailadres").strip().casefold() == wanted

        async def attempt(usable: frozenset[Guess]) -> list[Webaanvraag]:
            if Guess.DOTTED_FILTER in usable:
                found = await self.list_webaanvragen(
                    where=f"contactpersoon.emailadres={emailadres}",
                    take=take,
                    orderby=self._orderby(usable),
                )
                if all(has_it(w) for w in found):
                    return self._newest(found)
                # Coachview ignored the filter: its answer is somebody else's.
                self._guesses.refused(Guess.DOTTED_FILTER, ignored=True)
            recent = await self._recent_window(usable)
            return [w for w in recent if has_it(w)][:take]

        return await self._guarded([Guess.DOTTED_FILTER, Guess.SEVERAL_ORDERBY_KEYS], attempt)

    async def recent_webaanvragen(self, *, skip: int = 0, take: int = 10) -> list[Webaanvraag]:
        """The newest webaanvragen first: one page of ``take`` after ``skip``."""

        async def attempt(usable: frozenset[Guess]) -> list[Webaanvraag]:
            found = await self.list_webaanvragen(
                skip=skip, take=take, orderby=self._orderby(usable)
            )
            return self._newest(found)

        return await self._guarded([Guess.SEVERAL_ORDERBY_KEYS], attempt)

    async def _recent_window(self, usable: frozenset[Guess]) -> list[Webaanvraag]:
        """The newest :data:`LOCAL_SEARCH_WINDOW` webaanvragen, for a search done here."""
        found: list[Webaanvraag] = []
        size, orderby = self._page_size, self._orderby(usable)
        for skip in range(0, LOCAL_SEARCH_WINDOW, size):
            take = min(size, LOCAL_SEARCH_WINDOW - skip)
            page = await self.list_webaanvragen(skip=skip, take=take, orderby=orderby)
            found.extend(page)
            if len(page) < take:
                break
        return self._newest(found)

    async def search_webaanvragen(self, text: str, *, take: int = 10) -> list[Webaanvraag]:
        """Up to ``take`` webaanvragen, newest first, whose contactpersoon's name or e-mail
        address, or whose company's name, starts with ``text`` (any case).

        Coachview's ``where`` has no "or" across fields, so each reading of ``text`` is one
        request (:func:`_search_readings`, at most four) and the answers are merged; no request
        pages through more than the ``take`` newest matches. The fallbacks: without ``<`` each
        reading is ``field>=text`` sorted by that field (the matches come first) and matched
        here; without dotted filters the newest :data:`LOCAL_SEARCH_WINDOW` webaanvragen are
        searched here (:attr:`search_window`).
        """
        readings = _search_readings(text)

        async def attempt(usable: frozenset[Guess]) -> list[Webaanvraag]:
            if Guess.DOTTED_FILTER not in usable:
                recent = await self._recent_window(usable)
                return [w for w in recent if any(_matches(w, r) for r in readings)][:take]
            if Guess.LESS_THAN in usable:
                pages = await _all_of(
                    *(
                        self.list_webaanvragen(
                            where=";".join(_starts_with(f, p) for f, p in reading),
                            take=take,
                            orderby=self._orderby(usable),
                        )
                        for reading in readings
                    )
                )
            else:
                pages = await _all_of(
                    *(
                        self.list_webaanvragen(
                            where=";".join(f"{f}>={_filter_value(p)}" for f, p in reading),
                            take=self._page_size,
                            orderby=f"{reading[-1][0]} asc",
                        )
                        for reading in readings
                    )
                )
            # Checked here too: rows of a condition Coachview ignored are not shown.
            found = {
                w.id: w
                for page, reading in zip(pages, readings, strict=True)
                for w in page
                if _matches(w, reading)
            }
            return self._newest(found.values())[:take]

        guesses = [Guess.DOTTED_FILTER, Guess.LESS_THAN, Guess.SEVERAL_ORDERBY_KEYS]
        return await self._guarded(guesses, attempt)

    async def list_webaanvraag_opleidingen(
        self, *webaanvraag_ids: str
    ) -> list[WebaanvraagOpleiding]:
        """The courses the given webaanvragen ask for (one request for all of them)."""
        if not webaanvraag_ids:
            return []
        return await self._all_pages(
            f"{self.api_prefix}/WebaanvraagOpleidingen",
            WebaanvraagOpleiding,
            where="webaanvraagId=" + ",".join(_filter_value(i) for i in webaanvraag_ids),
            list_key="WebaanvraagOpleidingen",
        )

    async def list_webaanvraag_deelnemers(self, webaanvraag_id: str) -> list[WebaanvraagDeelnemer]:
        """The participants of a webaanvraag other than the contactpersoon."""
        return await self._all_pages(
            f"{self.api_prefix}/WebaanvraagDeelnemers",
            WebaanvraagDeelnemer,
            where=f"webaanvraagId={_filter_value(webaanvraag_id)}",
            list_key="WebaanvraagDeelnemers",
        )

    # -- The catalogue (cached) ----------------------------------------------------------------

    async def list_opleidingssoorten(self) -> list[Opleidingssoort]:
        """The course types people may choose, from the cache while it is fresh.

        Coachview selects them (:data:`OFFERED_TYPES`, as live enrollment sites ask); the
        local :attr:`Opleidingssoort.offered` check is the second line (it also reads
        ``opleidingssoortStatusId``).
        """
        soorten = await self._soorten.get(
            "offered",
            partial(
                self._all_pages,
                f"{self.api_prefix}/Opleidingssoorten",
                Opleidingssoort,
                where=OFFERED_TYPES,
                list_key="Opleidingssoorten",
            ),
        )
        return [s for s in soorten if s.offered]

    async def find_opleidingssoort(self, key: str) -> Opleidingssoort | None:
        """The course type whose id or code is ``key``, offered or not; ``None`` when
        Coachview has none (a deep link may name a course type that is closed).

        A GUID is looked up by id, anything else by ``where=code=`` (as a live connector
        does); the answer, found or not, is cached like the catalogue.
        """
        key = key.strip()
        for soorten in self._soorten.fresh_values():
            for soort in soorten:
                if key.casefold() in (soort.id.casefold(), soort.code.casefold()):
                    return soort
        found = await self._soort.get(key.casefold(), partial(self._fetch_soort, key))
        return found[0] if found else None

    async def _fetch_soort(self, key: str) -> list[Opleidingssoort]:
        if _is_guid(key):
            try:
                return [await self.get_opleidingssoort(key)]
            except CoachviewNotFound:
                return []
        if not is_course_code(key):
            return []  # no course has such a code: nothing to ask
        where = f"code={key}"
        return await self._all_pages(
            f"{self.api_prefix}/Opleidingssoorten",
            Opleidingssoort,
            where=where,
            list_key="Opleidingssoorten:code",
        )

    async def get_opleidingssoort(self, opleidingssoort_id: str) -> Opleidingssoort:
        """One course type: from the cache when it is there, else one ``GET``."""
        for soorten in self._soorten.fresh_values():
            for soort in soorten:
                if soort.id.lower() == opleidingssoort_id.lower():
                    return soort
        segment = _id_segment("Opleidingssoorten", opleidingssoort_id)
        response = await self._api("GET", f"{self.api_prefix}/Opleidingssoorten/{segment}")
        return self._parse(response, Opleidingssoort)

    async def list_opleidingen(self, opleidingssoort_id: str) -> list[Opleiding]:
        """The runs of a course type that take web enrollments, earliest first, all pages,
        from the cache while it is fresh.

        Coachview selects them as live enrollment sites ask: to be started or definite
        (:data:`~bot.coachview.models.OPEN_RUN_STATUSES`), starting today or later, published
        (``publicatie=true``). Full runs, and runs whose enrollment deadline has passed, are
        included: see :meth:`Opleiding.open_for_enrollment`.
        """
        where = (
            f"opleidingssoortId={_filter_value(opleidingssoort_id)};"
            f"opleidingStatusId={','.join(OPEN_RUN_STATUSES)};"
            f"startDatum>={format_filter_date(self._clock.now())};"
            "publicatie=true"
        )
        return list(
            await self._runs.get(
                opleidingssoort_id.lower(),
                partial(
                    self._all_pages,
                    f"{self.api_prefix}/Opleidingen",
                    Opleiding,
                    where=where,
                    orderby="startDatum asc",
                    list_key=f"Opleidingen:{opleidingssoort_id.lower()}",
                ),
            )
        )

    async def get_opleiding(self, opleiding_id: str) -> Opleiding:
        """One course run: from the cache when it is there, else one ``GET`` (then cached
        like the lists, and shared by concurrent callers: a deep link that many people follow
        at once costs one request)."""
        for runs in self._runs.fresh_values():
            for run in runs:
                if run.id.lower() == opleiding_id.lower():
                    return run
        return await self._run.get(
            opleiding_id.lower(), partial(self._fetch_opleiding, opleiding_id)
        )

    async def _fetch_opleiding(self, opleiding_id: str) -> Opleiding:
        path = f"{self.api_prefix}/Opleidingen/{_id_segment('Opleidingen', opleiding_id)}"
        response = await self._api("GET", path)
        return self._parse(response, Opleiding)

    # -- Requests ------------------------------------------------------------------------------

    async def _all_pages(
        self,
        path: str,
        model: type[M],
        *,
        where: str | None = None,
        orderby: str | None = None,
        list_key: str,
    ) -> list[M]:
        """Every page of a list; the records the bot cannot use are left out and noted
        under ``list_key`` (:meth:`_note_skips`)."""
        items: list[M] = []
        skips: list[SkippedRecord] = []
        for page_number in range(_MAX_PAGES):
            params: dict[str, str | int] = {
                "skip": page_number * self._page_size,
                "take": self._page_size,
            }
            if where:
                params["where"] = where
            if orderby:
                params["orderby"] = orderby
            response = await self._api("GET", path, params=params)
            page, sent = self._parse_list(response, model, list_key=None)
            items.extend(page)
            skips.extend(sent)
            if len(page) + len(sent) < self._page_size:
                break
        else:
            logger.warning("GET %s: stopped after %s pages", path, _MAX_PAGES)
        self._note_skips(list_key, skips)
        return items

    async def _api(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """An authorized API call; on 401 the token is renewed and the call repeated once."""
        token = await self._access_token()
        response = await self._send("api", method, path, token=token, params=params, json=json)
        if response.status_code == 401:
            logger.info("Coachview answered 401 to %s %s; renewing the token", method, path)
            token = await self._access_token(rejected=token)
            response = await self._send("api", method, path, token=token, params=params, json=json)
            if response.status_code == 401:
                raise CoachviewAuthError(
                    f"Coachview refused a fresh token for {method} {path} (401)",
                    status=401,
                    body=_body(response),
                )
        self._raise_for_status(method, path, response)
        return response

    async def _send(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        token: _Token | None = None,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One HTTP request, unless the budget is known to be spent; transport failures become
        :class:`CoachviewUnavailable`."""
        now = self._clock.now()
        if self._budget.exhausted(now):
            raise CoachviewRateLimited(
                f"Coachview's request budget is spent until {self._budget.reset_at}; "
                f"{method} {path} was not sent",
                reset_at=self._budget.reset_at,
                status=None,
            )
        headers = {"Authorization": f"Bearer {token.value}"} if token is not None else None
        self._counts[kind] += 1
        endpoint = "token" if kind == "token" else self._endpoint(path)
        try:
            response = await self._http.request(
                method, path, params=params, json=json, data=data, headers=headers
            )
        except httpx.TransportError as err:
            self._count_answer(endpoint, "error")
            raise _unavailable(method, path, err) from err
        self._count_answer(endpoint, str(response.status_code))
        self._note_budget(response)
        return response

    def _endpoint(self, path: str) -> str:
        """The entity a path names, ids replaced: ``Webaanvragen/{id}`` (few label values)."""
        parts = path.removeprefix(self.api_prefix).strip("/").split("/")
        return "/".join(part if i % 2 == 0 else "{id}" for i, part in enumerate(parts))

    def _count_answer(self, endpoint: str, answer: str) -> None:
        key = (endpoint, answer)
        self._by_endpoint[key] = self._by_endpoint.get(key, 0) + 1

    async def _access_token(self, *, rejected: _Token | None = None) -> _Token:
        """A token that is not near its expiry and is not ``rejected``; one request at most
        for any number of concurrent callers."""
        token = self._token
        if token is not None and token is not rejected and self._clock.now() < token.renew_at:
            return token
        return await self._token_flight.run("token", self._fetch_token)

    async def _fetch_token(self) -> _Token:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        if self._scope:
            form["scope"] = self._scope
        try:
            response = await self._send("token", "POST", self.token_path, data=form)
        except CoachviewUnavailable as err:
            # Only the token request went out: the call it was for was never sent.
            raise CoachviewUnavailable(str(err), maybe_processed=False) from err
        status = response.status_code
        if status in (400, 401):
            raise CoachviewAuthError(
                f"Coachview refused the credentials of API client {self._client_id!r} "
                f"({status} {self._oauth_error(response)})",
                status=status,
            )
        if status == 429:
            raise self._rate_limited("POST", self.token_path, response)
        if status >= 500:
            raise CoachviewUnavailable(
                f"Coachview's token endpoint answered {status}",
                status=status,
                body=_body(response),
            )
        try:
            answer = response.json()
            value = str(answer["access_token"])
            lifetime = timedelta(seconds=float(answer.get("expires_in", 900)))
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise CoachviewError(
                f"Coachview's token endpoint answered {status} without a usable token",
                status=status,
            ) from err
        if status != 200 or not value:
            raise CoachviewError(f"Coachview's token endpoint answered {status}", status=status)
        margin = min(TOKEN_RENEW_MARGIN, lifetime / 10)
        self._token = _Token(value, self._clock.now() + lifetime - margin)
        granted = answer.get("scope")
        scopes = frozenset(granted.split()) if isinstance(granted, str) else None
        self._token_info = TokenInfo(lifetime, scopes)
        logger.info("Got a Coachview token valid for %s", lifetime)
        return self._token

    @staticmethod
    def _oauth_error(response: httpx.Response) -> str:
        """The OAuth2 ``error`` code of a token answer (a short word, never a secret)."""
        try:
            code = response.json().get("error")
        except (ValueError, AttributeError):
            return "no error code"
        return code if isinstance(code, str) and code.replace("_", "").isalpha() else "?"

    def _raise_for_status(self, method: str, path: str, response: httpx.Response) -> None:
        """Turn a non-2xx answer into the matching exception of :mod:`bot.errors`."""
        status = response.status_code
        if 200 <= status < 300:
            return
        level = logging.INFO if status == 404 else logging.WARNING  # 404: a look-up's answer
        logger.log(level, "Coachview answered %s to %s %s", status, method, path)
        logger.debug("Coachview's %s answer: %s", status, _outline(response))
        what = f"Coachview answered {status} to {method} {path}"
        body = _body(response)
        if status == 429:
            raise self._rate_limited(method, path, response)
        if status >= 500:
            raise CoachviewUnavailable(what, status=status, body=body, maybe_processed=True)
        if status == 403:
            raise CoachviewForbidden(what + " (the API client lacks a scope)", status=status)
        if status == 404:
            raise CoachviewNotFound(what, status=status, body=body)
        if status == 401:
            raise CoachviewAuthError(what, status=status, body=body)
        if 400 <= status < 500:
            raise CoachviewRejected(what, status=status, body=body)
        raise CoachviewError(what, status=status, body=body)

    def _rate_limited(
        self, method: str, path: str, response: httpx.Response
    ) -> CoachviewRateLimited:
        reset_at = self._budget.reset_at
        return CoachviewRateLimited(
            f"Coachview's request budget is spent (429 to {method} {path}) until {reset_at}",
            reset_at=reset_at,
            body=_body(response),
        )

    def _note_budget(self, response: httpx.Response) -> None:
        """Remember the ``X-Rate-Limit-*`` (and on 429 ``Retry-After``) headers."""
        headers = response.headers
        limit_text = headers.get("X-Rate-Limit-Limit")
        remaining_text = headers.get("X-Rate-Limit-Remaining")
        now = self._clock.now()
        reset_at = parse_reset(headers.get("X-Rate-Limit-Reset"), now)
        if reset_at is None and response.status_code == 429:
            reset_at = parse_reset(headers.get("Retry-After"), now)
        if (limit_text, remaining_text, reset_at) == (None, None, None) and (
            response.status_code != 429
        ):
            return
        old = self._budget
        limit, period = old.limit, old.period
        if limit_text is not None and limit_text.strip():
            if limit_text.strip().isdigit():
                limit, period = int(limit_text), None
            else:
                limit, period = self._daily_limit, limit_text.strip()
        remaining = old.remaining
        if remaining_text is not None:
            try:
                remaining = max(int(float(remaining_text)), 0)
            except ValueError:
                remaining = old.remaining
        if response.status_code == 429:
            remaining = 0
        self._budget = RateBudget(
            limit=limit,
            remaining=remaining,
            reset_at=reset_at if reset_at is not None else old.reset_at,
            period=period,
        )
        self._watch_budget()

    def _watch_budget(self) -> None:
        budget = self._budget
        if budget.limit is None or budget.remaining is None:
            return
        low = budget.remaining < budget.limit * LOW_BUDGET_FRACTION
        if low and not self._budget_low:
            logger.warning(
                "Coachview request budget is low: %s of %s left (renewed at %s)",
                budget.remaining,
                budget.limit,
                budget.reset_at.isoformat(timespec="seconds") if budget.reset_at else "unknown",
            )
        self._budget_low = low

    # -- Parsing -------------------------------------------------------------------------------

    @staticmethod
    def _unexpected(response: httpx.Response, err: Exception) -> CoachviewError:
        return CoachviewError(
            f"Coachview's answer to {response.request.method} {response.request.url.path} "
            f"is not what was expected ({type(err).__name__})",
            status=response.status_code,
            body=_body(response),
        )

    @classmethod
    def _parse(cls, response: httpx.Response, model: type[M]) -> M:
        try:
            data = response.json()
        except ValueError as err:
            raise cls._unexpected(response, err) from err
        try:
            return model.model_validate(data)
        except ValidationError as err:
            entity = response.request.url.path.rstrip("/").rsplit("/", 2)[-2]
            skip = _skipped(entity, data, err)
            logger.warning(
                "Coachview %s record %s cannot be used: field %r: %s",
                skip.entity,
                skip.id or "without id",
                skip.field,
                skip.reason,
            )
            raise cls._unexpected(response, err) from err

    def _parse_list(
        self, response: httpx.Response, model: type[M], *, list_key: str | None
    ) -> tuple[list[M], list[SkippedRecord]]:
        """The records of a list answer that fit ``model``, and those left out. An answer
        that is not a JSON array fails as a whole; a record never fails the others. With a
        ``list_key`` the skips are noted at once (a list of one page)."""
        try:
            data = response.json()
            if not isinstance(data, list):
                raise TypeError("expected a JSON array")
        except (ValueError, TypeError) as err:
            raise self._unexpected(response, err) from err
        entity = response.request.url.path.rstrip("/").rsplit("/", 1)[-1]
        items: list[M] = []
        skips: list[SkippedRecord] = []
        for item in data:
            try:
                items.append(model.model_validate(item))
            except ValidationError as err:
                skips.append(_skipped(entity, item, err))
        if list_key is not None:
            self._note_skips(list_key, skips)
        return items, skips

    def _note_skips(self, list_key: str, skips: list[SkippedRecord]) -> None:
        """Remember the skips of the latest fetch of a list; log one warning per skip that
        the previous fetch of that list did not have."""
        before = set(self._skips.pop(list_key, []))
        for skip in skips:
            if skip not in before:
                logger.warning(
                    "Coachview %s record %s skipped: field %r: %s",
                    skip.entity,
                    skip.id or "without id",
                    skip.field,
                    skip.reason,
                )
        if skips:
            self._skips[list_key] = skips
            while len(self._skips) > _MAX_SKIP_LISTS:
                del self._skips[next(iter(self._skips))]
