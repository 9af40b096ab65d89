"""The query forms the client uses that no live integration has shown to work, and what it
does instead when Coachview refuses one.

Each :class:`Guess` is tried as written until Coachview answers 400 to it; then the client
switches to its fallback (:data:`FALLBACKS`, built from confirmed syntax only: ``where`` with
``=`` and ``>=``, one ``orderby`` key, ``skip``/``take``), remembers that for the rest of the
process, and logs one warning naming both. A 400 to a request that combines guesses is not
blamed on any of them blindly: each untried guess in it is probed with a request of its own
(:meth:`bot.coachview.lookups.WebaanvraagLookups.probe`), and only the refused ones are replaced.
``enrollbot check`` runs the same probes before go-live.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = ["FALLBACKS", "LOCAL_SEARCH_WINDOW", "Guess", "GuessBook", "GuessInfo"]

logger = logging.getLogger(__name__)


LOCAL_SEARCH_WINDOW: Final = 200
"""How many of the newest webaanvragen a search looks through when Coachview refuses dotted
filters (two pages)."""


class Guess(StrEnum):
    """A query form no live integration has shown to work."""

    REFERENCE_FILTER = "reference filter"
    LESS_THAN = "< operator"
    DOTTED_FILTER = "dotted filters"
    SEVERAL_ORDERBY_KEYS = "several orderby keys"


@dataclass(frozen=True)
class GuessInfo:
    """How a guess looks on the wire, and what replaces it when Coachview refuses it."""

    form: str
    fallback: str


FALLBACKS: Final[dict[Guess, GuessInfo]] = {
    Guess.REFERENCE_FILTER: GuessInfo(
        "where=referentieNrKlant=<reference>",
        "the webaanvragen received since the enrollment (aanvraagDatum>=), matched by the bot",
    ),
    Guess.LESS_THAN: GuessInfo(
        "where=<field>>=<text>;<field><<text+1> (starts with)",
        "where=<field>>=<text> sorted by that field, matched by the bot",
    ),
    Guess.DOTTED_FILTER: GuessInfo(
        "where=contactpersoon.emailadres=<address> (a nested field)",
        f"the newest {LOCAL_SEARCH_WINDOW} webaanvragen, searched by the bot",
    ),
    Guess.SEVERAL_ORDERBY_KEYS: GuessInfo(
        "orderby=aanvraagDatum desc,nummer desc",
        "orderby=aanvraagDatum desc, ties sorted by the bot",
    ),
}


class GuessBook:
    """What Coachview said to each guess: ``None`` not yet known, ``True`` accepted,
    ``False`` refused (then the fallback is used, and that was logged once)."""

    def __init__(self) -> None:
        self._states: dict[Guess, bool] = {}

    def state(self, guess: Guess) -> bool | None:
        return self._states.get(guess)

    def usable(self, guess: Guess) -> bool:
        """Whether to send the guessed form (it is not known to be refused)."""
        return self._states.get(guess) is not False

    def accepted(self, guess: Guess) -> None:
        self._states.setdefault(guess, True)

    def refused(self, guess: Guess, *, ignored: bool = False) -> None:
        """Coachview answered 400 to ``guess`` (or, ``ignored``, answered as if the filter
        were not there): use the fallback from now on, and say so once."""
        if self._states.get(guess) is False:
            return
        self._states[guess] = False
        info = FALLBACKS[guess]
        logger.warning(
            "Coachview %s %s (%s); using instead: %s",
            "ignores" if ignored else "refuses",
            guess.value,
            info.form,
            info.fallback,
        )
