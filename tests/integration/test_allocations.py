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
        cls=CountedSwitchyard, extra_args=["--threads", "1"])
    return Counted(proxy, servers)


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


def test_single_key_requests_do_not_allocate(counted, capsys):
    """No heap allocation per single-key request once pools are warm. redis-benchmark opens
    its clients anew for every run, and a connection that carries traffic allocates a little
    (its session, its queue); so the same runs are measured at two sizes and only the
    difference is charged to requests: connection costs cancel exactly."""
    proxy = counted.proxy
    single_key_workload(proxy.port, WARMUP_PER_RUN)
    before = proxy.allocations()
    small = single_key_workload(proxy.port, MEASURED_PER_RUN // 4)
    middle = proxy.allocations()
    large = single_key_workload(proxy.port, MEASURED_PER_RUN)
    after = proxy.allocations()
    per_request = max(0, (after - middle) - (middle - before)) / (large - small)
    per_run_of_small = (middle - before) / 4
    with capsys.disabled():
        print(f"\n[switchyard] {per_request:.4f} allocations per single-key request "
              f"(marginal over {large - small} GET/SET, {CLIENTS} clients, pipeline 1 and 16; "
              f"{per_run_of_small:.0f} per benchmark run of {CLIENTS} new connections)")
    assert middle > before, "the small runs allocated nothing: is the counter preloaded?"
    assert per_request < MAX_ALLOCATIONS_PER_REQUEST, f"{per_request:.4f} allocations per request"


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
