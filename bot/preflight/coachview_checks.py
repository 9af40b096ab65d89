"""The Coachview checks: the token and its scopes, each endpoint the bot reads, the catalogue,
each guessed query form and the look-up after a lost answer, the request budget. Read-only:
nothing is posted."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.coachview.client import ENDPOINT_SCOPES, CoachviewClient
from bot.coachview.guesses import FALLBACKS, Guess
from bot.config import Settings
from bot.errors import (
    CoachviewAuthError,
    CoachviewError,
    CoachviewForbidden,
    CoachviewNotFound,
)
from bot.preflight.report import TIMEOUT, CheckReport, why

__all__ = ["COACHVIEW_DEADLINE", "check_coachview"]

COACHVIEW_DEADLINE = 40.0
"""Seconds all Coachview checks together may take (Telegram's then has the rest of a minute)."""
_PROBE_REFERENCE = "TG-0000000000000000"
_ENDPOINTS = (
    ("Opleidingssoorten", True, "the bot cannot show courses"),
    ("Opleidingen", True, "the bot cannot show course dates"),
    ("Webaanvragen", True, "the bot cannot look an enrollment up after a lost answer"),
    ("WebaanvraagOpleidingen", False, "/lookup, /recent and /search show no courses"),
    ("WebaanvraagDeelnemers", False, "/lookup shows no other participants"),
)
_GUESS_USES = {
    Guess.REFERENCE_FILTER: "the look-up after a lost answer",
    Guess.SEVERAL_ORDERBY_KEYS: "/recent, /search",
    Guess.LESS_THAN: "/search",
    Guess.DOTTED_FILTER: "/search, /lookup by e-mail",
}


async def check_coachview(
    report: CheckReport,
    settings: Settings,
    *,
    base_url: str | None,
    clock: Clock,
    deadline: float = COACHVIEW_DEADLINE,
) -> None:
    """Every Coachview row of the report, given up after ``deadline`` seconds; the number of
    requests they took is counted in the report."""
    client = CoachviewClient.from_settings(
        settings, base_url=base_url, clock=clock, timeout=TIMEOUT
    )
    try:
        async with asyncio.timeout(deadline):
            if await _check_token(report, client, settings):
                await _check_endpoints(report, client, settings)
                await _check_catalogue(report, client, clock.now())
                await _check_guesses(report, client, clock.now())
                _check_budget(report, client)
    except TimeoutError:
        report.add(
            False,
            "Coachview's answers",
            f"none within {deadline:g} s (the checks after the last row were not run)",
            "try again later; if it stays this slow, ask Coachview",
            blocking=True,
        )
    finally:
        counts = client.request_counts
        report.coachview_requests = sum(counts.values())
        await client.aclose()


async def _check_token(report: CheckReport, client: CoachviewClient, settings: Settings) -> bool:
    what = "Coachview token"
    try:
        info = await client.token_info()
    except CoachviewAuthError:
        report.add(
            False,
            what,
            "the credentials were refused",
            "check COACHVIEW_CLIENT_ID and COACHVIEW_CLIENT_SECRET (Coachview > API clients)",
            blocking=True,
        )
        return False
    except CoachviewError as error:
        report.add(
            False,
            what,
            f"no token ({why(error)})",
            "check COACHVIEW_BASE_URL and that this machine can reach it",
            blocking=True,
        )
        return False
    report.add(True, what, f"valid for {_duration(info.lifetime)}")
    write = ENDPOINT_SCOPES[("POST", "Webaanvragen")]
    if info.scopes is None:
        report.add(True, "POST Webaanvragen", "not tried (the check never posts)")
    elif write in info.scopes:
        report.add(True, "POST Webaanvragen", f"scope {write} granted (not tried)")
    else:
        report.add(
            False,
            "POST Webaanvragen",
            f"the token lacks the scope {write}",
            f"ask Coachview to give API client {settings.coachview_client_id or 'sandbox'!r} "
            f"the scope {write} (and check COACHVIEW_SCOPE)",
            blocking=True,
        )
    return True


def _duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


async def _check_endpoints(
    report: CheckReport, client: CoachviewClient, settings: Settings
) -> None:
    for entity, blocking, without in _ENDPOINTS:
        what = f"GET {entity}"
        scope = ENDPOINT_SCOPES[("GET", entity)]
        try:
            await client.probe_endpoint("GET", entity)
        except CoachviewForbidden:
            report.add(
                False,
                what,
                f"403: the API client lacks the scope {scope}",
                f"ask Coachview to give API client {settings.coachview_client_id or 'sandbox'!r} "
                f"the scope {scope}; until then {without}",
                blocking=blocking,
            )
        except CoachviewNotFound:
            report.add(
                False,
                what,
                "404: this Coachview does not offer it",
                f"ask Coachview about {entity}; until then {without}",
                blocking=blocking,
            )
        except CoachviewError as error:
            report.add(
                False,
                what,
                f"failed ({why(error)})",
                f"try again later; until it works {without}",
                blocking=blocking,
            )
        else:
            report.add(True, what, "readable (take=1)")


async def _check_catalogue(report: CheckReport, client: CoachviewClient, now: datetime) -> None:
    what = "Catalogue"
    try:
        soorten = await client.list_opleidingssoorten()
        gate = asyncio.Semaphore(4)

        async def runs_of(soort_id: str) -> int:
            async with gate:
                runs = await client.list_opleidingen(soort_id)
            return sum(1 for run in runs if run.open_for_enrollment(now))

        counts = await asyncio.gather(*(runs_of(soort.id) for soort in soorten))
    except CoachviewError as error:
        report.add(
            False,
            what,
            f"could not be read ({why(error)})",
            "see the GET lines above",
            blocking=True,
        )
        return
    report.skipped = [
        f"{record.entity} {record.id or '(no id)'}: {record.field}: {record.reason}"
        for record in client.skipped_records
    ]
    found = f"{len(soorten)} course types offered, {sum(counts)} open runs"
    if report.skipped:
        found += f"; {len(report.skipped)} records skipped (listed below)"
    if not soorten:
        report.add(
            False,
            what,
            found,
            "publish at least one active course type on the website in Coachview "
            "(Publicatie website, not inactive)",
            blocking=True,
        )
        return
    report.add(True, what, found)


async def _check_guesses(report: CheckReport, client: CoachviewClient, now: datetime) -> None:
    field_name = client.reference_field
    if field_name == "referentieNrKlant":
        await _check_guess(report, client, Guess.REFERENCE_FILTER)
    else:
        what = f"Guess: {Guess.REFERENCE_FILTER.value} ({_GUESS_USES[Guess.REFERENCE_FILTER]})"
        report.add(True, what, f"not needed: the reference travels in {field_name}")
    what = f"Look-up after a lost answer ({field_name})"
    try:
        await client.find_webaanvraag_by_reference(_PROBE_REFERENCE, since=now)
    except CoachviewError as error:
        report.add(
            False,
            what,
            f"failed ({why(error)})",
            "without it an enrollment whose answer was lost waits until staff check it in "
            "Coachview; ask Coachview which filter on Webaanvragen works (aanvraagDatum>=)",
            blocking=True,
        )
    else:
        if field_name == "referentieNrKlant" and client.guess_state(Guess.REFERENCE_FILTER):
            how = "filtered by referentieNrKlant"
        else:
            how = "received since the enrollment (aanvraagDatum>=), matched by the bot"
        report.add(True, what, how)
    for guess in (Guess.SEVERAL_ORDERBY_KEYS, Guess.LESS_THAN, Guess.DOTTED_FILTER):
        await _check_guess(report, client, guess)


async def _check_guess(report: CheckReport, client: CoachviewClient, guess: Guess) -> None:
    info = FALLBACKS[guess]
    what = f"Guess: {guess.value} ({_GUESS_USES[guess]})"
    try:
        accepted = await client.probe(guess)
    except CoachviewError as error:
        report.add(False, what, f"not checked ({why(error)})", "see the GET lines above")
        return
    if accepted:
        report.add(True, what, "accepted")
    else:
        report.add(
            False,
            what,
            f"refused: the bot uses {info.fallback}",
            "nothing to do (tell the bot's developers, so the guess can go)",
        )


def _check_budget(report: CheckReport, client: CoachviewClient) -> None:
    budget = client.budget
    what = "Request budget"
    if budget.remaining is None:
        report.add(True, what, "not reported by Coachview")
        return
    of = f" of {budget.limit}" if budget.limit is not None else ""
    reset = (
        f", renewed at {budget.reset_at.isoformat(timespec='minutes')}" if budget.reset_at else ""
    )
    found = f"{budget.remaining}{of} left{reset}"
    if budget.remaining <= 0:
        report.add(False, what, found, "wait until the budget is renewed", blocking=True)
    elif budget.limit is not None and budget.remaining < budget.limit // 10:
        report.add(False, what, found, "something uses many requests: check other API clients")
    else:
        report.add(True, what, found)
