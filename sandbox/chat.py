"""The terminal chat of the local demo: this terminal is a person talking to the bot.

The person is a simulated Telegram user in the Telegram sandbox (``SandboxUser``): what is typed
is sent as their message, and everything the bot sends or edits in their chat is printed as it
arrives. Buttons are numbered; typing a number presses that button of the bot's latest message,
or of the keyboard under the text field (a "share my number" button shares a demo phone
number). ``/quit`` ends the demo.

A photo or document the bot sends is saved under ``data/demo-files/`` and shown as its path.
``@bot text`` (or ``@<the bot's username> text``) is an inline query as typed in any chat: the
results are numbered, and typing a number shares that one (the card is shown as posted in a
chat with a friend). A button that opens a ``t.me`` link to the bot follows it (``/start``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qs, urlparse

from sandbox.telegram import ChatMessage, InlineAnswer, SandboxUser, TelegramSandbox

__all__ = ["TerminalChat"]

DEMO_PHONE = "+31612345678"
BOLD, DIM, RESET = "\033[1m", "\033[2m", "\033[0m"


class TerminalChat:
    """Reads lines from ``stdin`` and prints the bot's side of the chat to ``stdout``."""

    def __init__(
        self,
        telegram: TelegramSandbox,
        *,
        first_name: str = "Demo",
        language_code: str = "nl",
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        files: Path = Path("data/demo-files"),
    ) -> None:
        self.telegram = telegram
        self.files = files
        self._inline: InlineAnswer | None = None
        self.user: SandboxUser = telegram.user(first_name, language_code=language_code)
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.colour = self.stdout.isatty() and "NO_COLOR" not in os.environ
        self._shown: dict[int, str] = {}

    async def run(self) -> None:
        """Chat until ``/quit`` or the end of the input."""
        self._print(
            self._style(
                DIM,
                "Local demo: you are chatting with the bot. Type an answer, or the number of a "
                "button. You are staff too: try /recent after enrolling. /quit stops.\n"
                "Lokale demo: typ een antwoord, of het nummer van een knop. Je bent ook "
                "medewerker: probeer /recent na het inschrijven. /quit stopt.",
            )
        )
        printer = asyncio.create_task(self._print_replies())
        try:
            await self.user.send("/start")
            async for line in self._lines():
                text = line.strip()
                if text in ("/quit", "/exit"):
                    break
                if text:
                    await self._act(text)
        finally:
            printer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await printer

    async def _act(self, text: str) -> None:
        """Send ``text``, or press the button whose number it is (of the latest message)."""
        latest = self.user.last_message
        choice = int(text) - 1 if text.isdigit() else -1
        inline, self._inline = self._inline, None
        if inline is not None and 0 <= choice < len(inline.results):
            self._show_card(self.user.choose(inline, choice))
            return
        if text.startswith("@"):
            await self._inline_query(text)
            return
        if latest is not None and latest.buttons and 0 <= choice < len(latest.buttons):
            url = latest.buttons[choice].url
            if url is not None:
                await self._open(url)
                return
            answer = await self.user.press(choice, message=latest)
            if answer.text:
                self._print(self._style(DIM, f"   ({answer.text})"))
            return
        keyboard = self.user.reply_keyboard
        if keyboard is not None and 0 <= choice < len(keyboard.buttons):
            key = keyboard.buttons[choice]
            if key.request_contact:
                await self.user.send_contact(DEMO_PHONE, own=True)
            else:
                await self.user.tap(key.text)
            return
        await self.user.send(text)

    async def _inline_query(self, text: str) -> None:
        """``@bot words``: the bot's inline results, numbered."""
        mention, _, query = text.partition(" ")
        if mention[1:].lower() not in ("bot", self.telegram.bot_username.lower()):
            await self.user.send(text)
            return
        answer = await self.user.inline(query.strip())
        if not answer.results:
            self._print(self._style(DIM, "   (no results)"))
            return
        lines = [
            f"[{number}] {result.title} — {result.description or ''}"
            for number, result in enumerate(answer.results, start=1)
        ]
        self._print(self._style(DIM, "\n".join(["🔎 @" + self.telegram.bot_username, *lines])))
        self._inline = answer

    def _show_card(self, card: ChatMessage) -> None:
        buttons = "   ".join(f"[{b.text} → {b.url}]" for b in card.buttons)
        self._print(
            self._style(DIM, "(shared in a chat with a friend, via @" + self.telegram.bot_username)
            + ")\n"
            + (card.text or "")
            + ("\n   " + buttons if buttons else "")
        )

    async def _open(self, url: str) -> None:
        """A link button: a deep link to this bot starts it there; others are shown."""
        parsed = urlparse(url)
        start = parse_qs(parsed.query).get("start")
        if parsed.netloc == "t.me" and parsed.path.strip("/") == self.telegram.bot_username:
            await self.user.send(f"/start {start[0]}" if start else "/start")
            return
        self._print(self._style(DIM, f"   (opens {url})"))

    def _save(self, message: ChatMessage) -> str:
        assert message.file is not None
        self.files.mkdir(parents=True, exist_ok=True)
        path = self.files / message.file.name
        path.write_bytes(message.file.data)
        return str(path)

    async def _print_replies(self) -> None:
        while True:
            message = await self.user.next_reply(timeout=None)
            self._show(message)

    def _show(self, message: ChatMessage) -> None:
        body = message.text or ""
        if message.file is not None and not message.edited:
            saved = f"📎 {message.kind} saved as {self._save(message)}"
            body = saved + ("\n" + message.caption if message.caption else "")
        lines = [self._style(BOLD, "🤖 ") + body]
        if message.edited:
            lines[0] = self._style(DIM, "(✏️) ") + lines[0]
        number = 1
        if message.buttons:
            rows = []
            for row in message.inline_keyboard or []:
                labels = []
                for button in row:
                    labels.append(f"[{number}] {button.text}")
                    number += 1
                rows.append("   " + "   ".join(labels))
            lines.extend(self._style(DIM, row) for row in rows)
        keyboard = message.reply_keyboard
        if keyboard is not None and not message.buttons:
            for keys in keyboard.rows:
                labels = []
                for key in keys:
                    labels.append(f"[{number}] {key.text}")
                    number += 1
                lines.append(self._style(DIM, "   " + "   ".join(labels)))
        self._print("\n".join(lines))

    async def _lines(self) -> AsyncIterator[str]:
        """The lines typed, without blocking the event loop."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        try:
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), self.stdin)
        except (ValueError, OSError):
            while line := await asyncio.to_thread(self.stdin.readline):
                yield line
            return
        while line := await reader.readline():
            yield line.decode(errors="replace")

    def _style(self, code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if self.colour else text

    def _print(self, text: str) -> None:
        self.stdout.write(text + "\n\n")
        self.stdout.flush()
