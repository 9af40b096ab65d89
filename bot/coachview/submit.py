"""Sending a webaanvraag, and finding it again by the bot's reference after a lost answer.

``POST Webaanvragen`` answers 201 with the new webaanvraag's ``nummer`` [code] (and its ``id``
[guess], which :class:`~bot.coachview.models.CreatedWebaanvraag` does not need). The look-up by
reference (:mod:`bot.coachview.reference` tells why it exists) reads the webaanvragen received
since the day before the enrollment was confirmed, newest first, in confirmed syntax only, and
matches the reference here; only when the reference travels in ``referentieNrKlant`` is the
direct filter tried first (a guess, behind its fallback: :mod:`bot.coachview.lookups`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from bot.coachview.budget import body_of
from bot.coachview.filters import filter_value
from bot.coachview.guesses import Guess
from bot.coachview.http import API_PREFIX, MAX_PAGES, CoachviewHttp
from bot.coachview.lookups import NEWEST_FIRST_ONE_KEY, WebaanvraagLookups
from bot.coachview.models import CreatedWebaanvraag, Webaanvraag, format_filter_date
from bot.coachview.reference import carries_reference, check_reference_field
from bot.errors import CoachviewError

__all__ = ["Submissions"]

logger = logging.getLogger(__name__)

REFERENCE_SCAN_PAGES: Final = 3
"""Pages of the newest webaanvragen a look-up by reference reads when it has no start date."""


class Submissions:
    """``POST Webaanvragen`` and the look-up by the bot's reference."""

    def __init__(
        self, http: CoachviewHttp, lookups: WebaanvraagLookups, *, reference_field: str
    ) -> None:
        self._http = http
        self._lookups = lookups
        self.reference_field = check_reference_field(reference_field)

    async def create_webaanvraag(self, payload: Mapping[str, Any]) -> CreatedWebaanvraag:
        """``POST Webaanvragen``; on 201 the new webaanvraag's ``nummer`` (and ``id``).

        An answer that cannot be read raises :class:`CoachviewError` with ``maybe_processed``:
        Coachview did store the webaanvraag.
        """
        path = f"{API_PREFIX}/Webaanvragen"
        response = await self._http.call("POST", path, json=dict(payload))
        try:
            created = CreatedWebaanvraag.model_validate(response.json())
        except ValueError as err:
            raise CoachviewError(
                f"Coachview answered POST {path} with {response.status_code} "
                "but no readable webaanvraag number",
                status=response.status_code,
                body=body_of(response),
                maybe_processed=True,
            ) from err
        logger.info("Coachview stored webaanvraag nummer %s", created.nummer)
        return created

    async def find_webaanvraag_by_reference(
        self, reference: str, *, since: datetime | None = None
    ) -> Webaanvraag | None:
        """The webaanvraag that carries the bot's ``reference`` (where
        :attr:`reference_field` says), if Coachview has it.

        With ``referentieNrKlant`` the direct filter is tried first. Otherwise, or when
        Coachview refuses that filter, the webaanvragen received since the day before ``since``
        (the moment the enrollment was confirmed) are read newest first and matched here;
        without ``since``, the newest few hundred.
        """
        reference = filter_value(reference)
        if self.reference_field != "referentieNrKlant":
            return await self._scan(reference, since)

        async def attempt(usable: frozenset[Guess]) -> Webaanvraag | None:
            if Guess.REFERENCE_FILTER not in usable:
                return await self._scan(reference, since)
            found = await self._lookups.list_webaanvragen(
                where=f"referentieNrKlant={reference}", take=2
            )
            if any(not carries_reference(w, "referentieNrKlant", reference) for w in found):
                # Coachview ignored the filter: trusting it could post an enrollment twice.
                self._lookups.guesses.refused(Guess.REFERENCE_FILTER, ignored=True)
                return await self._scan(reference, since)
            return found[0] if found else None

        return await self._lookups.guarded([Guess.REFERENCE_FILTER], attempt)

    async def _scan(self, reference: str, since: datetime | None) -> Webaanvraag | None:
        """Read webaanvragen newest first (one ``orderby`` key, ``>=`` on the date: confirmed
        syntax only) until one carries ``reference``."""
        where = None
        if since is not None:
            where = f"aanvraagDatum>={format_filter_date(since - timedelta(days=1))}"
        pages = MAX_PAGES if since is not None else REFERENCE_SCAN_PAGES
        size = self._http.page_size
        for page_number in range(pages):
            page = await self._lookups.list_webaanvragen(
                where=where,
                skip=page_number * size,
                take=size,
                orderby=NEWEST_FIRST_ONE_KEY,
                free_fields=self.reference_field.startswith("vrijevelden."),
            )
            for webaanvraag in page:
                if carries_reference(webaanvraag, self.reference_field, reference):
                    return webaanvraag
            if len(page) < size:
                return None
        return None
