"""How the bot talks HTTP to the Bot API: python-telegram-bot's request interface over aiohttp.

PTB sends through :class:`telegram.request.HTTPXRequest` unless given another
:class:`~telegram.request.BaseRequest`. httpx parses HTTP in pure Python (h11, httpcore, anyio);
in the benchmark that was the largest single cost of the bot, larger than the database
(bench/README.md). aiohttp, already here for the sandboxes, parses HTTP in C. This class is
PTB's documented extension point filled in with it, and behaves as ``HTTPXRequest`` does to
PTB: the same timeouts (read, connect, and the wait for a free connection), a bounded pool of
keep-alive connections, form-encoded parameters or multipart when a file is sent, and
:class:`~telegram.error.TimedOut` / :class:`~telegram.error.NetworkError` for what failed on
the way. Coachview is still reached through httpx (``bot/coachview/client.py``).

Only PTB's public names are used: a timeout PTB did not set is ``BaseRequest.DEFAULT_NONE``
(its documented test), and the parameters are typed ``object`` (wider than PTB's private
``ODVInput[float]``, which an override may accept), narrowed by :func:`_timeout`.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest"]


class AiohttpRequest(BaseRequest):
    """A :class:`~telegram.request.BaseRequest` on one :class:`aiohttp.ClientSession`.

    ``write_timeout`` is accepted for PTB's sake; aiohttp has no separate limit for sending a
    request (the whole request, Telegram's answer included, is bounded by the read timeout).
    """

    __slots__ = ("_connect_timeout", "_pool_size", "_pool_timeout", "_read_timeout", "_session")

    def __init__(
        self,
        *,
        connection_pool_size: int = 1,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The read timeout of a request that does not name one."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the connection pool (in the running event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Close the connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(  # noqa: PLR0917 - PTB's signature
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See :meth:`telegram.request.BaseRequest.do_request`."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = _timeout(read_timeout, self._read_timeout)
        connect = _timeout(connect_timeout, self._connect_timeout)
        pool = _timeout(pool_timeout, self._pool_timeout)
        # aiohttp's ``connect`` is the wait for a pooled connection plus making a new one.
        waiting = None if pool is None and connect is None else (pool or 0.0) + (connect or 0.0)
        timeout = aiohttp.ClientTimeout(
            total=None, connect=waiting, sock_connect=connect, sock_read=read
        )
        try:
            async with session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as error:
            raise TimedOut(
                "Pool or connect timeout: no connection to the Bot API within "
                f"{waiting} s; the request was not sent"
            ) from error
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {error}") from error


def _timeout(given: object, default: float | None) -> float | None:
    """The timeout PTB passed (seconds, or ``None`` for no limit), else ``default``: PTB passes
    ``BaseRequest.DEFAULT_NONE`` for a timeout the caller did not set."""
    if given is BaseRequest.DEFAULT_NONE:
        return default
    if given is None or isinstance(given, int | float):
        return given
    raise TypeError(f"a timeout is a number of seconds or None, not {given!r}")


def _body(request_data: RequestData | None) -> Any:
    """Form-encoded parameters, or multipart when the request uploads files (as httpx does)."""
    if request_data is None:
        return None
    parameters = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        return parameters or None
    form = aiohttp.FormData()
    for name, value in parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
