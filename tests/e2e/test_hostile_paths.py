"""No typed text in a URL: every input that can reach the Coachview client, fed a corpus of
traversal, encoding and injection payloads, leaves only the paths the client means to call in
the Coachview sandbox's record of raw (undecoded) request paths."""

from __future__ import annotations

import re

from sandbox.coachview import CoachviewSandbox
from tests.e2e.conftest import StaffDesk

#: Every path the client means to call: the token, an entity's list, one record by its GUID.
ALLOWED = re.compile(
    r"/auth/connect/token"
    r"|/api/v1/(?:Opleidingssoorten|Opleidingen|Webaanvragen|WebaanvraagOpleidingen"
    r"|WebaanvraagDeelnemers)(?:/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?"
)

GUID = "47a8c98a-1b2c-4d5e-8f90-123456789abc"

#: Payloads none of which is a GUID or a course code (32).
CORPUS: tuple[str, ...] = (
    "../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%252e%252e%252f",
    "..",
    ".",
    "..\\..\\windows\\win.ini",
    "a\x00b",
    "%00",
    "x?where=id>0",
    "x#fragment",
    "a;b",
    "a,b",
    "code=x;id>0",
    "\u2025\uff0fetc\uff0fpasswd",
    "\uff0e\uff0e\uff0f\uff0e\uff0e\uff0f",
    "\u2024\u2024/admin",
    "A" * 3000,
    f"{GUID}/../../Webaanvragen",
    f"{GUID}%2f..%2f..",
    f"{GUID}?take=100000",
    f"urn:uuid:{GUID}",
    f" {GUID}/",
    "PC-KLAS-77-Utrecht/../x",
    "//evil.example/x",
    "http://evil.example/",
    "\r\nHost: evil.example",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "$(id)",
    "*",
    "-",
)


def _outside(coachview: CoachviewSandbox) -> list[str]:
    return [r.raw_path for r in coachview.requests if not ALLOWED.fullmatch(r.raw_path)]


async def test_deep_links_that_are_no_id_or_code_ask_coachview_nothing(desk: StaffDesk) -> None:
    bot = desk.bot
    warm = bot.person("Warm")
    await warm.say("/start")  # the catalogue is cached now
    before = len(desk.coachview.requests)
    for index, payload in enumerate(CORPUS):
        person = bot.person(f"P{index}")
        answer = await person.say(f"/start {payload}")
        assert "I do not know the course in that link" in (answer.text or ""), payload
    assert len(desk.coachview.requests) == before
    assert _outside(desk.coachview) == []


async def test_staff_commands_and_forged_buttons_stay_on_the_clients_paths(
    desk: StaffDesk,
) -> None:
    sam, kees = desk.sam, desk.kees
    await sam.say("/recent")
    await kees.say("/start")
    staff_message, person_message = sam.screen, kees.screen
    for payload in CORPUS:
        for command in ("/lookup", "/search", "/recent"):
            await sam.user.send(f"{command} {payload}")
        short = payload.encode()[:56].decode(errors="ignore") or "x"
        for data in (f"s:o:{short}", f"s:f:0:{short}", f"s:r:{short}", short):
            answer = await sam.user.press_forged(data, message=staff_message)
            assert answer is not None
        await kees.user.press_forged(short, message=person_message)
        await kees.user.press_forged(f"s:o:{short}", message=person_message)
    await desk.bot.settle()
    assert _outside(desk.coachview) == []
    # Each command was answered (an error, nothing found, or a usage hint), never silence.
    answered = sum(1 for message in sam.user.messages if message.text)
    assert answered >= 3 * len(CORPUS)
