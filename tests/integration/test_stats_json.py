"""The stats port, proven against nutcracker: the same document for the same traffic.

nutcracker and switchyard (one worker thread, so it keeps one connection per server as
nutcracker does) run the same two pools over the same two redis-server backends, with
`-i 100`. Both get the same requests; then both stats documents must have the same bytes
apart from the values (same keys in the same order, same separators), the same JSON types,
and the same counters. What differs on purpose (docs/configuration.md, "Stats port"): the
service name, the version, the uptime, `fragments` (nutcracker never counts it) and the
request_bytes of a split MSET (nutcracker over-counts).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time

import pytest

from harness import (HOST, NUTCRACKER, Nutcracker, Pool, Switchyard, encode_command as cmd,
                     spread_keys, switchyard_bin)

INTERVAL_MS = 100
KEYS = spread_keys(24, suffix=":stats")
# Values that legitimately differ between the two programs (docs/configuration.md).
OWN_VALUES = {"service", "version", "uptime", "timestamp"}


def read_stats(proxy) -> bytes:
    data = b""
    with socket.create_connection((HOST, proxy.stats_port), timeout=5) as sock:
        while chunk := sock.recv(65536):
            data += chunk
    return data


def parse_ordered(data: bytes):
    """The document as nested lists of (key, value) pairs, in document order."""
    return json.loads(data, object_pairs_hook=list)


def skeleton(data: bytes) -> bytes:
    """The document's bytes with every value blanked: what must match byte for byte."""
    text = re.sub(rb'"(service|version|source)":"[^"]*"', rb'"\1":"-"', data)
    return re.sub(rb":\d+", b":0", text)


def counters(data: bytes) -> dict:
    """Flat {path: value} of every number, without the values that legitimately differ."""
    flat = {}

    def walk(prefix, pairs):
        for key, value in pairs:
            if isinstance(value, list):
                walk(prefix + (key,), value)
            elif not (prefix == () and key in OWN_VALUES):
                flat["/".join(prefix + (key,))] = value

    walk((), parse_ordered(data))
    return flat


def types(pairs):
    return [(key, types(value) if isinstance(value, list) else type(value).__name__)
            for key, value in pairs]


def pools(servers) -> list[Pool]:
    """Two pools whose names, and server names, sort differently from the file order:
    nutcracker prints them sorted (shorter names first), and so must switchyard."""
    return [
        Pool(servers=servers, name="sessions", names=["zeta", "a1"], hash="fnv1a_64",
             distribution="ketama", hash_tag="{}"),
        # The proxy's own SELECT on connect counts neither as a request nor as a response.
        Pool(servers=list(reversed(servers)), name="cache", hash="murmur",
             distribution="modula", redis_db=3),
    ]


@pytest.fixture
def pair(procs):
    """(switchyard, nutcracker) on the same config and the same two backends."""
    servers = procs.redis(2)
    ours = procs.proxy(pools=pools(servers), cls=Switchyard,
                       extra_args=["-i", str(INTERVAL_MS), "--threads", "1"])
    theirs = procs.proxy(pools=pools(servers), cls=Nutcracker,
                         extra_args=["-i", str(INTERVAL_MS)])
    return ours, theirs


def settled(proxy, predicate, timeout_s: float = 15.0) -> bytes:
    """Polls the stats port until predicate(counters) holds; returns that document."""
    deadline = time.monotonic() + timeout_s
    while True:
        data = read_stats(proxy)
        if predicate(counters(data)):
            return data
        assert time.monotonic() < deadline, f"{proxy.name} stats never settled:\n{data!r}"
        time.sleep(INTERVAL_MS / 1000 / 4)


def drive(proxy) -> None:
    """The same requests through each pool; every reply read before going on."""
    for port in proxy.listen_ports:
        with proxy.raw(port) as conn:
            for key in KEYS:
                assert conn.command("SET", key, "v" * 10) == b"OK"
            for key in KEYS:
                assert conn.command("GET", key) == b"v" * 10
            assert conn.command("MGET", *KEYS) == [b"v" * 10] * len(KEYS)
            # A pipeline in one write.
            conn.send(b"".join(cmd("GET", key) for key in KEYS))
            assert conn.read_replies(len(KEYS)) == [b"v" * 10] * len(KEYS)
            assert conn.command("PING") == b"PONG"  # answered by the proxy itself
            assert conn.command("DEL", *KEYS) == len(KEYS)
        # A client that comes and goes without a request.
        socket.create_connection((HOST, port), timeout=5).close()
        # A malformed request: both close the client and count it (client_err).
        with proxy.raw(port) as conn:
            conn.send(b"*2\r\n$3\r\nGET\r\n$x\r\n")
            assert conn.is_closed_within(10)


def drive_mset(proxy) -> None:
    for port in proxy.listen_ports:
        with proxy.raw(port) as conn:
            assert conn.command("MSET", *[x for key in KEYS for x in (key, "w")]) == b"OK"
            assert conn.command("DEL", *KEYS) == len(KEYS)


def total(c: dict, suffix: str) -> int:
    return sum(value for path, value in c.items() if path.endswith(suffix))


def idle(c: dict) -> bool:
    """Every client gone, every request answered."""
    pools_ = {path.split("/")[0] for path in c if "/" in path}
    return all(c[f"{p}/client_connections"] == 0 for p in pools_) and all(
        c[path] == c[path.replace("/requests", "/responses")]
        for path in c if path.endswith("/requests"))


def compare_after(pair, driver, expected_requests: int, client_eof: int) -> tuple[dict, dict]:
    """Runs `driver` on both proxies; returns {path: (switchyard, nutcracker)} for every
    counter that differs, after checking the documents' bytes and types agree, and
    switchyard's counters."""
    for proxy in pair:
        driver(proxy)

    def done(c: dict) -> bool:
        return idle(c) and total(c, "/requests") >= expected_requests and all(
            c[f"{pool}/client_eof"] >= client_eof for pool in ("sessions", "cache"))

    after = [settled(p, done) for p in pair]
    assert skeleton(after[0]) == skeleton(after[1]), after
    assert types(parse_ordered(after[0])) == types(parse_ordered(after[1]))
    ours, theirs = counters(after[0]), counters(after[1])
    assert total(ours, "/requests") == expected_requests, ours
    return {k: (ours[k], theirs[k]) for k in ours if ours[k] != theirs[k]}, ours


def probed(c: dict) -> bool:
    """Idle, and the harness's start-up probe (one connect and close per listen port) is
    counted: on a busy machine the probe can still wait in the listen backlog when the
    proxy first looks idle."""
    pools_ = {path.split("/")[0] for path in c if "/" in path}
    return idle(c) and all(c[f"{p}/client_eof"] >= 1 for p in pools_)


def test_same_document_and_counters_as_nutcracker(pair):
    before = [settled(p, probed) for p in pair]
    assert skeleton(before[0]) == skeleton(before[1]), before
    assert types(parse_ordered(before[0])) == types(parse_ordered(before[1]))
    assert counters(before[0]) == counters(before[1])

    # Per pool: SET, GET and pipelined GET of every key; MGET and DEL split in two
    # fragments each (the keys span both servers); PING never reaches a server.
    requests = 2 * (3 * len(KEYS) + 2 * 2)
    differing, ours = compare_after(pair, drive, requests, client_eof=3)
    for pool in ("sessions", "cache"):
        assert (ours[f"{pool}/client_eof"], ours[f"{pool}/client_err"]) == (3, 1)
    # nutcracker 0.5.0 never counts its fragments; switchyard counts each sub-request.
    assert differing == {"cache/fragments": (4, 0), "sessions/fragments": (4, 0)}

    # MSET split over two servers: nutcracker counts more request_bytes than it sends for
    # a fragment of more than one key (the backends receive the same bytes from both).
    requests += 2 * 2 * 2
    differing, _ = compare_after(pair, drive_mset, requests, client_eof=4)
    assert differing.pop("cache/fragments") == (8, 0)
    assert differing.pop("sessions/fragments") == (8, 0)
    assert differing, "nutcracker's MSET byte count was expected to differ"
    for path, (ours, theirs) in differing.items():
        assert path.endswith("/request_bytes") and ours < theirs, differing


def test_top_level_pool_and_server_keys_in_nutcracker_order(pair):
    ours, theirs = pair
    doc = parse_ordered(read_stats(ours))
    reference = parse_ordered(read_stats(theirs))
    assert [k for k, _ in doc] == [k for k, _ in reference]
    assert [k for k, _ in doc][:7] == ["service", "source", "version", "uptime", "timestamp",
                                       "total_connections", "curr_connections"]
    # Pools and servers sorted by name, shorter first: "cache" before "sessions", "a1"
    # before "zeta", whatever the order in the file.
    assert [k for k, _ in doc][7:] == ["cache", "sessions"]
    sessions = dict(doc)["sessions"]
    assert [k for k, v in sessions if isinstance(v, list)] == ["a1", "zeta"]
    assert dict(doc)["source"] == dict(reference)["source"]  # the host name, on one machine
    assert dict(doc)["service"] == "switchyard"
    assert dict(reference)["service"] == "nutcracker"
    raw = read_stats(ours)
    assert raw.endswith(b"}\n") and raw.count(b"\n") == 1


def test_counters_move_within_the_interval(pair):
    ours, _ = pair
    base = counters(settled(ours, idle))
    key = KEYS[0]
    with ours.raw() as conn:
        assert conn.command("SET", key, "x") == b"OK"
        answered = time.monotonic()
        data = settled(ours, lambda c: total(c, "/requests") > total(base, "/requests"))
        moved_after = time.monotonic() - answered
        # One interval plus scheduling slack on a loaded machine.
        assert moved_after < INTERVAL_MS / 1000 + 1.5, moved_after
        now = counters(data)
        assert now["sessions/client_connections"] == 1
        assert conn.command("DEL", key) == 1


def field_names(text: str) -> dict[str, list[str]]:
    """The field names of each twemproxy section ('pool stats:', 'server stats:') of a -D
    listing. Other sections (switchyard's command stats and histograms) are left out."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.strip() and not line.startswith(" "):
            current = line if line in ("pool stats:", "server stats:") else None
            if current:
                sections[current] = []
        elif current and line.startswith("  ") and line.strip():
            sections[current].append(line.split()[0])
    return sections


def test_describe_lists_the_same_fields_as_nutcracker():
    ours = subprocess.run([str(switchyard_bin()), "-D"], capture_output=True, text=True,
                          timeout=30)
    theirs = subprocess.run([NUTCRACKER, "-D"], capture_output=True, text=True, timeout=30)
    assert ours.returncode == 0 and theirs.returncode == 0
    # nutcracker prints its listing on stderr; switchyard on stdout.
    ours_fields, theirs_fields = field_names(ours.stdout), field_names(theirs.stderr)
    assert list(theirs_fields) == ["pool stats:", "server stats:"]
    assert ours_fields == theirs_fields
