"""The bot's HTTP transport to the Bot API (``bot/telegram/http.py``) behaves as PTB's own.

PTB's real ``telegram.Bot`` over :class:`AiohttpRequest`, against the Telegram sandbox and
against small loopback servers that misbehave on purpose (slow, silent, absent).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
import telegram
from aiohttp import web
from telegram import InputFile
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.telegram.http import AiohttpRequest
from sandbox.telegram import TelegramSandbox

pytest_plugins = ("tests.telegram_fixtures",)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    """A loopback HTTP server answering every POST with ``handler``; yields its base URL."""
    app = web.Application()
    app.router.add_post("/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_ptb_sends_and_reads_through_it(sandbox: TelegramSandbox) -> None:
    anna = sandbox.user("Anna")
    request = AiohttpRequest(connection_pool_size=4)
    async with telegram.Bot(sandbox.token, base_url=sandbox.url + "/bot", request=request) as bot:
        me = await bot.get_me()
        assert me.is_bot
        sent = await bot.send_message(anna.id, "Hallo <b>Anna</b> &amp; co", parse_mode="HTML")
        assert sent.text == "Hallo Anna & co"
        assert [m.text for m in anna.messages] == ["Hallo Anna & co"]
        # Telegram's refusals arrive as PTB's errors, with Telegram's description.
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(anna.id, "")


async def test_an_unreachable_bot_api_is_a_network_error() -> None:
    request = AiohttpRequest(connect_timeout=2)
    async with request:
        with pytest.raises(NetworkError, match=r"aiohttp\.ClientConnectorError") as raised:
            await request.post(f"http://127.0.0.1:{free_port()}/botX/getMe")
    assert not isinstance(raised.value, TimedOut)


async def test_no_answer_within_the_read_timeout_is_timed_out() -> None:
    answer = asyncio.Event()

    async def slow(_: web.Request) -> web.Response:
        await answer.wait()
        return web.json_response({"ok": True, "result": True})

    async with serving(slow) as url, AiohttpRequest(read_timeout=0.2) as request:
        with pytest.raises(TimedOut):
            await request.post(f"{url}/botX/getMe")
        answer.set()


async def test_waiting_for_a_free_connection_is_bounded_by_the_pool_timeout() -> None:
    arrived, release = asyncio.Event(), asyncio.Event()

    async def hold(_: web.Request) -> web.Response:
        arrived.set()
        await release.wait()
        return web.json_response({"ok": True, "result": True})

    async with (
        serving(hold) as url,
        AiohttpRequest(connection_pool_size=1, pool_timeout=0.2, connect_timeout=0.1) as request,
    ):
        first = asyncio.create_task(request.post(f"{url}/botX/getMe", read_timeout=10))
        await asyncio.wait_for(arrived.wait(), 10)  # the one connection is taken
        with pytest.raises(TimedOut, match="the request was not sent"):
            await request.post(f"{url}/botX/getMe")
        release.set()
        assert await first is True


async def test_parameters_are_form_encoded_and_files_go_as_multipart() -> None:
    seen: list[tuple[str, dict[str, str]]] = []

    async def record(incoming: web.Request) -> web.Response:
        form = await incoming.post()
        fields = {
            name: f"{value.filename}:{value.file.read()!r}"
            if isinstance(value, web.FileField)
            else str(value)
            for name, value in form.items()
        }
        seen.append((incoming.content_type, fields))
        return web.json_response({"ok": True, "result": True})

    async with serving(record) as url, AiohttpRequest() as request:
        bot = telegram.Bot("1:X", base_url=f"{url}/bot", request=request)
        assert await bot.send_chat_action(7, "typing")
        assert await bot.set_chat_photo(7, InputFile(b"hello", filename="a.png"))
    assert seen[0] == ("application/x-www-form-urlencoded", {"chat_id": "7", "action": "typing"})
    content_type, fields = seen[1]
    assert content_type == "multipart/form-data"
    assert fields["chat_id"] == "7"
    assert fields["photo"] == "a.png:b'hello'"


async def test_it_must_be_initialized_first() -> None:
    with pytest.raises(NetworkError, match="not initialized"):
        await AiohttpRequest().post("http://127.0.0.1:9/botX/getMe")
