"""One whole enrollment, the way a person does it: the smoke test of the running bot."""

from __future__ import annotations

import json

from tests.enrolling import remark_of
from tests.harness import RunningBot


async def test_a_person_enrolls_themself_and_a_colleague_and_gets_the_number(
    enrollbot: RunningBot,
) -> None:
    bot = enrollbot
    anna = bot.person("Anna", language_code="en")
    run = bot.coachview.catalogue.seed.open_run

    await anna.say(f"/start {run}")
    assert "VCA Basis" in anna.text
    assert anna.text.endswith("What is your first name?")
    await anna.answers("Anna", None, "de Vries", "anna@example.nl", "06 12345678", "Vries & Co")
    await anna.answers("Yes, I will attend", "Yes", "Piet", None, "Jansen", None, "No")
    await anna.answer("Vegetarian, please")
    assert anna.text.startswith("Please check your enrollment")
    assert "1. Anna de Vries (you)\n2. Piet Jansen" in anna.text

    await anna.tap("✅ Send enrollment")
    await bot.wait_for(lambda: "received" in anna.text, what="the confirmation")

    stored = bot.coachview.webaanvragen[-1]
    body = json.loads(stored.raw)
    assert body["contactpersoon"] == {
        "voornaam": "Anna",
        "achternaam": "de Vries",
        "emailadres": "anna@example.nl",
        "telefoonnummer": "+31612345678",
    }
    assert body["deelnemers"] == [
        body["contactpersoon"],
        {"voornaam": "Piet", "achternaam": "Jansen"},
    ]
    assert body["bedrijf"] == {"naam": "Vries & Co"}
    assert remark_of(body) == "Vegetarian, please"
    assert body["opleidingen"] == [
        {"opleidingssoortId": bot.coachview.catalogue.seed.open_soort, "opleidingId": run}
    ]
    assert stored.record["aantalDeelnemers"] == 2
    assert stored.record["contactpersoonIsDeelnemer"] is True
    assert f"Its number is {stored.record['nummer']}." in anna.text
    assert [entry.status for entry in bot.outbox()] == ["submitted"]
