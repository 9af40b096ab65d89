"""How the running bot is reached: Telegram's webhook, and health and metrics for operators.

Two ways of taking updates in (:func:`serve` picks by the settings):

- **long polling** (no ``WEBHOOK_URL``, the default): :func:`bot.app.polling`;
- **webhook** (``WEBHOOK_URL``): :func:`webhook` serves the URL's path on ``WEBHOOK_LISTEN``
  with :class:`bot.updates.WebhookReceiver` and calls ``setWebhook`` with the secret, the
  update kinds the bot handles and :data:`WEBHOOK_MAX_CONNECTIONS`. Every instance behind one
  URL calls it with the same values, and none deletes the webhook when it stops: the others
  go on receiving.

For operators, on one HTTP server (aiohttp, as the sandboxes use): ``/healthz`` (the process
answers), ``/readyz`` (each of :func:`readiness_checks` passes; 503 and the failing names
otherwise) and ``/metrics`` (Prometheus, :mod:`bot.metrics`). They are on the webhook's server,
or on ``METRICS_LISTEN`` when that is set (then in polling mode too, and the webhook's server
has only the webhook: a reverse proxy can pass that one server on as it is).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, cast
from urllib.parse import urlsplit

import sqlalchemy as sa
from aiohttp import web

from bot.app import ALLOWED_UPDATES, CONCURRENT_UPDATES, BotApplication, Runtime, lifecycle
from bot.app import polling as long_polling
from bot.claims import ChatClaims
from bot.config import Settings, split_listen
from bot.errors import SchemaNotCurrent
from bot.metrics import CONTENT_TYPE
from bot.services import Services
from bot.store import migrations
from bot.updates import DurableBot, WebhookReceiver

__all__ = [
    "WEBHOOK_MAX_CONNECTIONS",
    "http_server",
    "ops_routes",
    "readiness_checks",
    "serve",
    "webhook",
]

logger = logging.getLogger(__name__)

WEBHOOK_MAX_CONNECTIONS = CONCURRENT_UPDATES
"""Telegram's requests at once: as many as updates handled at once. A request costs one inbox
write before its answer, so more would only make updates wait in memory instead of at Telegram
(which also sends a chat's next update only after the answer to the previous one)."""

READY_TIMEOUT = 5.0
"""Seconds a readiness check may take before it counts as failed."""

Check = Callable[[Services], Awaitable[None]]
"""A readiness check: returns when the part is ready, raises (anything) when not."""


async def database_reachable(services: Services) -> None:
    """The database answers a query."""
    with services.db.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


async def coachview_token(services: Services) -> None:
    """A Coachview token was obtained lately and is valid, or a new one can be obtained."""
    await services.coachview.ensure_token()


async def migrations_current(services: Services) -> None:
    """The database's schema is the one this version works with (``enrollbot migrate``)."""
    if not migrations.is_current(services.db):
        raise SchemaNotCurrent("run `enrollbot migrate`")


def readiness_checks() -> dict[str, Check]:
    """The checks of ``/readyz``, by name."""
    return {
        "database": database_reachable,
        "migrations": migrations_current,
        "coachview": coachview_token,
    }


def ops_routes(
    application: BotApplication,
    runtime: Runtime,
    checks: dict[str, Check] | None = None,
) -> list[web.RouteDef]:
    """``/healthz``, ``/readyz`` and ``/metrics`` of ``application``."""
    ready_checks = readiness_checks() if checks is None else checks

    async def healthz(request: web.Request) -> web.Response:
        del request
        return web.json_response({"alive": True})

    async def readyz(request: web.Request) -> web.Response:
        del request
        services = application.bot_data.services
        if services is None:
            results = {"started": "not yet"}
        else:
            results = await _run_checks(services, ready_checks)
        ready = all(result == "ok" for result in results.values())
        return web.Response(
            status=200 if ready else 503,
            text=json.dumps({"ready": ready, "checks": results}),
            content_type="application/json",
        )

    async def metrics(request: web.Request) -> web.Response:
        del request
        body = runtime.metrics.render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    return [web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics)]


async def _run_checks(services: Services, checks: dict[str, Check]) -> dict[str, str]:
    async def one(name: str, check: Check) -> str:
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for may drop a cancellation
            # (a stopping server's) that arrives as the check ends.
            async with asyncio.timeout(READY_TIMEOUT):
                await check(services)
        except Exception as error:
            logger.warning("readiness check %s failed: %s", name, type(error).__name__)
            return f"failed: {type(error).__name__}"
        return "ok"

    names = list(checks)
    results = await asyncio.gather(*(one(name, checks[name]) for name in names))
    return dict(zip(names, results, strict=True))


@contextlib.asynccontextmanager
async def http_server(
    routes: list[web.RouteDef], *, listen: str | None = None, sock: socket.socket | None = None
) -> AsyncIterator[web.AppRunner]:
    """Serve ``routes`` on ``listen`` (``host:port``) or on the bound ``sock`` until the end."""
    app = web.Application()
    app.add_routes(routes)
    # No access log: a request line is no one's business, and a proxy in front has its own.
    # Handlers are not cancelled when Telegram gives up: an update being kept is kept.
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    try:
        site: web.BaseSite
        if sock is not None:
            site = web.SockSite(runner, sock)
        else:
            host, port = split_listen(listen or "")
            site = web.TCPSite(runner, host, port)
        await site.start()
        logger.info("serving HTTP on %s", site.name)
        yield runner
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def webhook(
    application: BotApplication,
    settings: Settings,
    runtime: Runtime,
    *,
    sock: socket.socket | None = None,
    with_ops: bool | None = None,
) -> AsyncIterator[BotApplication]:
    """Run ``application`` with Telegram posting to ``WEBHOOK_URL`` until the block ends.

    ``with_ops``: serve health and metrics there too (default: unless ``METRICS_LISTEN``).

    The server starts after ``post_init`` (the inbox is open, and what a previous run left in
    it is queued first), and stops before the application does: on SIGTERM nothing new is
    taken, and what was taken is handled.
    """
    if settings.webhook_url is None or settings.webhook_secret is None:
        raise ValueError("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET")
    url = str(settings.webhook_url)
    secret = settings.webhook_secret.get_secret_value()
    inbox = cast(DurableBot, application.bot).inbox
    # Each chat by one instance at a time (bot/claims.py); only its updates of no chat replayed.
    claims = ChatClaims(application, inbox, lease=settings.chat_claim_lease)
    inbox.claimed = True
    receiver = WebhookReceiver(application, inbox, secret, claims)

    async def counted(request: web.Request) -> web.Response:
        response = await receiver.handle(request)
        runtime.metrics.webhook.labels(str(response.status)).inc()
        return response

    routes = [web.post(urlsplit(url).path or "/", counted)]
    if settings.metrics_listen is None if with_ops is None else with_ops:
        routes += ops_routes(application, runtime)
    stack = contextlib.AsyncExitStack()

    async def start() -> None:
        await stack.enter_async_context(
            http_server(routes, listen=settings.webhook_listen, sock=sock)
        )
        claims.start()
        # What Telegram says of the webhook before it is set again: what waits, what failed.
        info = await application.bot.get_webhook_info()
        if info.last_error_message:
            # Telegram's own words on its last failed post (e.g. the proxy refused it).
            logger.warning(
                "Telegram's last failed post to the webhook, at %s: %s",
                info.last_error_date,
                info.last_error_message,
            )
        await application.bot.set_webhook(
            url,
            secret_token=secret,
            allowed_updates=list(ALLOWED_UPDATES),
            max_connections=WEBHOOK_MAX_CONNECTIONS,
        )
        logger.info(
            "Telegram posts updates to the webhook; %d were waiting there",
            info.pending_update_count,
        )

    async def stop() -> None:
        # Refuse new updates (503) while the chats held finish, then close the server.
        await claims.stop()
        await stack.aclose()

    async with lifecycle(application, start, stop):
        yield application


@contextlib.asynccontextmanager
async def serve(
    application: BotApplication,
    settings: Settings,
    runtime: Runtime,
    *,
    poll_timeout: timedelta = timedelta(seconds=30),
    **sockets: socket.socket,
) -> AsyncIterator[BotApplication]:
    """Run ``application`` by webhook or long polling, as the settings say, with the health
    and metrics server where they ask for it. ``webhook=``/``metrics=`` sockets (tests) are
    served instead of ``WEBHOOK_LISTEN``/``METRICS_LISTEN``."""
    async with contextlib.AsyncExitStack() as stack:
        metrics_sock = sockets.get("metrics")
        ops_apart = settings.metrics_listen is not None or metrics_sock is not None
        if ops_apart:
            await stack.enter_async_context(
                http_server(
                    ops_routes(application, runtime),
                    listen=settings.metrics_listen,
                    sock=metrics_sock,
                )
            )
        receiving: contextlib.AbstractAsyncContextManager[Any]
        if settings.webhook_url is not None:
            receiving = webhook(
                application, settings, runtime, sock=sockets.get("webhook"), with_ops=not ops_apart
            )
        else:
            receiving = long_polling(application, poll_timeout=poll_timeout)
        yield await stack.enter_async_context(receiving)
