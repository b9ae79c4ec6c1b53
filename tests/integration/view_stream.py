"""A running topology driver (tests/support: sentinel_watch, role_probe) and the GroupViews
it prints, one JSON line each.

    stream = ViewStream("role_probe", [flags...], workdir)
    arrived, view = stream.wait("g0", lambda v: v["confirmed"], "the master confirmed")

The driver is found through its SY_*_BIN variable (set by ctest) or in build/release; it is
stopped by pid. Thread: the test thread; a reader thread collects the views.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import pytest

import harness

WAIT_S = 30.0


def driver_binary(name: str) -> Path:
    """tests/support's driver `name`, from SY_<NAME>_BIN or the release build."""
    variable = f"SY_{name.upper()}_BIN"
    env = os.environ.get(variable)
    path = Path(env) if env else harness.REPO_ROOT / "build" / "release" / "tests" / \
        "integration" / name
    if not path.is_file():
        pytest.fail(f"{name} not found at {path}; build it or set {variable}", pytrace=False)
    return path


class ViewStream:
    """The running driver: collects (arrival time, view) for every published view."""

    def __init__(self, name: str, args: Sequence[str], workdir: Path, stdin=subprocess.DEVNULL):
        self.name = name
        self.log_path = workdir / f"{name}.log"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([str(driver_binary(name))] + list(args),
                                         stdout=subprocess.PIPE, stderr=log, stdin=stdin,
                                         preexec_fn=harness._die_with_parent)
        harness._live_processes.append(self.proc)
        self.views: list[tuple[float, dict]] = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            view = json.loads(line)
            with self.lock:
                self.views.append((time.monotonic(), view))

    def latest(self, group: str):
        with self.lock:
            for arrived, view in reversed(self.views):
                if view["name"] == group:
                    return arrived, view
        return None, None

    def count(self, group: str) -> int:
        with self.lock:
            return sum(1 for _, view in self.views if view["name"] == group)

    def wait(self, group: str, predicate: Callable[[dict], object], what: str,
             timeout_s: float = WAIT_S):
        """The first view of `group` (the latest one, re-checked as views arrive) that
        satisfies predicate; fails with the latest view and the log otherwise."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            arrived, view = self.latest(group)
            if view is not None and predicate(view):
                return arrived, view
            assert self.proc.poll() is None, f"{self.name} exited:\n{self.log()}"
            time.sleep(0.02)
        _, view = self.latest(group)
        pytest.fail(f"no view of {group} with {what} within {timeout_s}s; latest: {view}\n"
                    f"log:\n{self.log()[-4000:]}", pytrace=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int:
        return harness.stop_process(self.proc)


def healthy(view: dict) -> set[str]:
    """The addresses of the view's healthy replicas."""
    return {r["address"] for r in view["replicas"] if r["health"] == "healthy"}


def health_of(view: dict, address: str) -> Optional[str]:
    for replica in view["replicas"]:
        if replica["address"] == address:
            return replica["health"]
    return None
