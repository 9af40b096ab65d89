"""Courses shared as links: staff ``/link`` answers a course's ``t.me`` deep link and its QR code.

::

    /link              buttons: the course types, then the course itself or one of its open dates
    /link <code | id>  straight to that course type's buttons, or the link of the run with that id

The answer is a photo of the QR code (PNG) whose caption carries the link, and the same QR code
as an SVG document for print; both are drawn by segno, in pure Python. A link names a course
type or a run by its Coachview id (a GUID: 36 characters of ``0-9a-f-``, within Telegram's
``start`` parameter of 1-64 characters ``A-Za-z0-9_-``), because an id never changes while
codes may be renamed, and a printed QR code lives long. ``/start <payload>`` resolves it
(``conversations/handlers.py``, ``_deep_link``): a course type opens its dates, a run opens the
enrollment at that date.

Only the Telegram users of ``STAFF_USER_IDS`` have ``/link`` (the staff gate of
:mod:`bot.staff`); for anyone else the command does not exist and its buttons are outdated
buttons. Buttons carry the ``l:`` data of :mod:`bot.callbacks` (the dates of a course type, the
link of the course type, the link of a run).
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any, Final, cast

import segno
from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler
from telegram.helpers import create_deep_linked_url

from bot import courses
from bot.callbacks import LINK_DATES, LINK_PATTERN, LINK_SHARE_RUN, LINK_SHARE_TYPE, link_data
from bot.coachview.models import Opleiding, Opleidingssoort
from bot.config import Settings
from bot.errors import CoachviewError, CoachviewNotFound
from bot.i18n import Translator, esc
from bot.services import BotContext
from bot.staff import pressed_by_staff, staff_only, trouble, where

__all__ = ["deep_link", "qr_png", "qr_svg", "register"]

logger = logging.getLogger(__name__)

PAYLOAD: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What Telegram takes as the ``start`` parameter of a deep link."""

_MOST_BUTTONS: Final = 60
"""Course types offered as buttons; with more, staff give the code."""


def deep_link(bot_username: str, key: str) -> str:
    """The ``t.me`` link that starts the bot at ``key`` (a course type's or a run's id)."""
    if not PAYLOAD.fullmatch(key):
        raise ValueError(f"{key!r} cannot be a deep-link payload")
    return create_deep_linked_url(bot_username, key)


def qr_png(link: str) -> bytes:
    """The QR code of ``link`` as a PNG: black on white, 10 pixels a module, the quiet zone."""
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=10, border=4)
    return out.getvalue()


def qr_svg(link: str, title: str) -> bytes:
    """The same QR code as an SVG document (scalable for print), titled ``title``."""
    out = io.BytesIO()
    segno.make(link, error="m").save(
        out, kind="svg", scale=10, border=4, title=title, xmldecl=True, encoding="utf-8"
    )
    return out.getvalue()


def register(application: Application[Any, Any, Any, Any, Any, Any], settings: Settings) -> None:
    """Add ``/link`` for staff (nothing when no staff are configured)."""
    if not settings.staff_user_ids:
        return
    application.add_handler(CommandHandler("link", on_link, filters=staff_only(settings)))
    application.add_handler(CallbackQueryHandler(on_button, pattern=LINK_PATTERN))


async def on_link(update: Update, context: BotContext) -> None:
    """/link [code | id]."""
    chat_id, t = where(update, context)
    key = " ".join(context.args or []).strip()
    catalogue = context.services.coachview
    try:
        types = await courses.course_types(catalogue)
        if not key:
            await _choose_type(context, chat_id, t, types)
            return
        kind = courses.find_type(types, key)
        if kind is not None:
            await _choose_run(context, chat_id, t, kind)
            return
        run = await _run(context, key)
        kind = courses.find_type(types, run.opleidingssoort_id) if run is not None else None
    except CoachviewError as error:
        await _say(context, chat_id, esc(trouble(t, error, "link")))
        return
    if run is None or kind is None:
        text = t._(
            "I do not know a course with the code or id {key}. Type /link to choose one "
            "from the list."
        ).format(key=f"<code>{esc(key[:64])}</code>")
        await _say(context, chat_id, text)
        return
    if not run.open_for_enrollment(context.services.clock.now()):
        text = t._(
            "That date is not open for enrollment (canceled, full, started or past its "
            "deadline). Type /link {code} to share another date of {course}."
        ).format(code=esc(kind.code), course=esc(kind.naam))
        await _say(context, chat_id, esc(text))
        return
    await _share(context, chat_id, t, kind, run)


async def _run(context: BotContext, key: str) -> Opleiding | None:
    if not PAYLOAD.fullmatch(key):
        return None
    try:
        return await context.services.coachview.get_opleiding(key)
    except CoachviewNotFound:
        return None


async def on_button(update: Update, context: BotContext) -> None:
    """A button of /link; for anyone not on staff, an outdated button."""
    query = cast(CallbackQuery, update.callback_query)
    if not await pressed_by_staff(update, context):
        return
    chat_id, t = where(update, context)
    data = query.data or ""
    kind_of_button, key = data[:4], data[4:]
    message = query.message if isinstance(query.message, Message) else None
    catalogue = context.services.coachview
    try:
        types = await courses.course_types(catalogue)
        kind = courses.find_type(types, key) if kind_of_button != LINK_SHARE_RUN else None
        if kind_of_button == LINK_DATES and kind is not None:
            await _choose_run(context, chat_id, t, kind, edit=message)
            return
        if kind_of_button == LINK_SHARE_TYPE and kind is not None:
            await _share(context, chat_id, t, kind, None)
            return
        run = await _run(context, key) if kind_of_button == LINK_SHARE_RUN else None
        kind = courses.find_type(types, run.opleidingssoort_id) if run is not None else None
    except CoachviewError as error:
        await _say(context, chat_id, esc(trouble(t, error, "link")))
        return
    if run is None or kind is None:
        await _say(context, chat_id, esc(t._("That course is no longer offered.")))
        return
    await _share(context, chat_id, t, kind, run)


async def _say(
    context: BotContext,
    chat_id: int,
    html: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    edit: Message | None = None,
) -> None:
    if edit is not None:
        await edit.edit_text(html, parse_mode=ParseMode.HTML, reply_markup=markup)
        return
    await context.bot.send_message(chat_id, html, parse_mode=ParseMode.HTML, reply_markup=markup)


async def _choose_type(
    context: BotContext, chat_id: int, t: Translator, types: list[Opleidingssoort]
) -> None:
    text = t._(
        "Which course do you want to share? Choose it below, or type /link and a course "
        "code, for example /link {example}."
    ).format(example=esc(types[0].code if types else "VCA-B"))
    if len(types) > _MOST_BUTTONS:
        text += "\n\n" + t._("Only the first {count} courses are listed.").format(
            count=_MOST_BUTTONS
        )
    rows = [
        [
            InlineKeyboardButton(
                f"{kind.naam} ({kind.code})", callback_data=link_data(LINK_DATES, kind.id)
            )
        ]
        for kind in types[:_MOST_BUTTONS]
    ]
    await _say(context, chat_id, esc(text), InlineKeyboardMarkup(rows) if rows else None)


async def _choose_run(
    context: BotContext,
    chat_id: int,
    t: Translator,
    kind: Opleidingssoort,
    *,
    edit: Message | None = None,
) -> None:
    services = context.services
    runs = await courses.runs_of(services.coachview, kind.id, now=services.clock.now())
    text = t._(
        "Share <b>{course}</b> as a whole (people then choose a date), or one date?"
    ).format(course=esc(kind.naam))
    if not runs:
        text += "\n\n" + esc(t._("No date is open for enrollment right now."))
    rows = [
        [
            InlineKeyboardButton(
                t._("📚 The course, any date"), callback_data=link_data(LINK_SHARE_TYPE, kind.id)
            )
        ]
    ]
    rows += [
        [
            InlineKeyboardButton(
                courses.run_label(t, run), callback_data=link_data(LINK_SHARE_RUN, run.id)
            )
        ]
        for run in runs[: _MOST_BUTTONS - 1]
    ]
    await _say(context, chat_id, text, InlineKeyboardMarkup(rows), edit=edit)


def _file_name(code: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", code).strip("-") or "course"


async def _share(
    context: BotContext,
    chat_id: int,
    t: Translator,
    kind: Opleidingssoort,
    run: Opleiding | None,
) -> None:
    """The link of a course type (``run`` None) or of a run: the QR photo, then the SVG."""
    key = run.id if run is not None else kind.id
    username = context.bot.username
    try:
        link = deep_link(username, key)
    except ValueError:
        logger.warning("a course id does not fit in a deep link; no link made")
        await _say(context, chat_id, esc(t._("This course cannot be shared as a link.")))
        return
    title = kind.naam
    lines = [f"🔗 <b>{esc(kind.naam)}</b>"]
    if run is not None and run.start_datum is not None:
        lines.append(esc(t.period(run.start_datum, run.eind_datum)) + f" · {esc(run.naam)}")
        title = f"{kind.naam} {t.date(run.start_datum, 'd MMM y')}"
    elif run is None:
        lines.append(esc(t._("any date: people choose one of the open dates")))
    lines.append(esc(link))
    lines.append("")
    lines.append(
        esc(t._("Whoever opens the link or scans the code starts enrolling in this course."))
    )
    name = _file_name(run.code if run is not None else kind.code)
    await context.bot.send_photo(
        chat_id,
        InputFile(qr_png(link), filename=f"{name}-qr.png"),
        caption="\n".join(lines),
        parse_mode=ParseMode.HTML,
    )
    await context.bot.send_document(
        chat_id,
        InputFile(qr_svg(link, title), filename=f"{name}-qr.svg"),
        caption=t._("The same QR code as SVG, for printing."),
    )
