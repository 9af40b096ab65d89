"""``enrollbot check`` against the sandboxes: what an operator reads before go-live."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.coachview.client import CoachviewClient
from bot.config import load_settings
from bot.preflight import CheckReport, run_check
from sandbox.coachview import SCOPES, CoachviewSandbox, Strictness
from sandbox.telegram import TelegramSandbox

WEBAANVRAGEN = "/api/v1/Webaanvragen"
PRESET = Path(__file__).resolve().parents[1] / "examples" / "questions" / "certificates.toml"


async def check(
    coachview: CoachviewSandbox,
    telegram: TelegramSandbox,
    token: str | None = None,
    deadline: float = 40.0,
    **env: Any,
) -> CheckReport:
    """The check with the operator's settings pointing at the sandboxes."""
    settings = load_settings(
        env_file=None,
        coachview_base_url=coachview.url,
        coachview_client_id=coachview.client_id,
        coachview_client_secret=coachview.client_secret,
        telegram_api_url=telegram.url,
        telegram_bot_token=token or telegram.token,
        **env,
    )
    posts = len(coachview.requests_to(WEBAANVRAGEN, "POST"))
    report = await run_check(settings, deadline=deadline)
    assert len(coachview.requests_to(WEBAANVRAGEN, "POST")) == posts  # read-only, always
    return report


def line(report: CheckReport, start: str) -> str:
    """The row of the table (as rendered) whose check starts with ``start``."""
    table = report.render().split("\n\n", 1)[0]
    rows = [row for row in table.splitlines() if row[2:].startswith(start)]
    assert len(rows) == 1, (start, report.render())
    return rows[0]


def found(report: CheckReport, start: str) -> str:
    """What the check whose name starts with ``start`` found."""
    (row,) = [row for row in report.lines if row.what.startswith(start)]
    return row.found


async def test_against_the_sandbox_everything_passes(telegram: TelegramSandbox) -> None:
    async with CoachviewSandbox() as coachview:
        report = await check(coachview, telegram)
    text = report.render()
    assert report.can_take_enrollments, text
    assert "✗" not in text
    assert line(report, "Coachview token").endswith("valid for 1 h 00 min")
    assert line(report, "Catalogue").endswith("9 course types offered, 25 open runs")
    assert line(report, "Telegram").endswith("token valid: @enrollbot_sandbox_bot")
    assert found(report, "Request budget").startswith(f"{coachview.budget.remaining} of 5000 left")
    assert text.endswith(
        f"Coachview requests used: {len(coachview.requests)}\nThe bot can take enrollments."
    )
    assert len(coachview.requests) < 30


@pytest.mark.parametrize(
    ("switch", "row", "settings"),
    [
        ("refuse_reference_filter", "Guess: reference filter", "referentieNrKlant"),
        ("refuse_several_orderby_keys", "Guess: several orderby keys", None),
        ("refuse_less_than", "Guess: < operator", None),
        ("refuse_dotted_filters", "Guess: dotted filters", None),
    ],
)
async def test_a_refused_guess_shows_its_fallback_and_the_bot_still_can_enroll(
    telegram: TelegramSandbox, switch: str, row: str, settings: str | None
) -> None:
    env: dict[str, Any] = {"coachview_reference_field": settings} if settings else {}
    async with CoachviewSandbox() as coachview:
        setattr(coachview.strict, switch, True)
        report = await check(coachview, telegram, **env)
    text = report.render()
    assert line(report, row).startswith(f"✗ {row}")
    assert found(report, row).startswith("refused: the bot uses ")
    assert f"✗ {row}" in text.split("What to do:\n", 1)[1]
    assert text.count("✗") == 2  # the row and its line under "What to do"
    assert report.can_take_enrollments
    assert line(report, "Look-up after a lost answer").startswith("✓")


async def test_a_reference_filter_that_is_ignored_counts_as_refused(
    telegram: TelegramSandbox,
) -> None:
    async with CoachviewSandbox() as coachview:
        coachview.strict.ignore_reference_filter = True
        async with CoachviewClient(
            coachview.url, coachview.client_id, coachview.client_secret
        ) as client:
            await client.create_webaanvraag({"contactpersoon": {"achternaam": "Bakker"}})
        report = await check(coachview, telegram, coachview_reference_field="referentieNrKlant")
    assert found(report, "Guess: reference filter").startswith("refused: the bot uses ")
    assert report.can_take_enrollments


async def test_a_sandbox_refusing_everything_still_lets_the_bot_enroll(
    telegram: TelegramSandbox,
) -> None:
    async with CoachviewSandbox() as coachview:
        coachview.strict = Strictness.evidence()
        report = await check(coachview, telegram, coachview_reference_field="referentieNrKlant")
    for row in ("Guess: reference filter", "Guess: < operator", "GET WebaanvraagDeelnemers"):
        assert line(report, row).startswith("✗"), row
    assert line(report, "GET WebaanvraagOpleidingen").endswith(
        "404: this Coachview does not offer it"
    )
    assert line(report, "Look-up after a lost answer (referentieNrKlant)").endswith(
        "received since the enrollment (aanvraagDatum>=), matched by the bot"
    )
    assert report.can_take_enrollments, report.render()


@pytest.mark.parametrize(
    ("scope", "blocking"),
    [("Opleidingen.Lezen", True), ("WebaanvraagOpleidingen.Lezen", False)],
)
async def test_a_missing_scope_names_the_scope_to_ask_for(
    telegram: TelegramSandbox, scope: str, blocking: bool
) -> None:
    async with CoachviewSandbox(scopes=[s for s in SCOPES if s != scope]) as coachview:
        report = await check(coachview, telegram)
    endpoint = scope.removesuffix(".Lezen")
    assert line(report, f"GET {endpoint}").endswith(f"403: the API client lacks the scope {scope}")
    assert (
        f"✗ GET {endpoint}: ask Coachview to give API client 'sandbox' the scope {scope}"
        in report.render()
    )
    assert report.can_take_enrollments is not blocking


async def test_wrong_credentials_and_a_wrong_telegram_token_block(
    telegram: TelegramSandbox,
) -> None:
    async with CoachviewSandbox(client_secret="something-else") as coachview:
        coachview.client_secret = "not-the-secret"
        report = await check(coachview, telegram, token="123456:" + "A" * 35)
    assert line(report, "Coachview token").endswith("the credentials were refused")
    assert line(report, "Telegram").startswith("✗")
    assert "check COACHVIEW_CLIENT_ID and COACHVIEW_CLIENT_SECRET" in report.render()
    assert "not-the-secret" not in report.render()
    assert not report.can_take_enrollments


async def test_a_hanging_coachview_is_given_up_and_blocks(telegram: TelegramSandbox) -> None:
    async with CoachviewSandbox() as coachview:
        coachview.faults.add(path="/api/v1/Opleidingen", action="hold")  # never released
        report = await check(coachview, telegram, deadline=1.0)
        coachview.faults.release()
    assert line(report, "GET Opleidingssoorten").startswith("✓")
    assert found(report, "Coachview's answers").startswith("none within 1 s")
    assert line(report, "Telegram").startswith("✓")  # still checked
    assert not report.can_take_enrollments


def test_enrollbot_check_without_configuration_checks_the_embedded_sandboxes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    assert main(["check"]) == 0
    plain = capsys.readouterr().out
    assert "checking the embedded Coachview sandbox" in plain
    assert "✗" not in plain
    assert plain.rstrip().endswith("The bot can take enrollments.")

    assert main(["check", "--strict-sandbox"]) == 0
    strict = capsys.readouterr().out
    assert strict.count("✗ Guess:") == 6  # three refused guesses, each with what to do
    assert "Coachview requests used: " in strict


async def test_the_providers_questions_are_named(telegram: TelegramSandbox) -> None:
    async with CoachviewSandbox() as coachview:
        plain = await check(coachview, telegram)
        with_file = await check(
            coachview, telegram, questions_file=str(PRESET), terms_url="https://example.nl/av"
        )
    assert found(plain, "Questions") == "the built-in ones (no QUESTIONS_FILE)"
    assert found(with_file, "Questions") == (
        f"1 of the provider's own from {PRESET}; the terms at https://example.nl/av are "
        "accepted before sending"
    )
    assert with_file.can_take_enrollments


def test_enrollbot_check_without_configuration_or_sandboxes_says_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As in the image, where the sandbox package is not installed."""
    monkeypatch.chdir(tmp_path)  # no .env
    for module in ("sandbox", "sandbox.coachview", "sandbox.telegram"):
        monkeypatch.setitem(sys.modules, module, None)
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "not part of this installation" in out
    assert "set TELEGRAM_BOT_TOKEN and COACHVIEW_BASE_URL" in out
