"""The runtime (how the process reaches Telegram and Coachview) shows neither secret when it is
printed, as a log line or a traceback's locals would print it."""

from __future__ import annotations

from bot.app import Runtime
from bot.config import load_settings

TOKEN = "123456:" + "A" * 35
SECRET = "a-Secret_of-24-characters"


def test_the_token_and_the_client_secret_are_not_in_its_repr() -> None:
    settings = load_settings(
        env_file=None,
        telegram_bot_token=TOKEN,
        coachview_base_url="https://coachview.example/",
        coachview_client_id="enrollbot",
        coachview_client_secret=SECRET,
    )
    runtime = Runtime.from_settings(settings)
    assert (runtime.token, runtime.coachview_client_secret) == (TOKEN, SECRET)
    shown = repr(runtime)
    assert "https://coachview.example" in shown and "enrollbot" in shown
    assert TOKEN not in shown and SECRET not in shown
    assert "123456" not in shown
