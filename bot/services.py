"""What handlers and workers share: settings, the database, Coachview, the clock.

One :class:`Services` object is built by the composition root (``bot/app.py``) and reaches
handlers as ``context.services`` (see :class:`BotContext`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.coachview.client import CoachviewClient
from bot.config import Settings

__all__ = ["BotContext", "BotData", "Services"]


@dataclass
class Services:
    """The long-lived parts of the running bot."""

    settings: Settings
    db: Engine
    coachview: CoachviewClient
    clock: Clock
    submissions_due: asyncio.Event = field(default_factory=asyncio.Event)
    notifications_due: asyncio.Event = field(default_factory=asyncio.Event)

    def session(self) -> Session:
        """A new database session; use it in a ``with`` block and never across an ``await``."""
        return Session(self.db, expire_on_commit=False)

    def wake_submissions(self) -> None:
        """Tell the submission worker that a row is due now."""
        self.submissions_due.set()

    def wake_notifications(self) -> None:
        """Tell the notification sender that a message is due now."""
        self.notifications_due.set()


class BotData:
    """``context.bot_data``: the services and the conversation engine, set at start."""

    def __init__(self) -> None:
        self.services: Services | None = None
        self.engine: object = None


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context handlers receive: ``context.services`` is typed."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def services(self) -> Services:
        services = self.bot_data.services
        if services is None:
            raise RuntimeError("the application has not been initialized")
        return services
