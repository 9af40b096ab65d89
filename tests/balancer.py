"""A small round-robin load balancer (aiohttp) in front of several bots' webhooks.

Each POST goes to the next backend in turn, with its body and Telegram's secret header, and
the backend's answer goes back as it came. A backend that cannot be reached (killed, not yet
started) is answered 502, as a balancer without retries does: Telegram (the sandbox) sends
the update again, and the next try goes to the next backend. A test and the benchmark use it
as the URL Telegram posts to.
"""

from __future__ import annotations

import itertools
import socket
from collections import Counter
from types import TracebackType

import aiohttp
from aiohttp import web

from bot.updates import SECRET_HEADER

__all__ = ["RoundRobin"]

_PASSED = (SECRET_HEADER, "Content-Type")


class RoundRobin:
    """``async with RoundRobin(backends) as balancer``: serves ``balancer.url``'s host and
    port, any path, passing requests on to ``backends`` (``http://host:port``) in turn."""

    def __init__(self, backends: list[str], *, timeout: float = 30.0) -> None:
        self.backends = backends
        self._turns = itertools.cycle(range(len(backends)))
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0
        #: Answers passed back, by backend index and status (502: could not reach it).
        self.answers: Counter[tuple[int, int]] = Counter()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> RoundRobin:
        self._session = aiohttp.ClientSession(
            timeout=self._timeout, connector=aiohttp.TCPConnector(limit=0)
        )
        app = web.Application()
        app.router.add_route("POST", "/{path:.*}", self._pass_on)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _pass_on(self, request: web.Request) -> web.Response:
        assert self._session is not None
        turn = next(self._turns)
        body = await request.read()
        headers = {name: request.headers[name] for name in _PASSED if name in request.headers}
        try:
            async with self._session.post(
                self.backends[turn] + request.path_qs, data=body, headers=headers
            ) as answer:
                status, content = answer.status, await answer.read()
        except (aiohttp.ClientError, TimeoutError):
            self.answers[turn, 502] += 1
            return web.Response(status=502)
        self.answers[turn, status] += 1
        return web.Response(status=status, body=content)
