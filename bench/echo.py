"""The floor: a bare python-telegram-bot echo bot, one ``sendMessage`` per text.

Run as its own process (``python -m bench.echo``) with ``TELEGRAM_BOT_TOKEN`` and
``TELEGRAM_API_URL``, as the bot is: same Bot API server, same HTTP settings (connections,
timeouts), same concurrency (as many updates at once as connections,
``bot.app.CONCURRENT_UPDATES``), same logging, same long polling. What it costs per update is
what python-telegram-bot itself costs; the bot is measured against it.

The transport is PTB's default (``HTTPXRequest``): the issue's floor is a bare PTB bot.
``ECHO_HTTP=aiohttp`` puts it on the bot's own transport (``bot/telegram/http.py``) instead,
which shows the bot's own work alone (``BENCH_FLOOR_HTTP=aiohttp python -m bench ...``;
bench/README.md).
"""

from __future__ import annotations

import logging
import os

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest, HTTPXRequest

from bot.telegram.http import AiohttpRequest

# The bot's own setting, read without importing bot.app (and all the bot) into the floor.
CONCURRENT_UPDATES = 64


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say the text back."""
    message = update.effective_message
    if message is not None and message.text is not None:
        await context.bot.send_message(message.chat_id, message.text)


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    api = os.environ["TELEGRAM_API_URL"].rstrip("/")
    request: BaseRequest
    get_updates_request: BaseRequest
    if os.environ.get("ECHO_HTTP", "httpx") == "httpx":
        request = HTTPXRequest(
            connection_pool_size=CONCURRENT_UPDATES,
            read_timeout=15,
            write_timeout=15,
            pool_timeout=10,
        )
        get_updates_request = HTTPXRequest(read_timeout=40)
    else:
        request = AiohttpRequest(
            connection_pool_size=CONCURRENT_UPDATES, read_timeout=15, pool_timeout=10
        )
        get_updates_request = AiohttpRequest(read_timeout=40)
    application = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .request(request)
        .get_updates_request(get_updates_request)
        .concurrent_updates(CONCURRENT_UPDATES)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(poll_interval=0.0, timeout=30, allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
