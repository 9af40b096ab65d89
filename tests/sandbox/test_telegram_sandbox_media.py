"""The Telegram sandbox's files and inline mode keep Telegram's rules: photos, documents
(multipart uploads kept byte for byte), inline queries with their limits and cache."""

from __future__ import annotations

import io
from datetime import timedelta

import segno
import telegram
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ChosenInlineResultHandler, InlineQueryHandler

from bot.clock import ManualClock
from bot.telegram.limits import TelegramLimits
from sandbox.telegram import TelegramSandbox
from tests.harness import wait_until
from tests.telegram_helpers import build_application, polling, refused

pytest_plugins = ("tests.telegram_fixtures",)

QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def png() -> bytes:
    out = io.BytesIO()
    segno.make("https://t.me/x?start=y").save(out, kind="png", scale=4)
    return out.getvalue()


async def test_a_photo_and_a_document_arrive_with_their_bytes(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user("Anna")
    image = png()
    sent = await bot.send_photo(
        anna.id, image, caption="<b>Scan</b> me", parse_mode=ParseMode.HTML
    )
    assert sent.photo[-1].width == sent.photo[-1].height > 0
    assert sent.caption == "Scan me"
    document = await bot.send_document(
        anna.id, b"BEGIN:VCALENDAR\r\n", filename="course.ics", caption="Dates"
    )
    assert document.document is not None
    assert document.document.file_name == "course.ics"
    photo_message, document_message = anna.messages
    assert photo_message.kind == "photo"
    assert photo_message.file is not None
    assert photo_message.file.data == image
    assert photo_message.caption == "Scan me"
    assert document_message.file is not None
    assert document_message.file.name == "course.ics"
    assert document_message.file.data == b"BEGIN:VCALENDAR\r\n"

    again = await bot.send_document(anna.id, document.document.file_id)
    assert again.document is not None
    assert anna.messages[-1].file == document_message.file


async def test_a_photo_must_be_an_image_and_a_caption_short(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user("Anna")
    with refused(sandbox, BadRequest, "Bad Request: IMAGE_PROCESS_FAILED"):
        await bot.send_photo(anna.id, b"not an image", filename="x.png")
    with refused(sandbox, BadRequest, "Bad Request: message caption is too long"):
        await bot.send_document(anna.id, b"x", filename="x.txt", caption="x" * 1025)
    with refused(sandbox, BadRequest, "Bad Request: wrong file identifier/HTTP URL specified"):
        await bot.send_document(anna.id, "no-such-file-id")
    sent = await bot.send_document(anna.id, b"x", filename="x.txt")
    with refused(sandbox, BadRequest, "Bad Request: there is no text in the message to edit"):
        await bot.edit_message_text("new", chat_id=anna.id, message_id=sent.message_id)
    assert len(anna.messages) == 1


def article(result_id: str, title: str = "Excel") -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        result_id,
        title,
        InputTextMessageContent(f"<b>{title}</b>", parse_mode=ParseMode.HTML),
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Go", url="https://t.me/x")]]),
        description="soon",
    )


async def test_inline_queries_are_answered_once_within_the_rules_and_cached() -> None:
    clock = ManualClock()
    async with TelegramSandbox(limits=TelegramLimits.unlimited(), clock=clock) as sandbox:
        application = build_application(sandbox)
        asked: list[str] = []
        chosen: list[str] = []
        answers: list[object] = []

        async def on_query(update: Update, _: object) -> None:
            query = update.inline_query
            assert query is not None
            asked.append(query.query)
            if query.query == "many":
                try:
                    await query.answer([article(str(n)) for n in range(51)])
                except BadRequest as error:
                    answers.append(error.message)
                return
            if query.query == "long id":
                try:
                    await query.answer([article("x" * 65)])
                except BadRequest as error:
                    answers.append(error.message)
                return
            await query.answer([article("a-1"), article("b-2", "Word")], cache_time=30)
            try:
                await query.answer([article("a-1")])
            except BadRequest as error:
                answers.append(error.message)

        async def on_chosen(update: Update, _: object) -> None:
            assert update.chosen_inline_result is not None
            chosen.append(update.chosen_inline_result.result_id)

        application.add_handler(InlineQueryHandler(on_query))
        application.add_handler(ChosenInlineResultHandler(on_chosen))
        anna = sandbox.user("Anna")
        async with polling(application, sandbox):
            answer = await anna.inline("excel")
            assert answer.titles == ["Excel", "Word"]
            assert answer.cache_time == 30
            assert not answer.cached
            # A second answer to the same query is refused.
            await wait_until(lambda: len(answers) == 1, what="the second answer's refusal")

            clock.advance(timedelta(seconds=29))
            again = await anna.inline("excel")
            assert again.cached
            assert asked == ["excel"], "the cached query did not reach the bot"
            clock.advance(timedelta(seconds=2))
            await anna.inline("excel")
            assert asked == ["excel", "excel"]

            group = sandbox.group("Friends", [anna])
            posted = anna.choose(answer, "b-2", into=group)
            assert posted.text == "Word"
            assert posted.raw["via_bot"]["username"] == sandbox.bot_username
            assert [b.url for b in posted.buttons] == ["https://t.me/x"]
            await wait_until(lambda: chosen, what="the chosen_inline_result")
            assert chosen == ["b-2"]

            for query in ("many", "long id"):  # refused: no answer reaches Anna
                sandbox.inline.ask(anna.person, query)
            await wait_until(lambda: len(answers) == 4, what="the refusals")
            refusals = [c.description for c in sandbox.calls_to("answerInlineQuery") if not c.ok]
            assert refusals == [
                QUERY_TOO_OLD,
                QUERY_TOO_OLD,
                "Bad Request: RESULTS_TOO_MUCH",
                "Bad Request: RESULT_ID_INVALID",
            ]
