"""The most people one enrollment may hold: the run's free places, else MAX_PARTICIPANTS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import TelegramSandbox
from tests.harness import Person, RunningBot, running_bot


def bhv_run(bot: RunningBot, places: int) -> str:
    """The BHV Basis run with exactly ``places`` free places (the seed has 1 to 12)."""
    runs = bot.coachview.catalogue.runs_of(bot.coachview.catalogue.seed.paged_soort)
    return str(next(run["id"] for run in runs if run["aantalPlaatsenVrij"] == places))


async def contact_details(person: Person, link: str) -> None:
    await person.say(f"/start {link}")
    if "Any date (waiting list)" in person.buttons:
        await person.tap("Any date (waiting list)")
    await person.answers("Anna", None, "Smit", "anna@example.nl", None, None)


async def test_one_free_place_and_attending_means_only_you(enrollbot: RunningBot) -> None:
    anna = enrollbot.person()
    await contact_details(anna, bhv_run(enrollbot, 1))
    await anna.tap("Yes, I will attend")
    assert "This date has 1 free place left, so this enrollment is for you." in anna.text
    assert anna.text.endswith("Type it, or skip this.")  # the remark: no "someone else?"
    await anna.answer(None)
    assert "➕ Add participant" not in anna.buttons


async def test_when_the_free_places_are_taken_the_reason_is_given(enrollbot: RunningBot) -> None:
    anna = enrollbot.person()
    await contact_details(anna, bhv_run(enrollbot, 2))
    await anna.answers("Yes, I will attend", "Yes", "Piet", None, "Jansen", None)
    assert "This date has 2 free places, and they are all taken" in anna.text
    assert anna.buttons == ["Continue", "⬅️ Back"]
    await anna.say("yes")  # typed: still no room
    assert "This date has 2 free places" in anna.text
    await anna.tap("Continue")
    assert "Anything you would like to tell us" in anna.text


async def test_attending_after_others_took_the_places_names_them_too(
    enrollbot: RunningBot,
) -> None:
    anna = enrollbot.person()
    await contact_details(anna, bhv_run(enrollbot, 2))
    await anna.answers("No, I enroll others", "Piet", None, "Jansen", None)
    for _ in range(5):  # Piet's four questions, then whether Anna attends
        await anna.tap("⬅️ Back")
    assert anna.text.endswith("Will you attend the course yourself?")
    await anna.tap("Yes, I will attend")
    assert (
        "This date has 2 free places left: they are for you and the people you already entered."
        in anna.text
    )


@pytest.fixture
async def capped(
    request: pytest.FixtureRequest,
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    database_url: str,
) -> AsyncIterator[RunningBot]:
    """A bot with MAX_PARTICIPANTS 2, or the number a test passes indirectly."""
    cap = getattr(request, "param", 2)
    async with running_bot(telegram, coachview, database_url, max_participants=cap) as bot:
        yield bot


async def test_without_known_places_the_configured_cap_applies(capped: RunningBot) -> None:
    anna = capped.person()
    await contact_details(anna, "EHBO")  # no runs: any date, places unknown
    await anna.answers("No, I enroll others", "Piet", None, "Jansen", None, "Yes")
    await anna.answers("Kees", None, "Bos", None)
    assert "You can enroll at most 2 people at once." in anna.text
    await anna.tap("Continue")
    await anna.answer(None)
    assert "2 participants" in anna.text
    assert "➕ Add participant" not in anna.buttons


@pytest.mark.parametrize("capped", [1], indirect=True)
async def test_a_cap_of_one_person_is_said_in_the_singular(capped: RunningBot) -> None:
    anna = capped.person()
    await contact_details(anna, "EHBO")  # no runs: any date, places unknown
    await anna.answers("No, I enroll others", "Piet", None, "Jansen", None)
    assert "You can enroll at most 1 person at once." in anna.text
    assert anna.buttons == ["Continue", "⬅️ Back"]
