"""The one settings object: read once at start from the environment or a ``.env`` file.

Nothing else in the program reads ``os.environ``. A bad value stops the program with one line
that names the variable and what is wrong with it (:func:`load_settings`); secret values are
``SecretStr`` and never appear in that line, in ``repr`` or in logs.
"""

from __future__ import annotations

import ipaddress
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

__all__ = ["ConfigError", "Settings", "load_settings", "split_listen"]

_TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{30,}$")
_WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_SECRET_FIELDS = frozenset({"telegram_bot_token", "coachview_client_secret", "webhook_secret"})


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
    # The outbox worker (bot/workers/submission.py): how long a claimed row is reserved for one
    # worker (a POST is given up after half of it), the first and the longest wait between
    # attempts, how often the outbox is checked when nothing wakes the worker, and a pause switch.
    submission_lease: timedelta = Field(default=timedelta(minutes=2), gt=timedelta(0))
    submission_retry_base: timedelta = Field(default=timedelta(seconds=5), gt=timedelta(0))
    submission_retry_max: timedelta = Field(default=timedelta(minutes=30), gt=timedelta(0))
    submission_poll: timedelta = Field(default=timedelta(seconds=30), gt=timedelta(0))
    submissions_paused: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # -- Never silence when Coachview fails (bot/catalogue.py) -----------------------------------
    # How long a person waits for one catalogue read before the bot answers "I can't load ...
    # right now" with a Try again button (the read goes on and fills the cache when it ends).
    coachview_patience: timedelta = Field(default=timedelta(seconds=5), gt=timedelta(0))

    # -- Each provider's own questions (bot/questions.py) ---------------------------------------
    # A TOML file of extra questions (examples/questions/); without it the built-in ones only.
    # The general terms a person accepts before sending (a link on the review), and the
    # webaanvraag path that receives the time of acceptance (e.g. vrijevelden.Voorwaarden).
    questions_file: Path | None = None
    terms_url: AnyHttpUrl | None = None
    terms_coachview: str | None = None

    @model_validator(mode="after")
    def _questions_readable(self) -> Settings:
        from bot.questions import QuestionsError, load_questions, terms_problem  # noqa: PLC0415

        try:
            questions = load_questions(self.questions_file)
        except QuestionsError as err:
            raise ValueError(f"QUESTIONS_FILE: {err}") from None
        from bot.coachview.webaanvraag import persoon_path  # noqa: PLC0415

        reference = self.coachview_reference_field
        for question in questions.all:
            if question.coachview == reference and not persoon_path(reference, question.for_):
                raise ValueError(
                    f"QUESTIONS_FILE: question {question.id}: coachview path {reference!r} "
                    "holds the bot's reference (COACHVIEW_REFERENCE_FIELD): choose another"
                )
        if self.terms_coachview == reference:
            raise ValueError(
                f"TERMS_COACHVIEW: {reference!r} holds the bot's reference "
                "(COACHVIEW_REFERENCE_FIELD): choose another"
            )
        if self.terms_coachview:
            if self.terms_url is None:
                raise ValueError("TERMS_COACHVIEW: is only used with TERMS_URL")
            problem = terms_problem(self.terms_coachview, questions)
            if problem:
                raise ValueError(f"TERMS_COACHVIEW: {problem}")
        return self

    @field_validator("coachview_patience", mode="before")
    @classmethod
    def _patience_seconds(cls, value: Any) -> Any:
        return cls._seconds(value)

    # -- Course reminders (bot/workers/course_reminders.py): the message the day before a date --
    course_reminders: bool = True
    course_reminder_hour: int = Field(default=17, ge=7, le=20)

    # -- Coachview's unverified details (bot/coachview/webaanvraag.py) ---------------------------
    # Where the bot's TG- reference travels in a webaanvraag: opmerking (appended on a line of
    # its own), vrijevelden.<code> (a free field) or referentieNrKlant (the customer's own
    # reference: only if the provider wants it there). aanvraagIsOrder: unset = not sent.
    coachview_reference_field: str = "opmerking"
    coachview_aanvraag_is_order: bool | None = None

    # -- Privacy (/privacy, /mydata, /forget; bot/workers/retention.py) -------------------------
    # Whom people ask about their data (the provider's e-mail address or web page), shown by
    # /privacy and /forget when set; how long a sent enrollment keeps its personal fields.
    privacy_contact: str | None = None
    sent_retention: timedelta = Field(default=timedelta(days=30), gt=timedelta(0))

    # -- Webhook mode, health and metrics, log format (bot/serving.py) ---------------------------
    # With WEBHOOK_URL Telegram posts updates there (HTTPS; plain HTTP only to this machine, for
    # a local Bot API server and tests) and the bot serves its path on WEBHOOK_LISTEN, with
    # /healthz, /readyz and /metrics; METRICS_LISTEN serves those three on an address of their
    # own (in either mode; the only way to have them while long polling).
    webhook_url: AnyHttpUrl | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0:8080"
    metrics_listen: str | None = None
    log_format: Literal["text", "json"] = "text"

    # -- Hostile users hurt no one (bot/budgets.py, bot/floods.py) -------------------------------
    # Coachview look-ups one person may cause per hour beyond the cached catalogue (deep links
    # to ids not in the catalogue, Try again presses); staff commands per hour per staff member.
    person_lookups_per_hour: int = Field(default=6, ge=1)
    staff_commands_per_hour: int = Field(default=300, ge=1)
    # A chat that sends more than FLOOD_MESSAGES updates within FLOOD_WINDOW seconds is told
    # once to slow down; its updates are applied but not answered until the burst calms.
    flood_messages: int = Field(default=20, ge=2)
    flood_window: timedelta = Field(default=timedelta(seconds=10), gt=timedelta(0))
    # Replies keep to Telegram's per-chat rate (about one a second after a burst of three);
    # false only for simulations whose people answer in microseconds (the benchmark).
    reply_pacing: bool = True

    @field_validator("flood_window", mode="before")
    @classmethod
    def _flood_window_seconds(cls, value: Any) -> Any:
        return cls._seconds(value)

    # -- Several instances behind one webhook (bot/claims.py) -------------------------------------
    # In webhook mode one instance at a time handles a chat's updates: it claims the chat for
    # CHAT_CLAIM_LEASE seconds and renews the claim every quarter of it while it works. When an
    # instance dies, its chats wait that long before another instance takes them over.
    chat_claim_lease: timedelta = Field(default=timedelta(seconds=10), gt=timedelta(0))

    @field_validator("chat_claim_lease", mode="before")
    @classmethod
    def _chat_claim_lease_seconds(cls, value: Any) -> Any:
        return cls._seconds(value)

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
        "sent_retention",
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

    @field_validator("coachview_reference_field")
    @classmethod
    def _reference_field(cls, value: str) -> str:
        from bot.coachview.webaanvraag import check_reference_field  # noqa: PLC0415

        return check_reference_field(value.strip())

    @field_validator("telegram_api_url", "coachview_base_url")
    @classmethod
    def _no_trailing_path(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if value is not None and value.path not in (None, "", "/"):
            raise ValueError(f"must be the server root without a path, not {str(value)!r}")
        return value

    @field_validator("privacy_contact")
    @classmethod
    def _contact_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value) or re.fullmatch(
            r"https?://[^\s]+\.[^\s]+", value
        ):
            return value
        raise ValueError("must be an e-mail address or a web address (https://...)")

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

    # -- Webhook mode, health and metrics -------------------------------------------------------

    @field_validator("webhook_url")
    @classmethod
    def _webhook_https(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if value is not None and value.scheme != "https" and not _is_loopback(value.host):
            raise ValueError("must be an https:// URL (Telegram posts only over HTTPS)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET_RE.fullmatch(value.get_secret_value()):
            raise ValueError(
                "must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)"
            )
        return value

    @field_validator("webhook_listen", "metrics_listen")
    @classmethod
    def _listen_shape(cls, value: str | None) -> str | None:
        if value is not None:
            split_listen(value)
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url is not None and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET: is required when WEBHOOK_URL is set")
        return self

    @property
    def demo(self) -> bool:
        """Without a bot token only ``enrollbot demo`` runs (``make run`` starts it), with the
        Telegram sandbox."""
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


def split_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8080`` for IPv6) as a host and a port; ValueError if it is not."""
    host, sep, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not host:port, such as 0.0.0.0:8080")
    return host, int(port)


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address((host or "").strip("[]")).is_loopback
    except ValueError:
        return False


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
