"""Reading webaanvragen back: by id, number or e-mail address, the newest, and the staff search.

Four query forms here are guesses no live integration has shown to work (filtering on
``referentieNrKlant``, ``<``, dotted filters such as ``contactpersoon.emailadres``, several
``orderby`` keys). Each is used as written until Coachview answers 400 to it; then
:meth:`WebaanvraagLookups.guarded` probes it alone (:meth:`WebaanvraagLookups.probe`) and the
question is asked again with its fallback in confirmed syntax (:mod:`bot.coachview.guesses`).
A filter Coachview silently ignores counts as refused: every answer is checked here too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Final, TypeVar, cast

from bot.coachview.filters import (
    all_of,
    any_of,
    filter_value,
    matches,
    search_readings,
    starts_with,
    value_of,
)
from bot.coachview.guesses import LOCAL_SEARCH_WINDOW, Guess, GuessBook
from bot.coachview.http import CoachviewHttp
from bot.coachview.models import Webaanvraag, WebaanvraagDeelnemer, WebaanvraagOpleiding
from bot.errors import CoachviewRejected

__all__ = ["NEWEST_FIRST", "NEWEST_FIRST_ONE_KEY", "WebaanvraagLookups"]

T = TypeVar("T")

NEWEST_FIRST: Final = "aanvraagDatum desc,nummer desc"
"""The newest first, ties by number [guess: several ``orderby`` keys, comma-separated]."""
NEWEST_FIRST_ONE_KEY: Final = "aanvraagDatum desc"

_PROBE_REFERENCE = "TG-0000000000000000"
_PROBE_EMAIL = "enrollbot-check@example.invalid"


def _newest_first_key(webaanvraag: Webaanvraag) -> tuple[datetime, int, str]:
    """Sorts as :data:`NEWEST_FIRST` does (reversed)."""
    nummer = webaanvraag.nummer
    return (
        webaanvraag.aanvraag_datum or datetime.min.replace(tzinfo=UTC),
        int(nummer) if nummer.isdigit() else 0,
        nummer,
    )


def newest(found: Iterable[Webaanvraag]) -> list[Webaanvraag]:
    """Newest first, as :data:`NEWEST_FIRST` sorts (for pages sorted by one key)."""
    return sorted(found, key=_newest_first_key, reverse=True)


async def _all_of(*calls: Awaitable[T]) -> list[T]:
    """The results of concurrent ``calls``; when some fail, the first failure is raised after
    all have ended (none is left running with its error unread)."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return cast(list[T], results)


class WebaanvraagLookups:
    """The webaanvraag reads of the bot (staff's /lookup, /search and /recent, and the look-up
    after a lost answer), each guess behind its fallback."""

    def __init__(self, http: CoachviewHttp, guesses: GuessBook) -> None:
        self._http = http
        self.guesses = guesses

    async def list_webaanvragen(
        self,
        *,
        where: str | None = None,
        skip: int = 0,
        take: int = 100,
        orderby: str | None = None,
        free_fields: bool = False,
    ) -> list[Webaanvraag]:
        """One page of webaanvragen; ``where``/``orderby`` in Coachview's own syntax;
        ``free_fields`` asks for the ``vrijevelden`` too (``InclusiefVrijeVelden``)."""
        params: dict[str, str | int] = {"skip": skip, "take": take}
        if where:
            params["where"] = where
        if orderby:
            params["orderby"] = orderby
        if free_fields:
            params["InclusiefVrijeVelden"] = "true"
        return await self._http.page("Webaanvragen", Webaanvraag, params, list_key="Webaanvragen")

    async def get_webaanvraag(self, webaanvraag_id: str) -> Webaanvraag:
        """One webaanvraag by its id; :class:`CoachviewNotFound` when there is none."""
        return await self._http.get_one("Webaanvragen", webaanvraag_id, Webaanvraag)

    async def find_webaanvraag_by_nummer(self, nummer: str) -> Webaanvraag | None:
        """The webaanvraag with this ``nummer`` (the number staff see), if there is one."""
        found = await self.list_webaanvragen(where=f"nummer={filter_value(nummer)}", take=1)
        # Checked here too: a Coachview that ignored the filter must not show another one.
        return next((w for w in found if w.nummer.strip() == nummer.strip()), None)

    async def find_webaanvragen_by_email(
        self, emailadres: str, *, take: int = 10
    ) -> list[Webaanvraag]:
        """The newest ``take`` webaanvragen whose contactpersoon has this e-mail address.

        When Coachview refuses dotted filters, the newest :data:`LOCAL_SEARCH_WINDOW` are
        searched here."""
        emailadres = filter_value(emailadres)
        wanted = emailadres.strip().casefold()

        def has_it(webaanvraag: Webaanvraag) -> bool:
            return value_of(webaanvraag, "contactpersoon.emailadres").strip().casefold() == wanted

        async def attempt(usable: frozenset[Guess]) -> list[Webaanvraag]:
            if Guess.DOTTED_FILTER in usable:
                found = await self.list_webaanvragen(
                    where=f"contactpersoon.emailadres={emailadres}",
                    take=take,
                    orderby=self._orderby(usable),
                )
                if all(has_it(w) for w in found):
                    return newest(found)
                # Coachview ignored the filter: its answer is somebody else's.
                self.guesses.refused(Guess.DOTTED_FILTER, ignored=True)
            recent = await self._recent_window(usable)
            return [w for w in recent if has_it(w)][:take]

        return await self.guarded([Guess.DOTTED_FILTER, Guess.SEVERAL_ORDERBY_KEYS], attempt)

    async def recent_webaanvragen(self, *, skip: int = 0, take: int = 10) -> list[Webaanvraag]:
        """The newest webaanvragen first: one page of ``take`` after ``skip``."""

        async def attempt(usable: frozenset[Guess]) -> list[Webaanvraag]:
            found = await self.list_webaanvragen(
                skip=skip, take=take, orderby=self._orderby(usable)
            )
            return newest(found)

        return await self.guarded([Guess.SEVERAL_ORDERBY_KEYS], attempt)

    async def search_webaanvragen(self, text: str, *, take: int = 10) -> list[Webaanvraag]:
        """Up to ``take`` webaanvragen, newest first, whose contactpersoon's name or e-mail
        address, or whose company's name, starts with ``text`` (any case).

        Each reading of ``text`` is one request (:func:`~bot.coachview.filters.search_readings`,
        at most four) and the answers are merged; no request pages through more than the
        ``take`` newest matches. The fallbacks: without ``<`` each reading is ``field>=text``
        sorted by that field (the matches come first) and matched here; without dotted filters
        the newest :data:`LOCAL_SEARCH_WINDOW` webaanvragen are searched here.
        """
        readings = search_readings(text)

        async def attempt(usable: frozenset[Guess]) -> list[Webaanvraag]:
            if Guess.DOTTED_FILTER not in usable:
                recent = await self._recent_window(usable)
                return [w for w in recent if any(matches(w, r) for r in readings)][:take]
            if Guess.LESS_THAN in usable:
                pages = await _all_of(
                    *(
                        self.list_webaanvragen(
                            where=all_of(starts_with(f, p) for f, p in reading),
                            take=take,
                            orderby=self._orderby(usable),
                        )
                        for reading in readings
                    )
                )
            else:
                pages = await _all_of(
                    *(
                        self.list_webaanvragen(
                            where=all_of(f"{f}>={filter_value(p)}" for f, p in reading),
                            take=self._http.page_size,
                            orderby=f"{reading[-1][0]} asc",
                        )
                        for reading in readings
                    )
                )
            # Checked here too: rows of a condition Coachview ignored are not shown.
            found = {
                w.id: w
                for page, reading in zip(pages, readings, strict=True)
                for w in page
                if matches(w, reading)
            }
            return newest(found.values())[:take]

        guesses = [Guess.DOTTED_FILTER, Guess.LESS_THAN, Guess.SEVERAL_ORDERBY_KEYS]
        return await self.guarded(guesses, attempt)

    async def list_webaanvraag_opleidingen(
        self, *webaanvraag_ids: str
    ) -> list[WebaanvraagOpleiding]:
        """The courses the given webaanvragen ask for (one request for all of them)."""
        if not webaanvraag_ids:
            return []
        return await self._http.all_pages(
            "WebaanvraagOpleidingen",
            WebaanvraagOpleiding,
            where=f"webaanvraagId={any_of(webaanvraag_ids)}",
            list_key="WebaanvraagOpleidingen",
        )

    async def list_webaanvraag_deelnemers(self, webaanvraag_id: str) -> list[WebaanvraagDeelnemer]:
        """The participants of a webaanvraag other than the contactpersoon."""
        return await self._http.all_pages(
            "WebaanvraagDeelnemers",
            WebaanvraagDeelnemer,
            where=f"webaanvraagId={filter_value(webaanvraag_id)}",
            list_key="WebaanvraagDeelnemers",
        )

    async def _recent_window(self, usable: frozenset[Guess]) -> list[Webaanvraag]:
        """The newest :data:`LOCAL_SEARCH_WINDOW` webaanvragen, for a search done here."""
        found: list[Webaanvraag] = []
        size, orderby = self._http.page_size, self._orderby(usable)
        for skip in range(0, LOCAL_SEARCH_WINDOW, size):
            take = min(size, LOCAL_SEARCH_WINDOW - skip)
            page = await self.list_webaanvragen(skip=skip, take=take, orderby=orderby)
            found.extend(page)
            if len(page) < take:
                break
        return newest(found)

    @staticmethod
    def _orderby(usable: frozenset[Guess]) -> str:
        return NEWEST_FIRST if Guess.SEVERAL_ORDERBY_KEYS in usable else NEWEST_FIRST_ONE_KEY

    # -- The guesses ---------------------------------------------------------------------------

    async def probe(self, guess: Guess) -> bool:
        """Send ``guess`` alone in the smallest request (``take=1``); remember and return
        whether Coachview accepted it: a filter that matches nothing must give an empty answer
        (else Coachview ignores it, which counts as refused). Errors other than 400 are
        raised, nothing remembered."""
        where, orderby = {
            Guess.REFERENCE_FILTER: (f"referentieNrKlant={_PROBE_REFERENCE}", None),
            Guess.LESS_THAN: ("aanvraagDatum<01-01-2000", None),
            Guess.DOTTED_FILTER: (
                f"contactpersoon.emailadres={_PROBE_EMAIL}",
                "contactpersoon.achternaam asc",
            ),
            Guess.SEVERAL_ORDERBY_KEYS: (None, NEWEST_FIRST),
        }[guess]
        try:
            found = await self.list_webaanvragen(where=where, orderby=orderby, take=1)
        except CoachviewRejected as error:
            if error.status != 400:
                raise
            self.guesses.refused(guess)
            return False
        if where is not None and found:
            # Nothing matches the probe's filter: an answer means Coachview ignored it.
            self.guesses.refused(guess, ignored=True)
            return False
        self.guesses.accepted(guess)
        return True

    async def guarded(
        self, guesses: Iterable[Guess], attempt: Callable[[frozenset[Guess]], Awaitable[T]]
    ) -> T:
        """``attempt(usable)``, where ``usable`` are the ``guesses`` not known to be refused.

        A 400 to it probes each of those guesses that is not known yet (:meth:`probe`, which
        remembers the verdict); when a probe finds one refused, ``attempt`` runs again without
        it. A 400 that no guess explains is raised (Coachview refused the question itself).
        """
        wanted = frozenset(guesses)
        while True:
            usable = frozenset(guess for guess in wanted if self.guesses.usable(guess))
            try:
                result = await attempt(usable)
            except CoachviewRejected as error:
                untried = [guess for guess in usable if self.guesses.state(guess) is None]
                if error.status != 400 or not untried:
                    raise
                verdicts = [await self.probe(guess) for guess in untried]
                if all(verdicts):
                    raise
                continue
            return result
