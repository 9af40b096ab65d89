"""Command line: ``enrollbot`` (or ``python -m bot``)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the program; returns the process exit code."""
    del argv
    print("enrollbot: not yet runnable", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
