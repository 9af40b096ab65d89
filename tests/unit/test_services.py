"""The language cache of :class:`~bot.services.Services`: no query per update, flat memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event

from bot import services as services_module
from bot.services import Services
from tests.unit.kit import unit_services


@pytest.fixture
async def services(database_url: str) -> AsyncIterator[Services]:
    async with unit_services(database_url, default_language="nl") as services:
        yield services


def count_queries(services: Services) -> list[str]:
    """The SELECTs sent to the database from now on."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        if args[2].startswith("SELECT"):
            statements.append(args[2])

    event.listen(services.db, "before_cursor_execute", record)
    return statements


async def test_a_language_is_read_once_and_a_choice_is_kept(services: Services) -> None:
    services.remember_language(1, "en")
    queries = count_queries(services)
    assert services.language_of(1, "nl") == "en"  # the choice beats Telegram's language
    assert services.language_of(2, "en") == "en"  # no choice: Telegram's
    assert services.language_of(3, None) == "nl"  # neither: the default
    assert len(queries) == 2  # person 1's choice was cached when made
    for _ in range(3):
        services.language_of(2, "en")
        services.language_of(3, None)
    assert len(queries) == 2
    services.remember_language(3, "en")
    assert services.language_of(3, None) == "en"


async def test_the_cache_keeps_those_who_spoke_last(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services_module, "LANGUAGE_CACHE", 3)
    services.remember_language(1, "en")
    for user_id in (2, 3):
        services.language_of(user_id, None)
    services.language_of(1, None)  # person 1 spoke again: now the most recent
    services.language_of(4, None)  # the cache is full: person 2, the least recent, goes
    queries = count_queries(services)
    assert services.language_of(1, None) == "en"
    assert services.language_of(3, None) == "nl"
    assert queries == []
    assert services.language_of(2, None) == "nl"
    assert len(queries) == 1  # read again
    assert len(services._languages) == 3
