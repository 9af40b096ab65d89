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

Operator output, like ``enrollbot outbox``: English, not translated. By job: the Coachview checks
(:mod:`~bot.preflight.coachview_checks`), Telegram's (:mod:`~bot.preflight.telegram_check`), the
report and its table (:mod:`~bot.preflight.report`); here, the run, the provider's questions, and
the command with its embedded sandboxes.
"""

from __future__ import annotations

import asyncio
import contextlib

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.demo import SandboxMissing, start_coachview, start_telegram
from bot.preflight.coachview_checks import COACHVIEW_DEADLINE, check_coachview
from bot.preflight.report import CheckLine, CheckReport
from bot.preflight.telegram_check import check_telegram
from bot.questions import load_questions, validate_questions_file

__all__ = ["CheckLine", "CheckReport", "check_command", "run_check"]


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
    await check_coachview(
        report, settings, base_url=coachview_url, clock=clock or SystemClock(), deadline=deadline
    )
    _check_questions(report, settings)
    token = telegram_token or (
        settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else None
    )
    await check_telegram(report, telegram_url or str(settings.telegram_api_url), token)
    return report


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
