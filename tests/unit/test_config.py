"""Configuration: every bad value stops the program with one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:" + "A" * 35


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No variable of the developer's shell or .env leaks into these tests."""
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "COACHVIEW_", "STAFF_", "DATABASE_", "DEFAULT_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_the_documented_ones():
    settings = load_settings()
    assert settings.demo
    assert str(settings.telegram_api_url) == "https://api.telegram.org/"
    assert settings.database_url == "sqlite:///data/enrollbot.db"
    assert settings.default_language == "nl"
    assert settings.staff_user_ids == frozenset()
    assert settings.staff_chat_id is None


def test_values_are_read_from_the_environment_and_a_dotenv_file(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text("STAFF_USER_IDS=1, 22 ,333\nDEFAULT_LANGUAGE=en\n")
    monkeypatch.setenv("STAFF_CHAT_ID", "-100123")
    settings = load_settings()
    assert settings.staff_user_ids == frozenset({1, 22, 333})
    assert settings.default_language == "en"
    assert settings.staff_chat_id == -100123


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "TELEGRAM_BOT_TOKEN: is not a bot token"),
        ("TELEGRAM_API_URL", "ftp://x", "TELEGRAM_API_URL:"),
        ("TELEGRAM_API_URL", "https://api.telegram.org/bot", "without a path"),
        ("COACHVIEW_BASE_URL", "secure.coachview.net", "COACHVIEW_BASE_URL:"),
        ("DATABASE_URL", "not a url", "DATABASE_URL: is not an SQLAlchemy URL"),
        ("STAFF_USER_IDS", "12,abc", "STAFF_USER_IDS: 'abc' is not a Telegram user id"),
        ("STAFF_CHAT_ID", "staff", "STAFF_CHAT_ID:"),
        ("DEFAULT_LANGUAGE", "de", "DEFAULT_LANGUAGE: must be 'nl' or 'en'"),
        ("CATALOGUE_TTL", "soon", "CATALOGUE_TTL:"),
        ("MAX_PARTICIPANTS", "0", "MAX_PARTICIPANTS:"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: must be"),
        ("SUBMISSION_LEASE", "0", "SUBMISSION_LEASE:"),
        ("SUBMISSION_RETRY_MAX", "1", "must not be shorter than SUBMISSION_RETRY_BASE"),
    ],
)
def test_each_invalid_value_gives_one_line_naming_the_variable(monkeypatch, variable, value, says):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert message.startswith(f"{variable}:")
    assert says in message
    assert "\n" not in message


def test_the_example_configuration_loads_and_durations_are_seconds_or_iso(monkeypatch, tmp_path):
    example = ROOT / ".env.example"
    settings = load_settings(env_file=str(example))
    assert settings.submission_alert_after == timedelta(minutes=30)
    assert settings.submission_lease == timedelta(minutes=2)
    assert settings.catalogue_ttl == timedelta(minutes=10)
    assert settings.submissions_paused is False
    monkeypatch.setenv("SUBMISSION_RETRY_BASE", "0.05")
    monkeypatch.setenv("SUBMISSION_POLL", "PT1M")
    settings = load_settings(env_file=None)
    assert settings.submission_retry_base == timedelta(milliseconds=50)
    assert settings.submission_poll == timedelta(minutes=1)


def test_coachview_needs_its_credentials(monkeypatch):
    monkeypatch.setenv("COACHVIEW_BASE_URL", "https://secure.coachview.net")
    with pytest.raises(ConfigError, match=r"^COACHVIEW_CLIENT_ID: is required"):
        load_settings()
    monkeypatch.setenv("COACHVIEW_CLIENT_ID", "client")
    with pytest.raises(ConfigError, match=r"^COACHVIEW_CLIENT_SECRET: is required"):
        load_settings()


def test_secrets_never_appear_in_errors_or_repr(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "secret-token-value")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert "secret-token-value" not in str(error.value)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:hunter2@db/bot")
    assert TOKEN not in repr(load_settings())
    assert "hunter2" not in repr(load_settings())


def test_the_program_stops_with_the_line_and_exit_code_2(tmp_path):
    environment = {"PATH": os.environ["PATH"], "STAFF_CHAT_ID": "staff", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**environment, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "enrollbot: configuration error: STAFF_CHAT_ID: 'staff': input should be a valid "
        "integer, unable to parse string as an integer"
    ]


@pytest.mark.parametrize(
    ("url", "setting", "migrates"),
    [
        ("sqlite:///data/enrollbot.db", None, True),
        ("postgresql+psycopg://bot@db/enrollbot", None, False),
        ("postgresql+psycopg://bot@db/enrollbot", "true", True),
        ("sqlite:///data/enrollbot.db", "false", False),
    ],
)
def test_the_bot_migrates_sqlite_itself_and_leaves_a_server_to_enrollbot_migrate(
    monkeypatch, url, setting, migrates
):
    monkeypatch.setenv("DATABASE_URL", url)
    if setting is not None:
        monkeypatch.setenv("DATABASE_AUTO_MIGRATE", setting)
    assert load_settings().migrate_on_start is migrates


def test_a_bad_auto_migrate_value_is_named(monkeypatch):
    monkeypatch.setenv("DATABASE_AUTO_MIGRATE", "sometimes")
    with pytest.raises(ConfigError, match=r"^DATABASE_AUTO_MIGRATE: 'sometimes': "):
        load_settings()
