"""The check's report: one row per thing checked, ✓ or ✗, what to do about each ✗, printed as
a table (operator output, English, not translated)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

__all__ = ["TIMEOUT", "CheckLine", "CheckReport", "why"]

TIMEOUT = httpx.Timeout(connect=5.0, read=15.0, write=10.0, pool=5.0)
"""Of every request the check makes."""


@dataclass
class CheckLine:
    """One row of the table: ``ok`` or not, what was checked, what was found, and (when not
    ok) what to do; ``blocking`` when the bot cannot take enrollments without it."""

    ok: bool
    what: str
    found: str
    todo: str = ""
    blocking: bool = False


@dataclass
class CheckReport:
    """Every row, the records the catalogue skipped, and the Coachview requests used."""

    lines: list[CheckLine] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    coachview_requests: int = 0

    @property
    def can_take_enrollments(self) -> bool:
        return not any(line.blocking and not line.ok for line in self.lines)

    def add(
        self, ok: bool, what: str, found: str, todo: str = "", *, blocking: bool = False
    ) -> None:
        self.lines.append(CheckLine(ok, what, found, todo, blocking and not ok))

    def render(self) -> str:
        width = max((len(line.what) for line in self.lines), default=0)
        rows = [
            f"{'✓' if line.ok else '✗'} {line.what.ljust(width)}  {line.found}"
            for line in self.lines
        ]
        if self.skipped:
            rows.append("")
            rows.append(f"Catalogue records skipped ({len(self.skipped)}):")
            rows.extend(f"  - {text}" for text in self.skipped)
        todo = [line for line in self.lines if not line.ok]
        if todo:
            rows.append("")
            rows.append("What to do:")
            rows.extend(f"✗ {line.what}: {line.todo}" for line in todo)
        rows.append("")
        rows.append(f"Coachview requests used: {self.coachview_requests}")
        rows.append(
            "The bot can take enrollments."
            if self.can_take_enrollments
            else "The bot cannot take enrollments until every blocking ✗ above is fixed."
        )
        return "\n".join(rows)


def why(error: Exception) -> str:
    """An error in a few words (no bodies: they may echo what was sent)."""
    status = getattr(error, "status", None)
    return f"{type(error).__name__}{f' {status}' if status else ''}"
