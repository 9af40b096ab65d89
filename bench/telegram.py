"""The Telegram sandbox, instrumented for benchmarks.

:class:`MeasuredTelegram` is the project's sandbox with three additions, all on the benchmark's
side of the wire, timed with ``time.perf_counter`` in this process:

* **First reaction.** When an update is queued for the bot (it is *available*: the next
  ``getUpdates`` returns it) the time is noted for its chat; the bot's first Bot API call for
  that chat after it (``sendMessage``, ``editMessageText``, ``answerCallbackQuery``...) closes
  the interval. The simulated people wait for the bot before they act again, so each chat has
  at most one update waiting for its reaction.
* **The real limits, counted not enforced.** The sandbox runs without limits (a simulated
  person answers in microseconds, and the bot's replies do not go through its pacer, so the
  real per-chat limit would only measure the simulation). Each ``sendMessage`` is also offered
  to a :class:`~sandbox.telegram.ratelimit.RateLimiter` with Telegram's real overall limit
  (30 messages a second): how many it would have refused, and how long a first-come
  first-served queue in front of that limit would have made the last message wait.
* **Late answers.** Telegram refuses an ``answerCallbackQuery`` that comes more than about
  15 s after the press ("query is too old"), and so does the sandbox. When 1,000 people press
  at once the bot can be that late; such a press is counted (:attr:`late_answers`) and the
  person goes on (the bot had edited the message before it tried to answer), instead of
  waiting for an answer that can never come.
* **Light bookkeeping.** Calls are counted per method instead of being kept with their
  parameters (which the tests need and a run of 100,000 updates does not).
"""

from __future__ import annotations

import time
from collections import Counter, deque
from typing import Any

from sandbox.telegram import TelegramLimits, TelegramSandbox
from sandbox.telegram.models import ApiError, CallbackAnswer
from sandbox.telegram.ratelimit import RateLimiter

__all__ = ["LATE", "MeasuredTelegram"]

_REAL = TelegramLimits()
LATE = "(answered too late: Telegram refused it)"


class MeasuredTelegram(TelegramSandbox):
    """The Telegram sandbox with first-reaction times and counted (not enforced) limits."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("limits", TelegramLimits.unlimited())
        super().__init__(**kwargs)
        #: Seconds from "update available" to the bot's first call for its chat, in order.
        self.reactions: list[float] = []
        #: The chat of each of :attr:`reactions` (to leave one chat's out: the flood scenario).
        self.reaction_chats: list[int] = []
        #: Calls per Bot API method (and errors per method under "<method>!").
        self.call_counts: Counter[str] = Counter()
        #: perf_counter of the first getUpdates (the bot is listening), or None.
        self.first_get_updates: float | None = None
        #: sendMessage calls Telegram's overall limit would have refused (429).
        self.over_global_limit = 0
        #: sendMessage calls seen by the counted limit.
        self.messages_sent = 0
        #: Button presses whose answer the bot sent too late (refused as too old).
        self.late_answers = 0
        self._late: set[str] = set()
        self._waiting: dict[int, float] = {}
        self._shadow = RateLimiter(TelegramLimits(per_chat_interval=0.0, group_window=0.0))
        self._window: deque[float] = deque()  # departure times of the virtual paced queue
        #: Seconds the latest message would have waited in a queue paced at 30 a second.
        self.paced_delay = 0.0
        self.max_paced_delay = 0.0
        for key, (name, handler) in list(self._methods.items()):
            self._methods[key] = (name, self._timed(name, handler))

    def reset_measurements(self) -> None:
        """Forget what was measured so far (between a warm-up and the measured part)."""
        self.reactions = []
        self.reaction_chats = []
        self.call_counts = Counter()
        self.over_global_limit = 0
        self.messages_sent = 0
        self.late_answers = 0
        self._waiting.clear()
        self._shadow = RateLimiter(TelegramLimits(per_chat_interval=0.0, group_window=0.0))
        self._window.clear()
        self.paced_delay = 0.0
        self.max_paced_delay = 0.0

    def enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        update = super().enqueue(kind, payload)
        if update is not None:
            chat_id = _chat_of(kind, payload)
            if chat_id is not None:
                self._waiting.setdefault(chat_id, time.perf_counter())
        return update

    def _timed(self, name: str, handler: Any) -> Any:
        async def timed(params: Any) -> Any:
            now = time.perf_counter()
            if name == "getUpdates" and self.first_get_updates is None:
                self.first_get_updates = now
            chat_id = self._call_chat(name, params)
            if chat_id is not None:
                queued = self._waiting.pop(chat_id, None)
                if queued is not None:
                    self.reactions.append(now - queued)
                    self.reaction_chats.append(chat_id)
            self.call_counts[name] += 1
            try:
                result = await handler(params)
            except ApiError:
                self.call_counts[name + "!"] += 1
                if name == "answerCallbackQuery":
                    self._answered_late(params.string("callback_query_id") or "")
                raise
            if name == "sendMessage" and isinstance(chat_id, int):
                self._count_limits(chat_id, now)
            return result

        return timed

    def _answered_late(self, query_id: str) -> None:
        query = self._queries.get(query_id)
        if query is None or query.answer is not None or query_id in self._late:
            return
        self._late.add(query_id)
        self.late_answers += 1
        query.chat.signal.notify()

    def callback_answer(self, query_id: str) -> CallbackAnswer | None:
        """The bot's answer; for a press answered too late, a stand-in saying so."""
        answer = super().callback_answer(query_id)
        if answer is None and query_id in self._late:
            query = self._queries[query_id]
            return CallbackAnswer(
                query_id=query_id,
                data=query.data,
                message_id=query.message_id,
                text=LATE,
                show_alert=False,
                url=None,
                cache_time=0,
                when=self.clock.now(),
            )
        return answer

    def _call_chat(self, name: str, params: Any) -> int | None:
        if name == "answerCallbackQuery":
            query = self._queries.get(params.string("callback_query_id") or "")
            return None if query is None else query.chat.id
        if name in ("getUpdates", "getMe", "setMyCommands", "deleteWebhook"):
            return None
        chat_id = params.chat_id()
        return chat_id if isinstance(chat_id, int) else None

    def _count_limits(self, chat_id: int, now: float) -> None:
        self.messages_sent += 1
        if self._shadow.acquire(chat_id, is_group=chat_id < 0) is not None:
            self.over_global_limit += 1
        # A first-come first-served queue letting at most 30 messages out in any second: the
        # message leaves at its arrival, or one second after the 30th message before it left.
        window = self._window
        departure = now
        if len(window) >= _REAL.global_messages:
            departure = max(now, window[0] + _REAL.global_window)
            window.popleft()
        window.append(departure)
        self.paced_delay = departure - now
        self.max_paced_delay = max(self.max_paced_delay, self.paced_delay)

    def _record(self, method: str, params: Any, error: ApiError | None) -> None:
        # The base class keeps every call with its decoded parameters; counting is enough here.
        del params
        if error is not None and error.error_code == 404:
            self.call_counts[method + "?"] += 1


def _chat_of(kind: str, payload: dict[str, Any]) -> int | None:
    if kind == "callback_query":
        message = payload.get("message") or {}
        chat = message.get("chat") or {}
        return chat.get("id") if isinstance(chat.get("id"), int) else None
    chat = payload.get("chat") or {}
    chat_id = chat.get("id")
    return chat_id if isinstance(chat_id, int) else None
