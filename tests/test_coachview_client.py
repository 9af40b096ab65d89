"""The Coachview client against the Coachview sandbox, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.clock import ManualClock
from bot.coachview.client import CoachviewClient, parse_reset
from bot.coachview.guesses import Guess
from bot.coachview.models import (
    COACHVIEW_TZ,
    CreatedWebaanvraag,
    Opleiding,
    SkippedRecord,
    Webaanvraag,
    format_filter_date,
)
from bot.config import Settings
from bot.errors import (
    CoachviewAuthError,
    CoachviewForbidden,
    CoachviewNotFound,
    CoachviewRateLimited,
    CoachviewRejected,
    CoachviewUnavailable,
)
from sandbox.coachview import CoachviewSandbox
from tests.coachview_fixtures import (  # noqa: F401 - the *_fixture names are fixtures
    START,
    client_fixture,
    clock_fixture,
    make_client_fixture,
    problem_errors,
    sandbox_fixture,
    webaanvraag_body,
)
from tests.waiting import wait_until

MakeClient = Callable[..., CoachviewClient]
WEBAANVRAGEN = "/api/v1/Webaanvragen"
TOKEN = "/auth/connect/token"


def token_requests(sandbox: CoachviewSandbox) -> int:
    return len(sandbox.requests_to(TOKEN))


# -- Authentication ----------------------------------------------------------------------------


async def test_many_calls_share_one_token(client: CoachviewClient, sandbox: CoachviewSandbox):
    for _ in range(5):
        await client.list_webaanvragen()
    await client.create_webaanvraag(webaanvraag_body())

    assert token_requests(sandbox) == 1
    assert client.request_counts == {"token": 1, "api": 6}


async def test_token_is_renewed_shortly_before_it_expires(
    client: CoachviewClient, sandbox: CoachviewSandbox, clock: ManualClock
):
    await client.list_webaanvragen()
    clock.advance(timedelta(minutes=58))  # lifetime 1 h: still well within it
    await client.list_webaanvragen()
    assert token_requests(sandbox) == 1

    clock.advance(timedelta(minutes=1, seconds=30))  # inside the last minute: renew first
    await client.list_webaanvragen()

    assert token_requests(sandbox) == 2
    assert all(r.status != 401 for r in sandbox.requests)


async def test_401_renews_the_token_and_repeats_the_call_once(
    client: CoachviewClient, sandbox: CoachviewSandbox
):
    await client.list_webaanvragen()
    sandbox.expire_tokens()

    created = await client.create_webaanvraag(webaanvraag_body())

    posts = [r.status for r in sandbox.requests_to(WEBAANVRAGEN, "POST")]
    assert posts == [401, 201]
    assert token_requests(sandbox) == 2
    assert [w.nummer for w in sandbox.webaanvragen] == [int(created.nummer)]


async def test_a_second_401_is_an_auth_error(client: CoachviewClient, sandbox: CoachviewSandbox):
    sandbox.faults.add(path=WEBAANVRAGEN, status=401, times=2)

    with pytest.raises(CoachviewAuthError) as caught:
        await client.create_webaanvraag(webaanvraag_body())

    assert caught.value.status == 401
    # Neither an outage nor a rejection: the outbox keeps the row until staff fix the client.
    assert (caught.value.retryable, caught.value.rejection) == (False, False)
    assert len(sandbox.requests_to(WEBAANVRAGEN)) == 2  # the call and its one repetition
    assert token_requests(sandbox) == 2
    assert sandbox.webaanvragen == []


async def test_refused_credentials_are_an_auth_error_without_the_secret(
    make_client: MakeClient, sandbox: CoachviewSandbox, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    client = make_client(client_secret="not-the-Secret-42")

    with pytest.raises(CoachviewAuthError) as caught:
        await client.list_webaanvragen()

    assert "invalid_client" in str(caught.value)
    assert "not-the-Secret-42" not in f"{caught.value!s} {caught.value!r} {caught.value.body}"
    assert "not-the-Secret-42" not in caplog.text
    assert sandbox.requests_to(WEBAANVRAGEN) == []


async def test_concurrent_calls_share_one_token_request(
    client: CoachviewClient, sandbox: CoachviewSandbox
):
    await asyncio.gather(*(client.list_webaanvragen() for _ in range(25)))
    assert token_requests(sandbox) == 1

    sandbox.expire_tokens()
    await asyncio.gather(*(client.list_webaanvragen() for _ in range(25)))

    assert token_requests(sandbox) == 2
    assert len(sandbox.requests_to(WEBAANVRAGEN)) == 75  # 25, then 25 refused and 25 repeated


async def test_a_caller_cancelled_during_the_token_request_leaves_the_others_a_token(
    client: CoachviewClient, sandbox: CoachviewSandbox
):
    sandbox.faults.add(path=TOKEN, action="hold")
    first = asyncio.create_task(client.list_webaanvragen())
    await wait_until(
        lambda: sandbox.faults.held == 1, 10, "the token request"
    )  # its token request is under way
    second = asyncio.create_task(client.list_webaanvragen())

    first.cancel()  # e.g. the person's update was cancelled: the renewal must not stay locked
    with pytest.raises(asyncio.CancelledError):
        await first
    sandbox.faults.release()

    assert await second == []
    await client.create_webaanvraag(webaanvraag_body())
    assert len(sandbox.webaanvragen) == 1


async def test_a_scope_the_client_lacks_is_forbidden(
    make_client: MakeClient, sandbox: CoachviewSandbox
):
    sandbox.add_client("lezer", "lezer-geheim", scopes=["api", "Webaanvragen.Lezen"])
    reader = make_client(client_id="lezer", client_secret="lezer-geheim")

    assert await reader.list_webaanvragen() == []
    with pytest.raises(CoachviewForbidden):
        await reader.create_webaanvraag(webaanvraag_body())
    assert sandbox.webaanvragen == []

    greedy = make_client(
        client_id="lezer", client_secret="lezer-geheim", scope="api Webaanvragen.Schrijven"
    )
    with pytest.raises(CoachviewAuthError, match="invalid_scope"):
        await greedy.list_webaanvragen()


async def test_from_settings_uses_the_configured_credentials(
    sandbox: CoachviewSandbox, clock: ManualClock
):
    settings = Settings(
        coachview_base_url=sandbox.url,
        coachview_client_id=sandbox.client_id,
        coachview_client_secret=sandbox.client_secret,
        coachview_scope="api Webaanvragen.Lezen Webaanvragen.Schrijven",
    )
    async with CoachviewClient.from_settings(settings, clock=clock) as configured:
        created = await configured.create_webaanvraag(webaanvraag_body())
        assert (await configured.get_webaanvraag(str(created.id))).nummer == created.nummer

    async with CoachviewClient.from_settings(Settings(), base_url=sandbox.url) as demo:
        assert len(await demo.list_opleidingssoorten()) == 9


# -- Rate limit --------------------------------------------------------------------------------


async def test_429_gives_the_reset_time_and_nothing_is_sent_until_then(
    client: CoachviewClient, sandbox: CoachviewSandbox, clock: ManualClock
):
    await client.list_webaanvragen()
    reset_at = START + timedelta(hours=3, minutes=7)
    sandbox.set_budget(remaining=0, reset_at=reset_at)

    with pytest.raises(CoachviewRateLimited) as caught:
        await client.create_webaanvraag(webaanvraag_body())
    assert caught.value.reset_at == reset_at
    assert client.budget.remaining == 0

    sent = len(sandbox.requests)
    with pytest.raises(CoachviewRateLimited) as again:
        await client.list_webaanvragen()
    assert again.value.reset_at == reset_at
    assert len(sandbox.requests) == sent  # known spent: not even tried

    clock.advance(timedelta(hours=3, minutes=8))
    await client.create_webaanvraag(webaanvraag_body())
    assert len(sandbox.webaanvragen) == 1


async def test_budget_is_read_from_every_answer(
    client: CoachviewClient, sandbox: CoachviewSandbox
):
    await client.list_webaanvragen()

    assert client.budget.remaining == sandbox.budget.remaining == 4998  # token + one call
    assert client.budget.reset_at == sandbox.budget.reset_at == START + timedelta(days=1)
    assert client.budget.period == "1d"
    assert client.budget.limit == 5000

    with pytest.raises(CoachviewNotFound):
        await client.get_webaanvraag("00000000-0000-0000-0000-000000000001")
    assert client.budget.remaining == 4997  # error answers carry the headers too


async def test_a_numeric_limit_header_is_the_limit(clock: ManualClock):
    async with (
        CoachviewSandbox(clock=clock, daily_limit=40, limit_header="count") as sandbox,
        CoachviewClient(sandbox.url, sandbox.client_id, sandbox.client_secret, clock=clock) as c,
    ):
        await c.list_webaanvragen()
        assert (c.budget.limit, c.budget.remaining, c.budget.period) == (40, 38, None)


async def test_low_budget_is_warned_once_per_crossing(
    client: CoachviewClient,
    sandbox: CoachviewSandbox,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
):
    await client.list_webaanvragen()
    sandbox.set_budget(remaining=503)  # 10 % of 5000 is 500

    with caplog.at_level(logging.WARNING, logger="bot.coachview"):
        for _ in range(6):
            await client.list_webaanvragen()
        low = [r for r in caplog.records if "budget is low" in r.getMessage()]
        assert len(low) == 1
        assert "499 of 5000" in low[0].getMessage()

        clock.advance(timedelta(days=1))  # renewed: the next crossing is warned again
        await client.list_webaanvragen()
        sandbox.set_budget(remaining=100)
        await client.list_webaanvragen()
        await client.list_webaanvragen()
    assert len([r for r in caplog.records if "budget is low" in r.getMessage()]) == 2


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("2026-03-03T08:00:00.0000000Z", datetime(2026, 3, 3, 8, 0, tzinfo=UTC)),
        ("2026-03-03T09:00:00+01:00", datetime(2026, 3, 3, 8, 0, tzinfo=UTC)),
        ("2026-03-03T08:00:00", datetime(2026, 3, 3, 8, 0, tzinfo=UTC)),
        ("1772524800", datetime(2026, 3, 3, 8, 0, tzinfo=UTC)),
        ("90", START + timedelta(seconds=90)),
        ("Tue, 03 Mar 2026 08:00:00 GMT", datetime(2026, 3, 3, 8, 0, tzinfo=UTC)),
        ("soon", None),
        (None, None),
    ],
)
def test_reset_header_forms(header: str | None, expected: datetime | None):
    assert parse_reset(header, START) == expected


async def test_retry_after_gives_the_reset_when_the_reset_header_is_absent(
    client: CoachviewClient, sandbox: CoachviewSandbox
):
    sandbox.faults.add(
        path=WEBAANVRAGEN,
        status=429,
        body="API calls quota exceeded!",
        headers={"Retry-After": "600", "X-Rate-Limit-Reset": ""},
    )
    with pytest.raises(CoachviewRateLimited) as caught:
        await client.list_webaanvragen()
    assert caught.value.reset_at == START + timedelta(minutes=10)


# -- Failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_is_unavailable_and_maybe_processed(
    client: CoachviewClient, sandbox: CoachviewSandbox, status: int
):
    sandbox.faults.add(method="POST", path=WEBAANVRAGEN, status=status)

    with pytest.raises(CoachviewUnavailable) as caught:
        await client.create_webaanvraag(webaanvraag_body())

    assert caught.value.status == status
    assert caught.value.maybe_processed
    assert caught.value.retryable
    assert not caught.value.rejection  # the outbox looks for it, then sends it again
    await client.create_webaanvraag(webaanvraag_body())  # the fault was for one request
    assert len(sandbox.webaanvragen) == 1


async def test_a_read_timeout_is_unavailable_and_maybe_processed(
    make_client: MakeClient, sandbox: CoachviewSandbox
):
    impatient = make_client(timeout=httpx.Timeout(5.0, read=0.2))
    sandbox.faults.add(method="POST", path=WEBAANVRAGEN, action="delay", delay=3.0)

    with pytest.raises(CoachviewUnavailable) as caught:
        await impatient.create_webaanvraag(webaanvraag_body(opmerking="test\nbot-timeout"))

    assert caught.value.maybe_processed
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    # It was acted on: the outbox's look-up before sending again finds it.
    found = await impatient.find_webaanvraag_by_reference("bot-timeout")
    assert found is not None
    assert found.opmerking == "test\nbot-timeout"


async def test_a_dropped_answer_is_unavailable_and_maybe_processed(
    client: CoachviewClient, sandbox: CoachviewSandbox
):
    sandbox.faults.add(method="POST", path=WEBAANVRAGEN, action="drop")

    with pytest.raises(CoachviewUnavailable) as caught:
        await client.create_webaanvraag(webaanvraag_body(opmerking="test\nbot-drop"))

    assert caught.value.maybe_processed
    assert sandbox.requests_to(WEBAANVRAGEN, "POST")[-1].status == "dropped"
    found = await client.find_webaanvraag_by_reference("bot-drop")
    assert found is not None
    assert found.nummer == str(sandbox.webaanvragen[0].nummer)


async def test_a_refused_connection_is_unavailable_and_not_processed(
    client: CoachviewClient, sandbox: CoachviewSandbox
):
    created = await client.create_webaanvraag(webaanvraag_body())
    await sandbox.stop()

    with pytest.raises(CoachviewUnavailable) as caught:
        await client.create_webaanvraag(webaanvraag_body())
    assert not caught.value.maybe_processed
    assert caught.value.retryable

    await sandbox.start()  # the same port, the same data
    assert (await client.get_webaanvraag(str(created.id))).nummer == created.nummer
    assert len(sandbox.webaanvragen) == 1


async def test_a_refused_token_request_means_the_call_was_not_sent(
    client: CoachviewClient, sandbox: CoachviewSandbox
):
    sandbox.faults.add(path=TOKEN, action="drop")

    with pytest.raises(CoachviewUnavailable) as caught:
        await client.create_webaanvraag(webaanvraag_body())

    assert not caught.value.maybe_processed
    assert sandbox.requests_to(WEBAANVRAGEN) == []


async def test_a_400_is_rejected_with_the_problem_details(
    client: CoachviewClient, sandbox: CoachviewSandbox
):
    with pytest.raises(CoachviewRejected) as caught:
        await client.create_webaanvraag({"opmerking": "zonder contactpersoon"})

    assert caught.value.status == 400
    assert not caught.value.retryable
    assert caught.value.rejection  # the outbox gives this webaanvraag up and tells staff
    assert "Contactpersoon" in problem_errors(caught.value.body)
    assert sandbox.webaanvragen == []


async def test_an_unknown_id_is_not_found(client: CoachviewClient):
    with pytest.raises(CoachviewNotFound):
        await client.get_webaanvraag("3f2504e0-4f89-11d3-9a0c-0305e82c3301")
    with pytest.raises(CoachviewNotFound):
        await client.get_opleiding("3f2504e0-4f89-11d3-9a0c-0305e82c3301")


# -- Webaanvragen: create, read, page, filter --------------------------------------------------


async def test_created_webaanvraag_reads_back(client: CoachviewClient, sandbox: CoachviewSandbox):
    seed = sandbox.catalogue.seed
    created = await client.create_webaanvraag(
        webaanvraag_body(
            referentieNrKlant="bot-1",
            contactpersoon={
                "voornaam": "Jan",
                "tussenvoegsels": "van der",
                "achternaam": "Berg",
                "emailadres": "jan@example.org",
            },
            deelnemers=[{"voornaam": "Piet", "achternaam": "Bakker"}],
            opleidingen=[{"opleidingssoortId": seed.open_soort, "opleidingId": seed.open_run}],
        )
    )
    assert isinstance(created, CreatedWebaanvraag)
    assert created.betaalprovider_redirect_url is None

    stored = await client.get_webaanvraag(str(created.id))
    assert isinstance(stored, Webaanvraag)
    assert stored.nummer == created.nummer
    assert stored.referentie_nr_klant == "bot-1"
    assert stored.contactpersoon is not None
    assert stored.contactpersoon.tussenvoegsels == "van der"
    assert (stored.aantal_deelnemers, stored.contactpersoon_is_deelnemer) == (1, False)
    assert stored.aanvraag_datum == START

    [course] = await client.list_webaanvraag_opleidingen(str(created.id))
    run = sandbox.catalogue.opleiding(seed.open_run)
    assert run is not None
    assert (course.opleidingssoort_code, course.opleiding_code) == ("VCA-B", run["code"])
    assert course.start_datum is not None
    assert course.start_datum.tzinfo == COACHVIEW_TZ
    [other] = await client.list_webaanvraag_deelnemers(str(created.id))
    assert (other.voornaam, other.achternaam) == ("Piet", "Bakker")


async def test_a_paid_course_type_gives_a_payment_url(
    client: CoachviewClient, sandbox: CoachviewSandbox
):
    created = await client.create_webaanvraag(
        webaanvraag_body(opleidingen=[{"opleidingssoortId": sandbox.catalogue.seed.paid_soort}])
    )
    assert created.betaalprovider_redirect_url is not None
    assert created.betaalprovider_redirect_url.startswith(sandbox.url)


@pytest.mark.parametrize(
    ("field", "carrying"),
    [
        ("referentieNrKlant", lambda ref: {"referentieNrKlant": ref}),
        ("opmerking", lambda ref: {"opmerking": f"Graag koffie\n{ref}"}),
        ("vrijevelden.TelegramRef", lambda ref: {"vrijevelden": {"TelegramRef": ref}}),
    ],
)
async def test_find_by_reference(make_client: MakeClient, clock: ManualClock, field, carrying):
    client = make_client(reference_field=field)
    await client.create_webaanvraag(webaanvraag_body(**carrying("bot-a")))
    clock.advance(timedelta(days=3))
    confirmed_at = clock.now()
    wanted = await client.create_webaanvraag(webaanvraag_body(**carrying("bot-b")))

    found = await client.find_webaanvraag_by_reference("bot-b", since=confirmed_at)
    assert found is not None
    assert found.nummer == wanted.nummer
    assert await client.find_webaanvraag_by_reference("bot-c", since=confirmed_at) is None
    # Without a start, the newest are looked through: a staff member's /lookup TG-...
    older = await client.find_webaanvraag_by_reference("bot-a")
    assert older is not None
    assert older.nummer != wanted.nummer
    if field != "referentieNrKlant":  # (that one is filtered for directly)
        # The one received days before the enrollment was confirmed is not a candidate.
        assert await client.find_webaanvraag_by_reference("bot-a", since=confirmed_at) is None
    with pytest.raises(ValueError, match="filter value"):
        await client.find_webaanvraag_by_reference("bot-a,bot-b")


async def test_paging_with_skip_and_take(client: CoachviewClient):
    nummers = [
        (await client.create_webaanvraag(webaanvraag_body(opmerking=str(i)))).nummer
        for i in range(7)
    ]

    pages = [await client.list_webaanvragen(skip=skip, take=3) for skip in (0, 3, 6, 9)]

    assert [len(page) for page in pages] == [3, 3, 1, 0]
    assert [w.nummer for page in pages for w in page] == nummers
    with pytest.raises(CoachviewRejected):
        await client.list_webaanvragen(take=101)


async def test_filters_and_ordering(client: CoachviewClient, clock: ManualClock):
    people = [
        ("Anna", "Jansen", "anna@example.org", "ref-1", 0),
        ("Bert", "Jansen", "bert@example.org", "ref-2", 2),
        ("Carla", "de Vries", "carla@example.org", "ref-3", 1),
    ]
    for voornaam, achternaam, email, ref, extra in people:
        await client.create_webaanvraag(
            webaanvraag_body(
                referentieNrKlant=ref,
                contactpersoon={
                    "voornaam": voornaam,
                    "achternaam": achternaam,
                    "emailadres": email,
                },
                deelnemers=[{"voornaam": f"D{i}", "achternaam": "X"} for i in range(extra)],
            )
        )
        clock.advance(timedelta(days=2))

    def names(found: list[Webaanvraag]) -> list[str | None]:
        return [w.contactpersoon.voornaam if w.contactpersoon else None for w in found]

    any_of = await client.list_webaanvragen(where="referentieNrKlant=ref-1,ref-3")
    assert names(any_of) == ["Anna", "Carla"]
    both = await client.list_webaanvragen(
        where="contactpersoon.achternaam=jansen;aantalDeelnemers>=2"
    )
    assert names(both) == ["Bert"]
    nested = await client.list_webaanvragen(where="contactpersoon.emailadres=CARLA@example.org")
    assert names(nested) == ["Carla"]
    since = format_filter_date(START + timedelta(days=2))
    assert names(await client.list_webaanvragen(where=f"aanvraagDatum>={since}")) == [
        "Bert",
        "Carla",
    ]
    assert names(await client.list_webaanvragen(where=f"aanvraagDatum<{since}")) == ["Anna"]
    newest_first = await client.list_webaanvragen(orderby="nummer desc")
    assert names(newest_first) == ["Carla", "Bert", "Anna"]
    by_count = await client.list_webaanvragen(orderby="aantalDeelnemers asc", take=2)
    assert names(by_count) == ["Anna", "Carla"]
    with pytest.raises(CoachviewRejected) as caught:
        await client.list_webaanvragen(where="schoenmaat=42")
    assert "schoenmaat" in problem_errors(caught.value.body)


# -- The catalogue -----------------------------------------------------------------------------


async def test_course_types_offered_and_hidden(client: CoachviewClient, sandbox: CoachviewSandbox):
    offered = await client.list_opleidingssoorten()

    seed = sandbox.catalogue.seed
    assert len(offered) == 9
    hidden = {seed.inactive_soort, seed.unpublished_soort, seed.retired_soort}
    assert not hidden & {s.id for s in offered}
    assert "VCA Basis" in [s.naam for s in offered]
    # Coachview selects them, as live enrollment sites ask; the retired status is the bot's
    # own second line (Coachview sends that type along).
    (request,) = sandbox.requests_to("/api/v1/Opleidingssoorten")
    assert request.query["where"] == "publicatieWebsite=true;inactief=false"


async def test_closed_course_types_are_found_by_id_or_code(
    client: CoachviewClient, sandbox: CoachviewSandbox
):
    seed = sandbox.catalogue.seed
    by_code = await client.find_opleidingssoort("inc")
    assert by_code is not None
    assert by_code.id == seed.unpublished_soort
    assert not by_code.offered
    by_id = await client.find_opleidingssoort(seed.retired_soort)
    assert by_id is not None
    assert by_id.opleidingssoort_status_id == "Vervallen"
    assert not by_id.offered
    assert await client.find_opleidingssoort("no-such-course") is None
    assert await client.find_opleidingssoort("3f2504e0-4f89-11d3-9a0c-0305e82c3301") is None
    assert await client.find_opleidingssoort("a,b") is None  # not a filter value: unknown
    # Found or not, the answer is kept for the catalogue's lifetime.
    before = len(sandbox.requests)
    assert await client.find_opleidingssoort("INC") == by_code
    assert await client.find_opleidingssoort("no-such-course") is None
    assert len(sandbox.requests) == before


async def test_runs_are_upcoming_all_pages_earliest_first(
    make_client: MakeClient, sandbox: CoachviewSandbox, clock: ManualClock
):
    client = make_client(page_size=5)
    seed = sandbox.catalogue.seed

    runs = await client.list_opleidingen(seed.paged_soort)

    assert len(runs) == 12
    requests = sandbox.requests_to("/api/v1/Opleidingen")
    assert len(requests) == 3  # 5 + 5 + 2
    assert requests[0].query["where"] == (
        f"opleidingssoortId={seed.paged_soort};opleidingStatusId=TeStarten,Definitief;"
        f"startDatum>={format_filter_date(clock.now())};publicatie=true"
    )
    starts = [run.start_datum for run in runs]
    assert starts == sorted(starts)  # type: ignore[type-var]
    assert all(run.opleidingssoort_id == seed.paged_soort for run in runs)

    leidinggeven = sandbox.catalogue.soort("LG")
    assert leidinggeven is not None
    upcoming = {run.id for run in await client.list_opleidingen(leidinggeven["id"])}
    assert seed.started_run not in upcoming  # it began two days ago
    assert len(upcoming) == 1
    assert await client.list_opleidingen(seed.empty_soort) == []
    # Cancelled and unpublished runs are not sent at all.
    excel = {run.id for run in await client.list_opleidingen(seed.open_soort)}
    excel |= {
        run.id
        for soort in ("EXCEL-B", "EXCEL-G")
        for run in await runs_of_code(client, sandbox, soort)
    }
    assert len(excel) == 6
    assert not {seed.cancelled_run, seed.unpublished_run} & excel


async def runs_of_code(
    client: CoachviewClient, sandbox: CoachviewSandbox, code: str
) -> list[Opleiding]:
    soort = sandbox.catalogue.soort(code)
    assert soort is not None
    return await client.list_opleidingen(soort["id"])


async def test_a_record_the_bot_cannot_use_is_skipped_with_one_warning(
    make_client: MakeClient,
    sandbox: CoachviewSandbox,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
):
    client = make_client(page_size=5)
    seed = sandbox.catalogue.seed
    runs = sandbox.catalogue.runs_of(seed.paged_soort)
    nameless, idless = runs[1], runs[6]
    nameless["naam"] = None
    lost_id = idless.pop("id")
    runs[8]["deadlineInschrijven"] = "binnenkort"  # junk where the bot needs nothing: kept
    sandbox.catalogue.opleidingssoorten[0]["naam"] = ""

    with caplog.at_level(logging.WARNING, logger="bot.coachview"):
        offered = await client.list_opleidingen(seed.paged_soort)
        types = await client.list_opleidingssoorten()

    # The rest is offered; a skipped record does not end the paging early (5 + 5 + 2).
    assert len(offered) == 10
    assert nameless["id"] not in {run.id for run in offered}
    assert runs[8]["id"] in {run.id for run in offered}
    assert len(sandbox.requests_to("/api/v1/Opleidingen")) == 3
    assert len(types) == 8
    assert client.skipped_records == [
        SkippedRecord("Opleidingen", nameless["id"], "naam", "Input should be a valid string"),
        SkippedRecord("Opleidingen", None, "id", "missing"),
        SkippedRecord(
            "Opleidingssoorten",
            sandbox.catalogue.opleidingssoorten[0]["id"],
            "naam",
            "unreadable value",
        ),
    ]
    warnings = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(warnings) == 3
    assert nameless["id"] in warnings[0]
    assert "'naam'" in warnings[0]

    # The next fetch of the same list: the same skips, no new warnings.
    caplog.clear()
    clock.advance(timedelta(minutes=11))
    with caplog.at_level(logging.WARNING, logger="bot.coachview"):
        assert len(await client.list_opleidingen(seed.paged_soort)) == 10
    assert not [r for r in caplog.records if "skipped" in r.getMessage()]
    assert len(client.skipped_records) == 3

    # Repaired in Coachview: the skips go with the next fetch.
    nameless["naam"] = "BHV Basis Zwolle"
    idless["id"] = lost_id
    clock.advance(timedelta(minutes=11))
    assert len(await client.list_opleidingen(seed.paged_soort)) == 12
    assert [skip.entity for skip in client.skipped_records] == ["Opleidingssoorten"]


async def test_which_runs_are_open_for_enrollment(
    client: CoachviewClient, sandbox: CoachviewSandbox, clock: ManualClock
):
    seed = sandbox.catalogue.seed
    now = clock.now()

    async def run(run_id: str) -> Opleiding:
        return await client.get_opleiding(run_id)

    assert (await run(seed.open_run)).open_for_enrollment(now)
    assert (await run(seed.full_run)).aantal_plaatsen_vrij == 0
    assert not (await run(seed.full_run)).open_for_enrollment(now)
    # Runs Coachview's list leaves out, named by id (a deep link), are closed here as well.
    assert not (await run(seed.unpublished_run)).open_for_enrollment(now)
    assert not (await run(seed.cancelled_run)).open_for_enrollment(now)
    assert not (await run(seed.started_run)).open_for_enrollment(now)


async def test_catalogue_is_cached_for_its_lifetime(
    client: CoachviewClient, sandbox: CoachviewSandbox, clock: ManualClock
):
    seed = sandbox.catalogue.seed
    first = await client.list_opleidingen(seed.open_soort)
    await client.list_opleidingssoorten()
    clock.advance(timedelta(minutes=9, seconds=59))
    assert await client.list_opleidingen(seed.open_soort) == first
    await client.list_opleidingssoorten()
    assert await client.get_opleiding(seed.open_run) == first[0]  # from the cache
    assert len(sandbox.requests_to("/api/v1/Opleidingen")) == 1
    assert len(sandbox.requests_to("/api/v1/Opleidingssoorten")) == 1
    assert sandbox.requests_to(f"/api/v1/Opleidingen/{seed.open_run}") == []

    run = sandbox.catalogue.opleiding(seed.open_run)
    assert run is not None
    run["aantalPlaatsenVrij"] = 1
    clock.advance(timedelta(seconds=2))

    again = await client.list_opleidingen(seed.open_soort)
    assert again[0].aantal_plaatsen_vrij == 1
    assert len(sandbox.requests_to("/api/v1/Opleidingen")) == 2


async def test_concurrent_catalogue_misses_share_one_request(
    client: CoachviewClient, sandbox: CoachviewSandbox
):
    seed = sandbox.catalogue.seed
    results = await asyncio.gather(*(client.list_opleidingen(seed.open_soort) for _ in range(10)))

    assert all(result == results[0] for result in results)
    assert len(sandbox.requests_to("/api/v1/Opleidingen")) == 1


async def test_a_run_named_by_id_is_fetched_once_for_the_catalogue_lifetime(
    client: CoachviewClient, sandbox: CoachviewSandbox, clock: ManualClock
):
    # A deep link names a run; a crowd following it costs one request, not one each.
    seed = sandbox.catalogue.seed
    path = f"/api/v1/Opleidingen/{seed.open_run}"
    runs = await asyncio.gather(
        *(client.get_opleiding(seed.open_run) for _ in range(5)),
        client.get_opleiding(seed.open_run.upper()),
    )

    assert all(run == runs[0] for run in runs)
    assert runs[0].id.lower() == seed.open_run.lower()
    assert len(sandbox.requests_to(path)) == 1

    clock.advance(timedelta(minutes=10, seconds=1))
    await client.get_opleiding(seed.open_run)
    assert len(sandbox.requests_to(path)) == 2


async def test_stale_catalogue_is_served_when_a_refresh_fails(
    client: CoachviewClient,
    sandbox: CoachviewSandbox,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
):
    seed = sandbox.catalogue.seed
    sandbox.faults.add(path="/api/v1/Opleidingssoorten", status=503)
    with pytest.raises(CoachviewUnavailable):  # nothing cached yet: the failure shows
        await client.list_opleidingssoorten()
    soorten = await client.list_opleidingssoorten()
    runs = await client.list_opleidingen(seed.open_soort)
    clock.advance(timedelta(minutes=11))
    sandbox.faults.add(path="/api/v1/Opleidingssoorten", status=503)
    sandbox.faults.add(path="/api/v1/Opleidingen", action="drop")

    with caplog.at_level(logging.WARNING, logger="bot.coachview"):
        assert await client.list_opleidingssoorten() == soorten
        assert await client.list_opleidingen(seed.open_soort) == runs
    assert len([r for r in caplog.records if "serving the copy" in r.getMessage()]) == 2

    clock.advance(timedelta(minutes=2))  # Coachview is back: the next call refreshes
    sandbox.catalogue.opleidingssoorten[0]["naam"] = "VCA Basis (nieuw)"
    assert (await client.list_opleidingssoorten())[0].naam == "VCA Basis (nieuw)"


async def test_non_retryable_refresh_failures_are_not_hidden(
    client: CoachviewClient, sandbox: CoachviewSandbox, clock: ManualClock
):
    await client.list_opleidingssoorten()
    clock.advance(timedelta(minutes=11))
    sandbox.faults.add(path="/api/v1/Opleidingssoorten", status=403)

    with pytest.raises(CoachviewForbidden):
        await client.list_opleidingssoorten()


# -- Models ------------------------------------------------------------------------------------


def test_coachview_dates_are_dutch_local_time():
    run = Opleiding.model_validate(
        {
            "id": "x",
            "code": "C",
            "naam": "N",
            "opleidingssoortId": "s",
            "opleidingStatusId": "Definitief",
            "startDatum": "2026-07-01T09:00:00",
            "eindDatum": "2026-07-01",
            "deadlineInschrijven": None,
            "locatie": "Utrecht",
        }
    )
    assert run.start_datum == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)  # CEST is UTC+2
    assert run.eind_datum == datetime(2026, 7, 1, tzinfo=COACHVIEW_TZ)
    assert run.deadline_inschrijven is None
    assert run.model_extra == {"locatie": "Utrecht"}
    assert format_filter_date(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "01-07-2026"


def test_nummer_may_come_as_a_number():
    created = CreatedWebaanvraag.model_validate(
        {"nummer": 1042, "betaalproviderRedirectUrl": None}
    )
    assert created.nummer == "1042"
    assert created.id is None
    dumped = json.loads(created.model_dump_json())
    assert dumped["nummer"] == "1042"
    assert "betaalproviderRedirectUrl" in dumped


async def test_an_answer_that_ignored_the_filter_is_not_believed(
    client: CoachviewClient, sandbox: CoachviewSandbox, make_client: MakeClient
):
    for name in ("anna", "bert"):
        await client.create_webaanvraag(
            webaanvraag_body(
                contactpersoon={"achternaam": name.title(), "emailadres": f"{name}@example.org"}
            )
        )
    anna, bert = (stored.record for stored in sandbox.webaanvragen)

    # Coachview answers as if there were no filter: Bert's webaanvraag for Anna's address.
    sandbox.faults.add(method="GET", path=WEBAANVRAGEN, status=200, body=[bert, anna])
    found = await client.find_webaanvragen_by_email("ANNA@example.org")
    assert [w.nummer for w in found] == [str(anna["nummer"])]
    assert client.guess_state(Guess.DOTTED_FILTER) is False
    assert client.search_window == 200

    sandbox.faults.add(method="GET", path=WEBAANVRAGEN, status=200, body=[bert])
    assert await client.find_webaanvraag_by_nummer(str(anna["nummer"])) is None
    # A search (by a client that does not know the verdict yet) shows only what matches.
    sandbox.faults.add(method="GET", path=WEBAANVRAGEN, status=200, body=[bert, anna], times=3)
    found = await make_client().search_webaanvragen("ann")
    assert [w.nummer for w in found] == [str(anna["nummer"])]
