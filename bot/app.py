"""The composition root: builds the Application and everything it runs with.

The builder chain (Bot API server, per-chat ordering, typed context, lifecycle hooks), then the
handlers in the order they are tried (staff commands before the enrollment's answer to unknown
commands), then the error handler. The database engine, the one Coachview client and the
background workers (submissions, notifications, draft reminders) are opened in ``post_init``
and closed in ``post_stop``/``post_shutdown``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any, cast

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot import inline, links, staff
from bot.clock import Clock, SystemClock
from bot.coachview.client import CoachviewClient
from bot.config import Settings
from bot.floods import FloodGuard, slow_down
from bot.i18n import DEFAULT_LANGUAGE, pick_language, translator
from bot.metrics import ArrivalQueue, MeasuredProcessor, Metrics
from bot.services import BotContext, BotData, Services
from bot.store import migrations
from bot.store.db import open_engine
from bot.telegram.http import AiohttpRequest
from bot.telegram.limits import TelegramLimits
from bot.telegram.rate import TelegramRateLimiter
from bot.updates import ChatOrderedProcessor, DurableBot, Inbox, UnpersistedApplication
from bot.workers import course_reminders
from bot.workers.notify import Notifier
from bot.workers.reminders import DraftKeeper
from bot.workers.retention import Retention
from bot.workers.submission import SubmissionWorker
from conversations import handlers as conversation
from conversations import privacy

__all__ = ["ALLOWED_UPDATES", "Runtime", "build_application", "lifecycle", "polling"]

logger = logging.getLogger(__name__)

BotApplication = Application[Any, BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]

CONCURRENT_UPDATES = 64
"""Updates handled at once, and as many connections to the Bot API. With more updates than
connections, a burst (1,000 people at once) left replies waiting for a connection until PTB gave
up on them (``TimedOut: Pool timeout``) and the person heard nothing; updates now wait in PTB's
queue instead, where waiting costs nothing (bench/README.md)."""

ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
"""The kinds of update the handlers act on: all that Telegram is asked to send a webhook."""

QUERY_TOO_OLD = "query is too old"
"""Telegram's answer to ``answerCallbackQuery`` after its window (lower case)."""


@dataclass
class Runtime:
    """How this process reaches the world: where Coachview and Telegram are, which token.

    The bot token and Coachview's client secret are left out of ``repr``: a runtime in a log
    line or a traceback shows neither.
    """

    token: str = field(repr=False)
    telegram_api_url: str
    coachview_base_url: str
    coachview_client_id: str
    coachview_client_secret: str = field(repr=False)
    clock: Clock = field(default_factory=SystemClock)
    limits: TelegramLimits = field(default_factory=TelegramLimits)
    run_workers: bool = True
    background: list[asyncio.Task[None]] = field(default_factory=list)
    metrics: Metrics = field(default_factory=Metrics)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> Runtime:
        """The runtime the settings describe (the demo fills in the sandboxes' addresses)."""
        values: dict[str, Any] = {
            "token": settings.telegram_bot_token.get_secret_value()
            if settings.telegram_bot_token
            else "",
            "telegram_api_url": str(settings.telegram_api_url).rstrip("/"),
            "coachview_base_url": str(settings.coachview_base_url or "").rstrip("/"),
            "coachview_client_id": settings.coachview_client_id or "",
            "coachview_client_secret": settings.coachview_client_secret.get_secret_value()
            if settings.coachview_client_secret
            else "",
        }
        values.update(overrides)
        return cls(**values)


def build_application(settings: Settings, runtime: Runtime) -> BotApplication:
    """The bot, ready to ``initialize``/``start`` (or ``run_polling``)."""
    inbox = Inbox()
    bot = DurableBot(
        inbox=inbox,
        token=runtime.token,
        base_url=f"{runtime.telegram_api_url}/bot",
        base_file_url=f"{runtime.telegram_api_url}/file/bot",
        request=AiohttpRequest(
            connection_pool_size=CONCURRENT_UPDATES,
            read_timeout=15,
            # The notifier shares the connections: a short wait for one, not a lost reply.
            pool_timeout=10,
        ),
        get_updates_request=AiohttpRequest(read_timeout=40),
        rate_limiter=TelegramRateLimiter(runtime.limits, pace_replies=settings.reply_pacing),
    )
    application = cast(
        BotApplication,
        ApplicationBuilder()
        .application_class(UnpersistedApplication)
        .bot(bot)
        .update_queue(ArrivalQueue(runtime.metrics))
        .concurrent_updates(
            MeasuredProcessor(
                CONCURRENT_UPDATES,
                inbox=inbox,
                metrics=runtime.metrics,
                floods=FloodGuard(settings.flood_messages, settings.flood_window.total_seconds()),
            )
        )
        .context_types(ContextTypes(context=BotContext, bot_data=BotData))
        .post_init(lambda app: _post_init(app, settings, runtime))
        .post_stop(lambda app: _post_stop(app, runtime))
        .post_shutdown(_post_shutdown)
        .build(),
    )
    staff.register(application, settings)
    links.register(application, settings)
    inline.register(application)
    course_reminders.register(application)

    privacy.register(application)
    conversation.register(application)
    application.add_error_handler(on_error)
    return application


@contextlib.asynccontextmanager
async def polling(
    application: BotApplication, *, poll_timeout: timedelta = timedelta(seconds=30)
) -> AsyncIterator[BotApplication]:
    """Run ``application`` with long polling until the block ends.

    The same sequence as PTB's ``run_polling`` (initialize, ``post_init``, start polling,
    start; then stop polling, stop, ``post_stop``, shutdown, ``post_shutdown``), without taking
    over the event loop, so the demo and the tests can run beside it.
    """
    updater = application.updater
    if updater is None:
        raise RuntimeError("the application was built without an updater")

    async def start() -> None:
        await updater.start_polling(
            poll_interval=0.0, timeout=poll_timeout, allowed_updates=Update.ALL_TYPES
        )

    async def stop() -> None:
        if updater.running:
            await updater.stop()

    async with lifecycle(application, start, stop):
        yield application


@contextlib.asynccontextmanager
async def lifecycle(
    application: BotApplication,
    start_receiving: Callable[[], Awaitable[None]],
    stop_receiving: Callable[[], Awaitable[None]],
) -> AsyncIterator[BotApplication]:
    """Run ``application`` until the block ends, taking updates in as ``start_receiving`` does.

    PTB's order: initialize, ``post_init``, start receiving, start; then stop receiving (take
    nothing new), stop (finish what was taken), ``post_stop``, shutdown, ``post_shutdown``.
    """
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await start_receiving()
        await application.start()
        try:
            yield application
        finally:
            await stop_receiving()
            if application.running:
                await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


async def _post_init(application: BotApplication, settings: Settings, runtime: Runtime) -> None:
    db = open_engine(settings.database_url)
    try:
        migrations.prepare(db, migrate=settings.migrate_on_start)
    except migrations.SchemaNotCurrent:
        db.dispose()
        raise
    coachview = CoachviewClient(
        runtime.coachview_base_url,
        runtime.coachview_client_id,
        runtime.coachview_client_secret,
        settings.coachview_scope,
        catalogue_ttl=settings.catalogue_ttl,
        clock=runtime.clock,
        reference_field=settings.coachview_reference_field,
    )
    services = Services(settings=settings, db=db, coachview=coachview, clock=runtime.clock)
    application.bot_data.services = services
    runtime.metrics.watch(application, cast(TelegramRateLimiter, application.bot.rate_limiter))
    processor = application.update_processor
    if isinstance(processor, ChatOrderedProcessor):
        processor.on_flood = partial(slow_down, application.bot, services)
    inbox = cast(DurableBot, application.bot).inbox
    inbox.open(db, runtime.clock)
    await inbox.replay(application)
    await conversation.set_commands(application)
    await staff.set_commands(application)
    if runtime.run_workers:
        runtime.background.append(asyncio.create_task(SubmissionWorker(services).run()))
        limiter = cast(TelegramRateLimiter, application.bot.rate_limiter)
        notifier = Notifier(services, application.bot, limiter)
        runtime.background.append(asyncio.create_task(notifier.run()))
        runtime.background.append(asyncio.create_task(DraftKeeper(services).run()))
        if settings.course_reminders:
            keeper = course_reminders.CourseReminderKeeper(services)
            runtime.background.append(asyncio.create_task(keeper.run()))

        runtime.background.append(asyncio.create_task(Retention(services).run()))
    logger.info("bot @%s ready", application.bot.username)


async def _post_stop(application: BotApplication, runtime: Runtime) -> None:
    cast(DurableBot, application.bot).inbox.flush()
    for task in runtime.background:
        task.cancel()
    for task in runtime.background:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    runtime.background.clear()


async def _post_shutdown(application: BotApplication) -> None:
    services = application.bot_data.services
    if services is not None:
        await services.coachview.aclose()
        services.db.dispose()


async def on_error(update: object, context: BotContext) -> None:
    """Log first, then tell the person something went wrong (in their language).

    One failure is not the bot's: Telegram takes the answer to a pressed button only for
    about 15 seconds, and under a heavy load the answer can come later. The press has been
    handled (the question moved on); only the button's spinner stopped on its own. That is a
    one-line warning, and the person is not told that something went wrong.
    """
    error = context.error
    if isinstance(error, BadRequest) and QUERY_TOO_OLD in error.message.lower():
        logger.warning("a pressed button was answered too late for Telegram: %s", error.message)
        return
    logger.error("error while handling an update", exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    services = context.bot_data.services
    default = services.settings.default_language if services else DEFAULT_LANGUAGE
    t = translator(pick_language(None, user.language_code if user else None, default))
    text = t._(
        "Sorry, something went wrong on my side. Your answers so far are saved; "
        "please try again in a moment."
    )
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        else:
            await context.bot.send_message(update.effective_chat.id, text)
    except Exception:
        logger.warning("could not tell the person about the error either", exc_info=True)
