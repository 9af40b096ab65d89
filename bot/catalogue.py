"""The catalogue as the conversation reads it: every read bounded, every failure one exception.

The conversation never calls the Coachview client directly. It reads course types and runs
through :class:`GuardedCatalogue`, which

- gives each read the patience (``COACHVIEW_PATIENCE``, 5 s): when Coachview has not answered
  by then, the person is answered anyway. The read itself goes on in the background, so a late
  answer still fills the client's cache and the person's *Try again* finds it there;
- turns every :class:`~bot.errors.CoachviewError` and every timeout into
  :class:`~bot.errors.CatalogueUnavailable`, carrying the text the person reads ("I can't load
  the dates right now"); the step machine (``conversations/machine.py``) answers it in one
  place with a *Try again* button, the draft untouched;
- tells the :class:`~bot.outage.OutageTracker` of each failure and success, which alerts staff
  once per outage.

A run a deep link names that Coachview does not know (404, or 400 for an id that is no id) is
not a failure: that error passes through, and the conversation says it does not know the course.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from typing import Any, Protocol, TypeVar

from bot.coachview.models import Opleiding, Opleidingssoort
from bot.errors import CatalogueUnavailable, CoachviewError, CoachviewNotFound, CoachviewRejected
from bot.i18n import N_
from bot.outage import OutageTracker

__all__ = ["CatalogueSource", "GuardedCatalogue"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

COURSES = N_("Sorry, I can't load the courses right now.")
DATES = N_("Sorry, I can't load the dates right now.")
LINKED = N_("Sorry, I can't load the course of your link right now.")


class CatalogueSource(Protocol):
    """What the guard reads from: the Coachview client (cached there)."""

    async def list_opleidingssoorten(self) -> list[Opleidingssoort]: ...

    async def list_opleidingen(self, opleidingssoort_id: str) -> list[Opleiding]: ...

    async def get_opleiding(self, opleiding_id: str) -> Opleiding: ...

    async def find_opleidingssoort(self, key: str) -> Opleidingssoort | None: ...


class GuardedCatalogue:
    """The catalogue reads of the conversation, each bounded by ``patience``.

    Every catalogue read of the conversation goes through here: a read the conversation comes
    to need is added here, with the text a person reads when it fails.
    """

    def __init__(
        self, source: CatalogueSource, *, patience: timedelta, outages: OutageTracker
    ) -> None:
        self.source = source
        self.patience = patience
        self.outages = outages
        self._late: set[asyncio.Future[Any]] = set()

    async def list_opleidingssoorten(self) -> list[Opleidingssoort]:
        return await self._read("course types", COURSES, self.source.list_opleidingssoorten)

    async def list_opleidingen(self, opleidingssoort_id: str) -> list[Opleiding]:
        call = partial(self.source.list_opleidingen, opleidingssoort_id)
        return await self._read(f"runs of {opleidingssoort_id.lower()}", DATES, call)

    async def get_opleiding(self, opleiding_id: str) -> Opleiding:
        call = partial(self.source.get_opleiding, opleiding_id)
        return await self._read(f"run {opleiding_id.lower()}", LINKED, call, unknown=True)

    async def find_opleidingssoort(self, key: str) -> Opleidingssoort | None:
        """A course type by id or code, offered or not (a deep link may name a closed one)."""
        call = partial(self.source.find_opleidingssoort, key)
        return await self._read(f"course type {key.casefold()}", LINKED, call)

    async def _read(
        self, what: str, message: str, call: Callable[[], Awaitable[T]], *, unknown: bool = False
    ) -> T:
        """``call()`` within the patience; ``unknown``: a 404/400 answer passes through."""
        read = asyncio.ensure_future(call())
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns an answer that
            # arrives as the person's update is cancelled, and drops the cancellation.
            async with asyncio.timeout(self.patience.total_seconds()):
                value = await asyncio.shield(read)
        except TimeoutError:
            self._finish_later(what, read)
            seconds = self.patience.total_seconds()
            cause = f"no answer within {seconds:g} s"
            self.outages.failed(what, cause)
            raise CatalogueUnavailable(message, cause=cause) from None
        except asyncio.CancelledError:
            self._finish_later(what, read)  # the person's update was cancelled, not the read
            raise
        except CoachviewError as error:
            if unknown and isinstance(error, CoachviewNotFound | CoachviewRejected):
                self.outages.succeeded(what)  # Coachview answered: it does not know that id
                raise
            cause = str(error)[:300]
            self.outages.failed(what, cause)
            raise CatalogueUnavailable(message, cause=cause) from error
        self.outages.succeeded(what)
        return value

    def _finish_later(self, what: str, read: asyncio.Future[T]) -> None:
        """Let a read that outlived the patience end in the background (its answer fills the
        client's cache); keep a reference to it until then and log how it ended."""
        self._late.add(read)

        def done(future: asyncio.Future[T]) -> None:
            self._late.discard(future)
            if future.cancelled():
                return
            error = future.exception()
            if error is None:
                logger.info("Coachview answered the read of %s after the patience", what)
            else:
                logger.info("the late read of %s failed too: %s", what, type(error).__name__)

        read.add_done_callback(done)
