"""People the bot has met: their chosen language, and whether they want course reminders."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.store.models import Person

__all__ = ["get_language", "reminders_off", "set_language", "set_reminders_off"]


def get_language(session: Session, *, user_id: int) -> str | None:
    """The language ``user_id`` chose with /language, or ``None``."""
    person = session.get(Person, user_id)
    return person.language if person is not None else None


def set_language(session: Session, *, user_id: int, language: str, now: datetime) -> None:
    """Remember ``language`` for ``user_id`` (committed by the caller)."""
    person = session.get(Person, user_id)
    if person is None:
        session.add(Person(user_id=user_id, language=language, updated_at=now))
    else:
        person.language = language
        person.updated_at = now
        session.add(person)


def reminders_off(session: Session, *, user_id: int) -> bool:
    """Whether ``user_id`` turned off the reminders the day before a course."""
    person = session.get(Person, user_id)
    return bool(person is not None and person.reminders_off)


def set_reminders_off(session: Session, *, user_id: int, off: bool, now: datetime) -> None:
    """Turn the course reminders of ``user_id`` off or on again (committed by the caller)."""
    person = session.get(Person, user_id)
    if person is None:
        person = Person(user_id=user_id, updated_at=now)
    person.reminders_off = off
    person.updated_at = now
    session.add(person)
