"""The user side: simulated people chat with a real PTB Application that polls the sandbox."""

from __future__ import annotations

import asyncio
import html

import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from sandbox.telegram import SandboxUser, TelegramSandbox
from tests.telegram_helpers import AnyApplication, build_application, polling

pytest_plugins = ("tests.telegram_fixtures",)

Context = ContextTypes.DEFAULT_TYPE


async def start(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    name = update.effective_user.first_name if update.effective_user else "?"
    await update.effective_message.reply_text(
        f"Hallo <b>{html.escape(name)}</b>, args={context.args}",
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("Ja", callback_data="yes")],
                [InlineKeyboardButton("Nee", callback_data="no")],
            ]
        ),
    )


async def chosen(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer(f"Gekozen: {query.data}")
    await query.edit_message_text(f"Je koos {query.data} op bericht {query.message.message_id}")


async def describe(update: Update, context: Context) -> None:
    message = update.effective_message
    assert message is not None
    if message.sticker:
        seen = f"sticker {message.sticker.emoji}"
    elif message.photo:
        seen = f"photo {message.photo[-1].width}x{message.photo[-1].height} {message.caption}"
    elif message.voice:
        duration = message.voice.duration
        seconds = duration.total_seconds() if not isinstance(duration, int) else duration
        seen = f"voice {seconds:g}s {message.voice.mime_type}"
    elif message.location:
        seen = f"location {message.location.latitude},{message.location.longitude}"
    elif message.contact:
        own = message.contact.user_id == (message.from_user.id if message.from_user else None)
        seen = f"contact {message.contact.phone_number} own={own}"
    else:
        seen = f"text {message.text}"
    await message.reply_text(seen, reply_markup=ReplyKeyboardRemove())


async def ask_phone(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Je nummer?",
        reply_markup=ReplyKeyboardMarkup(
            [[KeyboardButton("Deel mijn nummer", request_contact=True)]], one_time_keyboard=True
        ),
    )


def application(sandbox: TelegramSandbox) -> AnyApplication:
    app = build_application(sandbox)
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("nummer", ask_phone))
    app.add_handler(CallbackQueryHandler(chosen))
    app.add_handler(MessageHandler(~filters.COMMAND, describe))
    return app


async def test_a_conversation_with_a_command_and_a_button(sandbox: TelegramSandbox) -> None:
    anna = sandbox.user("Anna", language_code="nl")
    async with polling(application(sandbox), sandbox):
        update = await anna.send("/start abc-123")
        assert update.message is not None and update.message.text == "/start abc-123"
        greeting = await anna.next_message()
        assert greeting.text == "Hallo Anna, args=['abc-123']"
        assert greeting.entity_texts("bold") == ["Anna"]
        assert greeting.button_texts == ["Ja", "Nee"]

        answer = await anna.press("Nee")
        assert answer.text == "Gekozen: no" and answer.message_id == greeting.message_id
        edited = await anna.next_edit()
        assert edited.text == f"Je koos no op bericht {greeting.message_id}"
        assert edited.buttons == [] and anna.last_message == edited
    assert [a.data for a in anna.callback_answers] == ["no"]


async def test_the_updates_carry_realistic_fields(sandbox: TelegramSandbox) -> None:
    anna = sandbox.user("Anna", last_name="Jansen", username="anna_j", language_code="nl")
    first = await anna.send("/start@enrollbot_sandbox_bot extra")
    second = await anna.send("Ik typ /help halverwege")
    assert first.update_id < second.update_id
    message = first.message
    assert message is not None and message.from_user is not None
    assert (message.from_user.id, message.from_user.language_code) == (anna.id, "nl")
    assert (message.chat.id, message.chat.type, message.chat.username) == (
        anna.id,
        "private",
        "anna_j",
    )
    assert message.date.tzinfo is not None
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 28)]
    assert second.message is not None
    assert [(e.type, e.offset) for e in second.message.entities] == [("bot_command", 7)]


async def test_pressing_sends_a_callback_query_for_the_pressed_message(
    sandbox: TelegramSandbox,
) -> None:
    anna = sandbox.user()
    seen: list[tuple[int, str | None]] = []

    async def remember(update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        seen.append((query.message.message_id, query.data))
        await query.answer()

    app = build_application(sandbox)
    app.add_handler(CallbackQueryHandler(remember))
    async with polling(app, sandbox):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="ja-1")]])
        old = await app.bot.send_message(anna.id, "Eerste vraag", reply_markup=markup)
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Ja", callback_data="ja-2"),
                    InlineKeyboardButton("Nee", callback_data="nee-2"),
                ]
            ]
        )
        new = await app.bot.send_message(anna.id, "Tweede vraag", reply_markup=markup)
        await anna.press("Ja")  # the newest message that has it
        await anna.press(1)  # by index, on the newest message with buttons
        await anna.press(data="ja-1")
        await anna.press("Ja", message=anna.messages[0])
    assert seen == [
        (new.message_id, "ja-2"),
        (new.message_id, "nee-2"),
        (old.message_id, "ja-1"),
        (old.message_id, "ja-1"),
    ]
    with pytest.raises(AssertionError, match="no inline button 'Misschien'"):
        await anna.press("Misschien")


async def test_stickers_photos_voice_locations_and_contacts_arrive_as_such(
    sandbox: TelegramSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # Voice.duration as timedelta, without a warning
    anna = sandbox.user("Anna", phone_number="+31612345678")
    async with polling(application(sandbox), sandbox):
        await anna.send_sticker("🎉")
        assert (await anna.next_message()).text == "sticker 🎉"
        await anna.send_photo(caption="mijn diploma")
        assert (await anna.next_message()).text == "photo 800x600 mijn diploma"
        await anna.send_voice(duration=4)
        assert (await anna.next_message()).text == "voice 4s audio/ogg"
        await anna.send_location(52.37, 4.9)
        assert (await anna.next_message()).text == "location 52.37,4.9"
        await anna.send_contact("+31687654321", own=False, first_name="Piet")
        assert (await anna.next_message()).text == "contact +31687654321 own=False"

        await anna.send("/nummer")
        question = await anna.next_message()
        assert anna.reply_keyboard is not None and question.reply_keyboard is not None
        await anna.tap("Deel mijn nummer")
        assert (await anna.next_message()).text == "contact +31612345678 own=True"
        assert anna.reply_keyboard is None
    sent_by_anna = [message.kind for message in anna.history if not message.from_bot]
    assert sent_by_anna == [
        "sticker",
        "photo",
        "voice",
        "location",
        "contact",
        "text",
        "contact",
    ]


async def test_a_group_delivers_commands_and_replies_only(sandbox: TelegramSandbox) -> None:
    piet, anna = sandbox.user("Piet"), sandbox.user("Anna")
    staff = sandbox.group("Staff", [piet, anna])
    received: list[str | None] = []

    async def status(update: Update, context: Context) -> None:
        assert update.effective_message is not None
        received.append(update.effective_message.text)
        await update.effective_message.reply_text("Alles draait")

    async def anything(update: Update, context: Context) -> None:
        assert update.effective_message is not None
        received.append(update.effective_message.text)

    app = build_application(sandbox)
    app.add_handler(CommandHandler("status", status))
    app.add_handler(MessageHandler(filters.ALL, anything))
    async with polling(app, sandbox):
        assert await staff.send("goedemorgen allemaal", by=anna) is None
        assert await staff.send("/status@some_other_bot", by=anna) is None
        await staff.send("/status@enrollbot_sandbox_bot", by=piet)
        reply = await staff.next_message()
        assert reply.text == "Alles draait" and reply.chat_id == staff.id
        await staff.send("dank je", by=anna, reply_to=reply)
        await sandbox.wait_idle()
    assert received[0] == "/status@enrollbot_sandbox_bot"
    with pytest.raises(AssertionError, match="is not a member"):
        await staff.send("/status", by=sandbox.user("Buitenstaander"))


async def test_next_message_times_out_with_the_chat_in_the_message(
    sandbox: TelegramSandbox,
) -> None:
    anna = sandbox.user("Anna")
    await anna.send("Is daar iemand?")
    with pytest.raises(AssertionError) as raised:
        await anna.next_message(timeout=0.05)
    assert "Anna" in str(raised.value)
    assert "#1 user: 'Is daar iemand?'" in str(raised.value)


async def test_many_people_at_once_each_get_their_own_answer(sandbox: TelegramSandbox) -> None:
    people = [sandbox.user(f"Persoon{n}") for n in range(200)]

    async def echo(update: Update, context: Context) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo {update.effective_message.text}")

    app = build_application(sandbox)
    app.add_handler(MessageHandler(filters.TEXT, echo))

    async def chat(person: SandboxUser) -> str | None:
        await person.send(f"van {person.first_name}")
        return (await person.next_message(timeout=30)).text

    async with polling(app, sandbox):
        answers = await asyncio.gather(*(chat(person) for person in people))
    assert answers == [f"echo van {person.first_name}" for person in people]
