"""The bot's side of the Telegram Bot API, below python-telegram-bot's: HTTP over aiohttp
(:mod:`~bot.telegram.http`), Telegram's limits in one place (:mod:`~bot.telegram.limits`), and
the pacing of everything sent within them (:mod:`~bot.telegram.rate`)."""
