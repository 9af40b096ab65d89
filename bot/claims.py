"""Several instances behind one webhook: each chat handled by one of them at a time, in order.

Telegram sends a chat's next update once the previous one is answered, and the webhook answers
as soon as the update is stored (``bot/updates.py``), so with a load balancer in front the next
update may reach another instance while the first is still being handled. :class:`ChatClaims`
follows the protocol of ``bot/store/chats.py``:

- the receiver stores an update with its chat and calls :meth:`ChatClaims.arrived`;
- a task of that chat claims it in the database. Not granted: another instance holds it and
  will find the update in the inbox. Granted: it hands the chat's waiting updates to PTB one at
  a time, oldest first, strikes each from the inbox once handled (renewing the claim in the same
  write), and when none is left releases the chat and looks once more;
- every ``lease / 4`` the claims held are renewed (an update that takes long keeps its chat),
  and chats with updates waiting whose claim ran out (their instance died) are taken over;
- :meth:`ChatClaims.stop` (SIGTERM) drains: new requests are refused (503) from then on, each
  chat's update being handled is finished and struck, its claim released, and what waits in
  the inbox is left to the other instances (they take it over at their next look).

An instance SIGKILLed holding chats leaves claims that run out after ``CHAT_CLAIM_LEASE``;
nothing it acknowledged is lost, as every update stays in the inbox until handled. One that
was being handled when it died is handled again by the next holder: the draft recognises the
update (its last update id) and asks the current question again rather than applying it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import Application

from bot.clock import Clock
from bot.store import chats, inbox
from bot.updates import Inbox

__all__ = ["ChatClaims", "owner_name"]

logger = logging.getLogger(__name__)

RETRY_AFTER = 1.0
"""Seconds before a chat's task tries again after the database failed it."""


def owner_name() -> str:
    """This process's name in the claims: host, process id and a random part (a restarted
    container keeps its host name and process id)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class ChatClaims:
    """The chats this instance handles, claimed in the database (see the module)."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        inbox: Inbox,
        *,
        lease: timedelta,
        owner: str | None = None,
    ) -> None:
        self.application = application
        self.inbox = inbox
        self.lease = lease
        self.owner = owner or owner_name()
        #: Set by :meth:`stop`: the webhook refuses new updates, nothing more is claimed.
        self.draining = False
        #: Chats claimed now (renewed every ``lease / 4``).
        self.held: set[int] = set()
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._again: set[int] = set()
        self._keeper: asyncio.Task[None] | None = None

    @property
    def _db(self) -> tuple[Engine, Clock]:
        if self.inbox.db is None or self.inbox.clock is None:
            raise RuntimeError("the inbox is not open")
        return self.inbox.db, self.inbox.clock

    def start(self) -> None:
        """Renew, and look for abandoned chats, now and every ``lease / 4`` until stopped."""
        self.inbox.claimed = True
        self._keeper = asyncio.create_task(self._keep(), name="chat-claims")

    def arrived(self, chat: int) -> None:
        """An update of ``chat`` is in the inbox: handle it unless another instance does."""
        if self.draining:
            return
        if chat in self._tasks:
            self._again.add(chat)  # its task looks once more before it ends
            return
        self._tasks[chat] = asyncio.create_task(self._run(chat), name=f"chat-{chat}")

    async def stop(self) -> None:
        """Drain: finish the update of each chat held, release them, take nothing new."""
        self.draining = True
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
            self._keeper = None
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    # -- One chat --------------------------------------------------------------------------

    async def _run(self, chat: int) -> None:
        try:
            while not self.draining:
                self._again.discard(chat)
                try:
                    if not await self._handle_claimed(chat):
                        return
                except SQLAlchemyError as error:
                    logger.error(
                        "chat claims: the database failed (%s); trying again",
                        type(error).__name__,
                    )
                    await asyncio.sleep(RETRY_AFTER)
        finally:
            self._tasks.pop(chat, None)
            self._again.discard(chat)

    async def _handle_claimed(self, chat: int) -> bool:
        """Claim ``chat`` and handle its waiting updates; True when it should look again.

        Three writes around each chat's turn: claim and read what waits; strike what was
        handled, renew and read again (after each update); release and read once more."""
        db, clock = self._db
        with db.begin() as connection:
            granted = chats.claim(
                connection, chat_id=chat, owner=self.owner, now=clock.now(), lease=self.lease
            )
            waiting = inbox.waiting_in_chat(connection, chat_id=chat) if granted else []
        if not granted:
            return False  # the holder finds the update in the inbox
        self.held.add(chat)
        left: list[tuple[int, dict[str, Any]]] = []
        try:
            while waiting and not self.draining:
                update_id, payload = waiting[0]
                await self._handle(update_id, payload)
                self._again.discard(chat)  # the read below finds whatever was stored
                with db.begin() as connection:
                    inbox.record(connection, received={}, handled=[update_id], now=clock.now())
                    kept = chats.claim(
                        connection,
                        chat_id=chat,
                        owner=self.owner,
                        now=clock.now(),
                        lease=self.lease,
                    )
                    waiting = inbox.waiting_in_chat(connection, chat_id=chat) if kept else []
                if not kept:
                    logger.warning("chat claims: lost a chat's claim while handling it")
                    return False
        finally:
            self.held.discard(chat)
            with db.begin() as connection:
                chats.release(connection, chat_id=chat, owner=self.owner)
                if not self.draining:
                    # Stored just before the release, an update found the chat taken.
                    left = inbox.waiting_in_chat(connection, chat_id=chat)
        if self.draining:
            return False
        return chat in self._again or bool(left)

    async def _handle(self, update_id: int, payload: dict[str, Any]) -> None:
        """Hand one update to PTB and wait until it is handled."""
        done = asyncio.get_running_loop().create_future()
        self.inbox.waiters[update_id] = done
        try:
            await self.application.update_queue.put(Update.de_json(payload, self.application.bot))
            await done
        finally:
            self.inbox.waiters.pop(update_id, None)

    # -- Every lease / 4 ---------------------------------------------------------------------

    async def _keep(self) -> None:
        pause = self.lease.total_seconds() / 4
        while True:
            try:
                self.look()
            except SQLAlchemyError as error:
                logger.error("chat claims: could not renew (%s)", type(error).__name__)
            await asyncio.sleep(pause)

    def look(self) -> None:
        """Renew the claims held; take up the chats whose instance left them."""
        db, clock = self._db
        with db.begin() as connection:
            held = sorted(self.held)
            kept = chats.renew(
                connection, chat_ids=held, owner=self.owner, now=clock.now(), lease=self.lease
            )
            if len(kept) < len(held):
                logger.warning(
                    "chat claims: %d claim(s) ran out before renewal", len(held) - len(kept)
                )
            left = chats.abandoned(connection, now=clock.now())
        for chat in left:
            self.arrived(chat)
