"""Signals as nutcracker users know them (docs/configuration.md, "Signals").

SIGHUP reopens the -o log file, so that logrotate's rename-and-signal rule works, and then
reloads the configuration; SIGTTIN and SIGTTOU make the log one step more or less verbose
(-v), within 0..11; SIGUSR1 and SIGUSR2 are ignored, as nutcracker ignores them. Under systemd
the start, a reload and the stop are reported on NOTIFY_SOCKET.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path

import pytest

from harness import HOST, pool_config, switchyard_bin, wait_until

VERBOSITY = re.compile(r"log verbosity now (\d+) \((\w+)\)")


def open_files(pid: int) -> list[str]:
    fd_dir = Path(f"/proc/{pid}/fd")
    targets = []
    for fd in fd_dir.iterdir():
        try:
            targets.append(os.readlink(fd))
        except OSError:
            pass  # closed while listed
    return targets


def start_logging_proxy(procs, tmp_path: Path, verbosity: int):
    (server,) = procs.redis(1)
    log_path = tmp_path / "switchyard.log"
    proxy = procs.proxy(pools=[pool_config([server])],
                        extra_args=["-o", str(log_path), "-v", str(verbosity)])
    wait_until(lambda: "ready" in log_path.read_text(), "the start-up lines in the log file")
    return proxy, log_path


def signal_verbosity(proxy, log_path: Path, sig: int) -> int:
    """Sends SIGTTIN or SIGTTOU and returns the verbosity the proxy logs in answer."""
    seen = len(VERBOSITY.findall(log_path.read_text()))
    os.kill(proxy.pid, sig)
    changes = wait_until(lambda: VERBOSITY.findall(log_path.read_text())[seen:],
                         f"the verbosity line after {sig.name}")
    return int(changes[0][0])


CLIENT_CLOSED = re.compile(r" debug client \d+ closed: client closed the connection")


def client_closes_logged(proxy, log_path: Path, expected: bool) -> bool:
    """Opens and closes one client; True when a debug line ("client N closed") shows for it. A
    line that is expected is waited for; one that is not is given half a second to appear."""
    seen = len(CLIENT_CLOSED.findall(log_path.read_text()))
    with socket.create_connection((HOST, proxy.port), timeout=10) as sock:
        sock.sendall(b"PING\r\n")
        assert sock.recv(64) == b"+PONG\r\n"
    if expected:
        wait_until(lambda: len(CLIENT_CLOSED.findall(log_path.read_text())) > seen,
                   "the client's debug line")
    else:
        time.sleep(0.5)
    return len(CLIENT_CLOSED.findall(log_path.read_text())) > seen


def test_sighup_releases_a_rotated_log_and_writes_a_new_one(procs, tmp_path):
    proxy, log_path = start_logging_proxy(procs, tmp_path, verbosity=6)
    rotated = tmp_path / "switchyard.log.1"
    log_path.rename(rotated)  # what logrotate does before its postrotate signal
    assert str(rotated) in open_files(proxy.pid)

    os.kill(proxy.pid, signal.SIGHUP)
    wait_until(lambda: log_path.exists() and "reload applied" in log_path.read_text(),
               "the reload outcome in a new log file")
    new_text = log_path.read_text()
    assert f"log file '{log_path}' reopened" in new_text, new_text
    assert new_text.index("reopened") < new_text.index("reload applied"), new_text
    assert str(rotated) not in open_files(proxy.pid), "the rotated file is still open"
    rotated_size = rotated.stat().st_size
    assert "ready" in rotated.read_text()

    assert proxy.client().set("k", "v") is True
    assert proxy.stop(signal.SIGTERM) == 0
    assert "shutting down" in log_path.read_text()
    assert rotated.stat().st_size == rotated_size, "lines went to the rotated file"


def test_sighup_appends_to_a_log_file_that_already_exists(procs, tmp_path):
    # logrotate's `create` makes the new, empty file before it signals.
    proxy, log_path = start_logging_proxy(procs, tmp_path, verbosity=5)
    log_path.rename(tmp_path / "switchyard.log.1")
    log_path.write_text("created by logrotate\n")
    os.kill(proxy.pid, signal.SIGHUP)
    wait_until(lambda: "reload applied" in log_path.read_text(), "the reload outcome")
    assert log_path.read_text().startswith("created by logrotate\n")


def test_sigttin_and_sigttou_raise_and_lower_the_log_level(procs, tmp_path):
    proxy, log_path = start_logging_proxy(procs, tmp_path, verbosity=6)
    assert not client_closes_logged(proxy, log_path, False), "debug lines at -v 6"

    assert signal_verbosity(proxy, log_path, signal.SIGTTIN) == 7
    assert "log verbosity now 7 (debug)" in log_path.read_text()
    assert client_closes_logged(proxy, log_path, True), "no debug lines at verbosity 7"

    assert signal_verbosity(proxy, log_path, signal.SIGTTOU) == 6
    assert not client_closes_logged(proxy, log_path, False), "debug lines at verbosity 6"


def test_log_level_stays_within_nutcracker_bounds(procs, tmp_path):
    proxy, log_path = start_logging_proxy(procs, tmp_path, verbosity=10)
    assert [signal_verbosity(proxy, log_path, signal.SIGTTIN) for _ in range(3)] == [11, 11, 11]
    assert "log verbosity now 11 (trace)" in log_path.read_text()
    levels = [signal_verbosity(proxy, log_path, signal.SIGTTOU) for _ in range(13)]
    assert levels == list(range(10, -1, -1)) + [0, 0]
    assert "log verbosity now 0 (error)" in log_path.read_text()
    # SIGUSR1 and SIGUSR2 change nothing; the proxy still serves and stops cleanly.
    os.kill(proxy.pid, signal.SIGUSR1)
    os.kill(proxy.pid, signal.SIGUSR2)
    assert proxy.client().ping() is True
    assert proxy.stop(signal.SIGTERM) == 0


def test_readiness_reload_and_stop_are_reported_to_systemd(procs, tmp_path, monkeypatch):
    """What a Type=notify unit hears on NOTIFY_SOCKET (sd_notify), here from a socket of ours."""
    binary = switchyard_bin()
    if b"libsystemd.so" not in binary.read_bytes():
        pytest.skip("built without libsystemd (SY_SYSTEMD=OFF)")
    short_dir = Path(tempfile.mkdtemp(prefix="sy-notify-", dir="/tmp"))  # sun_path is short
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        listener.bind(str(short_dir / "notify"))
        listener.settimeout(20)
        (server,) = procs.redis(1)
        monkeypatch.setenv("NOTIFY_SOCKET", str(short_dir / "notify"))  # for the proxy only
        proxy = procs.proxy(pools=[pool_config([server])])

        def next_state() -> str:
            return listener.recv(4096).decode().split("\n")[0]

        assert next_state() == "FDSTORE=1"  # the listening socket, kept for the next process
        assert next_state() == "READY=1"
        os.kill(proxy.pid, signal.SIGHUP)
        assert [next_state(), next_state()] == ["RELOADING=1", "READY=1"]
        assert proxy.stop(signal.SIGTERM) == 0
        assert next_state() == "STOPPING=1"
    finally:
        listener.close()
        shutil.rmtree(short_dir, ignore_errors=True)
