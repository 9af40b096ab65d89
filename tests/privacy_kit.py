"""For the privacy tests: a person who enrolls with values found nowhere else, and a search of
every table of the bot's database for them."""

from __future__ import annotations

import json
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlmodel import SQLModel

from bot.updates import DurableBot
from tests.harness import Person, RunningBot

FIRST: Final = "Zorbalina"
LAST: Final = "Quixwater"
EMAIL: Final = "zorbalina@quixwater.example"
PHONE: Final = "06 47158293"
COMPANY: Final = "Quixwater Holding"
COLLEAGUE_FIRST: Final = "Bertrando"
COLLEAGUE_LAST: Final = "Yllowhammer"
COLLEAGUE_EMAIL: Final = "bertrando@yllow.example"
REMARK: Final = "Glutenvrij graag, xyzzy"
#: What to look for: each value above, or a part of it no other text contains (the phone
#: number as stored, +31647158293, and as shown, +31 6 47158293, share its last digits).
VALUES: Final = (
    FIRST,
    LAST,
    EMAIL,
    "47158293",
    COLLEAGUE_FIRST,
    COLLEAGUE_LAST,
    COLLEAGUE_EMAIL,
    "xyzzy",
)
SEND: Final = "✅ Send enrollment"


async def fill_in(person: Person, run: str) -> None:
    """From /start to the review: the person, a colleague, a remark; all distinctive."""
    await person.say(f"/start {run}")
    await person.answers(FIRST, None, LAST, EMAIL, PHONE, COMPANY)
    await person.answers(
        "Yes, I will attend", "Yes", COLLEAGUE_FIRST, None, COLLEAGUE_LAST, COLLEAGUE_EMAIL, "No"
    )
    await person.answer(REMARK)
    assert person.text.startswith("Please check your enrollment"), person.text


def found_in(text: str) -> list[str]:
    """The values that occur in ``text`` (case-insensitive)."""
    folded = text.casefold()
    return [value for value in VALUES if value.casefold() in folded]


def _as_text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def traces(bot: RunningBot, user_id: int) -> list[str]:
    """Every place in the database that holds one of the values or the person's Telegram id,
    as ``table.column: value``; every table, every row, every column."""
    found = []
    with bot.services.db.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    text = _as_text(value)
                    hits = found_in(text)
                    if value == user_id or (
                        isinstance(value, dict | list) and _has_id(value, user_id)
                    ):
                        hits.append(f"id {user_id}")
                    if hits:
                        found.append(f"{table.name}.{column}: {', '.join(hits)}")
    return found


def _has_id(value: Any, user_id: int) -> bool:
    if isinstance(value, dict):
        return any(item == user_id or _has_id(item, user_id) for item in value.values())
    if isinstance(value, list):
        return any(item == user_id or _has_id(item, user_id) for item in value)
    return False


def flush_inbox(bot: RunningBot) -> None:
    """Strike the handled updates from the inbox now (the bot does it within a second)."""
    cast(DurableBot, bot.application.bot).inbox.flush()
