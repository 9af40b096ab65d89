"""Back, the review and its edits, cancel, resume-or-restart, and the language."""

from __future__ import annotations

import json

from bot.store.models import DraftStatus
from tests.enrolling import remark_of
from tests.harness import Person, RunningBot


async def to_review(person: Person, *, with_colleague: bool = True) -> None:
    run = person.bot.coachview.catalogue.seed.open_run
    await person.say(f"/start {run}")
    await person.answers("Anna", None, "de Vries", "anna@example.nl", "0612345678", None)
    await person.answer("Yes, I will attend")
    if with_colleague:
        await person.answers("Yes", "Piet", None, "Jansen", "piet@example.nl", "No")
    else:
        await person.answer("No")
    await person.answer(None)
    assert person.text.startswith("Please check your enrollment")


async def submitted_body(person: Person) -> dict[str, object]:
    await person.tap("✅ Send enrollment")
    await person.bot.wait_for(lambda: "received" in person.text, what="the confirmation")
    body: dict[str, object] = json.loads(person.bot.coachview.webaanvragen[-1].raw)
    return body


async def test_back_returns_to_the_previous_question_keeping_every_answer(
    enrollbot: RunningBot,
) -> None:
    anna = enrollbot.person()
    await anna.say(f"/start {enrollbot.coachview.catalogue.seed.open_run}")
    await anna.answers("Anna", None, "de Vries")
    assert anna.text.startswith("What is your e-mail address?")
    await anna.tap("⬅️ Back")
    assert anna.text.startswith("What is your last name?")
    assert "(now: de Vries)" in anna.text
    await anna.tap("⬅️ Back")
    await anna.tap("⬅️ Back")
    assert anna.text.endswith("What is your first name?\n(now: Anna)")
    await anna.answer("Annie")  # a new answer replaces the old one...
    assert anna.text.startswith("Does your last name have a prefix")
    await anna.answer(None)
    assert "(now: de Vries)" in anna.text  # ...and the later answers are still there
    await anna.answer("de Vries")
    await anna.answers("anna@example.nl", None, None, "Yes, I will attend", "No", None)
    assert "Annie de Vries" in anna.text


async def test_every_contact_field_can_be_changed_from_the_review(enrollbot: RunningBot) -> None:
    anna = enrollbot.person()
    await to_review(anna)
    changes = [
        ("First name", "Anne"),
        ("Name prefix", "van"),
        ("Last name", "Dijk"),
        ("E-mail", "anne@example.com"),
        ("Phone", "020 123 4567"),
        ("Company", "Dijk BV"),
        ("Remark", "See you there"),
    ]
    for field, value in changes:
        await anna.tap("✏️ Change details")
        await anna.tap(field)
        await anna.say(value)
        if field == "Phone":
            assert anna.user.messages[-2].text == "✓ Phone: +31 20 123 4567"
        assert anna.text.startswith("Please check your enrollment"), field
    assert "Anne van Dijk" in anna.text
    body = await submitted_body(anna)
    assert body["contactpersoon"] == {
        "voornaam": "Anne",
        "tussenvoegsels": "van",
        "achternaam": "Dijk",
        "emailadres": "anne@example.com",
        "telefoonnummer": "+31201234567",
    }
    assert body["bedrijf"] == {"naam": "Dijk BV"}
    assert remark_of(body) == "See you there"


async def test_participants_are_edited_removed_and_added_from_the_review(
    enrollbot: RunningBot,
) -> None:
    anna = enrollbot.person()
    await to_review(anna)
    await anna.tap("👥 Change participants")
    await anna.tap("Piet Jansen")
    await anna.tap("Last name")
    await anna.say("Janssen")
    assert "2. Piet Janssen, piet@example.nl" in anna.text

    await anna.tap("➕ Add participant")
    await anna.answers("Kees", "van der", "Berg", None)
    assert "3. Kees van der Berg" in anna.text

    await anna.tap("👥 Change participants")
    await anna.tap("Piet Janssen")
    await anna.tap("🗑 Remove this participant")
    assert "Piet Janssen is no longer on the enrollment." in anna.text
    assert "2 participants" in anna.text

    body = await submitted_body(anna)
    contact = body["contactpersoon"]
    assert body["deelnemers"] == [
        contact,
        {"voornaam": "Kees", "tussenvoegsels": "van der", "achternaam": "Berg"},
    ]


async def test_the_last_participant_of_someone_not_attending_cannot_be_removed(
    enrollbot: RunningBot,
) -> None:
    anna = enrollbot.person()
    await to_review(anna)
    await anna.tap("✏️ Change details")
    await anna.tap("Attending yourself")
    await anna.tap("No, I enroll others")
    assert "1 participant\n1. Piet Jansen" in anna.text
    await anna.tap("👥 Change participants")
    await anna.tap("Piet Jansen")
    answer = await anna.tap("🗑 Remove this participant")
    assert answer.show_alert
    assert answer.text == "At least one participant is needed when you do not attend yourself."


async def test_not_attending_without_participants_asks_for_one(enrollbot: RunningBot) -> None:
    anna = enrollbot.person()
    await to_review(anna, with_colleague=False)
    await anna.tap("✏️ Change details")
    await anna.tap("Attending yourself")
    await anna.tap("No, I enroll others")
    assert "Then please tell me who will attend." in anna.text
    await anna.answers("Piet", None, "Jansen", None)
    assert anna.text.startswith("Please check your enrollment")
    body = await submitted_body(anna)
    assert body["deelnemers"] == [{"voornaam": "Piet", "achternaam": "Jansen"}]


async def test_the_course_can_be_changed_from_the_review(enrollbot: RunningBot) -> None:
    anna = enrollbot.person()
    await to_review(anna)
    await anna.tap("📅 Change course")
    await anna.tap("EHBO Basis")
    await anna.tap("Any date (waiting list)")
    assert anna.text.startswith("✓") or "EHBO Basis, any date" in anna.text
    assert "Please check your enrollment" in anna.text
    body = await submitted_body(anna)
    seed = enrollbot.coachview.catalogue.seed
    assert body["opleidingen"] == [{"opleidingssoortId": seed.empty_soort}]


async def test_cancel_asks_first_then_deletes_the_draft(enrollbot: RunningBot) -> None:
    anna = enrollbot.person()
    await anna.say(f"/start {enrollbot.coachview.catalogue.seed.open_run}")
    await anna.answers("Anna", None)
    await anna.say("/cancel")
    assert "Do you want to cancel this enrollment?" in anna.text
    await anna.tap("No, go on")
    assert anna.text.startswith("What is your last name?")
    assert enrollbot.open_draft(anna.user) is not None

    await anna.say("/cancel")
    await anna.tap("Yes, cancel it")
    assert "Your enrollment is canceled" in anna.text
    assert enrollbot.drafts() == []
    await anna.say("/cancel")
    assert anna.text == "There is no enrollment in progress. Type /start to begin."


async def test_start_with_a_draft_open_offers_continue_or_start_over(
    enrollbot: RunningBot,
) -> None:
    anna = enrollbot.person()
    await anna.say(f"/start {enrollbot.coachview.catalogue.seed.open_run}")
    await anna.answers("Anna", None, "de Vries")
    await anna.say("/start")
    assert "You have an enrollment in progress for VCA Basis" in anna.text
    await anna.tap("Continue")
    assert anna.text.startswith("What is your e-mail address?")

    await anna.say("/start EHBO")
    await anna.tap("Start over")
    assert "EHBO Basis" in anna.text
    assert [d.status for d in enrollbot.drafts()].count(DraftStatus.OPEN) == 1
    draft = enrollbot.open_draft(anna.user)
    assert draft is not None
    assert draft.data["contact"]["first_name"] is None


async def test_the_language_is_chosen_remembered_and_used(enrollbot: RunningBot) -> None:
    anna = enrollbot.person(language_code="en")
    await anna.say(f"/start {enrollbot.coachview.catalogue.seed.open_run}")
    assert anna.text.endswith("What is your first name?")
    await anna.say("/language")
    await anna.tap("Nederlands")
    # The confirmation, then the current question again, both in Dutch.
    assert anna.user.messages[-2].text == "Oké, ik spreek voortaan Nederlands met je."
    assert anna.text.endswith("Wat is je voornaam?")
    await anna.say("Anna")
    assert anna.text.startswith("Heeft je achternaam een tussenvoegsel")
    assert "⬅️ Terug" in anna.buttons


async def test_telegram_language_decides_until_a_choice_is_made(enrollbot: RunningBot) -> None:
    dutch = enrollbot.person("Daan", language_code="nl")
    english = enrollbot.person("Emma", language_code="en-GB")
    other = enrollbot.person("Hans", language_code="de")
    await dutch.say("/start")
    await english.say("/start")
    await other.say("/start")
    assert "Voor welke opleiding wil je je inschrijven?" in dutch.text
    assert "Which course would you like to enroll in?" in english.text
    assert "Voor welke opleiding" in other.text  # DEFAULT_LANGUAGE


async def test_a_whole_enrollment_in_dutch(enrollbot: RunningBot) -> None:
    daan = enrollbot.person("Daan", language_code="nl")
    await daan.say("/start")
    await daan.tap("Volgende »")
    await daan.tap("VCA Basis")
    assert "nog 8 plekken" in " ".join(daan.buttons)
    await daan.tap(next(b for b in daan.buttons if "nog 8 plekken" in b))
    assert daan.text.endswith("Wat is je voornaam?")
    await daan.answers("Daan", "van", "Dam", "daan@voorbeeld.nl", None, "Dam & Zn")
    await daan.answers("Nee, ik schrijf anderen in", "Fleur", None, "Bakker", None, "Nee")
    await daan.answer(None)
    assert daan.text.startswith("Controleer je inschrijving")
    assert "1 deelnemer" in daan.text
    await daan.tap("✅ Inschrijving versturen")
    await enrollbot.wait_for(lambda: "ontvangen" in daan.text, what="the Dutch confirmation")
    assert "Het nummer is" in daan.text
