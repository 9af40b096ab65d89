"""The chaos run: many enrollments while Coachview fails and the bot is killed; none lost, none
twice. The figure of issue 5.

    python -m bench.chaos                                  # 200 enrollments, 40 people
    python -m bench.chaos --enrollments 400 --people 80 --seed 7 --workdir /tmp/chaos

The bot runs as its own process (``python -m bot``, as in production, configured by the
environment) against the Telegram and Coachview sandboxes, which run here together with the
simulated people. What happens:

1. Faults on every call to ``/api/v1/Webaanvragen`` (the POSTs and the look-ups), each kind
   with its own chance, drawn from a seeded generator: 500; 429 with ``X-Rate-Limit-Reset`` a
   second ahead; the answer dropped after Coachview stored the webaanvraag; the connection
   closed before it was read; an answer later than the worker waits (stored); no answer at all
   (not stored). The catalogue is left alone, so the people can always enroll.
2. Round one: every person enrolls a few times, one enrollment after the other. Right after the
   last of them pressed Send, the bot is killed (SIGKILL) with the outbox busy, and started
   again.
3. Round two: the remaining enrollments, with Coachview stopped (connections refused) for a
   while in the middle; killed and restarted again right after the last Send.
4. Draining: Coachview is stopped once more, then everything is waited for, until every row is
   submitted and every person has read a confirmation for each enrollment.

Then it counts, from Coachview's side (the sandbox's store) and from the bot's (its database):
confirmed, arrived, duplicates, lost, the confirmations people read, and every request that
reached Coachview, per enrollment. Connections refused while Coachview was stopped never reach
it and are not counted as requests (nor as faults). The exit code is 1 when anything was lost
or arrived twice.

The worker's timings are shortened by its settings (lease 3 s, so a POST is given up after
1.5 s; retries from 0.2 s to 2 s), the same code as in production with smaller numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from bot.store.db import open_engine
from bot.store.models import OutboxEntry, OutboxStatus
from bot.telegram.limits import TelegramLimits
from sandbox.coachview import CoachviewSandbox, FaultRule
from sandbox.telegram import SandboxUser, TelegramSandbox

ROOT = Path(__file__).resolve().parents[1]
WEBAANVRAGEN = "/api/v1/Webaanvragen"
SEND = "✅ Send enrollment"
BEING_SENT = "Thank you! Your enrollment is being sent"
CONFIRMED = "Your enrollment has been received. Its number is"
SORRY = "Sorry, something went wrong"

WORKER_ENV = {
    "SUBMISSION_LEASE": "3",
    "SUBMISSION_RETRY_BASE": "0.2",
    "SUBMISSION_RETRY_MAX": "2",
    "SUBMISSION_POLL": "1",
}


def add_faults(coachview: CoachviewSandbox) -> dict[str, FaultRule]:
    """The faults on ``/api/v1/Webaanvragen``, by name; checked in this order, each with its
    own draw, so about 38 % of the calls there fail one way or another."""
    add = coachview.faults.add
    path = WEBAANVRAGEN
    return {
        "500": add(path=path, status=500, probability=0.12, times=None),
        "429 + reset": add(path=path, status=429, probability=0.06, times=None),
        "answer dropped (stored)": add(path=path, action="drop", probability=0.10, times=None),
        "connection closed (not read)": add(
            path=path, action="refuse", probability=0.08, times=None
        ),
        "timeout (stored, answered late)": add(
            path=path, action="delay", delay=4.0, probability=0.05, times=None
        ),
        "timeout (no answer, not stored)": add(
            path=path, action="hang", probability=0.05, times=None
        ),
    }


def _name(number: int) -> str:
    """A first name the bot accepts (letters only), different for every number."""
    letters = ""
    while True:
        number, digit = divmod(number, 26)
        letters = "abcdefghijklmnopqrstuvwxyz"[digit] + letters
        if number == 0:
            return "Anna" + letters


def _dotnet_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


class Bot:
    """``python -m bot`` pointed at the sandboxes; killed with SIGKILL, started again."""

    def __init__(self, telegram: TelegramSandbox, coachview: CoachviewSandbox, work: Path):
        self.work = work
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(work),
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_API_URL": telegram.url,
            "COACHVIEW_BASE_URL": coachview.url,
            "COACHVIEW_CLIENT_ID": coachview.client_id,
            "COACHVIEW_CLIENT_SECRET": coachview.client_secret,
            "DATABASE_URL": f"sqlite:///{work / 'bot.db'}",
            "LOG_LEVEL": "INFO",
            # Simulated people answer in microseconds: no flood guard, no reply pacing.
            "FLOOD_MESSAGES": "1000000",
            "REPLY_PACING": "false",
            **WORKER_ENV,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with (self.work / f"bot-{self.starts}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot"],
                cwd=self.work,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)


@dataclass
class Person:
    """A simulated person who enrolls themself, again and again, like a person would: answer,
    then wait for the bot's reaction (a new message or an edit); when the bot says something
    went wrong, try the same thing again a moment later."""

    user: SandboxUser
    name: str
    sent: int = 0

    async def _do(self, action: str, value: str | int, expected: str) -> None:
        for _ in range(20):
            self.user.skip_unread()
            if action == "send":
                await self.user.send(str(value))
            else:
                await self.user.press(value, timeout=60)
            while True:
                reply = await self.user.next_reply(timeout=60)
                text = reply.text or ""
                if expected in text:
                    return
                if SORRY in text:
                    break
            await asyncio.sleep(0.5)
        raise RuntimeError(f"{self.name} got stuck waiting for {expected!r}")

    async def enroll(self, soort: str) -> None:
        steps: list[tuple[str, str | int, str]] = [
            ("send", f"/start {soort}", "Which date would you like?"),
            ("press", 0, "What is your first name?"),
            ("send", self.name, "prefix"),
            ("press", "Skip", "What is your last name?"),
            ("send", "Jansen", "What is your e-mail address?"),
            ("send", f"{self.name.lower()}@example.nl", "What is your phone number?"),
            ("send", "06 12345678", "Which company"),
            ("press", "Skip", "Will you attend"),
            ("press", "Yes, I will attend", "someone else too?"),
            ("press", "No", "Anything you would like to tell us"),
            ("press", "Skip", "Please check your enrollment"),
            ("press", SEND, BEING_SENT),
        ]
        for action, value, expected in steps:
            await self._do(action, value, expected)
        self.sent += 1

    def confirmations(self) -> list[str]:
        return [m.text or "" for m in self.user.messages if CONFIRMED in (m.text or "")]

    def repeated(self) -> list[datetime]:
        """When each confirmation this person read a second time was first sent."""
        first: dict[str, datetime] = {}
        again = []
        for message in self.user.messages:
            text = message.text or ""
            if CONFIRMED in text:
                if text in first:
                    again.append(first[text])
                first.setdefault(text, message.date)
        return again


@dataclass
class Run:
    telegram: TelegramSandbox
    coachview: CoachviewSandbox
    bot: Bot
    people: list[Person]
    rules: dict[str, FaultRule]
    work: Path
    outages: list[float] = field(default_factory=list)
    at_kills: list[tuple[int, int]] = field(default_factory=list)
    kill_times: list[datetime] = field(default_factory=list)

    def rows(self) -> list[OutboxEntry]:
        engine = open_engine(f"sqlite:///{self.work / 'bot.db'}")
        try:
            with Session(engine) as session:
                return list(session.exec(select(OutboxEntry).order_by(col(OutboxEntry.id))))
        finally:
            engine.dispose()

    def sent(self) -> int:
        return sum(person.sent for person in self.people)

    async def round(self, per_person: int, soort: str, *, outage_at: int | None = None) -> None:
        """Everyone enrolls ``per_person`` times; Coachview goes away for 2 s once
        ``outage_at`` enrollments (in all) have been sent."""
        outages: list[asyncio.Task[None]] = []

        async def enroll(person: Person) -> None:
            for _ in range(per_person):
                await person.enroll(soort)
                if outage_at is not None and self.sent() >= outage_at and not outages:
                    outages.append(asyncio.create_task(self.outage(2.0)))

        await asyncio.gather(*(enroll(person) for person in self.people))
        await asyncio.gather(*outages)

    async def kill_and_restart(self) -> None:
        """SIGKILL right after the last Send, with the outbox busy; then start again."""
        self.bot.kill()
        self.kill_times.append(datetime.now(UTC))
        rows = self.rows()
        pending = [row for row in rows if row.status == OutboxStatus.PENDING]
        self.at_kills.append((len(pending), sum(row.maybe_sent for row in pending)))
        self.bot.start()

    async def outage(self, seconds: float) -> None:
        """Coachview stopped: connections are refused."""
        await self.coachview.stop()
        await asyncio.sleep(seconds)
        await self.coachview.start()
        self.outages.append(seconds)

    async def fresh_resets(self) -> None:
        """Keep the 429 rule's X-Rate-Limit-Reset a second ahead, as Coachview would say."""
        rule = self.rules["429 + reset"]
        while True:
            reset = datetime.now(UTC) + timedelta(seconds=1)
            rule.headers = {
                "X-Rate-Limit-Remaining": "0",
                "X-Rate-Limit-Reset": _dotnet_utc(reset),
            }
            await asyncio.sleep(0.1)

    def drained(self) -> bool:
        rows = self.rows()
        return all(row.status != OutboxStatus.PENDING for row in rows) and all(
            len(person.confirmations()) >= person.sent for person in self.people
        )


async def chaos(enrollments: int, people: int, seed: int, work: Path) -> int:
    per_person = math.ceil(enrollments / people)
    first_round = math.ceil(per_person / 2)
    started = time.monotonic()
    async with (
        TelegramSandbox(limits=TelegramLimits.unlimited()) as telegram,
        CoachviewSandbox(fault_seed=seed, daily_limit=1_000_000) as coachview,
    ):
        rules = add_faults(coachview)
        bot = Bot(telegram, coachview, work)
        names = [_name(n) for n in range(people)]
        crowd = [Person(telegram.user(name, language_code="en"), name) for name in names]
        run = Run(telegram, coachview, bot, crowd, rules, work)
        resets = asyncio.create_task(run.fresh_resets())
        soort = coachview.catalogue.seed.open_soort
        bot.start()
        try:
            await telegram.wait_polling(timeout=60)
            await run.round(first_round, soort)
            await run.kill_and_restart()
            halfway = run.sent() + (per_person - first_round) * people // 2
            await run.round(per_person - first_round, soort, outage_at=halfway)
            await run.kill_and_restart()
            await run.outage(2.0)
            deadline = time.monotonic() + 600
            while not run.drained():
                if time.monotonic() > deadline:
                    print("gave up waiting for the outbox to drain after 600 s", file=sys.stderr)
                    break
                await asyncio.sleep(0.2)
        finally:
            resets.cancel()
            bot.kill()
        return report(run, time.monotonic() - started)


def report(run: Run, seconds: float) -> int:
    rows = run.rows()
    confirmed = {row.reference for row in rows}
    # The bot's reference: the last line of opmerking (COACHVIEW_REFERENCE_FIELD's default).
    remarks = [str(w.body.get("opmerking", "")) for w in run.coachview.webaanvragen]
    stored = [remark.splitlines()[-1] if remark else None for remark in remarks]
    arrived = set(stored)
    duplicates = len(stored) - len(arrived)
    lost = confirmed - arrived
    read = [text for person in run.people for text in person.confirmations()]
    requests = run.coachview.requests
    kinds = Counter(
        "POST Webaanvragen"
        if r.method == "POST" and r.path == WEBAANVRAGEN
        else "look-up by reference"
        if r.path == WEBAANVRAGEN
        else "token"
        if r.path.startswith("/auth")
        else "catalogue"
        for r in requests
    )
    faulted = sum(rule.fired for rule in run.rules.values())
    to_webaanvragen = kinds["POST Webaanvragen"] + kinds["look-up by reference"]
    n = max(len(confirmed), 1)

    def line(label: str, value: object) -> None:
        print(f"  {label:<38} {value}")

    print(
        f"chaos run: {run.sent()} enrollments by {len(run.people)} people, "
        f"{run.bot.starts - 1} bot restarts (SIGKILL), "
        f"{len(run.outages)} Coachview outages of {', '.join(f'{s:g} s' for s in run.outages)}"
    )
    line("confirmed (outbox rows)", len(confirmed))
    line("arrived in Coachview", len(arrived & confirmed))
    line("duplicates", duplicates)
    line("lost", len(lost))
    line("rejected", sum(row.status == OutboxStatus.REJECTED for row in rows))
    line(
        "confirmations read by people",
        f"{len(read)} ({len(read) - len(set(read))} read twice)",
    )
    for sent in sorted(when for person in run.people for when in person.repeated()):
        gap = min(abs((kill - sent).total_seconds()) for kill in run.kill_times)
        line("  read twice: first sent", f"{gap:.2f} s from a kill")
    line(
        "Coachview requests",
        f"{len(requests)} = {len(requests) / n:.2f} per enrollment ("
        + ", ".join(f"{kind} {count / n:.2f}" for kind, count in kinds.most_common())
        + ")",
    )
    line(
        "faults injected",
        f"{faulted} = {faulted / max(len(requests), 1):.0%} of all requests, "
        f"{faulted / max(to_webaanvragen, 1):.0%} of those to Webaanvragen",
    )
    for name, rule in run.rules.items():
        line(f"  {name}", rule.fired)
    for number, (pending, in_flight) in enumerate(run.at_kills, 1):
        line(
            f"at kill {number}",
            f"{pending} rows not yet in Coachview, {in_flight} of them maybe sent",
        )
    line("wall time", f"{seconds:.0f} s (logs and database in {run.work})")
    return 1 if duplicates or lost else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.chaos", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--enrollments", type=int, default=200)
    parser.add_argument("--people", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1, help="the fault generator's seed")
    parser.add_argument("--workdir", type=Path, help="for the database and the bot's logs")
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="enrollbot-chaos-"))
    work.mkdir(parents=True, exist_ok=True)
    return asyncio.run(chaos(args.enrollments, args.people, args.seed, work))


if __name__ == "__main__":
    sys.exit(main())
