"""The program's exceptions, one tree with one root.

::

    EnrollbotError                  anything this program raises on purpose
    ├── CoachviewError              a call to Coachview did not give the expected answer
    │   ├── CoachviewUnavailable    retryable: connection failed, timed out, or a 5xx answer
    │   ├── CoachviewRateLimited    retryable: 429, the daily budget is spent until ``reset_at``
    │   ├── CoachviewAuthError      the token endpoint refused the credentials, or 401 twice
    │   ├── CoachviewRejected       a rejection: 400/422, Coachview refused the body (``body``)
    │   ├── CoachviewForbidden      a rejection: 403, the API client lacks the scope for it
    │   └── CoachviewNotFound       a rejection: 404, no such record
    ├── CatalogueUnavailable        the conversation could not read the catalogue in time
    ├── DraftConflict               a draft changed under us (another update or process won)
    └── SchemaNotCurrent            the database's schema is not this version's: migrate it

Every :class:`CoachviewError` says what comes next, in one of three ways:

- ``retryable``: Coachview could not answer now (an outage or the spent budget); the same call
  may succeed later by itself. The catalogue cache serves its stale copy meanwhile.
- ``rejection``: Coachview answered and refused this very request, and certainly did not act on
  it; sending it again cannot help. The outbox gives such a webaanvraag up (``is_rejection`` in
  ``bot/workers/exactly_once.py`` reads it) and tells staff.
- neither (refused credentials, an answer that cannot be read): something must change in the
  configuration or in Coachview; the outbox keeps the row and tries again (one fix mends all
  rows; the alarm about a stuck outbox tells staff).

``maybe_processed`` says the request went out and no clear answer came back, so Coachview may
have acted on it: look before sending a POST again (such an error is never a rejection). The raw
response body is kept in ``body`` for the logs and the submission record; it is never shown to
enrollees.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

__all__ = [
    "CatalogueUnavailable",
    "CoachviewAuthError",
    "CoachviewError",
    "CoachviewForbidden",
    "CoachviewNotFound",
    "CoachviewRateLimited",
    "CoachviewRejected",
    "CoachviewUnavailable",
    "DraftConflict",
    "EnrollbotError",
    "SchemaNotCurrent",
]


class EnrollbotError(Exception):
    """The root of every exception this program raises on purpose."""


class CoachviewError(EnrollbotError):
    """A call to Coachview failed; see the subclasses for how, and the module docstring for
    ``retryable`` and ``rejection``."""

    retryable: ClassVar[bool] = False
    """An outage: the same call may succeed later by itself."""

    refusal: ClassVar[bool] = False
    """Coachview answered that it will not do the request (400/422, 403, 404)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: str | None = None,
        maybe_processed: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.maybe_processed = maybe_processed

    @property
    def rejection(self) -> bool:
        """Coachview refused this very request and did not act on it: sending the same again
        cannot help (a refusal whose request may still have been processed is not one)."""
        return self.refusal and not self.maybe_processed


class CoachviewUnavailable(CoachviewError):
    """Coachview could not be reached, timed out or answered 5xx: try again later."""

    retryable = True


class CoachviewRateLimited(CoachviewError):
    """429: the request budget is spent; ``reset_at`` is when it is renewed (UTC, if known)."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        reset_at: datetime | None,
        status: int | None = 429,
        body: str | None = None,
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.reset_at = reset_at


class CoachviewAuthError(CoachviewError):
    """The credentials were refused (token endpoint 400/401), or a fresh token got 401 again."""


class CoachviewRejected(CoachviewError):
    """400/422: Coachview refused the request body; ``body`` holds its answer."""

    refusal = True


class CoachviewForbidden(CoachviewError):
    """403: the API client lacks the scope this call needs."""

    refusal = True


class CoachviewNotFound(CoachviewError):
    """404: the record does not exist (or is not visible to this API client)."""

    refusal = True


class CatalogueUnavailable(EnrollbotError):
    """A catalogue read of the conversation failed or took longer than the patience allows.

    ``message`` is the untranslated text for the person ("I can't load the dates right now"),
    as :class:`~conversations.fields.Invalid` carries one; ``cause`` says why, for logs and staff
    (never personal data). The conversation answers it with a *Try again* button.
    """

    def __init__(self, message: str, *, cause: str) -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause


class DraftConflict(EnrollbotError):
    """The draft was changed by someone else between reading and saving it."""


class SchemaNotCurrent(EnrollbotError):
    """The database's schema is not the one this version of the program works with; the text
    is the one line to show the operator (``bot/store/migrations.py``)."""
