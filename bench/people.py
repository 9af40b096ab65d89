"""Simulated people and the two ways the benchmark drives them.

A person follows a :data:`Script`: a list of actions (type a text, press an inline button),
each waiting for the bot's whole reaction before the next (the new messages a text brings; for
a button, the ``answerCallbackQuery``, which the bot sends after editing the message). Nobody
polls or sleeps: every wait is on the sandbox's per-chat signal.

* :func:`all_at_once`: every person starts at once and goes as fast as the bot answers (the
  closed loop: throughput).
* :func:`at_fixed_rate`: one action every ``1/rate`` seconds, whoever is ready takes it and a
  new person starts when nobody is (the open loop: the offered load does not slow down when
  the bot does).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sandbox.telegram import SandboxUser, TelegramSandbox

__all__ = [
    "Action",
    "Outcome",
    "Script",
    "all_at_once",
    "at_fixed_rate",
    "echo_script",
    "enrollment_script",
]

WAIT = 120.0  # the most one reaction may take before the run is declared broken


@dataclass(frozen=True)
class Action:
    """Type ``text`` (and wait for ``messages`` new messages), or press the inline button
    ``button`` (a label, or the position on the newest message with buttons)."""

    text: str | None = None
    button: str | int | None = None
    messages: int = 1

    @property
    def is_press(self) -> bool:
        return self.button is not None


Script = Sequence[Action]

_FIRST_NAMES = ("Anna", "Bram", "Chantal", "Daan", "Eva", "Fatima", "Gijs", "Hanna", "Ilse")
_LAST_NAMES = ("Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Peters")


def enrollment_script(number: int, *, deep_link: str | None) -> list[Action]:
    """A whole enrollment in English: the contact person attends, no one else, a remark.

    With ``deep_link`` (a run's id) the person comes from the website's link and starts at the
    first name; without it they choose the course type and the first date from the menu.
    """
    first = _FIRST_NAMES[number % len(_FIRST_NAMES)]
    last = _LAST_NAMES[number // len(_FIRST_NAMES) % len(_LAST_NAMES)]
    if deep_link is not None:
        start = [Action(text=f"/start {deep_link}")]
    else:
        start = [Action(text="/start"), Action(button="BHV Herhaling"), Action(button=0)]
    return [
        *start,
        Action(text=first),
        Action(button="Skip"),  # no name prefix
        Action(text=last),
        Action(text=f"{first.lower()}.{number}@example.nl"),
        # Leaving the phone question takes the contact keyboard away with a message of its own.
        Action(text=f"06 {12_000_000 + number % 80_000_000:08d}", messages=2),
        Action(text=f"{last} Techniek B.V."),
        Action(button="Yes, I will attend"),
        Action(button="No"),  # nobody else
        Action(text="Vegetarian, please"),
        Action(button="✅ Send enrollment"),
    ]


def echo_script(number: int, *, length: int) -> list[Action]:
    """``length`` texts, each answered by one message (what the echo bot does)."""
    return [Action(text=f"Hello {number} #{i}") for i in range(length)]


@dataclass
class Outcome:
    """What the simulated people did and saw."""

    people: int = 0
    updates: int = 0
    finished: int = 0  # people who completed their script
    confirmed: int = 0  # enrollments whose confirmation message arrived
    failures: list[str] = field(default_factory=list)
    started_at: float = 0.0
    ended_at: float = 0.0  # the last reaction to the last action
    confirmed_at: float = 0.0  # the last confirmation

    @property
    def elapsed(self) -> float:
        return self.ended_at - self.started_at


async def act(user: SandboxUser, action: Action) -> None:
    """Do ``action`` and wait until the bot has reacted to it completely."""
    if action.button is not None:
        await user.press(action.button, timeout=WAIT)
        return
    assert action.text is not None
    await user.send(action.text)
    for _ in range(action.messages):
        message = await user.next_message(WAIT)
        if (message.text or "").startswith("⚠️"):
            raise AssertionError(f"the bot refused {action.text!r}: {message.text}")


async def _confirmation(user: SandboxUser, timeout: float) -> bool:  # noqa: ASYNC109
    """Wait for the confirmation the notifier sends once Coachview took the enrollment."""
    message = await user.next_message(timeout)
    return "received" in (message.text or "")


async def all_at_once(
    telegram: TelegramSandbox,
    scripts: Sequence[Script],
    *,
    confirm: bool = False,
    confirm_timeout: float = 600.0,
    first_user_id: int = 800_000_000,
) -> Outcome:
    """Every script at once, each person as fast as the bot answers; with ``confirm`` each
    then waits for their enrollment's confirmation."""
    outcome = Outcome(people=len(scripts), updates=sum(len(s) for s in scripts))
    users = [
        telegram.user(f"P{i}", language_code="en", user_id=first_user_id + i)
        for i in range(len(scripts))
    ]

    async def person(user: SandboxUser, script: Script) -> None:
        try:
            for action in script:
                await act(user, action)
        except AssertionError as error:
            outcome.failures.append(str(error).splitlines()[0])
            return
        outcome.finished += 1
        outcome.ended_at = max(outcome.ended_at, time.perf_counter())
        if confirm:
            try:
                if await _confirmation(user, confirm_timeout):
                    outcome.confirmed += 1
                    outcome.confirmed_at = time.perf_counter()
            except AssertionError as error:
                outcome.failures.append(str(error).splitlines()[0])

    outcome.started_at = time.perf_counter()
    await asyncio.gather(*(person(u, s) for u, s in zip(users, scripts, strict=True)))
    return outcome


async def at_fixed_rate(
    telegram: TelegramSandbox,
    make_script: Callable[[int], Script],
    *,
    rate: float,
    duration: float,
    first_user_id: int = 850_000_000,
) -> Outcome:
    """Offer ``rate`` updates a second for ``duration`` seconds, whatever the bot's speed.

    Every ``1/rate`` s the person who has waited longest since the bot answered them does
    their next action; when nobody is ready, a new person starts a conversation. Then it waits
    (up to :data:`WAIT`) for the reactions to the last actions.
    """
    total = round(rate * duration)
    outcome = Outcome(updates=total)
    ready: deque[asyncio.Future[None]] = deque()
    tasks: list[asyncio.Task[None]] = []
    numbers = itertools.count()
    loop = asyncio.get_running_loop()

    async def person(number: int, user: SandboxUser) -> None:
        script = make_script(number)
        try:
            for index, action in enumerate(script):
                if index > 0:  # the first action takes the tick that started this person
                    turn: asyncio.Future[None] = loop.create_future()
                    ready.append(turn)
                    await turn
                await act(user, action)
        except asyncio.CancelledError:
            return
        except AssertionError as error:
            outcome.failures.append(str(error).splitlines()[0])
            return
        outcome.finished += 1

    outcome.started_at = start = time.perf_counter()
    for tick in range(total):
        delay = start + tick / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        while ready and ready[0].done():  # a cancelled waiter
            ready.popleft()
        if ready:
            ready.popleft().set_result(None)
        else:
            number = next(numbers)
            user = telegram.user(f"R{number}", language_code="en", user_id=first_user_id + number)
            outcome.people += 1
            tasks.append(asyncio.create_task(person(number, user)))
    issued_until = time.perf_counter()
    # Let the last actions get their reactions: wait until everyone is ready again or done.
    deadline = issued_until + WAIT
    while time.perf_counter() < deadline:
        busy = sum(1 for task in tasks if not task.done()) - sum(1 for f in ready if not f.done())
        if busy <= 0:
            break
        await asyncio.sleep(0.01)
    outcome.ended_at = time.perf_counter()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    outcome.started_at = start
    outcome.ended_at = max(issued_until, outcome.ended_at)
    return outcome
