"""Malformed requests: the sender gets -ERR Protocol error and is disconnected; every other
client keeps getting correct answers and the proxy stays up."""

import os
import random
import threading
import time

import pytest

from harness import ErrorReply, RawConn, Status

# Redis itself answers most of these with "-ERR Protocol error" and closes; it does not check
# the CRLF after a bulk and stops at a NUL while looking for a line end, which a proxy must not.
MALFORMED = {
    "bad_multibulk_count": b"*abc\r\n$4\r\nPING\r\n",
    "multibulk_count_with_trailing_junk": b"*2x\r\n$3\r\nGET\r\n$1\r\nk\r\n",
    "bad_bulk_length": b"*1\r\n$x4\r\nPING\r\n",
    "negative_bulk_length": b"*1\r\n$-7\r\nPING\r\n",
    "bulk_without_dollar": b"*1\r\n+PING\r\n",
    "missing_crlf_after_bulk": b"*2\r\n$3\r\nGET\r\n$1\r\nkXY*1\r\n$4\r\nPING\r\n",
    "huge_multibulk_count": b"*99999999999\r\n$3\r\nGET\r\n",
    "multibulk_count_beyond_limit": b"*2000000000\r\n$3\r\nGET\r\n",
    "huge_bulk_length": b"*2\r\n$3\r\nGET\r\n$99999999999\r\n",
    "bulk_length_beyond_limit": b"*2\r\n$3\r\nSET\r\n$2147483648\r\n",
    "garbage_after_star": b"*\xff\xfe\x00garbage\r\n",
    "binary_garbage_in_count": b"*\x00\x01\x02\x03\r\n",
}


class Background:
    """A client that keeps doing SET/GET through the proxy and records any wrong answer."""

    def __init__(self, proxy):
        self.client = proxy.client(socket_timeout=5)
        self.stop = threading.Event()
        self.rounds = 0
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        rng = random.Random(11)
        while not self.stop.is_set():
            key = f"{rng.getrandbits(32):08x}:bg"
            value = os.urandom(16)
            try:
                if self.client.set(key, value) is not True or self.client.get(key) != value:
                    self.errors.append(f"wrong answer for {key}")
            except Exception as err:
                self.errors.append(repr(err))
                return
            self.rounds += 1

    def __enter__(self) -> "Background":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def expect_protocol_error_and_close(proxy, payload: bytes) -> None:
    with RawConn(proxy.port, timeout=5) as conn:
        assert conn.command("SET", "before", "ok") == Status(b"OK")  # a good request first
        conn.send(payload)
        reply = conn.read_reply()
        assert isinstance(reply, ErrorReply), f"got {reply!r}"
        assert reply.startswith(b"ERR Protocol error"), reply
        assert conn.is_closed_within(2.0), "the connection stayed open after a protocol error"


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_request_closes_only_that_client(sharded, name):
    with Background(sharded.proxy) as background:
        with RawConn(sharded.proxy.port) as bystander:
            assert bystander.command("SET", "bystander", "1") == Status(b"OK")
            expect_protocol_error_and_close(sharded.proxy, MALFORMED[name])
            assert bystander.command("GET", "bystander") == b"1"
        time.sleep(0.1)
    assert not background.errors, background.errors
    assert background.rounds > 0
    assert sharded.proxy.is_running()
    assert sharded.client.get("before") == b"ok"


def test_many_malformed_clients_in_a_row(sharded):
    rng = random.Random(5)
    with Background(sharded.proxy) as background:
        for _ in range(3):
            for payload in MALFORMED.values():
                expect_protocol_error_and_close(sharded.proxy, payload)
        for _ in range(20):
            garbage = b"*" + bytes(rng.choice(b"\x00\x01\xfe\xff-xyz") for _ in range(20))
            expect_protocol_error_and_close(sharded.proxy, garbage + b"\r\n")
    assert not background.errors, background.errors
    assert background.rounds > 0
    assert sharded.proxy.is_running()
    assert sharded.client.ping() is True


def test_request_split_across_writes_is_not_an_error(sharded):
    request = b"*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$5\r\nvalue\r\n"
    with RawConn(sharded.proxy.port) as conn:
        for byte in request:
            conn.send(bytes([byte]))
            time.sleep(0.001)
        assert conn.read_reply() == Status(b"OK")
        assert conn.command("GET", "split") == b"value"
