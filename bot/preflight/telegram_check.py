"""The Telegram check: the token (``getMe`` against ``TELEGRAM_API_URL``) and the bot's name."""

from __future__ import annotations

import httpx

from bot.preflight.report import TIMEOUT, CheckReport

__all__ = ["check_telegram"]


async def check_telegram(report: CheckReport, api_url: str, token: str | None) -> None:
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
