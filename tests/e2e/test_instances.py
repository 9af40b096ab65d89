"""Three bot processes behind one webhook URL on one PostgreSQL (issue 12, item 4).

A round-robin balancer (``tests/balancer.py``) is the URL Telegram posts to; each instance
listens on a port of its own. 200 people enroll at once; each types three answers in a row
without waiting (so a chat's next update often reaches another instance while the previous
one is being handled). When a third of them are past those answers, one instance is
SIGKILLed and started again. Then: every person got every answer and one confirmation, the
replies of each chat came in the order of its messages, and Coachview holds each enrollment
exactly once. Every wait is on a condition (the sandbox's per-chat signal), none on a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import TypeHandler

from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import ChatMessage, SandboxUser, TelegramSandbox
from tests.balancer import RoundRobin
from tests.enrolling import CONFIRMED, FAST_ENV, SEND
from tests.harness import BotProcess, free_socket, running_bot, wait_until

PEOPLE = 200
INSTANCES = 3
WAIT = 90.0  # the most one answer may take before the test calls it lost (a hung run)
SECRET = secrets.token_urlsafe(32)

#: What the bot asks, in the order of an enrollment (after the date is chosen).
QUESTIONS = [
    "Which date would you like?",
    "What is your first name?",
    "prefix",
    "What is your last name?",
    "What is your e-mail address?",
    "What is your phone number?",
    "Which company",
    "Will you attend",
    "someone else too?",
    "Anything you would like to tell us",
    "Please check your enrollment",
    CONFIRMED,
]


class Reader:
    """What one person reads: every reply of the bot (a new message or an edit) in the order
    the bot made them, each as it read then (later edits do not change it)."""

    def __init__(self, user: SandboxUser) -> None:
        self.user = user
        self.replies: list[str] = []
        self.screen: ChatMessage | None = None

    async def expect(self, fragment: str) -> None:
        """Read the bot's replies (waiting on the chat's signal) until one shows ``fragment``."""
        try:
            async with asyncio.timeout(WAIT):
                while True:
                    reply = await self.user.next_reply(timeout=None)
                    self.replies.append(reply.text or "")
                    if fragment in self.replies[-1]:
                        self.screen = reply
                        return
        except TimeoutError:
            raise AssertionError(
                f"no {fragment!r} for {self.user.first_name}:\n{self.user.transcript()}"
            ) from None

    async def press(self, button: str | int) -> None:
        """Press a button of the message that asked the question answered (after a crash the
        bot may ask again in a new message: the person answers the one they are reading)."""
        await self.user.press(button, message=self.screen, timeout=WAIT)

    def in_order(self) -> bool:
        """Each question first shown after (or with) the one before it, none missing."""
        firsts = [
            next((i for i, text in enumerate(self.replies) if question in text), -1)
            for question in QUESTIONS
        ]
        return -1 not in firsts and firsts == sorted(firsts)


@pytest.fixture
async def instances(
    database_url: str, telegram: TelegramSandbox, coachview: CoachviewSandbox, tmp_path: Path
) -> AsyncIterator[tuple[list[BotProcess], RoundRobin]]:
    if not database_url.startswith("postgresql"):
        pytest.skip("several instances share a database server: PostgreSQL only")
    ports = []
    for _ in range(INSTANCES):
        with free_socket() as sock:  # a free port, given to the bot (closed here first)
            ports.append(sock.getsockname()[1])
    async with RoundRobin([f"http://127.0.0.1:{port}" for port in ports]) as balancer:
        bots = [
            BotProcess(
                telegram,
                coachview,
                database_url,
                tmp_path / f"bot{number}.log",
                WEBHOOK_URL=f"{balancer.url}/telegram/updates",
                WEBHOOK_SECRET=SECRET,
                WEBHOOK_LISTEN=f"127.0.0.1:{port}",
                **{**FAST_ENV, "SUBMISSION_LEASE": "10", "CHAT_CLAIM_LEASE": "5"},
            )
            for number, port in enumerate(ports)
        ]
        try:
            yield bots, balancer
        finally:
            await asyncio.gather(*(bot.stop() for bot in bots))
            for bot in bots:
                with contextlib.suppress(FileNotFoundError):
                    print(bot.log.read_text(errors="replace")[-3000:])


async def test_three_instances_one_killed_lose_nothing_and_keep_each_chats_order(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    instances: tuple[list[BotProcess], RoundRobin],
) -> None:
    bots, balancer = instances
    soort = coachview.catalogue.seed.open_soort
    people = [telegram.user(f"P{number}", language_code="en") for number in range(PEOPLE)]
    past_burst = confirmed = 0
    burst_done = asyncio.Event()

    readers = [Reader(user) for user in people]

    async def enroll(number: int, reader: Reader) -> None:
        nonlocal past_burst, confirmed
        user, expect, press = reader.user, reader.expect, reader.press
        await user.send(f"/start {soort}")
        await expect("Which date would you like?")
        await press(0)
        await expect("What is your first name?")
        await user.send("Anna " + "".join(chr(ord("a") + int(digit)) for digit in str(number)))
        await expect("prefix")
        await press("Skip")
        await expect("What is your last name?")
        # Three answers in a row: each is sent once the previous one is stored, so the next
        # one often reaches another instance while the previous is being handled.
        await user.send("Jansen")
        await user.send(f"p{number}@example.nl")
        await user.send("06 12345678")
        await expect("Which company")
        past_burst += 1
        if past_burst >= PEOPLE // 3:
            burst_done.set()
        await press("Skip")
        await expect("Will you attend")
        await press("Yes, I will attend")
        await expect("someone else too?")
        await press("No")
        await expect("Anything you would like to tell us")
        await press("Skip")
        await expect("Please check your enrollment")
        await press(SEND)
        # "being sent" is the review's edit; a Send applied by the killed instance just before
        # it died finds its draft sent when it is handled again, and only the confirmation
        # follows.
        await expect(CONFIRMED)
        confirmed += 1

    for bot in bots:
        bot.start()
    await wait_until(lambda: telegram.webhook_url, 60, "the bots to set the webhook")

    async def kill_one() -> None:
        await burst_done.wait()
        assert confirmed < PEOPLE, "everyone finished before the kill: it would prove nothing"
        bots[1].kill()  # SIGKILL, holding chats and acknowledged updates
        bots[1].start()

    await asyncio.gather(kill_one(), *(enroll(n, r) for n, r in enumerate(readers)))

    # 0 lost answers: each person got every question, and they came in the order asked.
    for reader in readers:
        assert reader.in_order(), reader.replies
        texts = [message.text or "" for message in reader.user.messages]
        assert not any(text.startswith("⚠️") for text in texts), reader.user.transcript()
        assert sum(CONFIRMED in text for text in texts) == 1, reader.user.transcript()
    # Each enrollment exactly once in Coachview.
    emails = Counter(
        email
        for stored in coachview.webaanvragen
        for email in (f"p{n}@example.nl" for n in range(PEOPLE))
        if email in str(stored.body)
    )
    assert len(coachview.webaanvragen) == PEOPLE
    assert emails == Counter({f"p{n}@example.nl": 1 for n in range(PEOPLE)})
    # The balancer spread the updates over all three; the killed one refused some meanwhile.
    assert all(balancer.answers[turn, 200] > 0 for turn in range(INSTANCES)), balancer.answers
    for bot in bots:
        await bot.stop()  # SIGTERM: drains and stops cleanly
        assert bot.process is not None and bot.process.returncode == 0, bot.log.read_text()


async def test_a_press_handled_again_after_a_crash_asks_the_current_question_again(
    telegram: TelegramSandbox, coachview: CoachviewSandbox, database_url: str
) -> None:
    """An instance that dies after applying a press and before striking it from the inbox
    leaves it to the next holder of the chat, which finds the draft past it (a newer version
    than the button's). The person gets the current question again, not "no longer active"
    and silence."""
    async with running_bot(telegram, coachview, database_url) as bot:
        presses: list[Update] = []

        async def note(update: Update, context: object) -> None:
            if update.callback_query is not None:
                presses.append(update)

        bot.application.add_handler(TypeHandler(Update, note), group=-1)
        anna = bot.person("Anna")
        await anna.say(f"/start {coachview.catalogue.seed.open_soort}")
        await anna.tap(anna.buttons[0])  # the first date
        await anna.say("Anna")
        await anna.tap("Skip")  # no prefix
        assert "What is your last name?" in anna.text
        anna.user.skip_unread()

        await bot.application.update_queue.put(presses[-1])  # the same update once more
        again = await anna.user.next_message(timeout=30)
        assert (again.text or "").startswith("What is your last name?"), again.text
        await anna.say("Jansen")  # and the person goes on from there
        # The update put in by hand counts as handled without having been queued at Telegram,
        # so settling may return one update early: wait for the answer itself.
        await bot.wait_for(
            lambda: "What is your e-mail address?" in anna.text, what="the next question"
        )
