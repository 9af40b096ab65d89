"""Unfinished enrollments: one reminder after a while, deletion after a long while.

A worker started with the Application looks at the drafts every :attr:`DraftKeeper.interval`
seconds:

- an open draft untouched for ``DRAFT_REMINDER_AFTER`` gets one reminder, in the language the
  conversation was held in, with a button that shows the question the person stopped at
  (queued as a notification, in the same transaction that marks the draft reminded; an answer
  clears the mark, so a person who stops again later is reminded again);
- an open or cancelled draft untouched for ``DRAFT_RETENTION`` is deleted, with its answers,
  without a message.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import RESUME, CallbackData
from bot.enrollment import Enrollment
from bot.i18n import esc, pick_language, translator
from bot.services import Services
from bot.store import drafts, notifications
from bot.store.models import Draft
from bot.workers.periodic import every

__all__ = ["DraftKeeper"]

logger = logging.getLogger(__name__)


class DraftKeeper:
    """Reminds people of unfinished enrollments and deletes abandoned ones."""

    interval: float = 60.0

    def __init__(self, services: Services) -> None:
        self.services = services

    async def run(self) -> None:
        """Look every :attr:`interval` seconds, until cancelled."""
        await every(self.interval, self.run_once, "draft housekeeping")

    def run_once(self) -> tuple[int, int]:
        """Queue the reminders due now and delete expired drafts: ``(reminded, deleted)``."""
        services = self.services
        settings = services.settings
        now = services.clock.now()
        reminded = 0
        with services.session() as session:
            for draft in drafts.idle_drafts(
                session, idle_since=now - settings.draft_reminder_after
            ):
                if drafts.mark_reminded(session, draft_id=draft.id or 0, now=now):
                    self._queue_reminder(session, draft, now)
                    reminded += 1
            deleted = drafts.delete_abandoned_drafts(
                session, untouched_since=now - settings.draft_retention
            )
            session.commit()
        if reminded:
            logger.info("reminded %s people of an unfinished enrollment", reminded)
            services.wake_notifications()
        if deleted:
            logger.info("deleted %s abandoned drafts", deleted)
        return reminded, deleted

    def _queue_reminder(self, session: Session, draft: Draft, now: datetime) -> None:
        t = translator(
            pick_language(draft.language, None, self.services.settings.default_language)
        )
        course = Enrollment.model_validate(draft.data).course
        if course is not None:
            text = t._(
                "⏰ You have not finished your enrollment for <b>{course}</b> yet. Your answers "
                "are saved: shall we go on where you left off?"
            ).format(course=esc(course.opleidingssoort_naam))
        else:
            text = t._(
                "⏰ You started an enrollment but have not finished it yet. Your answers are "
                "saved: shall we go on where you left off?"
            )
        button = CallbackData(draft.id or 0, draft.version, RESUME).encode()
        notifications.enqueue(
            session,
            key=f"remind:{draft.id}:{draft.version}",
            chat_id=draft.chat_id,
            text=text,
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton(t._("▶️ Continue"), callback_data=button)]]
            ).to_dict(),
            now=now,
        )
