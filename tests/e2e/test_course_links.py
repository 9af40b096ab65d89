"""Staff share a course with /link: the deep link, its QR code as a photo and as an SVG, and
the link opens exactly that course or date for whoever follows it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from sandbox.telegram import ChatMessage
from tests.e2e.conftest import StaffDesk
from tests.qr_images import expected_modules, png_modules, svg_modules, title_of


def payload(link: str) -> str:
    [value] = parse_qs(urlparse(link).query)["start"]
    return value


def link_in(photo: ChatMessage) -> str:
    assert photo.caption is not None, photo.describe()
    [link] = [word for word in photo.caption.split() if word.startswith("https://t.me/")]
    return link


def check_qr_codes(photo: ChatMessage, document: ChatMessage, link: str) -> None:
    """The photo is a PNG and the document an SVG of exactly ``link``'s QR code."""
    expected = expected_modules(link)
    assert photo.kind == "photo" and photo.file is not None
    assert photo.file.name.endswith("-qr.png")
    assert png_modules(photo.file.data, len(expected)) == expected
    assert document.kind == "document" and document.file is not None
    assert document.file.name.endswith("-qr.svg")
    assert document.file.mime_type == "image/svg+xml"
    assert svg_modules(document.file.data, len(expected)) == expected


async def test_staff_link_a_date_and_the_link_opens_exactly_that_date(desk: StaffDesk) -> None:
    sam, seed = desk.sam, desk.coachview.catalogue.seed
    await sam.say("/link")
    assert sam.text.startswith("Which course do you want to share?")
    assert "VCA Basis (VCA-B)" in sam.buttons
    assert "Heftruckchauffeur (HEF)" not in sam.buttons  # inactive: not offered
    await sam.tap("VCA Basis (VCA-B)")
    assert sam.text.startswith("Share VCA Basis as a whole")
    assert sam.buttons[0] == "📚 The course, any date"
    dates = sam.buttons[1:]
    assert len(dates) == 4
    await sam.tap(dates[0])

    *_, photo, document = sam.user.messages
    link = link_in(photo)
    assert link == f"https://t.me/{desk.bot.telegram.bot_username}?start={seed.open_run}"
    assert photo.caption is not None
    assert "VCA Basis Utrecht" in photo.caption
    check_qr_codes(photo, document, link)
    assert title_of(document.file.data if document.file else b"").startswith("VCA Basis ")
    assert document.caption == "The same QR code as SVG, for printing."

    anna = desk.bot.person("Anna", language_code="en")
    await anna.say(f"/start {payload(link)}")
    assert "VCA Basis, starting" in anna.text
    assert anna.text.endswith("What is your first name?")
    draft = desk.bot.open_draft(anna.user)
    assert draft is not None
    assert draft.data["course"]["opleiding_id"] == seed.open_run


async def test_staff_link_a_course_by_its_code_and_the_link_opens_its_dates(
    desk: StaffDesk,
) -> None:
    sam, seed = desk.sam, desk.coachview.catalogue.seed
    await sam.say("/link excel-b")
    assert sam.text.startswith("Share Excel Basis as a whole")
    await sam.tap("📚 The course, any date")
    *_, photo, document = sam.user.messages
    link = link_in(photo)
    assert payload(link) == desk.coachview.catalogue.soort("EXCEL-B")["id"]  # type: ignore[index]
    assert photo.caption is not None
    assert "any date: people choose one of the open dates" in photo.caption
    check_qr_codes(photo, document, link)

    bert = desk.bot.person("Bert", language_code="nl")
    await bert.say(f"/start {payload(link)}")
    assert "Excel Basis" in bert.text
    assert bert.text.endswith("Welke datum wil je?")
    assert seed.unpublished_run not in str(bert.screen.raw)  # not published for the web


async def test_link_is_for_staff_only_and_speaks_dutch(desk: StaffDesk) -> None:
    asked = len(desk.coachview.requests)
    kees = desk.kees
    await kees.say("/link")
    assert kees.text == "I do not know that command. /help lists what I can do."
    run = desk.coachview.catalogue.seed.open_run
    answer = await kees.user.press_forged(f"l:r:{run}", message=kees.screen)
    await desk.bot.settle()
    assert answer.text == "This button is no longer active. Please use the latest message."
    assert [m.kind for m in kees.user.messages] == ["text"]
    assert len(desk.coachview.requests) == asked

    desk.bot.services.remember_language(desk.sam.id, "nl")
    await desk.sam.say("/link NOPE-1")
    assert desk.sam.text == (
        "Ik ken geen opleiding met de code of id NOPE-1. Typ /link om er een uit de lijst "
        "te kiezen."
    )
    await desk.sam.say("/link vca-b")
    assert desk.sam.buttons[0] == "📚 De opleiding als geheel"


async def test_link_says_so_when_coachview_cannot_be_reached(desk: StaffDesk) -> None:
    desk.coachview.faults.add(path="/api/v1/Opleidingssoorten", status=503, times=None)
    await desk.sam.say("/link")
    assert desk.sam.text == (
        "Coachview cannot be reached right now. Please try again in a few minutes."
    )
    assert not any(m.file for m in desk.sam.user.messages)


async def test_a_date_that_is_not_open_is_not_linked(desk: StaffDesk) -> None:
    await desk.sam.say(f"/link {desk.coachview.catalogue.seed.cancelled_run}")
    assert desk.sam.text == (
        "That date is not open for enrollment (canceled, full, started or past its "
        "deadline). Type /link EXCEL-G to share another date of Excel Gevorderd."
    )
    assert not any(m.file for m in desk.sam.user.messages)
