"""The terminal chat of the local demo: this terminal is a person talking to the bot.

The person is a simulated Telegram user in the Telegram sandbox (``SandboxUser``): what is typed
is sent as their message, and everything the bot sends or edits in their chat is printed as it
arrives. Buttons are numbered; typing a number presses that button of the bot's latest message,
or of the keyboard under the text field (a "share my number" button shares a demo phone
number). ``/quit`` ends the demo.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from typing import TextIO

from bot.sandbox.telegram import ChatMessage, SandboxUser, TelegramSandbox

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
    ) -> None:
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
        if latest is not None and latest.buttons and 0 <= choice < len(latest.buttons):
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

    async def _print_replies(self) -> None:
        while True:
            message = await self.user.next_reply(timeout=None)
            self._show(message)

    def _show(self, message: ChatMessage) -> None:
        lines = [self._style(BOLD, "🤖 ") + (message.text or "")]
        if message.edited:
            lines[0] = self._style(DIM, "(✏️) ") + lines[0]
        document = message.document
        if document is not None:
            lines.append(self._style(DIM, f"📎 {document.file_name}"))
            if document.mime_type.startswith(("text/", "application/json")):
                lines.append(document.content.decode(errors="replace"))
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
