"""Asking Coachview for staff: one webaanvraag (by id, number, reference or e-mail), the
newest ones, a search; each answer shown by :mod:`bot.staff.cards`, each failure as a message
that says what is wrong (:func:`trouble`)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Sequence
from typing import Final, TypeVar

from telegram import Message

from bot.callbacks import recent_page_data, search_page_data, search_text_room
from bot.coachview.client import ENDPOINT_SCOPES, CoachviewClient
from bot.coachview.models import Webaanvraag, WebaanvraagOpleiding
from bot.coachview.reference import REFERENCE_PREFIX
from bot.errors import (
    CoachviewAuthError,
    CoachviewError,
    CoachviewForbidden,
    CoachviewNotFound,
    CoachviewRateLimited,
    CoachviewRejected,
    CoachviewUnavailable,
)
from bot.i18n import Translator, esc
from bot.services import BotContext
from bot.staff.cards import list_markup, list_text, lookup_text, send

__all__ = ["lookup", "lookup_key", "recent", "search", "search_text", "trouble"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

PAGE_SIZE: Final = 5
SEARCH_MAX: Final = 50
"""The most results of one search that paging reaches (narrow the search for the rest)."""


def lookup_key(text: str) -> tuple[str, str] | None:
    """What a /lookup argument is: ``("id" | "nummer" | "reference" | "email", value)``."""
    text = text.strip().removeprefix("#")
    try:
        return "id", str(uuid.UUID(text))
    except ValueError:
        pass
    if text.isascii() and text.isdigit():  # "١٢٣" is digits too, but no Coachview number
        return "nummer", text
    if text.upper().startswith(REFERENCE_PREFIX) and text[len(REFERENCE_PREFIX) :].isalnum():
        return "reference", text.upper()
    if "@" in text and not any(char in text for char in " ,;"):
        return "email", text
    return None


async def lookup(context: BotContext, chat_id: int, t: Translator, text: str) -> None:
    key = lookup_key(text)
    if key is None:
        hint = t._(
            "/lookup finds an enrollment by its number, id or e-mail address. To find one by "
            "name or company, use /search {text}."
        )
        await send(context.bot, chat_id, esc(hint).format(text=esc(text)))
        return
    kind, value = key
    client = context.services.coachview
    try:
        if kind == "email":
            found = await client.find_webaanvragen_by_email(value, take=2)
            if len(found) > 1:
                await search(context, chat_id, t, value, page=0)
                return
            webaanvraag = found[0] if found else None
        elif kind == "nummer":
            webaanvraag = await client.find_webaanvraag_by_nummer(value)
        elif kind == "reference":
            webaanvraag = await client.find_webaanvraag_by_reference(value)
        else:
            webaanvraag = await client.get_webaanvraag(value)
        if webaanvraag is None:
            raise CoachviewNotFound(f"no webaanvraag for this {kind}")
    except CoachviewNotFound:
        not_found = esc(t._("No enrollment found for {what}.")).format(what=esc(value))
        if kind == "email" and client.search_window:
            not_found += "\n" + esc(_window_note(t, client.search_window))
        await send(context.bot, chat_id, not_found)
        return
    except CoachviewError as error:
        await send(context.bot, chat_id, esc(trouble(t, error, "lookup")))
        return
    try:
        courses, others = await asyncio.gather(
            _optional(client.list_webaanvraag_opleidingen(webaanvraag.id)),
            _optional(client.list_webaanvraag_deelnemers(webaanvraag.id)),
        )
        opleidingen = courses if isinstance(courses, list) else []
        deelnemers = others if isinstance(others, list) else []
        await _fill_course_names(client, opleidingen)
    except CoachviewError as error:
        await send(context.bot, chat_id, esc(trouble(t, error, "lookup")))
        return
    missing = [
        _missing_note(t, what, endpoint, error)
        for what, endpoint, error in (
            ("courses", "WebaanvraagOpleidingen", courses),
            ("participants", "WebaanvraagDeelnemers", others),
        )
        if isinstance(error, CoachviewError)
    ]
    text = lookup_text(t, webaanvraag, opleidingen, deelnemers)
    if missing:
        text += "\n\n" + "\n".join(esc(note) for note in missing)
    await send(context.bot, chat_id, text)


async def _optional(call: Awaitable[T]) -> T | CoachviewNotFound | CoachviewForbidden:
    """What a webaanvraag sub-endpoint gave, or its 404/403 (it is not verified that Coachview
    offers it, or that the API client may read it); other failures are raised."""
    try:
        return await call
    except (CoachviewNotFound, CoachviewForbidden) as error:
        logger.warning("staff lookup: a webaanvraag sub-endpoint failed (%s)", error)
        return error


def _missing_note(t: Translator, what: str, endpoint: str, error: CoachviewError) -> str:
    """What staff read when Coachview did not give a webaanvraag's courses or participants."""
    if isinstance(error, CoachviewForbidden):
        why = t._("the bot's API client lacks the scope {scope}").format(
            scope=ENDPOINT_SCOPES[("GET", endpoint)]
        )
    else:
        why = t._("this Coachview does not offer {endpoint}").format(endpoint=endpoint)
    if what == "courses":
        return t._("⚠️ Could not load the courses from Coachview: {why}.").format(why=why)
    return t._("⚠️ Could not load the other participants from Coachview: {why}.").format(why=why)


def _window_note(t: Translator, count: int) -> str:
    return t._(
        "Coachview cannot search these fields, so I looked through the newest {count} "
        "enrollments only."
    ).format(count=t.number(count))


async def _fill_course_names(
    client: CoachviewClient, opleidingen: Sequence[WebaanvraagOpleiding]
) -> None:
    """Names Coachview left out of a WebaanvraagOpleiding, from the cached catalogue (a GET
    only for a course no longer in the cache); a failure leaves the name out."""
    for row in opleidingen:
        try:
            if row.opleiding_id and not row.opleiding_naam:
                run = await client.get_opleiding(row.opleiding_id)
                row.opleiding_naam, row.opleiding_code = run.naam, run.code
                row.start_datum, row.eind_datum = run.start_datum, run.eind_datum
            if row.opleidingssoort_id and not row.opleidingssoort_naam:
                soort = await client.get_opleidingssoort(row.opleidingssoort_id)
                row.opleidingssoort_naam = soort.naam
        except CoachviewError as error:
            logger.info("course name not found for a lookup (%s)", type(error).__name__)


async def recent(
    context: BotContext,
    chat_id: int,
    t: Translator,
    count: int,
    *,
    page: int,
    edit: Message | None = None,
) -> None:
    client = context.services.coachview
    skip = page * PAGE_SIZE
    want = min(PAGE_SIZE, count - skip)
    if want <= 0:
        return
    try:
        # One more than shown, when the count allows more: whether there is a next page.
        fetched = await client.recent_webaanvragen(
            skip=skip, take=want + 1 if skip + want < count else want
        )
        items = fetched[:want]
        courses, missing = await _courses_of(t, client, items)
    except CoachviewError as error:
        await send(context.bot, chat_id, esc(trouble(t, error, "recent")), edit=edit)
        return
    if not items:
        await send(context.bot, chat_id, esc(t._("There are no enrollments yet.")), edit=edit)
        return
    title = esc(t._("🕑 The latest enrollments, {first}–{last}")).format(
        first=t.number(skip + 1), last=t.number(skip + len(items))
    )
    pages = (
        recent_page_data(count, page - 1) if page > 0 else None,
        recent_page_data(count, page + 1) if len(fetched) > want else None,
    )
    text = list_text(t, title, items, courses)
    if missing:
        text += "\n\n" + esc(missing)
    await send(context.bot, chat_id, text, markup=list_markup(items, *pages), edit=edit)


async def search(
    context: BotContext,
    chat_id: int,
    t: Translator,
    text: str,
    *,
    page: int,
    edit: Message | None = None,
) -> None:
    client = context.services.coachview
    skip = page * PAGE_SIZE
    text = search_text(text)
    try:
        found = await client.search_webaanvragen(text, take=min(SEARCH_MAX, skip + PAGE_SIZE + 1))
        items = found[skip : skip + PAGE_SIZE]
        courses, missing = await _courses_of(t, client, items)
    except CoachviewError as error:
        await send(context.bot, chat_id, esc(trouble(t, error, "search")), edit=edit)
        return
    window = client.search_window
    if not items:
        none = esc(t._("No enrollment matches “{text}”.")).format(text=esc(text))
        if window:
            none += "\n" + esc(_window_note(t, window))
        await send(context.bot, chat_id, none, edit=edit)
        return
    title = esc(t._("🔎 Enrollments matching “{text}”, {first}–{last}")).format(
        text=esc(text), first=t.number(skip + 1), last=t.number(skip + len(items))
    )
    pages = (
        search_page_data(page - 1, text) if page > 0 else None,
        search_page_data(page + 1, text) if len(found) > skip + PAGE_SIZE else None,
    )
    lines = list_text(t, title, items, courses)
    if len(found) == SEARCH_MAX and skip + PAGE_SIZE >= SEARCH_MAX:
        lines += "\n\n" + esc(
            t._("These are the {count} newest matches; add more words to narrow the search.")
        ).format(count=SEARCH_MAX)
    notes = [note for note in (_window_note(t, window) if window else "", missing) if note]
    if notes:
        lines += "\n\n" + "\n".join(esc(note) for note in notes)
    await send(context.bot, chat_id, lines, markup=list_markup(items, *pages), edit=edit)


async def _courses_of(
    t: Translator, client: CoachviewClient, items: Sequence[Webaanvraag]
) -> tuple[dict[str, list[WebaanvraagOpleiding]], str]:
    """The courses of a page of webaanvragen, in one request; and what staff read when
    Coachview did not give them (else ``""``)."""
    courses: dict[str, list[WebaanvraagOpleiding]] = {item.id: [] for item in items}
    rows = await _optional(client.list_webaanvraag_opleidingen(*courses))
    if isinstance(rows, CoachviewError):
        return courses, _missing_note(t, "courses", "WebaanvraagOpleidingen", rows)
    for row in rows:
        courses.setdefault(row.webaanvraag_id, []).append(row)
    return courses, ""


def search_text(text: str) -> str:
    """The search text as Coachview's filter can take it (up to the first ``,`` or ``;``) and
    a page button can carry it (cut to Telegram's 64 bytes of callback data)."""
    for separator in ",;":
        text = text.split(separator, 1)[0]
    room = search_text_room(SEARCH_MAX // PAGE_SIZE)
    return " ".join(text.split()).encode()[:room].decode(errors="ignore").strip()


def trouble(t: Translator, error: CoachviewError, what: str) -> str:
    """What staff read when Coachview failed (and a log line without personal data)."""
    logger.warning("staff %s: Coachview failed (%s): %s", what, type(error).__name__, error)
    if isinstance(error, CoachviewRateLimited):
        if error.reset_at is None:
            return t._("Coachview's daily request limit is used up. Please try again later.")
        return t._("Coachview's daily request limit is used up. It resets at {time}.").format(
            time=t.datetime(error.reset_at, "d MMM y, HH:mm")
        )
    if isinstance(error, CoachviewUnavailable):
        return t._("Coachview cannot be reached right now. Please try again in a few minutes.")
    if isinstance(error, CoachviewForbidden):
        return t._(
            "Coachview does not let the bot read enrollments: its API client lacks the "
            "permission (scope) for it. Ask your Coachview administrator to add it."
        )
    if isinstance(error, CoachviewAuthError):
        return t._(
            "Coachview refused the bot's credentials. Check COACHVIEW_CLIENT_ID and "
            "COACHVIEW_CLIENT_SECRET."
        )
    if isinstance(error, CoachviewRejected):
        return t._("Coachview could not handle that search. Please try other words.")
    return t._("Coachview gave an answer I cannot read. Please try again later.")
