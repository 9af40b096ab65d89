"""/mydata's summary stays one Telegram message however much a person entered; the file holds
the rest."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.i18n import translator
from bot.store.models import Draft, DraftStatus, OutboxEntry, OutboxStatus
from bot.store.privacy import Holdings
from bot.telegram.limits import MESSAGE_TEXT_MAX
from conversations.privacy import mydata_document, mydata_summary

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FILE_LINE = "The file below holds all of it as it is stored (JSON). /forget erases it."


def entry(number: int) -> OutboxEntry:
    return OutboxEntry(
        id=number,
        draft_id=number,
        reference=f"TG-{number:016X}",
        chat_id=7,
        user_id=7,
        language="en",
        payload={"contactpersoon": {"voornaam": "Anna"}},
        summary={"course": "VCA Basis", "contact": "Anna de Vries", "participants": 1},
        status=OutboxStatus.SUBMITTED,
        coachview_nummer=str(1000 + number),
        next_attempt_at=NOW,
        created_at=NOW,
        submitted_at=NOW,
    )


def test_a_hundred_participants_and_fifteen_enrollments_fit_in_one_message() -> None:
    participants = [
        {"first_name": f"Participant{n}", "last_name": "Vandenberghe-Oosterhuis" * 2}
        for n in range(100)
    ]
    draft = Draft(
        id=99,
        chat_id=7,
        user_id=7,
        step="REVIEWING",
        data={"contact": {"first_name": "Anna"}, "participants": participants},
        status=DraftStatus.OPEN,
        created_at=NOW,
        updated_at=NOW,
    )
    cancelled = Draft(
        id=98,
        chat_id=7,
        user_id=7,
        step="s",
        status=DraftStatus.CANCELLED,
        created_at=NOW,
        updated_at=NOW,
    )
    found = Holdings(7, "nl", [cancelled, draft], [entry(n) for n in range(1, 16)])
    t = translator("en")

    text = mydata_summary(t, found)

    assert len(text) <= MESSAGE_TEXT_MAX
    assert text.endswith("… more in the file.\n\n" + FILE_LINE)
    assert "Participant0 Vandenberghe" in text
    assert "1 enrollment you canceled or started over" in text
    assert "The language you chose: Nederlands" in text
    document = mydata_document(found)
    assert len(document["enrollments_being_filled_in"][1]["answers"]["participants"]) == 100
    assert len(document["confirmed_enrollments"]) == 15

    few = mydata_summary(t, Holdings(7, None, [], [entry(n) for n in range(1, 16)]))
    assert "number <b>1015</b>" in few and "number <b>1005</b>" not in few
    assert few.endswith("… and 5 older ones, in the file.\n\n" + FILE_LINE)
