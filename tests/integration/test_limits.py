"""Nothing grows without bound: slow clients, stalled backends, huge requests, many clients.

Each test drives the real binary into a limit and checks three things: the proxy's memory
stays under a bound derived from its documented limits (server/client_session.h), the
clients that behave keep getting prompt and correct replies, and once the pressure goes
away everything works again without a restart.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import redis

from harness import ERROR_TIMEOUT_WORDS, MEMORY_SLACK, ErrorReply, RawConn, encode_command, \
    keys_per_server, pool_config, rss_bytes, wait_until

MIB = 1 << 20
KIB = 1 << 10

# The session limits (server/client_session.h): reading stops at 1,024 requests in flight
# or 16 MiB of unsent replies.
MAX_PENDING = 1024
MAX_OUTPUT = 16 * MIB


def sample_rss(pid: int, seconds: float, every_s: float = 0.1) -> int:
    """The largest RSS of pid seen over `seconds`."""
    peak = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        peak = max(peak, rss_bytes(pid))
        time.sleep(every_s)
    return peak


def timed_get(client: redis.Redis, key: str) -> tuple[bytes, float]:
    started = time.monotonic()
    value = client.get(key)
    return value, time.monotonic() - started


# --------------------------------------------------------------------------------------------
# a. a client that pipelines and never reads

SLOW_REQUESTS = 20_000
BIG_VALUE = 64 * KIB
BIG_KEYS = 8
# Once the session stops reading, the requests it already forwarded (at most MAX_PENDING)
# still answer into its output: the output can reach MAX_OUTPUT + MAX_PENDING x 64 KiB
# = 80 MiB, and a buffer that grows by doubling may touch up to 128 MiB for it. With the
# proxy's own baseline and backend read buffers that is well under 160 MiB of growth, and
# far below the 20,000 x 64 KiB = 1.25 GiB the client asked for.
SLOW_CLIENT_RSS_GROWTH = 160 * MIB * MEMORY_SLACK


def big_value(i: int) -> bytes:
    """A 64 KiB value that differs per key and per position (a shifted reply shows)."""
    head = b"big:%d:" % i
    body = bytes((i * 31 + j) % 251 for j in range(256)) * (BIG_VALUE // 256)
    return head + body[len(head):]


class ReplyStreamChecker:
    """Compares a byte stream, as it arrives, with the replies expected in order."""

    def __init__(self, replies: list[bytes], order):
        self.replies, self.order = replies, order
        self.index = 0       # reply being compared
        self.offset = 0      # bytes of it already matched

    def feed(self, data: memoryview) -> None:
        while data:
            expected = self.replies[self.order(self.index)]
            take = min(len(data), len(expected) - self.offset)
            if data[:take] != expected[self.offset:self.offset + take]:
                raise AssertionError(f"reply {self.index} differs at byte {self.offset}")
            data = data[take:]
            self.offset += take
            if self.offset == len(expected):
                self.index += 1
                self.offset = 0


def test_slow_client_costs_bounded_memory_and_gets_every_reply(single, capsys):
    proxy, server = single.proxy, single.servers[0]
    values = [big_value(i) for i in range(BIG_KEYS)]
    for i, value in enumerate(values):
        server.client().set(f"big:{i}", value)
    single.client.set("small", "s")
    replies = [b"$%d\r\n%s\r\n" % (len(v), v) for v in values]
    base_rss = rss_bytes(proxy.pid)
    gets_before = server.command_calls().get("get", 0)

    slow = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * KIB)  # no kernel autotuning
    slow.connect(("127.0.0.1", proxy.port))
    slow.settimeout(60)
    pipeline = b"".join(encode_command("GET", f"big:{i % BIG_KEYS}")
                        for i in range(SLOW_REQUESTS))
    sent = threading.Event()
    sender = threading.Thread(target=lambda: (slow.sendall(pipeline), sent.set()), daemon=True)
    sender.start()
    try:
        other = proxy.client(socket_timeout=5)
        latencies = []
        deadline = time.monotonic() + 4.0
        peak_rss = 0
        while time.monotonic() < deadline:
            value, elapsed = timed_get(other, "small")
            assert value == b"s"
            latencies.append(elapsed)
            peak_rss = max(peak_rss, rss_bytes(proxy.pid))
            time.sleep(0.05)
        peak_rss = max(peak_rss, sample_rss(proxy.pid, 1.0))
        forwarded = server.command_calls().get("get", 0) - gets_before - len(latencies)
        assert forwarded < SLOW_REQUESTS, "the proxy never stopped reading the slow client"
        # Blocked behind the slow client, they would wait until it reads (over 5 s).
        assert max(latencies) < 3.0, f"other clients waited {max(latencies):.2f}s"

        checker = ReplyStreamChecker(replies, lambda i: i % BIG_KEYS)
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        while checker.index < SLOW_REQUESTS:
            n = slow.recv_into(buf)
            assert n, f"the proxy closed the connection after {checker.index} replies"
            checker.feed(view[:n])
        sender.join(timeout=30)
        assert sent.is_set(), "the slow client could not send its whole pipeline"
        slow.sendall(encode_command("PING"))
        tail = b""
        while len(tail) < 7:
            chunk = slow.recv(64)
            assert chunk, "closed after the replies"
            tail += chunk
        assert tail == b"+PONG\r\n", f"extra bytes after {SLOW_REQUESTS} replies: {tail[:80]!r}"
    finally:
        slow.close()
        sender.join(timeout=5)
    growth = peak_rss - base_rss
    with capsys.disabled():
        print(f"\n[switchyard] slow client: RSS {base_rss / MIB:.1f} -> peak "
              f"{peak_rss / MIB:.1f} MiB (+{growth / MIB:.1f} MiB) while "
              f"{SLOW_REQUESTS} x 64 KiB replies were pending; {forwarded} GETs forwarded "
              f"before it read; other clients' worst GET {max(latencies) * 1000:.0f} ms")
    assert growth < SLOW_CLIENT_RSS_GROWTH, f"RSS grew {growth / MIB:.1f} MiB"


# --------------------------------------------------------------------------------------------
# b. a backend that stops answering (SIGSTOP)

TIMEOUT_MS = 500
STALL_CLIENTS = 3
STALL_SECONDS = 5.0
STALL_VALUE = b"v" * KIB
# A timed-out request's bytes stay queued for the stopped backend (its reply must still be
# read and dropped) until the connection is reset after max(10 x timeout, 10 s) without a
# reply. Each session has at most MAX_PENDING requests in flight and they time out after
# TIMEOUT_MS, so each adds at most MAX_PENDING requests per TIMEOUT_MS: over STALL_SECONDS
# that is 3 x 1,024 x ~1.1 KiB x 10 = 33 MiB; twice that for buffer doubling and the queue
# entries, plus slack, gives the bound.
STALL_RSS_GROWTH = 96 * MIB * MEMORY_SLACK


def stalled_shard_client(port: int, keys: list[str], stop: threading.Event,
                         results: dict, index: int) -> None:
    """Pipelines SETs to `keys` until `stop`; records replies and the longest wait for one."""
    conn = RawConn(port, timeout=10)
    request = b"".join(encode_command("SET", key, STALL_VALUE) for key in keys)
    writer_stop = threading.Event()

    def write():
        try:
            while not writer_stop.is_set():
                conn.send(request)
        except OSError:
            pass  # closed by the reader below

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    errors, others, longest_wait = 0, [], 0.0
    try:
        last = time.monotonic()
        while not stop.is_set():
            reply = conn.read_reply()
            now = time.monotonic()
            longest_wait, last = max(longest_wait, now - last), now
            if isinstance(reply, ErrorReply) and ERROR_TIMEOUT_WORDS.search(reply):
                errors += 1
            elif len(others) < 5:
                others.append(reply)
    finally:
        writer_stop.set()
        conn.close()
        writer.join(timeout=5)
    results[index] = (errors, others, longest_wait)


def test_stopped_backend_times_out_and_recovers(procs, capsys):
    servers = procs.redis(2)
    proxy = procs.proxy(pools=[pool_config(servers, hash="fnv1a_64", distribution="ketama",
                                           timeout=TIMEOUT_MS)])
    client = proxy.client(socket_timeout=5)
    live_keys, stopped_keys = keys_per_server(client, servers, count=20, prefix="stall")
    client.set(live_keys[0], "live")
    base_rss = rss_bytes(proxy.pid)
    stop = threading.Event()
    results: dict = {}
    threads = [threading.Thread(target=stalled_shard_client,
                                args=(proxy.port, stopped_keys[1:], stop, results, i), daemon=True)
               for i in range(STALL_CLIENTS)]
    stopped_pid = servers[1].pid
    os.kill(stopped_pid, signal.SIGSTOP)
    try:
        for thread in threads:
            thread.start()
        live_worst, peak_rss = 0.0, 0
        deadline = time.monotonic() + STALL_SECONDS
        n = 0
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert client.set(live_keys[n % 20], f"v{n}") is True
            assert client.get(live_keys[n % 20]) == f"v{n}".encode()
            live_worst = max(live_worst, time.monotonic() - started)
            peak_rss = max(peak_rss, rss_bytes(proxy.pid))
            n += 1
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        assert all(not thread.is_alive() for thread in threads), "a client hung"
    finally:
        os.kill(stopped_pid, signal.SIGCONT)

    for i in range(STALL_CLIENTS):
        errors, others, longest_wait = results[i]
        assert errors > 0 and not others, f"client {i}: {errors} timeouts, other replies {others}"
        assert longest_wait < TIMEOUT_MS / 1000 + 2.0, \
            f"client {i} waited {longest_wait:.2f}s for a reply"
    assert live_worst < 1.0, f"the other shard answered in {live_worst:.2f}s"

    # Without a restart: the resumed backend answers again through the same proxy.
    deadline = time.monotonic() + 10.0
    while True:
        try:
            if client.set(stopped_keys[0], "back") is True:
                break
        except redis.ResponseError:
            pass
        assert time.monotonic() < deadline, "the resumed backend is still unreachable"
        time.sleep(0.1)
    assert client.get(stopped_keys[0]) == b"back"
    assert servers[1].client().get(stopped_keys[0]) == b"back"
    assert client.get(live_keys[0]) is not None
    growth = peak_rss - base_rss
    with capsys.disabled():
        total = sum(results[i][0] for i in range(STALL_CLIENTS))
        print(f"\n[switchyard] stopped backend: {total} timeout errors to {STALL_CLIENTS} "
              f"pipelining clients in {STALL_SECONDS:.0f}s, RSS {base_rss / MIB:.1f} -> peak "
              f"{peak_rss / MIB:.1f} MiB (+{growth / MIB:.1f} MiB), other shard's worst "
              f"SET+GET {live_worst * 1000:.0f} ms")
    assert growth < STALL_RSS_GROWTH, f"RSS grew {growth / MIB:.1f} MiB"


# --------------------------------------------------------------------------------------------
# c. a request that announces more than the limit

def vm_size(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize")


def test_oversized_bulk_is_refused_without_allocating(single):
    proxy = single.proxy
    base_rss = rss_bytes(proxy.pid)
    with proxy.raw(timeout=5) as conn:
        conn.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$600000000\r\n" + b"x" * 65536)
        reply = conn.read_reply()
        assert reply == ErrorReply(b"ERR Protocol error: invalid bulk length"), reply
        assert conn.is_closed_within(2.0), "the connection stayed open after a protocol error"
    assert rss_bytes(proxy.pid) - base_rss < 8 * MIB
    assert single.client.ping() is True


def test_large_announced_bulk_costs_only_what_arrived(single, capsys):
    """A 500 MiB argument is within the limit, but only the bytes that came cost memory."""
    proxy = single.proxy
    base_rss, base_vm = rss_bytes(proxy.pid), vm_size(proxy.pid)
    sent = 8 * MIB
    with proxy.raw(timeout=5) as conn:
        conn.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\n" + b"x" * sent)
        time.sleep(0.5)
        rss, vm = rss_bytes(proxy.pid), vm_size(proxy.pid)
        assert single.client.get("k") is None  # nothing forwarded, others served
    with capsys.disabled():
        print(f"\n[switchyard] 500 MiB bulk announced, 8 MiB sent: RSS +"
              f"{(rss - base_rss) / MIB:.1f} MiB, address space +{(vm - base_vm) / MIB:.1f} MiB")
    # The stash grows with what arrives (at most doubling), not with what is announced.
    if rss - base_rss >= (sent + 24 * MIB) * MEMORY_SLACK:
        raise AssertionError(f"RSS grew {(rss - base_rss) / MIB:.1f} MiB for "
                                  f"{sent / MIB:.0f} MiB received")


# --------------------------------------------------------------------------------------------
# d. client_connections

def wait_for_clients(proxy, pool: str, count: int, timeout_s: float = 5.0) -> None:
    """Waits until the stats port shows `count` open clients in `pool`. A closed connection
    is counted out when its worker sees the close, a moment after the client's close(); the
    stats port shows it after the next refresh (-i)."""
    deadline = time.monotonic() + timeout_s
    while (seen := proxy.stats()[pool]["client_connections"]) != count:
        assert time.monotonic() < deadline, f"{seen} clients open in {pool}, expected {count}"
        time.sleep(0.02)


def test_client_connections_limit(procs):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server], name="alpha",
                                           extra={"client_connections": 5})],
                        extra_args=["-i", "20"])  # stats refreshed every 20 ms
    # The start-up probe (a connect and a close) has been counted in and out: a snapshot
    # taken before the probe was counted in would also show 0 open clients.
    wait_until(lambda: proxy.stats()["alpha"]["client_eof"] >= 1, "the start-up probe's close")
    wait_for_clients(proxy, "alpha", 0)
    conns = [RawConn(proxy.port, timeout=5) for _ in range(5)]
    try:
        for conn in conns:
            assert conn.command("PING") == b"PONG"
        with RawConn(proxy.port, timeout=5) as sixth:
            assert sixth.read_reply() == ErrorReply(b"ERR max number of clients reached")
            assert sixth.is_closed_within(2.0)
        for conn in conns:  # the refusal did not disturb the admitted clients
            assert conn.command("PING") == b"PONG"
        conns.pop().close()
        wait_for_clients(proxy, "alpha", 4)
        conns.append(RawConn(proxy.port, timeout=5))
        assert conns[-1].command("SET", "k", "v") == b"OK"
        with RawConn(proxy.port, timeout=5) as again_sixth:
            assert again_sixth.read_reply() == ErrorReply(b"ERR max number of clients reached")
    finally:
        for conn in conns:
            conn.close()


# --------------------------------------------------------------------------------------------
# e. limits from the configuration: request size, idle clients, clients of every pool

def info_stat(conn: RawConn, field: str) -> int:
    """A field of INFO stats, asked on `conn` (a connection the proxy admitted)."""
    text = conn.command("INFO", "stats").decode()
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":", 1)[1])
    raise AssertionError(f"no {field} in INFO stats:\n{text}")


def refused(proxy, request: bytes) -> ErrorReply:
    """The error a fresh connection gets for `request`, after which the proxy must close it."""
    with RawConn(proxy.port, timeout=5) as conn:
        conn.send(request)
        reply = conn.read_reply()
        assert isinstance(reply, ErrorReply), reply
        assert conn.is_closed_within(2.0), "the connection stayed open after a refused request"
    return reply


def test_configured_request_limits(procs):
    (server,) = procs.redis(1)
    limits = {"max_request_args": 3, "max_argument_bytes": 100, "max_request_bytes": 120}
    pool = pool_config([server], extra=limits)
    proxy = procs.proxy(pools=[pool])
    client = proxy.client()
    assert client.set("k", "v" * 90) is True  # 3 arguments, 90 bytes, 116 bytes in all
    # Refused from the header alone: the arguments never have to arrive.
    assert refused(proxy, b"*4\r\n") == ErrorReply(b"ERR Protocol error: invalid multibulk length")
    assert refused(proxy, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$101\r\n") == \
        ErrorReply(b"ERR Protocol error: invalid bulk length")
    assert refused(proxy, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$95\r\n") == \
        ErrorReply(b"ERR Protocol error: request larger than max_request_bytes")
    with proxy.raw() as conn:
        assert info_stat(conn, "requests_over_limit") == 3
    assert client.get("k") == b"v" * 90  # the client within the limits was not disturbed
    # A reload raises the limits for the connections already open too.
    pool.extra = {**limits, "max_argument_bytes": 1000, "max_request_bytes": 2000}
    assert proxy.reload(pool.render()).startswith("reload applied"), proxy.log_text()[-2000:]
    assert client.set("k", "w" * 500) is True
    assert client.get("k") == b"w" * 500


def test_client_idle_timeout_closes_only_idle_clients(procs):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server], extra={"client_idle_timeout": 400})])
    idle = proxy.raw()
    assert idle.command("PING") == b"PONG"
    half_sent = proxy.raw()
    half_sent.send(b"*2\r\n$3\r\nGET\r\n")  # a request that never ends keeps nobody alive
    subscriber = proxy.raw()
    assert subscriber.command("SUBSCRIBE", "idle-news") == [b"subscribe", b"idle-news", 1]
    blocked = proxy.raw()
    blocked.send(encode_command("BLPOP", "idle-list", "2"))
    busy = proxy.raw()
    started = time.monotonic()
    while time.monotonic() - started < 2.2:  # within the timeout between requests
        assert busy.command("PING") == b"PONG"
        time.sleep(0.1)
    assert idle.is_closed_within(0.1), "the idle client was not closed"
    assert half_sent.is_closed_within(0.1), "the client with half a request was not closed"
    assert blocked.read_reply() is None  # the BLPOP ran to its own timeout
    server.client().publish("idle-news", "still here")
    assert subscriber.read_reply() == [b"message", b"idle-news", b"still here"]
    assert busy.command("PING") == b"PONG"
    assert info_stat(busy, "clients_idle_closed") >= 2
    for conn in (subscriber, blocked, busy):
        conn.close()


def test_max_clients_counts_every_pool(procs):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server], name="alpha"),
                               pool_config([server], name="beta")],
                        extra_args=["--max-clients", "3", "-i", "20"])
    alpha, beta = proxy.listen_ports
    wait_until(lambda: proxy.stats()["alpha"]["client_eof"] >= 1 and
               proxy.stats()["beta"]["client_eof"] >= 1, "the start-up probes' closes")
    wait_for_clients(proxy, "alpha", 0)
    wait_for_clients(proxy, "beta", 0)
    conns = [RawConn(alpha, timeout=5), RawConn(alpha, timeout=5), RawConn(beta, timeout=5)]
    try:
        for conn in conns:
            assert conn.command("PING") == b"PONG"
        for port in (alpha, beta):
            with RawConn(port, timeout=5) as extra:
                assert extra.read_reply() == ErrorReply(b"ERR max number of clients reached")
                assert extra.is_closed_within(2.0)
        assert info_stat(conns[0], "rejected_connections") >= 2
    finally:
        for conn in conns:
            conn.close()

