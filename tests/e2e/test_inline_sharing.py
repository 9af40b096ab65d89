"""Anyone shares a course inline: ``@bot excel`` lists the open courses that match, from the
cached catalogue; the chosen card's Enroll button opens the bot at that course."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tests.harness import RunningBot


async def test_inline_results_list_the_open_courses_that_match(enrollbot: RunningBot) -> None:
    anna = enrollbot.telegram.user("Anna", language_code="en")
    everything = await anna.inline("")
    assert "VCA Basis" in everything.titles
    assert "EHBO Basis" not in everything.titles  # no dates
    assert "Heftruckchauffeur" not in everything.titles  # inactive
    assert everything.titles == sorted(everything.titles, key=str.casefold)

    excel = await anna.inline("excel")
    assert excel.titles == ["Excel Basis", "Excel Gevorderd"]
    assert excel.is_personal and excel.cache_time == 60
    basis, gevorderd = excel.results
    # The first Excel Basis date is past its deadline, the first Gevorderd one cancelled.
    assert basis.description is not None and basis.description.startswith("EXCEL-B · ")
    assert basis.description.endswith("(7 places)")
    assert gevorderd.description is not None and gevorderd.description.endswith("(6 places)")
    assert [button.text for button in basis.buttons] == ["✍️ Enroll"]

    by_code = await anna.inline("vca-vol")
    assert by_code.titles == ["VCA VOL"]
    assert (await anna.inline("no such course")).results == ()


async def test_typing_costs_no_coachview_request_beyond_the_cached_catalogue(
    enrollbot: RunningBot,
) -> None:
    anna = enrollbot.telegram.user("Anna", language_code="en")
    await anna.inline("")  # every course type and its dates are now in the cache
    asked = len(enrollbot.coachview.requests)
    for query in ("e", "ex", "exc", "exce", "excel", "excel b", "v", "vc", "vca", "bhv", "x"):
        await anna.inline(query)
    again = await anna.inline("excel")
    assert again.cached, "Telegram answered the same query from its cache"
    assert len(enrollbot.coachview.requests) == asked
    queries = [call for call in enrollbot.telegram.calls_to("answerInlineQuery") if call.ok]
    assert len(queries) == 12


async def test_the_shared_card_opens_the_bot_at_that_course(enrollbot: RunningBot) -> None:
    telegram = enrollbot.telegram
    anna = telegram.user("Anna", language_code="nl")
    bert = enrollbot.person("Bert", language_code="en")
    friends = telegram.group("Friends", [anna, bert.user])
    answer = await anna.inline("excel basis")
    [result] = answer.results
    assert result.description is not None and "(7 plekken vrij)" in result.description
    card = anna.choose(answer, 0, into=friends)
    assert card.raw["via_bot"]["username"] == telegram.bot_username
    assert card.text is not None
    assert card.text.startswith("📚 Excel Basis\nDatums: ")
    [button] = card.buttons
    assert button.text == "✍️ Inschrijven"
    assert button.url is not None
    [payload] = parse_qs(urlparse(button.url).query)["start"]
    assert button.url == f"https://t.me/{telegram.bot_username}?start={payload}"

    await bert.say(f"/start {payload}")
    assert "Excel Basis" in bert.text
    assert bert.text.endswith("Which date would you like?")


async def test_an_unreachable_catalogue_gives_no_results_and_the_next_keystroke_tries_again(
    enrollbot: RunningBot,
) -> None:
    anna = enrollbot.telegram.user("Anna", language_code="en")
    enrollbot.coachview.faults.add(path="/api/v1/Opleidingssoorten", status=503)
    failed = await anna.inline("excel")
    assert failed.results == ()
    assert failed.cache_time == 0, "an outage is not cached"
    again = await anna.inline("excel")
    assert not again.cached
    assert again.titles == ["Excel Basis", "Excel Gevorderd"]
