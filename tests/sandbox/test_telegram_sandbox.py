"""The Telegram sandbox keeps Telegram's rules: PTB's real Bot gets what Telegram would give it.

Each test drives the sandbox over loopback HTTP with ``telegram.Bot`` and checks what PTB
returns or raises, and Telegram's exact description in the sandbox's answer.
"""

from __future__ import annotations

import asyncio
import html
import json
from datetime import timedelta

import httpx
import pytest
import telegram
from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken

from bot.clock import ManualClock
from bot.telegram.limits import TelegramLimits
from sandbox.telegram import TelegramSandbox
from tests.telegram_helpers import make_bot, refused

pytest_plugins = ("tests.telegram_fixtures",)

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


# -- The HTTP surface -------------------------------------------------------------------------


async def test_get_me_describes_the_bot(sandbox: TelegramSandbox, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot
    assert me.id == sandbox.bot_id
    assert me.username == "enrollbot_sandbox_bot"
    assert sandbox.token.startswith(f"{sandbox.bot_id}:")
    assert len(sandbox.token.split(":")[1]) == 35


async def test_a_wrong_token_is_unauthorized(sandbox: TelegramSandbox) -> None:
    other_token = TelegramSandbox().token
    stranger = telegram.Bot(other_token, base_url=sandbox.url + "/bot")
    with pytest.raises(InvalidToken):
        async with stranger:  # initialising calls getMe
            pass
    async with httpx.AsyncClient(base_url=sandbox.url) as client:
        response = await client.get(f"/bot{other_token}/getMe")
    assert response.status_code == 401
    assert response.json() == {
        "ok": False,
        "error_code": 401,
        "description": "Unauthorized: invalid token specified",
    }


async def test_a_malformed_token_and_an_unknown_method_are_not_found(
    sandbox: TelegramSandbox,
) -> None:
    async with httpx.AsyncClient(base_url=sandbox.url) as client:
        malformed = await client.get("/botnot-a-token/getMe")
        unknown = await client.get(f"/bot{sandbox.token}/sendHologram")
        elsewhere = await client.get("/index.html")
    expected = {"ok": False, "error_code": 404, "description": "Not Found"}
    for response in (malformed, unknown, elsewhere):
        assert response.status_code == 404
        assert response.json() == expected


async def test_method_names_are_case_insensitive_and_all_four_encodings_work(
    sandbox: TelegramSandbox,
) -> None:
    anna = sandbox.user("Anna")
    base = f"/bot{sandbox.token}"
    markup = {"inline_keyboard": [[{"text": "Ja", "callback_data": "yes"}]]}
    async with httpx.AsyncClient(base_url=sandbox.url) as client:
        query = await client.get(
            f"{base}/SENDMESSAGE", params={"chat_id": anna.id, "text": "query string"}
        )
        not_json = await client.post(
            f"{base}/sendmessage",
            data={"chat_id": str(anna.id), "text": "form", "reply_markup": str(markup)},
        )
        form = await client.post(
            f"{base}/sendMessage",
            data={"chat_id": str(anna.id), "text": "form", "reply_markup": json.dumps(markup)},
        )
        body = await client.post(
            f"{base}/sendMessage",
            json={"chat_id": anna.id, "text": "json", "reply_markup": markup},
        )
        multipart = await client.post(
            f"{base}/sendMessage",
            data={"chat_id": str(anna.id), "text": "multipart"},
            files={"thumbnail": ("x.jpg", b"\xff\xd8", "image/jpeg")},
        )
    assert query.json()["result"]["text"] == "query string"
    assert not_json.status_code == 400
    assert not_json.json()["description"] == (
        "Bad Request: can't parse reply keyboard markup JSON object"
    )
    assert form.json()["result"]["reply_markup"] == markup
    assert body.json()["result"]["reply_markup"] == markup
    assert multipart.json()["result"]["text"] == "multipart"
    assert [message.text for message in anna.messages] == [
        "query string",
        "form",
        "json",
        "multipart",
    ]
    recorded = sandbox.calls_to("sendMessage")[2]
    assert recorded.params["chat_id"] == anna.id
    assert recorded.params["reply_markup"] == markup


# -- Texts ------------------------------------------------------------------------------------


async def test_a_message_gets_a_per_chat_increasing_id_and_the_bot_as_sender(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna, bob = sandbox.user("Anna"), sandbox.user("Bob")
    first = await bot.send_message(anna.id, "een")
    await anna.send("hoi")
    second = await bot.send_message(anna.id, "twee")
    other = await bot.send_message(bob.id, "een")
    assert (first.message_id, second.message_id, other.message_id) == (1, 3, 1)
    assert first.from_user is not None and first.from_user.id == sandbox.bot_id
    assert first.chat.id == anna.id and first.chat.first_name == "Anna"
    assert first.date.tzinfo is not None


async def test_an_empty_text_is_refused(sandbox: TelegramSandbox, bot: telegram.Bot) -> None:
    anna = sandbox.user()
    with refused(sandbox, BadRequest, "Bad Request: message text is empty"):
        await bot.send_message(anna.id, "")
    with refused(sandbox, BadRequest, "Bad Request: text must be non-empty"):
        await bot.send_message(anna.id, "  \n ")
    with refused(sandbox, BadRequest, "Bad Request: text must be non-empty"):
        await bot.send_message(anna.id, "<b> </b>", parse_mode=ParseMode.HTML)
    assert anna.messages == []


async def test_4096_characters_after_html_parsing_is_the_limit(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    longest = await bot.send_message(
        anna.id, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML
    )
    assert len(longest.text or "") == 4096
    with refused(sandbox, BadRequest, "Bad Request: message is too long"):
        await bot.send_message(anna.id, "<b>" + "x" * 4097 + "</b>", parse_mode=ParseMode.HTML)
    with refused(sandbox, BadRequest, "Bad Request: message is too long"):
        await bot.send_message(anna.id, "é" * 4097)
    assert len(anna.messages) == 1


async def test_a_document_arrives_with_its_name_bytes_and_caption(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    sent = await bot.send_document(
        anna.id, b'{"a": 1}', filename="data.json", caption="<b>Yours</b>", parse_mode="HTML"
    )
    assert sent.document is not None and sent.document.file_name == "data.json"
    assert sent.caption == "Yours" and sent.text is None
    [message] = anna.messages
    assert message.kind == "document" and message.caption == "Yours"
    assert message.file is not None
    assert (message.file.name, message.file.data) == ("data.json", b'{"a": 1}')
    with refused(sandbox, BadRequest, "Bad Request: message caption is too long"):
        await bot.send_document(anna.id, b"x", filename="x.txt", caption="x" * 1025)
    with refused(sandbox, BadRequest, "Bad Request: wrong file identifier/HTTP URL specified"):
        await bot.send_document(anna.id, "not-a-file-id")
    assert len(anna.messages) == 1


async def test_html_gives_plain_text_and_utf16_entities(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    sent = await bot.send_message(
        anna.id,
        '😀 <b>vet <i>schuin</i></b> &lt;3 &#128512; <a href="https://example.com/x">link</a>'
        '\n<pre><code class="language-python">x = 1</code></pre>'
        "<blockquote expandable>quote</blockquote> <tg-spoiler>geheim</tg-spoiler>",
        parse_mode=ParseMode.HTML,
    )
    assert sent.text == "😀 vet schuin <3 😀 link\nx = 1quote geheim"
    entities = [(e.type, e.offset, e.length) for e in sent.entities]
    assert entities == [
        ("bold", 3, 10),
        ("italic", 7, 6),
        ("text_link", 20, 4),
        ("pre", 25, 5),
        ("expandable_blockquote", 30, 5),
        ("spoiler", 36, 6),
    ]
    assert sent.entities[2].url == "https://example.com/x"
    assert sent.entities[3].language == "python"
    stored = anna.last_message
    assert stored is not None and stored.entity_texts("italic") == ["schuin"]


async def test_a_name_escaped_by_the_bot_is_shown_literally(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    name = "<b>&*"
    await bot.send_message(anna.id, f"Hallo <b>{html.escape(name)}</b>!", parse_mode="HTML")
    message = await anna.next_message()
    assert message.text == "Hallo <b>&*!"
    assert message.entity_texts("bold") == ["<b>&*"]


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("<b>vet", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("é<b>x</i>", 'Unmatched end tag at byte offset 6, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("Tom & Jerry", 'Character "&" at byte offset 4 must be escaped as "&amp;"'),
        ("&nbsp;", 'Character "&" at byte offset 0 must be escaped as "&amp;"'),
    ],
)
async def test_html_that_telegram_cannot_parse_is_refused(
    sandbox: TelegramSandbox, bot: telegram.Bot, text: str, description: str
) -> None:
    anna = sandbox.user()
    with refused(sandbox, BadRequest, "Bad Request: can't parse entities: " + description):
        await bot.send_message(anna.id, text, parse_mode=ParseMode.HTML)
    assert anna.messages == []


async def test_an_unknown_parse_mode_is_refused(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    with refused(sandbox, BadRequest, "Bad Request: unsupported parse_mode"):
        await bot.send_message(sandbox.user().id, "x", parse_mode="BBCode")
    with refused(sandbox, BadRequest, "Bad Request: unsupported parse_mode"):
        # Telegram knows MarkdownV2; the sandbox models only the bot's HTML.
        await bot.send_message(sandbox.user().id, "x", parse_mode=ParseMode.MARKDOWN_V2)


# -- Keyboards --------------------------------------------------------------------------------

TEXT_BUTTON = (
    "Bad Request: can't parse inline keyboard button: "
    "Text buttons are unallowed in the inline keyboard"
)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ("", TEXT_BUTTON),
        ("x", None),
        ("x" * 64, None),
        ("é" * 32, None),
        ("x" * 65, "Bad Request: BUTTON_DATA_INVALID"),
        ("é" * 33, "Bad Request: BUTTON_DATA_INVALID"),
    ],
)
async def test_callback_data_is_1_to_64_bytes(
    sandbox: TelegramSandbox, bot: telegram.Bot, data: str, error: str | None
) -> None:
    anna = sandbox.user()
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Knop", callback_data=data)]])
    if error is None:
        sent = await bot.send_message(anna.id, "Kies", reply_markup=markup)
        assert sent.reply_markup == markup
        assert anna.messages[0].buttons[0].callback_data == data
    else:
        with refused(sandbox, BadRequest, error):
            await bot.send_message(anna.id, "Kies", reply_markup=markup)


async def test_a_button_needs_exactly_one_action_and_a_text(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    both = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Twee", url="https://example.com", callback_data="x")]]
    )
    with refused(
        sandbox,
        BadRequest,
        "Bad Request: can't parse inline keyboard button: exactly one of the optional fields "
        "must be used, not url, callback_data",
    ):
        await bot.send_message(anna.id, "Kies", reply_markup=both)
    empty = InlineKeyboardMarkup([[InlineKeyboardButton("", callback_data="x")]])
    with refused(sandbox, BadRequest, "Bad Request: BUTTON_TEXT_INVALID"):
        await bot.send_message(anna.id, "Kies", reply_markup=empty)
    bad_url = InlineKeyboardMarkup([[InlineKeyboardButton("Web", url="not-a-url")]])
    with refused(
        sandbox,
        BadRequest,
        "Bad Request: inline keyboard button URL 'not-a-url' is invalid: Wrong HTTP URL",
    ):
        await bot.send_message(anna.id, "Kies", reply_markup=bad_url)


async def test_reply_keyboards_removal_and_force_reply_are_recorded(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    share = ReplyKeyboardMarkup(
        [[KeyboardButton("Deel mijn nummer", request_contact=True)], ["Overslaan"]],
        one_time_keyboard=True,
        resize_keyboard=True,
    )
    sent = await bot.send_message(anna.id, "Je nummer?", reply_markup=share)
    assert sent.reply_markup is None  # a Message only ever carries an inline keyboard
    shown = anna.reply_keyboard
    assert shown is not None and shown.one_time_keyboard
    assert [(b.text, b.request_contact) for b in shown.buttons] == [
        ("Deel mijn nummer", True),
        ("Overslaan", False),
    ]
    assert anna.messages[-1].reply_keyboard == shown
    await bot.send_message(anna.id, "Dank je", reply_markup=ReplyKeyboardRemove())
    assert anna.reply_keyboard is None and anna.messages[-1].remove_keyboard
    await bot.send_message(anna.id, "Je naam?", reply_markup=ForceReply())
    assert anna.messages[-1].force_reply


# -- Edits and deletions ----------------------------------------------------------------------


async def test_an_edit_that_changes_nothing_is_refused(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    markup = keyboard([("Ja", "yes")])
    sent = await bot.send_message(anna.id, "<b>Vraag</b>", parse_mode="HTML", reply_markup=markup)
    with refused(sandbox, BadRequest, NOT_MODIFIED):
        await bot.edit_message_text(
            "<b>Vraag</b>", anna.id, sent.message_id, parse_mode="HTML", reply_markup=markup
        )
    with refused(sandbox, BadRequest, NOT_MODIFIED):
        await bot.edit_message_reply_markup(anna.id, sent.message_id, reply_markup=markup)
    # The same text without its bold is a change, and leaving out the keyboard removes it.
    edited = await bot.edit_message_text("Vraag", anna.id, sent.message_id)
    assert isinstance(edited, telegram.Message)
    assert edited.reply_markup is None and edited.edit_date is not None
    current = anna.messages[0]
    assert current.text == "Vraag" and current.entities == () and current.buttons == []
    assert current.edited
    with refused(sandbox, BadRequest, NOT_MODIFIED):
        await bot.edit_message_reply_markup(anna.id, sent.message_id)


async def test_editing_or_deleting_a_missing_message_is_refused(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    with refused(sandbox, BadRequest, "Bad Request: message to edit not found"):
        await bot.edit_message_text("x", anna.id, 42)
    with refused(sandbox, BadRequest, "Bad Request: message to edit not found"):
        await bot.edit_message_reply_markup(anna.id, 42, reply_markup=keyboard([("a", "a")]))
    with refused(sandbox, BadRequest, "Bad Request: message to delete not found"):
        await bot.delete_message(anna.id, 42)
    sent = await bot.send_message(anna.id, "weg")
    assert await bot.delete_message(anna.id, sent.message_id) is True
    assert anna.messages[0].deleted and anna.last_message is None
    with refused(sandbox, BadRequest, "Bad Request: message to delete not found"):
        await bot.delete_message(anna.id, sent.message_id)
    with refused(sandbox, BadRequest, "Bad Request: message to edit not found"):
        await bot.edit_message_text("x", anna.id, sent.message_id)


async def test_only_the_bots_own_inline_messages_can_be_edited(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    typed = (await anna.send("hallo")).message
    assert typed is not None
    with refused(sandbox, BadRequest, "Bad Request: message can't be edited"):
        await bot.edit_message_text("x", anna.id, typed.message_id)
    with_keyboard = await bot.send_message(
        anna.id, "Nummer?", reply_markup=ReplyKeyboardMarkup([["Overslaan"]])
    )
    with refused(sandbox, BadRequest, "Bad Request: message can't be edited"):
        await bot.edit_message_text("x", anna.id, with_keyboard.message_id)


async def test_messages_older_than_48_hours_cannot_be_deleted() -> None:
    clock = ManualClock()
    async with TelegramSandbox(clock=clock, limits=TelegramLimits.unlimited()) as sandbox:
        anna = sandbox.user()
        async with make_bot(sandbox) as bot:
            old = await bot.send_message(anna.id, "oud")
            recent = await bot.send_message(anna.id, "recent")
            clock.advance(timedelta(hours=47, minutes=59))
            assert await bot.delete_message(anna.id, recent.message_id)
            clock.advance(timedelta(minutes=1))
            with refused(sandbox, BadRequest, "Bad Request: message can't be deleted"):
                await bot.delete_message(anna.id, old.message_id)
    assert not anna.messages[0].deleted


# -- Chats and people -------------------------------------------------------------------------


async def test_an_unknown_chat_is_not_found(sandbox: TelegramSandbox, bot: telegram.Bot) -> None:
    for chat_id in (123, -1, "@nobody"):
        with refused(sandbox, BadRequest, "Bad Request: chat not found"):
            await bot.send_message(chat_id, "hallo")
    with refused(sandbox, BadRequest, "Bad Request: chat not found"):
        await bot.get_chat(123)


async def test_a_user_who_blocked_the_bot_is_forbidden(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    anna = sandbox.user()
    sent = await bot.send_message(anna.id, "hoi")
    anna.block()
    assert anna.blocked
    blocked = "Forbidden: bot was blocked by the user"
    with refused(sandbox, Forbidden, blocked):
        await bot.send_message(anna.id, "hallo?")
    with refused(sandbox, Forbidden, blocked):
        await bot.edit_message_text("hallo?", anna.id, sent.message_id)
    with refused(sandbox, Forbidden, blocked):
        await bot.send_chat_action(anna.id, "typing")
    anna.unblock()
    await bot.send_message(anna.id, "fijn dat je er weer bent")
    updates = await bot.get_updates()
    changes = [u.my_chat_member for u in updates if u.my_chat_member is not None]
    assert [c.new_chat_member.status for c in changes] == ["kicked", "member"]
    assert changes[0].from_user.id == anna.id


async def test_the_bot_cannot_write_first_to_someone_who_never_started_it(
    sandbox: TelegramSandbox, bot: telegram.Bot
) -> None:
    stranger = sandbox.user("Bram", started=False)
    with refused(sandbox, Forbidden, "Forbidden: bot can't initiate conversation with a user"):
        await bot.send_message(stranger.id, "hallo")
    await stranger.send("/start")
    assert (await bot.send_message(stranger.id, "welkom")).text == "welkom"


async def test_get_chat_and_chat_actions(sandbox: TelegramSandbox, bot: telegram.Bot) -> None:
    anna = sandbox.user("Anna", last_name="de Vries", username="annadv")
    staff = sandbox.group("Staff", [anna])
    info = await bot.get_chat(anna.id)
    assert (info.type, info.first_name, info.last_name, info.username) == (
        "private",
        "Anna",
        "de Vries",
        "annadv",
    )
    group = await bot.get_chat(staff.id)
    assert (group.type, group.title) == ("group", "Staff")
    assert await bot.send_chat_action(anna.id, "typing") is True
    assert anna.chat_actions == ["typing"]
    with refused(sandbox, BadRequest, "Bad Request: wrong parameter action in request"):
        await bot.send_chat_action(anna.id, "dancing")


# -- Callback answers -------------------------------------------------------------------------


async def test_a_callback_query_can_be_answered_once_and_not_too_late() -> None:
    clock = ManualClock()
    async with TelegramSandbox(clock=clock, limits=TelegramLimits.unlimited()) as sandbox:
        anna = sandbox.user()
        async with make_bot(sandbox) as bot:
            await bot.send_message(anna.id, "Kies", reply_markup=keyboard([("Ja", "yes")]))
            pressing = asyncio.create_task(anna.press("Ja"))
            (update,) = await bot.get_updates(timeout=5)
            assert update.callback_query is not None
            query_id = update.callback_query.id
            with refused(sandbox, BadRequest, "Bad Request: MESSAGE_TOO_LONG"):
                await bot.answer_callback_query(query_id, text="x" * 201)
            assert await bot.answer_callback_query(query_id, text="x" * 200)
            assert (await pressing).text == "x" * 200
            with refused(sandbox, BadRequest, QUERY_TOO_OLD):
                await bot.answer_callback_query(query_id)
            with refused(sandbox, BadRequest, QUERY_TOO_OLD):
                await bot.answer_callback_query("12345")

            late = asyncio.create_task(anna.press("Ja", timeout=0.2))
            (update,) = await bot.get_updates(offset=update.update_id + 1, timeout=5)
            assert update.callback_query is not None
            clock.advance(16)
            with refused(sandbox, BadRequest, QUERY_TOO_OLD):
                await bot.answer_callback_query(update.callback_query.id)
            with pytest.raises(AssertionError, match="did not answer the press of 'Ja'"):
                await late
    assert [answer.text for answer in anna.callback_answers] == ["x" * 200]
