"""What handlers and workers share: settings, the database, Coachview, the clock.

One :class:`Services` object is built by the composition root (``bot/app.py``) and reaches
handlers as ``context.services`` (see :class:`BotContext`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from telegram.ext import Application, CallbackContext, ExtBot

from bot.budgets import Quota
from bot.catalogue import GuardedCatalogue
from bot.clock import Clock
from bot.coachview.client import CoachviewClient
from bot.config import Settings
from bot.i18n import Language, pick_language
from bot.outage import OutageTracker
from bot.questions import Questions, load_questions
from bot.store import people

__all__ = ["BotContext", "BotData", "Services"]

#: How many people's language choices are kept in memory: those who spoke most recently (the
#: others' are read again when they come back). Enough for thousands in conversation at once;
#: memory stays flat however many people the bot has ever seen.
LANGUAGE_CACHE = 4096


@dataclass
class Services:
    """The long-lived parts of the running bot."""

    settings: Settings
    db: Engine
    coachview: CoachviewClient
    clock: Clock
    submissions_due: asyncio.Event = field(default_factory=asyncio.Event)
    _languages: dict[int, str | None] = field(default_factory=dict, repr=False)
    notifications_due: asyncio.Event = field(default_factory=asyncio.Event)

    def language_of(self, user_id: int, telegram_code: str | None) -> Language:
        """A person's language: their /language choice, else Telegram's, else the default.

        The choices are cached (only this process's /language changes them: one process
        polls Telegram), so an update costs no query for it.
        """
        if user_id in self._languages:
            stored = self._languages.pop(user_id)
            self._languages[user_id] = stored  # now the most recent
        else:
            with self.session() as session:
                stored = people.get_language(session, user_id=user_id)
            if len(self._languages) >= LANGUAGE_CACHE:
                del self._languages[next(iter(self._languages))]
            self._languages[user_id] = stored
        return pick_language(stored, telegram_code, self.settings.default_language)

    def remember_language(self, user_id: int, language: Language) -> None:
        """Store a person's /language choice."""
        with self.session() as session:
            people.set_language(session, user_id=user_id, language=language, now=self.clock.now())
            session.commit()
        self._languages[user_id] = language

    @cached_property
    def catalogue(self) -> GuardedCatalogue:
        """The catalogue as the conversation reads it: each read bounded by the patience, its
        failures reported to staff once per outage (``bot/catalogue.py``)."""
        return GuardedCatalogue(
            self.coachview,
            patience=self.settings.coachview_patience,
            outages=OutageTracker(self),
        )

    def forget_language(self, user_id: int) -> None:
        """Drop a person's language from memory (their data was erased with /forget)."""
        self._languages.pop(user_id, None)

    @cached_property
    def questions(self) -> Questions:
        """The provider's own questions (``QUESTIONS_FILE``; checked with the settings)."""
        return load_questions(self.settings.questions_file)

    @cached_property
    def lookups(self) -> Quota:
        """The Coachview look-ups each person may cause beyond the cached catalogue
        (``bot/budgets.py``)."""
        return Quota(self.settings.person_lookups_per_hour, timedelta(hours=1), self.clock)

    @cached_property
    def staff_commands(self) -> Quota:
        """The staff commands each staff member may give per hour (``bot/budgets.py``)."""
        return Quota(self.settings.staff_commands_per_hour, timedelta(hours=1), self.clock)

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
    """``context.bot_data``: the services, set at start."""

    def __init__(self) -> None:
        self.services: Services | None = None


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
