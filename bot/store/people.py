"""People the bot has met: their chosen language."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.store.models import Person

__all__ = ["get_language", "set_language"]


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
