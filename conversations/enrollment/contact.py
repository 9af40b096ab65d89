"""The contact person's phone (typed, or shared with Telegram's contact button) and company;
their names and e-mail address are ``person.py``'s fields."""

from __future__ import annotations

from bot.i18n import N_, esc
from conversations.enrollment.common import now_line, then
from conversations.enrollment.names import CONTACT_QUESTIONS, TYPING_COMPANY
from conversations.fields import (
    Invalid,
    parse_company,
    parse_phone,
    parse_shared_phone,
    readable_phone,
)
from conversations.steps import Prompt, Turn


async def ask_phone(turn: Turn) -> Prompt:
    t = turn.t
    text = t._(
        "What is your phone number? Type it, share it with the button below, or skip this."
    ) + now_line(t, turn.enrollment.contact.phone)
    return Prompt(text, share_contact_label=t._("📱 Share my number"))


def _phone_saved(turn: Turn, phone: str) -> str:
    turn.enrollment.contact.phone = phone
    turn.notes.append(turn.t._("✓ Phone: {phone}").format(phone=esc(readable_phone(phone))))
    return turn.proceed(TYPING_COMPANY)


async def phone_typed(turn: Turn, text: str) -> str:
    return _phone_saved(turn, parse_phone(text))


async def phone_shared(turn: Turn, phone: str, own: bool) -> str:
    if not own:
        raise Invalid(N_("Please share your own number (with the button), or type it."))
    return _phone_saved(turn, parse_shared_phone(phone))


async def phone_skipped(turn: Turn) -> str:
    turn.enrollment.contact.phone = None
    return turn.proceed(TYPING_COMPANY)


async def ask_company(turn: Turn) -> Prompt:
    t = turn.t
    text = t._("Which company do you work for? Skip this if you enroll privately.")
    return Prompt(text + now_line(t, turn.enrollment.contact.company))


async def company_typed(turn: Turn, text: str) -> str:
    turn.enrollment.contact.company = parse_company(text)
    return then(turn, CONTACT_QUESTIONS)


async def company_skipped(turn: Turn) -> str:
    turn.enrollment.contact.company = None
    return then(turn, CONTACT_QUESTIONS)
