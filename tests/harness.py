"""Running the real bot against both sandboxes, in this process or as a child process.

In-process (:func:`running_bot`): the Application built by ``bot/app.py``, long polling the
Telegram sandbox over loopback HTTP (or, ``webhook=True``, served by the sandbox's POSTs to its
webhook), with the Coachview sandbox behind the real client and a real database (an SQLite
file, or PostgreSQL: the ``database_url`` fixture gives each in turn). As a process
(:class:`BotProcess`): ``python -m bot`` with the environment pointing at the sandboxes, so a
test can SIGKILL it and start it again.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from bot.app import BotApplication, Runtime, build_application
from bot.clock import Clock, SystemClock
from bot.config import Settings, load_settings
from bot.services import Services
from bot.serving import serve
from bot.store.models import Draft, DraftStatus, OutboxEntry
from bot.telegram.limits import TelegramLimits
from bot.updates import ChatOrderedProcessor
from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import CallbackAnswer, ChatMessage, SandboxUser, TelegramSandbox
from tests.waiting import wait_until

__all__ = [
    "ROOT",
    "BotProcess",
    "Person",
    "RunningBot",
    "database_url",
    "free_socket",
    "running_bot",
    "settings_for",
    "wait_until",  # from tests.waiting, the one wait-until helper
]

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RunningBot:
    """The bot under test and what a test reads from it."""

    application: BotApplication
    settings: Settings
    telegram: TelegramSandbox
    coachview: CoachviewSandbox
    runtime: Runtime | None = None
    #: Where the health and metrics endpoints are (``ops=True``), e.g. ``http://127.0.0.1:4321``.
    ops_url: str | None = None
    #: Updates queued before this bot started (another bot on the same sandbox handled them).
    updates_before: int = 0

    @property
    def services(self) -> Services:
        services = self.application.bot_data.services
        assert services is not None
        return services

    def drafts(self) -> list[Draft]:
        with Session(self.services.db) as session:
            return list(session.exec(select(Draft)).all())

    def open_draft(self, user: SandboxUser) -> Draft | None:
        return next(
            (d for d in self.drafts() if d.chat_id == user.id and d.status == DraftStatus.OPEN),
            None,
        )

    def person(self, first_name: str = "Anna", *, language_code: str | None = "en") -> Person:
        """A new person in a private chat with the bot."""
        return Person(self, self.telegram.user(first_name, language_code=language_code))

    def outbox(self) -> list[OutboxEntry]:
        with Session(self.services.db) as session:
            return list(session.exec(select(OutboxEntry)).all())

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until the bot has handled every update queued so far (replies sent)."""
        processor = self.application.update_processor
        assert isinstance(processor, ChatOrderedProcessor)
        await self.wait_for(
            lambda: processor.processed >= self.telegram.updates_queued - self.updates_before,
            timeout,
            "the bot to handle every update",
        )

    async def wait_for(self, condition: Any, timeout: float = 10.0, what: str = "") -> None:
        """Wait until ``condition()`` holds (a hung test fails instead of waiting forever)."""
        await wait_until(condition, timeout, what)


def database_url(database: Path | str) -> str:
    """An SQLAlchemy URL: ``database`` itself, or the URL of an SQLite file at that path."""
    return database if isinstance(database, str) else f"sqlite:///{database}"


def settings_for(database: Path | str, **overrides: Any) -> Settings:
    """Settings for a test: no .env file, the given database (a URL, or an SQLite file's
    path), then ``overrides``."""
    values: dict[str, Any] = {"database_url": database_url(database)}
    values.update(overrides)
    return load_settings(env_file=None, **values)


@asynccontextmanager
async def running_bot(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    database: Path | str,
    *,
    clock: Clock | None = None,
    limits: TelegramLimits | None = None,
    webhook: bool = False,
    ops: bool = False,
    **settings: Any,
) -> AsyncIterator[RunningBot]:
    """The bot, polling ``telegram`` and submitting to ``coachview``, until the block ends.

    ``webhook=True``: Telegram posts to the bot's webhook instead (a free loopback port, a
    random secret); ``ops=True``: health and metrics on a server of their own (``ops_url``).
    """
    sockets: dict[str, socket.socket] = {}
    if webhook:
        sockets["webhook"] = free_socket()
        port = sockets["webhook"].getsockname()[1]
        settings.setdefault("webhook_url", f"http://127.0.0.1:{port}/telegram/updates")
        settings.setdefault("webhook_secret", secrets.token_urlsafe(32))
    if ops:
        sockets["metrics"] = free_socket()
    # A simulated person types in microseconds: the flood guard's burst rule would take any
    # quick test for a flood. Tests of that rule set FLOOD_MESSAGES themselves.
    settings.setdefault("flood_messages", 1_000_000)
    config = settings_for(database, **settings)
    runtime = Runtime(
        token=telegram.token,
        telegram_api_url=telegram.url,
        coachview_base_url=coachview.url,
        coachview_client_id=coachview.client_id,
        coachview_client_secret=coachview.client_secret,
        clock=clock or SystemClock(),
        limits=limits or TelegramLimits.unlimited(),
    )
    application = build_application(config, runtime)
    ops_url = None
    if ops:
        ops_url = "http://127.0.0.1:{}".format(sockets["metrics"].getsockname()[1])
    before = telegram.updates_queued
    async with serve(application, config, runtime, poll_timeout=timedelta(seconds=5), **sockets):
        if webhook:
            await wait_until(lambda: telegram.webhook_url, 10, "the bot to set its webhook")
        else:
            await telegram.wait_polling()
        yield RunningBot(application, config, telegram, coachview, runtime, ops_url, before)


def free_socket() -> socket.socket:
    """A socket bound to a free port of 127.0.0.1, for a server to take over."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


class BotProcess:
    """``python -m bot`` as a child process pointed at the sandboxes; killable. It runs in the
    folder of its ``log``."""

    def __init__(
        self,
        telegram: TelegramSandbox,
        coachview: CoachviewSandbox,
        database: Path | str,
        log: Path,
        **environment: str,
    ) -> None:
        self.log = log
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(log.parent),
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_API_URL": telegram.url,
            "COACHVIEW_BASE_URL": coachview.url,
            "COACHVIEW_CLIENT_ID": coachview.client_id,
            "COACHVIEW_CLIENT_SECRET": coachview.client_secret,
            "DATABASE_URL": database_url(database),
            "LOG_LEVEL": "INFO",
            "FLOOD_MESSAGES": "1000000",  # a simulated person types in microseconds
            **environment,
        }
        self.cwd = log.parent
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=self.cwd,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        handle.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when the machine loses power."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    async def stop(self) -> None:
        """SIGTERM, as an operator stops it. Waits without blocking the event loop: the bot's
        shutdown still talks to the sandboxes, which run in this process."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.to_thread(process.wait), 30)
        except TimeoutError:
            process.kill()
            process.wait(timeout=30)


class Person:
    """A simulated person in a private chat with the bot, waiting for it after every action.

    ``say``/``tap`` act and wait until the bot has handled everything (``RunningBot.settle``),
    then return the bot's latest message as it now stands: the question being asked.
    """

    def __init__(self, bot: RunningBot, user: SandboxUser) -> None:
        self.bot = bot
        self.user = user

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def screen(self) -> ChatMessage:
        """The bot's latest message (the current question, after edits)."""
        message = self.user.last_message
        assert message is not None, "the bot has not said anything yet"
        return message

    @property
    def text(self) -> str:
        return self.screen.text or ""

    @property
    def buttons(self) -> list[str]:
        return self.screen.button_texts

    async def say(self, text: str) -> ChatMessage:
        await self.user.send(text)
        await self.bot.settle()
        return self.screen

    async def tap(self, label: str, *, message: ChatMessage | None = None) -> CallbackAnswer:
        """Press an inline button of the latest message (or of ``message``)."""
        answer = await self.user.press(label, message=message or self.screen)
        await self.bot.settle()
        return answer

    async def share_contact(self, phone: str, *, own: bool = True) -> ChatMessage:
        await self.user.send_contact(phone, own=own)
        await self.bot.settle()
        return self.screen

    async def send_other(self, kind: str) -> ChatMessage:
        """A sticker, photo, voice message or location where the bot expects something else."""
        if kind == "sticker":
            await self.user.send_sticker()
        elif kind == "photo":
            await self.user.send_photo()
        elif kind == "voice":
            await self.user.send_voice()
        elif kind == "location":
            await self.user.send_location(52.09, 5.12)
        else:
            raise ValueError(kind)
        await self.bot.settle()
        return self.screen

    async def answer(self, value: str | None) -> ChatMessage:
        """Answer the current question: a button's label if it has one, ``None`` to skip,
        else typed text."""
        if value is None:
            if "Skip" in self.buttons or "Overslaan" in self.buttons:
                await self.tap("Skip" if "Skip" in self.buttons else "Overslaan")
                return self.screen
            return await self.say("-")
        if value in self.buttons:
            await self.tap(value)
            return self.screen
        return await self.say(value)

    async def answers(self, *values: str | None) -> ChatMessage:
        for value in values:
            await self.answer(value)
        return self.screen
