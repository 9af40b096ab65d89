"""A bot as a child process, and what the operating system says it costs.

CPU time is ``utime + stime`` of ``/proc/<pid>/stat`` (all threads, in clock ticks); memory is
``VmRSS`` (now) and ``VmHWM`` (the peak since the process started) of ``/proc/<pid>/status``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROOT", "BotUnderTest", "Usage", "usage"]

ROOT = Path(__file__).resolve().parents[1]
_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    """One reading of a process: CPU seconds so far, resident memory now and at its peak."""

    cpu: float
    rss: int
    peak_rss: int


def usage(pid: int) -> Usage:
    """The reading of process ``pid`` (Linux ``/proc``)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may contain spaces and parentheses: the fields follow the last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    memory = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            memory[name] = int(value.split()[0]) * 1024
    return Usage(cpu=cpu, rss=memory.get("VmRSS", 0), peak_rss=memory.get("VmHWM", 0))


class BotUnderTest:
    """``python -m <module>`` with ``environment``, its output in ``log``; stopped by SIGTERM.

    ``profile``: run it under cProfile, the statistics written to that file when it stops.
    """

    def __init__(
        self,
        module: str,
        environment: dict[str, str],
        *,
        cwd: Path,
        log: Path,
        profile: Path | None = None,
    ) -> None:
        self.module = module
        self.environment = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(cwd),
            "PYTHONPATH": str(ROOT),
            **environment,
        }
        self.cwd = cwd
        self.log = log
        self.profile = profile
        self.process: subprocess.Popen[bytes] | None = None
        #: ``time.perf_counter()`` just before the process was started.
        self.started_at = 0.0

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("not started")
        return self.process.pid

    def start(self) -> None:
        command = [sys.executable]
        if self.profile is not None:
            command += ["-m", "cProfile", "-o", str(self.profile)]
        command += ["-m", self.module]
        with self.log.open("ab") as handle:
            self.started_at = time.perf_counter()
            self.process = subprocess.Popen(
                command,
                cwd=self.cwd,
                env=self.environment,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )

    def usage(self) -> Usage:
        return usage(self.pid)

    def check_running(self) -> None:
        """Raise if the process has ended (it crashed: its log says why)."""
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(
                f"python -m {self.module} exited with {self.process.returncode}; see {self.log}"
            )

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait; SIGKILL if it does not stop. Returns the exit code."""
        process = self.process
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait(timeout=timeout)
