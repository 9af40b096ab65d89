"""A local Telegram Bot API server that keeps Telegram's rules, for tests, the demo and benchmarks.

It serves ``/bot<token>/<method>`` over HTTP on loopback like ``api.telegram.org`` does:
parameters may come as a query string, a form (PTB's way: non-string values JSON-encoded), a
JSON body or multipart; answers use Telegram's envelope and error texts, so PTB raises the same
exceptions it raises against Telegram. Everything runs on the caller's event loop.

Simulated people (:meth:`TelegramSandbox.user`, :meth:`TelegramSandbox.group`) create the
updates that the bot fetches with ``getUpdates``, or that the sandbox POSTs to the bot's
webhook once ``setWebhook`` set one (see ``webhook``). Photos and documents the bot sends, and
inline mode, are in :mod:`sandbox.telegram.media`. Not modelled: other media sent by the bot
(those methods answer 404 like any unknown method).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import logging
import re
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.clock import Clock, SystemClock
from bot.telegram.limits import (
    BOT_COMMAND_DESCRIPTION_MAX,
    BOT_COMMAND_MAX_LENGTH,
    BOT_COMMANDS_MAX,
    CALLBACK_ANSWER_TEXT_MAX,
    CALLBACK_ANSWER_TIMEOUT,
    MESSAGE_DELETE_WINDOW,
    MESSAGE_TEXT_MAX,
    RATE_LIMITED_METHODS,
    TelegramLimits,
)
from sandbox.telegram.formatting import (
    Entity,
    EntityParseError,
    FormattedText,
    find_bot_commands,
    parse_text,
    trim,
    utf16_length,
    with_bot_commands,
)
from sandbox.telegram.markup import Markup, parse_reply_markup
from sandbox.telegram.media import InlineMode, MediaMethods
from sandbox.telegram.models import (
    ApiCall,
    ApiError,
    BotCommand,
    CallbackAnswer,
    ChatMessage,
)
from sandbox.telegram.ratelimit import RateLimiter
from sandbox.telegram.state import Chat, Member, Person, Signal
from sandbox.telegram.users import SandboxGroup, SandboxUser
from sandbox.telegram.webhook import Queued, WebhookDelivery, chat_of

__all__ = ["TelegramSandbox"]

logger = logging.getLogger(__name__)

_TOKEN_SHAPE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]+")
_COMMAND_SHAPE = re.compile(r"[a-z0-9_]+")
_LANGUAGE_SHAPE = re.compile(r"[a-z]{2}")
_LONG_POLL_MAX = 50.0
_UPDATES_LIMIT_MAX = 100
_DEFAULT_EXCLUDED_UPDATES = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
TERMINATED = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)

ScopeKey = tuple[Any, ...]
Handler = Callable[["_Params"], Awaitable[Any]]


def _bad(description: str) -> ApiError:
    return ApiError(400, "Bad Request: " + description)


def _timestamp(moment: datetime) -> int:
    return int(moment.timestamp())


class _RateLimited(ApiError):
    """A 429 that the sandbox's limits gave (as opposed to one a test asked for)."""


class _Params:
    """The parameters of one call, read with the types each method expects.

    Values arrive as strings (query string, form, multipart; PTB JSON-encodes non-strings) or
    as JSON values (a JSON body); every typed read is remembered for :attr:`ApiCall.params`.
    """

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.decoded: dict[str, Any] = {}

    def has(self, name: str) -> bool:
        return self.raw.get(name) is not None

    def string(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str):
            text = value
        elif isinstance(value, int | float):
            text = str(value)
        else:
            text = json.dumps(value)
        self.decoded[name] = text
        return text

    def number(self, name: str) -> float | None:
        value = self.raw.get(name)
        result: float | None = None
        if isinstance(value, int | float):  # bool included
            result = float(value)
        elif isinstance(value, str):
            try:
                result = float(value.strip())
            except ValueError:
                result = None
        if result is not None:
            self.decoded[name] = int(result) if result.is_integer() else result
        return result

    def integer(self, name: str) -> int | None:
        value = self.number(name)
        return None if value is None else int(value)

    def boolean(self, name: str) -> bool:
        value = self.raw.get(name)
        result = value is True or (isinstance(value, str) and value.lower() in ("true", "1"))
        if value is not None:
            self.decoded[name] = result
        return result

    def json_value(self, name: str, what: str) -> Any:
        """A JSON-valued parameter (object or array); ``what`` names it in the error."""
        value = self.raw.get(name)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise _bad(f"can't parse {what} JSON object") from None
        self.decoded[name] = value
        return value

    def chat_id(self) -> int | str | None:
        value = self.raw.get("chat_id")
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            self.decoded["chat_id"] = value
            return value
        text = str(value).strip()
        result: int | str = int(text) if re.fullmatch(r"-?\d{1,20}", text) else text
        self.decoded["chat_id"] = result
        return result

    def recorded(self) -> dict[str, Any]:
        """All parameters, typed where a method read them, JSON objects decoded otherwise."""
        result: dict[str, Any] = {}
        for name, value in self.raw.items():
            result[name] = value
            if isinstance(value, str) and value[:1] in ("{", "["):
                with contextlib.suppress(ValueError):
                    result[name] = json.loads(value)
        result.update(self.decoded)
        return result


@dataclass(eq=False, slots=True)
class _Failure:
    method: str
    error_code: int
    description: str
    retry_after: int | None
    times: int
    chat_id: int | str | None
    hang: bool
    applied: bool


@dataclass(eq=False, slots=True)
class _Query:
    id: str
    person: Person
    chat: Chat
    message_id: int
    data: str
    created: datetime
    answer: CallbackAnswer | None = None


@dataclass(eq=False, slots=True)
class _Poll:
    terminated: bool = False


class TelegramSandbox:
    """A faithful local Bot API server plus the people who chat with the bot.

    Start it with ``async with TelegramSandbox() as sandbox:`` (or :meth:`start`/:meth:`stop`)
    and point the bot at ``sandbox.url`` (PTB: ``base_url=sandbox.url + "/bot"``) with
    ``sandbox.token``.
    """

    def __init__(
        self,
        *,
        limits: TelegramLimits | None = None,
        clock: Clock | None = None,
        bot_username: str = "enrollbot_sandbox_bot",
        bot_first_name: str = "Enrollbot",
        token: str | None = None,
    ) -> None:
        if token is None:
            bot_id = 7_000_000_000 + secrets.randbelow(1_000_000_000)
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
            secret = "AA" + "".join(secrets.choice(alphabet) for _ in range(33))
            token = f"{bot_id}:{secret}"
        if not _TOKEN_SHAPE.fullmatch(token):
            raise ValueError("token must look like a Bot API token: <digits>:<secret>")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.limits = limits if limits is not None else TelegramLimits()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.calls: list[ApiCall] = []
        self.rate_limit_violations: list[ApiCall] = []

        self._limiter = RateLimiter(self.limits)
        self._chats: dict[int, Chat] = {}
        self._people: dict[int, Person] = {}
        self._next_user_id = 700_000_001
        self._next_group = 1
        self._updates: deque[Queued] = deque()
        self._next_update_id = 500_000_001
        #: How many updates were queued for the bot since the start (for "has it caught up").
        self.updates_queued = 0
        self._allowed_updates: frozenset[str] | None = None
        self._updates_signal = Signal()
        #: The webhook (``setWebhook``) and the posts made to it.
        self.webhook = WebhookDelivery(self._updates, self._delivered, self.clock.now)
        self._idle_signal = Signal()
        self._poll_signal = Signal()
        self._poll: _Poll | None = None
        self._queries: dict[str, _Query] = {}
        self._next_query = 1
        self._next_file = 1
        self._commands: dict[tuple[ScopeKey, str], tuple[BotCommand, ...]] = {}
        self._failures: list[_Failure] = []
        self._stopping = Signal()
        self._stopped = False
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._true,
                "close": self._true,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "getUpdates": self._get_updates,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendChatAction": self._send_chat_action,
                "getChat": self._get_chat,
            }.items()
        }
        # Files and inline mode (sandbox/telegram/media.py).
        self.media = MediaMethods(self)
        self.inline = InlineMode(self)
        for name, handler in {**self.media.methods(), **self.inline.methods()}.items():
            self._methods[name.lower()] = (name, handler)

    # -- Lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on ``host``:``port`` (0: a free port); :attr:`url` tells where."""
        if self._runner is not None:
            raise RuntimeError("the Telegram sandbox is already running")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        # No access log: Bot API URLs carry the token. Handlers are cancelled when a client
        # goes away, so an abandoned long poll does not linger.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1]
        self._runner = runner
        self._stopped = False
        shown_host = f"[{host}]" if ":" in host else host
        self._url = f"http://{shown_host}:{bound_port}"
        logger.info("Telegram sandbox serving on %s", self._url)

    async def stop(self) -> None:
        """Answer the waiting requests and stop serving."""
        self._stopped = True
        self._stopping.notify()
        self._updates_signal.notify()
        await self.webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            logger.info("Telegram sandbox stopped")

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:40231`` (PTB: base_url = url + "/bot")."""
        if self._url is None:
            raise RuntimeError("the Telegram sandbox is not started")
        return self._url

    # -- People and chats ------------------------------------------------------------------

    def user(
        self,
        first_name: str = "Anna",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "nl",
        user_id: int | None = None,
        *,
        phone_number: str | None = None,
        started: bool = True,
    ) -> SandboxUser:
        """A person with a private chat with the bot.

        ``started=False``: the person never opened the chat, so the bot cannot write first
        (403, as on Telegram); the first message they send starts it.
        """
        if user_id is None:
            while self._next_user_id in self._chats:
                self._next_user_id += 1
            user_id = self._next_user_id
        if user_id in self._people:
            raise ValueError(f"a sandbox user with id {user_id} exists already")
        person = Person(
            id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            phone_number=phone_number,
        )
        self._people[user_id] = person
        chat = Chat(id=user_id, type="private", person=person, started=started)
        self._chats[chat.id] = chat
        return SandboxUser(self, person, chat)

    def group(
        self,
        title: str = "Staff",
        members: list[SandboxUser] | tuple[SandboxUser, ...] = (),
        *,
        admins: list[SandboxUser] | tuple[SandboxUser, ...] = (),
        supergroup: bool = False,
        bot_is_admin: bool = False,
    ) -> SandboxGroup:
        """A group chat the bot is a member of (privacy mode on, as bots have by default)."""
        number = self._next_group
        self._next_group += 1
        # Shaped like Telegram's: -100... for supergroups, a plain negative id for groups.
        chat_id = -(1_000_000_000_000 + number) if supergroup else -(4_000_000_000 + number)
        chat = Chat(
            id=chat_id,
            type="supergroup" if supergroup else "group",
            title=title,
            bot_is_admin=bot_is_admin,
        )
        for member in (*members, *admins):
            chat.members[member.id] = Member(member.person, admin=member in admins)
        self._chats[chat.id] = chat
        return SandboxGroup(self, chat)

    def bot_json(self) -> dict[str, Any]:
        """The bot as a Bot API User object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # -- Test controls ---------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
        hang: bool = False,
        applied: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (to ``chat_id``, if given) fail.

        ``error_code`` and ``description`` form the answer (429 gets ``retry_after``, default
        1 s, in its parameters). ``hang=True``: no answer at all until the client gives up (PTB
        raises TimedOut). ``applied=True``: the call takes effect before it fails, as when the
        answer is lost on its way back.
        """
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                try:
                    description = HTTPStatus(error_code).phrase
                except ValueError:
                    description = "Error"
        self._failures.append(
            _Failure(
                method=method.lower(),
                error_code=error_code,
                description=description,
                retry_after=retry_after,
                times=times,
                chat_id=chat_id,
                hang=hang,
                applied=applied,
            )
        )

    def calls_to(self, method: str) -> list[ApiCall]:
        """The calls of one method (name as in the Bot API docs, any case)."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    @property
    def pending_updates(self) -> int:
        """Updates queued and not yet confirmed by the bot."""
        return len(self._updates)

    @property
    def is_polling(self) -> bool:
        """True while a getUpdates long poll of the bot is waiting for updates."""
        return self._poll is not None

    async def wait_polling(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - see Signal
        """Wait until the bot is waiting in a getUpdates long poll (it is listening)."""
        done = await self._poll_signal.wait_for(lambda: True if self.is_polling else None, timeout)
        if done is None:
            raise AssertionError(f"the bot did not poll for updates within {timeout:g} s")

    async def wait_idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - see Signal
        """Wait until the bot has fetched and confirmed every queued update.

        PTB confirms a batch with its next ``getUpdates`` call, right after it queued the batch
        for its handlers: idle means "handed to the bot", not "handled".
        """
        done = await self._idle_signal.wait_for(
            lambda: True if not self._updates else None, timeout
        )
        if done is None:
            polling = "is" if self._poll is not None else "is not"
            raise AssertionError(
                f"{len(self._updates)} updates were still not fetched by the bot after "
                f"{timeout:g} s (the bot {polling} polling now)"
            )

    def commands_for(self, person: Person, chat: Chat) -> list[BotCommand]:
        """The command menu ``person`` sees in ``chat``, by Telegram's scope precedence."""
        language = (person.language_code or "")[:2].lower()
        scopes: list[ScopeKey]
        if not chat.is_group:
            scopes = [("chat", chat.id), ("all_private_chats",), ("default",)]
        else:
            member = chat.members.get(person.id)
            admin = member is not None and member.admin
            scopes = [("chat_member", chat.id, person.id)]
            if admin:
                scopes.append(("chat_administrators", chat.id))
            scopes.append(("chat", chat.id))
            if admin:
                scopes.append(("all_chat_administrators",))
            scopes += [("all_group_chats",), ("default",)]
        for scope in scopes:
            for lang in (language, "") if language else ("",):
                commands = self._commands.get((scope, lang))
                if commands is not None:
                    return list(commands)
        return []

    # -- HTTP ------------------------------------------------------------------------------

    async def _not_found(self, request: web.Request) -> web.Response:
        del request
        return _json(ApiError(404, "Not Found").to_json(), 404)

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        if not _TOKEN_SHAPE.fullmatch(token):
            return _json(ApiError(404, "Not Found").to_json(), 404)
        if token != self.token:
            return _json(ApiError(401, "Unauthorized: invalid token specified").to_json(), 401)
        entry = self._methods.get(method.lower())
        if entry is None:
            self._record(method, _Params({}), ApiError(404, "Not Found"))
            return _json(ApiError(404, "Not Found").to_json(), 404)
        name, handler = entry
        try:
            params = _Params(await _read_params(request))
        except ApiError as err:
            self._record(name, _Params({}), err)
            return _json(err.to_json(), err.error_code)
        try:
            failure = self._take_failure(name, params)
            if failure is not None:
                await self._fail(failure, handler, params)
            result = await handler(params)
        except ApiError as err:
            self._record(name, params, err)
            return _json(err.to_json(), err.error_code)
        self._record(name, params, None)
        return _json({"ok": True, "result": result}, 200)

    def _record(self, method: str, params: _Params, error: ApiError | None) -> None:
        call = ApiCall(
            method=method,
            params=params.recorded(),
            ok=error is None,
            error_code=None if error is None else error.error_code,
            description=None if error is None else error.description,
            when=self.clock.now(),
            retry_after=None if error is None else error.retry_after,
        )
        self.calls.append(call)
        if isinstance(error, _RateLimited):
            self.rate_limit_violations.append(call)
        if error is not None:
            logger.debug("Bot API %s failed: %s", method, error.error_code)

    def _take_failure(self, method: str, params: _Params) -> _Failure | None:
        for failure in self._failures:
            if failure.method != method.lower():
                continue
            if failure.chat_id is not None and params.chat_id() != failure.chat_id:
                continue
            failure.times -= 1
            if failure.times <= 0:
                self._failures.remove(failure)
            return failure
        return None

    async def _fail(self, failure: _Failure, handler: Handler, params: _Params) -> None:
        if failure.applied:
            with contextlib.suppress(ApiError):
                await handler(params)
        if failure.hang:
            await self._stopping.wait_for(lambda: True if self._stopped else None, None)
        raise ApiError(failure.error_code, failure.description, retry_after=failure.retry_after)

    # -- Common checks ---------------------------------------------------------------------

    def _find_chat(self, ref: int | str) -> Chat:
        chat = self._chats.get(ref) if isinstance(ref, int) else None
        if chat is None:
            raise _bad("chat not found")
        return chat

    def _chat_param(self, params: _Params) -> Chat:
        ref = params.chat_id()
        if ref is None:
            raise _bad("chat_id is empty")
        return self._find_chat(ref)

    @staticmethod
    def _check_writable(chat: Chat) -> None:
        if chat.person is None:
            return
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not chat.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")

    def _formatted(self, params: _Params, text: str) -> FormattedText:
        if params.has("entities"):
            entities = params.json_value("entities", "entities")
            return with_bot_commands(trim(_explicit_entities(text, entities)))
        parse_mode = params.string("parse_mode")
        try:
            return parse_text(text, parse_mode)
        except EntityParseError as err:
            raise _bad(f"can't parse entities: {err}") from None
        except ValueError:
            raise _bad("unsupported parse_mode") from None

    @staticmethod
    def _check_text(formatted: FormattedText) -> None:
        if not formatted.text:
            raise _bad("text must be non-empty")
        if len(formatted.text) > MESSAGE_TEXT_MAX:
            raise _bad("message is too long")

    @staticmethod
    def _markup(params: _Params) -> Markup | None:
        if not params.has("reply_markup"):
            return None
        value = params.json_value("reply_markup", "reply keyboard markup")
        markup = parse_reply_markup(value)
        params.decoded["reply_markup"] = value
        return markup

    def _acquire(self, method: str, chat: Chat) -> None:
        if method.lower() not in RATE_LIMITED_METHODS:
            return
        retry_after = self._limiter.acquire(chat.id, is_group=chat.is_group)
        if retry_after is not None:
            logger.info("Telegram sandbox refused a message: over the rate limit (429)")
            raise _RateLimited(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )

    def _message_id_param(self, params: _Params) -> int:
        message_id = params.integer("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        return message_id

    # -- Methods ---------------------------------------------------------------------------

    async def _true(self, params: _Params) -> bool:
        del params
        return True

    async def _get_me(self, params: _Params) -> dict[str, Any]:
        del params
        return {
            **self.bot_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _set_webhook(self, params: _Params) -> bool:
        url = params.string("url") or ""
        if url:
            self.webhook.set(url, params.string("secret_token"), params.integer("max_connections"))
        else:
            self.webhook.delete()
        if params.boolean("drop_pending_updates"):
            self._drop_updates()
        if params.has("allowed_updates"):
            self._set_allowed_updates(params)
        if url:
            self._terminate_poll()
        return True

    async def _delete_webhook(self, params: _Params) -> bool:
        if params.boolean("drop_pending_updates"):
            self._drop_updates()
        self.webhook.delete()
        return True

    async def _get_webhook_info(self, params: _Params) -> dict[str, Any]:
        del params
        info: dict[str, Any] = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_url:
            info.update(self.webhook.info())
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    async def _get_updates(self, params: _Params) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(409, WEBHOOK_ACTIVE)
        offset = params.integer("offset") or 0
        limit = params.integer("limit")
        limit = _UPDATES_LIMIT_MAX if limit is None else min(max(limit, 1), _UPDATES_LIMIT_MAX)
        timeout = min(max(params.number("timeout") or 0.0, 0.0), _LONG_POLL_MAX)
        if params.has("allowed_updates"):
            self._set_allowed_updates(params)
        self._confirm(offset)
        self._terminate_poll()
        poll = _Poll()
        self._poll = poll
        self._poll_signal.notify()

        def ready() -> list[dict[str, Any]] | None:
            if poll.terminated or self._stopped:
                return []
            batch = [queued.to_json() for queued in itertools.islice(self._updates, limit)]
            return batch or None

        try:
            batch = await self._updates_signal.wait_for(ready, timeout)
        finally:
            if self._poll is poll:
                self._poll = None
        if poll.terminated:
            raise ApiError(409, TERMINATED)
        return batch or []

    async def _send_message(self, params: _Params) -> dict[str, Any]:
        ref = params.chat_id()
        if ref is None:
            raise _bad("chat_id is empty")
        text = params.string("text")
        if not text:
            raise _bad("message text is empty")
        markup = self._markup(params)
        formatted = self._formatted(params, text)
        chat = self._find_chat(ref)
        self._check_writable(chat)
        self._check_text(formatted)
        reply_to = self._reply_target(chat, params)
        self._acquire("sendMessage", chat)
        return self._add_bot_message(chat, formatted, markup, reply_to).raw

    async def _edit_message_text(self, params: _Params) -> dict[str, Any]:
        if params.has("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._chat_param(params)
        message_id = self._message_id_param(params)
        text = params.string("text")
        if not text:
            raise _bad("message text is empty")
        markup = self._inline_markup(params)
        formatted = self._formatted(params, text)
        self._check_writable(chat)
        message = self._editable(chat, message_id)
        if message.file is not None:
            raise _bad("there is no text in the message to edit")
        self._check_text(formatted)
        inline_json = _keyboard_json(markup)
        if (
            formatted.text == message.text
            and formatted.entities_json() == list(message.entities)
            and inline_json == message.raw.get("reply_markup")
        ):
            raise ApiError(400, NOT_MODIFIED)
        return self._edit(chat, message, formatted, markup).raw

    async def _edit_message_reply_markup(self, params: _Params) -> dict[str, Any]:
        if params.has("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._chat_param(params)
        message_id = self._message_id_param(params)
        markup = self._inline_markup(params)
        self._check_writable(chat)
        message = self._editable(chat, message_id)
        if _keyboard_json(markup) == message.raw.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        return self._edit(chat, message, None, markup).raw

    async def _delete_message(self, params: _Params) -> bool:
        chat = self._chat_param(params)
        message_id = self._message_id_param(params)
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise _bad("message to delete not found")
        too_old = self.clock.now() - message.date >= MESSAGE_DELETE_WINDOW
        not_allowed = chat.is_group and not message.from_bot and not chat.bot_is_admin
        if too_old or not_allowed:
            raise _bad("message can't be deleted")
        chat.replace(dataclasses.replace(message, deleted=True), edited=False)
        return True

    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.string("callback_query_id") or ""
        query = self._queries.get(query_id)
        now = self.clock.now()
        expired = query is None or now - query.created > CALLBACK_ANSWER_TIMEOUT
        if query is None or expired or query.answer is not None:
            raise ApiError(400, QUERY_TOO_OLD)
        text = params.string("text")
        if text is not None and len(text) > CALLBACK_ANSWER_TEXT_MAX:
            raise _bad("MESSAGE_TOO_LONG")
        query.answer = CallbackAnswer(
            query_id=query.id,
            data=query.data,
            message_id=query.message_id,
            text=text or None,
            show_alert=params.boolean("show_alert"),
            url=params.string("url"),
            cache_time=params.integer("cache_time") or 0,
            when=now,
        )
        query.person.callback_answers.append(query.answer)
        query.chat.signal.notify()
        return True

    async def _send_chat_action(self, params: _Params) -> bool:
        ref = params.chat_id()
        if ref is None:
            raise _bad("chat_id is empty")
        action = params.string("action")
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        chat = self._find_chat(ref)
        self._check_writable(chat)
        chat.actions.append(action)
        chat.signal.notify()
        return True

    async def _get_chat(self, params: _Params) -> dict[str, Any]:
        chat = self._chat_param(params)
        info = chat.to_json()
        info.update(
            {
                "accent_color_id": chat.id % 7,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return info

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = self._commands_param(params)
        key = (self._scope_param(params), self._language_param(params))
        if commands:
            self._commands[key] = commands
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: _Params) -> list[dict[str, str]]:
        key = (self._scope_param(params), self._language_param(params))
        return [dataclasses.asdict(command) for command in self._commands.get(key, ())]

    async def _delete_my_commands(self, params: _Params) -> bool:
        key = (self._scope_param(params), self._language_param(params))
        self._commands.pop(key, None)
        return True

    # -- Method helpers --------------------------------------------------------------------

    def _inline_markup(self, params: _Params) -> Markup | None:
        markup = self._markup(params)
        if markup is not None and not markup.is_inline:
            raise _bad("inline keyboard expected")
        return markup

    def _editable(self, chat: Chat, message_id: int) -> ChatMessage:
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise _bad("message to edit not found")
        if not message.from_bot or message.reply_keyboard is not None or message.force_reply:
            raise _bad("message can't be edited")
        if message.remove_keyboard:
            raise _bad("message can't be edited")
        return message

    def _reply_target(self, chat: Chat, params: _Params) -> ChatMessage | None:
        allow = params.boolean("allow_sending_without_reply")
        message_id: int | None = None
        if params.has("reply_parameters"):
            value = params.json_value("reply_parameters", "reply parameters")
            if not isinstance(value, dict) or "message_id" not in value:
                raise _bad('can\'t find field "message_id"')
            message_id = value["message_id"]
            allow = bool(value.get("allow_sending_without_reply", allow))
        elif params.has("reply_to_message_id"):
            message_id = params.integer("reply_to_message_id")
        if message_id is None:
            return None
        target = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if target is None or target.deleted:
            if allow:
                return None
            raise _bad("message to be replied not found")
        return target

    def _add_bot_message(
        self,
        chat: Chat,
        formatted: FormattedText,
        markup: Markup | None,
        reply_to: ChatMessage | None,
    ) -> ChatMessage:
        now = self.clock.now()
        message_id = chat.take_message_id()
        raw: dict[str, Any] = {
            "message_id": message_id,
            "from": self.bot_json(),
            "chat": chat.to_json(),
            "date": _timestamp(now),
        }
        if reply_to is not None:
            raw["reply_to_message"] = {
                k: v for k, v in reply_to.raw.items() if k != "reply_to_message"
            }
        raw["text"] = formatted.text
        if formatted.entities:
            raw["entities"] = formatted.entities_json()
        inline_json = _keyboard_json(markup)
        if inline_json is not None:
            raw["reply_markup"] = inline_json
        message = ChatMessage(
            chat_id=chat.id,
            message_id=message_id,
            date=now,
            from_bot=True,
            sender_id=self.bot_id,
            kind="text",
            text=formatted.text,
            entities=tuple(formatted.entities_json()),
            raw=raw,
            inline_keyboard=markup.inline if markup is not None else (),
            reply_keyboard=markup.reply if markup is not None else None,
            remove_keyboard=markup is not None and markup.remove_keyboard,
            force_reply=markup is not None and markup.force_reply,
        )
        if markup is not None and markup.reply is not None:
            chat.reply_keyboard = markup.reply
        elif markup is not None and markup.remove_keyboard:
            chat.reply_keyboard = None
        chat.add(message)
        return message

    def _edit(
        self,
        chat: Chat,
        message: ChatMessage,
        formatted: FormattedText | None,
        markup: Markup | None,
    ) -> ChatMessage:
        now = self.clock.now()
        raw = dict(message.raw)
        raw["edit_date"] = _timestamp(now)
        changes: dict[str, Any] = {}
        if formatted is not None:
            raw["text"] = formatted.text
            raw.pop("entities", None)
            if formatted.entities:
                raw["entities"] = formatted.entities_json()
            changes.update(text=formatted.text, entities=tuple(formatted.entities_json()))
        inline_json = _keyboard_json(markup)
        raw.pop("reply_markup", None)
        if inline_json is not None:
            raw["reply_markup"] = inline_json
        edited = dataclasses.replace(
            message,
            raw=raw,
            edit_date=now,
            inline_keyboard=markup.inline if markup is not None else (),
            **changes,
        )
        chat.replace(edited, edited=True)
        return edited

    def _commands_param(self, params: _Params) -> tuple[BotCommand, ...]:
        if not params.has("commands"):
            raise _bad('parameter "commands" is required')
        value = params.json_value("commands", "commands")
        if not isinstance(value, list):
            raise _bad('field "commands" must be of type Array')
        if len(value) > BOT_COMMANDS_MAX:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        commands: list[BotCommand] = []
        for item in value:
            if not isinstance(item, dict):
                raise _bad("can't parse BotCommand: Object expected")
            for name in ("command", "description"):
                if name not in item:
                    raise _bad(f"can't parse BotCommand: Can't find field \"{name}\"")
                if not isinstance(item[name], str):
                    raise _bad(f'can\'t parse BotCommand: Field "{name}" must be of type String')
            command, description = item["command"], item["description"]
            if not command:
                raise _bad("command must be non-empty")
            if not description:
                raise _bad("command description must be non-empty")
            if len(command) > BOT_COMMAND_MAX_LENGTH or not _COMMAND_SHAPE.fullmatch(command):
                raise _bad("BOT_COMMAND_INVALID")
            if len(description) > BOT_COMMAND_DESCRIPTION_MAX:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            commands.append(BotCommand(command, description))
        return tuple(commands)

    def _scope_param(self, params: _Params) -> ScopeKey:
        if not params.has("scope"):
            return ("default",)
        value = params.json_value("scope", "BotCommandScope")
        if not isinstance(value, dict):
            raise _bad("can't parse BotCommandScope: Object expected")
        kind = value.get("type")
        if kind not in _SCOPES:
            raise _bad("can't parse BotCommandScope: Unsupported type specified")
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return (kind,)
        if "chat_id" not in value:
            raise _bad("can't parse BotCommandScope: Can't find field \"chat_id\"")
        if kind == "chat_member" and "user_id" not in value:
            raise _bad("can't parse BotCommandScope: Can't find field \"user_id\"")
        raw_chat = value["chat_id"]
        chat_ref = int(raw_chat) if re.fullmatch(r"-?\d+", str(raw_chat)) else str(raw_chat)
        chat = self._find_chat(chat_ref)
        if kind == "chat":
            return ("chat", chat.id)
        if not chat.is_group:
            raise _bad("can't change commands of administrators in private chats")
        if kind == "chat_administrators":
            return ("chat_administrators", chat.id)
        user_id = value["user_id"]
        if not isinstance(user_id, int) or user_id not in chat.members:
            raise _bad("user not found")
        return ("chat_member", chat.id, user_id)

    @staticmethod
    def _language_param(params: _Params) -> str:
        language = params.string("language_code") or ""
        if language and not _LANGUAGE_SHAPE.fullmatch(language):
            raise _bad("LANG_CODE_INVALID")
        return language

    # -- Updates ---------------------------------------------------------------------------

    def _set_allowed_updates(self, params: _Params) -> None:
        value = params.json_value("allowed_updates", "allowed updates")
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _bad("can't parse allowed updates: Array of String expected")
        self._allowed_updates = frozenset(value) if value else None

    def _confirm(self, offset: int) -> None:
        before = len(self._updates)
        if offset > 0:
            while self._updates and self._updates[0].update_id < offset:
                self._updates.popleft()
        elif offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
        if len(self._updates) != before:
            self._idle_signal.notify()

    @property
    def webhook_url(self) -> str:
        """The webhook's URL; empty while the bot fetches updates with ``getUpdates``."""
        return self.webhook.url

    def _delivered(self, queued: Queued) -> None:
        """The bot answered a webhook post with 2xx: the update is done with."""
        with contextlib.suppress(ValueError):
            self._updates.remove(queued)
        self._idle_signal.notify()

    def _drop_updates(self) -> None:
        self._updates.clear()
        self._idle_signal.notify()

    def _terminate_poll(self) -> None:
        if self._poll is not None:
            self._poll.terminated = True
            self._poll = None
            self._updates_signal.notify()

    def enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update for the bot; None when the bot's allowed_updates filter it out."""
        allowed = self._allowed_updates
        if (kind not in allowed) if allowed else (kind in _DEFAULT_EXCLUDED_UPDATES):
            return None
        queued = Queued(self._next_update_id, kind, payload, chat_of(payload))
        self._next_update_id += 1
        self.updates_queued += 1
        self._updates.append(queued)
        self._updates_signal.notify()
        if self.webhook.url:
            self.webhook.wake()
        return queued.to_json()

    # -- The user side's entry points (see users.py) ---------------------------------------

    def file_ids(self, prefix: str) -> tuple[str, str]:
        """A fresh (file_id, file_unique_id) pair for simulated media."""
        number = self._next_file
        self._next_file += 1
        return f"{prefix}{number:08d}{secrets.token_urlsafe(12)}", f"AQAD{number:08d}"

    def add_user_message(
        self,
        chat: Chat,
        person: Person,
        kind: str,
        content: dict[str, Any],
        *,
        text: str | None = None,
        entities: tuple[Entity, ...] = (),
        reply_to: ChatMessage | None = None,
        deliver: bool = True,
    ) -> tuple[ChatMessage, dict[str, Any] | None]:
        """Store a message a person sent and queue its update (unless ``deliver`` is False)."""
        now = self.clock.now()
        message_id = chat.take_message_id()
        raw: dict[str, Any] = {
            "message_id": message_id,
            "from": person.to_json(),
            "chat": chat.to_json(),
            "date": _timestamp(now),
        }
        if reply_to is not None:
            raw["reply_to_message"] = {
                k: v for k, v in reply_to.raw.items() if k != "reply_to_message"
            }
        raw.update(content)
        if entities:
            raw["entities"] = [entity.to_json() for entity in entities]
        message = ChatMessage(
            chat_id=chat.id,
            message_id=message_id,
            date=now,
            from_bot=False,
            sender_id=person.id,
            kind=kind,
            text=text,
            entities=tuple(entity.to_json() for entity in entities),
            raw=raw,
        )
        chat.started = True
        chat.add(message)
        update = self.enqueue("message", raw) if deliver else None
        return message, update

    def edit_user_message(
        self, chat: Chat, message: ChatMessage, text: str
    ) -> tuple[ChatMessage, dict[str, Any] | None]:
        """A person edits the text of a message they sent: queue an ``edited_message``."""
        now = self.clock.now()
        entities = tuple(find_bot_commands(text))
        raw = dict(message.raw)
        raw["text"] = text
        raw["edit_date"] = _timestamp(now)
        raw.pop("entities", None)
        if entities:
            raw["entities"] = [entity.to_json() for entity in entities]
        edited = dataclasses.replace(
            message,
            text=text,
            entities=tuple(entity.to_json() for entity in entities),
            raw=raw,
            edit_date=now,
        )
        chat.replace(edited, edited=False)
        return edited, self.enqueue("edited_message", raw)

    def press_button(
        self, chat: Chat, person: Person, message: ChatMessage, data: str
    ) -> tuple[str, dict[str, Any] | None]:
        """Queue the callback query of a pressed button; return its id and the update."""
        query_id = str(4_000_000_000_000_000 + self._next_query)
        self._next_query += 1
        self._queries[query_id] = _Query(
            id=query_id,
            person=person,
            chat=chat,
            message_id=message.message_id,
            data=data,
            created=self.clock.now(),
        )
        payload = {
            "id": query_id,
            "from": person.to_json(),
            "message": message.raw,
            "chat_instance": str(abs(chat.id) * 7919 % 10**19),
            "data": data,
        }
        return query_id, self.enqueue("callback_query", payload)

    def callback_answer(self, query_id: str) -> CallbackAnswer | None:
        """The bot's answer to a callback query, once it answered."""
        query = self._queries.get(query_id)
        return None if query is None else query.answer

    def set_blocked(self, chat: Chat, blocked: bool) -> None:
        """Block or unblock the bot in a private chat; the bot gets a my_chat_member update."""
        if chat.person is None or chat.blocked == blocked:
            return
        chat.blocked = blocked
        member = {"status": "member", "user": self.bot_json()}
        kicked = {"status": "kicked", "user": self.bot_json(), "until_date": 0}
        self.enqueue(
            "my_chat_member",
            {
                "chat": chat.to_json(),
                "from": chat.person.to_json(),
                "date": _timestamp(self.clock.now()),
                "old_chat_member": member if blocked else kicked,
                "new_chat_member": kicked if blocked else member,
            },
        )


def _keyboard_json(markup: Markup | None) -> dict[str, Any] | None:
    """The inline keyboard a message carries after this markup (None: no keyboard)."""
    if markup is None or markup.inline_json is None or not markup.inline:
        return None
    return markup.inline_json


_ENTITY_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
    }
)


def _explicit_entities(text: str, value: Any) -> FormattedText:  # noqa: PLR0912 - one check a rule
    """Check entities given with the ``entities`` parameter as the Bot API does."""
    if not isinstance(value, list):
        raise _bad('field "entities" must be of type Array')
    size = utf16_length(text)
    entities: list[Entity] = []
    for item in value:
        if not isinstance(item, dict):
            raise _bad("can't parse MessageEntity: Object expected")
        kind = item.get("type")
        if kind not in _ENTITY_TYPES:
            raise _bad("can't parse MessageEntity: Unsupported type specified")
        offset, length = item.get("offset"), item.get("length")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise _bad('can\'t parse MessageEntity: Field "offset" must be of type Number')
        if offset < 0:
            raise _bad(f"receive an entity with incorrect offset {offset}")
        if offset > size:
            raise _bad(f"entity begins after the end of the text at UTF-16 offset {offset}")
        if offset + length > size:
            raise _bad(
                f"entity beginning at UTF-16 offset {offset} ends after the end of the text at "
                f"UTF-16 offset {offset + length}"
            )
        extra: list[tuple[str, Any]] = []
        for name in {"text_link": "url", "pre": "language", "custom_emoji": "custom_emoji_id"}.get(
            kind, ""
        ).split():
            if name in item:
                extra.append((name, item[name]))
            elif kind != "pre":
                raise _bad(f"can't parse MessageEntity: Can't find field \"{name}\"")
        if kind == "text_mention":
            if "user" not in item:
                raise _bad("can't parse MessageEntity: Can't find field \"user\"")
            extra.append(("user", item["user"]))
        if length > 0:
            entities.append(Entity(kind, offset, length, tuple(extra)))
    return FormattedText(text, tuple(sorted(entities, key=lambda e: (e.offset, -e.length))))


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Query string, then the body: a form, multipart or JSON, as the Bot API accepts."""
    params: dict[str, Any] = dict(request.query)
    if not request.can_read_body:
        return params
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise _bad("can't parse JSON object") from None
        if isinstance(body, dict):
            params.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                data = value.file.read()
                params[name] = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "size": len(data),
                    "data": data,
                }
            else:
                params[name] = value
    return params


def _json(data: Any, status: int) -> web.Response:
    return web.json_response(
        data, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
    )
