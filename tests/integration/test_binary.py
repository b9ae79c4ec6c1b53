"""Binary safety and request formats: every byte value in keys and values, CRLF inside data,
values up to 16 MiB, and inline (telnet-style) commands."""

import hashlib
import os

import pytest

from harness import Status, locate

ALL_BYTES = bytes(range(256))


def test_all_byte_values_in_key_and_value(sharded):
    c = sharded.client
    assert c.set(ALL_BYTES, ALL_BYTES[::-1]) is True
    assert c.get(ALL_BYTES) == ALL_BYTES[::-1]
    where = sharded.locate(ALL_BYTES)
    assert len(where) == 1
    assert sharded.servers[where[0]].client().get(ALL_BYTES) == ALL_BYTES[::-1]


def test_every_single_byte_key(sharded):
    c = sharded.client
    pipe = c.pipeline(transaction=False)
    for b in range(256):
        pipe.set(bytes([b]), bytes([b]) * 3)
    assert pipe.execute() == [True] * 256
    pipe = c.pipeline(transaction=False)
    for b in range(256):
        pipe.get(bytes([b]))
    assert pipe.execute() == [bytes([b]) * 3 for b in range(256)]
    total = sum(server.client().dbsize() for server in sharded.servers)
    assert total == 256


def test_crlf_and_protocol_lookalikes_inside_data(sharded):
    c = sharded.client
    tricky = [b"\r\n", b"a\r\nb", b"*3\r\n$3\r\nSET\r\n", b"$-1\r\n", b"-ERR x\r\n", b"\r",
              b"\n", b"\x00\r\n\x00", b"+OK\r\n:1\r\n"]
    for value in tricky:
        key = b"k\r\n" + value
        assert c.set(key, value) is True
        assert c.get(key) == value
        assert c.strlen(key) == len(value)
    assert c.ping() is True


@pytest.mark.parametrize("size", [1024, 1 << 20, 16 << 20], ids=["1KiB", "1MiB", "16MiB"])
def test_large_values_round_trip(sharded, size):
    c = sharded.client
    value = os.urandom(size)
    key = f"big:{size}"
    assert c.set(key, value) is True
    assert c.strlen(key) == size
    got = c.get(key)
    assert len(got) == size and hashlib.sha256(got).digest() == hashlib.sha256(value).digest()
    backend = sharded.servers[sharded.locate(key)[0]].client()
    assert hashlib.sha256(backend.get(key)).digest() == hashlib.sha256(value).digest()
    assert c.getrange(key, size - 4, size - 1) == value[-4:]
    assert c.get("big:none") is None  # the connection is still in step


def test_large_value_pipelined_with_small_ones(sharded):
    c = sharded.client
    big = os.urandom(4 << 20)
    pipe = c.pipeline(transaction=False)
    pipe.set("small:1", "a")
    pipe.set("big", big)
    pipe.get("small:1")
    pipe.get("big")
    pipe.get("small:1")
    replies = pipe.execute()
    assert replies[:3] == [True, True, b"a"]
    assert replies[3] == big
    assert replies[4] == b"a"


def test_inline_commands(sharded):
    with sharded.proxy.raw() as conn:
        conn.send(b"PING\r\n")
        assert conn.read_reply() == Status(b"PONG")
        conn.send(b"SET a b\n")
        assert conn.read_reply() == Status(b"OK")
        conn.send(b"GET a\r\n")
        assert conn.read_reply() == b"b"
        conn.send(b"SET  spaced   value\r\nGET spaced\r\n")
        assert conn.read_replies(2) == [Status(b"OK"), b"value"]
        conn.send(b"MGET a spaced nope\r\n")
        assert conn.read_reply() == [b"b", b"value", None]
    assert locate("a", sharded.servers) != []
    assert sharded.client.get("spaced") == b"value"
