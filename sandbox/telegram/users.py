"""The user side of the Telegram sandbox: simulated people who chat with the bot.

A :class:`SandboxUser` is one person in a private chat with the bot; a :class:`SandboxGroup`
is a group chat whose members send and press there. Both read what the bot sent
(``messages``, ``last_message``) and wait for what it sends next (``next_message``,
``next_edit``) by waiting on the chat's signal, which the server fires on every change: no
polling loop and no sleeping, so a benchmark can drive a thousand of them at once. A timeout
only guards against a hung test; it raises an AssertionError that shows the chat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import Update

from sandbox.telegram.formatting import Entity, find_bot_commands
from sandbox.telegram.models import (
    BotCommand,
    CallbackAnswer,
    ChatMessage,
    InlineAnswer,
    InlineButton,
    ReplyKeyboard,
)
from sandbox.telegram.state import Chat, Person

if TYPE_CHECKING:
    from sandbox.telegram.server import TelegramSandbox

__all__ = ["SandboxGroup", "SandboxUser"]

DEFAULT_TIMEOUT = 10.0


def _to_update(data: dict[str, Any]) -> Update:
    return Update.de_json(data, None)


class _ChatSide:
    """What any participant sees of one chat: the bot's messages and edits, in order."""

    def __init__(self, sandbox: TelegramSandbox, chat: Chat) -> None:
        self._sandbox = sandbox
        self._chat = chat
        self._read = 0
        self._edits_read = 0
        self._replies_read = 0

    @property
    def chat_id(self) -> int:
        """The chat's id, as the bot sees it."""
        return self._chat.id

    @property
    def messages(self) -> list[ChatMessage]:
        """Everything the bot sent to this chat, oldest first, in its current state."""
        chat = self._chat
        return [chat.messages[message_id] for message_id in chat.bot_message_ids]

    @property
    def history(self) -> list[ChatMessage]:
        """Every message of the chat, from both sides, oldest first, in its current state."""
        chat = self._chat
        return [chat.messages[message_id] for message_id in chat.order]

    @property
    def last_message(self) -> ChatMessage | None:
        """The newest message of the bot that is not deleted (what the chat shows last)."""
        for message_id in reversed(self._chat.bot_message_ids):
            message = self._chat.messages[message_id]
            if not message.deleted:
                return message
        return None

    @property
    def reply_keyboard(self) -> ReplyKeyboard | None:
        """The reply keyboard the bot has put under the text field, if any."""
        return self._chat.reply_keyboard

    @property
    def chat_actions(self) -> list[str]:
        """The chat actions (``typing``...) the bot sent to this chat."""
        return list(self._chat.actions)

    def transcript(self) -> str:
        """The last messages of the chat, both sides, one a line."""
        return self._chat.transcript()

    def _who(self) -> str:
        return f"chat {self._chat.id}"

    async def next_message(self, timeout: float = DEFAULT_TIMEOUT) -> ChatMessage:  # noqa: ASYNC109
        """Wait for the next message the bot sends here (after the last one read) and return
        it in its current state."""
        chat = self._chat

        def unread() -> ChatMessage | None:
            if self._read < len(chat.bot_message_ids):
                message_id = chat.bot_message_ids[self._read]
                self._read += 1
                return chat.messages[message_id]
            return None

        message = await chat.signal.wait_for(unread, timeout)
        if message is None:
            raise AssertionError(
                f"{self._who()} got no new message from the bot within {timeout:g} s; "
                f"the chat so far:\n{chat.transcript()}"
            )
        return message

    async def next_edit(self, timeout: float = DEFAULT_TIMEOUT) -> ChatMessage:  # noqa: ASYNC109
        """Wait for the next edit the bot makes to a message here; return the message as that
        edit left it."""
        chat = self._chat

        def unread() -> ChatMessage | None:
            if self._edits_read < len(chat.edits):
                self._edits_read += 1
                return chat.edits[self._edits_read - 1]
            return None

        message = await chat.signal.wait_for(unread, timeout)
        if message is None:
            raise AssertionError(
                f"{self._who()} saw no edit by the bot within {timeout:g} s; "
                f"the chat so far:\n{chat.transcript()}"
            )
        return message

    async def next_reply(self, timeout: float | None = DEFAULT_TIMEOUT) -> ChatMessage:  # noqa: ASYNC109
        """Wait for the bot's next reaction here, a new message or an edit, whichever comes
        first (its own cursor, independent of :meth:`next_message` and :meth:`next_edit`)."""
        chat = self._chat

        def unread() -> ChatMessage | None:
            if self._replies_read < len(chat.replies):
                self._replies_read += 1
                return chat.replies[self._replies_read - 1]
            return None

        message = await chat.signal.wait_for(unread, timeout)
        if message is None:
            raise AssertionError(
                f"{self._who()} got no reply (message or edit) within {timeout} s; "
                f"the chat so far:\n{chat.transcript()}"
            )
        return message

    def skip_unread(self) -> None:
        """Mark everything received so far as read (next_message waits for a new one)."""
        self._read = len(self._chat.bot_message_ids)
        self._edits_read = len(self._chat.edits)
        self._replies_read = len(self._chat.replies)

    def _find_button(
        self, button: str | int | None, data: str | None, message: ChatMessage | None
    ) -> tuple[ChatMessage, InlineButton]:
        """The message and the callback button a press means; AssertionError if none."""

        def matches(candidate: InlineButton, position: int) -> bool:
            if candidate.callback_data is None:
                return False
            if data is not None:
                return candidate.callback_data == data
            if isinstance(button, int):
                return position == button
            return candidate.text == button

        if button is None and data is None:
            raise ValueError("press() needs a button text, an index or data=")
        if message is not None:
            candidates = [self._chat.messages[message.message_id]]
        else:
            candidates = [m for m in reversed(self.messages) if not m.deleted and m.buttons]
            if isinstance(button, int) and data is None:
                candidates = candidates[:1]
        for candidate in candidates:
            if candidate.deleted:
                break
            for position, inline in enumerate(candidate.buttons):
                if matches(inline, position):
                    return candidate, inline
        wanted = f"data={data!r}" if data is not None else repr(button)
        raise AssertionError(
            f"{self._who()}: no inline button {wanted} to press; the chat so far:\n"
            f"{self._chat.transcript()}"
        )

    async def _press(
        self,
        person: Person,
        button: str | int | None,
        data: str | None,
        message: ChatMessage | None,
        timeout: float,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        target, inline = self._find_button(button, data, message)
        assert inline.callback_data is not None
        query_id, update = self._sandbox.press_button(
            self._chat, person, target, inline.callback_data
        )
        if update is None:
            raise AssertionError(
                "the bot's allowed_updates exclude callback_query: it will not see this press"
            )
        answer = await self._chat.signal.wait_for(
            lambda: self._sandbox.callback_answer(query_id), timeout
        )
        if answer is None:
            raise AssertionError(
                f"{self._who()}: the bot did not answer the press of {inline.text!r} within "
                f"{timeout:g} s (answerCallbackQuery); the chat so far:\n"
                f"{self._chat.transcript()}"
            )
        return answer

    async def _send_text(
        self, person: Person, text: str, reply_to: ChatMessage | None, *, group: bool
    ) -> Update | None:
        if not text:
            raise ValueError("Telegram clients do not send empty messages")
        entities = tuple(find_bot_commands(text))
        deliver = not group or self._meant_for_bot(text, entities, reply_to)
        _, update = self._sandbox.add_user_message(
            self._chat,
            person,
            "text",
            {"text": text},
            text=text,
            entities=entities,
            reply_to=reply_to,
            deliver=deliver,
        )
        return None if update is None else _to_update(update)

    def _meant_for_bot(
        self, text: str, entities: tuple[Entity, ...], reply_to: ChatMessage | None
    ) -> bool:
        """Privacy mode: in groups a bot gets commands and replies to its own messages only."""
        if reply_to is not None and reply_to.from_bot:
            return True
        for entity in entities:
            if entity.offset != 0:
                continue
            command = text[: entity.length]
            _, _, target = command.partition("@")
            return not target or target.lower() == self._sandbox.bot_username.lower()
        return False


class SandboxUser(_ChatSide):
    """A simulated person in a private chat with the bot."""

    def __init__(self, sandbox: TelegramSandbox, person: Person, chat: Chat) -> None:
        super().__init__(sandbox, chat)
        self.person = person

    def __repr__(self) -> str:
        return f"<SandboxUser {self.person.id}>"

    @property
    def id(self) -> int:
        """The user id (also the id of the private chat with the bot)."""
        return self.person.id

    @property
    def first_name(self) -> str:
        return self.person.first_name

    @property
    def language_code(self) -> str | None:
        return self.person.language_code

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """What answerCallbackQuery said to this person, oldest first (all chats)."""
        return list(self.person.callback_answers)

    @property
    def blocked(self) -> bool:
        """True while this person has blocked the bot."""
        return self._chat.blocked

    def _who(self) -> str:
        return f"{self.person.first_name} (user {self.person.id})"

    def _check_can_send(self) -> None:
        if self._chat.blocked:
            raise AssertionError(f"{self._who()} has blocked the bot; unblock() first")

    async def send(self, text: str, *, reply_to: ChatMessage | None = None) -> Update:
        """Send a text message; commands get their bot_command entities as on Telegram."""
        self._check_can_send()
        update = await self._send_text(self.person, text, reply_to, group=False)
        if update is None:
            raise AssertionError("the bot's allowed_updates exclude message: it will not see this")
        return update

    async def _send_content(self, kind: str, content: dict[str, Any]) -> Update:
        self._check_can_send()
        _, update = self._sandbox.add_user_message(self._chat, self.person, kind, content)
        if update is None:
            raise AssertionError("the bot's allowed_updates exclude message: it will not see this")
        return _to_update(update)

    async def send_sticker(self, emoji: str = "👍") -> Update:
        """Send a sticker."""
        file_id, unique_id = self._sandbox.file_ids("CAACAgIAAxkBAAI")
        sticker = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": 24_000,
        }
        return await self._send_content("sticker", {"sticker": sticker})

    async def send_photo(self, caption: str | None = None) -> Update:
        """Send a photo (in the sizes Telegram generates), with an optional caption."""
        sizes = []
        for side, size in ((90, 1_500), (320, 21_000), (800, 90_000)):
            file_id, unique_id = self._sandbox.file_ids("AgACAgQAAxkBAAI")
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": unique_id,
                    "width": side,
                    "height": side * 3 // 4,
                    "file_size": size,
                }
            )
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return await self._send_content("photo", content)

    async def send_voice(self, duration: int = 3) -> Update:
        """Send a voice message of ``duration`` seconds."""
        file_id, unique_id = self._sandbox.file_ids("AwACAgQAAxkBAAI")
        voice = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": 4_000 * duration,
        }
        return await self._send_content("voice", {"voice": voice})

    async def send_location(self, latitude: float, longitude: float) -> Update:
        """Share a location."""
        location = {"latitude": latitude, "longitude": longitude}
        return await self._send_content("location", {"location": location})

    async def send_contact(
        self,
        phone_number: str | None = None,
        *,
        own: bool = True,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> Update:
        """Share a contact; ``own=True`` shares this person's own number as the
        ``request_contact`` button does (the contact then carries their ``user_id``)."""
        number = phone_number or (self.person.phone_number if own else None)
        if not number:
            raise ValueError("send_contact() needs a phone number (or the user's phone_number)")
        contact: dict[str, Any] = {
            "phone_number": number,
            "first_name": first_name or (self.person.first_name if own else "Contact"),
        }
        last = last_name if last_name is not None else (self.person.last_name if own else None)
        if last:
            contact["last_name"] = last
        if own:
            contact["user_id"] = self.person.id
        return await self._send_content("contact", {"contact": contact})

    async def tap(self, text: str) -> Update:
        """Tap a button of the reply keyboard the bot shows: it sends its text, or this
        person's own contact for a ``request_contact`` button."""
        keyboard = self._chat.reply_keyboard
        buttons = keyboard.buttons if keyboard is not None else []
        for button in buttons:
            if button.text == text:
                if button.request_contact:
                    return await self.send_contact(own=True)
                if button.request_location:
                    raise AssertionError("use send_location() for a location button")
                return await self.send(text)
        shown = [button.text for button in buttons]
        raise AssertionError(f"{self._who()}: no keyboard button {text!r}; the keyboard: {shown}")

    async def press(
        self,
        button: str | int | None = None,
        *,
        data: str | None = None,
        message: ChatMessage | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """Press an inline button by its text, its index (on the newest message with buttons)
        or its ``data``, on the newest message that has it or on ``message``; wait for the
        bot's answerCallbackQuery and return it."""
        self._check_can_send()
        return await self._press(self.person, button, data, message, timeout)

    async def edit(self, message: ChatMessage, text: str) -> Update:
        """Edit the text of a message this person sent (the bot gets ``edited_message``)."""
        self._check_can_send()
        if message.from_bot or message.sender_id != self.id:
            raise ValueError("a person can only edit their own messages")
        _, update = self._sandbox.edit_user_message(self._chat, message, text)
        if update is None:
            raise AssertionError("the bot's allowed_updates exclude edited_message")
        return _to_update(update)

    async def press_forged(
        self,
        data: str,
        *,
        message: ChatMessage,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """Press a button of ``message`` with callback data of our own making, as a modified
        client can (``data`` need not be on any button); wait for the bot's answer."""
        self._check_can_send()
        query_id, update = self._sandbox.press_button(self._chat, self.person, message, data)
        if update is None:
            raise AssertionError("the bot's allowed_updates exclude callback_query")
        answer = await self._chat.signal.wait_for(
            lambda: self._sandbox.callback_answer(query_id), timeout
        )
        if answer is None:
            raise AssertionError(f"{self._who()}: the bot did not answer the forged press")
        return answer

    def visible_commands(self) -> list[BotCommand]:
        """The command menu this person sees in the chat with the bot."""
        return self._sandbox.commands_for(self.person, self._chat)

    # -- Inline mode (sandbox/telegram/media.py) -----------------------------------------

    async def inline(
        self,
        query: str,
        *,
        chat_type: str = "sender",
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> InlineAnswer:
        """Type ``@bot query`` in any chat and wait for the results: from Telegram's cache
        while an earlier answer to the same query is fresh (the bot hears nothing), else the
        bot's ``answerInlineQuery``."""
        inline = self._sandbox.inline
        cached = inline.cached(self.person, query)
        if cached is not None:
            return cached
        query_id, update = inline.ask(self.person, query, chat_type)
        if update is None:
            raise AssertionError("the bot's allowed_updates exclude inline_query")
        answer = await inline.signal.wait_for(lambda: inline.answer_of(query_id), timeout)
        if answer is None:
            raise AssertionError(
                f"{self._who()}: the bot did not answer the inline query {query!r} within "
                f"{timeout:g} s (answerInlineQuery)"
            )
        return answer

    def choose(
        self, answer: InlineAnswer, result: int | str = 0, *, into: SandboxGroup | None = None
    ) -> ChatMessage:
        """Choose an inline result (by position or id): its message is posted in ``into``
        (a group), or else in a chat with someone outside the sandbox; the bot gets a
        ``chosen_inline_result``."""
        if isinstance(result, int):
            chosen = answer.results[result]
        else:
            chosen = next(item for item in answer.results if item.id == result)
        chat = into._chat if into is not None else None
        return self._sandbox.inline.choose(self.person, answer, chosen, chat)

    def block(self) -> None:
        """Block the bot: its messages now get 403, and it gets a my_chat_member update."""
        self._sandbox.set_blocked(self._chat, True)

    def unblock(self) -> None:
        """Unblock the bot again."""
        self._sandbox.set_blocked(self._chat, False)


class SandboxGroup(_ChatSide):
    """A group chat with the bot; its members send and press there."""

    def __repr__(self) -> str:
        return f"<SandboxGroup {self._chat.id}>"

    @property
    def id(self) -> int:
        """The chat id (negative, as for every group)."""
        return self._chat.id

    @property
    def title(self) -> str:
        return self._chat.title or ""

    def _who(self) -> str:
        return f"group {self._chat.title!r} ({self._chat.id})"

    def _member(self, user: SandboxUser) -> Person:
        if user.id not in self._chat.members:
            raise AssertionError(f"{user.first_name} is not a member of {self._who()}")
        return user.person

    async def send(
        self, text: str, *, by: SandboxUser, reply_to: ChatMessage | None = None
    ) -> Update | None:
        """``by`` sends a text here. With privacy mode the bot gets only commands and replies
        to its messages: for other texts the update is None."""
        return await self._send_text(self._member(by), text, reply_to, group=True)

    async def press(
        self,
        button: str | int | None = None,
        *,
        by: SandboxUser,
        data: str | None = None,
        message: ChatMessage | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        """``by`` presses an inline button here (see :meth:`SandboxUser.press`)."""
        return await self._press(self._member(by), button, data, message, timeout)

    def visible_commands(self, by: SandboxUser) -> list[BotCommand]:
        """The command menu ``by`` sees in this group."""
        return self._sandbox.commands_for(self._member(by), self._chat)
