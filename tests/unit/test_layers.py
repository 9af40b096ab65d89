"""The layers import one way: a lower layer never imports a higher one.

From the bottom: ``bot.coachview`` (Coachview's API, knowing nothing of Telegram or the store),
the rest of ``bot`` (store, workers, staff, Telegram plumbing), ``conversations`` (what a person
goes through), and the composition root, the only modules that know every part:
:data:`COMPOSITION`. The sandboxes (``sandbox``) are no part of the product: only the demo's
door, ``bot/demo.py``, opens them. Every import counts, at the top of a module or inside a
function, ``TYPE_CHECKING`` ones too: a lazy upward import is still an upward import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bot", "conversations")
COMPOSITION = frozenset({"bot/app.py", "bot/__main__.py"})
"""Where the parts are put together: these may import every layer."""
DEMO = frozenset({"bot/demo.py"})
"""The only door from the product into the sandboxes."""


def modules() -> Iterator[Path]:
    for package in PRODUCT:
        yield from sorted((ROOT / package).rglob("*.py"))


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports (absolute, as written), with its line."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:  # ``from bot import staff`` imports bot.staff
                yield node.lineno, f"{node.module}.{alias.name}"


def is_in(module: str, *packages: str) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def forbidden(relative: str, module: str) -> str | None:
    """Why ``relative`` (a file of the product) may not import ``module``, or ``None``."""
    if relative in COMPOSITION:
        return None if not is_in(module, "sandbox") else "only bot/demo.py imports the sandboxes"
    if is_in(module, "sandbox") and relative not in DEMO:
        return "only bot/demo.py imports the sandboxes"
    if relative.startswith("bot/") and is_in(module, "conversations"):
        return "bot is below conversations"
    if relative.startswith("bot/coachview/") and (
        is_in(module, "telegram", "bot.store", "sqlmodel", "sqlalchemy")
        or (is_in(module, "bot") and not is_in(module, *COACHVIEW_MAY_IMPORT))
    ):
        return "bot.coachview knows nothing of Telegram, the store or the bot around it"
    return None


COACHVIEW_MAY_IMPORT = (
    "bot.coachview",
    "bot.clock",
    "bot.config",
    "bot.enrollment",  # the domain model it turns into a webaanvraag
    "bot.errors",
)


def violations() -> list[str]:
    """One line per offending import: the file, the line, the module and the rule."""
    found: dict[tuple[str, int], str] = {}
    for path in modules():
        relative = path.relative_to(ROOT).as_posix()
        for line, module in imports(path):
            if (reason := forbidden(relative, module)) is not None:
                found.setdefault((relative, line), f"{relative}:{line} imports {module}: {reason}")
    return sorted(found.values())


def test_no_lower_layer_imports_a_higher_one() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("relative", "module"),
    [
        ("bot/staff/lookups.py", "conversations.handlers"),
        ("bot/workers/reminders.py", "conversations"),
        ("bot/preflight/__init__.py", "sandbox.coachview"),
        ("conversations/handlers.py", "sandbox"),
        ("bot/app.py", "sandbox.telegram"),
        ("bot/coachview/client.py", "telegram"),
        ("bot/coachview/client.py", "bot.store.outbox"),
        ("bot/coachview/webaanvraag.py", "bot.services"),
    ],
)
def test_an_upward_import_is_caught(relative: str, module: str) -> None:
    """The rules themselves: each of these would be reported."""
    assert forbidden(relative, module) is not None


@pytest.mark.parametrize(
    ("relative", "module"),
    [
        ("bot/app.py", "conversations.handlers"),
        ("bot/demo.py", "sandbox.chat"),
        ("conversations/handlers.py", "bot.staff"),
        ("bot/coachview/client.py", "bot.coachview.models"),
        ("bot/staff/lookups.py", "bot.coachview.client"),
    ],
)
def test_a_downward_import_is_allowed(relative: str, module: str) -> None:
    assert forbidden(relative, module) is None


def test_every_module_of_the_product_is_walked() -> None:
    walked = {path.relative_to(ROOT).as_posix() for path in modules()}
    assert {
        "bot/staff/lookups.py",
        "bot/coachview/client.py",
        "conversations/handlers.py",
    } <= walked
    assert not any(path.startswith("sandbox/") for path in walked)
