"""A prompt of the step machine (``conversations/machine.py``) as Telegram shows it: its keyboard,
its callback data bound to the draft's version, sent as a new message or edited into the one
whose button was pressed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot import floods
from bot.callbacks import CallbackData
from bot.i18n import Translator, esc
from conversations.steps import Prompt

__all__ = ["Reply", "markup", "retire_buttons", "say", "show"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """Where an answer goes: the chat, in the person's language, through the bot; ``edit`` is
    the message whose button was pressed (edited into the answer), if any."""

    bot: Bot
    chat_id: int
    t: Translator
    edit: Message | None = None


def markup(
    prompt: Prompt, *, draft_id: int, version: int
) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    """The keyboard of ``prompt``, its callback data bound to this draft's version."""
    if prompt.share_contact_label:
        rows = [[KeyboardButton(prompt.share_contact_label, request_contact=True)]]
        rows.extend([KeyboardButton(label)] for label in prompt.typed_choices)
        return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)
    rows_inline = [
        [
            InlineKeyboardButton(button.label, url=button.url)
            if button.url
            else InlineKeyboardButton(
                button.label, callback_data=CallbackData(draft_id, version, button.action).encode()
            )
            for button in row
        ]
        for row in prompt.buttons
        if row
    ]
    return InlineKeyboardMarkup(rows_inline) if rows_inline else None


async def show(
    reply: Reply,
    prompt: Prompt,
    *,
    draft_id: int,
    version: int,
    notes: Sequence[str] = (),
    remove_contact_keyboard: bool = False,
) -> None:
    """Show ``prompt`` below ``notes``: edited into ``reply.edit`` when it has inline buttons
    (or none), else as a new message. Nothing when a later update of this chat answers
    (``bot/floods.py``)."""
    if not floods.answering():
        return
    keyboard = markup(prompt, draft_id=draft_id, version=version)
    if remove_contact_keyboard:
        # Telegram takes one keyboard per message: the contact keyboard goes with the notes.
        await reply.bot.send_message(
            reply.chat_id,
            "\n".join(notes) if notes else esc(reply.t._("Thanks!")),
            parse_mode=ParseMode.HTML,
            reply_markup=ReplyKeyboardRemove(),
        )
        notes = ()
    text = "\n\n".join([*notes, prompt.text]) if notes else prompt.text
    edit = reply.edit
    if edit is not None and not isinstance(keyboard, ReplyKeyboardMarkup):
        try:
            await edit.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
        except BadRequest as err:
            if "not modified" not in str(err).lower():
                raise
        return
    if edit is not None:
        await retire_buttons(edit)
    await reply.bot.send_message(
        reply.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard
    )


async def say(reply: Reply, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    """``text`` (HTML) as the answer: edited into ``reply.edit`` in place of the question (its
    buttons go), else as a new message."""
    if reply.edit is not None:
        await reply.edit.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    else:
        await reply.bot.send_message(
            reply.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard
        )


async def retire_buttons(message: Message) -> None:
    """Take the buttons off a message that is no longer the current question."""
    if message.reply_markup is None:
        return
    try:
        await message.edit_reply_markup(reply_markup=None)
    except BadRequest as err:
        logger.debug("could not remove old buttons: %s", err)
