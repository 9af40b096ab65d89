"""``enrollbot check``: a pre-flight check for operators, before go-live and after a change.

With the operator's configuration, read-only (it never posts a webaanvraag), within a minute and
a few dozen requests at most, it tells whether the bot can take enrollments:

- the Coachview token and its lifetime, and whether it grants ``Webaanvragen.Schrijven``;
- each endpoint the bot reads, with ``take=1`` (a 403 names the scope to ask Coachview for);
- how many course types and open runs the bot would offer, and every record it had to skip;
- each guessed query form (:mod:`bot.coachview.guesses`): accepted, or which fallback the bot
  will use; and that the look-up after a lost answer works with ``COACHVIEW_REFERENCE_FIELD``;
- the request budget Coachview reports as left;
- the Telegram token (``getMe`` against ``TELEGRAM_API_URL``) and the bot's name.

The answer is a table with ✓ and ✗, one line per ✗ saying what to do, and the number of Coachview
requests the check used; the exit code is 0 only when the bot can take enrollments (a refused
guess with a fallback does not stop it). Without ``COACHVIEW_BASE_URL`` or
``TELEGRAM_BOT_TOKEN`` the embedded sandboxes are checked, as the demo would use them
(``--strict-sandbox``: a Coachview sandbox that refuses every guess).

Operator output, like ``enrollbot outbox``: English, not translated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from bot.clock import Clock, SystemClock
from bot.coachview.client import ENDPOINT_SCOPES, CoachviewClient
from bot.coachview.guesses import FALLBACKS, Guess
from bot.config import Settings
from bot.demo import SandboxMissing, start_coachview, start_telegram
from bot.errors import (
    CoachviewAuthError,
    CoachviewError,
    CoachviewForbidden,
    CoachviewNotFound,
)
from bot.questions import load_questions, validate_questions_file

__all__ = ["CheckLine", "CheckReport", "check_command", "run_check"]

logger = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(connect=5.0, read=15.0, write=10.0, pool=5.0)
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


@dataclass
class CheckLine:
    """One row of the table: ``ok`` or not, what was checked, what was found, and (when not
    ok) what to do; ``blocking`` when the bot cannot take enrollments without it."""

    ok: bool
    what: str
    found: str
    todo: str = ""
    blocking: bool = False


@dataclass
class CheckReport:
    """Every row, the records the catalogue skipped, and the Coachview requests used."""

    lines: list[CheckLine] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    coachview_requests: int = 0

    @property
    def can_take_enrollments(self) -> bool:
        return not any(line.blocking and not line.ok for line in self.lines)

    def add(
        self, ok: bool, what: str, found: str, todo: str = "", *, blocking: bool = False
    ) -> None:
        self.lines.append(CheckLine(ok, what, found, todo, blocking and not ok))

    def render(self) -> str:
        width = max((len(line.what) for line in self.lines), default=0)
        rows = [
            f"{'✓' if line.ok else '✗'} {line.what.ljust(width)}  {line.found}"
            for line in self.lines
        ]
        if self.skipped:
            rows.append("")
            rows.append(f"Catalogue records skipped ({len(self.skipped)}):")
            rows.extend(f"  - {text}" for text in self.skipped)
        todo = [line for line in self.lines if not line.ok]
        if todo:
            rows.append("")
            rows.append("What to do:")
            rows.extend(f"✗ {line.what}: {line.todo}" for line in todo)
        rows.append("")
        rows.append(f"Coachview requests used: {self.coachview_requests}")
        rows.append(
            "The bot can take enrollments."
            if self.can_take_enrollments
            else "The bot cannot take enrollments until every blocking ✗ above is fixed."
        )
        return "\n".join(rows)


def _why(error: Exception) -> str:
    """An error in a few words (no bodies: they may echo what was sent)."""
    status = getattr(error, "status", None)
    return f"{type(error).__name__}{f' {status}' if status else ''}"


async def run_check(
    settings: Settings,
    *,
    coachview_url: str | None = None,
    telegram_url: str | None = None,
    telegram_token: str | None = None,
    clock: Clock | None = None,
    deadline: float = COACHVIEW_DEADLINE,
) -> CheckReport:
    """Check the Coachview and Telegram the configuration names (or the given URLs); the
    Coachview checks are given up after ``deadline`` seconds."""
    report = CheckReport()
    clock = clock or SystemClock()
    client = CoachviewClient.from_settings(
        settings, base_url=coachview_url, clock=clock, timeout=TIMEOUT
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
    _check_questions(report, settings)
    token = telegram_token or (
        settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
    )
    await _check_telegram(report, telegram_url or str(settings.telegram_api_url), token)
    return report


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
            f"no token ({_why(error)})",
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
                f"failed ({_why(error)})",
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
            f"could not be read ({_why(error)})",
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
            f"failed ({_why(error)})",
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
        report.add(False, what, f"not checked ({_why(error)})", "see the GET lines above")
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


async def _check_telegram(report: CheckReport, api_url: str, token: str | None) -> None:
    what = "Telegram"
    if token is None:
        report.add(
            False, what, "no TELEGRAM_BOT_TOKEN", "set the token BotFather gave", blocking=True
        )
        return
    try:
        async with httpx.AsyncClient(base_url=api_url.rstrip("/"), timeout=TIMEOUT) as http:
            response = await http.post(f"/bot{token}/getMe")
        answer = response.json()
    except (httpx.HTTPError, ValueError) as error:
        report.add(
            False,
            what,
            f"{api_url} could not be reached ({type(error).__name__})",
            "check TELEGRAM_API_URL and that this machine can reach it",
            blocking=True,
        )
        return
    if response.status_code == 401 or not answer.get("ok"):
        report.add(
            False,
            what,
            f"the token was refused ({response.status_code})",
            "set TELEGRAM_BOT_TOKEN to the token BotFather gave (or /revoke and use the new one)",
            blocking=True,
        )
        return
    name = answer.get("result", {}).get("username", "?")
    report.add(True, what, f"token valid: @{name}")


def _check_questions(report: CheckReport, settings: Settings) -> None:
    """The provider's own questions (``QUESTIONS_FILE``) and the terms (``TERMS_URL``)."""
    what = "Questions"
    terms = (
        f"; the terms at {settings.terms_url} are accepted before sending"
        if (settings.terms_url)
        else ""
    )
    path = settings.questions_file
    if path is None:
        report.add(True, what, f"the built-in ones (no QUESTIONS_FILE){terms}")
        return
    problems = validate_questions_file(path)
    if problems:
        report.add(
            False,
            what,
            f"{path}: {len(problems)} problem(s)",
            "fix the file: " + "; ".join(problems),
            blocking=True,
        )
        return
    count = len(load_questions(path).all)
    report.add(True, what, f"{count} of the provider's own from {path}{terms}")


def check_command(settings: Settings, *, strict_sandbox: bool = False) -> int:
    """Run the check (against embedded sandboxes where nothing is configured), print the
    table; 0 when the bot can take enrollments, else 1."""
    try:
        report = asyncio.run(_check_with_sandboxes(settings, strict_sandbox=strict_sandbox))
    except SandboxMissing as error:
        print(f"enrollbot check: without COACHVIEW_BASE_URL or TELEGRAM_BOT_TOKEN, {error}")
        return 1
    print(report.render())
    return 0 if report.can_take_enrollments else 1


async def _check_with_sandboxes(settings: Settings, *, strict_sandbox: bool) -> CheckReport:
    async with contextlib.AsyncExitStack() as stack:
        coachview_url = telegram_url = telegram_token = None
        if strict_sandbox and settings.coachview_base_url is not None:
            print("--strict-sandbox has no effect: COACHVIEW_BASE_URL is set")
        if settings.coachview_base_url is None:
            coachview = await start_coachview(stack, strict=strict_sandbox)
            coachview_url = coachview.url
            print("No COACHVIEW_BASE_URL: checking the embedded Coachview sandbox", coachview_url)
        if settings.telegram_bot_token is None:
            telegram = await start_telegram(stack)
            telegram_url, telegram_token = telegram.url, telegram.token
            print("No TELEGRAM_BOT_TOKEN: checking the embedded Telegram sandbox", telegram_url)
        print()
        return await run_check(
            settings,
            coachview_url=coachview_url,
            telegram_url=telegram_url,
            telegram_token=telegram_token,
        )
