"""The servers under test: redis-server backends and the proxies in front of them.

Topology of one run (all on 127.0.0.1, ports chosen free at start):

    redis-benchmark ──> redis A                               (target "redis", direct)
    redis-benchmark ──> proxy "1 shard"  ──> redis A
    redis-benchmark ──> proxy "2 shards" ──> redis A (shard0), redis B (shard1)

Every proxy kind gets one process per topology, so its CPU time is charged to one pool only.
Proxy kinds are declared once in PROXY_KINDS; each knows how to write its own config.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import redis

from procs import BenchError, ProcessSet, free_port, wait_for_port

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SWITCHYARD = REPO_ROOT / "build/release/src/app/switchyard"

# Backend request timeout given to every proxy: long enough that a loaded 2-core machine
# never trips it during a run, short enough that a lost reply fails the run visibly.
PROXY_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class Endpoint:
    """Something redis-benchmark is pointed at, and the pid charged with its CPU time."""

    target: str  # "redis", "switchyard", "nutcracker", ...
    topology: str  # "direct", "1 shard" or "2 shards"
    port: int
    pid: int
    backend_ports: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"{self.target}/{self.topology}"


def topology_name(shards: int) -> str:
    """Returns the table label of a proxy pool with `shards` backends."""
    return "1 shard" if shards == 1 else f"{shards} shards"


@dataclass(frozen=True)
class ProxySetup:
    """Everything a proxy kind needs to write its config and command line."""

    binary: str
    workdir: Path
    listen_port: int
    stats_port: int
    backend_ports: tuple[int, ...]
    extra_args: tuple[str, ...]


def twemproxy_yaml(setup: ProxySetup) -> str:
    """Returns a nutcracker.yml pool: ketama over fnv1a_64, servers named shard0..N-1."""
    servers = "".join(
        f"    - 127.0.0.1:{port}:1 shard{index}\n"
        for index, port in enumerate(setup.backend_ports)
    )
    return (
        "bench:\n"
        f"  listen: 127.0.0.1:{setup.listen_port}\n"
        "  hash: fnv1a_64\n"
        "  distribution: ketama\n"
        "  redis: true\n"
        f"  timeout: {PROXY_TIMEOUT_MS}\n"
        "  preconnect: true\n"
        "  auto_eject_hosts: false\n"
        "  server_connections: 1\n"
        "  servers:\n" + servers
    )


def _write(setup: ProxySetup, name: str, text: str) -> Path:
    path = setup.workdir / name
    path.write_text(text)
    return path


def nutcracker_argv(setup: ProxySetup) -> list[str]:
    """nutcracker with its stats server on a free port (the default 22222 may be taken)."""
    config = _write(setup, "nutcracker.yml", twemproxy_yaml(setup))
    return [setup.binary, "-c", str(config), "-s", str(setup.stats_port), "-a", "127.0.0.1",
            *setup.extra_args]


def switchyard_argv(setup: ProxySetup) -> list[str]:
    """switchyard takes nutcracker's flags and config; one worker thread, as the goals say."""
    config = _write(setup, "switchyard.yml", twemproxy_yaml(setup))
    return [setup.binary, "-c", str(config), "-s", str(setup.stats_port), "-a", "127.0.0.1",
            "--threads", "1", *setup.extra_args]


def predixy_argv(setup: ProxySetup) -> list[str]:
    """predixy has no ketama: its standalone pool places keys by crc16 modulo shard count."""
    groups = "".join(
        f"    Group shard{index} {{\n        + 127.0.0.1:{port}\n    }}\n"
        for index, port in enumerate(setup.backend_ports)
    )
    text = (
        "Name bench\n"
        f"Bind 127.0.0.1:{setup.listen_port}\n"
        "WorkerThreads 1\n"
        "ClientTimeout 0\n"
        "LogVerbSample 0\nLogDebugSample 0\nLogInfoSample 0\n"
        "LogNoticeSample 1\nLogWarnSample 1\nLogErrorSample 1\n"
        "StandaloneServerPool {\n"
        "    Hash crc16\n"
        "    Distribution modula\n"
        "    RefreshMethod fixed\n"
        f"    ServerTimeout {PROXY_TIMEOUT_MS // 1000}\n"
        "    ServerFailureLimit 10\n"
        "    ServerRetryTimeout 1\n" + groups + "}\n"
    )
    return [setup.binary, str(_write(setup, "predixy.conf", text)), *setup.extra_args]


def haproxy_argv(setup: ProxySetup) -> list[str]:
    """haproxy forwards TCP to one backend: one server connection per client connection."""
    (port,) = setup.backend_ports
    text = (
        "global\n    nbthread 1\n    maxconn 4096\n"
        "defaults\n    mode tcp\n    timeout connect 5s\n"
        "    timeout client 1m\n    timeout server 1m\n"
        f"frontend bench\n    bind 127.0.0.1:{setup.listen_port}\n    default_backend redis\n"
        f"backend redis\n    server shard0 127.0.0.1:{port}\n"
    )
    return [setup.binary, "-db", "-f", str(_write(setup, "haproxy.cfg", text)),
            *setup.extra_args]


@dataclass(frozen=True)
class ProxyKind:
    """A proxy the benchmark knows how to configure."""

    name: str
    argv: Callable[[ProxySetup], list[str]]
    max_shards: int  # topologies with more shards are skipped, with `shard_note` as reason
    shard_note: str = ""
    note: str = ""  # shown under the table when this proxy was measured


PROXY_KINDS: dict[str, ProxyKind] = {
    kind.name: kind
    for kind in (
        ProxyKind("switchyard", switchyard_argv, max_shards=64),
        # Another build of switchyard (--switchyard-baseline), measured in the same rounds to
        # show what a change gains or loses.
        ProxyKind("switchyard-baseline", switchyard_argv, max_shards=64),
        ProxyKind("nutcracker", nutcracker_argv, max_shards=64),
        ProxyKind("predixy", predixy_argv, max_shards=64,
                  note="predixy places keys by crc16 modulo (it has no ketama), "
                       "so its 2-shard key split differs from the twemproxy one."),
        ProxyKind("haproxy", haproxy_argv, max_shards=1,
                  shard_note="haproxy cannot shard by key"),
    )
}


def resolve_binary(kind: str, explicit: str | None) -> tuple[str | None, str]:
    """Returns (path, "") for a usable binary of `kind`, or (None, reason) when absent.

    Order: the explicit flag, then for switchyard $SWITCHYARD_BIN and the release build,
    for the others $PATH (and /usr/sbin, where Debian puts nutcracker and haproxy).
    """
    if explicit:
        path = Path(explicit).expanduser().resolve()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path), ""
        return None, f"{kind} binary not found at {path}"
    if kind == "switchyard-baseline":
        return None, "no --switchyard-baseline given"
    if kind == "switchyard":
        path = Path(os.environ.get("SWITCHYARD_BIN", DEFAULT_SWITCHYARD)).resolve()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path), ""
        return None, f"switchyard binary not found at {path} (use --switchyard or SWITCHYARD_BIN)"
    found = shutil.which(kind, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/local/sbin")
    if found:
        return found, ""
    return None, f"{kind} not found on PATH (use --{kind} to give its path)"


def wait_until_serving(port: int, what: str, procs: ProcessSet, timeout: float = 10.0) -> None:
    """Blocks until a PING through 127.0.0.1:`port` is answered (proxies connect lazily)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            if redis.Redis(port=port, socket_timeout=2).ping():
                return
        except (redis.RedisError, OSError) as error:
            last_error = error
        time.sleep(0.1)
    raise BenchError(f"{what} on port {port} does not answer PING: {last_error}")


def start_redis(procs: ProcessSet, binary: str, name: str, workdir: Path,
                taken_ports: set[int]) -> tuple[int, int]:
    """Starts a persistence-free redis-server on a free port; returns (port, pid)."""
    port = free_port(taken_ports)
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(workdir), "--daemonize", "no"]
    started = procs.start(name, "redis", argv, workdir / f"{name}.log")
    wait_for_port(port, started.proc, name)
    wait_until_serving(port, name, procs)
    return port, started.pid


def start_proxy(procs: ProcessSet, kind: ProxyKind, binary: str, backend_ports: tuple[int, ...],
                workdir: Path, taken_ports: set[int], extra_args: tuple[str, ...]) -> Endpoint:
    """Starts one `kind` process in front of `backend_ports` and waits until it serves."""
    topology = topology_name(len(backend_ports))
    name = f"{kind.name}-{len(backend_ports)}shard"
    proxy_dir = workdir / name
    proxy_dir.mkdir()
    setup = ProxySetup(binary, proxy_dir, free_port(taken_ports), free_port(taken_ports),
                       backend_ports, extra_args)
    started = procs.start(name, "proxy", kind.argv(setup), proxy_dir / "output.log")
    try:
        wait_for_port(setup.listen_port, started.proc, name)
        wait_until_serving(setup.listen_port, name, procs)
    except BenchError as error:
        raise BenchError(f"{error}\n{name} log tail:\n{started.log_tail()}") from None
    return Endpoint(kind.name, topology, setup.listen_port, started.pid, backend_ports)
