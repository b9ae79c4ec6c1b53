"""No heap allocation per request in steady state (STYLE.md rule 14), proven on the binary.

switchyard runs with tests/support/alloc_counter preloaded: every malloc, calloc, realloc
(and the aligned variants) in the process is counted, and SIGUSR2 makes the library write
the count to SY_ALLOC_COUNT_FILE. After a warm-up that lets every pool (requests, buffers,
the backend FIFOs) reach its working size, 200,000 more single-key GETs and SETs of the same
shape must cost (almost) no allocation at all. Connection set-up does allocate, and the
redis-benchmark runs open connections, so the bound is "< 0.01 per request", not zero.

The library is SY_ALLOC_COUNTER_LIB (ctest sets it), else found next to the build's
switchyard binary. It does not exist in sanitizer builds, which replace malloc themselves.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import REDIS_BENCHMARK, Switchyard, encode_command, pool_config, switchyard_bin

CLIENTS = 50
WARMUP_PER_RUN = 50_000
MEASURED_PER_RUN = 50_000  # x GET/SET x pipeline 1/16 = 200,000 requests
KEYSPACE = 100_000
MAX_ALLOCATIONS_PER_REQUEST = 0.01
MGET_KEYS = 10


def counter_library() -> Path:
    env = os.environ.get("SY_ALLOC_COUNTER_LIB")
    if env:
        path = Path(env)
    else:  # <build>/src/app/switchyard -> <build>/tests/integration/libsy_alloc_counter.so
        path = (switchyard_bin().resolve().parents[2] / "tests" / "integration"
                / "libsy_alloc_counter.so")
    assert path.is_file(), (f"allocation counter library not found at {path}: build the "
                            f"sy_alloc_counter target (not built with sanitizers) or set "
                            f"SY_ALLOC_COUNTER_LIB")
    return path


class CountedSwitchyard(Switchyard):
    """switchyard with the allocation counter preloaded; allocations() reads the count."""

    count_path: Path

    def argv(self) -> list[str]:
        # The preload travels in the environment of the exec'd process: `env` sets it for
        # switchyard only, not for this interpreter.
        self.count_path = self.dir / "allocations"
        return ["/usr/bin/env", f"LD_PRELOAD={counter_library()}",
                f"SY_ALLOC_COUNT_FILE={self.count_path}"] + super().argv()

    def allocations(self, timeout_s: float = 5.0) -> int:
        """The process's allocation count now (SIGUSR2, then the file the handler writes)."""
        self.count_path.unlink(missing_ok=True)
        os.kill(self.pid, signal.SIGUSR2)
        deadline = time.monotonic() + timeout_s
        while not self.count_path.exists():
            assert time.monotonic() < deadline, "the counter did not answer SIGUSR2"
            time.sleep(0.01)
        text = self.count_path.read_text()
        assert re.fullmatch(r"\d+\n", text), repr(text)
        return int(text)


def run_benchmark(port: int, tests: str, requests: int, pipeline: int) -> str:
    result = subprocess.run(
        [REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(port), "-t", tests, "-n", str(requests),
         "-c", str(CLIENTS), "-P", str(pipeline), "-r", str(KEYSPACE), "-d", "16", "-q"],
        capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for name in tests.upper().split(","):
        assert re.search(rf"^{name}: [\d.]+ requests per second", output, re.MULTILINE), output
    return output


def single_key_workload(port: int, per_run: int) -> int:
    """GET and SET with random keys, pipeline 1 and 16; returns the number of requests."""
    for pipeline in (1, 16):
        run_benchmark(port, "set,get", per_run, pipeline)
    return 4 * per_run


def mget_workload(port: int, keys: list[str], requests: int) -> None:
    """`requests` MGETs of `keys` (spread over both shards) on one connection, pipelined."""
    batch = 100
    request = encode_command("MGET", *keys) * batch
    reply = (b"*%d\r\n" % len(keys)
             + b"".join(b"$%d\r\n%s\r\n" % (len(k), k.encode()) for k in keys)) * batch
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        for _ in range(requests // batch):
            sock.sendall(request)
            got = bytearray()
            while len(got) < len(reply):
                chunk = sock.recv(1 << 16)
                assert chunk, "the proxy closed the connection"
                got += chunk
            assert got == reply


STATS_INTERVAL_MS = 20


@dataclass
class Counted:
    proxy: CountedSwitchyard
    servers: list
    per_connection: float = 0.0  # allocations per new client connection, measured first


@pytest.fixture(scope="module")
def counted(module_procs) -> Counted:
    servers = module_procs.redis(2)
    proxy = module_procs.proxy(
        pools=[pool_config(servers, hash="fnv1a_64", distribution="ketama")],
        cls=CountedSwitchyard, extra_args=["--threads", "1", "-i", str(STATS_INTERVAL_MS)])
    return Counted(proxy, servers)


def connections_accepted(proxy) -> int:
    time.sleep(5 * STATS_INTERVAL_MS / 1000)  # let the stats port refresh
    return proxy.stats()["total_connections"]


class AllocationBudgetExceeded(AssertionError):
    """The one check of a known open defect (see the xfail reason); anything else failing in
    the same test is a plain AssertionError and is not excused."""


def test_counter_counts_start_up_and_connections(counted, capsys):
    """Guards the other tests against passing vacuously: the counter is loaded and counts."""
    proxy = counted.proxy
    at_start = proxy.allocations()
    assert at_start > 100, f"only {at_start} allocations during start-up: is it preloaded?"
    before = proxy.allocations()
    conns = [socket.create_connection(("127.0.0.1", proxy.port), timeout=10) for _ in range(100)]
    for conn in conns:
        conn.sendall(encode_command("PING"))
    for conn in conns:
        assert conn.recv(64) == b"+PONG\r\n"
        conn.close()
    counted.per_connection = (proxy.allocations() - before) / 100
    with capsys.disabled():
        print(f"\n[switchyard] allocations: {at_start} at start-up, "
              f"{counted.per_connection:.1f} per new client connection")
    assert counted.per_connection >= 1, "100 new connections allocated nothing"


# Known defect: asio's per-thread handler memory cache (ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE,
# 2 blocks by default) misses when many reads complete in one turn, so re-arming a session's
# or a backend's async_read_some allocates now and then. strict: XPASS fails once fixed.
@pytest.mark.xfail(strict=True, raises=AllocationBudgetExceeded,
                   reason="asio handler allocations for re-armed reads miss the recycling cache")
def test_single_key_requests_do_not_allocate(counted, capsys):
    proxy = counted.proxy
    assert counted.per_connection >= 1, "run with test_counter_counts_start_up_and_connections"
    single_key_workload(proxy.port, WARMUP_PER_RUN)
    before, accepted_before = proxy.allocations(), connections_accepted(proxy)
    requests = single_key_workload(proxy.port, MEASURED_PER_RUN)
    allocations = proxy.allocations() - before
    connections = connections_accepted(proxy) - accepted_before
    # redis-benchmark opens its 50 clients anew for every run: connection set-up is not a
    # per-request cost, so it is taken out at the rate measured above.
    raw = allocations / requests
    net = max(0.0, allocations - connections * counted.per_connection) / requests
    with capsys.disabled():
        print(f"\n[switchyard] {net:.4f} allocations per single-key request ({raw:.4f} before "
              f"taking out {connections} connections; {requests} GET/SET, {CLIENTS} clients, "
              f"pipeline 1 and 16)")
    assert connections >= 4 * CLIENTS, f"only {connections} connections seen"
    if net >= MAX_ALLOCATIONS_PER_REQUEST:
        raise AllocationBudgetExceeded(f"{net:.4f} allocations per single-key request")


def test_mget_across_shards_allocations_reported(counted, capsys):
    """Split requests build fragments and merge replies; their cost is reported, not bounded."""
    proxy, servers = counted.proxy, counted.servers
    keys = [f"{i:02d}{'x' * 6}" for i in range(MGET_KEYS)]
    proxy.client().mset({key: key for key in keys})
    holders = {i for key in keys for i, s in enumerate(servers) if s.client().exists(key)}
    assert holders == {0, 1}, "the MGET keys should span both shards"
    mget_workload(proxy.port, keys, 2_000)
    before = proxy.allocations()
    mget_workload(proxy.port, keys, 20_000)
    mget = (proxy.allocations() - before) / 20_000
    with capsys.disabled():
        print(f"\n[switchyard] {mget:.3f} allocations per {MGET_KEYS}-key MGET over 2 shards")
