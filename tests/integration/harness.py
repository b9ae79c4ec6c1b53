"""Process harness for the switchyard integration tests.

Everything here drives real processes on 127.0.0.1: Debian's redis-server 7.0 as backends,
the switchyard binary under test, and Debian's nutcracker as the compatibility oracle.
No Redis behaviour is mocked.

Contract:
  * Every process is started on a port taken from free_port() and stopped by its own pid
    (SIGTERM, then SIGKILL after a grace period). Every started process is also recorded
    in a module-wide registry so that conftest.py can kill stragglers after a failed test.
  * The switchyard binary is SWITCHYARD_BIN, else build/release/src/app/switchyard in the
    repository. A test that needs it and cannot find it fails with a message saying so.
  * PROXY=nutcracker (a development aid) makes the `proxy` fixtures start nutcracker
    instead of switchyard. Nutcracker shares key placement, fragmentation of MGET/MSET/DEL,
    pipelining and binary-safe values with switchyard, so those tests pass against it.
    It differs on purpose in error handling: it closes the client connection on unknown or
    unsupported commands and on malformed input, does not answer ECHO/SELECT/COMMAND/HELLO,
    closes the backend connection on a timeout, exits on SIGTERM by the signal, and prints
    no file:line config errors. The switchyard-specific tests are expected to fail against it.
"""

from __future__ import annotations

import abc
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import redis

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent.parent
DEFAULT_SWITCHYARD = REPO_ROOT / "build" / "release" / "src" / "app" / "switchyard"
HOST = "127.0.0.1"

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_BENCHMARK = "/usr/bin/redis-benchmark"
NUTCRACKER = "/usr/sbin/nutcracker"

START_TIMEOUT_S = 10.0
STOP_GRACE_S = 10.0


class HarnessError(RuntimeError):
    """A process could not be started or stopped as expected; the message carries its log."""


# --------------------------------------------------------------------------------------------
# Ports and process registry

_handed_out_ports: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago and not handed out before by us."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = sock.getsockname()[1]
        if port not in _handed_out_ports:
            _handed_out_ports.add(port)
            return port
    raise HarnessError("no free port found")


_live_processes: list[subprocess.Popen] = []


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGKILL it if the test process dies (PR_SET_PDEATHSIG),
    so that a test run killed by a timeout leaves no servers behind."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL))


def spawn(argv: Sequence[str], log_path: Path, cwd: Optional[Path] = None,
          env: Optional[dict[str, str]] = None, pass_fds: Sequence[int] = ()) -> subprocess.Popen:
    """Starts argv with stdout and stderr appended to log_path, and registers it. `env` adds
    to (or overrides) this process's environment; `pass_fds` stay open in the child.

    Call from the main thread only: the death signal follows the thread that spawned it.
    """
    full_env = {**os.environ, **env} if env else None
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=cwd, preexec_fn=_die_with_parent,
                                env=full_env, pass_fds=tuple(pass_fds))
    _live_processes.append(proc)
    return proc


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM,
                 grace_s: float = STOP_GRACE_S) -> int:
    """Sends `sig` to proc (by pid), waits up to grace_s, then SIGKILLs. Returns the exit code."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            return proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
        except ProcessLookupError:
            pass
    return proc.wait(timeout=grace_s)


def kill_all_started() -> list[str]:
    """Kills (by pid) every process this harness started that is still running.

    Returns a description of each process that had to be killed, so callers can report leaks.
    """
    leaked = []
    while _live_processes:
        proc = _live_processes.pop()
        if proc.poll() is None:
            leaked.append(f"pid {proc.pid}: {' '.join(map(str, proc.args))}")
            proc.kill()
            try:
                proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                pass
    return leaked


def wait_until(condition: Callable[[], object], what: str, timeout_s: float = 20.0,
               every_s: float = 0.05):
    """Polls `condition` until it returns something true, and returns that; raises
    AssertionError naming `what` after `timeout_s` (generous: tests run on busy machines)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def wait_for_port(port: int, proc: Optional[subprocess.Popen] = None,
                  timeout_s: float = START_TIMEOUT_S, host: str = HOST) -> None:
    """Returns once host:port accepts a TCP connection; raises if proc exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise HarnessError(f"process {proc.pid} exited with {proc.returncode} "
                               f"before port {port} opened")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise HarnessError(f"port {port} did not open within {timeout_s}s")


# --------------------------------------------------------------------------------------------
# /proc helpers


def rss_bytes(pid: int) -> int:
    """Resident set size of pid (VmRSS from /proc/<pid>/status), in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                value, unit = line.split()[1:3]
                assert unit == "kB", line
                return int(value) * 1024
    raise HarnessError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time pid has used so far (/proc/<pid>/stat), in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fd_count(pid: int) -> int:
    """Number of open file descriptors of pid (entries in /proc/<pid>/fd)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def raise_nofile_limit(wanted: int = 16384) -> int:
    """Raises this process's RLIMIT_NOFILE soft limit towards `wanted`; returns the new limit.

    Children started afterwards (the proxy) inherit it.
    """
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --------------------------------------------------------------------------------------------
# redis-server


class ManagedProcess:
    """Lifecycle of a server process the harness started: a subclass sets self.proc in its
    start(), which returns self. Stopped by pid, never by name."""

    proc: Optional[subprocess.Popen] = None

    def start(self):
        raise NotImplementedError

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None:
            stop_process(self.proc, sig=signal.SIGKILL)

    def restart(self):
        """Starts again on the same port, after stop() or kill()."""
        assert not self.is_running()
        return self.start()


class RedisServer(ManagedProcess):
    """One redis-server 7.0 on 127.0.0.1, without persistence, in its own temp dir.

    DEBUG is enabled so tests can slow a backend down (DEBUG SLEEP) and can prove that a
    refused DEBUG never reached it. Thread: the test thread only.
    """

    def __init__(self, workdir: Path, port: Optional[int] = None,
                 requirepass: Optional[str] = None, extra_args: Sequence[str] = ()):
        self.port = port or free_port()
        self.requirepass = requirepass  # started with --requirepass when set
        self.extra_args = list(extra_args)  # appended to argv on every start
        self.dir = Path(tempfile.mkdtemp(prefix=f"redis-{self.port}-", dir=workdir))
        self.log_path = self.dir / "redis.log"
        self.proc: Optional[subprocess.Popen] = None

    @property
    def addr(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> "RedisServer":
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", HOST, "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", str(self.dir),
                "--enable-debug-command", "yes", "--protected-mode", "no"] + self.extra_args
        if self.requirepass is not None:
            argv += ["--requirepass", self.requirepass]
        self.proc = spawn(argv, self.log_path)
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"redis-server on {self.port} exited "
                                   f"({self.proc.returncode}):\n{self.log_text()}")
            probe = self.client(socket_timeout=1)
            try:
                if probe.ping():
                    return
            except redis.exceptions.RedisError:
                time.sleep(0.02)
            finally:
                probe.connection_pool.disconnect()
        raise HarnessError(f"redis-server on {self.port} not ready:\n{self.log_text()}")

    def client(self, db: int = 0, **kwargs) -> redis.Redis:
        """A redis-py client, authenticated with requirepass when the server has one."""
        kwargs.setdefault("socket_timeout", 10)
        kwargs.setdefault("password", self.requirepass)
        return redis.Redis(host=HOST, port=self.port, db=db, **kwargs)

    def flushall(self) -> None:
        self.client().flushall()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def command_calls(self) -> dict[str, int]:
        """Calls per command from INFO commandstats (e.g. {'mget': 3, 'config|set': 1})."""
        stats = self.client().info("commandstats")
        return {name[len("cmdstat_"):]: entry["calls"] for name, entry in stats.items()}

    def calls(self, command: str) -> int:
        """How many times this server ran `command` (lower case, e.g. 'get'), 0 if never."""
        return self.command_calls().get(command, 0)

    def rejected_calls(self, command: str) -> int:
        """How many times this server refused `command` before running it (READONLY on a
        replica, for one); replicated commands a replica runs count as calls, never here."""
        stats = self.client().info("commandstats").get(f"cmdstat_{command}", {})
        return stats.get("rejected_calls", 0)


# --------------------------------------------------------------------------------------------
# pool configuration


@dataclass
class Pool:
    """One pool of a nutcracker.yml. listen=None means a free TCP port chosen at start."""

    servers: Sequence[RedisServer | str]
    name: str = "alpha"
    names: Optional[Sequence[Optional[str]]] = None
    weights: Optional[Sequence[int]] = None
    hash: Optional[str] = None
    distribution: Optional[str] = None
    hash_tag: Optional[str] = None
    timeout: Optional[int] = None
    redis_db: Optional[int] = None
    extra: dict = field(default_factory=dict)
    listen: Optional[str] = None

    def server_lines(self) -> list[str]:
        lines = []
        for i, server in enumerate(self.servers):
            addr = server.addr if isinstance(server, RedisServer) else server
            weight = self.weights[i] if self.weights else 1
            name = self.names[i] if self.names else None
            lines.append(f"{addr}:{weight}" + (f" {name}" if name else ""))
        return lines

    def render(self) -> str:
        assert self.listen is not None, "listen is assigned by the proxy before rendering"
        out = [f"{self.name}:", f"  listen: {self.listen}", "  redis: true"]
        for key in ("hash", "distribution", "timeout", "redis_db"):
            value = getattr(self, key)
            if value is not None:
                out.append(f"  {key}: {value}")
        if self.hash_tag is not None:
            out.append(f'  hash_tag: "{self.hash_tag}"')
        for key, value in self.extra.items():
            out.append(f"  {key}: {value}")
        out.append("  servers:")
        out += [f"   - {line}" for line in self.server_lines()]
        return "\n".join(out) + "\n"


def pool_config(servers: Sequence[RedisServer | str], **kwargs) -> Pool:
    """A Pool over `servers`; kwargs are Pool fields (names, weights, hash, distribution, ...)."""
    return Pool(servers=list(servers), **kwargs)


# --------------------------------------------------------------------------------------------
# proxies


# The sanitizer the binary under test was built with ("" for none), set by ctest. Sanitizer
# runtimes keep freed memory in quarantine (ASan) or shadow every touched byte (TSan), so
# memory bounds, which are about the release build, are scaled by MEMORY_SLACK there.
SANITIZER = os.environ.get("SY_SANITIZE", "")
MEMORY_SLACK = {"": 1, "address": 2}.get(SANITIZER, 4)


def switchyard_bin() -> Path:
    """Path of the switchyard binary under test; raises HarnessError if there is none."""
    env = os.environ.get("SWITCHYARD_BIN")
    path = Path(env) if env else DEFAULT_SWITCHYARD
    if not (path.is_file() and os.access(path, os.X_OK)):
        source = "SWITCHYARD_BIN" if env else "the default build location"
        raise HarnessError(f"switchyard binary not found at {path} ({source}); build it "
                           f"(cmake --preset release && cmake --build --preset release) "
                           f"or set SWITCHYARD_BIN")
    return path


class Proxy(abc.ABC):
    """A proxy process on a generated nutcracker.yml; subclasses give the binary and argv.

    Either `pools` (listen ports assigned here) or `config_text` plus `listen_ports` (what to
    wait for). stdout and stderr go to proxy.log in the work dir.
    """

    name = "proxy"
    exits_cleanly_on_sigterm = True

    def __init__(self, workdir: Path, pools: Optional[Sequence[Pool]] = None,
                 config_text: Optional[str] = None, listen_ports: Iterable[int] = (),
                 extra_args: Sequence[str] = (), env: Optional[dict[str, str]] = None,
                 pass_fds: Sequence[int] = (), launcher: Sequence[str] = ()):
        """`env`, `pass_fds`: see spawn(); `launcher` goes before the binary in argv (a shell
        that arranges passed descriptors, say)."""
        assert (pools is None) != (config_text is None), "give pools or config_text"
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-", dir=workdir))
        self.conf_path = self.dir / "conf.yml"
        self.log_path = self.dir / "proxy.log"
        self.stats_port = free_port()
        self.pools = list(pools or [])
        for pool in self.pools:
            if pool.listen is None:
                pool.listen = f"{HOST}:{free_port()}"
        self.config_text = config_text if config_text is not None else \
            "".join(pool.render() for pool in self.pools)
        self.listen_ports = list(listen_ports) or [
            int(pool.listen.rsplit(":", 1)[1]) for pool in self.pools
            if not pool.listen.startswith("/")]
        self.extra_args = list(extra_args)
        self.env = env
        self.pass_fds = tuple(pass_fds)
        self.launcher = list(launcher)
        self.proc: Optional[subprocess.Popen] = None
        self.stopped = False  # stop() was called: an exit is expected

    @classmethod
    @abc.abstractmethod
    def binary(cls) -> Path:
        """The executable to run; raises HarnessError if it is missing."""

    def argv(self) -> list[str]:
        return [str(self.binary()), "-c", str(self.conf_path), "-s", str(self.stats_port),
                "-a", HOST] + self.extra_args

    # -- lifecycle
    @property
    def port(self) -> int:
        """The first pool's TCP listen port."""
        return self.listen_ports[0]

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> "Proxy":
        self.conf_path.write_text(self.config_text)
        self.proc = spawn(self.launcher + self.argv(), self.log_path, cwd=self.dir, env=self.env,
                          pass_fds=self.pass_fds)
        try:
            for port in self.listen_ports:
                wait_for_port(port, self.proc)
        except HarnessError as err:
            stop_process(self.proc, sig=signal.SIGKILL)
            raise HarnessError(f"{self.name} did not start: {err}\nconfig:\n{self.config_text}"
                               f"\nlog:\n{self.log_text()}") from None
        return self

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stops the proxy by pid and returns its exit code."""
        assert self.proc is not None
        self.stopped = True
        return stop_process(self.proc, sig=sig)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def reload(self, config_text: str) -> str:
        """Writes config_text as the proxy's config file, sends SIGHUP and returns the
        outcome line the proxy logs ("reload applied: ..." or "reload refused ...")."""
        outcome = re.compile(r"reload (applied|refused).*")
        seen = len(outcome.findall(self.log_text()))
        self.conf_path.write_text(config_text)
        self.config_text = config_text
        os.kill(self.pid, signal.SIGHUP)
        lines = wait_until(lambda: [m.group(0) for m in outcome.finditer(self.log_text())][seen:],
                           "the reload outcome in the log")
        return lines[0]

    def client(self, port: Optional[int] = None, **kwargs) -> redis.Redis:
        kwargs.setdefault("socket_timeout", 10)
        return redis.Redis(host=HOST, port=port or self.port, **kwargs)

    def raw(self, port: Optional[int] = None, timeout: float = 10.0) -> "RawConn":
        return RawConn(port or self.port, timeout=timeout)

    def stats(self) -> dict:
        """The stats port's twemproxy JSON: it is sent on connect, then the port closes."""
        data = b""
        with socket.create_connection((HOST, self.stats_port), timeout=5) as sock:
            while chunk := sock.recv(65536):
                data += chunk
        return json.loads(data)


class Switchyard(Proxy):
    name = "switchyard"

    @classmethod
    def binary(cls) -> Path:
        return switchyard_bin()


class Nutcracker(Proxy):
    name = "nutcracker"
    # nutcracker installs no SIGTERM handler: it dies by the signal (exit code -15).
    exits_cleanly_on_sigterm = False

    @classmethod
    def binary(cls) -> Path:
        return Path(NUTCRACKER)

    def argv(self) -> list[str]:
        # Without -o nutcracker logs to a system path; a later -o in extra_args still wins.
        base = super().argv()
        cut = len(base) - len(self.extra_args)
        return base[:cut] + ["-o", str(self.dir / "nutcracker.log")] + base[cut:]

    def log_text(self) -> str:
        own = self.dir / "nutcracker.log"
        extra = own.read_text(errors="replace") if own.exists() else ""
        return super().log_text() + extra


def selected_proxy_class() -> type[Proxy]:
    """Switchyard unless PROXY=nutcracker (development aid, see the module comment)."""
    choice = os.environ.get("PROXY", "switchyard").strip().lower()
    if choice == "nutcracker":
        return Nutcracker
    if choice != "switchyard":
        raise HarnessError(f"PROXY must be 'switchyard' or 'nutcracker', not {choice!r}")
    return Switchyard


# --------------------------------------------------------------------------------------------
# load through a proxy while its backends change


@dataclass
class Outcome:
    """One command sent by a Load: when it was sent, when its answer came, and the error (None
    for a success)."""

    index: int
    sent: float  # time.monotonic()
    answered: float
    error: Optional[str] = None
    error_reply: bool = False  # the error was a reply from the server (not a closed socket)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def latency(self) -> float:
        return self.answered - self.sent


class Load:
    """Sends one command after another on its own connection, from a background thread, until
    stop(): `op(client, i)` for i = 0, 1, 2, ...; any exception op raises is the outcome's
    error. After an error it pauses briefly, so a proxy that refuses fast is not spun against.

    redis-py retries nothing here (no retry_on_timeout), so every index is sent at most once.
    Thread: start(), stop() and the queries from the test thread; op runs on the load thread.
    """

    def __init__(self, client: redis.Redis, op: Callable[[redis.Redis, int], object],
                 pace_s: float = 0.0005, error_pause_s: float = 0.01):
        self.client = client
        self.op = op
        self.pace_s = pace_s
        self.error_pause_s = error_pause_s
        self._outcomes: list[Outcome] = []
        self._lock = threading.Lock()  # guards _outcomes
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Load":
        self._thread.start()
        return self

    def _run(self) -> None:
        index = 0
        while not self._stopping.is_set():
            sent = time.monotonic()
            error, error_reply = None, False
            try:
                self.op(self.client, index)
            except Exception as err:  # noqa: BLE001 - every failure is an outcome to judge
                error = f"{type(err).__name__}: {err}"
                error_reply = isinstance(err, redis.exceptions.ResponseError)
            with self._lock:
                self._outcomes.append(Outcome(index, sent, time.monotonic(), error, error_reply))
            index += 1
            time.sleep(self.error_pause_s if error else self.pace_s)

    def outcomes(self) -> list[Outcome]:
        with self._lock:
            return list(self._outcomes)

    def successes_after(self, moment: float) -> int:
        """How many commands sent after `moment` (time.monotonic()) succeeded so far."""
        return sum(1 for o in self.outcomes() if o.ok and o.sent > moment)

    def wait_successes(self, count: int, after: float, what: str,
                       timeout_s: float = 30.0) -> None:
        """Until `count` commands sent after `after` have succeeded."""
        wait_until(lambda: self.successes_after(after) >= count or not self._thread.is_alive(),
                   what, timeout_s)
        assert self._thread.is_alive(), "the load thread died"

    def stop(self) -> list[Outcome]:
        """Stops the sender (again is harmless) and returns every outcome."""
        self._stopping.set()
        if not self._thread.is_alive():
            return self.outcomes()
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), "the load thread did not stop (a hung command?)"
        self.client.connection_pool.disconnect()
        return self.outcomes()


def longest_gap(outcomes: Sequence[Outcome]) -> float:
    """The longest time, in seconds, between two consecutive successful answers (the time
    clients saw no success at all); 0 with fewer than two successes."""
    answered = sorted(o.answered for o in outcomes if o.ok)
    return max((b - a for a, b in zip(answered, answered[1:])), default=0.0)


def describe_errors(outcomes: Sequence[Outcome], most: int = 5) -> str:
    """The distinct error texts of `outcomes` with their counts, for assertion messages."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        if not outcome.ok:
            counts[outcome.error] = counts.get(outcome.error, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])[:most]
    return "; ".join(f"{count}x {text}" for text, count in ranked) or "none"


def values_absent(server: RedisServer, expected: dict[str, str]) -> list[str]:
    """The keys of `expected` that `server` does not hold with the expected value (one
    pipelined GET pass)."""
    pipe = server.client().pipeline(transaction=False)
    keys = list(expected)
    for key in keys:
        pipe.get(key)
    got = pipe.execute()
    return [key for key, value in zip(keys, got)
            if value is None or value.decode() != expected[key]]


def write_op(prefix: str):
    """A Load op: SET <prefix>:<i> <i>, which must answer OK."""
    def write(client: redis.Redis, i: int) -> None:
        assert client.set(f"{prefix}:{i}", i) is True

    return write


def acknowledged(outcomes: Sequence[Outcome], prefix: str) -> dict[str, str]:
    """key -> value of every write_op(prefix) write that succeeded in `outcomes`."""
    return {f"{prefix}:{o.index}": str(o.index) for o in outcomes if o.ok}


def read_op(values: dict[str, str]):
    """A Load op: GET of the i-th key of `values` (round robin), which must hold its value."""
    keys = list(values)

    def read(client: redis.Redis, i: int) -> None:
        key = keys[i % len(keys)]
        got = client.get(key)
        assert got == values[key].encode(), f"GET {key} -> {got!r}"

    return read


def read_all(client: redis.Redis, values: dict[str, str], reads: int) -> None:
    """`reads` GETs through client, round robin over `values`, each checked."""
    read = read_op(values)
    for i in range(reads):
        read(client, i)


def seed_keys(client: redis.Redis, master: RedisServer, count: int, replicas: int,
              prefix: str) -> dict[str, str]:
    """Writes `count` keys through client (a proxy) and waits until `replicas` replicas of
    `master` have them (WAIT on the master); returns key -> value."""
    values = {f"{prefix}:{i}": str(i) for i in range(count)}
    for key, value in values.items():
        assert client.set(key, value)
    # WAIT covers the replication offset of its own connection's writes: a fence written on
    # that connection after the keys makes it wait for them too.
    direct = master.client()
    direct.incr(f"{prefix}:fence")  # not a SET: tests count the SETs that reach a node
    assert direct.execute_command("WAIT", replicas, 10000) >= replicas
    return values


# --------------------------------------------------------------------------------------------
# key location


def locate(key: bytes | str, servers: Sequence[RedisServer], db: int = 0) -> list[int]:
    """Indexes of the servers that hold `key` in `db` (EXISTS on each)."""
    return [i for i, server in enumerate(servers) if server.client(db=db).exists(key)]


def locate_many(keys: Sequence[bytes | str], servers: Sequence[RedisServer],
                db: int = 0) -> dict:
    """key -> list of server indexes holding it, with one pipelined EXISTS pass per server."""
    holders = {key: [] for key in keys}
    for i, server in enumerate(servers):
        pipe = server.client(db=db).pipeline(transaction=False)
        for key in keys:
            pipe.exists(key)
        for key, found in zip(keys, pipe.execute()):
            if found:
                holders[key].append(i)
    return holders


def spread_keys(count: int, suffix: str = "", seed: int = 1) -> list[str]:
    """`count` distinct key names that differ from their first bytes on.

    fnv1a_64 (the default hash) spreads keys that differ only in their last bytes poorly
    (user:1 .. user:9 usually share a server), so tests that need keys on every backend
    use these.
    """
    import random

    rng = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < count:
        names[f"{rng.getrandbits(40):010x}{suffix}"] = None
    return list(names)


def keys_per_server(proxy_client: redis.Redis, servers: Sequence[RedisServer],
                    count: int = 1, prefix: str = "probe") -> list[list[str]]:
    """For each server, `count` key names that the proxy places on it.

    Writes candidate keys through the proxy, finds them on the backends, deletes them again.
    """
    found: list[list[str]] = [[] for _ in servers]
    batch = 0
    while any(len(keys) < count for keys in found):
        assert batch < 50, f"could not find {count} keys per server: {found}"
        names = spread_keys(64, suffix=f":{prefix}", seed=batch)
        proxy_client.mset({name: "x" for name in names})
        for name, where in locate_many(names, servers).items():
            assert len(where) == 1, f"{name} is on servers {where}"
            if len(found[where[0]]) < count:
                found[where[0]].append(name)
        proxy_client.delete(*names)
        batch += 1
    return found


# --------------------------------------------------------------------------------------------
# raw RESP connection


class Status(bytes):
    """A RESP simple string reply (+...)."""


class ErrorReply(bytes):
    """A RESP error reply (-...), without the leading '-' and trailing CRLF."""


class ConnectionClosed(Exception):
    """The peer closed the connection before a complete reply arrived."""


def encode_command(*args) -> bytes:
    """A RESP multibulk request; str args are UTF-8 encoded, ints formatted."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, int):
            arg = str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


class ReplyReader:
    """Reads whole RESP3 (and RESP2) replies off a socket as raw bytes, any depth: aggregates
    (* ~ > n children, % | 2n, an attribute also the reply it precedes), blobs ($ = !) and
    one-line types (+ - : _ , # ()."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError(f"closed with {len(self.buf)} bytes unread")
        self.buf += chunk

    def reply(self) -> bytes:
        pos, pending = 0, 1
        while pending:
            while self.buf.find(b"\r\n", pos) < 0:
                self._fill()
            end = self.buf.find(b"\r\n", pos)
            kind, text = self.buf[pos:pos + 1], self.buf[pos + 1:end]
            pos, pending = end + 2, pending - 1
            if kind in (b"*", b"~", b">") and int(text) > 0:
                pending += int(text)
            elif kind == b"%":
                pending += 2 * int(text)
            elif kind == b"|":
                pending += 2 * int(text) + 1
            elif kind in (b"$", b"=", b"!") and int(text) >= 0:
                while len(self.buf) < pos + int(text) + 2:
                    self._fill()
                pos += int(text) + 2
        reply, self.buf = self.buf[:pos], self.buf[pos:]
        return reply


class RawConn:
    """A plain socket speaking RESP2, for byte-exact requests and connection-state checks."""

    def __init__(self, port: int, timeout: float = 10.0, host: str = HOST):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "RawConn":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def command(self, *args):
        self.send(encode_command(*args))
        return self.read_reply()

    def _fill(self) -> None:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionClosed(f"closed with {len(self.buf)} unparsed bytes: "
                                   f"{self.buf[:80]!r}")
        self.buf += chunk

    def _line(self) -> bytes:
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line, self.buf = self.buf[:end], self.buf[end + 2:]
                return line
            self._fill()

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n + 2:
            self._fill()
        data, trailer, self.buf = self.buf[:n], self.buf[n:n + 2], self.buf[n + 2:]
        assert trailer == b"\r\n", f"bulk not followed by CRLF: {trailer!r}"
        return data

    def read_reply(self):
        """The next reply: Status, ErrorReply, int, bytes/None (bulk), list/None (array)."""
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return Status(rest)
        if kind == b"-":
            return ErrorReply(rest)
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        raise AssertionError(f"unexpected reply line {line!r}")

    def read_replies(self, n: int) -> list:
        return [self.read_reply() for _ in range(n)]

    def is_closed_within(self, timeout_s: float) -> bool:
        """True if the peer closes (EOF or reset) within timeout_s, with no more data sent."""
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.sock.settimeout(left)
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            return True

    def is_open(self) -> bool:
        """True if a PING on this connection gets +PONG (the connection is usable)."""
        try:
            return self.command("PING") == b"PONG"
        except (ConnectionClosed, OSError):
            return False


ERROR_TIMEOUT_WORDS = re.compile(rb"timed out|timeout", re.IGNORECASE)


def watch_increments(proxy: "Proxy", key: str, clients: int, rounds: int) -> list[str]:
    """`clients` threads each add 1 to `key` `rounds` times through `proxy` with redis-py's
    WATCH retry loop (Redis.transaction). Returns the errors they met (empty: none)."""
    errors: list[str] = []

    def increment() -> None:
        local = proxy.client()
        try:
            for _ in range(rounds):
                def txn(pipe) -> None:
                    value = int(pipe.get(key) or 0)
                    pipe.multi()
                    pipe.set(key, value + 1)
                local.transaction(txn, key)
        except Exception as err:  # returned to the test
            errors.append(repr(err))

    threads = [threading.Thread(target=increment) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors
