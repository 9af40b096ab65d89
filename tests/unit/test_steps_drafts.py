"""A draft saved by the version before the typed progress (its ``flow`` a loose dict, keys of
a later version too) resumes where it was: the edit from the review still comes back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.enrollment import Contact, Enrollment, Participant
from bot.store import drafts
from conversations import enrollment as spec
from conversations.runner import state_of
from conversations.steps import Input
from tests.unit.test_steps import Talk, reads

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_a_draft_saved_by_the_old_code_resumes(database: Callable[[], Engine]) -> None:
    engine = database()
    answers = Enrollment(
        contact=Contact(first_name="Anna", last_name="Dijk", email="anna@example.nl"),
        attending=False,
        participants=[
            Participant(first_name="Bram", last_name="Vos"),
            Participant(first_name="Cor", last_name="Mol", email="cor@example.nl"),
        ],
    )
    old_flow = {  # as the old code wrote it: an edit of participant 1's e-mail from the review
        "cursor": 0,
        "return_to": "REVIEWING",
        "return_after": "TYPING_PARTICIPANT_EMAIL",
        "restart_with": "",
        "page": 0,
        "a_key_of_another_version": {"x": 1},
    }
    with Session(engine) as session:
        drafts.create_draft(
            session,
            chat_id=5,
            user_id=5,
            step=spec.TYPING_PARTICIPANT_EMAIL,
            data=answers.model_dump(mode="json"),
            flow=old_flow,
            now=NOW,
        )
        session.commit()
    with Session(engine) as session:
        draft = drafts.get_open_draft(session, chat_id=5)
        assert draft is not None
        state = state_of(draft)
    talk = Talk(reads())
    await talk.begin(state)
    assert "Participant 1: What is their e-mail address?" in talk.text
    outcome = await talk.send(Input("text", text="bram@example.nl"))
    assert outcome.happened == "moved" and talk.step == spec.REVIEWING
    assert "1. Bram Vos, bram@example.nl" in talk.text
    assert "2. Cor Mol, cor@example.nl" in talk.text
    assert talk.state.progress.return_to is None  # the edit is over
