"""Every text reaches the catalogs: gettext calls take literal strings, outside f-strings.

Babel extracts ``_("...")``, ``N_("...")`` and ``ngettext("...", "...", n)`` by reading the
source; a call inside an f-string, or with anything but a literal, is silently left out of the
catalog, and Dutch readers would then see English.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    path
    for folder in ("bot", "conversations")
    for path in (ROOT / folder).rglob("*.py")
    if path != ROOT / "bot" / "i18n.py"  # where the gettext functions are defined
)
GETTEXT = {"_": 1, "N_": 1, "ngettext": 2}


def _name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def problems(source: str) -> list[str]:
    tree = ast.parse(source)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call) and _name(inner) in GETTEXT:
                    found.append(f"line {inner.lineno}: {_name(inner)}() inside an f-string")
        if isinstance(node, ast.Call) and _name(node) in GETTEXT:
            literal_args = GETTEXT[_name(node) or ""]
            args = node.args[:literal_args]
            literal = all(
                isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in args
            )
            # t._(label) of a variable translates a text marked with N_() where it is defined.
            translating_marked = _name(node) == "_" and isinstance(node.func, ast.Attribute)
            if (len(args) < literal_args or not literal) and not translating_marked:
                found.append(f"line {node.lineno}: {_name(node)}() without literal text")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_gettext_calls_are_extractable(path: Path) -> None:
    assert problems(path.read_text(encoding="utf-8")) == []


def test_the_check_sees_a_call_inside_an_f_string() -> None:
    assert problems("x = f\"<b>{t._('Hi')}</b>\"") == ["line 1: _() inside an f-string"]
    assert problems("x = N_(name)") == ["line 1: N_() without literal text"]
