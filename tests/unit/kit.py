"""What several unit tests build the same way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.clock import ManualClock
from bot.coachview.client import CoachviewClient
from bot.config import load_settings
from bot.services import Services
from bot.store.db import create_tables, open_engine


@asynccontextmanager
async def unit_services(database: Path | str, **settings: Any) -> AsyncIterator[Services]:
    """Services on a fresh database (an SQLite file's path, or a URL), a manual clock and a
    client that reaches nothing."""
    url = database if isinstance(database, str) else f"sqlite:///{database}"
    config = load_settings(env_file=None, database_url=url, **settings)
    engine = open_engine(config.database_url)
    create_tables(engine)
    client = CoachviewClient("http://127.0.0.1:9", "id", "secret")
    yield Services(settings=config, db=engine, coachview=client, clock=ManualClock())
    await client.aclose()
    engine.dispose()
