"""getUpdates, webhooks and the command menu of the Telegram sandbox, driven by PTB's Bot."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import telegram
from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeChatAdministrators,
    BotCommandScopeChatMember,
)
from telegram.error import BadRequest, Conflict

from sandbox.telegram import BotCommand as MenuCommand
from sandbox.telegram import TelegramSandbox
from tests.telegram_helpers import make_bot, refused

pytest_plugins = ("tests.telegram_fixtures",)

TERMINATED = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


def texts(updates: tuple[telegram.Update, ...]) -> list[str | None]:
    return [u.message.text if u.message else None for u in updates]


# -- getUpdates -------------------------------------------------------------------------------


async def test_offset_confirms_the_updates_below_it(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    for text in ("een", "twee", "drie"):
        await anna.send(text)
    first = await bot.get_updates()
    assert texts(first) == ["een", "twee", "drie"]
    assert [u.update_id for u in first] == sorted({u.update_id for u in first})
    assert texts(await bot.get_updates()) == ["een", "twee", "drie"]  # nothing confirmed yet
    assert texts(await bot.get_updates(offset=first[1].update_id)) == ["twee", "drie"]
    assert texts(await bot.get_updates(offset=first[2].update_id + 1)) == []
    assert sandbox.pending_updates == 0


async def test_a_negative_offset_keeps_only_the_last_updates(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    for text in ("een", "twee", "drie"):
        await anna.send(text)
    assert texts(await bot.get_updates(offset=-1)) == ["drie"]
    assert texts(await bot.get_updates()) == ["drie"]  # the earlier ones are forgotten


async def test_limit_is_1_to_100(sandbox: TelegramSandbox, bot: telegram.Bot) -> None:
    anna = sandbox.user()
    for number in range(120):
        await anna.send(str(number))
    assert len(await bot.get_updates(limit=2)) == 2
    assert len(await bot.get_updates(limit=0)) == 1
    assert len(await bot.get_updates()) == 100
    assert len(await bot.get_updates(limit=500)) == 100


async def test_a_long_poll_answers_when_an_update_arrives(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    waiting = asyncio.create_task(bot.get_updates(timeout=30))
    await sandbox.wait_polling()
    assert not waiting.done()
    await anna.send("hallo")
    assert texts(await waiting) == ["hallo"]


async def test_a_long_poll_answers_at_once_when_updates_wait_and_empty_at_its_timeout(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    await anna.send("al daar")
    assert texts(await bot.get_updates(timeout=30)) == ["al daar"]
    confirmed = await bot.get_updates(offset=-1)
    after = confirmed[-1].update_id + 1
    assert await bot.get_updates(offset=after, timeout=timedelta(seconds=0.1)) == ()


async def test_a_second_poller_terminates_the_first_with_a_conflict(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=30))
    await sandbox.wait_polling()
    async with make_bot(sandbox) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict):
        await first
    conflicts = [call for call in sandbox.calls_to("getUpdates") if not call.ok]
    assert [(call.error_code, call.description) for call in conflicts] == [(409, TERMINATED)]


async def test_get_updates_conflicts_while_a_webhook_is_set(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    await anna.send("hallo")
    assert await bot.set_webhook("https://enrollbot.example.com/hook")
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("https://enrollbot.example.com/hook", 1)
    with refused(
        sandbox,
        Conflict,
        "Conflict: can't use getUpdates method while webhook is active; "
        "use deleteWebhook to delete the webhook first",
    ):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert texts(await bot.get_updates()) == ["hallo"]
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()


async def test_allowed_updates_filter_the_updates_created_afterwards(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    await anna.send("voor")
    await bot.get_updates(allowed_updates=["callback_query"])
    with pytest.raises(AssertionError, match="allowed_updates exclude message"):
        await anna.send("na")  # sent, but the bot does not get it
    assert texts(await bot.get_updates()) == ["voor"]
    assert sandbox.calls_to("getUpdates")[0].params["allowed_updates"] == ["callback_query"]
    await bot.get_updates(allowed_updates=[])  # back to the default
    await anna.send("weer")
    assert texts(await bot.get_updates()) == ["voor", "weer"]


async def test_wait_idle_resolves_once_the_bot_confirmed_every_update(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    await anna.send("een")
    await anna.send("twee")
    with pytest.raises(AssertionError, match="2 updates were still not fetched"):
        await sandbox.wait_idle(timeout=0.05)
    fetched = await bot.get_updates()
    waiting = asyncio.create_task(sandbox.wait_idle())
    await bot.get_updates(offset=fetched[-1].update_id + 1)
    await waiting
    assert sandbox.pending_updates == 0


# -- The command menu -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "description", "error"),
    [
        ("", "Begin", "Bad Request: command must be non-empty"),
        ("start", "", "Bad Request: command description must be non-empty"),
        ("Start", "Begin", "Bad Request: BOT_COMMAND_INVALID"),
        ("in-schrijven", "Begin", "Bad Request: BOT_COMMAND_INVALID"),
        ("x" * 33, "Begin", "Bad Request: BOT_COMMAND_INVALID"),
        ("start", "d" * 257, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"),
    ],
)
async def test_set_my_commands_checks_each_command(
    sandbox: TelegramSandbox, bot: telegram.Bot, command: str, description: str, error: str
) -> None:
    with refused(sandbox, BadRequest, error):
        await bot.set_my_commands([BotCommand(command, description)])


async def test_set_my_commands_accepts_up_to_100_commands_of_32_characters(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    longest = [BotCommand(f"c{n:02d}_" + "x" * 28, "d" * 256) for n in range(100)]
    assert await bot.set_my_commands(longest)
    assert len(await bot.get_my_commands()) == 100
    with refused(sandbox, BadRequest, "Bad Request: BOT_COMMANDS_TOO_MUCH"):
        await bot.set_my_commands([*longest, BotCommand("extra", "d")])


async def test_scopes_must_be_complete(sandbox: TelegramSandbox, bot: telegram.Bot) -> None:
    staff = sandbox.group("Staff")
    with refused(
        sandbox, BadRequest, "Bad Request: can't parse BotCommandScope: Unsupported type specified"
    ):
        await bot.set_my_commands([("start", "Begin")], api_kwargs={"scope": {"type": "moon"}})
    with refused(
        sandbox,
        BadRequest,
        "Bad Request: can't parse BotCommandScope: Can't find field \"user_id\"",
    ):
        await bot.set_my_commands(
            [("start", "Begin")], api_kwargs={"scope": {"type": "chat_member", "chat_id": 1}}
        )
    with refused(sandbox, BadRequest, "Bad Request: chat not found"):
        await bot.set_my_commands([("start", "Begin")], scope=BotCommandScopeChat(42))
    assert await bot.set_my_commands([("start", "Begin")], scope=BotCommandScopeChat(staff.id))


async def test_a_private_chat_sees_the_most_specific_scope_in_its_language(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user("Anna", language_code="nl")
    bob = sandbox.user("Bob", language_code="en-GB")
    carla = sandbox.user("Carla", language_code=None)
    assert anna.visible_commands() == []
    await bot.set_my_commands([("help", "Help")])
    await bot.set_my_commands([("hulp", "Hulp")], language_code="nl")
    assert anna.visible_commands() == [MenuCommand("hulp", "Hulp")]
    assert bob.visible_commands() == [MenuCommand("help", "Help")]
    await bot.set_my_commands([("start", "Begin")], scope=BotCommandScopeAllPrivateChats())
    assert anna.visible_commands() == [MenuCommand("start", "Begin")]
    await bot.set_my_commands([("annuleer", "Stop")], scope=BotCommandScopeChat(carla.id))
    assert carla.visible_commands() == [MenuCommand("annuleer", "Stop")]
    assert bob.visible_commands() == [MenuCommand("start", "Begin")]
    assert await bot.get_my_commands(language_code="nl") == (BotCommand("hulp", "Hulp"),)
    assert await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert anna.visible_commands() == [MenuCommand("hulp", "Hulp")]
    assert await bot.set_my_commands([], language_code="nl")  # an empty list deletes
    assert anna.visible_commands() == [MenuCommand("help", "Help")]


async def test_a_group_resolves_member_admin_chat_and_all_group_scopes_in_order(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    piet, anna, kees = sandbox.user("Piet"), sandbox.user("Anna"), sandbox.user("Kees")
    staff = sandbox.group("Staff", [anna, kees], admins=[piet])
    await bot.set_my_commands([("start", "Begin")])
    assert staff.visible_commands(by=anna) == [MenuCommand("start", "Begin")]
    await bot.set_my_commands([("groep", "Groep")], scope=BotCommandScopeAllGroupChats())
    await bot.set_my_commands([("beheer", "Beheer")], scope=BotCommandScopeAllChatAdministrators())
    assert staff.visible_commands(by=anna) == [MenuCommand("groep", "Groep")]
    assert staff.visible_commands(by=piet) == [MenuCommand("beheer", "Beheer")]
    await bot.set_my_commands([("zoek", "Zoek")], scope=BotCommandScopeChat(staff.id))
    assert staff.visible_commands(by=anna) == [MenuCommand("zoek", "Zoek")]
    assert staff.visible_commands(by=piet) == [MenuCommand("zoek", "Zoek")]
    await bot.set_my_commands(
        [("export", "Export")], scope=BotCommandScopeChatAdministrators(staff.id)
    )
    assert staff.visible_commands(by=piet) == [MenuCommand("export", "Export")]
    await bot.set_my_commands(
        [("mijn", "Mijn")], scope=BotCommandScopeChatMember(staff.id, kees.id)
    )
    assert staff.visible_commands(by=kees) == [MenuCommand("mijn", "Mijn")]
    assert staff.visible_commands(by=anna) == [MenuCommand("zoek", "Zoek")]
    assert piet.visible_commands() == [MenuCommand("start", "Begin")]
