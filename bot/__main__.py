"""Command line: ``enrollbot`` (or ``python -m bot``).

    enrollbot                     run the bot; without TELEGRAM_BOT_TOKEN, the local demo
    enrollbot outbox              list pending, stuck and rejected submissions
    enrollbot outbox resend ID    queue a rejected submission again (after fixing its cause)
    enrollbot check               pre-flight check of the configuration (read-only)
    enrollbot migrate             bring the database to this version's schema

Without ``COACHVIEW_BASE_URL`` the embedded Coachview sandbox serves the catalogue and takes
the enrollments; without ``TELEGRAM_BOT_TOKEN`` the embedded Telegram sandbox stands in for
Telegram and this terminal becomes the chat.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.errors import SchemaNotCurrent

logger = logging.getLogger("bot")

DEMO_DATABASE = "sqlite:///data/demo.db"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="enrollbot", description="Enroll in courses through Telegram; submits to Coachview."
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot (the default; the demo without a token)")
    box = commands.add_parser("outbox", help="submissions waiting for or refused by Coachview")
    box_commands = box.add_subparsers(dest="outbox_command")
    box_commands.add_parser("list", help="list pending, stuck and rejected submissions")
    resend = box_commands.add_parser("resend", help="queue a rejected submission again")
    resend.add_argument("id", type=int, help="the outbox id (from `enrollbot outbox`)")
    check = commands.add_parser(
        "check", help="check Coachview and Telegram before go-live (read-only; exit 0: ready)"
    )
    check.add_argument(
        "--strict-sandbox",
        action="store_true",
        help="without COACHVIEW_BASE_URL: a sandbox that refuses every unverified guess",
    )
    commands.add_parser("migrate", help="bring the database to this version's schema")
    return parser


def _setup_logging(settings: Settings, *, demo: bool) -> None:
    from bot.logs import formatter  # noqa: PLC0415 - fast --help

    handler: logging.Handler
    if demo:
        # The terminal is the chat: log to a file, and only problems to the screen.
        Path("data").mkdir(exist_ok=True)
        handler = logging.FileHandler("data/demo.log")
    else:
        handler = logging.StreamHandler()
    handler.setFormatter(formatter(settings.log_format))
    logging.basicConfig(level=settings.log_level, handlers=[handler])
    if demo:
        console = logging.StreamHandler()
        console.setLevel(logging.WARNING)
        logging.getLogger().addHandler(console)
    # Bot API URLs contain the token: keep the HTTP libraries quiet.
    for noisy in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Privacy: python-telegram-bot logs every update (names, message texts) at DEBUG; the bot's
    # own DEBUG lines carry no personal data, PTB's stay at INFO.
    if settings.log_level == "DEBUG":
        logging.getLogger("telegram").setLevel(logging.INFO)


async def run(settings: Settings) -> None:
    """Run until interrupted (or, in the demo, until the person quits the chat)."""
    from bot.app import Runtime, build_application  # noqa: PLC0415 - fast --help
    from bot.serving import serve  # noqa: PLC0415

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)

    async with contextlib.AsyncExitStack() as stack:
        overrides: dict[str, object] = {}
        # The sandboxes are imported only when they serve: a bot with real credentials
        # starts faster and smaller without them (bench/README.md).
        if settings.coachview_base_url is None:
            from bot.sandbox.coachview import CoachviewSandbox  # noqa: PLC0415

            coachview = await stack.enter_async_context(CoachviewSandbox())
            overrides.update(
                coachview_base_url=coachview.url,
                coachview_client_id=coachview.client_id,
                coachview_client_secret=coachview.client_secret,
            )
            logger.warning("No COACHVIEW_BASE_URL: using the embedded Coachview sandbox.")
        chat = None
        if settings.demo:
            from bot.sandbox.chat import TerminalChat  # noqa: PLC0415
            from bot.sandbox.telegram import TelegramSandbox  # noqa: PLC0415

            telegram = await stack.enter_async_context(TelegramSandbox())
            overrides.update(token=telegram.token, telegram_api_url=telegram.url)
            chat = TerminalChat(telegram, language_code=settings.default_language)
            if not settings.staff_user_ids:
                # The person at the terminal is staff too, and the staff chat is theirs: the
                # demo shows the staff commands and the notifications as well.
                settings = settings.model_copy(
                    update={
                        "staff_user_ids": frozenset({chat.user.id}),
                        "staff_chat_id": settings.staff_chat_id or chat.user.id,
                    }
                )
        runtime = Runtime.from_settings(settings, **overrides)
        application = build_application(settings, runtime)
        async with serve(application, settings, runtime):
            logger.info("taking updates by %s", "webhook" if settings.webhook_url else "polling")
            if chat is None:
                await stop.wait()
                return
            chat_task = asyncio.create_task(chat.run())
            stop_task = asyncio.create_task(stop.wait())
            await asyncio.wait({chat_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
            for task in (chat_task, stop_task):
                task.cancel()


def outbox_command(settings: Settings, args: argparse.Namespace) -> int:
    """The operator's view of the outbox."""
    from bot.outbox_cli import list_outbox, resend_outbox  # noqa: PLC0415

    if args.outbox_command == "resend":
        return resend_outbox(settings, args.id)
    return list_outbox(settings)


def migrate_command(settings: Settings) -> int:
    """``enrollbot migrate``: run the migrations the database has not had yet."""
    from alembic.util import CommandError  # noqa: PLC0415
    from sqlalchemy.exc import OperationalError  # noqa: PLC0415

    from bot.store import migrations  # noqa: PLC0415
    from bot.store.db import open_engine  # noqa: PLC0415

    engine = open_engine(settings.database_url)
    try:
        before, now = migrations.upgrade(engine)
    except OperationalError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        print(f"enrollbot: cannot migrate the database: {reason}", file=sys.stderr)
        return 1
    except CommandError as error:  # a revision this version does not know: a newer one's
        print(
            f"enrollbot: cannot migrate the database: {error} (a newer version of enrollbot "
            "migrated it)",
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()
    if before == now:
        print(f"The database is at schema revision {now} already: nothing to do.")
    else:
        print(f"The database is migrated from schema revision {before or 'none'} to {now}.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, load the settings once, run."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"enrollbot: configuration error: {error}", file=sys.stderr)
        return 2
    if settings.demo and "database_url" not in settings.model_fields_set:
        settings = settings.model_copy(update={"database_url": DEMO_DATABASE})
    if args.command == "migrate":
        logging.basicConfig(level=logging.WARNING)
        return migrate_command(settings)
    try:
        if args.command == "outbox":
            logging.basicConfig(level=logging.WARNING)
            return outbox_command(settings, args)
        if args.command == "check":
            from bot.preflight import check_command  # noqa: PLC0415 - fast --help

            # The table says everything; the client's warnings would repeat it.
            logging.basicConfig(level=logging.ERROR)
            return check_command(settings, strict_sandbox=args.strict_sandbox)
        _setup_logging(settings, demo=settings.demo)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run(settings))
    except SchemaNotCurrent as error:
        print(f"enrollbot: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
