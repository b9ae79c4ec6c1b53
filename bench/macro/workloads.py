"""The redis-benchmark workloads and one measured run of each.

A run is one redis-benchmark process (one test, --csv) against one endpoint; around it we
read the CPU time of the endpoint's pid, so CPU per request = delta / requests.

redis-benchmark facts this relies on (Redis 7.0, checked by checks.check_key_spread):
- with -r N, every occurrence of __rand_int__ in a request is replaced independently by a
  12-digit number below N, so `MGET key:__rand_int__ x10` asks for 10 random keys;
- `-t set|get|mset` use the same `key:__rand_int__` keys, with -d byte values;
- at start it sends CONFIG GET save / appendonly on a separate connection and only warns
  ("WARNING: Could not fetch server CONFIG") when a proxy refuses them;
- error replies are printed to stderr as "Error from server: ..." but still counted as
  replies, so we treat any of them as a failed run.
"""

from __future__ import annotations

import csv
import io
import subprocess
from dataclasses import dataclass

from procs import BenchError, ProcessSet, cpu_seconds
from targets import Endpoint

RANDOM_KEY = "key:__rand_int__"
MULTI_KEY_COUNT = 10
_EXPECTED_STDERR = ("WARNING: Could not fetch server CONFIG",)


@dataclass(frozen=True)
class Workload:
    """One row family of the table."""

    name: str  # table label
    command: str  # the Redis command redis-benchmark sends
    selector: tuple[str, ...]  # redis-benchmark arguments that pick the test
    keys_per_request: int
    empties_keyspace: bool  # leaves the keyspace (mostly) empty: refill before the next run


_MULTI_KEYS = (RANDOM_KEY,) * MULTI_KEY_COUNT

# Keys are the names accepted by --workloads; the order is the order of rows and of runs.
WORKLOADS: dict[str, Workload] = {
    "set": Workload("SET", "SET", ("-t", "set"), 1, False),
    "get": Workload("GET", "GET", ("-t", "get"), 1, False),
    "mget": Workload("MGET10", "MGET", ("MGET", *_MULTI_KEYS), MULTI_KEY_COUNT, False),
    "mset": Workload("MSET10", "MSET", ("-t", "mset"), MULTI_KEY_COUNT, False),
    "del": Workload("DEL10", "DEL", ("DEL", *_MULTI_KEYS), MULTI_KEY_COUNT, True),
}


@dataclass(frozen=True)
class LoadSettings:
    """The redis-benchmark parameters shared by every run."""

    redis_benchmark: str
    clients: int
    value_size: int
    keyspace: int


@dataclass(frozen=True)
class RunResult:
    """What one redis-benchmark run measured; `error` is set when the run is not valid."""

    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_request: float
    error: str | None = None


def benchmark_argv(settings: LoadSettings, port: int, workload: Workload, pipeline: int,
                   requests: int) -> list[str]:
    """Returns the redis-benchmark command line; a custom command must come last."""
    return [
        settings.redis_benchmark, "-h", "127.0.0.1", "-p", str(port),
        "-c", str(settings.clients), "-n", str(requests), "-d", str(settings.value_size),
        "-r", str(settings.keyspace), "-P", str(pipeline), "--csv", *workload.selector,
    ]


def parse_csv(stdout: str) -> tuple[float, float, float]:
    """Returns (rps, p50 ms, p99 ms) from redis-benchmark --csv output with one test."""
    rows = list(csv.reader(io.StringIO(stdout)))
    for index, row in enumerate(rows):
        if row and row[0] == "test" and index + 1 < len(rows):
            record = dict(zip(row, rows[index + 1]))
            try:
                return (float(record["rps"]), float(record["p50_latency_ms"]),
                        float(record["p99_latency_ms"]))
            except (KeyError, ValueError):
                break
    raise BenchError(f"unexpected redis-benchmark output:\n{stdout.strip()[:500]}")


def unexpected_stderr(stderr: str) -> str | None:
    """Returns the first stderr line that is not a known harmless warning, if any."""
    for line in stderr.splitlines():
        line = line.strip()
        if line and not line.startswith(_EXPECTED_STDERR):
            return line
    return None


def run_once(procs: ProcessSet, settings: LoadSettings, endpoint: Endpoint,
             workload: Workload, pipeline: int, requests: int) -> RunResult:
    """Runs redis-benchmark once against `endpoint`, charging the endpoint pid's CPU."""
    argv = procs.pinned("bench", benchmark_argv(settings, endpoint.port, workload, pipeline,
                                                requests))
    timeout = max(120.0, requests / 1000.0)  # 1000 rps would already be a broken target
    cpu_before = cpu_seconds(endpoint.pid)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return RunResult(0.0, 0.0, 0.0, 0.0, f"redis-benchmark timed out after {timeout:.0f} s")
    cpu_used = cpu_seconds(endpoint.pid) - cpu_before
    procs.check_alive()
    cpu_us = cpu_used / requests * 1e6
    if done.returncode != 0:
        reason = unexpected_stderr(done.stderr) or "no message"
        return RunResult(0.0, 0.0, 0.0, cpu_us,
                         f"redis-benchmark exited {done.returncode}: {reason[:200]}")
    rps, p50, p99 = parse_csv(done.stdout)
    return RunResult(rps, p50, p99, cpu_us, unexpected_stderr(done.stderr))
