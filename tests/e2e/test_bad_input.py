"""Bad input, a table of it: each gets a clear re-ask in the person's language, and nothing
entered before is lost (the draft is exactly as it was, at the same question)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.harness import Person, RunningBot

# How to reach each question, from /start with a deep link to a run.
PATHS: dict[str, list[str | None]] = {
    "first name": [],
    "prefix": ["Anna"],
    "last name": ["Anna", None],
    "e-mail": ["Anna", None, "de Vries"],
    "phone": ["Anna", None, "de Vries", "anna@example.nl"],
    "company": ["Anna", None, "de Vries", "anna@example.nl", "0612345678"],
    "attending": ["Anna", None, "de Vries", "anna@example.nl", "0612345678", None],
    "another": ["Anna", None, "de Vries", "anna@example.nl", None, None, "Yes, I will attend"],
    "participant first name": [
        "Anna",
        None,
        "de Vries",
        "anna@example.nl",
        None,
        None,
        "Yes, I will attend",
        "Yes",
    ],
    "participant e-mail": [
        "Anna",
        None,
        "de Vries",
        "anna@example.nl",
        None,
        None,
        "Yes, I will attend",
        "Yes",
        "Piet",
        None,
        "Jansen",
    ],
    "remark": [
        "Anna",
        None,
        "de Vries",
        "anna@example.nl",
        None,
        None,
        "Yes, I will attend",
        "No",
    ],
    "review": [
        "Anna",
        None,
        "de Vries",
        "anna@example.nl",
        None,
        None,
        "Yes, I will attend",
        "No",
        None,
    ],
}

NAME = "A name can only contain letters, spaces, hyphens, apostrophes and dots."
TEXT_ONLY = "I can only read text here. Please type your answer."
BUTTONS = "Please choose one of the buttons."
EMAIL = "is not an e-mail address. Please type it like name@example.nl."
PHONE = "is not a phone number. Please type it like 06 12345678."
UNKNOWN = "I do not know that command. /help lists what I can do."


@dataclass(frozen=True)
class Bad:
    """One bad input at one question, and what the bot must say."""

    question: str
    kind: str  # text, sticker, photo, voice, location, contact, other-contact
    value: str
    says: str
    language: str = "en"

    def __str__(self) -> str:
        shown = self.value if len(self.value) < 20 else f"{self.value[:8]}...({len(self.value)})"
        return f"{self.question}: {self.kind} {shown!r}"


TABLE = [
    Bad("first name", "text", "\u200b", "That was empty. Please type an answer."),
    Bad("first name", "text", "Jan2", NAME),
    Bad("first name", "text", "R2-D2", NAME),
    Bad("first name", "text", "<b>Jan</b>", NAME),
    Bad("first name", "text", "Jan & Piet", NAME),
    Bad("first name", "text", "Jan*", NAME),
    Bad("first name", "text", "@jan", NAME),
    Bad("first name", "text", "'-.", "A name needs at least one letter."),
    Bad("first name", "text", "x" * 101, "at most 100 characters, you typed 101"),
    Bad("first name", "sticker", "", TEXT_ONLY),
    Bad("first name", "photo", "", TEXT_ONLY),
    Bad("first name", "voice", "", TEXT_ONLY),
    Bad("first name", "location", "", TEXT_ONLY),
    Bad("first name", "contact", "+31612345678", TEXT_ONLY),
    Bad("first name", "text", "/foo", UNKNOWN),
    Bad("first name", "text", "/lookup 1001", UNKNOWN),
    Bad("first name", "text", "Jan2", "Een naam mag alleen letters", language="nl"),
    Bad("prefix", "text", "van 2", "A name prefix is something like"),
    Bad("prefix", "text", "v" * 21, "at most 20 characters"),
    Bad("last name", "text", "Vries!", NAME),
    Bad("last name", "text", "123", NAME),
    Bad("e-mail", "text", "anna", EMAIL),
    Bad("e-mail", "text", "anna@", EMAIL),
    Bad("e-mail", "text", "anna@@example.nl", EMAIL),
    Bad("e-mail", "text", "anna@localhost", EMAIL),
    Bad("e-mail", "text", "anna @example.nl", EMAIL),
    Bad("e-mail", "text", "a" * 250 + "@example.nl", "at most 254 characters"),
    Bad("e-mail", "sticker", "", TEXT_ONLY),
    Bad("e-mail", "text", "anna", "is geen e-mailadres", language="nl"),
    Bad("phone", "text", "12345", PHONE),
    Bad("phone", "text", "my phone", PHONE),
    Bad("phone", "text", "06-1234", PHONE),
    Bad("phone", "text", "+99 123", PHONE),
    Bad("phone", "other-contact", "+31687654321", "Please share your own number"),
    Bad("phone", "photo", "", TEXT_ONLY),
    Bad("company", "text", "c" * 101, "at most 100 characters, you typed 101"),
    Bad("company", "voice", "", TEXT_ONLY),
    Bad("attending", "text", "maybe", BUTTONS),
    Bad("attending", "text", "1", BUTTONS),
    Bad("attending", "sticker", "", BUTTONS),
    Bad("attending", "text", "misschien", "Kies een van de knoppen.", language="nl"),
    Bad("another", "text", "perhaps", BUTTONS),
    Bad("participant first name", "text", "R2D2", NAME),
    Bad("participant first name", "location", "", TEXT_ONLY),
    Bad("participant e-mail", "text", "piet@", EMAIL),
    Bad("remark", "text", "r" * 1001, "at most 1000 characters, you typed 1001"),
    Bad("remark", "voice", "", TEXT_ONLY),
    Bad("review", "text", "send it", BUTTONS),
    Bad("review", "photo", "", BUTTONS),
    Bad("review", "text", "/foo", UNKNOWN),
]


async def reach(bot: RunningBot, question: str, language: str) -> Person:
    person = bot.person("Anna", language_code=language)
    await person.say(f"/start {bot.coachview.catalogue.seed.open_run}")
    dutch = {"Yes, I will attend": "Ja, ik doe mee"} if language == "nl" else {}
    for answer in PATHS[question]:
        await person.answer(dutch.get(answer or "", answer))
    return person


def snapshot(bot: RunningBot, person: Person) -> tuple[str, dict[str, Any]]:
    draft = bot.open_draft(person.user)
    assert draft is not None
    return draft.step, draft.data


async def act(person: Person, bad: Bad) -> None:
    if bad.kind == "text":
        await person.say(bad.value)
    elif bad.kind == "contact":
        await person.share_contact(bad.value)
    elif bad.kind == "other-contact":
        await person.share_contact(bad.value, own=False)
    else:
        await person.send_other(bad.kind)


@pytest.mark.parametrize("bad", TABLE, ids=str)
async def test_bad_input_is_refused_with_a_reason_and_nothing_is_lost(
    enrollbot: RunningBot, bad: Bad
) -> None:
    person = await reach(enrollbot, bad.question, bad.language)
    question = person.text.splitlines()[-1]
    before = snapshot(enrollbot, person)
    asked = len(person.user.messages)

    await act(person, bad)

    assert bad.says in person.text
    assert len(person.user.messages) == asked + 1  # one new message: the reason...
    assert question in person.text  # ...and the same question again
    assert snapshot(enrollbot, person) == before


def test_the_table_is_at_least_forty_inputs_long() -> None:
    assert len(TABLE) >= 40
    assert {bad.question for bad in TABLE} == set(PATHS)


async def test_an_old_button_changes_nothing(enrollbot: RunningBot) -> None:
    person = await reach(enrollbot, "last name", "en")
    old_question = person.user.messages[-1]  # the prefix question, edited by its Skip press
    await person.answer("de Vries")
    before = snapshot(enrollbot, person)
    answer = await person.tap("⬅️ Back", message=old_question)
    assert answer.text == "This button is no longer active. Please use the latest message."
    assert snapshot(enrollbot, person) == before


@pytest.mark.parametrize(
    "data",
    ["garbage", "e", "e1", "eZZ.1.submit", "e1.1.submit", "lang:de", "s:o:whatever", "x" * 64],
)
async def test_forged_button_data_changes_nothing(enrollbot: RunningBot, data: str) -> None:
    person = await reach(enrollbot, "review", "en")
    before = snapshot(enrollbot, person)
    answer = await person.user.press_forged(data, message=person.screen)
    await enrollbot.settle()
    assert answer.text == "This button is no longer active. Please use the latest message."
    assert snapshot(enrollbot, person) == before
    assert enrollbot.outbox() == []


async def test_a_forged_action_on_the_current_question_is_refused(enrollbot: RunningBot) -> None:
    person = await reach(enrollbot, "review", "en")
    draft = enrollbot.open_draft(person.user)
    assert draft is not None
    before = snapshot(enrollbot, person)
    data = f"e{draft.id:x}.{draft.version:x}.explode"
    answer = await person.user.press_forged(data, message=person.screen)
    await enrollbot.settle()
    assert answer.show_alert
    assert answer.text == "That button does not belong to this question."
    assert snapshot(enrollbot, person) == before


@pytest.mark.parametrize(("typed", "attending"), [("ja", True), ("Nee", False), ("yes", True)])
async def test_typed_yes_or_no_is_understood_for_a_button(
    enrollbot: RunningBot, typed: str, attending: bool
) -> None:
    person = await reach(enrollbot, "attending", "en")
    await person.say(typed)
    draft = enrollbot.open_draft(person.user)
    assert draft is not None
    assert draft.data["attending"] is attending


async def test_help_in_the_middle_answers_and_asks_again(enrollbot: RunningBot) -> None:
    person = await reach(enrollbot, "e-mail", "en")
    before = snapshot(enrollbot, person)
    await person.say("/help")
    assert "/cancel" in (person.user.messages[-2].text or "")
    assert person.text.startswith("What is your e-mail address?")
    assert snapshot(enrollbot, person) == before


async def test_an_edited_answer_is_not_taken_silently(enrollbot: RunningBot) -> None:
    person = await reach(enrollbot, "prefix", "en")
    before = snapshot(enrollbot, person)
    first_answer = next(m for m in person.user.history if m.text == "Anna")
    await person.user.edit(first_answer, "Annie")
    await enrollbot.settle()
    assert "I do not pick up edited messages" in person.text
    assert snapshot(enrollbot, person) == before
