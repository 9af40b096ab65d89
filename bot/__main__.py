"""Command line: ``enrollbot`` (or ``python -m bot``).

    enrollbot                     run the bot (TELEGRAM_BOT_TOKEN and COACHVIEW_BASE_URL set)
    enrollbot demo                the local demo against the embedded sandboxes (a checkout's)
    enrollbot outbox              list pending, stuck and rejected submissions
    enrollbot outbox resend ID    queue a rejected submission again (after fixing its cause)
    enrollbot check               pre-flight check of the configuration (read-only)
    enrollbot migrate             bring the database to this version's schema

In the demo (:mod:`bot.demo`), without ``COACHVIEW_BASE_URL`` the embedded Coachview sandbox
serves the catalogue and takes the enrollments; without ``TELEGRAM_BOT_TOKEN`` the embedded
Telegram sandbox stands in for Telegram and this terminal becomes the chat. The bot itself
refuses to start without either: real enrollments never go into a sandbox.
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
from bot.demo import SandboxMissing, require_sandboxes
from bot.errors import SchemaNotCurrent

logger = logging.getLogger("bot")

DEMO_DATABASE = "sqlite:///data/demo.db"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="enrollbot", description="Enroll in courses through Telegram; submits to Coachview."
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot (the default)")
    commands.add_parser(
        "demo", help="the local demo: embedded sandboxes for Coachview and Telegram, if not set"
    )
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


async def run(settings: Settings, *, demo: bool = False) -> None:
    """Run until interrupted (or, in the demo's terminal chat, until the person quits)."""
    from bot.app import Runtime, build_application  # noqa: PLC0415 - fast --help
    from bot.serving import serve  # noqa: PLC0415

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)

    async with contextlib.AsyncExitStack() as stack:
        overrides: dict[str, object] = {}
        chat = None
        if demo:
            # The sandboxes are imported only for the demo: the bot itself never loads them.
            from bot.demo import embed  # noqa: PLC0415

            embedded = await embed(stack, settings)
            settings, overrides, chat = embedded.settings, embedded.overrides, embedded.chat
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


def missing_for_the_bot(settings: Settings) -> str | None:
    """Why the bot itself cannot run with ``settings`` (one line naming the ways out), or
    ``None``: it needs a real Telegram token and a real Coachview."""
    if settings.telegram_bot_token is None:
        return (
            "TELEGRAM_BOT_TOKEN is not set: set it (with COACHVIEW_BASE_URL) to run the bot, "
            "or run `enrollbot demo` for the local demo"
        )
    if settings.coachview_base_url is None:
        return (
            "TELEGRAM_BOT_TOKEN is set but COACHVIEW_BASE_URL is not: set COACHVIEW_BASE_URL "
            "(and its credentials), or run `enrollbot demo` to keep enrollments in the embedded "
            "Coachview sandbox"
        )
    return None


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
        demo = args.command == "demo"
        if not demo and (missing := missing_for_the_bot(settings)) is not None:
            print(f"enrollbot: configuration error: {missing}", file=sys.stderr)
            return 2
        if demo:
            require_sandboxes()  # before the demo's log file, as in the image
        _setup_logging(settings, demo=demo and settings.demo)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run(settings, demo=demo))
    except SchemaNotCurrent as error:
        print(f"enrollbot: {error}", file=sys.stderr)
        return 2
    except SandboxMissing as error:
        print(f"enrollbot: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
