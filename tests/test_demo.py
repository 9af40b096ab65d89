"""The README's run command without credentials: the local demo, driven from its terminal.

``python -m bot demo`` (what ``make run`` starts without a token) as its own process, with no
``TELEGRAM_BOT_TOKEN`` and no Coachview: both
sandboxes start inside it and the terminal is a chat. The test types into its stdin, as a
newcomer would, and reads its stdout: a whole enrollment in Dutch, the confirmation with
Coachview's number, the staff notice, /recent, and /quit ending the program cleanly.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
WAIT = 30.0
CATALOGS = [f"locales/{language}/LC_MESSAGES/messages.mo" for language in ("nl", "en")]


class Terminal:
    """The demo's terminal: what was printed so far, and typing a line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output = ""
        self._read_upto = 0

    async def expect(self, pattern: str) -> re.Match[str]:
        """Wait until ``pattern`` is printed after the last line typed; return the match."""
        compiled = re.compile(pattern)
        stdout = self.process.stdout
        assert stdout is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while (found := compiled.search(self.output, self._read_upto)) is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"{pattern!r} was not printed; the terminal:\n{self.output}")
            try:
                chunk = await asyncio.wait_for(stdout.read(4096), remaining)
            except TimeoutError:
                continue
            if not chunk:
                raise AssertionError(f"the demo ended before {pattern!r}:\n{self.output}")
            self.output += chunk.decode()
        return found

    @property
    def since_typed(self) -> str:
        """What was printed after the last line typed."""
        return self.output[self._read_upto :]

    async def type(self, line: str) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        self._read_upto = len(self.output)
        stdin.write(line.encode() + b"\n")
        await stdin.drain()

    async def press(self, label: str) -> None:
        """Type the number the demo printed before the button ``label``."""
        number = (await self.expect(r"\[(\d+)\] " + re.escape(label))).group(1)
        await self.type(number)


@asynccontextmanager
async def demo(tmp_path: Path, preset: str | None = None) -> AsyncIterator[Terminal]:
    """``python -m bot demo`` without credentials, in ``tmp_path`` (with the questions ``preset``
    of ``examples/questions/``): its terminal, until the block ends (then it must have ended by
    /quit, without a traceback)."""
    questions = {"QUESTIONS_FILE": f"{ROOT}/examples/questions/{preset}.toml"} if preset else {}
    environment = {
        **questions,
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "NO_COLOR": "1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "demo",
        cwd=tmp_path,
        env=environment,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    terminal = Terminal(process)
    try:
        yield terminal
        await terminal.type("/quit")
        assert await asyncio.wait_for(process.wait(), WAIT) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert "Traceback" not in terminal.output


@pytest.mark.parametrize("preset", [None, "certificates"])
async def test_a_newcomer_enrolls_in_the_demo_without_credentials(
    tmp_path: Path, preset: str | None
) -> None:
    """The demo as it ships, and with a preset of questions (``QUESTIONS_FILE=...``)."""
    async with demo(tmp_path, preset) as terminal:
        await terminal.expect("Voor welke opleiding wil je je inschrijven")
        await terminal.press("Volgende »")
        await terminal.press("VCA Basis")
        await terminal.expect("Welke datum wil je?")
        await terminal.type("1")
        for question, answer in [
            ("Wat is je voornaam?", "Jan"),
            ("Heeft je achternaam een tussenvoegsel", "van"),
            ("Wat is je achternaam?", "Dijk"),
            ("Wat is je e-mailadres?", "jan@voorbeeld.nl"),
            ("Wat is je telefoonnummer?", "06 12345678"),
            ("Voor welk bedrijf werk je?", "Van Dijk & Zn"),
        ]:
            await terminal.expect(re.escape(question))
            await terminal.type(answer)
        await terminal.press("Ja, ik doe mee")
        if preset:
            await terminal.expect("Over jou: Wat is de geboortedatum?")
            await terminal.type("12 maart 1990")
        await terminal.expect("Wil je ook iemand anders inschrijven?")
        await terminal.press("Nee")
        await terminal.expect("Wil je ons nog iets laten weten")
        await terminal.type("Graag vegetarisch")
        await terminal.expect("Controleer je inschrijving")
        review = terminal.since_typed
        assert "Jan van Dijk" in review
        assert "Van Dijk & Zn" in review  # shown as typed, not as markup
        assert ("Geboortedatum: 12 maart 1990" in review) is bool(preset)
        await terminal.press("✅ Inschrijving versturen")
        number = (await terminal.expect(r"Je inschrijving is ontvangen\. Het nummer is (\d+)"))[1]
        await terminal.expect("Nieuwe inschrijving")  # the demo's person is staff too
        await terminal.type("/recent")
        await terminal.expect(re.escape(number))


async def test_staff_link_a_course_and_anyone_shares_one_inline_in_the_demo(
    tmp_path: Path,
) -> None:
    async with demo(tmp_path) as terminal:
        await terminal.expect("Voor welke opleiding wil je je inschrijven")
        await terminal.type("/link")
        await terminal.press("VCA Basis (VCA-B)")
        await terminal.press("📚 De opleiding als geheel")
        photo = await terminal.expect(r"📎 photo saved as (\S+-qr\.png)")
        svg = await terminal.expect(r"📎 document saved as (\S+-qr\.svg)")
        assert (tmp_path / photo[1]).read_bytes().startswith(b"\x89PNG")
        assert b"<svg" in (tmp_path / svg[1]).read_bytes()
        link = terminal.output[photo.end() : svg.start()]
        assert "https://t.me/enrollbot_sandbox_bot?start=" in link

        await terminal.type("@bot excel")
        await terminal.expect(r"\[1\] Excel Basis — EXCEL-B · ")
        await terminal.type("1")
        card = await terminal.expect(r"\[✍️ Inschrijven → (https://t\.me/\S+)\]")
        assert "📚 Excel Basis" in terminal.since_typed
        assert card[1].startswith("https://t.me/enrollbot_sandbox_bot?start=")


@pytest.fixture
def no_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No variable of the developer's shell or .env: nothing configured."""
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "COACHVIEW_", "WEBHOOK_", "DATABASE_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.usefixtures("no_configuration")
def test_the_bot_without_a_token_names_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "TELEGRAM_BOT_TOKEN is not set" in line
    assert "`enrollbot demo`" in line


@pytest.mark.usefixtures("no_configuration")
def test_a_real_token_without_coachview_stops_with_both_ways_out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Real people's enrollments never go into an in-memory Coachview by omission."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
    assert main(["run"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("enrollbot: configuration error: ")
    assert "set COACHVIEW_BASE_URL" in line
    assert "`enrollbot demo`" in line


@pytest.mark.usefixtures("no_configuration")
def test_the_demo_where_the_sandboxes_are_not_installed_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As in the image: the sandbox package cannot be imported."""
    for module in ("sandbox", "sandbox.coachview", "sandbox.telegram", "sandbox.chat"):
        monkeypatch.setitem(sys.modules, module, None)
    assert main(["demo"]) == 2
    err = capsys.readouterr().err
    assert "the demo and its sandboxes are not part of this installation" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("token", "command"), [(None, "demo"), ("123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "run")]
)
def test_make_run_starts_the_demo_without_a_token_and_the_bot_with_one(
    tmp_path: Path, token: str | None, command: str
) -> None:
    """The command ``make run`` gives ``enrollbot`` (make -n: printed, not run)."""
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    if token:
        environment["TELEGRAM_BOT_TOKEN"] = token
    recipe = subprocess.run(
        ["make", "-s", "-n", "-o", ".venv/.installed", *(f"-o{mo}" for mo in CATALOGS), "run"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    chosen = subprocess.run(
        [
            "sh",
            "-c",
            recipe.replace(".venv/bin/enrollbot", "echo").replace(
                ".venv/bin/python", sys.executable
            ),
        ],
        cwd=tmp_path,
        env={**environment, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert chosen.split() == [command]
