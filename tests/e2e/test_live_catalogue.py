"""The catalogue as live Coachview records make it: price and goal on the course screen, records
the bot cannot use left out, and deep links to courses that exist but take no enrollments."""

from __future__ import annotations

from bot.telegram.limits import MESSAGE_TEXT_MAX
from sandbox.coachview import SandboxCatalogue
from tests.harness import RunningBot

COURSES = "Which course would you like to enroll in?"
DATES = "Which date would you like?"


def soort(catalogue: SandboxCatalogue, code: str) -> dict[str, object]:
    found = catalogue.soort(code)
    assert found is not None
    return found


def date_buttons(buttons: list[str]) -> list[str]:
    return [label for label in buttons if "place" in label or "plek" in label]


# -- The course screen ------------------------------------------------------------------------


async def test_the_course_screen_shows_price_and_goal(enrollbot: RunningBot) -> None:
    anna = enrollbot.person()
    await anna.say("/start")
    await anna.tap("Next »")
    await anna.tap("VCA Basis")

    lines = anna.text.splitlines()[2:]  # after the echo of the pressed button
    assert lines[:3] == [
        "VCA Basis",
        "€295.00 excl. VAT",
        "Je leert veilig werken op de bouwplaats en haalt het diploma Basisveiligheid VCA.",
    ]
    assert anna.text.endswith(DATES)
    assert len(date_buttons(anna.buttons)) == 4


async def test_the_course_screen_in_dutch(enrollbot: RunningBot) -> None:
    daan = enrollbot.person("Daan", language_code="nl")
    await daan.say("/start LG")

    assert "€\xa01.250,00 excl. btw\nJe groeit als leidinggevende." in daan.text
    assert daan.text.endswith("Welke datum wil je?")


async def test_a_goal_shows_as_typed_and_a_missing_price_is_left_out(
    enrollbot: RunningBot,
) -> None:
    anna = enrollbot.person()
    await anna.say("/start EXCEL-B")
    assert "Je maakt zelf overzichtelijke tabellen & grafieken." in anna.text  # escaped

    await anna.say("/start EHBO")  # no published price
    await anna.tap("Start over")
    assert "EHBO Basis\nJe leert eerste hulp bij ongelukken.\n\n" in anna.text
    assert "excl." not in anna.text


async def test_a_long_goal_is_shortened_to_fit_one_message(enrollbot: RunningBot) -> None:
    bhv = soort(enrollbot.coachview.catalogue, "BHV-B")
    goal = "Oefenen met blusmiddelen en ontruimen. " * 300  # 11,700 characters
    bhv["doel"] = goal
    bhv["naam"] = "BHV Basis " + "met een heel lange naam " * 20
    anna = enrollbot.person()
    await anna.say("/start BHV-B")

    assert len(anna.text) <= MESSAGE_TEXT_MAX
    (shown,) = [line for line in anna.text.splitlines() if line.startswith("Oefenen")]
    assert 200 < len(shown) < len(goal)
    assert shown.endswith("…")
    assert goal.startswith(shown[:-1])
    assert goal[len(shown) - 1] == " "  # cut between words
    assert anna.text.endswith(DATES)
    assert len(date_buttons(anna.buttons)) == 6


# -- Records the bot cannot use ---------------------------------------------------------------


async def test_a_malformed_run_is_left_out_and_the_rest_offered(enrollbot: RunningBot) -> None:
    coachview = enrollbot.coachview
    runs = coachview.catalogue.runs_of(coachview.catalogue.seed.open_soort)
    runs[1]["naam"] = None  # no name: the bot cannot show it
    runs[2]["aantalPlaatsenMin"] = "vijf"  # junk the bot does not need: harmless
    anna = enrollbot.person()
    await anna.say("/start VCA-B")

    assert anna.text.endswith(DATES)
    assert len(date_buttons(anna.buttons)) == 3
    assert "Amersfoort" not in anna.text  # the second run
    assert "VCA Basis Zwolle" in anna.text  # the third
    skipped = enrollbot.services.coachview.skipped_records
    assert [(s.entity, s.id, s.field) for s in skipped] == [("Opleidingen", runs[1]["id"], "naam")]


async def test_a_malformed_course_type_is_left_out_and_the_rest_offered(
    enrollbot: RunningBot,
) -> None:
    soort(enrollbot.coachview.catalogue, "BHV-B")["id"] = None
    anna = enrollbot.person()
    await anna.say("/start")

    assert anna.text.endswith(COURSES)
    assert anna.buttons[:2] == ["BHV Herhaling", "EHBO Basis"]  # BHV Basis is left out
    await anna.tap("Next »")
    assert anna.buttons[:2] == ["VCA Basis", "VCA VOL"]
    assert [s.field for s in enrollbot.services.coachview.skipped_records] == ["id"]


# -- Deep links to what is not open -----------------------------------------------------------


async def test_a_link_to_an_unpublished_or_cancelled_run_offers_the_other_dates(
    enrollbot: RunningBot,
) -> None:
    seed = enrollbot.coachview.catalogue.seed
    anna = enrollbot.person()
    await anna.say(f"/start {seed.unpublished_run}")
    assert "That date can no longer be booked" in anna.text
    assert "Excel Basis" in anna.text
    assert anna.text.endswith(DATES)
    assert len(date_buttons(anna.buttons)) == 1

    daan = enrollbot.person("Daan", language_code="nl")
    await daan.say(f"/start {seed.cancelled_run}")
    assert "Die datum is niet meer te boeken. Kies een andere." in daan.text
    assert "Excel Gevorderd" in daan.text
    assert daan.text.endswith("Welke datum wil je?")


async def test_a_link_to_a_closed_course_type_offers_the_course_list(
    enrollbot: RunningBot,
) -> None:
    anna = enrollbot.person()
    await anna.say("/start INC")  # published nowhere
    assert "Incompany maatwerk is not open for enrollment. Please choose another course." in (
        anna.text
    )
    assert anna.text.endswith(COURSES)
    assert "Page 1 of 2" in anna.text

    bert = enrollbot.person("Bert")
    await bert.say(f"/start {enrollbot.coachview.catalogue.seed.retired_soort}")
    assert "VCA Basis (oude opzet) is not open for enrollment" in bert.text
    assert bert.text.endswith(COURSES)


async def test_a_link_to_a_run_of_a_closed_course_type_in_dutch(enrollbot: RunningBot) -> None:
    catalogue = enrollbot.coachview.catalogue
    (run,) = catalogue.runs_of(catalogue.seed.inactive_soort)
    daan = enrollbot.person("Daan", language_code="nl")
    await daan.say(f"/start {run['id']}")

    assert (
        "Voor Heftruckchauffeur Zwolle kun je je nu niet inschrijven. Kies een andere opleiding."
        in daan.text
    )
    assert daan.text.endswith("Voor welke opleiding wil je je inschrijven?")
    assert "Heftruckchauffeur" not in daan.buttons


async def test_closed_course_types_by_code_in_dutch(enrollbot: RunningBot) -> None:
    daan = enrollbot.person("Daan", language_code="nl")
    await daan.say("/start hef")

    assert "Voor Heftruckchauffeur kun je je nu niet inschrijven." in daan.text
    assert daan.text.endswith("Voor welke opleiding wil je je inschrijven?")
    assert "De opleiding uit die link ken ik niet" not in daan.text
