"""Errors byte for byte: where Redis 7.0 has its own answer to a malformed call, the proxy's
client reads exactly that, in a pool of one server and of three shards.
"""

import pytest

from harness import RawConn, ReplyReader, encode_command, pool_config

CALLS = [
    ("PING", "a", "b"),
    ("EVAL", "return 1", "-1", "k"),
    ("EVAL", "return 1", "3", "k"),
    ("EVAL", "return 1", "x", "k"),
    ("EVALSHA", "0000000000000000000000000000000000000000", "-2"),
    ("FCALL", "f", "9", "k"),
    ("SINTERCARD", "0", "k"),
    ("SINTERCARD", "2", "a"),
    ("SINTERCARD", "x", "a"),
    ("ZMPOP", "0", "MIN"),
    ("ZMPOP", "-1", "a", "MIN"),
    ("LMPOP", "5", "a", "LEFT"),
    ("ZUNIONSTORE", "dst", "0", "a"),
    ("ZINTER", "3", "a", "b"),
    ("XREAD", "STREAMS", "s"),
    ("GEORADIUS_RO", "k", "0", "0", "1", "m", "STORE"),
]


def replies(port: int) -> list[bytes]:
    with RawConn(port, timeout=10) as conn:
        reader = ReplyReader(conn.sock)
        conn.send(b"".join(encode_command(*args) for args in CALLS))
        return [reader.reply() for _ in CALLS]


@pytest.mark.parametrize("shards", [1, 3])
def test_malformed_calls_get_redis_words(procs, shards):
    servers = procs.redis(shards)
    oracle = procs.redis(1)[0]
    proxy = procs.proxy(pools=[pool_config(servers, hash="fnv1a_64", distribution="ketama")])
    got, want = replies(proxy.port), replies(oracle.port)
    for args, mine, redis_reply in zip(CALLS, got, want):
        assert mine == redis_reply, f"{args}: proxy {mine!r} != redis {redis_reply!r}"
