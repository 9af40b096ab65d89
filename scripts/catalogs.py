"""Keep the gettext catalogs current: ``update`` after changing texts, ``check`` in CI.

    python scripts/catalogs.py update   extract messages.pot, merge it into every .po
    python scripts/catalogs.py check    fail if messages.pot is stale or any .po is incomplete

English is the source language: ``update`` fills an empty English msgstr with its msgid, so the
English catalog is complete and can still be reworded without touching code. Dutch needs a
human translation of every message; ``check`` lists what is missing or fuzzy.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
LANGUAGES = ("nl", "en")
SOURCES = ("bot", "conversations")


def _extract(target: Path) -> None:
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "--no-location",
            "--sort-output",
            "--add-comments=Translators:",
            "--omit-header",
            "--project=enrollbot",
            "-F",
            str(ROOT / "babel.cfg"),
            "-o",
            str(target),
            *(str(ROOT / source) for source in SOURCES),
        ],
        check=True,
        cwd=ROOT,
    )


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(
            handle,
            catalog,
            width=99,
            omit_header=False,
            sort_output=True,
            ignore_obsolete=True,
            no_location=True,
        )


def _keys(catalog: Catalog) -> set[tuple[object, str | None]]:
    return {(message.id, message.context) for message in catalog if message.id}


def update() -> None:
    """Extract the texts and merge them into every language's catalog."""
    _extract(POT)
    template = _read(POT)
    for language in LANGUAGES:
        po = LOCALES / language / "LC_MESSAGES" / "messages.po"
        catalog = (
            _read(po, language)
            if po.exists()
            else Catalog(locale=language, project="enrollbot", version="1", fuzzy=False)
        )
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if language == "en":
            for message in catalog:
                if message.id and not _translated(message.string):
                    message.string = message.id
        _write(po, catalog)
        missing = [m.id for m in catalog if m.id and not _translated(m.string)]
        print(f"{po.relative_to(ROOT)}: {len(catalog)} messages, {len(missing)} to translate")


def _translated(string: object) -> bool:
    if isinstance(string, tuple | list):
        return all(string)
    return bool(string)


def check() -> int:
    """Return 0 when the template is current and every catalog is complete, else 1."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "messages.pot"
        _extract(fresh)
        current = _keys(_read(fresh))
    if not POT.exists() or _keys(_read(POT)) != current:
        problems.append("locales/messages.pot is stale: run `make catalogs` and translate")
    for language in LANGUAGES:
        po = LOCALES / language / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            problems.append(f"{po.relative_to(ROOT)} is missing")
            continue
        catalog = _read(po, language)
        if _keys(catalog) != current:
            problems.append(f"{po.relative_to(ROOT)} does not match the code: run `make catalogs`")
        for message in catalog:
            if not message.id:
                continue
            if message.fuzzy:
                problems.append(f"{language}: fuzzy: {message.id!r}")
            elif not _translated(message.string):
                problems.append(f"{language}: untranslated: {message.id!r}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"catalogs current and complete ({len(current)} messages)")
    return 1 if problems else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "update":
        update()
    elif command == "check":
        sys.exit(check())
    else:
        sys.exit(f"usage: {sys.argv[0]} update|check")
