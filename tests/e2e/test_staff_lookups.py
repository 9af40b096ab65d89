"""Staff look webaanvragen up from the chat: /lookup, /recent, /search, and their buttons."""

from __future__ import annotations

import json

import pytest

from bot.telegram.limits import MESSAGE_TEXT_MAX
from bot.telegram.rate import TelegramRateLimiter
from tests.coachview_fixtures import SEED_ONLY_OTHERS, SEED_ONLY_SELF, SEED_SELF_AND_OTHERS
from tests.e2e.conftest import StaffDesk, text
from tests.harness import wait_until
from tests.waiting import ManualTimer


def with_course(seed: str, desk: StaffDesk) -> dict[str, object]:
    body = json.loads(seed)
    catalogue = desk.coachview.catalogue.seed
    body["opleidingen"] = [
        {"opleidingssoortId": catalogue.open_soort, "opleidingId": catalogue.open_run}
    ]
    return dict(body)


async def test_a_lookup_by_number_shows_the_count_and_whether_the_contact_attends(
    desk: StaffDesk,
) -> None:
    only_self = await desk.webaanvraag(with_course(SEED_ONLY_SELF, desk))
    only_others = await desk.webaanvraag(SEED_ONLY_OTHERS)
    self_and_others = await desk.webaanvraag(SEED_SELF_AND_OTHERS)

    answer = await desk.sam.say(f"/lookup {only_self.nummer}")
    assert text(answer) == (
        f"📄 Enrollment {only_self.nummer}\n"
        "Received: 2 Mar 2026, 09:00\n"
        "Status: Nieuw\n"
        f"Coachview id: {only_self.id}\n"
        "Remark: Een persoon schrijft alleen zichzelf in\n\n"
        "👤 Contact person\n"
        "Contact Persoon\n"
        "✅ The contact person takes part.\n\n"
        "👥 1 participant\n"
        "1. Contact Persoon (contact person)\n\n"
        "📚 Courses\n"
        "VCA Basis Utrecht (VCA-B-01)\n"
        "   Thu, Mar 12, 2026"
    )
    assert answer.entity_texts("bold") == [
        f"Enrollment {only_self.nummer}",
        "Contact person",
        "1 participant",
        "Courses",
    ]

    answer = await desk.sam.say(f"/lookup {only_others.nummer}")
    assert "➖ The contact person does not take part." in text(answer)
    assert "👥 2 participants\n1. Deel Nemer 1\n2. Deel Nemer 2\n\n" in text(answer)
    assert "📚 Courses\n–" in text(answer)

    answer = await desk.sam.say(f"/lookup {self_and_others.nummer}")
    assert "✅ The contact person takes part." in text(answer)
    assert (
        "👥 3 participants\n"
        "1. Contact Persoon (contact person)\n"
        "2. Deel Nemer 1\n"
        "3. Deel Nemer 2\n\n"
    ) in text(answer)


async def test_a_webaanvraag_with_nulls_where_the_count_was_still_shows(
    desk: StaffDesk,
) -> None:
    stored = await desk.webaanvraag(SEED_ONLY_SELF)
    stored.record.update(
        aantalDeelnemers=None, contactpersoonIsDeelnemer=None, aanvraagDatum="gisteren"
    )

    answer = text(await desk.sam.say(f"/lookup {stored.nummer}"))
    assert f"📄 Enrollment {stored.nummer}\n" in answer
    assert "👥 number of participants unknown\n" in answer
    assert "take part" not in answer  # neither "takes part" nor "does not": Coachview is silent
    assert "Received" not in answer
    recent = text(await desk.sam.say("/recent"))
    assert f"{stored.nummer}\nContact Persoon · number of participants unknown" in recent


async def test_a_lookup_by_id_e_mail_or_reference_finds_the_same_webaanvraag(
    desk: StaffDesk,
) -> None:
    stored = await desk.webaanvraag(
        {
            # The customer's own reference, and the bot's under the remark (the default place).
            "referentieNrKlant": "PO-4471",
            "opmerking": "Graag koffie\nTG-0A1B2C3D4E5F6071",
            "contactpersoon": {
                "voornaam": "Anna",
                "tussenvoegsels": "de",
                "achternaam": "Vries",
                "emailadres": "anna@example.nl",
                "telefoonnummer": "+31612345678",
            },
            "bedrijf": {"naam": "Vries & <Co>"},
            "debiteur": {"naamRekeninghouder": "A. de Vries", "particulier": True},
        }
    )
    for key in (stored.id, stored.id.upper(), "ANNA@example.nl", "tg-0a1b2c3d4e5f6071"):
        answer = await desk.sam.say(f"/lookup {key}")
        assert text(answer).startswith(f"📄 Enrollment {stored.nummer}\n"), key
    assert "Reference: PO-4471\n" in text(answer)
    assert "Remark: Graag koffie TG-0A1B2C3D4E5F6071\n" in text(answer)
    assert answer.entity_texts("code") == ["PO-4471", stored.id]
    assert (
        "👤 Contact person\n"
        "Anna de Vries\n"
        "✉️ anna@example.nl\n"
        "📞 +31612345678\n"
        "✅ The contact person takes part.\n\n"
        "🏢 Company\n"
        "Vries & <Co>\n\n"
        "💳 Debtor\n"
        "A. de Vries\n"
        "Pays as: a private person\n\n"
    ) in text(answer)


async def test_a_lookup_by_an_e_mail_address_with_several_enrollments_lists_them(
    desk: StaffDesk,
) -> None:
    contact = {"voornaam": "Anna", "achternaam": "Vries", "emailadres": "anna@example.nl"}
    first = await desk.webaanvraag({"contactpersoon": contact})
    second = await desk.webaanvraag({"contactpersoon": contact, "opmerking": "nog een"})
    page = await desk.sam.say("/lookup anna@example.nl")
    assert text(page).startswith("🔎 Enrollments matching “anna@example.nl”, 1–2\n\n")
    assert page.button_texts == [f"🔎 {second.nummer}", f"🔎 {first.nummer}"]


async def test_a_lookup_fills_in_course_names_coachview_left_out_from_the_catalogue(
    desk: StaffDesk,
) -> None:
    stored = await desk.webaanvraag(with_course(SEED_ONLY_SELF, desk))
    for name in ("opleidingNaam", "opleidingCode", "opleidingssoortNaam", "startDatum"):
        stored.opleidingen[0][name] = None
    answer = await desk.sam.say(f"/lookup {stored.nummer}")
    assert text(answer).endswith("📚 Courses\nVCA Basis Utrecht (VCA-B-01)\n   Thu, Mar 12, 2026")


async def test_a_lookup_of_what_does_not_exist_says_so(desk: StaffDesk) -> None:
    await desk.webaanvraag(SEED_ONLY_SELF)
    answer = await desk.sam.say("/lookup 9999")
    assert text(answer) == "No enrollment found for 9999."
    answer = await desk.sam.say("/lookup 3f2504e0-4f89-11d3-9a0c-0305e82c3301")
    assert text(answer) == "No enrollment found for 3f2504e0-4f89-11d3-9a0c-0305e82c3301."
    answer = await desk.sam.say("/lookup nobody@example.nl")
    assert text(answer) == "No enrollment found for nobody@example.nl."
    answer = await desk.sam.say("/lookup de Vries")
    assert text(answer) == (
        "/lookup finds an enrollment by its number, id or e-mail address. To find one by "
        "name or company, use /search de Vries."
    )
    answer = await desk.sam.say("/lookup")
    assert text(answer).startswith("Type /lookup and an enrollment's number")


async def test_a_long_lookup_is_split_over_messages_within_telegrams_limit(
    desk: StaffDesk,
) -> None:
    deelnemers = [
        {
            "voornaam": f"Deelnemer{number:03d}",
            "achternaam": "Met-Een-Heel-Lange-Achternaam-Van-Hier-Tot-Ginder",
            "emailadres": f"deelnemer{number:03d}.met.een.lang.adres@voorbeeld-opleidingen.nl",
        }
        for number in range(1, 61)
    ]
    stored = await desk.webaanvraag(
        {"contactpersoon": {"voornaam": "Grote", "achternaam": "Groep"}, "deelnemers": deelnemers}
    )
    before = len(desk.sam.user.messages)
    await desk.sam.say(f"/lookup {stored.nummer}")
    pieces = desk.sam.user.messages[before:]
    assert len(pieces) > 1
    assert all(len(piece.text or "") <= MESSAGE_TEXT_MAX for piece in pieces)
    whole = "\n".join(piece.text or "" for piece in pieces)
    assert "👥 60 participants" in whole
    assert "➖ The contact person does not take part." in whole
    for number in range(1, 61):
        assert f"\n{number}. Deelnemer{number:03d} Met-Een-Heel-Lange" in whole
    assert whole.rstrip().endswith("📚 Courses\n–")


async def test_recent_lists_the_newest_first_pages_with_buttons_and_opens_with_one_press(
    desk: StaffDesk,
) -> None:
    stored = [
        await desk.webaanvraag(
            {
                "contactpersoon": {"voornaam": "Persoon", "achternaam": f"Nummer {n}"},
                "bedrijf": {"naam": f"Bedrijf {n}"},
            }
        )
        for n in range(1, 13)
    ]
    numbers = [str(w.nummer) for w in stored]

    page = await desk.sam.say("/recent 12")
    assert text(page).startswith("🕑 The latest enrollments, 1–5\n\n")
    assert (
        f"{numbers[11]} · 2 Mar 2026, 09:00\nPersoon Nummer 12 · Bedrijf 12 · 1 participant"
        in (text(page))
    )
    assert page.button_texts == [f"🔎 {n}" for n in reversed(numbers[7:])] + ["▶️"]

    await desk.sam.tap("▶️")
    page = desk.sam.screen
    assert page.edited and text(page).startswith("🕑 The latest enrollments, 6–10\n\n")
    assert page.button_texts == [f"🔎 {n}" for n in reversed(numbers[2:7])] + ["◀️", "▶️"]
    await desk.sam.tap("▶️")
    page = desk.sam.screen
    assert text(page).startswith("🕑 The latest enrollments, 11–12\n\n")
    assert page.button_texts == [f"🔎 {numbers[1]}", f"🔎 {numbers[0]}", "◀️"]
    await desk.sam.tap("◀️")
    assert desk.sam.text.startswith("🕑 The latest enrollments, 6–10\n\n")

    await desk.sam.tap(f"🔎 {numbers[4]}")
    opened = desk.sam.screen
    assert not opened.edited
    assert text(opened).startswith(f"📄 Enrollment {numbers[4]}\n")
    assert "\nPersoon Nummer 5\n" in text(opened)

    page = await desk.sam.say("/recent")
    assert text(page).startswith("🕑 The latest enrollments, 1–5\n\n")
    await desk.sam.tap("▶️")
    assert desk.sam.screen.button_texts == [f"🔎 {n}" for n in reversed(numbers[2:7])] + ["◀️"]


async def test_recent_and_search_say_when_there_is_nothing(desk: StaffDesk) -> None:
    assert text(await desk.sam.say("/recent")) == "There are no enrollments yet."
    assert text(await desk.sam.say("/search Jansen")) == "No enrollment matches “Jansen”."
    assert text(await desk.sam.say("/recent 500")) == (
        "Type /recent for the latest 10 enrollments, or /recent and a number up to 50, "
        "for example /recent 20."
    )
    assert text(await desk.sam.say("/search")).startswith("Type /search and a name")


async def test_search_finds_by_name_e_mail_or_company_newest_first_and_pages(
    desk: StaffDesk,
) -> None:
    def person(first: str, prefix: str | None, last: str, mail: str) -> dict[str, str]:
        found = {"voornaam": first, "achternaam": last, "emailadres": mail}
        return found | ({"tussenvoegsels": prefix} if prefix else {})

    jansens = [
        await desk.webaanvraag(
            {"contactpersoon": person(f"Jan{n}", None, "Jansen", f"jan{n}@jansen.nl")}
        )
        for n in range(1, 8)
    ]
    anna = await desk.webaanvraag(
        {
            "contactpersoon": person("Anna", "de", "Vries", "anna@vries.nl"),
            "bedrijf": {"naam": "Jansen Bouw B.V."},
        }
    )
    piet = await desk.webaanvraag({"contactpersoon": person("Piet", None, "de Vries", "p@x.nl")})
    await desk.webaanvraag({"contactpersoon": person("Karel", None, "Appel", "k@appel.nl")})

    page = await desk.sam.say("/search jansen")
    assert text(page).startswith("🔎 Enrollments matching “jansen”, 1–5\n\n")
    expected = [anna, *reversed(jansens)]  # the company matches too; newest first
    assert page.button_texts == [f"🔎 {w.nummer}" for w in expected[:5]] + ["▶️"]
    assert "Anna de Vries · Jansen Bouw B.V. · 1 participant" in text(page)
    await desk.sam.tap("▶️")
    page = desk.sam.screen
    assert text(page).startswith("🔎 Enrollments matching “jansen”, 6–8\n\n")
    assert page.button_texts == [f"🔎 {w.nummer}" for w in expected[5:]] + ["◀️"]

    def found() -> list[str]:
        return [
            label.removeprefix("🔎 ") for label in desk.sam.screen.button_texts if "🔎" in label
        ]

    await desk.sam.say("/search Anna de Vries")
    assert found() == [str(anna.nummer)]
    await desk.sam.say("/search de vries")
    assert found() == [str(piet.nummer)]
    await desk.sam.say("/search Piet de Vries")
    assert found() == [str(piet.nummer)]
    await desk.sam.say("/search jan3@")
    assert found() == [str(jansens[2].nummer)]
    await desk.sam.say("/search Jansen Bouw, Utrecht")
    assert found() == [str(anna.nummer)]
    await desk.sam.say("/search Jan")
    assert found() == [str(w.nummer) for w in expected[:5]]


async def test_search_answers_in_dutch_for_a_dutch_staff_member(desk: StaffDesk) -> None:
    await desk.webaanvraag(SEED_SELF_AND_OTHERS)
    await desk.sam.say("/language")
    await desk.sam.tap("Nederlands")
    page = await desk.sam.say("/search persoon")
    assert text(page) == (
        "🔎 Inschrijvingen met “persoon”, 1–1\n\n"
        "1001 · 2 mrt 2026, 09:00\n"
        "Contact Persoon · 3 deelnemers"
    )
    answer = await desk.sam.say("/lookup 1001")
    assert "✅ De contactpersoon doet zelf mee.\n\n👥 3 deelnemers\n" in text(answer)


async def test_a_search_for_a_long_text_still_pages(desk: StaffDesk) -> None:
    company = "Stichting Samenwerkende Opleidingsinstituten voor de Bouw en Infra Midden-Nederland"
    for number in range(6):
        await desk.webaanvraag(
            {"contactpersoon": {"achternaam": f"Nummer {number}"}, "bedrijf": {"naam": company}}
        )
    page = await desk.sam.say(f"/search {company}")
    assert text(page).startswith("🔎 Enrollments matching “Stichting Samenwerkende")
    assert len(page.buttons) == 6 and page.button_texts[-1] == "▶️"
    await desk.sam.tap("▶️")
    assert desk.sam.text.startswith("🔎 Enrollments matching “Stichting Samenwerkende")
    assert "6–6\n\n" in desk.sam.text and "Nummer 0 · Stichting" in desk.sam.text


async def test_flood_control_on_a_staff_answer_is_waited_out_once_and_it_arrives(
    desk: StaffDesk,
) -> None:
    stored = await desk.webaanvraag(SEED_ONLY_SELF)
    limiter = desk.bot.application.bot.rate_limiter
    assert isinstance(limiter, TelegramRateLimiter)
    limiter.timer = timer = ManualTimer()
    telegram, sam = desk.bot.telegram, desk.sam
    telegram.fail_next("sendMessage", error_code=429, retry_after=30, chat_id=sam.id)

    await sam.user.send(f"/lookup {stored.nummer}")
    await wait_until(lambda: timer.waits, what="the answer to wait out Telegram's 429")
    assert timer.waits == [pytest.approx(30)]
    assert sam.user.last_message is None  # nothing is sent while Telegram says to wait

    timer.advance(30)
    await desk.bot.settle()
    assert text(sam.screen).startswith(f"📄 Enrollment {stored.nummer}\n")
    answers = [
        call for call in telegram.calls_to("sendMessage") if call.params["chat_id"] == sam.id
    ]
    assert [call.error_code for call in answers] == [429, None]  # refused once, then sent once
    assert timer.waits == [pytest.approx(30)]
