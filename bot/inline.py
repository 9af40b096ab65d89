"""Anyone shares a course: inline mode (``@bot excel`` in any chat).

The results are the open courses whose name or code contains the words typed (all of them for an
empty query), by name, among the first 50 that match (Telegram's most results); each shows its
next dates, free places and place (when Coachview names one) in the description. Choosing one
posts a short card with an *Enroll* button: the course's ``t.me`` deep link
(:func:`bot.links.deep_link`), which opens the bot at that course's dates.

Nothing here asks Coachview per keystroke: the catalogue comes from the client's cache
(``CATALOGUE_TTL``), and the results of each query are kept for :data:`RESULTS_TTL` per
language; Telegram keeps them for as long per person (``cache_time``, ``is_personal``: the
texts are in the person's language), so the same query typed again does not even reach the
bot. When Coachview cannot be reached and nothing is cached, the person sees no results and a
button into the bot; the failure is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, cast

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.ext import Application, ChosenInlineResultHandler, InlineQueryHandler

from bot import courses
from bot.coachview.locations import run_location
from bot.coachview.models import Opleiding, Opleidingssoort
from bot.errors import CoachviewError
from bot.i18n import Translator, esc, translator
from bot.links import deep_link
from bot.services import BotContext, Services
from bot.telegram.limits import INLINE_RESULTS_MAX

__all__ = ["RESULTS_TTL", "InlineResults", "register"]

logger = logging.getLogger(__name__)

RESULTS_TTL: Final = timedelta(seconds=60)
"""How long the results of one query are kept, here and in Telegram's cache."""
RESULTS_KEPT: Final = 1000
"""Queries whose results are kept at most (the oldest go first)."""
DATES_SHOWN: Final = 3


@dataclass(frozen=True)
class _Kept:
    results: list[InlineQueryResultArticle]
    until: datetime


class InlineResults:
    """The results of inline queries, built from the cached catalogue and kept briefly."""

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[str, str], _Kept] = OrderedDict()

    async def results(
        self, services: Services, t: Translator, query: str, bot_username: str
    ) -> list[InlineQueryResultArticle]:
        """The results for ``query`` in ``t``'s language (may raise CoachviewError)."""
        now = services.clock.now()
        words = query.casefold().split()
        key = (t.language, " ".join(words))
        kept = self._kept.get(key)
        if kept is not None and now < kept.until:
            return kept.results
        catalogue = services.coachview
        matching = [
            kind
            for kind in await courses.course_types(catalogue)
            if all(word in f"{kind.naam} {kind.code}".casefold() for word in words)
        ][:INLINE_RESULTS_MAX]
        # The dates of each course type (cached; on a cold cache fetched side by side, so the
        # answer comes within Telegram's time for it).
        dates = await asyncio.gather(
            *(courses.runs_of(catalogue, kind.id, now=now) for kind in matching)
        )
        results = [
            _article(t, kind, runs, bot_username)
            for kind, runs in zip(matching, dates, strict=True)
            if runs
        ]
        self._kept[key] = _Kept(results, now + RESULTS_TTL)
        self._kept.move_to_end(key)
        while len(self._kept) > RESULTS_KEPT:
            self._kept.popitem(last=False)
        return results


def _dates(t: Translator, runs: list[Opleiding]) -> str:
    shown = []
    for run in runs[:DATES_SHOWN]:
        when = t.date(run.start_datum, "d MMM") if run.start_datum else t._("date to be set")
        place = run_location(run)
        details = [place] if place else []
        if run.aantal_plaatsen_vrij is not None:
            details.append(
                t.ngettext("{count} place", "{count} places", run.aantal_plaatsen_vrij).format(
                    count=t.number(run.aantal_plaatsen_vrij)
                )
            )
        shown.append(f"{when} ({', '.join(details)})" if details else when)
    more = len(runs) - len(shown)
    text = ", ".join(shown)
    if more > 0:
        text += " " + t.ngettext("+{count} more", "+{count} more", more).format(count=more)
    return text


def _article(
    t: Translator, kind: Opleidingssoort, runs: list[Opleiding], bot_username: str
) -> InlineQueryResultArticle:
    dates = _dates(t, runs)
    link = deep_link(bot_username, kind.id)
    card = "\n".join(
        [
            f"📚 <b>{esc(kind.naam)}</b>",
            esc(t._("Dates: {dates}").format(dates=dates)),
            "",
            esc(t._("Enroll in a private chat with the bot: it takes about two minutes.")),
        ]
    )
    button = InlineKeyboardButton(t._("✍️ Enroll"), url=link)
    return InlineQueryResultArticle(
        id=kind.id,
        title=kind.naam,
        description=f"{kind.code} · {dates}",
        input_message_content=InputTextMessageContent(card, parse_mode=ParseMode.HTML),
        reply_markup=InlineKeyboardMarkup([[button]]),
    )


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Answer inline queries and note which course was shared."""
    kept = InlineResults()

    async def on_inline_query(update: Update, context: BotContext) -> None:
        """``@bot text``: the open courses that match, in the person's language."""
        query = cast(InlineQuery, update.inline_query)
        user = cast(User, update.effective_user)
        services = context.services
        t = translator(services.language_of(user.id, user.language_code))
        try:
            results = await kept.results(services, t, query.query, context.bot.username)
        except CoachviewError as error:
            logger.warning("inline query: catalogue unavailable (%s)", type(error).__name__)
            await query.answer([], cache_time=0, is_personal=True)
            return
        await query.answer(results, cache_time=int(RESULTS_TTL.total_seconds()), is_personal=True)

    application.add_handler(InlineQueryHandler(on_inline_query))
    application.add_handler(ChosenInlineResultHandler(on_chosen))


async def on_chosen(update: Update, context: BotContext) -> None:
    """A course card was posted somewhere (needs inline feedback switched on at BotFather)."""
    del context
    chosen = update.chosen_inline_result
    if chosen is not None:
        logger.info("a course was shared inline: %s", chosen.result_id)
