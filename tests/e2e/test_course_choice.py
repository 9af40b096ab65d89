"""Choosing the course: deep links, browsing the catalogue page by page, "any date"."""

from __future__ import annotations

import json

from tests.harness import RunningBot


async def test_a_deep_link_to_a_run_preselects_it(enrollbot: RunningBot) -> None:
    seed = enrollbot.coachview.catalogue.seed
    anna = enrollbot.person()
    await anna.say(f"/start {seed.open_run}")
    assert "VCA Basis, starting" in anna.text
    assert anna.text.endswith("What is your first name?")
    draft = enrollbot.open_draft(anna.user)
    assert draft is not None
    assert draft.data["course"]["opleiding_id"] == seed.open_run


async def test_a_deep_link_to_a_course_type_code_shows_its_dates(enrollbot: RunningBot) -> None:
    anna = enrollbot.person()
    await anna.say("/start vca-b")
    assert anna.text.startswith("Hello!")
    assert "VCA Basis" in anna.text
    assert anna.text.endswith("Which date would you like?")
    assert "Any date (waiting list)" in anna.buttons


async def test_a_deep_link_to_a_full_run_offers_the_other_dates(enrollbot: RunningBot) -> None:
    seed = enrollbot.coachview.catalogue.seed
    anna = enrollbot.person()
    await anna.say(f"/start {seed.full_run}")
    assert "That date can no longer be booked" in anna.text
    assert anna.text.endswith("Which date would you like?")


async def test_an_unknown_deep_link_falls_back_to_the_catalogue(enrollbot: RunningBot) -> None:
    anna = enrollbot.person()
    await anna.say("/start no-such-course")
    assert "I do not know the course in that link" in anna.text
    assert "Which course would you like to enroll in?" in anna.text


async def test_browsing_pages_through_types_and_runs(enrollbot: RunningBot) -> None:
    anna = enrollbot.person()
    await anna.say("/start")
    first_page = anna.buttons
    assert "Page 1 of 2" in anna.text
    assert "Next »" in first_page
    assert "VCA Basis" not in first_page  # alphabetical: on page 2
    # Inactive and unpublished course types are never offered.
    assert "Heftruckchauffeur" not in first_page

    await anna.tap("Next »")
    assert "Page 2 of 2" in anna.text
    assert "VCA Basis" in anna.buttons
    assert "« Previous" in anna.buttons
    await anna.tap("« Previous")
    assert anna.buttons == first_page

    await anna.tap("BHV Basis")  # 12 runs: two pages of dates
    assert "Page 1 of 2" in anna.text
    dates_page_1 = [b for b in anna.buttons if "place" in b]
    assert len(dates_page_1) == 6
    await anna.tap("Next »")
    dates_page_2 = [b for b in anna.buttons if "place" in b]
    assert len(dates_page_2) == 6
    assert not set(dates_page_1) & set(dates_page_2)
    # Dates show their free places, in the person's language.
    assert dates_page_2[-1].endswith("12 places left")


async def test_full_cancelled_started_and_closed_runs_are_not_offered(
    enrollbot: RunningBot,
) -> None:
    anna = enrollbot.person()
    await anna.say("/start BHV-H")  # its first run is full
    assert len([b for b in anna.buttons if "place" in b]) == 2
    await anna.say("/start EXCEL-B")  # its first run is not published (publicatie false)
    await anna.tap("Start over")
    assert len([b for b in anna.buttons if "place" in b]) == 1
    await anna.say("/start LG")  # its first run has already started
    await anna.tap("Start over")
    assert len([b for b in anna.buttons if "place" in b]) == 1


async def test_any_date_enrolls_on_the_course_type_only(enrollbot: RunningBot) -> None:
    anna = enrollbot.person()
    await anna.say("/start EHBO")  # no runs planned at all
    assert "No dates are planned right now" in anna.text
    await anna.tap("Any date (waiting list)")
    assert "EHBO Basis, any date (waiting list)" in anna.text
    await anna.answers("Anna", None, "Smit", "anna@example.nl", None, None)
    await anna.answers("Yes, I will attend", "No", None)
    await anna.tap("✅ Send enrollment")
    await enrollbot.wait_for(lambda: "received" in anna.text)
    body = json.loads(enrollbot.coachview.webaanvragen[-1].raw)
    assert body["opleidingen"] == [
        {"opleidingssoortId": enrollbot.coachview.catalogue.seed.empty_soort}
    ]


async def test_browsing_costs_no_coachview_requests_once_cached(enrollbot: RunningBot) -> None:
    anna = enrollbot.person()
    await anna.say("/start")
    await anna.tap("Next »")
    await anna.tap("VCA Basis")
    before = len(enrollbot.coachview.requests)
    bob = enrollbot.person("Bob")
    await bob.say("/start")
    await bob.tap("Next »")
    await bob.tap("VCA Basis")
    await bob.tap("⬅️ Back")
    assert len(enrollbot.coachview.requests) == before
