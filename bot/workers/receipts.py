"""What the outbox tells people and staff about an enrollment, queued as notifications.

Each text is queued in the same transaction as the outbox change it reports
(``store/notifications.py``), under a key that makes it go once: the person's confirmation
(with the payment and reminder buttons), the "saved, will be sent" and "staff will contact
you" notices, and the staff notices of a new enrollment (with a button that opens its lookup)
and of a refused one. The person reads them in their language; staff in ``DEFAULT_LANGUAGE``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import open_button_data
from bot.coachview.models import CreatedWebaanvraag
from bot.config import Settings
from bot.errors import CoachviewError
from bot.i18n import LANGUAGES, Translator, esc, translator
from bot.store import notifications
from bot.store.models import OutboxEntry
from bot.workers.course_reminders import reminder_button

__all__ = [
    "queue_confirmation",
    "queue_delayed_notice",
    "queue_rejection_notices",
    "queue_staff_notice",
    "staff_summary",
]

logger = logging.getLogger(__name__)


def _translator(settings: Settings, entry: OutboxEntry) -> Translator:
    """The person's language, as they chose it when they enrolled."""
    return translator(entry.language if entry.language in LANGUAGES else settings.default_language)


def queue_confirmation(
    session: Session,
    settings: Settings,
    entry: OutboxEntry,
    created: CreatedWebaanvraag,
    now: datetime,
    *,
    reminders: bool = False,
) -> None:
    """The person's confirmation: Coachview's number, a payment button when Coachview gave a
    payment link, and the reminder's off switch when a reminder is planned."""
    t = _translator(settings, entry)
    text = t._(
        "✅ Your enrollment has been received. Its number is <b>{number}</b>. "
        "The training provider will contact you about the next steps."
    ).format(number=esc(created.nummer))
    rows: list[list[InlineKeyboardButton]] = []
    if created.betaalprovider_redirect_url:
        text += "\n\n" + t._("Please complete the payment with the button below.")
        rows.append(
            [InlineKeyboardButton(t._("💳 Pay now"), url=created.betaalprovider_redirect_url)]
        )
    if reminders:
        text += "\n\n" + t._("I will remind you the day before the course starts.")
        rows.append([reminder_button(t)])
    notifications.enqueue(
        session,
        key=f"confirm:{entry.id}",
        chat_id=entry.chat_id,
        text=text,
        reply_markup=InlineKeyboardMarkup(rows).to_dict() if rows else None,
        now=now,
    )


def queue_delayed_notice(
    session: Session, settings: Settings, entry: OutboxEntry, now: datetime
) -> None:
    """The person hears once that the enrollment is saved and will be sent."""
    t = _translator(settings, entry)
    text = t._(
        "Your enrollment is saved. The training provider's system cannot be reached right "
        "now, so I will send it automatically as soon as it can. You do not need to do "
        "anything; you will get the confirmation here."
    )
    notifications.enqueue(
        session, key=f"delayed:{entry.id}", chat_id=entry.chat_id, text=text, now=now
    )


def queue_rejection_notices(
    session: Session, settings: Settings, entry: OutboxEntry, error: CoachviewError, now: datetime
) -> None:
    """The person hears once that staff will contact them; staff hear of every refusal, with
    Coachview's reason and how to resend."""
    t = _translator(settings, entry)
    text = t._(
        "Your enrollment is saved, but the training provider's system did not accept it "
        "automatically. A staff member will look at it and contact you. You do not need to "
        "enroll again."
    )
    notifications.enqueue(
        session, key=f"rejected:{entry.id}", chat_id=entry.chat_id, text=text, now=now
    )
    staff_chat = settings.staff_chat_id
    if staff_chat is None:
        return
    st = translator(settings.default_language)
    reason = (error.body or str(error))[:1500]
    staff_text = st._(
        "⚠️ Coachview refused an enrollment (outbox {id}, HTTP {status}). It is kept; fix the "
        "cause and resend it with <code>enrollbot outbox resend {id}</code>.\n\n"
        "{summary}\n\nCoachview said:\n<pre>{reason}</pre>"
    ).format(
        id=entry.id,
        status=error.status or "-",
        summary=staff_summary(st, entry.summary),
        reason=esc(reason),
    )
    # One alert per refused attempt: a resend that is refused again is reported again.
    notifications.enqueue(
        session,
        key=f"staff-rejected:{entry.id}:{entry.attempts + 1}",
        chat_id=staff_chat,
        text=staff_text,
        now=now,
    )


def queue_staff_notice(
    session: Session,
    settings: Settings,
    entry: OutboxEntry,
    created: CreatedWebaanvraag,
    now: datetime,
) -> None:
    """Staff hear of a new enrollment, with a button that opens its lookup."""
    staff_chat = settings.staff_chat_id
    if staff_chat is None:
        return
    st = translator(settings.default_language)
    text = st._("🆕 New enrollment <b>{number}</b>").format(number=esc(created.nummer))
    text += "\n" + staff_summary(st, entry.summary)
    # The staff lookup's button (bot/staff/): by id, or by number when Coachview answered
    # without the id; none for a key no button can carry (the notice goes all the same).
    try:
        data = open_button_data(created.id or created.nummer)
    except ValueError:
        logger.warning("outbox %s: Coachview's id is too long for a button", entry.id)
        markup = None
    else:
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(st._("🔎 Open"), callback_data=data)]]
        )
    notifications.enqueue(
        session,
        key=f"staff:{entry.id}",
        chat_id=staff_chat,
        text=text,
        reply_markup=markup.to_dict() if markup is not None else None,
        now=now,
    )


def staff_summary(t: Any, summary: dict[str, Any]) -> str:
    """The lines staff read about an enrollment: course, contact, company, participants."""
    lines = []
    if summary.get("course"):
        lines.append(t._("Course: {course}").format(course=esc(summary["course"])))
    if summary.get("contact"):
        lines.append(t._("Contact: {name}").format(name=esc(summary["contact"])))
    if summary.get("company"):
        lines.append(t._("Company: {company}").format(company=esc(summary["company"])))
    count = int(summary.get("participants", 0))
    lines.append(
        t.ngettext("{count} participant", "{count} participants", count).format(count=count)
    )
    return "\n".join(lines)
