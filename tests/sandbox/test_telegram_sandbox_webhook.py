"""Webhook delivery of the Telegram sandbox, against a bare HTTP endpoint that a test scripts.

The sandbox posts each update with the secret header, keeps it until it is answered 2xx,
sends it again after any other answer or a timeout, gives one chat its next update only after
the previous one was answered, and refuses getUpdates while the webhook is set.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import telegram
from aiohttp import web
from telegram.error import BadRequest, Conflict

from sandbox.telegram import TelegramSandbox
from sandbox.telegram.webhook import NOT_LOOPBACK, SECRET_HEADER
from tests.harness import free_socket, wait_until

pytest_plugins = ("tests.telegram_fixtures",)


@dataclass
class Endpoint:
    """A webhook endpoint: records every request; answers ``statuses`` in turn (then 200);
    a request whose update id is in ``hold`` waits until it is released."""

    url: str = ""
    requests: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    hold: dict[int, asyncio.Event] = field(default_factory=dict)

    @property
    def texts(self) -> list[str]:
        return [body["message"]["text"] for body, _ in self.requests]

    async def handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.requests.append((body, request.headers.get(SECRET_HEADER)))
        held = self.hold.get(body["update_id"])
        if held is not None:
            await held.wait()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    app = web.Application()
    found = Endpoint()
    app.router.add_post("/hook", found.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    sock = free_socket()
    found.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    await web.SockSite(runner, sock).start()
    yield found
    for event in found.hold.values():
        event.set()
    await runner.cleanup()


async def test_updates_are_posted_with_the_secret_and_getupdates_is_refused(
    sandbox: TelegramSandbox, bot: telegram.Bot, endpoint: Endpoint
) -> None:
    anna = sandbox.user()
    await anna.send("before")  # waiting in the queue when the webhook is set
    assert await bot.set_webhook(endpoint.url, secret_token="abc_DEF-123", max_connections=5)
    await anna.send("after")
    await sandbox.wait_idle()
    assert endpoint.texts == ["before", "after"]
    assert {secret for _, secret in endpoint.requests} == {"abc_DEF-123"}
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.max_connections) == (endpoint.url, 0, 5)
    with pytest.raises(Conflict):
        await bot.get_updates()


async def test_a_failed_post_is_sent_again_until_it_is_answered_2xx(
    sandbox: TelegramSandbox, bot: telegram.Bot, endpoint: Endpoint
) -> None:
    endpoint.statuses = [500, 403]
    await bot.set_webhook(endpoint.url)
    update = await sandbox.user().send("hallo")
    await sandbox.wait_idle()
    assert endpoint.texts == ["hallo"] * 3
    assert [(p.update_id, p.status) for p in sandbox.webhook.posts] == [
        (update.update_id, 500),
        (update.update_id, 403),
        (update.update_id, 200),
    ]
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 403"


async def test_a_post_without_an_answer_in_time_is_sent_again(
    sandbox: TelegramSandbox, bot: telegram.Bot, endpoint: Endpoint
) -> None:
    sandbox.webhook.timeout = 0.2
    await bot.set_webhook(endpoint.url)
    anna = sandbox.user()
    endpoint.hold[sandbox_next_update_id(sandbox)] = asyncio.Event()  # never released
    await anna.send("hallo")
    await wait_until(lambda: len(endpoint.requests) >= 2, 10, "a second post")
    assert sandbox.pending_updates == 1
    assert sandbox.webhook.posts[0].error == "Read timeout expired"


def sandbox_next_update_id(sandbox: TelegramSandbox) -> int:
    """The id the next queued update will get (they count up from the first)."""
    return 500_000_001 + sandbox.updates_queued


async def test_a_chat_gets_its_next_update_after_the_answer_others_meanwhile(
    sandbox: TelegramSandbox, bot: telegram.Bot, endpoint: Endpoint
) -> None:
    await bot.set_webhook(endpoint.url)
    anna, bert = sandbox.user("Anna"), sandbox.user("Bert")
    release = asyncio.Event()
    endpoint.hold[sandbox_next_update_id(sandbox)] = release
    await anna.send("anna 1")
    await anna.send("anna 2")
    await bert.send("bert 1")
    await wait_until(lambda: "bert 1" in endpoint.texts, 10, "Bert's update")
    assert "anna 2" not in endpoint.texts  # Anna's first is not answered yet
    release.set()
    await sandbox.wait_idle()
    assert endpoint.texts == ["anna 1", "bert 1", "anna 2"]


async def test_delete_webhook_stops_posting_and_getupdates_works_again(
    sandbox: TelegramSandbox, bot: telegram.Bot, endpoint: Endpoint
) -> None:
    endpoint.statuses = [503] * 1000
    await bot.set_webhook(endpoint.url)
    await sandbox.user().send("hallo")
    await wait_until(lambda: endpoint.requests, 10, "a post")
    assert await bot.delete_webhook()
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.text == "hallo"


async def test_a_webhook_off_this_machine_is_never_posted_to(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    await bot.set_webhook("https://enrollbot.example.com/hook")
    await sandbox.user().send("hallo")
    await wait_until(lambda: sandbox.webhook.posts, 10, "a delivery attempt")
    assert sandbox.webhook.posts[0].error == NOT_LOOPBACK
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message == NOT_LOOPBACK


@pytest.mark.parametrize(
    ("kwargs", "description"),
    [
        ({"secret_token": "no spaces"}, "secret token contains unallowed characters"),
        ({"secret_token": "x" * 257}, "secret token contains unallowed characters"),
        ({"max_connections": 101}, "max_connections must be between 1 and 100"),
    ],
)
async def test_set_webhook_checks_its_parameters(
    bot: telegram.Bot, endpoint: Endpoint, kwargs: dict[str, Any], description: str
) -> None:
    with pytest.raises(BadRequest, match=description.capitalize()):
        await bot.set_webhook(endpoint.url, **kwargs)
