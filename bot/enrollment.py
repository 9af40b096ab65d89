"""The domain: what one enrollment is, independent of Telegram, storage and Coachview.

An :class:`Enrollment` is filled in step by step by the conversation and kept (as JSON) in the
draft row, so every field is optional until the person reaches the review. ``is_complete`` says
when it can be submitted; :func:`bot.coachview.webaanvraag.build_webaanvraag` turns a complete
one into Coachview's body.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Answer", "Contact", "CourseChoice", "Enrollment", "Participant"]

Answer = str | bool | None
"""An answer to one of the provider's own questions (``bot/questions.py``): text (a date as
``yyyy-mm-dd``, a choice as its value), yes/no, or ``None`` when skipped. A question whose id is
not in ``answers`` has not been asked yet."""


class _Model(BaseModel):
    model_config = ConfigDict(validate_assignment=True, extra="ignore")


class CourseChoice(_Model):
    """The course the person enrolls in: a type, and a scheduled run unless "any date"."""

    opleidingssoort_id: str
    opleidingssoort_code: str = ""
    opleidingssoort_naam: str
    opleiding_id: str | None = None
    opleiding_naam: str | None = None
    start: datetime | None = None
    free_places: int | None = None

    @property
    def any_date(self) -> bool:
        """No run chosen: Coachview gets the course type only (a waiting list)."""
        return self.opleiding_id is None


class Participant(_Model):
    """Someone enrolled by the contact person (not the contact person themself)."""

    first_name: str | None = None
    prefix: str | None = None
    last_name: str | None = None
    email: str | None = None
    #: Answers to the provider's "each-person" questions (the contact's: also "contact" ones).
    answers: dict[str, Answer] = Field(default_factory=dict)

    @property
    def full_name(self) -> str:
        """First name, prefix and last name as one would write them."""
        return " ".join(part for part in (self.first_name, self.prefix, self.last_name) if part)

    @property
    def is_complete(self) -> bool:
        return bool(self.first_name and self.last_name)


class Contact(Participant):
    """The person filling in the form: Coachview's contactpersoon."""

    phone: str | None = None
    company: str | None = None


class Enrollment(_Model):
    """One enrollment as the conversation builds it."""

    course: CourseChoice | None = None
    contact: Contact = Field(default_factory=Contact)
    attending: bool | None = None
    participants: list[Participant] = Field(default_factory=list)
    remark: str | None = None
    #: Answers to the provider's "enrollment" questions.
    answers: dict[str, Answer] = Field(default_factory=dict)
    #: When the person accepted the general terms (``TERMS_URL``), if they did.
    terms_accepted_at: datetime | None = None

    @property
    def participant_count(self) -> int:
        """How many people this enrollment is for (Coachview's ``aantalDeelnemers``)."""
        return len(self.participants) + (1 if self.attending else 0)

    @property
    def is_complete(self) -> bool:
        """Everything Coachview needs is there, and the enrollment is for at least one person."""
        return (
            self.course is not None
            and self.contact.is_complete
            and bool(self.contact.email)
            and self.attending is not None
            and all(p.is_complete for p in self.participants)
            and self.participant_count >= 1
        )
