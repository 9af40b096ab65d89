"""Everything the bot sends with HTML parse mode is valid for Telegram, whatever people type: the
Telegram sandbox parses each text as Telegram does and refuses unsupported or unbalanced tags and
an unescaped ``<``, ``>`` or ``&``. Names, companies and remarks full of markup characters arrive
in reviews, confirmations, staff notices and lookups exactly as typed, as plain text."""

from __future__ import annotations

import json

from tests.e2e.conftest import StaffDesk, text
from tests.enrolling import SEND
from tests.harness import wait_until

COMPANY = '<b>ACME</b> &amp; <a href="https://x.example">Co</a> </i>'
REMARK = "<i>unclosed & <tg-spoiler>x</tg-spoiler> 1 < 2 > 0 &lt;"
EMAIL_TYPED = "<b>anna</b>&@x"
NAMES = {"voornaam": "<b>Jan</b>", "achternaam": "&amp; </i><u>Vries", "tussenvoegsels": "<a>"}


def refused_html(desk: StaffDesk) -> list[str]:
    """The bot's calls the sandbox refused because their text could not be parsed."""
    return [
        str(call.description)
        for call in desk.bot.telegram.calls
        if not call.ok and "parse entities" in str(call.description)
    ]


async def test_typed_markup_arrives_intact_in_review_confirmation_notice_and_lookup(
    desk: StaffDesk,
) -> None:
    kees = desk.kees
    await kees.say("/start VCA-B")
    await kees.tap(kees.buttons[0])
    await kees.answers("Kees", None, "Jansen")
    # An invalid answer is echoed in the error: intact.
    await kees.say(EMAIL_TYPED)
    assert f"“{EMAIL_TYPED}” is not an e-mail address" in kees.text
    await kees.answers("kees@example.nl", "06 12345678", COMPANY, "Yes, I will attend", "No")
    review = await kees.say(REMARK)
    assert COMPANY in text(review), text(review)
    assert REMARK in text(review)
    assert "ACME" not in review.entity_texts("bold")

    await kees.tap(SEND)
    await wait_until(lambda: len(desk.coachview.webaanvragen) == 1, 20, "the webaanvraag sent")
    stored = desk.coachview.webaanvragen[0]
    await wait_until(lambda: len(desk.group.messages) == 1, 20, "the staff notice")
    assert f"Bedrijf: {COMPANY}" in text(desk.group.messages[0])  # the staff chat's language
    await wait_until(lambda: "received" in kees.text, 20, "the confirmation")
    assert f"Its number is {stored.nummer}." in kees.text

    answer = await desk.sam.say(f"/lookup {stored.nummer}")
    assert COMPANY in text(answer)
    assert REMARK in text(answer)
    assert refused_html(desk) == []


async def test_coachview_values_with_markup_arrive_intact_in_lookups_and_searches(
    desk: StaffDesk,
) -> None:
    body = {
        "opmerking": REMARK,
        "contactpersoon": dict(NAMES),
        "bedrijf": {"naam": COMPANY},
    }
    stored = await desk.webaanvraag(json.dumps(body))
    answer = await desk.sam.say(f"/lookup {stored.nummer}")
    for value in (*NAMES.values(), COMPANY, REMARK):
        assert value in text(answer), value
    found = await desk.sam.say("/search <b>Jan")
    assert "<b>Jan</b>" in text(found), text(found)
    assert refused_html(desk) == []
