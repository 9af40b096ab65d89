"""Two senders over one database never send the same notification twice."""

from __future__ import annotations

import asyncio
import contextlib

from sqlmodel import Session, col, select

from bot.store import notifications
from bot.store.models import Notification, NotificationStatus
from bot.telegram.limits import TelegramLimits
from bot.telegram.rate import TelegramRateLimiter
from bot.workers.notify import Notifier
from tests.harness import RunningBot


def all_sent(bot: RunningBot) -> bool:
    with Session(bot.services.db) as session:
        rows = session.exec(select(Notification).where(col(Notification.key).startswith("test:")))
        return all(row.status == NotificationStatus.SENT for row in rows)


async def test_two_senders_deliver_each_notification_once(enrollbot: RunningBot) -> None:
    anna = enrollbot.telegram.user("Anna", language_code="en")
    services = enrollbot.services
    limiter = TelegramRateLimiter(TelegramLimits.unlimited())
    second = Notifier(services, enrollbot.application.bot, limiter)
    with services.session() as session:
        for number in range(40):
            notifications.enqueue(
                session,
                key=f"test:{number}",
                chat_id=anna.id,
                text=f"notice {number}",
                now=services.clock.now(),
            )
        session.commit()
    task = asyncio.create_task(second.run())
    services.wake_notifications()
    try:
        await enrollbot.wait_for(lambda: all_sent(enrollbot), timeout=60)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    texts = [message.text for message in anna.messages]
    assert sorted(texts, key=lambda t: int((t or "0").split()[-1])) == [
        f"notice {n}" for n in range(40)
    ]
