"""The reminder the day before a course date starts, and the enrollment's calendar file.

When Coachview takes an enrollment in a specific run (``bot/workers/exactly_once.py``), in the same
transaction as the confirmation:

- the calendar (:func:`queue_calendar`): an ``.ics`` document of the run
  (:mod:`bot.course_calendar`), queued as a notification just before the confirmation, so it
  goes the same durable, paced way (never lost, never sent twice) and the confirmation with its
  buttons stays the newest message;
- the reminder (:func:`plan_reminder`): a row in ``course_reminders``, due the day before the
  run at ``COURSE_REMINDER_HOUR`` Dutch time (an enrollment made later that day is reminded at
  once, until 21:00; later still, or on the day itself, not at all: "tomorrow" would be wrong).

A worker (:class:`CourseReminderKeeper`) looks every :attr:`CourseReminderKeeper.interval`
seconds for due reminders. Each is checked against the cached catalogue: a cancelled run gets no
reminder, and when the catalogue cannot be read the reminder waits for the next round. A run
found moved brings the person the news with a new calendar file (same ``UID``, next
``SEQUENCE``: it replaces the event in their calendar), and the reminder follows the new date.
Moves are noticed when the reminder falls due, so a run moved to an earlier day is noticed only
while its old reminder time lies before the new start. A person who turned reminders off (the
button under the confirmation and under each reminder, ``cr:off``; ``cr:on`` turns them on
again) gets none. A process takes a reminder by a conditional update in the transaction that
queues the message, so several processes send it once; the message is in the person's language.
``COURSE_REMINDERS=false`` turns the feature off: nothing is planned and no button shown.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any, Final, cast

from sqlmodel import Session
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram import User as TelegramUser
from telegram.ext import Application, CallbackQueryHandler

from bot.callbacks import REMINDERS_OFF, REMINDERS_ON, REMINDERS_PATTERN
from bot.coachview.locations import run_location
from bot.coachview.models import COACHVIEW_TZ, Opleiding
from bot.config import Settings
from bot.course_calendar import CalendarEvent, calendar_file, event_uid
from bot.errors import CoachviewError, CoachviewNotFound
from bot.i18n import DEFAULT_LANGUAGE, Language, Translator, esc, pick_language, translator
from bot.services import BotContext, Services
from bot.store import course_reminders, notifications, people
from bot.store.models import CourseReminder, CourseReminderStatus, OutboxEntry
from bot.workers.periodic import every

__all__ = [
    "CourseReminderKeeper",
    "plan_reminder",
    "queue_calendar",
    "register",
    "reminder_button",
]

logger = logging.getLogger(__name__)

LAST_CALL: Final = time(21)
"""The latest local time the day before at which a reminder still goes."""


def reminder_button(t: Translator, *, off: bool = False) -> InlineKeyboardButton:
    """The button that turns reminders off (or, once off, on again)."""
    if off:
        return InlineKeyboardButton(t._("🔔 Remind me again"), callback_data=REMINDERS_ON)
    return InlineKeyboardButton(t._("🔕 No reminders"), callback_data=REMINDERS_OFF)


def remind_at(starts_at: datetime, hour: int) -> datetime:
    """The day before ``starts_at`` (Dutch dates) at ``hour`` Dutch time."""
    day = starts_at.astimezone(COACHVIEW_TZ).date() - timedelta(days=1)
    return datetime.combine(day, time(hour), COACHVIEW_TZ)


def _last_call(starts_at: datetime) -> datetime:
    day = starts_at.astimezone(COACHVIEW_TZ).date() - timedelta(days=1)
    return datetime.combine(day, LAST_CALL, COACHVIEW_TZ)


# -- With the confirmation ------------------------------------------------------------------


def queue_calendar(
    session: Session,
    *,
    entry: OutboxEntry,
    nummer: str,
    run: Opleiding,
    now: datetime,
    default_language: Language = DEFAULT_LANGUAGE,
) -> bool:
    """Queue the ``.ics`` of ``run`` for the enrollee, in the entry's language (else
    ``default_language``, the setting's); ``False`` when the run has no date."""
    if run.start_datum is None:
        return False
    t = translator(pick_language(entry.language, None, default_language))
    course = str(entry.summary.get("course") or run.naam)
    caption = t._("📅 The dates of <b>{course}</b>, for your calendar.").format(course=esc(course))
    return notifications.enqueue(
        session,
        key=f"calendar:{entry.id}:{run.id}",
        chat_id=entry.chat_id,
        text=caption,
        document_name=f"{_safe(run.code)}.ics",
        document=_calendar(t, nummer, run, now=now, sequence=0),
        now=now,
    )


def _calendar(
    t: Translator, nummer: str, run: Opleiding, *, now: datetime, sequence: int
) -> bytes:
    """The ``.ics`` of ``run`` in webaanvraag ``nummer`` (its start must be known)."""
    assert run.start_datum is not None
    description = t._("Enrollment number {number} · course {code}").format(
        number=nummer, code=run.code
    )
    event = CalendarEvent(
        uid=event_uid(nummer, run.id),
        summary=run.naam,
        description=description,
        start=run.start_datum,
        end=run.eind_datum,
        location=run_location(run),
    )
    return calendar_file([event], stamp=now, sequence=sequence)


def _safe(code: str) -> str:
    kept = "".join(c if c.isalnum() or c in "-_" else "-" for c in code).strip("-")
    return kept or "course"


def plan_reminder(
    session: Session,
    settings: Settings,
    *,
    entry: OutboxEntry,
    nummer: str,
    run: Opleiding,
    now: datetime,
) -> bool:
    """Owe the contact person a reminder the day before ``run``; ``False`` when none will go
    (the feature is off, the run has no date, or it is too late for one)."""
    if not settings.course_reminders or run.start_datum is None:
        return False
    if now >= _last_call(run.start_datum):
        return False
    course_reminders.plan(
        session,
        outbox_id=entry.id or 0,
        run_id=run.id,
        chat_id=entry.chat_id,
        user_id=entry.user_id,
        language=pick_language(entry.language, None, settings.default_language),
        course=str(entry.summary.get("course") or run.naam),
        starts_at=run.start_datum,
        remind_at=remind_at(run.start_datum, settings.course_reminder_hour),
        nummer=nummer,
        now=now,
    )
    return True


# -- The worker -------------------------------------------------------------------------------


class CourseReminderKeeper:
    """Sends the reminders the day before, once each, checked against the catalogue."""

    interval: float = 60.0

    def __init__(self, services: Services) -> None:
        self.services = services

    async def run(self) -> None:
        """Look every :attr:`interval` seconds, until cancelled."""
        await every(self.interval, self.run_once, "course reminders")

    async def run_once(self) -> int:
        """Queue the reminders due now; the number queued."""
        services = self.services
        now = services.clock.now()
        with services.session() as session:
            due = course_reminders.due(session, now=now)
        queued = 0
        for reminder in due:
            checked = await self._check(reminder, now)
            if checked is None:
                break  # the catalogue cannot be read: the next round tries again
            outcome, run = checked
            if self._settle(reminder, outcome, run, now):
                queued += outcome == "send"
        if queued:
            logger.info("queued %s course reminders", queued)
            services.wake_notifications()
        return queued

    async def _check(
        self, reminder: CourseReminder, now: datetime
    ) -> tuple[str, Opleiding | None] | None:
        """``send`` (with the run), ``moved``, or why it is skipped; ``None`` when the
        catalogue cannot be read."""
        if now >= _last_call(reminder.starts_at):
            return "too-late", None
        with self.services.session() as session:
            if people.reminders_off(session, user_id=reminder.user_id):
                return "off", None
        try:
            run = await self.services.coachview.get_opleiding(reminder.run_id)
        except CoachviewNotFound:
            return "gone", None
        except CoachviewError as error:
            logger.warning(
                "course reminders wait: catalogue unavailable (%s)", type(error).__name__
            )
            return None
        if run.opleiding_status_id == "Geannuleerd":
            return "cancelled", run
        if run.start_datum is not None and run.start_datum != reminder.starts_at:
            return "moved", run
        return "send", run

    def _settle(
        self, reminder: CourseReminder, outcome: str, run: Opleiding | None, now: datetime
    ) -> bool:
        settings = self.services.settings
        with self.services.session() as session:
            if outcome == "moved" and run is not None and run.start_datum is not None:
                if course_reminders.move(
                    session,
                    reminder_id=reminder.id or 0,
                    was=reminder.starts_at,
                    starts_at=run.start_datum,
                    remind_at=remind_at(run.start_datum, settings.course_reminder_hour),
                ):
                    self._queue_move(session, reminder, run, now)
                    session.commit()
                    self.services.wake_notifications()
                return False
            status = (
                CourseReminderStatus.QUEUED if outcome == "send" else CourseReminderStatus.SKIPPED
            )
            reason = None if outcome == "send" else outcome
            if not course_reminders.settle(
                session, reminder_id=reminder.id or 0, status=status, reason=reason
            ):
                session.rollback()
                return False  # another process took it
            if outcome == "send":
                self._queue(session, reminder, run, now)
            session.commit()
        return True

    def _queue_move(
        self, session: Session, reminder: CourseReminder, run: Opleiding, now: datetime
    ) -> None:
        """The news that the run moved, with a calendar file that replaces the earlier one."""
        assert run.start_datum is not None
        t = self._translator(session, reminder)
        revision = reminder.revision + 1
        text = t._(
            "📅 <b>{course}</b> has moved: it now starts {when}. This calendar file replaces "
            "the earlier one."
        ).format(
            course=esc(reminder.course),
            when=esc(t.datetime(run.start_datum, "EEEE d MMMM y, HH:mm")),
        )
        notifications.enqueue(
            session,
            key=f"calendar:{reminder.outbox_id}:{reminder.run_id}:{revision}",
            chat_id=reminder.chat_id,
            text=text,
            document_name=f"{_safe(run.code)}.ics",
            document=_calendar(t, reminder.nummer, run, now=now, sequence=revision),
            now=now,
        )

    def _translator(self, session: Session, reminder: CourseReminder) -> Translator:
        stored = people.get_language(session, user_id=reminder.user_id)
        default = self.services.settings.default_language
        return translator(pick_language(stored, reminder.language, default))

    def _queue(
        self, session: Session, reminder: CourseReminder, run: Opleiding | None, now: datetime
    ) -> None:
        t = self._translator(session, reminder)
        text = t._("⏰ Your course <b>{course}</b> starts tomorrow at {time}.").format(
            course=esc(reminder.course), time=t.time(reminder.starts_at)
        )
        place = run_location(run) if run is not None else None
        if place:
            text += "\n📍 " + esc(place)
        text += "\n\n" + esc(t._("See you there!"))
        notifications.enqueue(
            session,
            key=f"course-reminder:{reminder.id}",
            chat_id=reminder.chat_id,
            text=text,
            reply_markup=InlineKeyboardMarkup([[reminder_button(t)]]).to_dict(),
            now=now,
        )


# -- The button --------------------------------------------------------------------------------


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The reminders' on/off button (before the enrollment's answer to outdated buttons)."""
    application.add_handler(CallbackQueryHandler(on_button, pattern=REMINDERS_PATTERN))


async def on_button(update: Update, context: BotContext) -> None:
    """Turn the reminders off (or on again); the button changes to its opposite."""
    query = cast(CallbackQuery, update.callback_query)
    user = cast(TelegramUser, update.effective_user)
    services = context.services
    off = query.data == REMINDERS_OFF
    with services.session() as session:
        people.set_reminders_off(session, user_id=user.id, off=off, now=services.clock.now())
        session.commit()
    t = translator(services.language_of(user.id, user.language_code))
    if off:
        await query.answer(t._("Okay, no more reminders before your courses."))
    else:
        await query.answer(t._("Okay, I will remind you the day before each course."))
    message = query.message if isinstance(query.message, Message) else None
    if message is None or message.reply_markup is None:
        return
    rows = [
        [
            reminder_button(t, off=off)
            if button.callback_data in (REMINDERS_OFF, REMINDERS_ON)
            else button
            for button in row
        ]
        for row in message.reply_markup.inline_keyboard
    ]
    await message.edit_reply_markup(InlineKeyboardMarkup(rows))
