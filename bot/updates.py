"""How updates come in: none lost, each chat in order, different chats at the same time.

**In order per chat, concurrent across chats** (design decision 2). PTB hands every update to
:meth:`ChatOrderedProcessor.do_process_update` as its own task, in the order they arrived. Each
chat has a lock; asyncio locks wake their waiters first come, first served, so the updates of one
chat run one after the other in arrival order while other chats go on. Locks of chats with
nothing waiting are dropped, so memory does not grow with the number of chats ever seen.

**None lost.** Telegram forgets an update once the next ``getUpdates`` asks for later ones, and
PTB asks again as soon as it has queued a batch, before handling it. A process killed in between
would lose those updates: the person's answer would get no reply. So :class:`DurableBot` writes
each batch to the ``inbox`` table before it returns it (and so before Telegram hears the batch
arrived), :class:`Inbox` deletes each update once it is handled (in the same write as the next
batch), and on start the bot first handles what is left there. An update handled twice that way
is recognised by the draft (its last update id) and asked again rather than applied twice.

**Webhook.** With a webhook Telegram posts each update to :class:`WebhookReceiver` and sends it
again until it hears 2xx. The receiver checks the secret header first (in constant time; a
wrong one costs no database work), keeps the update in the inbox, and only then answers 200:
a crash after the answer loses nothing (the update is in the inbox), a crash before it makes
Telegram send it again. A resend of an update that is still in the inbox, or that this process
took in lately, is answered 200 and not handled again.

**Several instances behind one webhook.** The receiver does not hand a chat's update to PTB
itself: it tells :class:`bot.claims.ChatClaims`, which claims the chat in the database and
handles the chat's waiting updates from the inbox one after the other (another instance that
holds the chat does so instead). While the instance drains (SIGTERM), new requests get 503,
and a load balancer or Telegram sends them again elsewhere.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, Protocol

from aiohttp import web
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlmodel import Session
from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor, ExtBot

from bot.clock import Clock
from bot.floods import FloodGuard
from bot.store import inbox


class Claims(Protocol):
    """What the receiver tells the chat claims (:class:`bot.claims.ChatClaims`, which read this
    module's inbox, so it is not imported here)."""

    @property
    def draining(self) -> bool: ...

    def arrived(self, chat: int) -> None: ...


__all__ = [
    "SECRET_HEADER",
    "ChatOrderedProcessor",
    "DurableBot",
    "Inbox",
    "UnpersistedApplication",
    "WebhookReceiver",
    "chat_key",
]

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - the header's name


def chat_key(update: object) -> int | None:
    """The chat (else the user) an update belongs to; ``None`` when it has neither."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


class Inbox:
    """The updates received and not yet handled, kept in the database."""

    #: Seconds after an update is handled within which it is struck from the inbox.
    flush_after = 0.5

    def __init__(self) -> None:
        self.db: Engine | None = None
        self.clock: Clock | None = None
        self._handled: list[int] = []
        self._replayed: set[int] = set()
        self._replay_started: set[int] = set()
        self._flush_timer: asyncio.TimerHandle | None = None
        #: Chats' updates are handled under chat claims (``bot/claims.py``): at start only the
        #: updates of no chat are replayed here; and who waits for each update to be handled.
        self.claimed = False
        self.waiters: dict[int, asyncio.Future[None]] = {}

    def open(self, db: Engine, clock: Clock) -> None:
        """Start keeping updates in ``db`` (until then, and without it, updates pass through)."""
        self.db = db
        self.clock = clock

    def received(self, updates: Sequence[Update]) -> None:
        """Keep a batch, and forget what was handled since the last one, in one write."""
        if self.db is None or self.clock is None:
            return
        handled, self._handled = self._handled, []
        if not updates and not handled:
            return
        with self.db.begin() as connection:
            inbox.record(
                connection,
                received={update.update_id: update.to_dict() for update in updates},
                handled=handled,
                now=self.clock.now(),
                chats={update.update_id: chat_key(update) for update in updates},
            )

    def keep(self, update_id: int, payload: dict[str, Any], chat_id: int | None = None) -> bool:
        """Keep one update posted to the webhook, and forget what was handled, in one write.

        False when the inbox holds the update already (Telegram sent it again).
        """
        if self.db is None or self.clock is None:
            return True
        handled, self._handled = self._handled, []
        try:
            with self.db.begin() as connection:
                new = inbox.keep(
                    connection,
                    update_id=update_id,
                    payload=payload,
                    now=self.clock.now(),
                    chat_id=chat_id,
                )
                if handled:
                    inbox.record(connection, received={}, handled=handled, now=self.clock.now())
        except BaseException:
            self._handled[:0] = handled
            raise
        return new

    def is_duplicate(self, update: object) -> bool:
        """True for the second copy of a replayed update (Telegram sent it again too)."""
        if not isinstance(update, Update) or update.update_id not in self._replayed:
            return False
        if update.update_id in self._replay_started:
            return True
        self._replay_started.add(update.update_id)
        return False

    def handled(self, update: object) -> None:
        """An update is done with: forgotten with the next batch, or within a moment.

        With long polling the next batch may be half a minute away; the handled ids are
        written out shortly after instead, so that a crash in between repeats little.
        """
        if isinstance(update, Update):
            waiter = self.waiters.pop(update.update_id, None)
            if waiter is not None:  # its chat's claim strikes it from the inbox
                if not waiter.done():
                    waiter.set_result(None)
                return
            self._handled.append(update.update_id)
            if self._flush_timer is None and self.db is not None:
                loop = asyncio.get_running_loop()
                self._flush_timer = loop.call_later(self.flush_after, self._timed_flush)

    def _timed_flush(self) -> None:
        self._flush_timer = None
        try:
            self.flush()
        except Exception:
            logger.exception("could not write out the handled updates; trying with the next")

    def flush(self) -> None:
        """Forget the handled updates now (also at shutdown)."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        self.received(())

    async def replay(self, application: Application[Any, Any, Any, Any, Any, Any]) -> int:
        """Queue what a previous run received and never handled; return how many."""
        if self.db is None:
            return 0
        with Session(self.db) as session:
            left = inbox.pending(session, without_chat=self.claimed)
        for row in left:
            self._replayed.add(row.update_id)
            await application.update_queue.put(Update.de_json(row.payload, application.bot))
        if left:
            logger.warning("handling %d update(s) left over from the previous run", len(left))
        return len(left)


class DurableBot(ExtBot[dict[str, Any]]):
    """PTB's bot, whose ``getUpdates`` keeps each batch in its :class:`Inbox` first."""

    __slots__ = ("inbox",)

    def __init__(self, *args: Any, inbox: Inbox, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():
            self.inbox = inbox

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        self.inbox.received(updates)
        return updates


class WebhookReceiver:
    """The webhook's entry point: Telegram's POSTs, each kept in the inbox before the 200."""

    #: How many update ids this process remembers having taken in (Telegram's late resends).
    remember = 10_000

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        inbox: Inbox,
        secret: str,
        claims: Claims | None = None,
    ) -> None:
        self._application = application
        self._inbox = inbox
        self._claims = claims
        self._secret = secret.encode()
        self._seen: set[int] = set()
        self._seen_order: deque[int] = deque()

    async def handle(self, request: web.Request) -> web.Response:
        """An update from Telegram: 403 without the secret, 503 while draining, 200 once it
        is kept."""
        supplied = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(supplied, self._secret):
            logger.warning("refused a webhook request without the right secret token")
            return web.Response(status=403)
        claims = self._claims
        if claims is not None and claims.draining:
            # Stopping: take nothing new; the balancer or Telegram sends it to another.
            return web.Response(status=503, headers={"Connection": "close"})
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise TypeError("not an object")
            update = Update.de_json(data, self._application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            logger.warning("refused a webhook request that is not a Telegram update")
            return web.Response(status=400)
        if update.update_id in self._seen:
            return web.Response()
        chat = chat_key(update)
        if claims is not None and chat is None:
            chat = 0  # updates of no chat are handled in order among themselves
        try:
            new = self._inbox.keep(update.update_id, data, chat)
        except SQLAlchemyError as error:
            # The database's own message, not SQLAlchemy's: that one shows the update's text.
            cause = error.orig if isinstance(error, DBAPIError) else type(error).__name__
            logger.error("could not keep a webhook update (%s); Telegram sends it again", cause)
            return web.Response(status=503)
        self._seen.add(update.update_id)
        self._seen_order.append(update.update_id)
        if len(self._seen_order) > self.remember:
            self._seen.discard(self._seen_order.popleft())
        if claims is not None and chat is not None:
            claims.arrived(chat)  # a resend too: its chat may have been left by a dead instance
        elif new:
            await self._application.update_queue.put(update)
        return web.Response()


class UnpersistedApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application, minus a set that grows with every chat ever seen.

    After each update PTB notes its chat and user for its persistence layer, in two sets that
    only its persistence task empties. This bot keeps its state in its own database and gives
    PTB no persistence, so nothing ever emptied them: about 140 bytes for every new person,
    for as long as the process runs (found with the benchmark's memory figure). Without
    persistence there is nothing to note.
    """

    __slots__ = ()

    def _mark_for_persistence_update(
        self, *, update: object | None = None, job: Any = None
    ) -> None:
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)


class _ChatLock:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Processes updates concurrently across chats and in order within each chat."""

    def __init__(
        self,
        max_concurrent_updates: int = 512,
        *,
        inbox: Inbox | None = None,
        floods: FloodGuard | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, _ChatLock] = {}
        self.inbox = inbox
        #: Which updates are answered when a chat floods (``bot/floods.py``); and what tells
        #: the person to slow down, once per burst (set when the bot starts).
        self.floods = floods or FloodGuard()
        self.on_flood: Callable[[Update], Awaitable[None]] | None = None
        #: Updates fully handled so far (tests and benchmarks wait for the bot to catch up).
        self.processed = 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            if self.inbox is not None and self.inbox.is_duplicate(update):
                if isinstance(coroutine, Coroutine):
                    coroutine.close()
                return
            await self._guarded(update, coroutine)
        finally:
            self.processed += 1
            if self.inbox is not None:
                self.inbox.handled(update)

    async def _guarded(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Tell the flood guard of the update, warn a flooding chat once, then run it."""
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        ticket, burst = self.floods.arrived(key)
        try:
            if burst and self.on_flood is not None and isinstance(update, Update):
                try:
                    await self.on_flood(update)
                except Exception:
                    logger.warning("could not ask a flooding chat to slow down", exc_info=True)
            with self.floods.handling(ticket):
                await self._in_order(update, coroutine, key)
        finally:
            self.floods.finished(ticket)

    async def _in_order(self, update: object, coroutine: Awaitable[Any], key: int) -> None:
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = _ChatLock()
        entry.users += 1
        try:
            async with entry.lock:
                if self.floods.skippable(update):  # not answered, and nothing to apply
                    if isinstance(coroutine, Coroutine):
                        coroutine.close()
                    return
                await coroutine
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._locks[key]

    @property
    def chats_in_progress(self) -> int:
        """How many chats have an update running or waiting."""
        return len(self._locks)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
