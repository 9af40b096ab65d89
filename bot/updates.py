"""Updates of one chat in order, different chats at the same time (design decision 2).

PTB hands every update to :meth:`ChatOrderedProcessor.do_process_update` as its own task, in the
order they arrived. Each chat has a lock; asyncio locks wake their waiters first come, first
served, so the updates of one chat run one after the other in arrival order while other chats go
on. Locks of chats with nothing waiting are dropped, so memory does not grow with the number of
chats ever seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

__all__ = ["ChatOrderedProcessor", "chat_key"]


def chat_key(update: object) -> int | None:
    """The chat (else the user) an update belongs to; ``None`` when it has neither."""
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


class _ChatLock:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Processes updates concurrently across chats and in order within each chat."""

    def __init__(self, max_concurrent_updates: int = 512) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, _ChatLock] = {}
        #: Updates fully handled so far (tests and benchmarks wait for the bot to catch up).
        self.processed = 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await self._in_order(update, coroutine)
        finally:
            self.processed += 1

    async def _in_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = _ChatLock()
        entry.users += 1
        try:
            async with entry.lock:
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
