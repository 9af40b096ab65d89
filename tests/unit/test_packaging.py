"""What ships: the wheel and the Docker image hold the product, not the sandboxes.

The sandboxes (top-level ``sandbox``) serve the demo, the tests and the benchmarks from a
checkout; an operator's install must not carry them, nor fall back to them (``bot.demo``).
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_holds_the_bot_and_no_sandbox(tmp_path: Path) -> None:
    """The wheel as pip builds it (with the installed hatchling, offline)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("enrollbot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "bot/__main__.py" in names
    assert "bot/demo.py" in names  # says that the demo is not installed, importing nothing
    assert "conversations/handlers.py" in names
    assert any(name.startswith("bot/locales/nl/") for name in names)
    assert [name for name in names if "sandbox" in name.split("/")[:-1]] == []
    assert [name for name in names if name.startswith(("tests/", "bench/"))] == []


def test_the_image_copies_no_sandbox() -> None:
    """Every COPY of the Dockerfile names a part of the product; none copies the checkout."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    copies = [
        line.split()[1:-1]
        for line in dockerfile.splitlines()
        if re.match(r"COPY\s", line) and "--from" not in line
    ]
    sources = {source for sources in copies for source in sources}
    assert {"bot", "conversations", "locales", "migrations"} <= sources
    assert sources.isdisjoint({".", "./", "sandbox", "sandbox/", "tests", "bench"})
