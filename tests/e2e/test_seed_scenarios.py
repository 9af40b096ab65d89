"""The seed document's three scenarios, enrolled through the chat: Coachview gets exactly the
seed's ``contactpersoon``/``deelnemers`` structure and reports the seed's numbers.

The seed names its participants "Deel Nemer 1" and "Deel Nemer 2"; a digit is not accepted in a
name in the chat, so here they are "Nemer Een" and "Nemer Twee" (the seed's bodies themselves
are posted verbatim in tests/test_coachview_sandbox.py and mapped in tests/unit).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.harness import Person, RunningBot


async def enroll(
    person: Person, *, attending: bool, others: list[tuple[str, str]], remark: str
) -> None:
    """A whole enrollment for the run the deep link names, names only where possible."""
    run = person.bot.coachview.catalogue.seed.open_run
    await person.say(f"/start {run}")
    await person.answers("Contact", None, "Persoon", "contact@example.nl", None, None)
    await person.answer("Yes, I will attend" if attending else "No, I enroll others")
    if attending:
        await person.answer("Yes" if others else "No")
    for index, (first, last) in enumerate(others):
        await person.answers(first, None, last, None)
        await person.answer("Yes" if index < len(others) - 1 else "No")
    await person.answer(remark)
    await person.tap("✅ Send enrollment")
    await person.bot.wait_for(lambda: "received" in person.text, what="the confirmation")


def names(body: dict[str, Any], key: str) -> Any:
    """The seed's bodies carry names only: the structure without our extra e-mail field."""
    value = body.get(key)
    strip = lambda person: {k: v for k, v in person.items() if k != "emailadres"}  # noqa: E731
    if isinstance(value, list):
        return [strip(person) for person in value]
    return strip(value) if isinstance(value, dict) else value


@pytest.mark.parametrize(
    ("attending", "others", "remark", "count", "contact_attends", "rows"),
    [
        (True, [], "Een persoon schrijft alleen zichzelf in", 1, True, 0),
        (
            False,
            [("Deel", "Nemer Een"), ("Deel", "Nemer Twee")],
            "Een persoon schrijft alleen anderen in",
            2,
            False,
            2,
        ),
        (
            True,
            [("Deel", "Nemer Een"), ("Deel", "Nemer Twee")],
            "Een persoon schrijft zichzelf en anderen in",
            3,
            True,
            2,
        ),
    ],
    ids=["only-themself", "only-others", "themself-and-others"],
)
async def test_each_seed_scenario_reaches_coachview_as_the_seed_says(
    enrollbot: RunningBot, attending, others, remark, count, contact_attends, rows
) -> None:
    person = enrollbot.person("Contact")
    await enroll(person, attending=attending, others=others, remark=remark)

    stored = enrollbot.coachview.webaanvragen[-1]
    body = json.loads(stored.raw)
    contact = {"voornaam": "Contact", "achternaam": "Persoon"}
    assert names(body, "contactpersoon") == contact
    # The remark as typed, and the bot's reference on a line of its own under it (where
    # COACHVIEW_REFERENCE_FIELD's default puts it); nothing in referentieNrKlant.
    (entry,) = person.bot.outbox()
    assert body["opmerking"] == f"{remark}\n{entry.reference}"
    assert "referentieNrKlant" not in body
    expected = [{"voornaam": first, "achternaam": last} for first, last in others]
    if not others:
        assert "deelnemers" not in body
    elif attending:
        assert names(body, "deelnemers") == [contact, *expected]
    else:
        assert names(body, "deelnemers") == expected
    # What Coachview then reports (the seed's three bullet lists).
    assert stored.record["aantalDeelnemers"] == count
    assert stored.record["contactpersoonIsDeelnemer"] is contact_attends
    assert len(stored.deelnemers) == rows
    assert [(d["voornaam"], d["achternaam"]) for d in stored.deelnemers] == others
