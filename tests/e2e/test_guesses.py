"""Each unverified Coachview guess refused by the sandbox in turn: enrollments still reach
Coachview exactly once, through an answer lost after Coachview stored the webaanvraag (so the
worker must look it up before sending again), and staff lookups still answer."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from bot.store.models import OutboxEntry, OutboxStatus
from sandbox.coachview import SCOPES, CoachviewSandbox, Strictness
from sandbox.telegram import SandboxGroup, TelegramSandbox
from tests.enrolling import FAST, NEW, SEND, WEBAANVRAGEN, count, numbers, to_review
from tests.harness import Person, RunningBot, running_bot

REFUSES = "Coachview refuses"


@dataclass
class Desk:
    bot: RunningBot
    coachview: CoachviewSandbox
    sam: Person  # staff, in a private chat with the bot
    group: SandboxGroup  # the staff chat

    def refused(self) -> int:
        """How many requests Coachview answered with 400."""
        return sum(1 for r in self.coachview.requests if r.status == 400)


@asynccontextmanager
async def desk_with(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    database_url: str,
    **settings: Any,
) -> AsyncIterator[Desk]:
    sam = telegram.user("Sam", language_code="en")
    group = telegram.group("Staff", [sam])
    async with running_bot(
        telegram,
        coachview,
        database_url,
        staff_user_ids=str(sam.id),
        staff_chat_id=group.id,
        default_language="en",
        **FAST,
        **settings,
    ) as bot:
        yield Desk(bot, coachview, Person(bot, sam), group)


async def enroll_through_a_lost_answer(desk: Desk) -> tuple[OutboxEntry, str]:
    """Anna Jansen enrolls; Coachview stores her webaanvraag but the answer is lost. She gets
    one confirmation with the number Coachview gave; Coachview has it once."""
    bot, coachview = desk.bot, desk.coachview
    coachview.faults.add(method="POST", path=WEBAANVRAGEN, action="drop")
    anna = bot.person("Anna")
    await to_review(anna, coachview.catalogue.seed.open_soort, "Anna")
    await anna.tap(SEND)
    await bot.wait_for(lambda: numbers(anna.user), what="Anna's confirmation")
    (stored,) = coachview.webaanvragen
    assert len(coachview.requests_to(WEBAANVRAGEN, "POST")) == 1
    (entry,) = bot.outbox()
    assert entry.status == OutboxStatus.SUBMITTED
    assert entry.coachview_nummer == str(stored.nummer)
    assert numbers(anna.user) == [str(stored.nummer)]
    await bot.wait_for(lambda: count(desk.group, NEW) == 1, what="the staff notice")
    return entry, str(stored.nummer)


def warnings_about(caplog: pytest.LogCaptureFixture, guess: str) -> int:
    return sum(
        1
        for record in caplog.records
        if record.levelno == logging.WARNING and REFUSES in record.getMessage()
        if guess in record.getMessage()
    )


@pytest.mark.parametrize("field", ["referentieNrKlant", "opmerking", "vrijevelden.TelegramRef"])
async def test_without_the_reference_filter_the_lost_answer_is_found_and_not_sent_again(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    field: str,
) -> None:
    coachview.strict.refuse_reference_filter = True
    async with desk_with(
        telegram, coachview, database_url, coachview_reference_field=field
    ) as desk:
        entry, nummer = await enroll_through_a_lost_answer(desk)
        body = coachview.webaanvragen[0].body
        if field == "referentieNrKlant":
            assert body["referentieNrKlant"] == entry.reference
            assert warnings_about(caplog, "reference filter") == 1
        else:
            assert "referentieNrKlant" not in body
            assert desk.refused() == 0  # the filter is never tried
        if field == "vrijevelden.TelegramRef":
            assert body["vrijevelden"] == {"TelegramRef": entry.reference}
        refused = desk.refused()

        answer = await desk.sam.say(f"/lookup {entry.reference}")
        assert (answer.text or "").startswith(f"📄 Enrollment {nummer}\n")
        assert desk.refused() == refused  # remembered: not asked again


async def test_a_reference_filter_coachview_ignores_is_not_trusted(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coachview.strict.ignore_reference_filter = True
    async with desk_with(
        telegram, coachview, database_url, coachview_reference_field="referentieNrKlant"
    ) as desk:
        # Someone else's webaanvraag, with the customer's own reference, came in first.
        await desk.bot.services.coachview.create_webaanvraag(
            {"referentieNrKlant": "PO-4471", "contactpersoon": {"achternaam": "Bakker"}}
        )
        coachview.faults.add(method="POST", path=WEBAANVRAGEN, action="drop")
        anna = desk.bot.person("Anna")
        await to_review(anna, coachview.catalogue.seed.open_soort, "Anna")
        await anna.tap(SEND)
        await desk.bot.wait_for(lambda: numbers(anna.user), what="Anna's confirmation")
        assert len(coachview.webaanvragen) == 2
        assert len(coachview.requests_to(WEBAANVRAGEN, "POST")) == 2  # Bakker's and Anna's
        (entry,) = desk.bot.outbox()
        assert entry.coachview_nummer == str(coachview.webaanvragen[1].nummer) == "1002"
        assert numbers(anna.user) == ["1002"]
        assert sum("Coachview ignores reference filter" in r.getMessage() for r in caplog.records)


async def test_without_several_orderby_keys_recent_is_still_newest_first(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coachview.strict.refuse_several_orderby_keys = True
    async with desk_with(telegram, coachview, database_url) as desk:
        _, nummer = await enroll_through_a_lost_answer(desk)
        older = await desk.bot.services.coachview.create_webaanvraag(
            {"contactpersoon": {"voornaam": "Bert", "achternaam": "Bakker"}}
        )

        for _ in range(2):
            page = await desk.sam.say("/recent")
            assert (page.text or "").startswith("🕑 The latest enrollments, 1–2\n\n")
            assert page.button_texts == [f"🔎 {older.nummer}", f"🔎 {nummer}"]
        assert "Anna Jansen" in (page.text or "")
        assert warnings_about(caplog, "several orderby keys") == 1
        # One refused /recent and one probe; the second /recent asked with one key at once.
        assert desk.refused() == 2


async def test_without_less_than_a_search_is_a_range_from_the_text_matched_by_the_bot(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coachview.strict.refuse_less_than = True
    async with desk_with(telegram, coachview, database_url) as desk:
        _, nummer = await enroll_through_a_lost_answer(desk)
        client = desk.bot.services.coachview
        for first, last in [("Karel", "Janssens"), ("Kees", "Klaassen"), ("Jan", "Zwart")]:
            await client.create_webaanvraag(
                {"contactpersoon": {"voornaam": first, "achternaam": last}}
            )

        page = await desk.sam.say("/search jans")
        assert (page.text or "").startswith("🔎 Enrollments matching “jans”, 1–2\n\n")
        assert "Karel Janssens" in (page.text or "")
        assert f"🔎 {nummer}" in page.button_texts
        assert "Anna Jansen" in (page.text or "")
        assert "Klaassen" not in (page.text or "") and "Zwart" not in (page.text or "")
        page = await desk.sam.say("/search jan")  # the first name Jan too
        assert len(page.button_texts) == 3
        assert "Jan Zwart" in (page.text or "")
        assert warnings_about(caplog, "< operator") == 1
        assert "searched the newest" not in (page.text or "")


async def test_without_dotted_filters_search_and_e_mail_look_through_the_newest(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    coachview.strict.refuse_dotted_filters = True
    async with desk_with(telegram, coachview, database_url) as desk:
        _, nummer = await enroll_through_a_lost_answer(desk)
        await desk.bot.services.coachview.create_webaanvraag(
            {"contactpersoon": {"voornaam": "Kees", "achternaam": "Klaassen"}}
        )

        page = await desk.sam.say("/search jansen")
        assert (page.text or "").startswith("🔎 Enrollments matching “jansen”, 1–1\n\n")
        assert page.button_texts == [f"🔎 {nummer}"]
        assert (page.text or "").endswith(
            "Coachview cannot search these fields, so I looked through the newest 200 "
            "enrollments only."
        )
        answer = await desk.sam.say("/lookup ANNA@example.nl")
        assert (answer.text or "").startswith(f"📄 Enrollment {nummer}\n")
        answer = await desk.sam.say("/lookup nobody@example.nl")
        assert (answer.text or "").startswith("No enrollment found for nobody@example.nl.\n")
        assert warnings_about(caplog, "dotted filters") == 1


@pytest.mark.parametrize(
    ("switch", "note"),
    [
        (
            "lack_webaanvraag_opleidingen",
            "⚠️ Could not load the courses from Coachview: "
            "this Coachview does not offer WebaanvraagOpleidingen.",
        ),
        (
            "lack_webaanvraag_deelnemers",
            "⚠️ Could not load the other participants from Coachview: "
            "this Coachview does not offer WebaanvraagDeelnemers.",
        ),
    ],
)
async def test_a_lookup_without_a_sub_endpoint_shows_the_rest_and_says_what_is_missing(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    database_url: str,
    switch: str,
    note: str,
) -> None:
    setattr(coachview.strict, switch, True)
    async with desk_with(telegram, coachview, database_url) as desk:
        _, nummer = await enroll_through_a_lost_answer(desk)
        answer = await desk.sam.say(f"/lookup {nummer}")
        text = answer.text or ""
        assert text.startswith(f"📄 Enrollment {nummer}\n")
        assert "👤 Contact person\nAnna Jansen\n✉️ anna@example.nl" in text
        assert "👥 1 participant\n1. Anna Jansen (contact person)" in text
        assert text.endswith(note)
        page = await desk.sam.say("/recent")
        assert "Anna Jansen" in (page.text or "")
        courses_missing = switch == "lack_webaanvraag_opleidingen"
        assert (page.text or "").endswith(note) == courses_missing
        assert ("📚 VCA Basis" in (page.text or "")) != courses_missing


async def test_a_lookup_without_the_scope_of_a_sub_endpoint_names_the_scope(
    telegram: TelegramSandbox, database_url: str
) -> None:
    scopes = [scope for scope in SCOPES if scope != "WebaanvraagDeelnemers.Lezen"]
    async with (
        CoachviewSandbox(scopes=scopes) as coachview,
        desk_with(telegram, coachview, database_url) as desk,
    ):
        _, nummer = await enroll_through_a_lost_answer(desk)
        answer = await desk.sam.say(f"/lookup {nummer}")
        assert (answer.text or "").startswith(f"📄 Enrollment {nummer}\n")
        assert (answer.text or "").endswith(
            "⚠️ Could not load the other participants from Coachview: "
            "the bot's API client lacks the scope WebaanvraagDeelnemers.Lezen."
        )


async def test_without_the_id_in_the_answer_the_staff_notice_still_opens_the_enrollment(
    telegram: TelegramSandbox, coachview: CoachviewSandbox, database_url: str
) -> None:
    coachview.strict.omit_created_id = True
    async with desk_with(telegram, coachview, database_url) as desk:
        entry, nummer = await enroll_through_a_lost_answer(desk)
        assert entry.coachview_id == coachview.webaanvragen[0].id  # from the look-up
        assert nummer == "1001"
        anna = desk.bot.person("Anna")
        await to_review(anna, coachview.catalogue.seed.open_soort, "Anna")
        await anna.tap(SEND)  # answered 201 without an id
        await desk.bot.wait_for(lambda: numbers(anna.user), what="the second confirmation")
        second = next(e for e in desk.bot.outbox() if e.id != entry.id)
        assert (second.coachview_id, second.coachview_nummer) == (None, "1002")
        await desk.bot.wait_for(lambda: count(desk.group, NEW) == 2, what="the staff notice")

        notice = desk.group.messages[-1]
        await desk.group.press("🔎 Open", by=desk.sam.user, message=notice)
        await desk.bot.settle()
        assert (desk.group.messages[-1].text or "").startswith("📄 Enrollment 1002\n")


@pytest.mark.parametrize("field", ["referentieNrKlant", "vrijevelden.TelegramRef"])
async def test_against_a_sandbox_refusing_every_guess_enrollments_arrive_once_and_staff_read(
    telegram: TelegramSandbox,
    coachview: CoachviewSandbox,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    field: str,
) -> None:
    coachview.strict = Strictness.evidence()
    async with desk_with(
        telegram, coachview, database_url, coachview_reference_field=field
    ) as desk:
        entry, nummer = await enroll_through_a_lost_answer(desk)
        for command in ("/recent", "/search anna", "/lookup anna@example.nl"):
            answer = await desk.sam.say(command)
            assert nummer in (answer.text or ""), command
        answer = await desk.sam.say(f"/lookup {entry.reference}")
        assert (answer.text or "").startswith(f"📄 Enrollment {nummer}\n")
        guesses = ["several orderby keys", "dotted filters"]
        if field == "referentieNrKlant":
            guesses.append("reference filter")
        for guess in guesses:
            assert warnings_about(caplog, guess) == 1, guess


async def test_aanvraag_is_order_is_sent_as_configured(
    telegram: TelegramSandbox, coachview: CoachviewSandbox, database_url: str
) -> None:
    async with desk_with(
        telegram, coachview, database_url, coachview_aanvraag_is_order=True
    ) as desk:
        await enroll_through_a_lost_answer(desk)
        assert coachview.webaanvragen[0].body["aanvraagIsOrder"] is True
