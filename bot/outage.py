"""Coachview outages as people in the conversation meet them: one staff alert per outage.

The conversation's catalogue (:mod:`bot.catalogue`) reports every read that failed and every
read that succeeded again. The first failure of an outage queues one alert for the staff chat
(``STAFF_CHAT_ID``); the first success after it queues one notice that Coachview works again.
Both go through the notifications table (``bot/store/notifications.py``), so they are paced by
the notification sender, survive a restart, and are sent once even when several processes share
the database: each outage is an *incident* numbered in the alert's key (``catalogue-down:7``,
``catalogue-up:7``), and the newest such key says whether staff were told that it is down.

Which success ends an outage: a read of something that failed for someone before (a person may
browse course types from the cache while Coachview is down; that success proves nothing), and
only when no read has failed for :attr:`OutageTracker.quiet` (a minute): a Coachview that fails
every few requests, or answers just slower than the patience, is one outage, not an alert and a
recovery notice per failure.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Final, Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import esc, translator
from bot.store import notifications

__all__ = ["DOWN_KEY", "UP_KEY", "OutageTracker"]

logger = logging.getLogger(__name__)

DOWN_KEY: Final = "catalogue-down:"
UP_KEY: Final = "catalogue-up:"


class StaffLine(Protocol):
    """What the tracker needs to tell staff: the application's services have it
    (:class:`bot.services.Services`, which builds the tracker, so it is not imported here)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    def session(self) -> Session: ...

    def wake_notifications(self) -> None: ...


class OutageTracker:
    """Turns the conversation's failed and succeeded reads into staff alerts, one per outage."""

    #: How long no read may have failed before a success ends the outage.
    quiet: timedelta = timedelta(minutes=1)

    def __init__(self, services: StaffLine) -> None:
        self.services = services
        # The reads that failed since the last recovery this process knows of.
        self._failed: set[str] = set()
        self._last_failure: datetime | None = None
        # An outage alerted before this process started ends at its first success (the cache
        # starts empty, so that success was a real read).
        self._inherited = True

    def failed(self, what: str, cause: str) -> None:
        """A read of ``what`` (e.g. ``runs of <id>``) failed for a person because of ``cause``."""
        self._failed.add(what)
        self._last_failure = self.services.clock.now()
        self._inherited = False
        logger.warning("Coachview failed a person's catalogue read (%s): %s", what, cause)
        settings = self.services.settings
        if settings.staff_chat_id is None:
            return
        st = translator(settings.default_language)
        text = st._(
            "⚠️ Coachview is not answering: people in the bot cannot load the courses or dates "
            "right now ({cause}). They see a Try again button; I will tell you when it works "
            "again."
        ).format(cause=esc(cause))
        self._alert(DOWN_KEY, text)

    def succeeded(self, what: str) -> None:
        """A read of ``what`` succeeded: after a failure of it, and a quiet minute, Coachview
        works again."""
        inherited, self._inherited = self._inherited, False
        if not inherited:
            if what not in self._failed:
                return
            last = self._last_failure
            if last is not None and self.services.clock.now() - last < self.quiet:
                return  # too soon to tell: keep the outage open
        self._failed.clear()
        if not inherited:
            logger.warning("Coachview answers the catalogue reads again (%s)", what)
        settings = self.services.settings
        if settings.staff_chat_id is None:
            return
        st = translator(settings.default_language)
        self._alert(UP_KEY, st._("✅ Coachview answers again: people can load the courses."))

    def _alert(self, prefix: str, text: str) -> None:
        """Queue the alert with key ``prefix`` unless staff were told so already."""
        services = self.services
        chat_id = services.settings.staff_chat_id
        assert chat_id is not None
        with services.session() as session:
            last = notifications.latest_key(session, prefixes=(DOWN_KEY, UP_KEY))
            told_down = last is not None and last.startswith(DOWN_KEY)
            if told_down == (prefix == DOWN_KEY):
                return
            incident = int(last.rpartition(":")[2]) if last else 0
            if prefix == DOWN_KEY:
                incident += 1
            key = f"{prefix}{incident}"
            try:
                notifications.enqueue(
                    session, key=key, chat_id=chat_id, text=text, now=services.clock.now()
                )
                session.commit()
            except IntegrityError:
                # Another process queued the same incident's alert at the same moment.
                logger.info("alert %s was queued by another process", key)
                return
        services.wake_notifications()
