"""Retention on a real SQLite file: one round per interval whatever the number of processes,
and what a round removes and keeps.

Two "processes" are two engines on one file, each with its own Retention job (its own owner),
run from two threads so their claims really meet.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.clock import ManualClock
from bot.coachview.client import CoachviewClient
from bot.config import load_settings
from bot.services import Services
from bot.store import drafts, inbox, notifications, outbox
from bot.store.db import create_tables, open_engine
from bot.store.models import DraftStatus, InboxUpdate, Notification, OutboxEntry
from bot.store.privacy import erase_person, finish_erasures, holdings
from bot.workers.retention import Retention

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[list[Retention]]:
    """Two processes' retention jobs on one database, sharing a manual clock."""
    settings = load_settings(
        env_file=None,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        staff_chat_id=-100,
        default_language="en",
        sent_retention=timedelta(days=30),
    )
    clock = ManualClock(NOW)
    client = CoachviewClient("http://127.0.0.1:9", "id", "secret")
    jobs = []
    for owner in ("a", "b"):
        engine = open_engine(settings.database_url)
        create_tables(engine)
        services = Services(settings=settings, db=engine, coachview=client, clock=clock)
        jobs.append(Retention(services, owner=owner))
    yield jobs
    await client.aclose()
    for job in jobs:
        job.services.db.dispose()


def clock_of(job: Retention) -> ManualClock:
    assert isinstance(job.services.clock, ManualClock)
    return job.services.clock


def test_each_round_is_done_by_one_process_only(processes: list[Retention]) -> None:
    first, second = processes
    together = threading.Barrier(2)
    done: dict[str, list[bool]] = {"a": [], "b": []}

    def work(job: Retention) -> None:
        for number in range(20):
            if number and job is first:
                clock_of(job).advance(job.interval)  # the next round is due
            with contextlib.suppress(threading.BrokenBarrierError):
                together.wait(timeout=30)
            done[job.owner].append(job.run_once() is not None)
            with contextlib.suppress(threading.BrokenBarrierError):
                together.wait(timeout=30)

    threads = [threading.Thread(target=work, args=(job,)) for job in processes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    rounds = list(zip(done["a"], done["b"], strict=True))
    assert len(rounds) == 20
    assert all(a != b for a, b in rounds), "each round by exactly one of the two"

    assert second.run_once() is None, "the round is taken until its interval ran out"
    clock_of(second).advance(second.interval)
    assert second.run_once() is not None


def enroll(job: Retention, *, user: int, at: datetime) -> int:
    """A submitted enrollment of ``user`` (draft, outbox row, confirmation and staff notice)."""
    with job.services.session() as session:
        draft = drafts.create_draft(
            session,
            chat_id=user,
            user_id=user,
            step="REVIEWING",
            data={"contact": {"first_name": "Zorbalina", "email": "z@quix.example"}},
            flow={},
            now=at,
        )
        drafts.close_draft(
            session,
            draft_id=draft.id or 0,
            expected_version=1,
            status=DraftStatus.SUBMITTED,
            now=at,
        )
        entry = outbox.enqueue(
            session,
            draft_id=draft.id or 0,
            reference=f"TG-{user:016X}",
            chat_id=user,
            user_id=user,
            language="en",
            payload={"contactpersoon": {"voornaam": "Zorbalina", "emailadres": "z@quix.example"}},
            summary={"course": "VCA Basis", "contact": "Zorbalina Quix", "participants": 1},
            now=at,
        )
        session.commit()
        entry_id = entry.id or 0
        claimed = outbox.claim_due(session, owner="w", now=at, lease=timedelta(minutes=1))
        assert [row.id for row in claimed] == [entry_id]
        outbox.record_submitted(
            session,
            entry_id=entry_id,
            owner="w",
            coachview_id="c-1",
            nummer=str(1000 + user),
            payment_url="https://pay.example/1",
            now=at,
        )
        for key, chat in ((f"confirm:{entry_id}", user), (f"staff:{entry_id}", -100)):
            notifications.enqueue(
                session, key=key, chat_id=chat, text="Zorbalina Quix: 1001", now=at
            )
        session.commit()
    return entry_id


def test_a_round_removes_personal_data_of_sent_enrollments_after_sent_retention(
    processes: list[Retention],
) -> None:
    job = processes[0]
    clock = clock_of(job)
    old = enroll(job, user=1, at=NOW - timedelta(days=31))
    young = enroll(job, user=2, at=NOW - timedelta(days=29))
    with job.services.session() as session:
        staff_notice = session.exec(
            select(Notification).where(Notification.key == f"staff:{old}")
        ).one()
        notifications.mark_sent(session, notification_id=staff_notice.id or 0, now=NOW)
        connection = session.connection()
        inbox.record(
            connection,
            received={1: {"update_id": 1, "message": {"text": "Zorbalina"}}},
            handled=[],
            now=NOW - timedelta(days=2),
        )
        inbox.record(
            connection,
            received={2: {"update_id": 2, "message": {"text": "fresh"}}},
            handled=[],
            now=NOW,
        )
        session.commit()

    done = job.run_once()

    assert done is not None
    assert (done.sent_cleared, done.texts_cleared, done.updates_dropped) == (1, 1, 1)
    with job.services.session() as session:
        cleared = session.get(OutboxEntry, old)
        kept = session.get(OutboxEntry, young)
        assert cleared is not None and kept is not None
        assert (cleared.payload, cleared.summary, cleared.payment_url) == (
            {},
            {"course": "VCA Basis", "participants": 1},
            None,
        )
        assert (cleared.reference, cleared.coachview_nummer, cleared.user_id) == (
            "TG-0000000000000001",
            "1001",
            1,
        )
        assert cleared.erased_at == NOW and cleared.submitted_at is not None
        assert kept.payload and kept.summary["contact"] == "Zorbalina Quix"
        assert [d.user_id for d in holdings(session, user_id=1).drafts] == []
        assert [d.user_id for d in holdings(session, user_id=2).drafts] == [2]
        texts = {n.key: n.text for n in session.exec(select(Notification)).all()}
        assert texts[f"staff:{old}"] == "", "a sent message keeps its key, not its text"
        assert texts[f"confirm:{old}"] == "Zorbalina Quix: 1001", "still to be sent"
        assert [row.update_id for row in session.exec(select(InboxUpdate)).all()] == [2]

    clock.advance(job.interval)
    again = job.run_once()
    assert again is not None and again.sent_cleared == 0
    clock.advance(timedelta(days=2))
    last = job.run_once()
    assert last is not None and last.sent_cleared == 1  # the younger one's turn came


def test_settings_name_the_retention_and_check_the_contact() -> None:
    settings = load_settings(env_file=None, sent_retention="P7D", privacy_contact=" a@b.nl ")
    assert (settings.sent_retention, settings.privacy_contact) == (timedelta(days=7), "a@b.nl")
    assert load_settings(env_file=None).sent_retention == timedelta(days=30)
    assert load_settings(env_file=None, privacy_contact="https://provider.example/privacy")
    with pytest.raises(Exception, match="PRIVACY_CONTACT: must be an e-mail address"):
        load_settings(env_file=None, privacy_contact="call us")


def test_a_refused_enrollment_is_erased_and_can_no_longer_be_resent(
    processes: list[Retention],
) -> None:
    job = processes[0]
    services = job.services
    with services.session() as session:
        entry = outbox.enqueue(
            session,
            draft_id=7,
            reference="TG-REFUSED",
            chat_id=7,
            user_id=7,
            language="en",
            payload={"contactpersoon": {"voornaam": "Zorbalina"}},
            summary={"course": "VCA Basis", "contact": "Zorbalina Quix", "participants": 1},
            now=NOW,
        )
        session.commit()
        entry_id = entry.id or 0
        assert outbox.claim_due(session, owner="w", now=NOW, lease=timedelta(minutes=1))
        # The person asks /forget while it is being sent; then Coachview refuses it.
        erasure = erase_person(session, user_id=7, now=NOW, cancel=True)
        assert (erasure.cancelled, erasure.waiting) == (0, 1), "leased: it cannot be cancelled"
        outbox.record_rejection(
            session,
            entry_id=entry_id,
            owner="w",
            status=400,
            body='{"errors": {"Contactpersoon.Emailadres": ["Zorbalina"]}}',
            error="CoachviewRejected",
            now=NOW,
        )
        notifications.enqueue(
            session, key=f"rejected:{entry_id}", chat_id=7, text="staff will call", now=NOW
        )
        session.commit()
        assert finish_erasures(session, now=NOW) == [], "the person has not been told yet"
        [told] = session.exec(select(Notification).where(Notification.chat_id == 7)).all()
        notifications.mark_sent(session, notification_id=told.id or 0, now=NOW)
        [finished] = finish_erasures(session, now=NOW)
        session.commit()

        assert (finished.numbers, finished.refused) == ([], 1)
        row = session.get(OutboxEntry, entry_id)
        assert row is not None
        session.refresh(row)
        assert (row.payload, row.response_body, row.user_id, row.chat_id) == ({}, None, 0, 0)
        assert session.exec(select(Notification).where(Notification.chat_id == 7)).all() == []
        assert not outbox.resend(session, entry_id=entry_id, now=NOW), "nothing left to send"


def test_a_staff_member_whose_chat_gets_the_staff_notices_keeps_them_after_forget(
    processes: list[Retention],
) -> None:
    """STAFF_CHAT_ID may be one person's own chat: their /forget leaves the notices about other
    people's enrollments to be sent."""
    job = processes[0]
    other = enroll(job, user=3, at=NOW)
    with job.services.session() as session:
        erasure = erase_person(session, user_id=-100, now=NOW, cancel=False, staff_chat_id=-100)
        session.commit()
        keys = {n.key for n in session.exec(select(Notification)).all()}
    assert erasure.numbers == []
    assert f"staff:{other}" in keys, "the notice about someone else's enrollment stays"
