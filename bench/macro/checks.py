"""Checks that keep the numbers honest, and the keyspace fill every run starts from.

- check_key_spread: watches redis MONITOR while redis-benchmark sends each multi-key
  workload, proving every request carries 10 independently random keys.
- verify_target: a proxy that answers fast but wrongly must not get a row; each endpoint
  must round-trip MSET/MGET/DEL correctly (and a 2-shard pool must use both shards).
- fill_keyspace: every key the workloads can draw exists when a run starts, so every
  target reads, overwrites and deletes the same data.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time

import redis

from procs import BenchError
from targets import Endpoint
from workloads import LoadSettings, Workload, benchmark_argv

_FILL_BATCH = 1000
_SPREAD_REQUESTS = 50
_QUOTED_ARG = re.compile(rb'"((?:[^"\\]|\\.)*)"')
_BENCH_KEY = re.compile(rb"key:(\d{12})")
_VERIFY_KEYS = 32


def fill_keyspace(ports: tuple[int, ...], keyspace: int, value_size: int) -> None:
    """Sets key:000000000000 .. key:<keyspace-1> on every backend in `ports`.

    Each backend gets every key: a proxy only ever reads the keys it places there, so the
    extra copies are never seen, and the fill needs no knowledge of placement.
    """
    value = b"v" * value_size
    for port in ports:
        client = redis.Redis(port=port, socket_timeout=30)
        pipe = client.pipeline(transaction=False)
        for start in range(0, keyspace, _FILL_BATCH):
            stop = min(start + _FILL_BATCH, keyspace)
            pipe.mset({f"key:{index:012d}": value for index in range(start, stop)})
        pipe.execute()
        if client.dbsize() < keyspace:
            raise BenchError(f"keyspace fill on port {port} left fewer than {keyspace} keys")


def _monitored_requests(port: int, argv: list[str], command: bytes,
                        count: int) -> list[list[bytes]]:
    """Runs `argv` while MONITOR-ing redis at `port`; returns the args of `count` requests
    whose command is `command` (the CONFIG GET probes are admin commands, never shown)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as monitor:
        monitor.sendall(b"MONITOR\r\n")
        if not monitor.recv(16).startswith(b"+OK"):
            raise BenchError("redis refused MONITOR")
        subprocess.run(argv, capture_output=True, check=True, timeout=60)
        received = b""
        requests: list[list[bytes]] = []
        deadline = time.monotonic() + 5
        while len(requests) < count and time.monotonic() < deadline:
            received += monitor.recv(65536)
            lines = received.split(b"\r\n")
            received = lines.pop()
            for line in lines:
                args = [match.group(1) for match in _QUOTED_ARG.finditer(line)]
                if args and args[0].upper() == command:
                    requests.append(args[1:])
        return requests[:count]


def _request_keys(workload: Workload, args: list[bytes]) -> list[bytes]:
    """Returns the key arguments of one request (MSET alternates key and value)."""
    return args[0::2] if workload.command == "MSET" else args


def check_key_spread(port: int, settings: LoadSettings, workload: Workload) -> str:
    """Proves that `workload` sends `keys_per_request` random keys below the keyspace per
    request, independently drawn (>= 95% distinct over a sample); returns a summary line."""
    argv = benchmark_argv(settings, port, workload, 1, _SPREAD_REQUESTS)
    argv[argv.index("-c") + 1] = "1"
    requests = _monitored_requests(port, argv, workload.command.encode(), _SPREAD_REQUESTS)
    if len(requests) < _SPREAD_REQUESTS:
        raise BenchError(f"{workload.name}: MONITOR saw only {len(requests)} requests")
    all_keys: list[bytes] = []
    for args in requests:
        keys = _request_keys(workload, args)
        numbers = [_BENCH_KEY.fullmatch(key) for key in keys]
        if len(keys) != workload.keys_per_request or not all(numbers):
            raise BenchError(f"{workload.name}: unexpected request {args[:12]!r}")
        if any(int(number.group(1)) >= settings.keyspace for number in numbers):
            raise BenchError(f"{workload.name}: key outside keyspace in {keys!r}")
        all_keys.extend(keys)
    distinct = len(set(all_keys))
    if distinct < 0.95 * len(all_keys):
        raise BenchError(f"{workload.name}: only {distinct} distinct keys of {len(all_keys)}; "
                         "__rand_int__ is not replaced independently")
    return (f"{workload.name}: {len(requests)} requests seen by MONITOR, "
            f"{workload.keys_per_request} keys each, {distinct}/{len(all_keys)} distinct")


def verify_target(endpoint: Endpoint) -> tuple[int, ...]:
    """Checks MSET/MGET/DEL through `endpoint` against what redis holds.

    Returns the backend index of each verification key (the placement), so that the
    placements of two twemproxy-compatible proxies can be compared.
    """
    keys = [f"bench:verify:{index}" for index in range(_VERIFY_KEYS)]
    values = [f"value-{index}".encode() for index in range(_VERIFY_KEYS)]
    client = redis.Redis(port=endpoint.port, socket_timeout=5)
    try:
        client.mset(dict(zip(keys, values)))
        got = client.mget(keys)
        placement = _placement(endpoint, keys)
        deleted = client.delete(*keys)
        after = client.mget(keys)
    except redis.RedisError as error:
        raise BenchError(f"{endpoint.label}: verification failed: {error}") from None
    problem = None
    if got != values:
        problem = f"MGET returned {got[:4]!r}..., expected {values[:4]!r}..."
    elif deleted != _VERIFY_KEYS or any(value is not None for value in after):
        problem = f"DEL returned {deleted}, then MGET {after[:4]!r}..."
    elif len(set(placement)) != len(endpoint.backend_ports):
        problem = f"keys landed on backends {sorted(set(placement))} only"
    if problem:
        raise BenchError(f"{endpoint.label}: verification failed: {problem}")
    return placement


def _placement(endpoint: Endpoint, keys: list[str]) -> tuple[int, ...]:
    """Returns, per key, the index of the one backend holding it (asked directly)."""
    placement = []
    backends = [redis.Redis(port=port, socket_timeout=5) for port in endpoint.backend_ports]
    for key in keys:
        holders = [index for index, backend in enumerate(backends) if backend.exists(key)]
        if len(holders) != 1:
            raise BenchError(f"{endpoint.label}: key {key} is on backends {holders}")
        placement.append(holders[0])
    return tuple(placement)
