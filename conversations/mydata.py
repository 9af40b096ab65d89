"""What /mydata shows: a readable summary of everything the bot holds about a person, and the
JSON document of it as stored (``conversations/privacy.py`` sends both)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import courses
from bot.enrollment import Enrollment
from bot.i18n import Translator, esc
from bot.store import privacy
from bot.store.models import Draft, DraftStatus, OutboxEntry, OutboxStatus
from bot.telegram.limits import MESSAGE_TEXT_MAX
from conversations.fields import readable_phone
from conversations.handlers import LANGUAGE_NAMES

__all__ = ["mydata_document", "mydata_summary"]

#: The confirmed enrollments /mydata lists (the newest; the file holds all): the summary stays
#: one message.
_ENTRIES_SHOWN = 10


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def mydata_document(found: privacy.Holdings) -> dict[str, Any]:
    """Everything the bot holds about a person, as stored (the JSON of /mydata)."""
    return {
        "telegram_user_id": found.user_id,
        "language": found.language,
        "enrollments_being_filled_in": [
            {
                "status": str(draft.status),
                "question": draft.step,
                "started_at": _when(draft.created_at),
                "changed_at": _when(draft.updated_at),
                "answers": draft.data,
            }
            for draft in found.drafts
        ],
        "confirmed_enrollments": [
            {
                "reference": entry.reference,
                "status": str(entry.status),
                "confirmed_at": _when(entry.created_at),
                "reached_coachview_at": _when(entry.submitted_at),
                "coachview_number": entry.coachview_nummer,
                "summary": entry.summary,
                "sent_to_coachview": entry.payload,
                "coachview_answer": entry.response_body,
                "personal_data_removed_at": _when(entry.erased_at),
            }
            for entry in found.entries
        ],
        "messages_waiting_to_be_sent": found.messages_waiting,
    }


def _answers(t: Translator, draft: Draft) -> list[str]:
    """The answers of a draft, one per line (HTML)."""
    enrollment = Enrollment.model_validate(draft.data)
    contact = enrollment.contact
    lines = []
    if enrollment.course is not None:
        lines.append(courses.course_line(t, enrollment.course))
    values = [
        contact.full_name,
        contact.email,
        readable_phone(contact.phone) if contact.phone else None,
        contact.company,
    ]
    lines.extend(esc(value) for value in values if value)
    for participant in enrollment.participants:
        name = participant.full_name
        lines.append(esc(f"{name}, {participant.email}" if participant.email else name))
    if enrollment.remark:
        lines.append(esc(enrollment.remark))
    return ["   " + line for line in lines]


def _entry_line(t: Translator, entry: OutboxEntry) -> str:
    course = esc(entry.summary.get("course") or "?")
    when = esc(t.datetime(entry.created_at, "d MMM y"))
    if entry.status == OutboxStatus.SUBMITTED:
        state = esc(t._("received by the training provider, number {number}")).format(
            number=f"<b>{esc(entry.coachview_nummer or '?')}</b>"
        )
    elif entry.status == OutboxStatus.REJECTED:
        state = esc(t._("not accepted automatically; staff will contact you"))
    else:
        state = esc(t._("on its way to the training provider"))
    line = f"• {course} ({when}): {state}"
    contact = entry.summary.get("contact")
    if contact:
        line += "\n   " + esc(contact)
    if entry.erased_at is not None:
        line += "\n   " + esc(t._("(names and contact details removed)"))
    return line


def mydata_summary(t: Translator, found: privacy.Holdings) -> str:
    """What /mydata shows above the JSON (HTML)."""
    lines = ["📋 <b>" + esc(t._("What I keep about you")) + "</b>", ""]
    lines.append(esc(t._("Your Telegram id: {id}")).format(id=f"<code>{found.user_id}</code>"))
    if found.language:
        lines.append(
            esc(t._("The language you chose: {language}")).format(
                language=esc(LANGUAGE_NAMES.get(found.language, found.language))
            )
        )
    else:
        lines.append(esc(t._("No language chosen: I follow your Telegram app.")))
    cancelled = sum(draft.status == DraftStatus.CANCELLED for draft in found.drafts)
    if cancelled:
        lines.extend(
            [
                "",
                esc(
                    t.ngettext(
                        "{count} enrollment you canceled or started over, kept until it is "
                        "deleted with the unfinished ones.",
                        "{count} enrollments you canceled or started over, kept until they are "
                        "deleted with the unfinished ones.",
                        cancelled,
                    )
                ).format(count=cancelled),
            ]
        )
    if found.entries:
        lines.extend(["", esc(t._("Your confirmed enrollments:"))])
        shown = found.entries[-_ENTRIES_SHOWN:]
        lines.extend(_entry_line(t, entry) for entry in shown)
        if len(found.entries) > len(shown):
            more = len(found.entries) - len(shown)
            lines.append(
                esc(
                    t.ngettext(
                        "… and {count} older one, in the file.",
                        "… and {count} older ones, in the file.",
                        more,
                    )
                ).format(count=more)
            )
    if found.messages_waiting:
        lines.extend(
            [
                "",
                esc(
                    t.ngettext(
                        "{count} message to you is waiting to be sent.",
                        "{count} messages to you are waiting to be sent.",
                        found.messages_waiting,
                    )
                ).format(count=found.messages_waiting),
            ]
        )
    for draft in found.drafts:  # last: the longest part, cut if it does not fit
        if draft.status == DraftStatus.OPEN:
            heading = esc(t._("The enrollment you are filling in:"))
            lines.extend(["", heading, *(_answers(t, draft) or ["   –"])])
    if not found.drafts and not found.entries and not found.language:
        lines.extend(["", esc(t._("Nothing else: I keep no enrollment of yours."))])
    ending = [
        "",
        esc(t._("The file below holds all of it as it is stored (JSON). /forget erases it.")),
    ]
    text = "\n".join(lines + ending)
    if len(text) <= MESSAGE_TEXT_MAX:
        return text
    # Very many participants or long answers: as many lines as fit (tags never span lines).
    cut = ["", esc(t._("… more in the file.")), *ending]
    while len("\n".join(lines + cut)) > MESSAGE_TEXT_MAX:
        lines.pop()
    return "\n".join(lines + cut)
