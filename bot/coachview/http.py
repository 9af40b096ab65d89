"""The one ``httpx.AsyncClient`` that speaks to Coachview, and what its answers mean.

:class:`CoachviewHttp` joins the parts: the OAuth2 flow (:mod:`bot.coachview.auth`), the request
budget and counts (:mod:`bot.coachview.budget`) and the parsing of answers
(:mod:`bot.coachview.parsing`). :meth:`CoachviewHttp.call` sends one API call and turns every
failure into an exception of :mod:`bot.errors` (``raise ... from err``):

- no connection could be made (the request certainly never reached Coachview):
  :class:`~bot.errors.CoachviewUnavailable`, ``maybe_processed`` false; so is any failure of the
  token request, which the call it was for never followed;
- a timeout or a broken connection after sending, or a 5xx answer: ``CoachviewUnavailable``,
  ``maybe_processed`` true (Coachview may have acted on it);
- 429 :class:`~bot.errors.CoachviewRateLimited`, 403 :class:`~bot.errors.CoachviewForbidden`,
  404 :class:`~bot.errors.CoachviewNotFound`, 401 (after the one renewal)
  :class:`~bot.errors.CoachviewAuthError`, any other 4xx :class:`~bot.errors.CoachviewRejected`.

The paths are known [doc, code] for the token and ``/api/v1``; :data:`TOKEN_PATH` and
:data:`API_PREFIX` are where to change them. 100 is the page size known to work (the maximum is
unknown [guess]). Error answers are logged in outline only (:func:`_outline`): they may repeat
the person's name or e-mail address; the whole body is kept in the exception.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from functools import partial
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from bot.clock import Clock
from bot.coachview.auth import ClientCredentials, TokenInfo
from bot.coachview.budget import Meter, body_of
from bot.coachview.keys import path_segment
from bot.coachview.models import SkippedRecord
from bot.coachview.parsing import SkipLog, parse, parse_list
from bot.errors import (
    CoachviewAuthError,
    CoachviewError,
    CoachviewForbidden,
    CoachviewNotFound,
    CoachviewRejected,
    CoachviewUnavailable,
)

__all__ = ["API_PREFIX", "DEFAULT_TIMEOUT", "MAX_PAGES", "TOKEN_PATH", "CoachviewHttp"]

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=5.0)
"""Coachview may take long on a deep page (it then answers 500); 30 s is the patience for it."""

TOKEN_PATH = "/auth/connect/token"  # noqa: S105 - a path, not a password
API_PREFIX = "/api/v1"

MAX_PAGES = 50
"""The most pages one list is read to (a warning says when a list was longer)."""

_NEVER_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
)


class CoachviewHttp:
    """Coachview's HTTP API: authorized calls, their failures as :mod:`bot.errors`, and lists
    read page by page."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        scope: str,
        *,
        clock: Clock,
        timeout: httpx.Timeout | None,
        transport: httpx.AsyncBaseTransport | None,
        page_size: int,
        daily_limit: int,
    ) -> None:
        if not 1 <= page_size <= 100:
            raise ValueError("page_size must be between 1 and 100")
        base = base_url.rstrip("/")
        self.page_size = page_size
        self.meter = Meter(
            clock=clock, daily_limit=daily_limit, token_path=TOKEN_PATH, api_prefix=API_PREFIX
        )
        self.auth = ClientCredentials(
            base + TOKEN_PATH,
            client_id,
            client_secret,
            scope,
            clock=clock,
            rate_limited=self.meter.rate_limited,
        )
        self.skips = SkipLog()
        self._client = httpx.AsyncClient(
            base_url=base,
            auth=self.auth,
            timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "enrollbot"},
            event_hooks={"request": [self.meter.before], "response": [self.meter.after]},
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def ensure_token(self) -> TokenInfo:
        """A token at hand (the current one while valid, else a new one); its lifetime and
        scopes. Raises as the token request does."""
        try:
            return await self.auth.ensure(partial(self._client.send, auth=None))
        except httpx.TransportError as err:
            raise self._unavailable("POST", TOKEN_PATH, err) from err

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """An authorized API call (``path`` under :data:`API_PREFIX`); a 2xx answer, or the
        exception its failure means (see the module docstring)."""
        try:
            response = await self._client.request(method, path, params=params, json=json)
        except httpx.TransportError as err:
            raise self._unavailable(method, path, err) from err
        self._raise_for_status(method, path, response)
        return response

    def record_path(self, entity: str, record_id: str) -> str:
        """``/api/v1/{entity}/{id}``; an id that is no GUID names no record:
        :class:`CoachviewNotFound`, and nothing is sent."""
        try:
            segment = path_segment(record_id)
        except ValueError:
            raise CoachviewNotFound(f"no {entity} record: the id is not a GUID") from None
        return f"{API_PREFIX}/{entity}/{segment}"

    async def get_one(self, entity: str, record_id: str, model: type[M]) -> M:
        """One record by its id (``GET {entity}/{id}``)."""
        response = await self.call("GET", self.record_path(entity, record_id))
        return parse(response, model)

    async def page(
        self,
        entity: str,
        model: type[M],
        params: Mapping[str, str | int],
        *,
        list_key: str,
    ) -> list[M]:
        """One page of ``GET {entity}``: the records that fit ``model`` (those left out are
        noted under ``list_key``)."""
        response = await self.call("GET", f"{API_PREFIX}/{entity}", params=params)
        items, skips = parse_list(response, model)
        self.skips.note(list_key, skips)
        return items

    async def all_pages(
        self,
        entity: str,
        model: type[M],
        *,
        where: str | None = None,
        orderby: str | None = None,
        list_key: str,
    ) -> list[M]:
        """Every page of a list; the records the bot cannot use are left out and noted
        under ``list_key`` (:class:`~bot.coachview.parsing.SkipLog`)."""
        items: list[M] = []
        skips: list[SkippedRecord] = []
        for page_number in range(MAX_PAGES):
            params: dict[str, str | int] = {
                "skip": page_number * self.page_size,
                "take": self.page_size,
            }
            if where:
                params["where"] = where
            if orderby:
                params["orderby"] = orderby
            response = await self.call("GET", f"{API_PREFIX}/{entity}", params=params)
            page, left_out = parse_list(response, model)
            items.extend(page)
            skips.extend(left_out)
            if len(page) + len(left_out) < self.page_size:
                break
        else:
            logger.warning("GET %s: stopped after %s pages", entity, MAX_PAGES)
        self.skips.note(list_key, skips)
        return items

    def _unavailable(
        self, method: str, path: str, err: httpx.TransportError
    ) -> CoachviewUnavailable:
        """A transport failure as :class:`CoachviewUnavailable`: ``maybe_processed`` unless the
        request certainly never reached Coachview (no connection could be made, or only the
        token request went out)."""
        request = err.request
        self.meter.failed(request)
        if self.meter.is_token_request(request):
            return CoachviewUnavailable(
                f"Coachview's token endpoint could not be reached for {method} {path} "
                f"({type(err).__name__}); the call was not sent",
                maybe_processed=False,
            )
        if isinstance(err, _NEVER_SENT):
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

    def _raise_for_status(self, method: str, path: str, response: httpx.Response) -> None:
        """Turn a non-2xx answer into the matching exception of :mod:`bot.errors`."""
        status = response.status_code
        if 200 <= status < 300:
            return
        level = logging.INFO if status == 404 else logging.WARNING  # 404: a look-up's answer
        logger.log(level, "Coachview answered %s to %s %s", status, method, path)
        logger.debug("Coachview's %s answer: %s", status, _outline(response))
        what = f"Coachview answered {status} to {method} {path}"
        body = body_of(response)
        if status == 429:
            raise self.meter.rate_limited(response)
        if status >= 500:
            raise CoachviewUnavailable(what, status=status, body=body, maybe_processed=True)
        if status == 403:
            raise CoachviewForbidden(what + " (the API client lacks a scope)", status=status)
        if status == 404:
            raise CoachviewNotFound(what, status=status, body=body)
        if status == 401:
            raise CoachviewAuthError(what + " with a fresh token", status=status, body=body)
        if 400 <= status < 500:
            raise CoachviewRejected(what, status=status, body=body)
        raise CoachviewError(what, status=status, body=body)


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
