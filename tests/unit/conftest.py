"""Fixtures of the store tests: one database, reached as several processes reach it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine

from bot.store.db import create_tables, open_engine


@pytest.fixture
def database(database_url: str) -> Iterator[Callable[[], Engine]]:
    """Engines on one database, SQLite or PostgreSQL (one per simulated process: each has its
    own connections, as a process has), at the current schema; disposed afterwards."""
    made: list[Engine] = []

    def engine() -> Engine:
        made.append(open_engine(database_url))
        create_tables(made[-1])
        return made[-1]

    yield engine
    for each in made:
        each.dispose()
