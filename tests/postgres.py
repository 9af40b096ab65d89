"""A real PostgreSQL server for the test session, started from the binaries on this machine.

:func:`find_binaries` looks in ``$POSTGRES_BIN``, then ``/usr/lib/postgresql/<newest>/bin``,
then beside ``initdb`` on ``PATH``. :class:`PostgresServer` makes a throwaway cluster in a
temporary folder (``initdb``, no password, UTF-8), listens only on a unix socket in that folder
(no port to collide with), and is removed again by :meth:`PostgresServer.stop`. PostgreSQL
refuses to run as root: as root the server runs as the ``postgres`` system user (created when
missing, as in a bare CI container). Durability is switched off (``fsync``, synchronous commit):
the data lives for one test run.

Every test gets a database of its own, copied from a template that is migrated once
(:meth:`PostgresServer.create_database`): ``CREATE DATABASE ... TEMPLATE`` takes milliseconds.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from bot.store.db import open_engine
from bot.store.migrations import upgrade

USER = "postgres"
TEMPLATE = "enrollbot_template"


def find_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or ``None`` when there is none."""
    candidates: list[Path] = []
    if os.environ.get("POSTGRES_BIN"):
        candidates.append(Path(os.environ["POSTGRES_BIN"]))
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: _version(p.parent.name), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder, reached over its unix socket."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="enrollbot-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self._names = itertools.count(1)
        self._as_user: dict[str, Any] = {}
        self._copy = ""
        if os.geteuid() == 0:
            _ensure_user(USER)
            entry = pwd.getpwnam(USER)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
            self._as_user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _run(self, *command: str) -> None:
        result = subprocess.run(
            [str(self.binaries / command[0]), *command[1:]],
            cwd=self.folder,
            capture_output=True,
            text=True,
            check=False,
            **self._as_user,
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(
                f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}\n{log}"
            )

    def start(self) -> None:
        """initdb and start; then the migrated template every test database is copied from."""
        self._run(
            "initdb",
            "--pgdata",
            str(self.data),
            "--username",
            USER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        options = " ".join(
            (
                f"-k {self.folder}",
                "-c listen_addresses=''",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=300",
            )
        )
        self._run(
            "pg_ctl",
            "--pgdata",
            str(self.data),
            "--log",
            str(self.log),
            "-w",
            "-o",
            options,
            "start",
        )
        self._admin(f'CREATE DATABASE "{TEMPLATE}"')
        # Copying the template's files is 4 times as fast as writing them through the WAL
        # (PostgreSQL 15's default), with fsync off.
        if int(self._admin("SHOW server_version_num") or 0) >= 150000:
            self._copy = " STRATEGY FILE_COPY"
        engine = open_engine(self.url(TEMPLATE))
        try:
            upgrade(engine)
        finally:
            engine.dispose()

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        with contextlib.suppress(RuntimeError):
            self._run("pg_ctl", "--pgdata", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of one of this server's databases."""
        return f"postgresql+psycopg://{USER}@/{database}?host={self.folder}"

    def _admin(self, statement: str) -> str | None:
        with psycopg.connect(
            host=str(self.folder), user=USER, dbname="postgres", autocommit=True
        ) as connection:
            cursor = connection.execute(statement.encode())
            row = cursor.fetchone() if cursor.description else None
            return str(row[0]) if row else None

    def create_database(self, *, migrated: bool = True) -> str:
        """A new database of its own (at the current schema, or empty); its URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        template = TEMPLATE if migrated else "template0"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{self._copy}')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`create_database`, whoever is still connected."""
        name = make_url(url).database
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _ensure_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
        )
