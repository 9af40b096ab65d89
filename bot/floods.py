"""Floods absorbed per chat: every update applied in order, only the newest state answered.

A person (or a script) can send hundreds of messages a second; Telegram lets a bot send one
chat about one message a second. :class:`FloodGuard` decides, per chat, which updates are
answered; :class:`~bot.updates.ChatOrderedProcessor` tells it of each update as it arrives
and runs each update inside its :meth:`FloodGuard.handling` block, so the code that answers
can ask :func:`answering` (the conversation engine does, before it shows a question).

- **A backlog.** Updates of one chat run one after the other (``bot/updates.py``). While an
  update runs, later ones of the same chat may already be waiting: it is applied (the draft
  changes as always: nothing typed is lost) but not answered; the newest update of the backlog
  answers, with the state all of them left. Replies to one chat are also paced to Telegram's
  per-chat rate (``bot/telegram/rate.py``), which is what lets a backlog form rather than a
  flood of replies.
- **A burst.** When a chat sends more than ``messages`` updates within ``window`` seconds
  (``FLOOD_MESSAGES``, ``FLOOD_WINDOW``: 20 in 10 s), it is told once, in the person's
  language, to slow down (:data:`SLOW_DOWN`), and from then on the burst is *ignored*, which
  means precisely: every update is still applied in order (answers typed during the burst are
  kept, buttons pressed take effect), but nothing is answered, and commands that only show
  something (``/help``, ``/language``, staff look-ups, unknown commands) and edited messages
  are not run at all (:meth:`FloodGuard.skippable`; in a backlog without a burst they run, as
  each asks something of its own). The burst is over when the chat has sent
  fewer than half of ``messages`` within the last ``window``; the first update after that is
  answered as usual, showing the state the burst left, and a later burst is told again.

Every decision is on the monotonic clock (``clock=`` for tests) and memory stays flat: a chat's
record is dropped when it has nothing running and its burst window is empty.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from telegram import Bot, MessageEntity, Update

from bot.i18n import N_, translator

if TYPE_CHECKING:
    from bot.services import Services

__all__ = ["SLOW_DOWN", "FloodGuard", "Ticket", "answering", "slow_down"]

logger = logging.getLogger(__name__)

SLOW_DOWN = N_(
    "You are sending messages very fast. I keep everything you send, but I will only answer "
    "once you slow down. Please wait a moment."
)

_SWEEP_AT = 4096

#: Commands that change the draft: they run even when their update is not answered.
APPLYING_COMMANDS = frozenset({"start", "cancel"})


@dataclass(frozen=True, slots=True)
class Ticket:
    """One update of a chat, numbered in arrival order."""

    chat: int
    number: int


@dataclass
class _ChatFlow:
    arrivals: deque[float] = field(default_factory=deque)
    newest: int = 0
    running: int = 0
    muted: bool = False


_current: ContextVar[tuple[FloodGuard, Ticket] | None] = ContextVar("flood_ticket", default=None)


def answering() -> bool:
    """Whether the update being handled should be answered (:meth:`FloodGuard.answering` of
    the guard running it); ``True`` outside any update (workers, tests)."""
    current = _current.get()
    return current is None or current[0].answers(current[1])


class FloodGuard:
    """Which updates of a chat are answered (see the module docstring)."""

    def __init__(
        self, messages: int = 20, window: float = 10.0, *, clock: Callable[[], float] | None = None
    ) -> None:
        if messages < 2 or window <= 0:
            raise ValueError("a flood needs at least 2 messages in a positive window")
        self.messages = messages
        self.window = window
        #: Seconds on a monotonic clock (a test may replace it).
        self.clock: Callable[[], float] = clock or time.monotonic
        self._chats: dict[int, _ChatFlow] = {}
        #: How many bursts were met with the slow-down message (for logs and tests).
        self.bursts = 0

    def arrived(self, chat: int) -> tuple[Ticket, bool]:
        """Note an update of ``chat`` as it arrives; ``True`` with it when it starts a burst
        (the caller then tells the person to slow down, once)."""
        now = self.clock()
        flow = self._chats.get(chat)
        if flow is None:
            if len(self._chats) >= _SWEEP_AT:
                self._sweep(now)
            flow = self._chats[chat] = _ChatFlow()
        arrivals = flow.arrivals
        while arrivals and now - arrivals[0] >= self.window:
            arrivals.popleft()
        arrivals.append(now)
        flow.newest += 1
        flow.running += 1
        starts = False
        if not flow.muted and len(arrivals) > self.messages:
            flow.muted = starts = True
            self.bursts += 1
            logger.warning("chat flood: more than %d updates in %g s", self.messages, self.window)
        elif flow.muted and len(arrivals) < self.messages // 2:
            flow.muted = False
        return Ticket(chat, flow.newest), starts

    def finished(self, ticket: Ticket) -> None:
        """An update is done with (whether it ran or not)."""
        flow = self._chats.get(ticket.chat)
        if flow is None:
            return
        flow.running -= 1
        if flow.running <= 0 and not flow.muted:
            now = self.clock()
            if not flow.arrivals or now - flow.arrivals[-1] >= self.window:
                del self._chats[ticket.chat]

    def _sweep(self, now: float) -> None:
        """Forget the chats with nothing running and no update within the window."""
        self._chats = {
            chat: flow
            for chat, flow in self._chats.items()
            if flow.running > 0 or (flow.arrivals and now - flow.arrivals[-1] < self.window)
        }

    @contextmanager
    def handling(self, ticket: Ticket) -> Iterator[None]:
        """Run an update's handlers with ``ticket`` as the one :func:`answering` asks about."""
        token = _current.set((self, ticket))
        try:
            yield
        finally:
            _current.reset(token)

    def answers(self, ticket: Ticket) -> bool:
        """Whether the update of ``ticket`` is answered: it is the newest of its chat, and its
        chat is not in a burst."""
        flow = self._chats.get(ticket.chat)
        return flow is None or (not flow.muted and flow.newest == ticket.number)

    def skippable(self, update: object) -> bool:
        """Whether ``update`` need not run at all now: its chat is in a burst, and it only
        shows something (an edited message, or a command other than /start and /cancel).
        In a backlog without a burst such commands run: each asks something of its own."""
        current = _current.get()
        if current is None or not isinstance(update, Update):
            return False
        flow = self._chats.get(current[1].chat)
        if flow is None or not flow.muted:
            return False
        if update.edited_message is not None:
            return True
        message = update.message
        if message is None or not message.text or not message.entities:
            return False
        first = message.entities[0]
        if first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
            return False
        command = message.text[1 : first.length].split("@", 1)[0].lower()
        return command not in APPLYING_COMMANDS

    @property
    def chats(self) -> int:
        """How many chats have a record (running updates or a recent burst)."""
        return len(self._chats)


async def slow_down(bot: Bot, services: Services, update: Update) -> None:
    """Tell the chat of ``update``, in its person's language, to slow down."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return
    language = services.settings.default_language
    if user is not None:
        language = services.language_of(user.id, user.language_code)
    await bot.send_message(chat.id, translator(language)._(SLOW_DOWN))
