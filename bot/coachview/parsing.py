"""From Coachview's JSON answers to the typed records of :mod:`bot.coachview.models`.

A single record that does not fit its model fails the call (:class:`~bot.errors.CoachviewError`,
the answer kept in ``body``). In a list, a record the bot cannot use is left out and never fails
the others: it becomes a :class:`~bot.coachview.models.SkippedRecord` (which names the record's
id and field, never a value, which may be personal data), remembered per list by
:class:`SkipLog` and logged once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from bot.coachview.budget import body_of
from bot.coachview.models import SkippedRecord
from bot.errors import CoachviewError

__all__ = ["SkipLog", "parse", "parse_list"]

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

MAX_SKIP_LISTS = 500
"""The most lists whose skipped records are remembered (the oldest is forgotten first)."""


def _unexpected(response: httpx.Response, err: Exception) -> CoachviewError:
    return CoachviewError(
        f"Coachview's answer to {response.request.method} {response.request.url.path} "
        f"is not what was expected ({type(err).__name__})",
        status=response.status_code,
        body=body_of(response),
    )


def _skip_reason(error: Mapping[str, Any]) -> str:
    """What was wrong with a field, in words that never quote its value."""
    kind = str(error.get("type", ""))
    if kind == "missing":
        return "missing"
    if kind == "value_error":
        return "unreadable value"
    return str(error.get("msg", kind))


def _skipped(entity: str, item: Any, err: ValidationError) -> SkippedRecord:
    """The :class:`SkippedRecord` of a list item that failed its model."""
    if not isinstance(item, dict):
        return SkippedRecord(entity, None, "", "not an object")
    raw_id = item.get("id")
    record_id = str(raw_id) if isinstance(raw_id, str | int) and str(raw_id).strip() else None
    first = err.errors(include_url=False, include_input=False, include_context=False)[0]
    field = ".".join(str(part) for part in first["loc"])
    return SkippedRecord(entity, record_id, field, _skip_reason(first))


def parse(response: httpx.Response, model: type[M]) -> M:
    """The one record of ``response``; :class:`CoachviewError` when it does not fit."""
    try:
        data = response.json()
    except ValueError as err:
        raise _unexpected(response, err) from err
    try:
        return model.model_validate(data)
    except ValidationError as err:
        entity = response.request.url.path.rstrip("/").rsplit("/", 2)[-2]
        skip = _skipped(entity, data, err)
        logger.warning(
            "Coachview %s record %s cannot be used: field %r: %s",
            skip.entity,
            skip.id or "without id",
            skip.field,
            skip.reason,
        )
        raise _unexpected(response, err) from err


def parse_list(response: httpx.Response, model: type[M]) -> tuple[list[M], list[SkippedRecord]]:
    """The records of a list answer that fit ``model``, and those left out. An answer that is
    not a JSON array fails as a whole; a record never fails the others."""
    try:
        data = response.json()
        if not isinstance(data, list):
            raise TypeError("expected a JSON array")
    except (ValueError, TypeError) as err:
        raise _unexpected(response, err) from err
    entity = response.request.url.path.rstrip("/").rsplit("/", 1)[-1]
    items: list[M] = []
    skips: list[SkippedRecord] = []
    for item in data:
        try:
            items.append(model.model_validate(item))
        except ValidationError as err:
            skips.append(_skipped(entity, item, err))
    return items, skips


class SkipLog:
    """The records the latest fetch of each list left out, by list key."""

    def __init__(self) -> None:
        self._skips: dict[str, list[SkippedRecord]] = {}

    @property
    def records(self) -> list[SkippedRecord]:
        return [skip for skips in self._skips.values() for skip in skips]

    def note(self, list_key: str, skips: list[SkippedRecord]) -> None:
        """Remember the skips of the latest fetch of a list; log one warning per skip that
        the previous fetch of that list did not have."""
        before = set(self._skips.pop(list_key, []))
        for skip in skips:
            if skip not in before:
                logger.warning(
                    "Coachview %s record %s skipped: field %r: %s",
                    skip.entity,
                    skip.id or "without id",
                    skip.field,
                    skip.reason,
                )
        if skips:
            self._skips[list_key] = skips
            while len(self._skips) > MAX_SKIP_LISTS:
                del self._skips[next(iter(self._skips))]
