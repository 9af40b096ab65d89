"""The deployment files, checked without docker: compose.yaml, deploy/Caddyfile, Dockerfile.

What is checked is what would go wrong silently: a setting the bot does not know or rejects,
two instances that do not share one webhook, a proxy that misses an instance or passes the
metrics to the internet, a database without a volume, a bot that starts before migrations.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.config import Settings, load_settings, split_listen

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = {
    "POSTGRES_PASSWORD": "pw",
    "WEBHOOK_DOMAIN": "bot.example.nl",
    "WEBHOOK_SECRET": "s3cret-from-the-env",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def substituted(value: str) -> str:
    """Compose's ${NAME:?message} with the example environment."""
    return re.sub(r"\$\{(\w+)(:\?[^}]*)?\}", lambda m: EXAMPLE[m.group(1)], value)


def bot_settings(service: dict[str, Any]) -> Settings:
    environment = {k.lower(): substituted(str(v)) for k, v in service["environment"].items()}
    unknown = set(environment) - set(Settings.model_fields)
    assert not unknown, f"settings the bot does not have: {unknown}"
    return load_settings(env_file=None, telegram_bot_token="123456:" + "A" * 35, **environment)


def bots(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("entrypoint") == ["enrollbot"]
    }


def test_two_instances_share_one_webhook_and_one_postgresql(compose: dict[str, Any]) -> None:
    instances = bots(compose)
    assert len(instances) == 2
    settings = [bot_settings(service) for service in instances.values()]
    assert {str(s.webhook_url) for s in settings} == {"https://bot.example.nl/telegram/updates"}
    assert {s.webhook_secret.get_secret_value() for s in settings if s.webhook_secret} == {
        "s3cret-from-the-env"
    }
    assert {s.database_url for s in settings} == {
        "postgresql+psycopg://enrollbot:pw@db:5432/enrollbot"
    }
    for service in instances.values():
        assert "${WEBHOOK_SECRET" in service["environment"]["WEBHOOK_SECRET"]  # from the env
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "/healthz" in json.dumps(service["healthcheck"]["test"])


def test_migrations_run_once_before_the_instances(compose: dict[str, Any]) -> None:
    migrate = compose["services"]["migrate"]
    assert migrate["entrypoint"] == ["enrollbot", "migrate"]
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot_settings(migrate).database_url.startswith("postgresql+psycopg://")


def test_the_database_keeps_its_data_on_a_volume(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    [volume] = db["volumes"]
    name, path = volume.split(":")
    assert path == "/var/lib/postgresql/data"
    assert name in compose["volumes"]


def test_the_proxy_passes_only_the_webhook_to_every_instance(compose: dict[str, Any]) -> None:
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    instances = bots(compose)
    upstreams = re.search(r"reverse_proxy ([^{]+)\{", caddyfile)
    assert upstreams is not None
    expected = set()
    for name, service in instances.items():
        settings = bot_settings(service)
        expected.add(f"{name}:{split_listen(settings.webhook_listen)[1]}")
        path = urlsplit(str(settings.webhook_url)).path
        assert f"handle {path} {{" in caddyfile
    assert set(upstreams.group(1).split()) == expected
    assert "respond 404" in caddyfile  # /metrics, /readyz and the rest stay inside
    mounts = compose["services"]["proxy"]["volumes"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in mounts


def test_the_image_migrates_before_it_runs_the_bot() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    [entrypoint] = [line for line in dockerfile.splitlines() if line.startswith("ENTRYPOINT")]
    command = json.loads(entrypoint.removeprefix("ENTRYPOINT"))
    assert command[:2] == ["/bin/sh", "-c"]
    assert command[2].startswith("enrollbot migrate && exec enrollbot ")
    assert "EXPOSE 8080" in dockerfile
