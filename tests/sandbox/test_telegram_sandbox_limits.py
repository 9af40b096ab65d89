"""Telegram's sending limits and the failures a test can ask for, as PTB experiences them.

The limits are scaled down (few messages, long windows) so that no test depends on how fast
the machine is: the refused message is always well inside its window.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import telegram
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.telegram.limits import TelegramLimits
from sandbox.telegram import TelegramSandbox
from sandbox.telegram.ratelimit import RateLimiter
from tests.telegram_helpers import make_bot, refused

pytest_plugins = ("tests.telegram_fixtures",)


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns when RetryAfter.retry_after is read as int; opt in to timedelta."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


# -- The limits as the sandbox enforces them --------------------------------------------------


async def test_one_chat_gets_a_short_burst_then_429() -> None:
    limits = TelegramLimits(
        per_chat_interval=60, per_chat_burst=3, group_window=0, global_window=0
    )
    async with TelegramSandbox(limits=limits) as sandbox, make_bot(sandbox) as bot:
        anna, bob = sandbox.user("Anna"), sandbox.user("Bob")
        for number in range(3):
            await bot.send_message(anna.id, f"bericht {number}")
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(anna.id, "een te veel")
        assert raised.value.retry_after == timedelta(seconds=60)
        assert sandbox.calls[-1].description == "Too Many Requests: retry after 60"
        await bot.send_message(bob.id, "een ander gesprek mag nog")
        # Edits, chat actions and callback answers are not messages and do not count.
        await bot.edit_message_text("bewerkt", anna.id, anna.messages[0].message_id)
        await bot.send_chat_action(anna.id, "typing")
    assert len(anna.messages) == 3
    (violation,) = sandbox.rate_limit_violations
    assert violation.method == "sendMessage"
    assert violation.params["chat_id"] == anna.id
    assert (violation.error_code, violation.retry_after) == (429, 60)


async def test_a_group_gets_its_messages_per_window_then_429() -> None:
    limits = TelegramLimits(
        per_chat_interval=0, group_messages=3, group_window=600, global_window=0
    )
    async with TelegramSandbox(limits=limits) as sandbox, make_bot(sandbox) as bot:
        anna = sandbox.user("Anna")
        staff = sandbox.group("Staff", [anna])
        for number in range(3):
            await bot.send_message(staff.id, f"melding {number}")
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(staff.id, "een te veel")
        waited = raised.value.retry_after
        assert isinstance(waited, timedelta)
        assert timedelta(seconds=590) < waited <= timedelta(seconds=600)
        for number in range(5):  # private chats have no such limit here
            await bot.send_message(anna.id, f"privé {number}")
    assert len(staff.messages) == 3 and len(anna.messages) == 5
    assert [call.params["chat_id"] for call in sandbox.rate_limit_violations] == [staff.id]


async def test_all_chats_together_get_their_messages_per_second_then_429() -> None:
    limits = TelegramLimits(
        per_chat_interval=0, group_window=0, global_messages=4, global_window=30
    )
    async with TelegramSandbox(limits=limits) as sandbox, make_bot(sandbox) as bot:
        people = [sandbox.user(f"Persoon {n}") for n in range(5)]
        for person in people[:4]:
            await bot.send_message(person.id, "nieuws")
        with pytest.raises(RetryAfter):
            await bot.send_message(people[4].id, "nieuws")
    assert [len(person.messages) for person in people] == [1, 1, 1, 1, 0]
    assert len(sandbox.rate_limit_violations) == 1


def test_the_limiter_refills_the_chat_bucket_and_slides_its_windows() -> None:
    now = [1000.0]
    limits = TelegramLimits(
        per_chat_interval=1.0, per_chat_burst=2, group_messages=3, group_window=60
    )
    limiter = RateLimiter(limits, monotonic=lambda: now[0])
    assert limiter.acquire(1, is_group=False) is None
    assert limiter.acquire(1, is_group=False) is None
    assert limiter.acquire(1, is_group=False) == 1
    now[0] += 1.0
    assert limiter.acquire(1, is_group=False) is None
    for _ in range(3):
        now[0] += 1.0
        assert limiter.acquire(-5, is_group=True) is None
    now[0] += 1.0
    assert limiter.acquire(-5, is_group=True) == 57
    now[0] += 57.0
    assert limiter.acquire(-5, is_group=True) is None


def test_telegram_limits_defaults_scaling_and_unlimited() -> None:
    limits = TelegramLimits()
    assert (limits.per_chat_interval, limits.per_chat_burst) == (1.0, 3)
    assert (limits.group_messages, limits.group_window) == (20, 60.0)
    assert limits.global_per_second == 30
    fast = limits.scaled(0.05)
    assert (fast.per_chat_interval, fast.group_window, fast.group_messages) == (0.05, 3.0, 20)
    assert fast.global_per_second == pytest.approx(600)
    assert TelegramLimits.unlimited().is_unlimited
    assert not limits.is_unlimited
    with pytest.raises(ValueError, match="per_chat_burst"):
        TelegramLimits(per_chat_burst=0)
    with pytest.raises(ValueError, match="scale factor"):
        limits.scaled(0)


async def test_unlimited_never_refuses(sandbox: TelegramSandbox, bot: telegram.Bot) -> None:
    anna = sandbox.user()
    for number in range(60):
        await bot.send_message(anna.id, str(number))
    assert sandbox.rate_limit_violations == []


# -- Failures a test asks for -----------------------------------------------------------------


async def test_fail_next_429_raises_retry_after(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    sandbox.fail_next("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(anna.id, "eerste poging")
    assert raised.value.retry_after == timedelta(seconds=7)
    assert sandbox.calls[-1].description == "Too Many Requests: retry after 7"
    assert (await bot.send_message(anna.id, "tweede poging")).text == "tweede poging"
    assert [m.text for m in anna.messages] == ["tweede poging"]
    assert sandbox.rate_limit_violations == []  # asked for, not provoked


async def test_fail_next_maps_to_ptbs_exceptions(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    cases: list[tuple[int, str | None, type[telegram.error.TelegramError], str]] = [
        (400, "Bad Request: chat not found", BadRequest, "Bad Request: chat not found"),
        (403, "Forbidden: user is deactivated", Forbidden, "Forbidden: user is deactivated"),
        (409, None, Conflict, "Conflict"),
        (502, None, NetworkError, "Bad Gateway"),
    ]
    for error_code, description, error, expected in cases:
        sandbox.fail_next("sendMessage", error_code=error_code, description=description)
        with refused(sandbox, error, expected):
            await bot.send_message(anna.id, "hallo")
    assert anna.messages == []


async def test_fail_next_can_target_one_chat_and_several_calls(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna, bob = sandbox.user("Anna"), sandbox.user("Bob")
    sandbox.fail_next("SENDMESSAGE", error_code=403, times=2, chat_id=bob.id)
    await bot.send_message(anna.id, "gaat goed")
    for _ in range(2):
        with pytest.raises(Forbidden):
            await bot.send_message(bob.id, "lukt niet")
    await bot.send_message(bob.id, "nu wel")
    assert [m.text for m in bob.messages] == ["nu wel"]


async def test_a_hanging_call_times_out_and_may_have_been_applied(
    sandbox: TelegramSandbox,
) -> None:
    anna = sandbox.user()
    async with make_bot(sandbox, read_timeout=0.2) as bot:
        sandbox.fail_next("sendMessage", hang=True)
        with pytest.raises(TimedOut):
            await bot.send_message(anna.id, "verloren")
        sandbox.fail_next("sendMessage", hang=True, applied=True)
        with pytest.raises(TimedOut):
            await bot.send_message(anna.id, "wel aangekomen")
    assert [m.text for m in anna.messages] == ["wel aangekomen"]
