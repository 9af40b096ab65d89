"""Staff commands: webaanvragen looked up in Coachview, from the chat.

::

    /lookup <nummer | id | e-mail | TG-reference>   one webaanvraag, all Coachview holds of it
    /recent [n]                                     the n newest (10, at most 50), paged
    /search <text>                                  by contact name, e-mail or company, paged

Only the Telegram users of ``STAFF_USER_IDS`` have them. For anyone else they do not exist: the
handlers' filter lets the update fall through to the unknown-command answer, a staff button
answers like any outdated button, and nothing reaches Coachview. Staff see the commands in
their menu: in their private chat with the bot and, when ``STAFF_CHAT_ID`` is a group, in their
own menu there (per-chat command scopes, set at start and again at a staff member's first
update, for whom the bot could not set it yet).

Buttons carry ``s:o:<id or nummer>`` (open a lookup; the staff notice of a new enrollment has
one), ``s:r:<n>:<page>`` (a page of /recent) and ``s:f:<page>:<text>`` (a page of /search: the
search text travels in the button, cut to Telegram's 64 bytes, which still finds everything
the full text finds). Pages are edited in place; a lookup is a new message, split at line ends
when it is longer than a Telegram message. Everything is in the staff member's language, dates
and counts formatted with Babel, every value from Coachview escaped. A failing Coachview
becomes a message that says what is wrong (:func:`trouble`). When Coachview does not give a
webaanvraag's courses or participants (``WebaanvraagOpleidingen`` / ``WebaanvraagDeelnemers``
missing, or a scope lacking), the answer shows what ``GET Webaanvragen`` gave and says what it
could not load; a search that Coachview cannot filter says it looked through the newest only.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar, cast

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeChatMember,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, TypeHandler, filters

from bot.budgets import STAFF_SPENT
from bot.callbacks import (
    STAFF_FIND,
    STAFF_OPEN,
    STAFF_RECENT,
    on_stale_button,
    open_button_data,
)
from bot.coachview.client import ENDPOINT_SCOPES, CoachviewClient
from bot.coachview.models import (
    Bedrijf,
    Debiteur,
    Persoon,
    Webaanvraag,
    WebaanvraagDeelnemer,
    WebaanvraagOpleiding,
)
from bot.config import Settings
from bot.errors import (
    CoachviewAuthError,
    CoachviewError,
    CoachviewForbidden,
    CoachviewNotFound,
    CoachviewRateLimited,
    CoachviewRejected,
    CoachviewUnavailable,
)
from bot.i18n import LANGUAGES, N_, Translator, esc, translator
from bot.menu import COMMANDS as EVERYONES_COMMANDS
from bot.services import BotContext, Services
from bot.telegram.limits import CALLBACK_DATA_MAX_BYTES, MESSAGE_TEXT_MAX
from bot.workers.submission import REFERENCE_PREFIX

__all__ = [
    "COMMANDS",
    "lookup_text",
    "pressed_by_staff",
    "register",
    "set_commands",
    "split_text",
    "staff_only",
    "trouble",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: The staff commands, with their (translatable) descriptions for the menu.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("lookup", N_("Look up an enrollment by number, id or e-mail")),
    ("recent", N_("The latest enrollments")),
    ("search", N_("Find enrollments by name, e-mail or company")),
    ("link", N_("Share a course: its link and QR code")),  # bot/links.py
)

PAGE_SIZE: Final = 5
RECENT_DEFAULT: Final = 10
RECENT_MAX: Final = 50
SEARCH_MAX: Final = 50
"""The most results of one search that paging reaches (narrow the search for the rest)."""

_MENU_SET: Final = "staff_menu_set"
_LONGEST_WAIT = 60.0  # seconds of Telegram's flood control a reply waits out before giving up


# -- Wiring -------------------------------------------------------------------------------------


def staff_only(settings: Settings) -> filters.User:
    """The staff gate: a handler filter that passes only the users of ``STAFF_USER_IDS``."""
    return filters.User(user_id=settings.staff_user_ids)


async def pressed_by_staff(update: Update, context: BotContext) -> bool:
    """The staff gate for buttons: a press by staff is answered and ``True``; anyone else's
    is answered as an outdated button (nothing else happens) and ``False``."""
    query = cast(CallbackQuery, update.callback_query)
    user = cast(User, update.effective_user)
    if user.id not in context.services.settings.staff_user_ids:
        await on_stale_button(update, context)
        return False
    await query.answer()
    return True


def register(application: Application[Any, Any, Any, Any, Any, Any], settings: Settings) -> None:
    """Add the staff handlers; before the enrollment's, which answer unknown commands."""
    if not settings.staff_user_ids:
        return
    staff = staff_only(settings)
    application.add_handler(TypeHandler(Update, _menu_on_first_update), group=-1)
    application.add_handler(CommandHandler("lookup", on_lookup, filters=staff))
    application.add_handler(CommandHandler("recent", on_recent, filters=staff))
    application.add_handler(CommandHandler("search", on_search, filters=staff))
    application.add_handler(CallbackQueryHandler(on_button, pattern=r"^s:"))


async def set_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Give every staff member the staff commands in their menu (as far as Telegram lets us)."""
    services: Services | None = application.bot_data.services
    if services is None:
        return
    for user_id in sorted(services.settings.staff_user_ids):
        await _set_menu(application.bot, services.settings, user_id)


async def _set_menu(bot: Bot, settings: Settings, user_id: int) -> bool:
    """The menu of one staff member: all commands in their private chat with the bot, and the
    staff commands in the staff group. ``False`` when Telegram refused (they never wrote to the
    bot, or are not in the group)."""
    try:
        for language in LANGUAGES:
            t = translator(language)
            code = None if language == "nl" else language
            staff = [BotCommand(name, t._(text)) for name, text in COMMANDS]
            everyone = [BotCommand(name, t._(text)) for name, text in EVERYONES_COMMANDS]
            await bot.set_my_commands(
                everyone + staff, scope=BotCommandScopeChat(user_id), language_code=code
            )
            chat = settings.staff_chat_id
            if chat is not None and chat < 0:
                await bot.set_my_commands(
                    staff, scope=BotCommandScopeChatMember(chat, user_id), language_code=code
                )
    except TelegramError as error:
        logger.warning("could not set the staff menu of staff member %s yet: %s", user_id, error)
        return False
    return True


async def _menu_on_first_update(update: Update, context: BotContext) -> None:
    """A staff member's first update since the start: make sure their menu is there."""
    user = update.effective_user
    settings = context.services.settings
    if user is None or user.id not in settings.staff_user_ids or context.user_data is None:
        return
    if not context.user_data.get(_MENU_SET):
        context.user_data[_MENU_SET] = await _set_menu(context.bot, settings, user.id)


# -- Commands -----------------------------------------------------------------------------------


def _translator(services: Services, user: User) -> Translator:
    return translator(services.language_of(user.id, user.language_code))


def _where(update: Update, context: BotContext) -> tuple[int, Translator]:
    chat_id = cast(int, update.effective_chat and update.effective_chat.id)
    return chat_id, _translator(context.services, cast(User, update.effective_user))


async def on_lookup(update: Update, context: BotContext) -> None:
    """/lookup <nummer | id | e-mail | reference>."""
    chat_id, t = _where(update, context)
    text = " ".join(context.args or [])
    if not text:
        usage = t._(
            "Type /lookup and an enrollment's number, id or e-mail address, "
            "for example /lookup 1001."
        )
        await _send(context.bot, chat_id, esc(usage))
        return
    if await _spent(update, context, chat_id, t):
        return
    await _lookup(context, chat_id, t, text)


async def _spent(update: Update, context: BotContext, chat_id: int, t: Translator) -> bool:
    """Whether the staff member's command quota is spent (then they are told so)."""
    user = cast(User, update.effective_user)
    if context.services.staff_commands.take(user.id):
        return False
    logger.info("a staff member's command quota is spent")
    await _send(context.bot, chat_id, esc(t._(STAFF_SPENT)))
    return True


async def on_recent(update: Update, context: BotContext) -> None:
    """/recent [n]."""
    chat_id, t = _where(update, context)
    args = context.args or []
    count = RECENT_DEFAULT
    if args:
        count = int(args[0]) if args[0].isdigit() else 0
        if len(args) > 1 or not 1 <= count <= RECENT_MAX:
            usage = t._(
                "Type /recent for the latest {default} enrollments, or /recent and a number "
                "up to {most}, for example /recent 20."
            ).format(default=RECENT_DEFAULT, most=RECENT_MAX)
            await _send(context.bot, chat_id, esc(usage))
            return
    if await _spent(update, context, chat_id, t):
        return
    await _recent(context, chat_id, t, count, page=0)


async def on_search(update: Update, context: BotContext) -> None:
    """/search <text>."""
    chat_id, t = _where(update, context)
    text = _search_text(" ".join(context.args or []))
    if not text:
        usage = t._(
            "Type /search and a name, e-mail address or company, for example /search de Vries."
        )
        await _send(context.bot, chat_id, esc(usage))
        return
    if await _spent(update, context, chat_id, t):
        return
    await _search(context, chat_id, t, text, page=0)


async def on_button(update: Update, context: BotContext) -> None:
    """A button of a staff answer or notice; for anyone not on staff, an outdated button."""
    query = cast(CallbackQuery, update.callback_query)
    if not await pressed_by_staff(update, context):
        return
    chat_id, t = _where(update, context)
    message = query.message if isinstance(query.message, Message) else None
    data = query.data or ""
    kind, fields = data[:4], data[4:].split(":", 1)
    if kind in (STAFF_OPEN, STAFF_RECENT, STAFF_FIND) and await _spent(
        update, context, chat_id, t
    ):
        return
    if kind == STAFF_OPEN:
        await _lookup(context, chat_id, t, data[4:])
    elif kind == STAFF_RECENT and len(fields) == 2 and "".join(fields).isdigit():
        count, page = (int(field) for field in fields)
        await _recent(context, chat_id, t, min(count, RECENT_MAX), page=page, edit=message)
    elif kind == STAFF_FIND and len(fields) == 2 and fields[0].isdigit() and fields[1]:
        await _search(context, chat_id, t, fields[1], page=int(fields[0]), edit=message)
    else:
        logger.info("staff button with unknown data ignored")


# -- Answers --------------------------------------------------------------------------------------


def _lookup_key(text: str) -> tuple[str, str] | None:
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


async def _lookup(context: BotContext, chat_id: int, t: Translator, text: str) -> None:
    key = _lookup_key(text)
    if key is None:
        hint = t._(
            "/lookup finds an enrollment by its number, id or e-mail address. To find one by "
            "name or company, use /search {text}."
        )
        await _send(context.bot, chat_id, esc(hint).format(text=esc(text)))
        return
    kind, value = key
    client = context.services.coachview
    try:
        if kind == "email":
            found = await client.find_webaanvragen_by_email(value, take=2)
            if len(found) > 1:
                await _search(context, chat_id, t, value, page=0)
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
        await _send(context.bot, chat_id, not_found)
        return
    except CoachviewError as error:
        await _send(context.bot, chat_id, esc(trouble(t, error, "lookup")))
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
        await _send(context.bot, chat_id, esc(trouble(t, error, "lookup")))
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
    await _send(context.bot, chat_id, text)


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


async def _recent(
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
        await _send(context.bot, chat_id, esc(trouble(t, error, "recent")), edit=edit)
        return
    if not items:
        await _send(context.bot, chat_id, esc(t._("There are no enrollments yet.")), edit=edit)
        return
    title = esc(t._("🕑 The latest enrollments, {first}–{last}")).format(
        first=t.number(skip + 1), last=t.number(skip + len(items))
    )
    pages = (
        STAFF_RECENT + f"{count}:{page - 1}" if page > 0 else None,
        STAFF_RECENT + f"{count}:{page + 1}" if len(fetched) > want else None,
    )
    text = list_text(t, title, items, courses)
    if missing:
        text += "\n\n" + esc(missing)
    await _send(context.bot, chat_id, text, markup=_list_markup(items, *pages), edit=edit)


async def _search(
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
    text = _search_text(text)
    try:
        found = await client.search_webaanvragen(text, take=min(SEARCH_MAX, skip + PAGE_SIZE + 1))
        items = found[skip : skip + PAGE_SIZE]
        courses, missing = await _courses_of(t, client, items)
    except CoachviewError as error:
        await _send(context.bot, chat_id, esc(trouble(t, error, "search")), edit=edit)
        return
    window = client.search_window
    if not items:
        none = esc(t._("No enrollment matches “{text}”.")).format(text=esc(text))
        if window:
            none += "\n" + esc(_window_note(t, window))
        await _send(context.bot, chat_id, none, edit=edit)
        return
    title = esc(t._("🔎 Enrollments matching “{text}”, {first}–{last}")).format(
        text=esc(text), first=t.number(skip + 1), last=t.number(skip + len(items))
    )
    pages = (
        STAFF_FIND + f"{page - 1}:{text}" if page > 0 else None,
        STAFF_FIND + f"{page + 1}:{text}" if len(found) > skip + PAGE_SIZE else None,
    )
    lines = list_text(t, title, items, courses)
    if len(found) == SEARCH_MAX and skip + PAGE_SIZE >= SEARCH_MAX:
        lines += "\n\n" + esc(
            t._("These are the {count} newest matches; add more words to narrow the search.")
        ).format(count=SEARCH_MAX)
    notes = [note for note in (_window_note(t, window) if window else "", missing) if note]
    if notes:
        lines += "\n\n" + "\n".join(esc(note) for note in notes)
    await _send(context.bot, chat_id, lines, markup=_list_markup(items, *pages), edit=edit)


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


def _search_text(text: str) -> str:
    """The search text as Coachview's filter can take it (up to the first ``,`` or ``;``) and
    a page button can carry it (cut to Telegram's 64 bytes of callback data)."""
    for separator in ",;":
        text = text.split(separator, 1)[0]
    room = CALLBACK_DATA_MAX_BYTES - len(f"{STAFF_FIND}{SEARCH_MAX // PAGE_SIZE}:".encode())
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


# -- Texts ----------------------------------------------------------------------------------------


def _clip(value: object, most: int = 300) -> str:
    """A value from Coachview, escaped, at most ``most`` characters (no line breaks)."""
    text = " ".join(str(value).split())
    return esc(text if len(text) <= most else text[: most - 1] + "…")


def _name(person: Persoon | WebaanvraagDeelnemer | None) -> str:
    if person is None:
        return ""
    parts = (person.voornaam, person.tussenvoegsels, person.achternaam)
    name = " ".join(part.strip() for part in parts if part and part.strip())
    voorletters = getattr(person, "voorletters", None)
    return name or (voorletters or "")


def _when(t: Translator, value: datetime) -> str:
    """A moment, escaped, as this language writes it ("2 mrt 2026, 09:00")."""
    return esc(t.datetime(value, "d MMM y, HH:mm"))


def _course_line(t: Translator, row: WebaanvraagOpleiding) -> str:
    name = row.opleiding_naam or row.opleidingssoort_naam or row.opleidingssoort_id or "?"
    line = _clip(name)
    if row.opleiding_code or row.opleidingssoort_code:
        line += f" ({_clip(row.opleiding_code or row.opleidingssoort_code)})"
    if row.start_datum is not None:
        line += "\n   " + esc(t.period(row.start_datum, row.eind_datum))
    elif not row.opleiding_id:
        line += "\n   " + esc(t._("no date chosen (waiting list)"))
    return line


def _contact_lines(person: Persoon | WebaanvraagDeelnemer | Bedrijf) -> list[str]:
    lines = []
    if person.emailadres:
        lines.append("✉️ " + _clip(person.emailadres))
    if person.telefoonnummer:
        lines.append("📞 " + _clip(person.telefoonnummer))
    return lines


def _heading(icon: str, text: str) -> str:
    return f"{icon} <b>{text}</b>"


def lookup_text(
    t: Translator,
    webaanvraag: Webaanvraag,
    opleidingen: Sequence[WebaanvraagOpleiding],
    deelnemers: Sequence[WebaanvraagDeelnemer],
) -> str:
    """Everything Coachview holds of one webaanvraag, as staff read it (HTML)."""
    w = webaanvraag
    sections = [_general_lines(t, w), _contact_section(t, w)]
    if w.bedrijf is not None and _has_any(w.bedrijf):
        company = [_heading("🏢", esc(t._("Company")))]
        if w.bedrijf.naam:
            company.append(_clip(w.bedrijf.naam))
        sections.append(company + _contact_lines(w.bedrijf))
    if w.debiteur is not None and _has_any(w.debiteur):
        sections.append(_debtor_lines(t, w.debiteur))
    sections.append(_participant_lines(t, w, deelnemers))
    courses = [_heading("📚", esc(t._("Courses")))]
    courses.extend(_course_line(t, row) for row in opleidingen)
    sections.append(courses if opleidingen else [*courses, "–"])
    return "\n\n".join("\n".join(lines) for lines in sections)


def _general_lines(t: Translator, w: Webaanvraag) -> list[str]:
    lines = [_heading("📄", esc(t._("Enrollment {number}")).format(number=_clip(w.nummer)))]
    if w.aanvraag_datum:
        lines.append(esc(t._("Received: {when}")).format(when=_when(t, w.aanvraag_datum)))
    if w.status:
        lines.append(esc(t._("Status: {status}")).format(status=_clip(w.status)))
    if w.referentie_nr_klant:
        reference = f"<code>{_clip(w.referentie_nr_klant)}</code>"
        lines.append(esc(t._("Reference: {reference}")).format(reference=reference))
    lines.append(esc(t._("Coachview id: {id}")).format(id=f"<code>{_clip(w.id)}</code>"))
    if w.opmerking:
        lines.append(esc(t._("Remark: {remark}")).format(remark=_clip(w.opmerking, 1000)))
    return lines


def _contact_section(t: Translator, w: Webaanvraag) -> list[str]:
    lines = [_heading("👤", esc(t._("Contact person")))]
    if w.contactpersoon is not None:
        lines.append(_clip(_name(w.contactpersoon)) or "–")
        lines.extend(_contact_lines(w.contactpersoon))
    if w.contactpersoon_is_deelnemer:
        lines.append("✅ " + esc(t._("The contact person takes part.")))
    elif w.contactpersoon_is_deelnemer is False:
        lines.append("➖ " + esc(t._("The contact person does not take part.")))
    return lines


def _participant_lines(
    t: Translator, w: Webaanvraag, deelnemers: Sequence[WebaanvraagDeelnemer]
) -> list[str]:
    """The count is Coachview's ``aantalDeelnemers``; the list names whom Coachview names."""
    count = w.aantal_deelnemers
    lines = [_heading("👥", _participants(t, count))]
    names = []
    if w.contactpersoon_is_deelnemer:
        contact = _clip(_name(w.contactpersoon)) or "–"
        names.append(esc(t._("{name} (contact person)")).format(name=contact))
    names.extend(
        " · ".join([_clip(_name(deelnemer)) or "–", *_contact_lines(deelnemer)])
        for deelnemer in deelnemers
    )
    lines.extend(f"{number}. {name}" for number, name in enumerate(names, start=1))
    if count is not None and len(names) != count:
        named = esc(t._("(Coachview names {named} of them.)"))
        lines.append(named.format(named=t.number(len(names))))
    return lines


def _participants(t: Translator, count: int | None) -> str:
    """ "3 participants", escaped; Coachview may leave the count out."""
    if count is None:
        return esc(t._("number of participants unknown"))
    text = t.ngettext("{count} participant", "{count} participants", count)
    return esc(text).format(count=t.number(count))


def _has_any(model: Bedrijf | Debiteur) -> bool:
    return any(getattr(model, name) not in (None, "") for name in type(model).model_fields)


def _debtor_lines(t: Translator, debiteur: Debiteur) -> list[str]:
    lines = ["💳 <b>" + esc(t._("Debtor")) + "</b>"]
    if debiteur.naam_rekeninghouder:
        lines.append(_clip(debiteur.naam_rekeninghouder))
    if debiteur.particulier is not None:
        kind = t._("a private person") if debiteur.particulier else t._("a company")
        lines.append(esc(t._("Pays as: {kind}").format(kind=kind)))  # both texts are ours
    if debiteur.emailadres_anders:
        lines.append("✉️ " + _clip(debiteur.emailadres_anders))
    return lines


def list_text(
    t: Translator,
    title: str,
    items: Sequence[Webaanvraag],
    courses: dict[str, list[WebaanvraagOpleiding]],
) -> str:
    """A page of webaanvragen under ``title`` (HTML): number, date, contact, company,
    participants and courses of each."""
    entries = [title]
    for item in items:
        head = f"<b>{_clip(item.nummer)}</b>"
        if item.aanvraag_datum:
            head += " · " + _when(t, item.aanvraag_datum)
        who = [_clip(_name(item.contactpersoon)) or "–"]
        if item.bedrijf is not None and item.bedrijf.naam:
            who.append(_clip(item.bedrijf.naam))
        who.append(_participants(t, item.aantal_deelnemers))
        names = [
            _clip(row.opleiding_naam or row.opleidingssoort_naam or "", 80)
            for row in courses.get(item.id, [])
        ]
        lines = [head, " · ".join(who)]
        if any(names):
            lines.append("📚 " + ", ".join(name for name in names if name))
        entries.append("\n".join(lines))
    return "\n\n".join(entries)


def _list_markup(
    items: Sequence[Webaanvraag], previous: str | None, following: str | None
) -> InlineKeyboardMarkup:
    """A button per entry that opens its lookup, then ◀️ ▶️ when there are other pages."""
    rows = [
        [
            InlineKeyboardButton(f"🔎 {item.nummer}", callback_data=open_button_data(item.id))
            for item in items
        ]
    ]
    paging = []
    if previous is not None:
        paging.append(InlineKeyboardButton("◀️", callback_data=previous))
    if following is not None:
        paging.append(InlineKeyboardButton("▶️", callback_data=following))
    if paging:
        rows.append(paging)
    return InlineKeyboardMarkup(rows)


# -- Sending --------------------------------------------------------------------------------------


def split_text(text: str, limit: int = MESSAGE_TEXT_MAX) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at line ends (at paragraph ends
    where possible). Tags never span lines in staff texts, so every piece is valid HTML."""
    pieces: list[str] = []
    current = ""
    for paragraph in text.split("\n\n"):
        if current and len(current) + 2 + len(paragraph) > limit >= len(paragraph):
            pieces.append(current)  # the paragraph fits in a piece of its own: keep it whole
            current = ""
        for number, whole in enumerate(paragraph.split("\n")):
            line = whole
            while len(line) > limit:  # not expected: values are clipped
                pieces.append(line[:limit])
                line = line[limit:]
            glue = ("\n\n" if number == 0 else "\n") if current else ""
            if len(current) + len(glue) + len(line) > limit:
                pieces.append(current)
                current, glue = "", ""
            current += glue + line
    pieces.append(current)
    return [piece for piece in pieces if piece] or [""]


async def _send(
    bot: Bot,
    chat_id: int,
    html: str,
    *,
    markup: InlineKeyboardMarkup | None = None,
    edit: Message | None = None,
) -> None:
    """Show ``html`` (split when long; buttons under the last piece), or put it in ``edit``."""
    pieces = split_text(html)
    if edit is not None and len(pieces) == 1:
        try:
            await edit.edit_text(pieces[0], parse_mode=ParseMode.HTML, reply_markup=markup)
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                raise
        return
    for number, piece in enumerate(pieces, start=1):
        last = number == len(pieces)
        await _send_one(bot, chat_id, piece, markup if last else None)


async def _send_one(
    bot: Bot, chat_id: int, html: str, markup: InlineKeyboardMarkup | None
) -> None:
    """One message; Telegram's flood control (429) is waited out, up to a minute."""
    while True:
        try:
            await bot.send_message(chat_id, html, parse_mode=ParseMode.HTML, reply_markup=markup)
        except RetryAfter as error:
            delay = error.retry_after
            seconds = delay.total_seconds() if isinstance(delay, timedelta) else float(delay)
            if seconds > _LONGEST_WAIT:
                raise
            logger.info("staff answer: flood control, waiting %.0f s", seconds)
            await asyncio.sleep(seconds)
        else:
            return
