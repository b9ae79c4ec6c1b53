"""RESP3 (HELLO 3) through the proxy, with a plain redis-server answering a client that sent
HELLO 3 as the byte oracle: the HELLO reply's shape and protocol switches (HELLO 2, RESET);
every reply type RESP3 adds (null, map, set, double, boolean, big number, verbatim string,
push) for data commands, split multi-key commands, fan-outs, blocking pops, transactions and
scripts, in a pool of one server and one of three shards; Pub/Sub as push messages, with
ordinary commands allowed while subscribed; RESP2 and RESP3 clients side by side;
`redis-cli -3`; and a Sentinel-managed group.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import RawConn, ReplyReader, Switchyard, encode_command  # noqa: E402
from topology import topology_fixture  # noqa: E402

REDIS_CLI = "/usr/bin/redis-cli"
HELLO_FIELDS = [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]
RESP3 = "redis.setresp(3) "
SHA_ONE = hashlib.sha1(b"return 1").hexdigest()

# Replies compared byte for byte. Keys without a hash tag spread over the three shards (the
# proxy splits MSET/MGET/DEL/EXISTS/UNLINK and merges); a transaction's keys share {t}.
SCRIPT = [
    ("DBSIZE",), ("RANDOMKEY",), ("KEYS", "*"), ("GET", "str"), ("SET", "str", "v", "GET"),
    ("GET", "str"), ("MSET", "a", "1", "b", "2", "c", "3"),
    ("MGET", "a", "missing", "b", "c", "nope"), ("EXISTS", "a", "b", "missing", "c"),
    ("HSET", "h", "f", "v"), ("HGETALL", "h"), ("HGETALL", "nope"), ("HGET", "h", "g"),
    ("HRANDFIELD", "h", "1", "WITHVALUES"), ("SADD", "s", "m"), ("SMEMBERS", "s"),
    ("SMEMBERS", "nope"), ("SMISMEMBER", "s", "m", "n"), ("SPOP", "nope"),
    ("ZADD", "z", "1.5", "a"), ("ZSCORE", "z", "a"), ("ZSCORE", "z", "x"),
    ("ZADD", "z", "INCR", "2", "a"), ("ZINCRBY", "z", "0.25", "a"), ("ZADD", "z", "2", "b"),
    ("ZRANGE", "z", "0", "-1", "WITHSCORES"), ("ZMSCORE", "z", "a", "x"),
    ("ZRANDMEMBER", "z1", "1", "WITHSCORES"), ("ZADD", "z1", "7", "only"),
    ("ZRANDMEMBER", "z1", "1", "WITHSCORES"), ("ZPOPMIN", "z"),
    ("RPUSH", "l", "a", "b", "a"), ("LPOS", "l", "a", "COUNT", "0"), ("LPOS", "l", "zz"),
    ("LPOP", "nope"), ("OBJECT", "ENCODING", "l"), ("OBJECT", "ENCODING", "nope"),
    ("XADD", "st", "1-1", "f", "v"), ("XRANGE", "st", "-", "+"),
    ("XREAD", "STREAMS", "st", "0"), ("XREAD", "STREAMS", "st", "$"),
    ("BLPOP", "nope", "0.01"), ("BZPOPMIN", "nope", "0.01"),
    ("EVAL", "return {1, 'two', {3}, false}", "1", "ev"), ("EVAL", "return false", "1", "ev"),
    ("EVAL", RESP3 + "return redis.call('HGETALL', KEYS[1])", "1", "h"),
    ("EVAL", RESP3 + "return redis.call('ZSCORE', KEYS[1], 'b')", "1", "z"),
    ("EVAL", RESP3 + "return {true, false, nil}", "1", "ev"),
    ("EVAL", RESP3 + "return {big_number='123456789012345678901234567890'}", "1", "ev"),
    ("EVAL", RESP3 + "return {verbatim_string={format='txt', string='hi'}}", "1", "ev"),
    ("EVAL", RESP3 + "return {map={a=1}}", "1", "ev"),
    ("EVAL", RESP3 + "return {set={x=true}}", "1", "ev"),
    ("SCRIPT", "EXISTS", SHA_ONE), ("SCRIPT", "LOAD", "return 1"),
    ("SCRIPT", "EXISTS", SHA_ONE, "0" * 40), ("PUBSUB", "NUMSUB", "c1", "c2"),
    ("ECHO", "e"), ("PING",), ("PING", "x"), ("COMMAND", "COUNT"),
    ("COMMAND", "INFO", "get", "nosuch", "zadd"), ("COMMAND", "DOCS", "get", "nosuch", "set"),
    ("KEYS", "h"),
    ("KEYS", "nothing*"), ("DBSIZE",), ("DEL", "a", "missing", "b", "h"),
    ("UNLINK", "c", "s", "nope"), ("DBSIZE",),
    ("MULTI",), ("SET", "{t}a", "1"), ("INCR", "{t}a"), ("HSET", "{t}h", "f", "v"),
    ("HGETALL", "{t}h"), ("ZADD", "{t}z", "INCR", "1", "m"), ("GET", "{t}missing"), ("EXEC",),
    ("HELLO", "4"), ("FLUSHDB",), ("RANDOMKEY",), ("DBSIZE",),
]
ONE_SERVER_ONLY = [("CONFIG", "GET", "maxmemory")]  # keyless: refused by a sharded pool


def decode(data: bytes, pos: int = 0):
    """(value, next position) of the reply at data[pos:]: aggregates (maps too) as flat lists,
    blobs as bytes, integers as int, nulls as None; enough for HELLO."""
    end = data.index(b"\r\n", pos)
    kind, text, pos = data[pos:pos + 1], data[pos + 1:end], end + 2
    if kind in (b"$", b"=") and int(text) >= 0:
        return data[pos:pos + int(text)], pos + int(text) + 2
    if kind in (b"*", b"~", b">", b"%") and int(text) >= 0:
        items = []
        for _ in range(int(text) * (2 if kind == b"%" else 1)):
            item, pos = decode(data, pos)
            items.append(item)
        return items, pos
    return (int(text) if kind == b":" else None if kind in (b"_", b"$", b"*") else text), pos


def hello_fields(reply: bytes) -> list:
    """HELLO's reply (a RESP3 map or a RESP2 array) as (name, value) pairs."""
    values, _ = decode(reply)
    return list(zip(values[::2], values[1::2]))


def check_hello(reply: bytes, proto: int) -> None:
    head = b"%7\r\n" if proto == 3 else b"*14\r\n"
    assert reply.startswith(head), f"HELLO {proto} answered {reply[:200]!r}"
    fields = hello_fields(reply)
    assert [name for name, _ in fields] == HELLO_FIELDS, fields
    assert dict(fields)[b"proto"] == proto, fields


def open3(port: int, proto: int = 3) -> tuple[RawConn, ReplyReader]:
    """A raw connection that sent HELLO 3 (its reply checked) and its reader; with proto=2
    one that sent nothing (RESP2, as every connection starts)."""
    conn = RawConn(port, timeout=10)
    reader = ReplyReader(conn.sock)
    if proto == 3:
        conn.send(encode_command("HELLO", "3"))
        check_hello(reader.reply(), 3)
    return conn, reader


def replies3(port: int, script) -> list[bytes]:
    """The replies to `script`, sent in one write after HELLO 3."""
    conn, reader = open3(port)
    with conn:
        conn.send(b"".join(encode_command(*args) for args in script))
        return [reader.reply() for _ in script]


def compare(got: list[bytes], want: list[bytes], script) -> None:
    diffs = [(args, g, w) for args, g, w in zip(script, got, want) if g != w]
    assert not diffs, "proxy != redis:\n" + "\n".join(
        f"  {args}: proxy {g[:160]!r} redis {w[:160]!r}" for args, g, w in diffs)


def test_hello_switches_the_protocol(pool_and_oracle):
    proxy, oracle, _ = pool_and_oracle
    steps = [("HELLO", "3"), ("GET", "k"), ("HELLO",), ("INFO", "server"), ("HELLO", "2"),
             ("GET", "k"), ("INFO", "server"), ("HELLO", "3"), ("HGETALL", "k"), ("RESET",),
             ("GET", "k"), ("HELLO", "4"), ("HELLO", "3", "SETNAME", "me"), ("CLIENT", "GETNAME")]
    seen = {}
    for port in (oracle.port, proxy.port):
        with RawConn(port, timeout=10) as conn:
            reader = ReplyReader(conn.sock)
            out = []
            for args in steps:
                conn.send(encode_command(*args))
                reply = reader.reply()
                if args[0] == "HELLO" and not reply.startswith(b"-"):
                    fields = hello_fields(reply)  # not byte for byte: id and version differ
                    reply = (reply.split(b"\r\n")[0], dict(fields)[b"proto"],
                             [name for name, _ in fields] == HELLO_FIELDS)
                elif args[0] == "INFO":
                    reply = (reply[:1], b"# Server" in reply)
                out.append(reply)
            seen[port] = out
    resp3, resp2 = (b"%7", 3, True), (b"*14", 2, True)
    want = [resp3, b"_\r\n", resp3, (b"=", True), resp2, b"$-1\r\n", (b"$", True), resp3,
            b"%0\r\n", b"+RESET\r\n", b"$-1\r\n", b"-NOPROTO unsupported protocol version\r\n",
            resp3, b"$2\r\nme\r\n"]
    assert seen[oracle.port] == want, "the oracle changed: " + repr(seen[oracle.port])
    assert seen[proxy.port] == want, list(zip(steps, seen[proxy.port]))


@pytest.mark.parametrize("pipelined", [False, True], ids=["one-by-one", "one-write"])
def test_replies_match_redis_byte_for_byte(pool_and_oracle, pipelined):
    proxy, oracle, servers = pool_and_oracle
    script = SCRIPT + (ONE_SERVER_ONLY if len(servers) == 1 else [])
    if pipelined:
        want, got = replies3(oracle.port, script), replies3(proxy.port, script)
    else:
        want, got = [], []
        for port, out in ((oracle.port, want), (proxy.port, got)):
            conn, reader = open3(port)
            with conn:
                for args in script:
                    conn.send(encode_command(*args))
                    out.append(reader.reply())
    assert want[SCRIPT.index(("HGETALL", "h"))] == b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"
    compare(got, want, script)


def scan_pages(port: int) -> tuple[set[bytes], set[bytes]]:
    """(every key SCAN visits, the type bytes of its pages' parts) on a RESP3 connection."""
    conn, reader = open3(port)
    keys, shapes, cursor = set(), set(), b"0"
    with conn:
        for _ in range(1000):
            conn.send(encode_command("SCAN", cursor, "COUNT", "7"))
            parts = reader.reply().split(b"\r\n")
            shapes.add(parts[0] + parts[1][:1] + parts[3][:1])
            cursor, count = parts[2], int(parts[3][1:])
            keys.update(parts[5:5 + 2 * count:2])
            if cursor == b"0":
                return keys, shapes
    raise AssertionError("SCAN never ended")


def test_scan_and_keys_in_resp3(pool_and_oracle):
    proxy, oracle, _ = pool_and_oracle
    names = [f"k{i:03d}:{'abcdefgh'[i % 8]}" for i in range(60)]
    for port in (oracle.port, proxy.port):
        replies3(port, [("MSET", *[x for name in names for x in (name, name)])])
    want = scan_pages(oracle.port)
    assert want == ({n.encode() for n in names}, {b"*2$*"}), want
    assert scan_pages(proxy.port) == want


def test_transactions_in_resp3(pool_and_oracle):
    proxy, oracle, _ = pool_and_oracle
    first = [("HSET", "{t}h", "f", "v"), ("MULTI",), ("SET", "{t}k", "v"), ("HGETALL", "{t}h"),
             ("SMEMBERS", "{t}s"), ("ZADD", "{t}z", "INCR", "1", "m"), ("GET", "{t}missing"),
             ("EXEC",), ("MULTI",), ("GET", "{t}k"), ("DISCARD",), ("MULTI",), ("NOSUCH",),
             ("EXEC",), ("WATCH", "{t}w")]
    then = [("MULTI",), ("GET", "{t}k"), ("EXEC",), ("MULTI",), ("HGETALL", "{t}h"), ("EXEC",)]
    results = {}
    for port in (oracle.port, proxy.port):
        conn, reader = open3(port)
        with conn:
            conn.send(b"".join(encode_command(*args) for args in first))
            out = [reader.reply() for _ in first]
            replies3(port, [("SET", "{t}w", "changed")])  # breaks the WATCH
            conn.send(b"".join(encode_command(*args) for args in then))
            results[port] = out + [reader.reply() for _ in then]
    want = results[oracle.port]
    assert want[7] == (b"*5\r\n+OK\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n~0\r\n,1\r\n_\r\n")
    assert want[-4] == b"_\r\n", "a broken WATCH makes EXEC answer null"
    compare(results[proxy.port], want, first + then)


def subscriber_exchange(port: int, publish) -> list[bytes]:
    """A RESP3 subscriber's whole exchange: confirmations, ordinary commands, messages
    published by another client (`publish(port)` -> counts), unsubscriptions."""
    conn, reader = open3(port)
    with conn:
        conn.send(encode_command("SUBSCRIBE", "news.1", "news.2")
                  + encode_command("PSUBSCRIBE", "news.*") + encode_command("SET", "k", "v")
                  + encode_command("GET", "k") + encode_command("PING")
                  + encode_command("PING", "x") + encode_command("HGETALL", "nope"))
        frames = [reader.reply() for _ in range(8)]
        counts = publish(port)
        delivered = [reader.reply() for _ in range(sum(counts))]
        conn.send(encode_command("GET", "k") + encode_command("UNSUBSCRIBE", "news.1")
                  + encode_command("PUNSUBSCRIBE") + encode_command("UNSUBSCRIBE")
                  + encode_command("PING") + encode_command("GET", "nope"))
        frames += [reader.reply() for _ in range(6)]
        return frames + [b":%d" % n for n in counts] + sorted(delivered)


def publish_two(port: int) -> list[int]:
    out = replies3(port, [("PUBLISH", "news.1", "hi"), ("PUBLISH", "news.2", "ho"),
                          ("PUBLISH", "elsewhere", "nobody")])
    return [int(reply[1:-2]) for reply in out]


def test_pubsub_pushes_and_commands_while_subscribed(pool_and_oracle):
    proxy, oracle, _ = pool_and_oracle
    want = subscriber_exchange(oracle.port, publish_two)
    assert want[0] == b">3\r\n$9\r\nsubscribe\r\n$6\r\nnews.1\r\n:1\r\n"
    assert want[3:8] == [b"+OK\r\n", b"$1\r\nv\r\n", b"+PONG\r\n", b"$1\r\nx\r\n", b"%0\r\n"]
    assert b">3\r\n$7\r\nmessage\r\n$6\r\nnews.1\r\n$2\r\nhi\r\n" in want
    assert b">4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$6\r\nnews.2\r\n$2\r\nho\r\n" in want
    got = subscriber_exchange(proxy.port, publish_two)
    assert got == want, "\n".join(f"proxy {g!r}\nredis {w!r}" for g, w in zip(got, want)
                                  if g != w)


def test_resp2_and_resp3_clients_side_by_side(single):
    single.client.hset("h", "f", "v")
    single.client.zadd("z", {"a": 1.5})
    script = b"".join(encode_command(*args) for args in
                      [("GET", "nope"), ("HGETALL", "h"), ("ZSCORE", "z", "a"), ("PING",)])
    expected = {2: [b"$-1\r\n", b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n", b"$3\r\n1.5\r\n", b"+PONG\r\n"],
                3: [b"_\r\n", b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n", b",1.5\r\n", b"+PONG\r\n"]}
    errors: list[str] = []

    def client(proto: int) -> None:
        try:
            conn, reader = open3(single.proxy.port, proto)
            with conn:
                for round_ in range(300):
                    conn.send(script)
                    got = [reader.reply() for _ in range(4)]
                    if got != expected[proto]:
                        errors.append(f"RESP{proto} round {round_}: {got!r}")
                        return
        except Exception as err:  # reported below
            errors.append(f"RESP{proto}: {err!r}")

    threads = [threading.Thread(target=client, args=(proto,)) for proto in (2, 3, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


def test_redis_cli_dash_3(pool_and_oracle):
    proxy, oracle, _ = pool_and_oracle
    commands = [["HGETALL", "h"], ["GET", "nope"], ["ZSCORE", "z", "a"], ["SMEMBERS", "s"],
                ["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["MGET", "h", "nope"]]
    shown = {}
    for port in (oracle.port, proxy.port):
        replies3(port, [("HSET", "h", "f", "v"), ("ZADD", "z", "1.5", "a"), ("SADD", "s", "m")])
        runs = [subprocess.run([REDIS_CLI, "-3", "-p", str(port), "--no-raw", *args],
                               capture_output=True, timeout=10) for args in commands]
        shown[port] = [(run.returncode, run.stdout, run.stderr) for run in runs]
    assert shown[oracle.port][0] == (0, b'1# "f" => "v"\n', b"")
    assert shown[oracle.port][2] == (0, b"(double) 1.5\n", b"")
    assert shown[proxy.port] == shown[oracle.port]


# --------------------------------------------------------------------------------------------
# a Sentinel-managed group


topo = topology_fixture("resp3-group", replicas=1)


def test_resp3_through_a_sentinel_group(topo, module_procs):
    proxy = module_procs.proxy(pools=[topo.proxy_pool(timeout=2000)], cls=Switchyard)
    topo.wait_proxy_sees(proxy.client(), "g0")
    master = topo.master_of("g0")

    def script(prefix: str):
        return [("HSET", f"{prefix}:h", "f", "v"), ("MULTI",), ("INCR", f"{prefix}:n"),
                ("HGETALL", f"{prefix}:h"), ("ZINCRBY", f"{prefix}:z", "1", "m"), ("EXEC",),
                ("BLPOP", f"{prefix}:q", "0.2"), ("GET", f"{prefix}:none")]

    want = replies3(master.port, script("direct"))
    assert want[5] == b"*3\r\n:1\r\n%1\r\n$1\r\nf\r\n$1\r\nv\r\n,1\r\n", want
    assert want[6:] == [b"_\r\n", b"_\r\n"], want
    compare(replies3(proxy.port, script("proxy")), want, script("proxy"))


def test_hello_keeps_the_protocol_of_a_subscribed_or_watching_client(pool_and_oracle):
    """A subscription or a WATCH lives on backend connections of the client's protocol: the
    proxy refuses to switch it under them, and switches once they are gone."""
    proxy, _, _ = pool_and_oracle
    refusal = (b"-ERR switchyard: HELLO cannot change the protocol while the client is "
               b"subscribed or in a transaction or WATCH; RESET first\r\n")
    conn, reader = open3(proxy.port)
    with conn:
        conn.send(encode_command("SUBSCRIBE", "hk:ch"))
        assert reader.reply().startswith(b">3\r\n$9\r\nsubscribe\r\n")
        conn.send(encode_command("HELLO", "2"))
        assert reader.reply() == refusal
        conn.send(encode_command("UNSUBSCRIBE"))
        assert reader.reply().startswith(b">3\r\n$11\r\nunsubscribe\r\n")
        conn.send(encode_command("WATCH", "hk:key"))
        assert reader.reply() == b"+OK\r\n"
        conn.send(encode_command("HELLO", "2"))
        assert reader.reply() == refusal
        conn.send(encode_command("UNWATCH") + encode_command("HELLO", "2"))
        assert reader.reply() == b"+OK\r\n"
        check_hello(reader.reply(), 2)


def test_randomkey_finds_a_key_on_any_shard(pool_and_oracle):
    """RANDOMKEY fans out: shards without keys answer RESP3's null, which is not a key."""
    proxy, _, _ = pool_and_oracle
    conn, reader = open3(proxy.port)
    with conn:
        conn.send(encode_command("FLUSHALL") + encode_command("SET", "only", "1"))
        assert [reader.reply(), reader.reply()] == [b"+OK\r\n", b"+OK\r\n"]
        conn.send(encode_command("RANDOMKEY") * 20)
        assert {reader.reply() for _ in range(20)} == {b"$4\r\nonly\r\n"}
        conn.send(encode_command("DEL", "only") + encode_command("RANDOMKEY"))
        assert [reader.reply(), reader.reply()] == [b":1\r\n", b"_\r\n"]
