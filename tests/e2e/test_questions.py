"""A provider's own questions (QUESTIONS_FILE), asked in the chat and sent to Coachview.

Each kind (text, date, email, phone, postcode, choice, yes/no) and each ``for`` (contact,
each-person, enrollment) once in English and once in Dutch, with the exact webaanvraag body;
bad answers re-asked, Back, editing from the review, a draft that outlives a restart and a
change of the file, the general terms, and the seed's three scenarios with every preset.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.clock import ManualClock
from sandbox.coachview import CoachviewSandbox
from sandbox.telegram import TelegramSandbox
from tests.e2e.test_seed_scenarios import enroll, names
from tests.enrolling import reference_of, remark_of
from tests.harness import Person, RunningBot, running_bot
from tests.questions_kit import QUESTIONS

ROOT = Path(__file__).resolve().parents[2]
PRESETS = sorted((ROOT / "examples" / "questions").glob("*.toml"))
PRESET_QUESTIONS = {path: tomllib.loads(path.read_text(encoding="utf-8")) for path in PRESETS}
SEND = "✅ Send enrollment"


def questions_file(tmp_path: Path, text: str = QUESTIONS) -> Path:
    path = tmp_path / "questions.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def asking(
    database_url: str, telegram: TelegramSandbox, coachview: CoachviewSandbox, tmp_path: Path
) -> AsyncIterator[RunningBot]:
    """The bot with the questions above."""
    async with running_bot(
        telegram, coachview, database_url, questions_file=str(questions_file(tmp_path))
    ) as bot:
        yield bot


def body_of(bot: RunningBot) -> dict[str, Any]:
    """The body of the webaanvraag Coachview received last."""
    body: dict[str, Any] = json.loads(bot.coachview.webaanvragen[-1].raw)
    return body


async def sent(person: Person) -> dict[str, Any]:
    await person.tap(SEND if SEND in person.buttons else "✅ Inschrijving versturen")
    await person.bot.wait_for(
        lambda: person.bot.coachview.webaanvragen, what="the webaanvraag in Coachview"
    )
    return body_of(person.bot)


async def test_every_kind_and_every_for_in_english(asking: RunningBot) -> None:
    anna = asking.person("Anna")
    await anna.say(f"/start {asking.coachview.catalogue.seed.open_run}")
    await anna.answers("Anna", None, "Jansen", "anna@example.nl", "06 12345678", "Berg BV")
    # The contact person's questions: a postcode (checked), a phone (asked with a company only).
    assert anna.text.endswith("What is your postcode?")
    await anna.say("12345")
    assert "“12345” is not a Dutch postcode. Please type it like 1234 AB." in anna.text
    assert anna.text.endswith("What is your postcode?")
    await anna.answers("1234ab", "020 123 4567")
    assert "Will you attend the course yourself?" in anna.text
    await anna.answer("Yes, I will attend")
    # Each person's questions, for her first.
    assert "About you: What is the date of birth?\nFor example 12-3-1990." in anna.text
    await anna.say("31-2-1990")
    assert "“31-2-1990” is not a date that exists. Please check it." in anna.text
    await anna.say("12 March 1990")
    assert anna.text.endswith("About you: What is the highest education?")
    assert anna.buttons[:2] == ["Vocational", "Applied university"]
    await anna.tap("Applied university")
    await anna.say("It")
    assert "That is too short: at least 3 characters, you typed 2." in anna.text
    await anna.say("Planner")
    await anna.answer("Yes")
    await anna.answers("Piet", None, "Bakker", None)
    assert anna.text.endswith("Participant 1: What is the date of birth?\nFor example 12-3-1990.")
    await anna.answers("1-1-2000", "Vocational", None)
    await anna.answer("No")
    # The enrollment's questions, before the remark.
    assert anna.text.endswith("Where should the invoice go?")
    await anna.answers("Factuur@Berg.nl", "Yes", None)
    review = anna.text
    for line in (
        "Postcode: 1234 AB",
        "Company phone: +31 20 123 4567",
        "Date of birth: March 12, 1990",
        "Education: Applied university",
        "Job title: Planner",
        "    Date of birth: January 1, 2000",
        "    Education: Vocational",
        "    Job title: –",
        "Other details",
        "Invoice e-mail: Factuur@berg.nl",
        "Newsletter: Yes",
    ):
        assert line in review, (line, review)

    body = await sent(anna)
    anna_body = {
        "voornaam": "Anna",
        "achternaam": "Jansen",
        "emailadres": "anna@example.nl",
        "telefoonnummer": "+31612345678",
        "factuurAdres": {"postcode": "1234 AB"},
        "geboorteDatum": "1990-03-12",
        "vrijeveldenPersoon": {"Vooropleiding": "HBO", "VrijveldFunctie": "Planner"},
    }
    assert body == {
        "opmerking": reference_of(body),  # no remark: the reference alone
        "bedrijf": {"naam": "Berg BV", "telefoonnummer": "+31201234567"},
        "contactpersoon": anna_body,
        "deelnemers": [
            anna_body,
            {
                "voornaam": "Piet",
                "achternaam": "Bakker",
                "geboorteDatum": "2000-01-01",
                "vrijeveldenPersoon": {"Vooropleiding": "MBO"},
            },
        ],
        "opleidingen": body["opleidingen"],
        "debiteur": {"emailadresAnders": "Factuur@berg.nl"},
        "vrijevelden": {"Nieuwsbrief": True},
    }


async def test_every_kind_and_every_for_in_dutch(asking: RunningBot) -> None:
    """Not attending, no company: the company's question is not asked; answers typed."""
    kees = asking.person("Kees", language_code="nl")
    await kees.say(f"/start {asking.coachview.catalogue.seed.open_run}")
    await kees.answers("Kees", "van", "Dam", "kees@example.nl", None, None)
    assert kees.text.endswith("Wat is je postcode?")
    await kees.say("3511 aa")
    assert "Doe je zelf mee aan de opleiding?" in kees.text
    await kees.answer("Nee, ik schrijf anderen in")
    await kees.answers("Lotte", None, "Vos", "lotte@example.nl")
    assert kees.text.endswith("Deelnemer 1: Wat is de geboortedatum?\nBijvoorbeeld 12-3-1990.")
    await kees.say("morgen")
    assert "“morgen” is geen datum. Typ bijvoorbeeld 12-3-1990 of 12 maart 1990." in kees.text
    await kees.say("12 december 2030")
    assert "Die datum ligt niet in het verleden." in kees.text
    await kees.say("5 mrt 1985")
    await kees.say("mbo")  # a choice typed instead of pressed
    await kees.say("Lasser")
    await kees.answer("Nee")
    assert kees.text.endswith("Naar welk adres mag de factuur?")
    await kees.answer(None)
    await kees.say("nee")  # the newsletter: no
    await kees.answer(None)  # no remark
    review = kees.text
    for line in ("Postcode: 3511 AA", "Geboortedatum: 5 maart 1985", "Vooropleiding: Mbo"):
        assert line in review, (line, review)
    assert "Factuur-e-mail: –" in review
    assert "Nieuwsbrief: Nee" in review
    assert "Telefoon bedrijf" not in review

    body = await sent(kees)
    assert body == {
        "opmerking": reference_of(body),  # no remark: the reference alone
        "contactpersoon": {
            "voornaam": "Kees",
            "tussenvoegsels": "van",
            "achternaam": "Dam",
            "emailadres": "kees@example.nl",
            "factuurAdres": {"postcode": "3511 AA"},
        },
        "deelnemers": [
            {
                "voornaam": "Lotte",
                "achternaam": "Vos",
                "emailadres": "lotte@example.nl",
                "geboorteDatum": "1985-03-05",
                "vrijeveldenPersoon": {"Vooropleiding": "MBO", "VrijveldFunctie": "Lasser"},
            }
        ],
        "opleidingen": body["opleidingen"],
        "vrijevelden": {"Nieuwsbrief": False},
    }


async def to_review(person: Person) -> None:
    """Anna, attending alone, every question answered, up to the review."""
    await person.say(f"/start {person.bot.coachview.catalogue.seed.open_run}")
    await person.answers("Anna", None, "Jansen", "anna@example.nl", None, None)
    await person.answers("1234 AB", "Yes, I will attend", "12-3-1990", "Vocational", "Planner")
    await person.answers("No", "anna@example.nl", "No", None)
    assert "Please check your enrollment" in person.text, person.text


async def test_back_and_changes_from_the_review(asking: RunningBot) -> None:
    anna = asking.person("Anna")
    await anna.say(f"/start {asking.coachview.catalogue.seed.open_run}")
    await anna.answers("Anna", None, "Jansen", "anna@example.nl", None, None, "1234 AB")
    await anna.answers("Yes, I will attend", "12-3-1990")
    await anna.tap("⬅️ Back")
    assert "About you: What is the date of birth?" in anna.text
    assert "(now: March 12, 1990)" in anna.text
    await anna.answers("13-3-1990", "Vocational", "Planner", "Yes", "Piet", None, "Bakker", None)
    await anna.answers("1-1-2000", "Vocational", "Lasser", "No", None, "No", None)
    assert "Date of birth: March 13, 1990" in anna.text

    # Her own answers are among the details; the participant's on the participant.
    await anna.tap("✏️ Change details")
    assert {"Postcode", "Date of birth", "Education", "Job title", "Newsletter"} <= set(
        anna.buttons
    )
    await anna.tap("Education")
    await anna.tap("Applied university")
    assert "Education: Applied university" in anna.text
    await anna.tap("👥 Change participants")
    await anna.tap("Piet Bakker")
    await anna.tap("Date of birth")
    assert anna.text.endswith(
        "Participant 1: What is the date of birth?\nFor example 12-3-1990.\n(now: January 1, 2000)"
    )
    await anna.say("2-1-2000")
    assert "    Date of birth: January 2, 2000" in anna.text
    # A participant added from the review answers the questions about them too.
    await anna.tap("➕ Add participant")
    await anna.answers("Joke", None, "Smit", None, "3-3-1993", "Vocational", None)
    assert "Please check your enrollment" in anna.text
    assert "    Date of birth: March 3, 1993" in anna.text

    body = await sent(anna)
    assert body["contactpersoon"]["geboorteDatum"] == "1990-03-13"
    assert body["contactpersoon"]["vrijeveldenPersoon"]["Vooropleiding"] == "HBO"
    assert [d.get("geboorteDatum") for d in body["deelnemers"]] == [
        "1990-03-13",
        "2000-01-02",
        "1993-03-03",
    ]


async def test_a_draft_outlives_a_restart_and_a_new_file(
    database_url: str, telegram: TelegramSandbox, coachview: CoachviewSandbox, tmp_path: Path
) -> None:
    """Begun without questions, continued after a restart with the file: the new questions
    are asked from the review, and only then can it be sent."""
    database = database_url
    async with running_bot(telegram, coachview, database) as bot:
        anna = bot.person("Anna")
        await anna.say(f"/start {coachview.catalogue.seed.open_run}")
        await anna.answers("Anna", None, "Jansen", "anna@example.nl", None, None)
        await anna.answers("Yes, I will attend", "No", None)
        assert SEND in anna.buttons
    path = questions_file(tmp_path)
    async with running_bot(telegram, coachview, database, questions_file=str(path)) as bot:
        anna = Person(bot, anna.user)
        await anna.say("hello")
        assert "6 questions are not answered yet." in anna.text
        assert SEND not in anna.buttons
        await anna.tap("✏️ Answer the open questions")
        assert anna.text.endswith("What is your postcode?")
        await anna.answers("1234 AB", "1-2-1980")
        await anna.tap("⬅️ Back")  # Back as anywhere: the previous question, then the review
        assert anna.text.endswith("(now: February 1, 1980)")
        await anna.tap("⬅️ Back")
        await anna.tap("⬅️ Back")
        assert "4 questions are not answered yet." in anna.text
        await anna.tap("✏️ Answer the open questions")
        assert "About you: What is the highest education?" in anna.text
        await anna.answers("Vocational", None, None, "Yes")
        assert "Please check your enrollment" in anna.text
        assert "not answered yet" not in anna.text
        body = await sent(anna)
    assert body["contactpersoon"]["geboorteDatum"] == "1980-02-01"
    assert body["vrijevelden"] == {"Nieuwsbrief": True}


async def test_a_question_taken_out_of_the_file_leaves_the_draft_at_the_review(
    database_url: str, telegram: TelegramSandbox, coachview: CoachviewSandbox, tmp_path: Path
) -> None:
    database = database_url
    async with running_bot(
        telegram, coachview, database, questions_file=str(questions_file(tmp_path))
    ) as bot:
        anna = bot.person("Anna")
        await anna.say(f"/start {coachview.catalogue.seed.open_run}")
        await anna.answers("Anna", None, "Jansen", "anna@example.nl", None, None)
        assert anna.text.endswith("What is your postcode?")
    async with running_bot(telegram, coachview, database) as bot:
        anna = Person(bot, anna.user)
        await anna.say("1234 AB")
        assert "Please check your enrollment" in anna.text
        await anna.tap("✏️ Change details")
        await anna.tap("Attending yourself")
        await anna.tap("Yes, I will attend")
        body = await sent(anna)
    assert "factuurAdres" not in body["contactpersoon"]


async def test_the_general_terms_are_accepted_before_sending(
    database_url: str, telegram: TelegramSandbox, coachview: CoachviewSandbox, tmp_path: Path
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    async with running_bot(
        telegram,
        coachview,
        database_url,
        clock=ManualClock(now),
        terms_url="https://opleider.example.nl/voorwaarden",
        terms_coachview="vrijevelden.AlgemeneVoorwaarden",
    ) as bot:
        anna = bot.person("Anna")
        await anna.say(f"/start {coachview.catalogue.seed.open_run}")
        await anna.answers("Anna", None, "Jansen", "anna@example.nl", None, None)
        await anna.answers("Yes, I will attend", "No", None)
        assert "Before sending, please read and accept our general terms." in anna.text
        assert SEND not in anna.buttons
        link = anna.screen.inline_keyboard[0][0]
        assert link.text == "📄 Read the general terms"
        assert link.url == "https://opleider.example.nl/voorwaarden"
        await anna.tap("✏️ Change details")
        await anna.tap("Remark")
        await anna.say("Tot dan!")  # the review, as it was: still waiting for acceptance
        assert SEND not in anna.buttons
        await anna.tap("☑️ I accept the general terms")
        assert "✓ General terms accepted on" in anna.text
        body = await sent(anna)
        # Kept with the enrollment whether or not it is sent to Coachview.
        assert [row.summary["terms_accepted_at"] for row in bot.outbox()] == [now.isoformat()]
    assert body["vrijevelden"] == {"AlgemeneVoorwaarden": now.isoformat()}


class PresetPerson(Person):
    """A person who answers the preset's questions whenever the bot asks one (in English)."""

    def __init__(self, person: Person, preset: dict[str, Any]) -> None:
        super().__init__(person.bot, person.user)
        self.questions = preset.get("question", [])

    async def answer(self, value: str | None) -> Any:
        sample = {
            "date": "12-3-1990",
            "email": "x@example.nl",
            "phone": "06 12345678",
            "postcode": "1234 AB",
            "text": "Monteur",
            "yesno": "Yes",
        }
        while asked := next((q for q in self.questions if q["ask"]["en"] in self.text), None):
            kind = asked["kind"]
            await super().answer(asked["choices"][0]["en"] if kind == "choice" else sample[kind])
        return await super().answer(value)


@pytest.mark.parametrize("preset", PRESETS, ids=[p.stem for p in PRESETS])
@pytest.mark.parametrize(
    ("attending", "others"),
    [(True, []), (False, [("Deel", "Nemer Een")]), (True, [("Deel", "Nemer Een")])],
    ids=["only-themself", "only-others", "themself-and-others"],
)
async def test_the_seed_scenarios_with_each_preset(
    database_url: str,
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    tmp_path: Path,
    preset: Path,
    attending: bool,
    others: list[tuple[str, str]],
) -> None:
    questions = PRESET_QUESTIONS[preset]
    async with running_bot(telegram, coachview, database_url, questions_file=str(preset)) as bot:
        person = PresetPerson(bot.person("Contact"), questions)
        await enroll(person, attending=attending, others=others, remark="Seed")
        stored = coachview.webaanvragen[-1]
    body = json.loads(stored.raw)
    own = {q["coachview"].split(".")[0] for q in questions.get("question", [])}
    strip = lambda people: [{k: v for k, v in p.items() if k not in own} for p in people]  # noqa: E731
    contact = {"voornaam": "Contact", "achternaam": "Persoon"}
    expected = [{"voornaam": first, "achternaam": last} for first, last in others]
    assert strip([names(body, "contactpersoon")]) == [contact]
    if not others:
        assert "deelnemers" not in body
    else:
        assert strip(names(body, "deelnemers")) == ([contact] if attending else []) + expected
    assert remark_of(body) == "Seed"
    assert stored.record["aantalDeelnemers"] == len(others) + attending
    assert stored.record["contactpersoonIsDeelnemer"] is attending
    if preset.stem == "certificates":  # everyone who attends, and only they, have one
        attendees = body.get("deelnemers") or [body["contactpersoon"]]
        assert [p.get("geboorteDatum") for p in attendees] == ["1990-03-12"] * len(attendees)
        assert ("geboorteDatum" in body["contactpersoon"]) is attending


@pytest.mark.parametrize("preset", ["in-company", "invoice"])
async def test_the_presets_with_a_company(
    database_url: str,
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    tmp_path: Path,
    preset: str,
) -> None:
    """With a company given, the in-company questions are asked too; each preset's answers go
    exactly where its file says."""
    path = ROOT / "examples" / "questions" / f"{preset}.toml"
    async with running_bot(telegram, coachview, database_url, questions_file=str(path)) as bot:
        person = PresetPerson(bot.person("Anna"), PRESET_QUESTIONS[path])
        await person.say(f"/start {coachview.catalogue.seed.open_run}")
        await person.answers("Anna", None, "Jansen", "anna@example.nl", None, "Berg BV")
        await person.answers("Yes, I will attend", "No", None)
        body = await sent(person)
    if preset == "in-company":
        assert body["contactpersoon"]["vrijeveldenPersoon"] == {
            "VrijveldFunctie": "Monteur",
            "VrijveldLeidinggevende": "Monteur",
            "VrijveldLeidinggevendeEmail": "x@example.nl",
        }
    else:
        assert body["contactpersoon"]["factuurAdres"] == {
            "adres1": "Monteur",
            "postcode": "1234 AB",
            "plaats": "Monteur",
        }
        assert body["debiteur"] == {"emailadresAnders": "x@example.nl"}
        assert body["referentieNrKlant"] == "Monteur"
        assert "vrijevelden" not in body
    assert body["bedrijf"] == {"naam": "Berg BV"}
