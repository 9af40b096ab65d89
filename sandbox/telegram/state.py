"""The sandbox's memory: people, chats and their messages, and a signal to wait on changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sandbox.telegram.models import CallbackAnswer, ChatMessage, ReplyKeyboard

__all__ = ["Chat", "Member", "Person", "Signal"]

T = TypeVar("T")


class Signal:
    """Wakes every waiter when something changed, so that each can check its own condition.

    All of the sandbox runs on one event loop: no locks are needed, and a waiter costs one
    future only while it waits (1,000 simulated people waiting cost 1,000 futures, no tasks).
    """

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        """Wake all current waiters."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for(
        self,
        check: Callable[[], T | None],
        timeout: float | None,  # noqa: ASYNC109 - running out of time is an answer here
    ) -> T | None:
        """Return the first non-None ``check()``, re-checked on every notify; None on timeout.

        The timeout is a parameter (not ``asyncio.timeout`` around the call) because running
        out of time is an expected outcome the callers turn into a message of their own.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            value = check()
            if value is not None:
                return value
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return None
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                pass
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)


@dataclass(eq=False, slots=True)
class Person:
    """A simulated Telegram user."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    phone_number: str | None = None
    callback_answers: list[CallbackAnswer] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The name as a chat list shows it."""
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_json(self) -> dict[str, Any]:
        """The Bot API User object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass(eq=False, slots=True)
class Member:
    """A person in a group, and whether they administer it."""

    person: Person
    admin: bool = False


@dataclass(eq=False, slots=True)
class Chat:
    """A private chat (``person`` set) or a group chat (``members`` set) with the bot."""

    id: int
    type: str
    title: str | None = None
    person: Person | None = None
    members: dict[int, Member] = field(default_factory=dict)
    blocked: bool = False
    started: bool = True
    bot_is_admin: bool = False
    next_message_id: int = 1
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)
    bot_message_ids: list[int] = field(default_factory=list)
    edits: list[ChatMessage] = field(default_factory=list)
    replies: list[ChatMessage] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    reply_keyboard: ReplyKeyboard | None = None
    signal: Signal = field(default_factory=Signal)

    @property
    def is_group(self) -> bool:
        """True for groups and supergroups."""
        return self.type in ("group", "supergroup")

    def take_message_id(self) -> int:
        """The next message id of this chat (ids increase per chat, shared by both sides)."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def to_json(self) -> dict[str, Any]:
        """The Bot API Chat object."""
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.person is not None:
            person = self.person.to_json()
            names = ("first_name", "last_name", "username")
            data.update({name: person[name] for name in names if name in person})
        if self.title is not None:
            data["title"] = self.title
        return data

    def add(self, message: ChatMessage) -> None:
        """Store a new message and wake whoever waits on this chat."""
        self.messages[message.message_id] = message
        self.order.append(message.message_id)
        if message.from_bot:
            self.bot_message_ids.append(message.message_id)
            self.replies.append(message)
        self.signal.notify()

    def replace(self, message: ChatMessage, *, edited: bool) -> None:
        """Store a new state of an existing message (an edit or a deletion)."""
        self.messages[message.message_id] = message
        if edited:
            self.edits.append(message)
            self.replies.append(message)
        self.signal.notify()

    def transcript(self, last: int = 12) -> str:
        """The last messages of the chat, one a line, for assertion messages."""
        lines = [self.messages[message_id].describe() for message_id in self.order[-last:]]
        skipped = len(self.order) - len(lines)
        head = [f"  ... {skipped} earlier messages"] if skipped > 0 else []
        return "\n".join(head + ["  " + line for line in lines]) or "  (no messages)"
