"""Deep links within Telegram's rules for the ``start`` parameter, for every seeded course."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.links import PAYLOAD, deep_link
from sandbox.coachview import seed_catalogue


def test_every_course_type_and_date_fits_in_a_deep_link() -> None:
    catalogue = seed_catalogue(datetime(2026, 3, 2, tzinfo=UTC))
    ids = [s["id"] for s in catalogue.opleidingssoorten] + [o["id"] for o in catalogue.opleidingen]
    for key in ids:
        assert PAYLOAD.fullmatch(key), key
        assert deep_link("enrollbot_sandbox_bot", key) == (
            f"https://t.me/enrollbot_sandbox_bot?start={key}"
        )


@pytest.mark.parametrize("key", ["", "a b", "x" * 65, "café", "VCA/B"])
def test_what_telegram_would_not_take_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="deep-link payload"):
        deep_link("enrollbot_sandbox_bot", key)
