"""The commands in the menu of every private chat, with their (translatable) descriptions.

The conversation sets them for everyone (``/start``, ``/cancel``, …); the staff's menu
(:mod:`bot.staff`) shows them above the staff commands.
"""

from __future__ import annotations

from bot.i18n import N_

__all__ = ["COMMANDS"]

COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Enroll in a course")),
    ("cancel", N_("Cancel your enrollment")),
    ("language", N_("Nederlands / English")),
    ("help", N_("What I can do")),
    ("privacy", N_("Your data: what I keep, see it, erase it")),
)
