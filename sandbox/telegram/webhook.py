"""Webhook delivery in the Telegram sandbox: updates POSTed to the bot as Telegram does it.

After ``setWebhook`` the sandbox stops answering ``getUpdates`` (409) and POSTs each queued
update as JSON to the webhook URL, with the ``X-Telegram-Bot-Api-Secret-Token`` header when a
secret was set:

- an update stays queued until the bot answers 2xx; any other answer, a refused or broken
  connection or no answer within :attr:`WebhookDelivery.timeout` counts as failed, and the
  update is sent again after :attr:`WebhookDelivery.retry_after` (Telegram waits longer);
- one chat's next update goes out only after the previous one was answered 2xx, so a chat's
  updates arrive in order; different chats' updates go out at the same time, at most
  ``max_connections`` (``setWebhook``, 1 to 100, default 40) at once.

Unlike Telegram the sandbox posts only to loopback addresses (it never reaches out of the
machine), and over plain HTTP as a self-hosted Bot API server (``--local``) may: a webhook on
any other host stays undelivered, and ``getWebhookInfo`` tells why in ``last_error_message``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from sandbox.telegram.models import ApiError, WebhookPost
from sandbox.telegram.state import Signal

__all__ = ["SECRET_HEADER", "Queued", "WebhookDelivery", "chat_of"]

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_DEFAULT_CONNECTIONS = 40
_MAX_CONNECTIONS = 100
NOT_LOOPBACK = "Failed to resolve host: the sandbox delivers to loopback addresses only"


@dataclass(eq=False, slots=True)
class Queued:
    """An update waiting for the bot: fetched by ``getUpdates`` or posted to the webhook."""

    update_id: int
    kind: str
    payload: dict[str, Any]
    chat: int | None = None
    retry_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"update_id": self.update_id, self.kind: self.payload}


def chat_of(payload: dict[str, Any]) -> int | None:
    """The chat (else the person) an update's payload belongs to: its order key."""
    for holder in (payload, payload.get("message") or {}):
        chat = holder.get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return int(chat["id"])
    sender = payload.get("from")
    if isinstance(sender, dict) and isinstance(sender.get("id"), int):
        return int(sender["id"])
    return None


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebhookDelivery:
    """The webhook of one sandbox: its settings, and the task that posts the queued updates."""

    #: Seconds the bot has to answer a POST before it counts as failed and is sent again.
    timeout = 10.0
    #: Seconds before a failed update is sent again.
    retry_after = 0.05

    def __init__(
        self,
        updates: deque[Queued],
        delivered: Callable[[Queued], None],
        now: Callable[[], datetime],
    ) -> None:
        self.url = ""
        self.secret: str | None = None
        self.max_connections = _DEFAULT_CONNECTIONS
        #: Every POST and its answer, oldest first (for tests).
        self.posts: list[WebhookPost] = []
        self.last_error: tuple[datetime, str] | None = None
        self._updates = updates
        self._delivered = delivered
        self._now = now
        self._signal = Signal()
        self._changed = False
        self._stopped = False
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None

    # -- Bot API methods -----------------------------------------------------------------

    def set(self, url: str, secret: str | None, max_connections: int | None) -> None:
        """``setWebhook`` with a URL (the caller handles an empty one as a removal)."""
        if secret is not None and not _SECRET_SHAPE.fullmatch(secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if max_connections is not None and not 1 <= max_connections <= _MAX_CONNECTIONS:
            raise ApiError(400, "Bad Request: max_connections must be between 1 and 100")
        if not url.startswith(("https://", "http://")):
            raise ApiError(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
        self.url = url
        self.secret = secret
        self.max_connections = max_connections or _DEFAULT_CONNECTIONS
        self.last_error = None
        if self._task is None or self._task.done():
            self._stopped = False
            self._task = asyncio.create_task(self._run(), name="sandbox-webhook")
        self.wake()

    def delete(self) -> None:
        """``deleteWebhook``: nothing more is posted (posts under way finish)."""
        self.url = ""
        self.secret = None
        self.wake()

    def info(self) -> dict[str, Any]:
        """The webhook's part of ``getWebhookInfo``."""
        if not self.url:
            return {}
        data: dict[str, Any] = {"max_connections": self.max_connections}
        if self.last_error is not None:
            when, message = self.last_error
            data["last_error_date"] = int(when.timestamp())
            data["last_error_message"] = message
        return data

    def wake(self) -> None:
        """Something changed (an update queued, a post answered): look for work."""
        self._changed = True
        self._signal.notify()

    async def stop(self) -> None:
        """Stop posting; posts under way are abandoned (the bot's server is going too)."""
        self._stopped = True
        self.wake()
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- Posting ---------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession() as session:
            try:
                while self.url and not self._stopped:
                    self._changed = False
                    pause = self._start_posts(session, loop.time())
                    await self._signal.wait_for(lambda: True if self._changed else None, pause)
            finally:
                for task in list(self._in_flight.values()):
                    task.cancel()
                for task in list(self._in_flight.values()):
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                self._in_flight.clear()

    def _start_posts(self, session: aiohttp.ClientSession, now: float) -> float | None:
        """Post every update that may go now; return the seconds until the next retry."""
        pause: float | None = None
        waiting: set[int] = set()
        for queued in self._updates:
            if len(self._in_flight) >= self.max_connections:
                break
            if queued.chat is not None:
                if queued.chat in waiting:
                    continue  # an earlier update of this chat is not answered yet
                waiting.add(queued.chat)
            if queued.update_id in self._in_flight:
                continue
            if queued.retry_at > now:
                wait = queued.retry_at - now
                pause = wait if pause is None else min(pause, wait)
                continue
            self._in_flight[queued.update_id] = asyncio.create_task(self._post(session, queued))
        return pause

    async def _post(self, session: aiohttp.ClientSession, queued: Queued) -> None:
        url = self.url
        status: int | None = None
        error: str | None = None
        try:
            if not _is_loopback(url):
                error = NOT_LOOPBACK
            else:
                headers = {"Content-Type": "application/json"}
                if self.secret:
                    headers[SECRET_HEADER] = self.secret
                async with session.post(
                    url,
                    data=json.dumps(queued.to_json()).encode(),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as response:
                    await response.read()
                    status = response.status
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientError as err:
            error = f"Connection failed: {type(err).__name__}"
        finally:
            self._in_flight.pop(queued.update_id, None)
        post = WebhookPost(queued.update_id, status, error, self._now())
        self.posts.append(post)
        if post.ok:
            self._delivered(queued)
        else:
            message = error or f"Wrong response from the webhook: {status}"
            self.last_error = (post.when, message)
            queued.retry_at = asyncio.get_running_loop().time() + self.retry_after
            logger.debug("webhook post of update %s failed: %s", queued.update_id, message)
        self.wake()
