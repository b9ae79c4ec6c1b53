"""Process lifetimes for the macro benchmark: free ports, started servers, CPU time.

Every process the benchmark starts goes through ProcessSet, which stops exactly the pids it
started (SIGTERM, then SIGKILL after a grace period) when the set is closed, including on
Ctrl-C or an exception. Nothing here ever signals a process by name.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

_CLOCK_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
_STOP_GRACE_SECONDS = 5.0


class BenchError(RuntimeError):
    """A failure that ends the run with a clear message (no traceback needed)."""


def free_port(taken: set[int]) -> int:
    """Returns a TCP port on 127.0.0.1 that is free now and not already in `taken`.

    The port is added to `taken`, so two servers of one run never get the same port.
    """
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in taken:
            taken.add(port)
            return port
    raise BenchError("could not find a free port on 127.0.0.1")


def cpu_ticks_from_stat(stat: str) -> int:
    """Returns utime + stime, in clock ticks, from the text of a /proc/<pid>/stat file."""
    # The command name (field 2) is in parentheses and may contain spaces and ")"; the
    # fields after its last ")" start at state (field 3), so utime (14) and stime (15) are
    # at offsets 11 and 12 there.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid: int) -> float:
    """Returns the CPU time process `pid` has used (all threads, user + system), in seconds;
    the resolution is one clock tick (usually 10 ms)."""
    return cpu_ticks_from_stat(Path(f"/proc/{pid}/stat").read_text()) / _CLOCK_TICKS_PER_SECOND


def cpu_tick_seconds() -> float:
    """Returns the resolution of cpu_seconds()."""
    return 1.0 / _CLOCK_TICKS_PER_SECOND


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 10.0) -> None:
    """Blocks until 127.0.0.1:`port` accepts a connection; fails if `proc` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{what} exited with status {proc.returncode} during startup")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise BenchError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


@dataclass
class Started:
    """One process started by a ProcessSet."""

    name: str
    proc: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, lines: int = 20) -> str:
        """Returns the last `lines` lines of the process log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class ProcessSet:
    """Owns the servers of one benchmark run; use as a context manager.

    Processes run in their own session so that a Ctrl-C in the terminal reaches only this
    script, which then stops them in reverse start order by pid.
    """

    def __init__(self, cpu_pinning: dict[str, str]):
        """`cpu_pinning` maps a role ("proxy", "redis", "bench") to a taskset CPU list."""
        self._started: list[Started] = []
        self._pinning = cpu_pinning

    def __enter__(self) -> ProcessSet:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop_all()

    def pinned(self, role: str, argv: list[str]) -> list[str]:
        """Returns `argv` prefixed with taskset when `role` is pinned (taskset execs, so the
        pid stays the one of the real program)."""
        cpus = self._pinning.get(role)
        return ["taskset", "-c", cpus, *argv] if cpus else list(argv)

    def start(self, name: str, role: str, argv: list[str], log_path: Path) -> Started:
        """Starts `argv` with stdout and stderr going to `log_path`."""
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                self.pinned(role, argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started = Started(name, proc, log_path)
        self._started.append(started)
        return started

    def check_alive(self) -> None:
        """Raises BenchError naming any started process that has exited."""
        for started in self._started:
            if started.proc.poll() is not None:
                raise BenchError(
                    f"{started.name} (pid {started.pid}) exited with status "
                    f"{started.proc.returncode}; log tail:\n{started.log_tail()}"
                )

    def stop_all(self) -> None:
        """Stops every started process by pid: SIGTERM, then SIGKILL after a grace period."""
        for started in reversed(self._started):
            if started.proc.poll() is None:
                started.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + _STOP_GRACE_SECONDS
        for started in reversed(self._started):
            try:
                started.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                started.proc.kill()
                started.proc.wait()
        self._started.clear()
