"""Configuration: every bad value stops the program with one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings, split_listen

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:" + "A" * 35
SECRET = "a-Secret_of-24-characters"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No variable of the developer's shell or .env leaks into these tests."""
    for name in list(os.environ):
        if name.startswith(
            ("TELEGRAM_", "COACHVIEW_", "STAFF_", "DATABASE_", "DEFAULT_", "QUESTIONS_", "TERMS_")
        ):
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
        ("COACHVIEW_PATIENCE", "0", "COACHVIEW_PATIENCE:"),
        ("SUBMISSION_RETRY_MAX", "1", "must not be shorter than SUBMISSION_RETRY_BASE"),
        ("COACHVIEW_REFERENCE_FIELD", "bedrijf.naam", "must be opmerking, referentieNrKlant or"),
        ("COACHVIEW_REFERENCE_FIELD", "vrijevelden.", "vrijevelden.<code>"),
        ("COACHVIEW_AANVRAAG_IS_ORDER", "maybe", "COACHVIEW_AANVRAAG_IS_ORDER:"),
        ("WEBHOOK_URL", "bot.example.nl/hook", "WEBHOOK_URL:"),
        ("WEBHOOK_SECRET", "x" * 257, "WEBHOOK_SECRET: must be 1 to 256 characters"),
        ("WEBHOOK_LISTEN", "8080", "WEBHOOK_LISTEN: '8080' is not host:port"),
        ("WEBHOOK_LISTEN", "0.0.0.0:http", "is not host:port"),
        ("METRICS_LISTEN", "localhost:99999", "METRICS_LISTEN: 'localhost:99999' is not host"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT: must be 'text' or 'json'"),
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
    assert settings.coachview_patience == timedelta(seconds=5)
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
    monkeypatch.setenv("WEBHOOK_SECRET", "my secret with spaces")
    with pytest.raises(ConfigError, match=r"^WEBHOOK_SECRET: must be 1 to 256") as error:
        load_settings()
    assert "my secret" not in str(error.value)


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
    ("variable", "value", "says"),
    [
        ("COURSE_REMINDERS", "maybe", "COURSE_REMINDERS: 'maybe'"),
        ("COURSE_REMINDER_HOUR", "3", "greater than or equal to 7"),
        ("COURSE_REMINDER_HOUR", "23", "COURSE_REMINDER_HOUR:"),
    ],
)
def test_course_reminder_settings_are_checked(monkeypatch, variable, value, says):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=f"^{variable}:") as error:
        load_settings()
    assert says in str(error.value)


def test_course_reminders_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("COURSE_REMINDERS", "false")
    monkeypatch.setenv("COURSE_REMINDER_HOUR", "9")
    settings = load_settings()
    assert settings.course_reminders is False
    assert settings.course_reminder_hour == 9


def test_the_reference_field_and_aanvraag_is_order(monkeypatch):
    settings = load_settings(env_file=str(ROOT / ".env.example"))
    assert settings.coachview_reference_field == "opmerking"
    assert settings.coachview_aanvraag_is_order is None  # empty: not sent
    monkeypatch.setenv("COACHVIEW_REFERENCE_FIELD", "vrijevelden.TelegramRef")
    monkeypatch.setenv("COACHVIEW_AANVRAAG_IS_ORDER", "true")
    settings = load_settings(env_file=None)
    assert settings.coachview_reference_field == "vrijevelden.TelegramRef"
    assert settings.coachview_aanvraag_is_order is True
    monkeypatch.setenv("COACHVIEW_REFERENCE_FIELD", "referentieNrKlant")
    monkeypatch.setenv("COACHVIEW_AANVRAAG_IS_ORDER", "false")
    settings = load_settings(env_file=None)
    assert settings.coachview_reference_field == "referentieNrKlant"
    assert settings.coachview_aanvraag_is_order is False


# -- Webhook mode, health and metrics, log format ------------------------------------------


def test_without_a_webhook_url_the_bot_polls_with_no_server():
    settings = load_settings()
    assert settings.webhook_url is None
    assert settings.webhook_listen == "0.0.0.0:8080"
    assert settings.metrics_listen is None
    assert settings.log_format == "text"


def test_a_webhook_takes_its_url_secret_and_addresses(monkeypatch):
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.nl/telegram/updates")
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("WEBHOOK_LISTEN", "[::]:8443")
    monkeypatch.setenv("METRICS_LISTEN", "127.0.0.1:9100")
    monkeypatch.setenv("LOG_FORMAT", "json")
    settings = load_settings()
    assert str(settings.webhook_url) == "https://bot.example.nl/telegram/updates"
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == SECRET
    assert split_listen(settings.webhook_listen) == ("::", 8443)
    assert settings.metrics_listen is not None
    assert split_listen(settings.metrics_listen) == ("127.0.0.1", 9100)
    assert settings.log_format == "json"
    assert SECRET not in repr(settings)


def test_plain_http_only_to_this_machine(monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("WEBHOOK_URL", "http://127.0.0.1:8081/hook")  # a local Bot API server
    assert load_settings().webhook_url is not None
    monkeypatch.setenv("WEBHOOK_URL", "http://bot.example.nl/hook")
    with pytest.raises(ConfigError, match=r"^WEBHOOK_URL: must be an https:// URL"):
        load_settings()


def test_a_webhook_needs_its_secret(monkeypatch):
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.nl/telegram/updates")
    with pytest.raises(ConfigError, match=r"^WEBHOOK_SECRET: is required when WEBHOOK_URL is set"):
        load_settings()


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
