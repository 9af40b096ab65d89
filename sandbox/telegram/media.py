"""The sandbox's files and inline mode: ``sendPhoto``, ``sendDocument``, ``answerInlineQuery``.

Files: a photo or document uploaded with multipart (PTB's way) is kept with its bytes
(:attr:`ChatMessage.file`), so a test can read exactly what a person would save; a ``file_id``
the sandbox handed out earlier sends the same file again. Telegram's checks: a photo must be a
PNG or JPEG (``IMAGE_PROCESS_FAILED``) of at most 10 MB and 10,000 pixels width plus height, a
document at most 50 MB, a caption at most 1,024 characters after entity parsing.

Inline mode: a person types ``@bot text`` (:meth:`InlineMode.ask`): the bot gets an
``inline_query`` update and answers with ``answerInlineQuery``, within 10 s, at most once, with
at most 50 results whose ids are 1-64 bytes and unique. Telegram keeps an answer for its
``cache_time`` (default 300 s; per person when ``is_personal``): the same query within that time
is answered from the cache and the bot hears nothing, as on Telegram. Choosing a result
(:meth:`InlineMode.choose`) posts its message in the chat the person is in, ``via`` the bot,
and sends the bot a ``chosen_inline_result`` (inline feedback switched on at BotFather).
"""

from __future__ import annotations

import dataclasses
import itertools
import struct
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.telegram.limits import (
    CAPTION_MAX,
    INLINE_QUERY_TIMEOUT,
    INLINE_RESULT_ID_MAX_BYTES,
    INLINE_RESULTS_MAX,
    MESSAGE_TEXT_MAX,
)
from sandbox.telegram.formatting import EntityParseError, FormattedText, parse_text
from sandbox.telegram.markup import Markup, parse_reply_markup
from sandbox.telegram.models import (
    ApiError,
    ChatMessage,
    InlineAnswer,
    InlineResult,
    SentFile,
)
from sandbox.telegram.state import Chat, Person, Signal

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sandbox.telegram.server import TelegramSandbox, _Params

__all__ = ["InlineMode", "MediaMethods"]

PHOTO_MAX_BYTES = 10 * 1024 * 1024
DOCUMENT_MAX_BYTES = 50 * 1024 * 1024
PHOTO_MAX_SIDES = 10_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
DEFAULT_CACHE_TIME = 300


def _bad(description: str) -> ApiError:
    return ApiError(400, "Bad Request: " + description)


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG or JPEG, ``None`` for anything else."""
    if data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data.startswith(b"\xff\xd8"):
        position = 2
        while position + 9 < len(data):
            if data[position] != 0xFF:
                return None
            marker = data[position + 1]
            length = struct.unpack(">H", data[position + 2 : position + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[position + 5 : position + 9])
                return width, height
            position += 2 + length
    return None


class MediaMethods:
    """``sendPhoto`` and ``sendDocument`` for :class:`TelegramSandbox`."""

    def __init__(self, sandbox: TelegramSandbox) -> None:
        self._sandbox = sandbox
        self.files: dict[str, SentFile] = {}

    def methods(self) -> dict[str, Callable[[_Params], Awaitable[Any]]]:
        return {"sendPhoto": self._send_photo, "sendDocument": self._send_document}

    async def _send_photo(self, params: _Params) -> dict[str, Any]:
        chat, file, caption, markup = self._common(params, "photo", PHOTO_MAX_BYTES)
        size = image_size(file.data)
        if size is None:
            raise _bad("IMAGE_PROCESS_FAILED")
        width, height = size
        if width + height > PHOTO_MAX_SIDES or max(width, height) > 20 * min(width, height):
            raise _bad("PHOTO_INVALID_DIMENSIONS")
        png = file.data.startswith(PNG_SIGNATURE)
        file = dataclasses.replace(file, mime_type="image/png" if png else "image/jpeg")
        sizes = []
        longest = max(width, height)
        for side in (90, 320, 800, 1280):
            scale = min(1.0, side / longest)
            sizes.append(
                {
                    "file_id": file.file_id if side == 1280 else file.file_id + f"_{side}",
                    "file_unique_id": f"AQAD{file.file_id[-8:]}{side}",
                    "width": round(width * scale),
                    "height": round(height * scale),
                    "file_size": len(file.data) if side == 1280 else len(file.data) // 4 + 1,
                }
            )
            if scale == 1.0:
                break
        return self._add(
            chat, kind="photo", content={"photo": sizes}, file=file, caption=caption, markup=markup
        ).raw

    async def _send_document(self, params: _Params) -> dict[str, Any]:
        chat, file, caption, markup = self._common(params, "document", DOCUMENT_MAX_BYTES)
        document = {
            "file_id": file.file_id,
            "file_unique_id": f"AgAD{file.file_id[-8:]}",
            "file_name": file.name,
            "mime_type": file.mime_type,
            "file_size": len(file.data),
        }
        return self._add(
            chat,
            kind="document",
            content={"document": document},
            file=file,
            caption=caption,
            markup=markup,
        ).raw

    def _common(
        self, params: _Params, name: str, most: int
    ) -> tuple[Chat, SentFile, FormattedText | None, Markup | None]:
        sandbox = self._sandbox
        ref = params.chat_id()
        if ref is None:
            raise _bad("chat_id is empty")
        value = params.raw.get(name)
        if value is None or value == "":
            raise _bad(f"there is no {name} in the request")
        markup = sandbox._markup(params)
        caption = self._caption(params)
        chat = sandbox._find_chat(ref)
        sandbox._check_writable(chat)
        if isinstance(value, dict) and "data" in value:
            data = value["data"]
            if not data:
                raise _bad("file must be non-empty")
            if len(data) > most:
                raise ApiError(413, "Request Entity Too Large")
            file_id, _ = sandbox.file_ids("BQACAgQAAxkDAAI" if name == "document" else "AgACAgQ")
            file = SentFile(
                file_id=file_id,
                name=str(value.get("filename") or name),
                mime_type=str(value.get("content_type") or "application/octet-stream"),
                data=data,
            )
            self.files[file_id] = file
        elif isinstance(value, str) and value in self.files:
            file = self.files[value]
        else:
            raise _bad("wrong file identifier/HTTP URL specified")
        params.decoded[name] = {"name": file.name, "size": len(file.data)}
        sandbox._acquire("send" + name.capitalize(), chat)
        return chat, file, caption, markup

    @staticmethod
    def _caption(params: _Params) -> FormattedText | None:
        text = params.string("caption")
        if not text:
            return None
        try:
            formatted = parse_text(text, params.string("parse_mode"))
        except EntityParseError as err:
            raise _bad(f"can't parse entities: {err}") from None
        except ValueError:
            raise _bad("unsupported parse_mode") from None
        if len(formatted.text) > CAPTION_MAX:
            raise _bad("message caption is too long")
        return formatted

    def _add(
        self,
        chat: Chat,
        *,
        kind: str,
        content: dict[str, Any],
        file: SentFile,
        caption: FormattedText | None,
        markup: Markup | None,
    ) -> ChatMessage:
        sandbox = self._sandbox
        now = sandbox.clock.now()
        message_id = chat.take_message_id()
        raw: dict[str, Any] = {
            "message_id": message_id,
            "from": sandbox.bot_json(),
            "chat": chat.to_json(),
            "date": int(now.timestamp()),
            **content,
        }
        if caption is not None:
            raw["caption"] = caption.text
            if caption.entities:
                raw["caption_entities"] = caption.entities_json()
        if markup is not None and markup.inline_json is not None and markup.inline:
            raw["reply_markup"] = markup.inline_json
        message = ChatMessage(
            chat_id=chat.id,
            message_id=message_id,
            date=now,
            from_bot=True,
            sender_id=sandbox.bot_id,
            kind=kind,
            text=None,
            entities=(),
            raw=raw,
            inline_keyboard=markup.inline if markup is not None else (),
            caption=caption.text if caption is not None else None,
            file=file,
        )
        chat.add(message)
        return message


@dataclasses.dataclass(eq=False, slots=True)
class _InlineQuery:
    id: str
    person: Person
    query: str
    created: datetime
    answer: InlineAnswer | None = None


class InlineMode:
    """Inline queries: the person's side (:meth:`ask`, :meth:`choose`) and
    ``answerInlineQuery``."""

    def __init__(self, sandbox: TelegramSandbox, *, feedback: bool = True) -> None:
        self._sandbox = sandbox
        self.feedback = feedback
        self.signal = Signal()
        self._queries: dict[str, _InlineQuery] = {}
        self._cache: dict[tuple[str, int | None], InlineAnswer] = {}
        self._ids = itertools.count(1)
        self._elsewhere = itertools.count(1)

    def methods(self) -> dict[str, Callable[[_Params], Awaitable[Any]]]:
        return {"answerInlineQuery": self._answer_inline_query}

    # -- The person's side -------------------------------------------------------------------

    def cached(self, person: Person, query: str) -> InlineAnswer | None:
        """Telegram's cached answer to ``query`` for ``person``, while it is fresh."""
        now = self._sandbox.clock.now()
        for key in ((query, person.id), (query, None)):
            answer = self._cache.get(key)
            if answer is not None and now < answer.when + timedelta(seconds=answer.cache_time):
                return dataclasses.replace(answer, cached=True)
        return None

    def ask(
        self, person: Person, query: str, chat_type: str = "sender"
    ) -> tuple[str, dict[str, Any] | None]:
        """Queue the ``inline_query`` of ``person`` typing ``@bot query``."""
        query_id = str(8_000_000_000_000_000 + next(self._ids))
        self._queries[query_id] = _InlineQuery(
            query_id, person, query[:256], self._sandbox.clock.now()
        )
        payload = {
            "id": query_id,
            "from": person.to_json(),
            "query": query[:256],
            "offset": "",
            "chat_type": chat_type,
        }
        return query_id, self._sandbox.enqueue("inline_query", payload)

    def answer_of(self, query_id: str) -> InlineAnswer | None:
        query = self._queries.get(query_id)
        return None if query is None else query.answer

    def choose(
        self, person: Person, answer: InlineAnswer, result: InlineResult, into: Chat | None
    ) -> ChatMessage:
        """Post ``result`` in ``into`` (or in a chat with someone else) and tell the bot."""
        sandbox = self._sandbox
        if result.message_text is None:
            raise ValueError("only results with a text message can be chosen in the sandbox")
        chat = into or Chat(id=9_100_000_000 + next(self._elsewhere), type="private")
        content = result.raw.get("input_message_content") or {}
        formatted = parse_text(result.message_text, content.get("parse_mode"))
        now = sandbox.clock.now()
        raw: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": person.to_json(),
            "chat": chat.to_json(),
            "date": int(now.timestamp()),
            "via_bot": sandbox.bot_json(),
            "text": formatted.text,
        }
        if formatted.entities:
            raw["entities"] = formatted.entities_json()
        if "reply_markup" in result.raw:
            raw["reply_markup"] = result.raw["reply_markup"]
        message = ChatMessage(
            chat_id=chat.id,
            message_id=raw["message_id"],
            date=now,
            from_bot=False,
            sender_id=person.id,
            kind="text",
            text=formatted.text,
            entities=tuple(formatted.entities_json()),
            raw=raw,
            inline_keyboard=result.inline_keyboard,
        )
        chat.add(message)
        if self.feedback:
            chosen: dict[str, Any] = {
                "result_id": result.id,
                "from": person.to_json(),
                "query": answer.query,
            }
            if result.inline_keyboard:
                chosen["inline_message_id"] = f"AgAAA{answer.query_id}{result.id}"[:64]
            sandbox.enqueue("chosen_inline_result", chosen)
        return message

    # -- The bot's side ----------------------------------------------------------------------

    async def _answer_inline_query(self, params: _Params) -> bool:
        query_id = params.string("inline_query_id") or ""
        query = self._queries.get(query_id)
        now = self._sandbox.clock.now()
        if query is None or query.answer is not None or now - query.created > INLINE_QUERY_TIMEOUT:
            raise ApiError(400, QUERY_TOO_OLD)
        value = params.json_value("results", "results")
        if not isinstance(value, list):
            raise _bad("can't parse results JSON object")
        if len(value) > INLINE_RESULTS_MAX:
            raise _bad("RESULTS_TOO_MUCH")
        results = []
        seen: set[str] = set()
        for item in value:
            result = self._result(item)
            if result.id in seen:
                raise _bad("RESULT_ID_DUPLICATE")
            seen.add(result.id)
            results.append(result)
        next_offset = params.string("next_offset") or ""
        if len(next_offset.encode()) > 64:
            raise _bad("NEXT_OFFSET_INVALID")
        cache_time = params.integer("cache_time")
        is_personal = params.boolean("is_personal")
        answer = InlineAnswer(
            query_id=query_id,
            query=query.query,
            results=tuple(results),
            cache_time=DEFAULT_CACHE_TIME if cache_time is None else max(0, cache_time),
            is_personal=is_personal,
            next_offset=next_offset,
            when=now,
        )
        query.answer = answer
        if answer.cache_time > 0:
            self._cache[(query.query, query.person.id if is_personal else None)] = answer
        self.signal.notify()
        return True

    @staticmethod
    def _result(item: Any) -> InlineResult:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise _bad("can't parse InlineQueryResult: Object expected")
        result_id = item.get("id")
        if not isinstance(result_id, str) or not (
            1 <= len(result_id.encode()) <= INLINE_RESULT_ID_MAX_BYTES
        ):
            raise _bad("RESULT_ID_INVALID")
        markup = None
        if "reply_markup" in item:
            markup = parse_reply_markup(item["reply_markup"])
            if not markup.is_inline:
                raise _bad("inline keyboard expected")
        message_text = None
        content = item.get("input_message_content")
        if item["type"] == "article":
            if not item.get("title"):
                raise _bad("RESULT_TITLE_EMPTY")
            if not isinstance(content, dict):
                raise _bad("can't parse InputMessageContent: Object expected")
        if isinstance(content, dict) and "message_text" in content:
            message_text = str(content["message_text"])
            try:
                formatted = parse_text(message_text, content.get("parse_mode"))
            except EntityParseError as err:
                raise _bad(f"can't parse entities: {err}") from None
            if not formatted.text:
                raise _bad("MESSAGE_EMPTY")
            if len(formatted.text) > MESSAGE_TEXT_MAX:
                raise _bad("MESSAGE_TOO_LONG")
        return InlineResult(
            id=result_id,
            type=item["type"],
            title=item.get("title"),
            description=item.get("description"),
            message_text=message_text,
            raw=item,
            inline_keyboard=markup.inline if markup is not None else (),
        )
