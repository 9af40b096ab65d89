"""Coachview's request budget (5,000 a day [doc]) and the count of what the bot spent of it.

:class:`Meter` holds the HTTP client's event hooks: every request the client sends (token
requests included) passes through them, so they are where a request is refused while the
budget is known to be spent (:class:`~bot.errors.CoachviewRateLimited`, nothing sent), where
requests are counted by endpoint and answer, and where each answer's ``X-Rate-Limit-*`` headers
are read (:attr:`Meter.budget`). The headers follow AspNetCoreRateLimit [guess]:
``X-Rate-Limit-Limit`` a period such as ``1d`` (then ``daily_limit``, 5,000 by default, is the
count) or a number, ``X-Rate-Limit-Reset`` an ISO-8601 UTC datetime; epoch seconds, seconds from
now and ``Retry-After`` are read too (:func:`parse_reset`).
"""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import httpx

from bot.clock import Clock
from bot.coachview.models import RateBudget
from bot.errors import CoachviewRateLimited

__all__ = ["LOW_BUDGET_FRACTION", "Meter", "parse_reset"]

logger = logging.getLogger(__name__)

LOW_BUDGET_FRACTION = 0.1
"""Warn (once per crossing) when fewer than this part of the request budget is left."""

MAX_BODY = 20_000
"""The most of an answer's text an exception keeps (``body``)."""


def body_of(response: httpx.Response) -> str:
    """An answer's text as an exception keeps it (cut to :data:`MAX_BODY`)."""
    return response.text[:MAX_BODY]


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


class Meter:
    """The event hooks every Coachview request goes through (see the module docstring).

    ``token_path`` tells token requests (counted as ``"token"``) from API calls (``"api"``,
    and by entity: the path after ``api_prefix``, ids replaced by ``{id}``).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        daily_limit: int,
        token_path: str,
        api_prefix: str,
    ) -> None:
        self._clock = clock
        self._daily_limit = daily_limit
        self._token_path = token_path
        self._api_prefix = api_prefix
        self._budget = RateBudget()
        self._low = False
        self._counts: dict[str, int] = {"token": 0, "api": 0}
        self._by_endpoint: dict[tuple[str, str], int] = {}

    @property
    def budget(self) -> RateBudget:
        """The request budget as the last response's ``X-Rate-Limit-*`` headers told it."""
        return self._budget

    @property
    def request_counts(self) -> Mapping[str, int]:
        """How many HTTP requests were sent: ``{"token": n, "api": m}`` (a copy)."""
        return dict(self._counts)

    @property
    def requests_by_endpoint(self) -> Mapping[tuple[str, str], int]:
        """Requests sent, by endpoint (``token``, ``Webaanvragen``, ``Opleidingen/{id}``...)
        and answer (the HTTP status, or ``error`` when none came); a copy."""
        return dict(self._by_endpoint)

    def is_token_request(self, request: httpx.Request) -> bool:
        return request.url.path.endswith(self._token_path)

    async def before(self, request: httpx.Request) -> None:
        """The client's request hook: refuse while the budget is spent, else count it."""
        if self._budget.exhausted(self._clock.now()):
            raise CoachviewRateLimited(
                f"Coachview's request budget is spent until {self._budget.reset_at}; "
                f"{request.method} {request.url.path} was not sent",
                reset_at=self._budget.reset_at,
                status=None,
            )
        self._counts["token" if self.is_token_request(request) else "api"] += 1

    async def after(self, response: httpx.Response) -> None:
        """The client's response hook: count the answer and read its budget headers."""
        self._count(response.request, str(response.status_code))
        self._note_budget(response)

    def failed(self, request: httpx.Request) -> None:
        """``request`` got no answer (a transport error)."""
        self._count(request, "error")

    def rate_limited(self, response: httpx.Response) -> CoachviewRateLimited:
        """The exception for a 429 ``response``, with the reset time the headers gave."""
        reset_at = self._budget.reset_at
        request = response.request
        return CoachviewRateLimited(
            f"Coachview's request budget is spent (429 to {request.method} {request.url.path}) "
            f"until {reset_at}",
            reset_at=reset_at,
            body=body_of(response),
        )

    def _endpoint(self, path: str) -> str:
        """The entity a path names, ids replaced: ``Webaanvragen/{id}`` (few label values)."""
        parts = path.partition(self._api_prefix)[2].strip("/").split("/")
        return "/".join(part if i % 2 == 0 else "{id}" for i, part in enumerate(parts))

    def _count(self, request: httpx.Request, answer: str) -> None:
        endpoint = "token" if self.is_token_request(request) else self._endpoint(request.url.path)
        key = (endpoint, answer)
        self._by_endpoint[key] = self._by_endpoint.get(key, 0) + 1

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
        self._watch()

    def _watch(self) -> None:
        budget = self._budget
        if budget.limit is None or budget.remaining is None:
            return
        low = budget.remaining < budget.limit * LOW_BUDGET_FRACTION
        if low and not self._low:
            logger.warning(
                "Coachview request budget is low: %s of %s left (renewed at %s)",
                budget.remaining,
                budget.limit,
                budget.reset_at.isoformat(timespec="seconds") if budget.reset_at else "unknown",
            )
        self._low = low
