"""The outbox's rules, on a real SQLite file and a real PostgreSQL database: who may send
which row, and when.

Two "processes" are two engines on one database (each its own connections, as two processes
have), run from two threads so their transactions really meet.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.clock import ManualClock
from bot.coachview.client import CoachviewClient
from bot.coachview.models import CreatedWebaanvraag
from bot.coachview.reference import new_reference
from bot.config import load_settings
from bot.errors import (
    CoachviewAuthError,
    CoachviewError,
    CoachviewForbidden,
    CoachviewNotFound,
    CoachviewRateLimited,
    CoachviewRejected,
    CoachviewUnavailable,
    DraftConflict,
)
from bot.services import Services
from bot.store import drafts, notifications, outbox
from bot.store.db import create_tables, open_engine
from bot.store.models import DraftStatus, Notification, OutboxEntry, OutboxStatus
from bot.workers.exactly_once import is_rejection
from bot.workers.receipts import queue_staff_notice
from bot.workers.submission import SubmissionWorker

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def enqueue(engine: Engine, *, chat: int, draft: int, now: datetime = NOW) -> int:
    with Session(engine) as session:
        entry = outbox.enqueue(
            session,
            draft_id=draft,
            reference=new_reference(),
            chat_id=chat,
            user_id=chat,
            language="en",
            payload={"draft": draft},
            summary={},
            now=now,
        )
        session.commit()
        return entry.id or 0


def claim(engine: Engine, owner: str, now: datetime = NOW, limit: int = 20) -> list[int]:
    with Session(engine) as session:
        return [
            e.id or 0
            for e in outbox.claim_due(session, owner=owner, now=now, lease=LEASE, limit=limit)
        ]


def submitted(engine: Engine, entry_id: int, owner: str) -> bool:
    with Session(engine) as session:
        done = outbox.record_submitted(
            session,
            entry_id=entry_id,
            owner=owner,
            coachview_id="id",
            nummer="1001",
            payment_url=None,
            now=NOW,
        )
        session.commit()
        return done


def next_claimable(engine: Engine) -> datetime | None:
    with Session(engine) as session:
        return outbox.next_claimable(session)


def test_one_persons_enrollments_go_out_one_after_the_other_in_their_order(
    database: Callable[[], Engine],
) -> None:
    engine = database()
    anna_1 = enqueue(engine, chat=1, draft=1)
    bram = enqueue(engine, chat=2, draft=2)
    anna_2 = enqueue(engine, chat=1, draft=3)
    assert claim(engine, "a") == [anna_1, bram]
    assert claim(engine, "b") == [], "all leased; Anna's second waits for her first"
    assert claim(engine, "b", NOW + LEASE) == [anna_1, bram], "even when the leases ran out"
    assert submitted(engine, anna_1, "b")
    assert claim(engine, "a") == [anna_2]


def test_a_refused_enrollment_does_not_hold_up_the_next_one(
    database: Callable[[], Engine],
) -> None:
    engine = database()
    first = enqueue(engine, chat=1, draft=1)
    second = enqueue(engine, chat=1, draft=2)
    assert claim(engine, "a") == [first]
    with Session(engine) as session:
        assert outbox.record_rejection(
            session, entry_id=first, owner="a", status=400, body="{}", error="400", now=NOW
        )
        session.commit()
    assert claim(engine, "a") == [second]


def test_a_leased_row_waits_for_its_lease_and_the_old_owner_is_fenced_off(
    database: Callable[[], Engine],
) -> None:
    engine = database()
    entry = enqueue(engine, chat=1, draft=1)
    assert claim(engine, "a") == [entry]
    assert next_claimable(engine) == NOW + LEASE
    assert claim(engine, "b", NOW + LEASE - timedelta(seconds=1)) == []
    assert claim(engine, "b", NOW + LEASE) == [entry], "a crashed worker's lease ran out"
    # The first owner wakes up: whatever it learnt, it can no longer write.
    with Session(engine) as session:
        assert not outbox.start_attempt(session, entry_id=entry, owner="a", now=NOW, lease=LEASE)
    assert not submitted(engine, entry, "a")
    assert submitted(engine, entry, "b")
    assert next_claimable(engine) is None


def test_the_worker_is_told_when_the_next_row_can_be_claimed(
    database: Callable[[], Engine],
) -> None:
    engine = database()
    assert next_claimable(engine) is None
    anna_1 = enqueue(engine, chat=1, draft=1)
    enqueue(engine, chat=1, draft=2)  # behind Anna's first: not due on its own
    assert next_claimable(engine) == NOW
    assert claim(engine, "a") == [anna_1]
    with Session(engine) as session:
        retry_at = NOW + timedelta(seconds=30)
        outbox.record_failure(
            session,
            entry_id=anna_1,
            owner="a",
            error="x",
            maybe_sent=False,
            retry_at=retry_at,
            now=NOW,
        )
        session.commit()
    assert next_claimable(engine) == retry_at
    assert claim(engine, "a", retry_at - timedelta(microseconds=1)) == []
    assert claim(engine, "a", retry_at) == [anna_1]


def test_two_processes_claiming_at_once_never_get_the_same_row(
    database: Callable[[], Engine],
) -> None:
    first, second = database(), database()
    ids = {enqueue(first, chat=chat, draft=chat) for chat in range(1, 101)}
    together = threading.Barrier(2)
    claimed: dict[str, list[int]] = {"a": [], "b": []}

    def work(engine: Engine, owner: str) -> None:
        while True:
            # Each round both claim at the same moment (until one finds nothing left).
            with contextlib.suppress(threading.BrokenBarrierError):
                together.wait(timeout=30)
            got = claim(engine, owner, limit=7)
            if not got:
                together.abort()
                return
            claimed[owner] += got

    threads = [
        threading.Thread(target=work, args=(first, "a")),
        threading.Thread(target=work, args=(second, "b")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not set(claimed["a"]) & set(claimed["b"])
    assert sorted(claimed["a"] + claimed["b"]) == sorted(ids)
    assert claimed["a"] and claimed["b"]


def test_submit_on_two_devices_at_the_same_moment_makes_one_outbox_row(
    database: Callable[[], Engine],
) -> None:
    """What the submit action does, from two processes at once for the same draft version."""
    first, second = database(), database()
    with Session(first) as session:
        draft = drafts.create_draft(
            session, chat_id=1, user_id=1, step="REVIEWING", data={}, flow={}, now=NOW
        )
        session.commit()
        draft_id, version = draft.id or 0, draft.version
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def press(engine: Engine) -> None:
        start.wait()
        try:
            with Session(engine) as session:
                drafts.close_draft(
                    session,
                    draft_id=draft_id,
                    expected_version=version,
                    status=DraftStatus.SUBMITTED,
                    now=NOW,
                )
                outbox.enqueue(
                    session,
                    draft_id=draft_id,
                    reference=new_reference(),
                    chat_id=1,
                    user_id=1,
                    language="en",
                    payload={},
                    summary={},
                    now=NOW,
                )
                session.commit()
            outcomes.append("queued")
        except DraftConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=press, args=(engine,)) for engine in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["conflict", "queued"]
    with Session(first) as session:
        assert len(outbox.list_entries(session, statuses=list(OutboxStatus))) == 1


@pytest.mark.parametrize(
    ("error", "refused"),
    [
        (CoachviewRejected("400", status=400, body="{}"), True),
        (CoachviewRejected("422", status=422), True),
        (CoachviewForbidden("403", status=403), True),
        (CoachviewNotFound("404", status=404), True),
        (CoachviewAuthError("401", status=401), False),
        (CoachviewUnavailable("500", status=500, maybe_processed=True), False),
        (CoachviewUnavailable("refused"), False),
        (CoachviewRateLimited("429", reset_at=None), False),
        (CoachviewError("201 without a number", status=201, maybe_processed=True), False),
    ],
)
def test_only_coachview_refusing_the_webaanvraag_itself_stops_the_retries(
    error: CoachviewError, refused: bool
) -> None:
    assert is_rejection(error) is refused


@pytest.fixture
async def worker(database_url: str) -> AsyncIterator[SubmissionWorker]:
    """A worker (not running) on an empty database, with a staff chat and a manual clock."""
    settings = load_settings(
        env_file=None,
        database_url=database_url,
        staff_chat_id=-100,
        default_language="en",
        submission_retry_base=timedelta(seconds=5),
        submission_retry_max=timedelta(minutes=30),
        submission_alert_after=timedelta(minutes=30),
    )
    engine = open_engine(settings.database_url)
    create_tables(engine)
    client = CoachviewClient("http://127.0.0.1:9", "id", "secret")
    services = Services(settings=settings, db=engine, coachview=client, clock=ManualClock(NOW))
    yield SubmissionWorker(services, owner="w")
    await client.aclose()
    engine.dispose()


def failing_since(since: datetime | None) -> OutboxEntry:
    return OutboxEntry(
        draft_id=1,
        reference="TG-1",
        chat_id=1,
        user_id=1,
        language="en",
        payload={},
        next_attempt_at=NOW,
        created_at=NOW,
        first_failure_at=since,
    )


def test_waits_grow_with_the_time_a_row_has_been_failing_and_honour_the_reset(
    worker: SubmissionWorker,
) -> None:
    down = CoachviewUnavailable("down")

    def wait(failing_for: timedelta | None, error: CoachviewError = down, **kw: Any) -> float:
        since = NOW - failing_for if failing_for is not None else None
        retry_at = worker.submitter.retry_at(failing_since(since), error, NOW, **kw)
        return (retry_at - NOW).total_seconds()

    for _ in range(50):
        assert 2.5 <= wait(None) <= 5  # the first: the base, with jitter
        assert 2.5 <= wait(timedelta(seconds=3)) <= 5
        assert 30 <= wait(timedelta(minutes=1)) <= 60  # roughly doubling
        assert 15 * 60 <= wait(timedelta(days=3)) <= 30 * 60  # never more than the maximum
    reset = NOW + timedelta(hours=5)
    assert wait(None, CoachviewRateLimited("429", reset_at=reset)) == 5 * 3600
    assert wait(None, not_before=NOW + timedelta(minutes=2)) == 120


def staff_alerts(worker: SubmissionWorker) -> list[str]:
    """The texts of the outbox's alerts to staff, oldest first."""
    query = (
        select(Notification)
        .where(col(Notification.key).startswith("outbox-"))
        .order_by(col(Notification.id))
    )
    with worker.services.session() as session:
        return [row.text for row in session.exec(query).all()]


async def test_staff_hear_once_that_submissions_are_stuck_and_once_that_they_flow(
    worker: SubmissionWorker,
) -> None:
    services = worker.services
    clock = services.clock
    assert isinstance(clock, ManualClock)
    with services.session() as session:
        entry = outbox.enqueue(
            session,
            draft_id=1,
            reference="TG-1",
            chat_id=1,
            user_id=1,
            language="en",
            payload={},
            summary={},
            now=NOW,
        )
        session.commit()
    (claimed,) = claim(services.db, "w")
    with services.session() as session:
        outbox.record_failure(
            session,
            entry_id=claimed,
            owner="w",
            error="CoachviewUnavailable: Coachview could not be reached (ConnectError)",
            maybe_sent=False,
            retry_at=NOW + timedelta(hours=1),
            now=NOW,
        )
        session.commit()
    worker._check_stuck()
    assert staff_alerts(worker) == []  # failing, but not for long yet
    clock.advance(timedelta(minutes=31))
    worker._check_stuck()
    # Another process, or this one after a restart, knows staff were told.
    other = SubmissionWorker(services, owner="other")
    other._check_stuck()
    worker._check_stuck()
    (alert,) = staff_alerts(worker)
    assert "Enrollments are not reaching Coachview: 1 waiting" in alert
    assert "Last error: CoachviewUnavailable: Coachview could not be reached" in alert

    clock.advance(timedelta(hours=1))
    (again,) = claim(services.db, "other", clock.now())
    assert again == entry.id
    assert submitted(services.db, again, "other")
    other._check_stuck()
    worker._check_stuck()
    alerts = staff_alerts(worker)
    assert len(alerts) == 2
    assert alerts[1] == "✅ Enrollments reach Coachview again."
    with services.session() as session:
        assert notifications.latest_key(session, prefixes=("outbox-",)) == (
            "outbox-flowing:" + NOW.isoformat()
        )


async def test_the_staff_notice_of_a_new_enrollment_opens_its_lookup_or_goes_without_a_button(
    worker: SubmissionWorker,
) -> None:
    """A button that opens the lookup by Coachview's id; an id no button can carry (over
    Telegram's 64 bytes) costs the button, never the notice (nor the recording of the row)."""
    services = worker.services
    entry = failing_since(None)
    for entry.id, created in (
        (1, CreatedWebaanvraag(id="3f2a" * 9, nummer="1001")),
        (2, CreatedWebaanvraag(id="x" * 80, nummer="1002")),
    ):
        with services.session() as session:
            queue_staff_notice(session, services.settings, entry, created, NOW)
            session.commit()
    with services.session() as session:
        first, second = session.exec(select(Notification).order_by(col(Notification.id))).all()
    assert first.text.startswith("🆕 New enrollment <b>1001</b>")
    assert first.reply_markup == {
        "inline_keyboard": [[{"text": "🔎 Open", "callback_data": "s:o:" + "3f2a" * 9}]]
    }
    assert second.text.startswith("🆕 New enrollment <b>1002</b>")
    assert second.reply_markup is None
