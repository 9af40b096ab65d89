"""OAuth2 client credentials for Coachview, as an ``httpx.Auth`` (httpx's way to authenticate).

``POST {base}/auth/connect/token`` with ``grant_type=client_credentials``, the client id and
secret and an optional space-separated ``scope``; the answer has ``access_token`` and
``expires_in`` [code]. :class:`ClientCredentials` gives every request the current token; it asks
for a new one only when there is none or it is near its expiry (:data:`TOKEN_RENEW_MARGIN`
[guess]), and when Coachview answers 401 it renews the token and sends the request once more (a
second 401 is answered to the caller, which raises :class:`~bot.errors.CoachviewAuthError`).

One token request at a time: concurrent requests that all find the token missing, or all get
401, wait for the one renewal under an ``asyncio.Lock`` and then use its token. The token request
is yielded from the flow, so it goes through the client's transport like every other request
(counted, and refused while the request budget is spent: :mod:`bot.coachview.budget`). The lock
belongs to one event loop: the flow is asynchronous only (the bot has no synchronous client).

Nothing here logs the secret or the token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from bot.clock import Clock
from bot.coachview.budget import body_of
from bot.errors import CoachviewAuthError, CoachviewError, CoachviewUnavailable

__all__ = ["TOKEN_RENEW_MARGIN", "ClientCredentials", "TokenInfo"]

logger = logging.getLogger(__name__)

TOKEN_RENEW_MARGIN = timedelta(seconds=60)
"""Renew a token this long before it expires (but never more than 10 % of its lifetime)."""

DEFAULT_LIFETIME = timedelta(seconds=900)
"""A token's lifetime when the answer does not say (the shortest Coachview sets [doc])."""


@dataclass(frozen=True)
class TokenInfo:
    """A token as Coachview issued it: its lifetime and the scopes it says it grants
    (``None`` when the answer did not list them)."""

    lifetime: timedelta
    scopes: frozenset[str] | None


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: datetime


class ClientCredentials(httpx.Auth):
    """The client-credentials flow (see the module docstring).

    ``rate_limited`` turns a 429 answer of the token endpoint into the exception to raise (the
    reset time is the meter's to know).
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str = "",
        *,
        clock: Clock,
        rate_limited: Callable[[httpx.Response], CoachviewError],
    ) -> None:
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._scope = scope.strip()
        self._clock = clock
        self._rate_limited = rate_limited
        self._lock = asyncio.Lock()
        self._token: _Token | None = None
        self._info: TokenInfo | None = None

    @property
    def info(self) -> TokenInfo | None:
        """The current token's lifetime and scopes; ``None`` before the first token."""
        return self._info

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("Coachview's client-credentials flow is asynchronous only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        rejected: _Token | None = None
        for attempt in range(2):
            token = self._usable(rejected)
            if token is None:
                async with self._lock:  # one renewal; the others wait for its token
                    token = self._usable(rejected)
                    if token is None:
                        reply = yield self._token_request()
                        await reply.aread()
                        token = self._accept(reply)
            request.headers["Authorization"] = f"Bearer {token.value}"
            response = yield request
            if response.status_code != 401:
                return
            if attempt == 0:
                logger.info(
                    "Coachview answered 401 to %s %s; renewing the token",
                    request.method,
                    request.url.path,
                )
            rejected = token

    async def ensure(
        self, send: Callable[[httpx.Request], Awaitable[httpx.Response]]
    ) -> TokenInfo:
        """Make sure a token is at hand (the current one while it is valid, else a new one
        sent with ``send``); its :class:`TokenInfo`. For the readiness check and the
        go-live check, which need a token without an API call."""
        async with self._lock:
            if self._usable(None) is None:
                reply = await send(self._token_request())
                await reply.aread()
                self._accept(reply)
        assert self._info is not None
        return self._info

    def _usable(self, rejected: _Token | None) -> _Token | None:
        """The current token unless it is near its expiry or is ``rejected``."""
        token = self._token
        if token is not None and token is not rejected and self._clock.now() < token.renew_at:
            return token
        return None

    def _token_request(self) -> httpx.Request:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        if self._scope:
            form["scope"] = self._scope
        headers = {"Accept": "application/json", "User-Agent": "enrollbot"}
        return httpx.Request("POST", self._token_url, data=form, headers=headers)

    def _accept(self, response: httpx.Response) -> _Token:
        """The token of the token endpoint's answer; raises what a failed answer means."""
        status = response.status_code
        if status in (400, 401):
            raise CoachviewAuthError(
                f"Coachview refused the credentials of API client {self._client_id!r} "
                f"({status} {_oauth_error(response)})",
                status=status,
            )
        if status == 429:
            raise self._rate_limited(response)
        if status >= 500:
            raise CoachviewUnavailable(
                f"Coachview's token endpoint answered {status}",
                status=status,
                body=body_of(response),
            )
        try:
            answer = response.json()
            value = str(answer["access_token"])
            seconds = answer.get("expires_in", DEFAULT_LIFETIME.total_seconds())
            lifetime = timedelta(seconds=float(seconds))
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
        self._info = TokenInfo(lifetime, scopes)
        logger.info("Got a Coachview token valid for %s", lifetime)
        return self._token


def _oauth_error(response: httpx.Response) -> str:
    """The OAuth2 ``error`` code of a token answer (a short word, never a secret)."""
    try:
        code = response.json().get("error")
    except (ValueError, AttributeError):
        return "no error code"
    return code if isinstance(code, str) and code.replace("_", "").isalpha() else "?"
