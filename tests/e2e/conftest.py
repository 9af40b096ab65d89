"""Every end-to-end test runs twice, on SQLite and on PostgreSQL (:func:`on_both_databases`).

The staff desk: the bot with a staff member and a staff group; the bot and Coachview share a
clock that stands still, so dates in answers are known and nothing expires by itself."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.clock import ManualClock
from sandbox.coachview import CoachviewSandbox, StoredWebaanvraag
from sandbox.telegram import ChatMessage, SandboxGroup, SandboxUser, TelegramSandbox
from tests.harness import Person, RunningBot, running_bot

#: The time in these tests: webaanvragen are received "2 Mar 2026, 09:00" Dutch time.
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def text(message: ChatMessage) -> str:
    """The text of a message that has one."""
    assert message.text is not None, message.describe()
    return message.text


@dataclass
class StaffDesk:
    """The running bot; Sam (staff, English) and Kees (not staff) in the staff group."""

    bot: RunningBot
    sam: Person
    kees: Person
    group: SandboxGroup

    @property
    def coachview(self) -> CoachviewSandbox:
        return self.bot.coachview

    async def webaanvraag(self, body: dict[str, Any] | str) -> StoredWebaanvraag:
        """A webaanvraag in Coachview, posted as another website would."""
        payload = json.loads(body) if isinstance(body, str) else body
        created = await self.bot.services.coachview.create_webaanvraag(payload)
        stored = self.coachview.webaanvraag(created.nummer)
        assert stored is not None
        return stored

    async def in_group(self, text: str, *, by: SandboxUser) -> None:
        """``by`` writes ``text`` in the staff group; wait until the bot handled it."""
        await self.group.send(text, by=by)
        await self.bot.settle()


@pytest.fixture(autouse=True)
def on_both_databases(database_url: str) -> str:
    """Each test here once with ``[sqlite]`` and once with ``[postgresql]``: the bot it starts
    takes ``database_url``."""
    return database_url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
async def desk(
    telegram: TelegramSandbox, clock: ManualClock, database_url: str
) -> AsyncIterator[StaffDesk]:
    sam = telegram.user("Sam", language_code="en")
    kees = telegram.user("Kees", language_code="en")
    group = telegram.group("Staff", [sam, kees])
    async with (
        CoachviewSandbox(clock=clock) as coachview,
        running_bot(
            telegram,
            coachview,
            database_url,
            clock=clock,
            staff_user_ids=str(sam.id),
            staff_chat_id=group.id,
        ) as bot,
    ):
        yield StaffDesk(bot, Person(bot, sam), Person(bot, kees), group)
