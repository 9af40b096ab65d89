"""The catalogue as Coachview holds it: course types and their runs, cached.

What a live enrollment site offers, and so what the bot offers [code]: course types
:data:`OFFERED_TYPES`; runs of a type to be started or definite
(:data:`~bot.coachview.models.OPEN_RUN_STATUSES`), starting today or later and published
(``publicatie=true``); course types are also found by ``where=code=`` (as a live connector
does). Every answer is kept for ``catalogue_ttl`` (``CATALOGUE_TTL``) and served stale while
Coachview is unavailable (:mod:`bot.coachview.cache`). The conversation reads it through
:class:`bot.catalogue.GuardedCatalogue`, which bounds each read by the person's patience.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import partial
from typing import Final

from bot.clock import Clock
from bot.coachview.cache import TtlCache
from bot.coachview.filters import all_of, any_of, filter_value
from bot.coachview.http import CoachviewHttp
from bot.coachview.keys import is_course_code
from bot.coachview.models import (
    OPEN_RUN_STATUSES,
    Opleiding,
    Opleidingssoort,
    format_filter_date,
)
from bot.errors import CoachviewNotFound

__all__ = ["OFFERED_TYPES", "Catalogue"]

OFFERED_TYPES: Final = "publicatieWebsite=true;inactief=false"
"""The ``where`` of the course types people may choose, as live enrollment sites send it."""


def _is_guid(value: str) -> bool:
    """Whether ``value`` reads as a GUID (Coachview's ids are GUIDs)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class Catalogue:
    """Course types and runs, from the cache while it is fresh."""

    def __init__(self, http: CoachviewHttp, *, ttl: timedelta, clock: Clock) -> None:
        self._http = http
        self._clock = clock
        self._soorten: TtlCache[list[Opleidingssoort]] = TtlCache("course types", ttl, clock)
        self._runs: TtlCache[list[Opleiding]] = TtlCache("course runs", ttl, clock)
        # Runs looked up by id (a deep link names one) that no cached list held.
        self._run: TtlCache[Opleiding] = TtlCache("course run", ttl, clock)
        # Course types looked up by id or code whether offered or not ([] when unknown).
        self._soort: TtlCache[list[Opleidingssoort]] = TtlCache("course type", ttl, clock)

    async def aclose(self) -> None:
        """Stop the shared requests still running."""
        for cache in (self._soorten, self._runs, self._run, self._soort):
            await cache.aclose()

    async def list_opleidingssoorten(self) -> list[Opleidingssoort]:
        """The course types people may choose, from the cache while it is fresh.

        Coachview selects them (:data:`OFFERED_TYPES`, as live enrollment sites ask); the
        local :attr:`Opleidingssoort.offered` check is the second line (it also reads
        ``opleidingssoortStatusId``).
        """
        soorten = await self._soorten.get(
            "offered",
            partial(
                self._http.all_pages,
                "Opleidingssoorten",
                Opleidingssoort,
                where=OFFERED_TYPES,
                list_key="Opleidingssoorten",
            ),
        )
        return [s for s in soorten if s.offered]

    async def find_opleidingssoort(self, key: str) -> Opleidingssoort | None:
        """The course type whose id or code is ``key``, offered or not; ``None`` when
        Coachview has none (a deep link may name a course type that is closed).

        A GUID is looked up by id, anything else by ``where=code=`` (as a live connector
        does); the answer, found or not, is cached like the catalogue.
        """
        key = key.strip()
        for soorten in self._soorten.fresh_values():
            for soort in soorten:
                if key.casefold() in (soort.id.casefold(), soort.code.casefold()):
                    return soort
        found = await self._soort.get(key.casefold(), partial(self._fetch_soort, key))
        return found[0] if found else None

    async def _fetch_soort(self, key: str) -> list[Opleidingssoort]:
        if _is_guid(key):
            try:
                return [await self.get_opleidingssoort(key)]
            except CoachviewNotFound:
                return []
        if not is_course_code(key):
            return []  # no course has such a code: nothing to ask
        return await self._http.all_pages(
            "Opleidingssoorten",
            Opleidingssoort,
            where=f"code={key}",
            list_key="Opleidingssoorten:code",
        )

    async def get_opleidingssoort(self, opleidingssoort_id: str) -> Opleidingssoort:
        """One course type: from the cache when it is there, else one ``GET``."""
        for soorten in self._soorten.fresh_values():
            for soort in soorten:
                if soort.id.lower() == opleidingssoort_id.lower():
                    return soort
        return await self._http.get_one("Opleidingssoorten", opleidingssoort_id, Opleidingssoort)

    async def list_opleidingen(self, opleidingssoort_id: str) -> list[Opleiding]:
        """The runs of a course type that take web enrollments, earliest first, all pages,
        from the cache while it is fresh.

        Coachview selects them as live enrollment sites ask (see the module docstring). Full
        runs, and runs whose enrollment deadline has passed, are included: see
        :meth:`Opleiding.open_for_enrollment`.
        """
        where = all_of(
            [
                f"opleidingssoortId={filter_value(opleidingssoort_id)}",
                f"opleidingStatusId={any_of(OPEN_RUN_STATUSES)}",
                f"startDatum>={format_filter_date(self._clock.now())}",
                "publicatie=true",
            ]
        )
        return list(
            await self._runs.get(
                opleidingssoort_id.lower(),
                partial(
                    self._http.all_pages,
                    "Opleidingen",
                    Opleiding,
                    where=where,
                    orderby="startDatum asc",
                    list_key=f"Opleidingen:{opleidingssoort_id.lower()}",
                ),
            )
        )

    async def get_opleiding(self, opleiding_id: str) -> Opleiding:
        """One course run: from the cache when it is there, else one ``GET`` (then cached
        like the lists, and shared by concurrent callers: a deep link that many people follow
        at once costs one request)."""
        for runs in self._runs.fresh_values():
            for run in runs:
                if run.id.lower() == opleiding_id.lower():
                    return run
        return await self._run.get(
            opleiding_id.lower(),
            partial(self._http.get_one, "Opleidingen", opleiding_id, Opleiding),
        )
