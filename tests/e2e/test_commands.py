"""Command menus in both languages, and enrolling from a group."""

from __future__ import annotations

from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import TelegramSandbox
from tests.harness import RunningBot, running_bot


async def test_the_command_menu_is_localized(enrollbot: RunningBot) -> None:
    dutch = enrollbot.telegram.user("Daan", language_code="nl")
    english = enrollbot.telegram.user("Emma", language_code="en")
    assert [(c.command, c.description) for c in dutch.visible_commands()] == [
        ("start", "Opleiding kiezen en inschrijven"),
        ("cancel", "Inschrijving annuleren"),
        ("language", "Nederlands / English"),
        ("help", "Wat ik kan"),
        ("privacy", "Je gegevens: wat ik bewaar, inzien en wissen"),
    ]
    assert [(c.command, c.description) for c in english.visible_commands()] == [
        ("start", "Enroll in a course"),
        ("cancel", "Cancel your enrollment"),
        ("language", "Nederlands / English"),
        ("help", "What I can do"),
        ("privacy", "Your data: what I keep, see it, erase it"),
    ]


async def test_with_english_as_the_default_the_menu_of_other_languages_is_english(
    telegram: TelegramSandbox, coachview: CoachviewSandbox, database_url: str
) -> None:
    async with running_bot(telegram, coachview, database_url, default_language="en"):
        german = telegram.user("Greta", language_code="de")
        dutch = telegram.user("Daan", language_code="nl")
        assert german.visible_commands()[0].description == "Enroll in a course"
        assert dutch.visible_commands()[0].description == "Opleiding kiezen en inschrijven"


async def test_in_a_group_the_bot_answers_with_a_link_to_a_private_chat(
    enrollbot: RunningBot, telegram: TelegramSandbox
) -> None:
    anna = telegram.user("Anna", language_code="en")
    group = telegram.group("Colleagues", members=[anna])
    await group.send("/start@enrollbot_sandbox_bot VCA-B", by=anna)
    await enrollbot.settle()
    reply = group.last_message
    assert reply is not None
    assert reply.text == "Enrolling works in a private chat with me, so your details stay private."
    button = reply.buttons[0]
    assert button.text == "Enroll in a private chat"
    assert button.url == f"https://t.me/{telegram.bot_username}?start=VCA-B"
    assert enrollbot.drafts() == []  # nothing of the enrollment happens in the group


async def test_in_a_group_a_payload_telegram_cannot_carry_links_to_the_chat_alone(
    enrollbot: RunningBot, telegram: TelegramSandbox
) -> None:
    anna = telegram.user("Anna", language_code="en")
    group = telegram.group("Colleagues", members=[anna])
    await group.send("/start@enrollbot_sandbox_bot ../x?y=1&z", by=anna)
    await enrollbot.settle()
    reply = group.last_message
    assert reply is not None
    assert reply.buttons[0].url == f"https://t.me/{telegram.bot_username}"


async def test_the_help_lists_the_commands(enrollbot: RunningBot) -> None:
    anna = enrollbot.person("Anna", language_code="en")
    await anna.say("/help")
    for command in ("/start", "/cancel", "/language", "/privacy", "/mydata", "/forget", "/help"):
        assert command in anna.text
