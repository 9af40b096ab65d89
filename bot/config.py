"""The one settings object: read once at start from the environment or a ``.env`` file.

Nothing else in the program reads ``os.environ``. A bad value stops the program with one line
that names the variable and what is wrong with it (:func:`load_settings`); secret values are
``SecretStr`` and never appear in that line, in ``repr`` or in logs.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["ConfigError", "Settings", "load_settings"]

_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{30,}$")
_SECRET_FIELDS = frozenset({"telegram_bot_token", "coachview_client_secret"})


class ConfigError(Exception):
    """A configuration value is invalid; ``str()`` is the one line to show the operator."""


class Settings(BaseSettings):
    """Everything the program can be configured with (see ``.env.example`` for each variable)."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
    )

    # -- The contract of the design (design.md, "Configuration") --------------------------------
    telegram_bot_token: SecretStr | None = None
    telegram_api_url: AnyHttpUrl = AnyHttpUrl("https://api.telegram.org")
    coachview_base_url: AnyHttpUrl | None = None
    coachview_client_id: str | None = None
    coachview_client_secret: SecretStr | None = None
    coachview_scope: str = ""
    database_url: str = Field(default="sqlite:///data/enrollbot.db", repr=False)
    staff_user_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    staff_chat_id: int | None = None
    default_language: Literal["nl", "en"] = "nl"

    # -- Tuning, each with a default that suits a production bot ---------------------------------
    catalogue_ttl: timedelta = Field(default=timedelta(minutes=10), gt=timedelta(0))
    max_participants: int = Field(default=20, ge=1, le=100)
    draft_reminder_after: timedelta = Field(default=timedelta(hours=24), gt=timedelta(0))
    draft_retention: timedelta = Field(default=timedelta(days=30), gt=timedelta(0))
    submission_alert_after: timedelta = Field(default=timedelta(minutes=30), gt=timedelta(0))
    # The outbox worker (bot/submission.py): how long a claimed row is reserved for one worker
    # (a POST is given up after half of it), the first and the longest wait between attempts,
    # how often the outbox is checked when nothing wakes the worker, and a pause switch.
    submission_lease: timedelta = Field(default=timedelta(minutes=2), gt=timedelta(0))
    submission_retry_base: timedelta = Field(default=timedelta(seconds=5), gt=timedelta(0))
    submission_retry_max: timedelta = Field(default=timedelta(minutes=30), gt=timedelta(0))
    submission_poll: timedelta = Field(default=timedelta(seconds=30), gt=timedelta(0))
    submissions_paused: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # -- Migrations (bot/store/migrations.py) ---------------------------------------------------
    # Migrate the database at start. Unset: yes for SQLite (one file, one process, no setup
    # step), no for a database server, where `enrollbot migrate` is the operator's step and the
    # bot refuses to start on a schema behind it.
    database_auto_migrate: bool | None = None

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("is not a bot token of the form 123456:ABC... (as BotFather gives)")
        return value

    @field_validator(
        "catalogue_ttl",
        "draft_reminder_after",
        "draft_retention",
        "submission_alert_after",
        "submission_lease",
        "submission_retry_base",
        "submission_retry_max",
        "submission_poll",
        mode="before",
    )
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        """A duration may be a number of seconds (``600``, ``0.5``) or ISO 8601 (``PT10M``)."""
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return value
        return value

    @field_validator("telegram_api_url", "coachview_base_url")
    @classmethod
    def _no_trailing_path(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if value is not None and value.path not in (None, "", "/"):
            raise ValueError(f"must be the server root without a path, not {str(value)!r}")
        return value

    @field_validator("staff_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            bad = [part for part in parts if not re.fullmatch(r"-?\d{1,20}", part)]
            if bad:
                raise ValueError(
                    f"{bad[0]!r} is not a Telegram user id (expected numbers separated by commas)"
                )
            return frozenset(int(part) for part in parts)
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: str) -> str:
        from sqlalchemy.engine import make_url  # noqa: PLC0415 - only needed to validate
        from sqlalchemy.exc import ArgumentError  # noqa: PLC0415

        try:
            make_url(value)
        except ArgumentError:
            raise ValueError(
                "is not an SQLAlchemy URL such as sqlite:///data/enrollbot.db "
                "or postgresql+psycopg://user@host/db"
            ) from None
        return value

    @model_validator(mode="after")
    def _retry_bounds(self) -> Settings:
        if self.submission_retry_max < self.submission_retry_base:
            raise ValueError(
                "SUBMISSION_RETRY_MAX: must not be shorter than SUBMISSION_RETRY_BASE"
            )
        return self

    @model_validator(mode="after")
    def _coachview_credentials(self) -> Settings:
        if self.coachview_base_url is not None:
            if not self.coachview_client_id:
                raise ValueError("COACHVIEW_CLIENT_ID: is required when COACHVIEW_BASE_URL is set")
            if self.coachview_client_secret is None:
                raise ValueError(
                    "COACHVIEW_CLIENT_SECRET: is required when COACHVIEW_BASE_URL is set"
                )
        return self

    @property
    def demo(self) -> bool:
        """Without a bot token the program runs the local demo against the sandboxes."""
        return self.telegram_bot_token is None

    @property
    def migrate_on_start(self) -> bool:
        """Whether the bot migrates the database itself at start (``DATABASE_AUTO_MIGRATE``)."""
        if self.database_auto_migrate is not None:
            return self.database_auto_migrate
        from sqlalchemy.engine import make_url  # noqa: PLC0415

        return make_url(self.database_url).get_backend_name() == "sqlite"

    @property
    def sqlite_path(self) -> Path | None:
        """The database file when ``DATABASE_URL`` names an SQLite file, else ``None``."""
        from sqlalchemy.engine import make_url  # noqa: PLC0415

        url = make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database)


def _describe(error: dict[str, Any]) -> str:
    """One readable line for one pydantic error, naming the environment variable."""
    loc = [str(part) for part in error.get("loc", ()) if not isinstance(part, int)]
    message = str(error.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ")
    if not loc:
        # A model-level check already starts with the variable's name.
        return message
    name = loc[0]
    variable = name.upper()
    if error.get("type") == "literal_error" and "expected" in error.get("ctx", {}):
        message = "must be " + str(error["ctx"]["expected"])
    elif name not in _SECRET_FIELDS and "input" in error and error["type"] != "value_error":
        message = f"{error['input']!r}: {message[0].lower()}{message[1:]}"
    return f"{variable}: {message}"


def load_settings(*, env_file: str | None = ".env", **overrides: Any) -> Settings:
    """Read and check the configuration once; raise :class:`ConfigError` with one line if bad.

    ``overrides`` take precedence over the environment and ``env_file`` (``None``: no file).
    """
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        raise ConfigError(_describe(dict(first))) from None
