"""One submission worker alone in its process, configured by the environment like the bot:
``python -m tests.outbox_worker``. The tests of several workers sharing a database start two
(the bot's own process cannot be started twice: one Telegram token has one reader of updates).
"""

from __future__ import annotations

import asyncio
import logging

from bot.clock import SystemClock
from bot.coachview.client import CoachviewClient
from bot.config import load_settings
from bot.services import Services
from bot.store.db import create_tables, open_engine
from bot.workers.submission import SubmissionWorker


async def main() -> None:
    settings = load_settings(env_file=None)
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    db = open_engine(settings.database_url)
    create_tables(db)
    async with CoachviewClient.from_settings(settings) as coachview:
        services = Services(settings=settings, db=db, coachview=coachview, clock=SystemClock())
        await SubmissionWorker(services).run()


if __name__ == "__main__":
    asyncio.run(main())
