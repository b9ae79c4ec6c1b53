"""Commands through a two-shard pool: data types, local commands, errors and refusals.

Each data-type test also checks on the backends that every key it wrote lives on exactly
one of them and holds there what the client saw.
"""

import random
import re
import string
import time

import pytest
import redis

from harness import ErrorReply, Status, keys_per_server

CROSSSLOT = re.compile(rb"crossslot|cross-slot|same (slot|shard|server|backend)", re.IGNORECASE)


def backend_of(sharded, key):
    where = sharded.locate(key)
    assert len(where) == 1, f"{key!r} is on backends {where}"
    return sharded.servers[where[0]].client()


def assert_error(reply, pattern: bytes = rb"^ERR ") -> None:
    assert isinstance(reply, ErrorReply), f"expected an error reply, got {reply!r}"
    assert re.search(pattern, reply), f"error {reply!r} does not match {pattern!r}"


# --------------------------------------------------------------------------------------------
# data types


def test_strings(sharded):
    c = sharded.client
    assert c.set("s:1", "hello") is True
    assert c.get("s:1") == b"hello"
    assert c.append("s:1", " world") == 11
    assert c.getrange("s:1", 0, 4) == b"hello"
    assert c.setrange("s:1", 6, "WORLD") == 11
    assert c.strlen("s:1") == 11
    assert c.set("s:1", "x", nx=True) is None
    assert c.set("s:missing", "y", xx=True) is None
    assert c.getset("s:1", "new") == b"hello WORLD"
    assert c.incr("s:n") == 1
    assert c.incrby("s:n", 41) == 42
    assert c.decr("s:n") == 41
    assert c.incrbyfloat("s:f", 2.5) == 2.5
    assert c.setnx("s:nx", "1") is True and c.setnx("s:nx", "2") is False
    assert c.getdel("s:nx") == b"1" and c.exists("s:nx") == 0
    with pytest.raises(redis.ResponseError, match="not an integer"):
        c.incr("s:1")
    assert backend_of(sharded, "s:1").get("s:1") == b"new"
    assert backend_of(sharded, "s:n").get("s:n") == b"41"
    assert sharded.locate("s:missing") == []


def test_lists(sharded):
    c = sharded.client
    assert c.rpush("l:1", "a", "b", "c") == 3
    assert c.lpush("l:1", "z") == 4
    assert c.lrange("l:1", 0, -1) == [b"z", b"a", b"b", b"c"]
    assert c.lindex("l:1", 2) == b"b"
    assert c.lset("l:1", 0, "y") is True
    assert c.linsert("l:1", "after", "a", "a2") == 5
    assert c.lpos("l:1", "b") == 3
    assert c.lrem("l:1", 1, "a2") == 1
    assert c.lpop("l:1") == b"y"
    assert c.rpop("l:1") == b"c"
    assert c.llen("l:1") == 2
    assert c.ltrim("l:1", 0, 0) is True
    assert backend_of(sharded, "l:1").lrange("l:1", 0, -1) == [b"a"]


def test_hashes(sharded):
    c = sharded.client
    assert c.hset("h:1", mapping={"f1": "v1", "f2": "v2", "n": "5"}) == 3
    assert c.hget("h:1", "f1") == b"v1"
    assert c.hmget("h:1", ["f2", "nope", "f1"]) == [b"v2", None, b"v1"]
    assert c.hincrby("h:1", "n", 10) == 15
    assert c.hexists("h:1", "f2") is True
    assert c.hdel("h:1", "f2", "nope") == 1
    assert c.hlen("h:1") == 2
    assert sorted(c.hkeys("h:1")) == [b"f1", b"n"]
    expected = {b"f1": b"v1", b"n": b"15"}
    assert c.hgetall("h:1") == expected
    assert backend_of(sharded, "h:1").hgetall("h:1") == expected


def test_sets(sharded):
    c = sharded.client
    assert c.sadd("set:1", "a", "b", "c", "a") == 3
    assert c.sismember("set:1", "b") is True
    assert c.sismember("set:1", "q") is False
    assert c.scard("set:1") == 3
    assert c.srem("set:1", "c", "q") == 1
    assert c.srandmember("set:1") in (b"a", b"b")
    assert c.smembers("set:1") == {b"a", b"b"}
    assert backend_of(sharded, "set:1").smembers("set:1") == {b"a", b"b"}
    assert set(c.spop("set:1", 2)) == {b"a", b"b"}
    assert c.exists("set:1") == 0


def test_sorted_sets(sharded):
    c = sharded.client
    assert c.zadd("z:1", {"a": 1, "b": 2, "c": 3}) == 3
    assert c.zincrby("z:1", 10, "a") == 11.0
    assert c.zrange("z:1", 0, -1, withscores=True) == [(b"b", 2.0), (b"c", 3.0), (b"a", 11.0)]
    assert c.zrevrange("z:1", 0, 0) == [b"a"]
    assert c.zrank("z:1", "c") == 1
    assert c.zscore("z:1", "b") == 2.0
    assert c.zrangebyscore("z:1", 2, 3) == [b"b", b"c"]
    assert c.zcount("z:1", "-inf", "+inf") == 3
    assert c.zrem("z:1", "b") == 1
    assert c.zcard("z:1") == 2
    assert backend_of(sharded, "z:1").zrange("z:1", 0, -1) == [b"c", b"a"]


def test_streams(sharded):
    c = sharded.client
    assert c.xadd("x:1", {"f": "1"}, id="1-1") == b"1-1"
    assert c.xadd("x:1", {"f": "2"}, id="2-1") == b"2-1"
    assert c.xadd("x:1", {"f": "3"}, id="3-1") == b"3-1"
    assert c.xlen("x:1") == 3
    assert c.xrange("x:1", "2-0", "+") == [(b"2-1", {b"f": b"2"}), (b"3-1", {b"f": b"3"})]
    assert c.xrevrange("x:1", count=1) == [(b"3-1", {b"f": b"3"})]
    assert c.xdel("x:1", "2-1") == 1
    assert c.xtrim("x:1", maxlen=1, approximate=False) == 1
    assert backend_of(sharded, "x:1").xrange("x:1") == [(b"3-1", {b"f": b"3"})]


def test_bitmaps(sharded):
    c = sharded.client
    assert c.setbit("b:1", 7, 1) == 0
    assert c.setbit("b:1", 100, 1) == 0
    assert c.setbit("b:1", 7, 1) == 1
    assert c.getbit("b:1", 7) == 1 and c.getbit("b:1", 8) == 0
    assert c.bitcount("b:1") == 2
    assert c.bitpos("b:1", 1) == 7
    assert c.bitfield("b:1").set("u8", 16, 200).get("u8", 16).execute() == [0, 200]
    assert backend_of(sharded, "b:1").getbit("b:1", 100) == 1


def test_hyperloglog(sharded):
    c = sharded.client
    assert c.pfadd("hll:1", *[f"e{i}" for i in range(1000)]) == 1
    assert c.pfadd("hll:1", "e1") == 0
    count = c.pfcount("hll:1")
    assert 980 <= count <= 1020, count
    assert backend_of(sharded, "hll:1").pfcount("hll:1") == count


def test_geo(sharded):
    c = sharded.client
    assert c.geoadd("g:1", [13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"]) == 2
    assert round(c.geodist("g:1", "Palermo", "Catania", unit="km"), 1) == 166.3
    (lon, lat), missing = c.geopos("g:1", "Palermo", "Nowhere")
    assert missing is None and abs(lon - 13.361389) < 1e-4 and abs(lat - 38.115556) < 1e-4
    assert c.geohash("g:1", "Palermo") == ["sqc8b49rny0"]
    assert sorted(c.georadius("g:1", 15, 37, 200, unit="km")) == [b"Catania", b"Palermo"]
    assert backend_of(sharded, "g:1").zcard("g:1") == 2


def test_expiry(sharded):
    c = sharded.client
    assert c.set("e:1", "v", ex=100) is True
    assert 98 <= c.ttl("e:1") <= 100
    assert c.persist("e:1") is True and c.ttl("e:1") == -1
    assert c.ttl("e:none") == -2
    assert c.pexpire("e:1", 200) is True
    assert 0 < c.pttl("e:1") <= 200
    assert c.setex("e:2", 50, "v2") is True and c.ttl("e:2") in (49, 50)
    assert c.expireat("e:3", int(time.time()) + 1000) is False  # no such key
    time.sleep(0.35)
    assert c.get("e:1") is None and c.exists("e:1") == 0
    assert sharded.locate("e:1") == []
    assert c.type("e:2") == b"string"


# --------------------------------------------------------------------------------------------
# commands the proxy answers itself


def test_ping(sharded):
    with sharded.proxy.raw() as conn:
        reply = conn.command("PING")
        assert isinstance(reply, Status) and reply == b"PONG"
        conn.send(b"*1\r\n$4\r\nPING\r\n" * 3)
        assert conn.read_replies(3) == [b"PONG"] * 3


def test_ping_message_and_echo(sharded):
    with sharded.proxy.raw() as conn:
        reply = conn.command("PING", "hello")
        assert reply == b"hello" and not isinstance(reply, Status)
        assert conn.command("ECHO", "a\r\nb") == b"a\r\nb"
        assert_error(conn.command("ECHO"), rb"^ERR wrong number of arguments")
        assert conn.is_open()


def test_command_count_and_info(sharded):
    with sharded.proxy.raw() as conn:
        count = conn.command("COMMAND", "COUNT")
        assert isinstance(count, int) and count >= 50
        (info,) = conn.command("COMMAND", "INFO", "get")
        name, arity, flags, first, last, step = info[:6]
        assert (name, arity, first, last, step) == (b"get", 2, 1, 1, 1)
        assert b"readonly" in flags
        (mset,) = conn.command("COMMAND", "INFO", "mset")
        assert (mset[0], mset[1], mset[3], mset[4], mset[5]) == (b"mset", -3, 1, -1, 2)
        assert conn.command("COMMAND", "INFO", "no-such-command") == [None]


def test_hello_2(sharded):
    with sharded.proxy.raw() as conn:
        reply = conn.command("HELLO", "2")
        assert isinstance(reply, list) and len(reply) % 2 == 0
        fields = dict(zip(reply[::2], reply[1::2]))
        assert fields[b"proto"] == 2
        assert b"server" in fields and b"version" in fields
        assert conn.command("PING") == b"PONG"  # still RESP2


def test_select_0(sharded):
    with sharded.proxy.raw() as conn:
        assert conn.command("SELECT", "0") == Status(b"OK")
        assert conn.command("SET", "sel", "v") == Status(b"OK")
        assert conn.command("GET", "sel") == b"v"


def test_quit_replies_ok_and_closes(sharded):
    with sharded.proxy.raw() as conn:
        conn.send(b"*1\r\n$4\r\nQUIT\r\n")
        assert conn.read_reply() == Status(b"OK")
        assert conn.is_closed_within(2.0)
    assert sharded.client.ping() is True


def test_unknown_command_keeps_connection(sharded):
    with sharded.proxy.raw() as conn:
        assert_error(conn.command("FOOBAR", "a", "b"), rb"^ERR unknown command")
        assert_error(conn.command("GETX", "k"), rb"^ERR unknown command")
        assert conn.command("SET", "after-unknown", "1") == Status(b"OK")
        assert conn.command("GET", "after-unknown") == b"1"


def test_wrong_arity_is_an_error_not_a_disconnect(sharded):
    with sharded.proxy.raw() as conn:
        assert_error(conn.command("GET"), rb"^ERR wrong number of arguments")
        assert_error(conn.command("SET", "k"), rb"^ERR wrong number of arguments")
        assert conn.is_open()


# --------------------------------------------------------------------------------------------
# refused commands


REFUSED = [
    (("SHUTDOWN", "NOSAVE"), ["shutdown"]),
    (("CONFIG", "SET", "maxmemory", "1000000"), ["config|set"]),
    (("DEBUG", "SEGFAULT"), ["debug"]),
    (("MONITOR",), ["monitor"]),
    (("CLIENT", "KILL", "TYPE", "normal"), ["client|kill"]),
    (("SLAVEOF", "127.0.0.1", "1"), ["slaveof"]),
    (("REPLICAOF", "127.0.0.1", "1"), ["replicaof"]),
    (("WAIT", "1", "0"), ["wait"]),
    (("READONLY",), ["readonly"]),
]


@pytest.mark.parametrize("args,stats", REFUSED, ids=[" ".join(a[:2]) for a, _ in REFUSED])
def test_refused_command_never_reaches_backend(sharded, args, stats):
    with sharded.proxy.raw(timeout=3.0) as conn:
        reply = conn.command(*args)
        assert_error(reply, rb"^ERR ")
        assert len(reply) > len(b"ERR ") + 10, f"error does not explain why: {reply!r}"
        assert conn.command("SET", "after-refused", "v") == Status(b"OK")
        assert conn.command("GET", "after-refused") == b"v"
    for server in sharded.servers:
        assert server.is_running(), "backend died"
        calls = server.command_calls()
        assert not [name for name in stats if name in calls], f"backend saw {args}: {calls}"
        info = server.client().info("replication")
        assert info["role"] == "master"
        assert server.client().config_get("maxmemory") == {"maxmemory": "0"}


# --------------------------------------------------------------------------------------------
# keyless and multi-key commands


def test_keyless_commands_in_single_backend_pool(single):
    c = single.client
    for i in range(5):
        c.set(f"one:{i}", i)
    assert c.dbsize() == 5
    assert sorted(c.keys("*")) == sorted(f"one:{i}".encode() for i in range(5))
    assert single.servers[0].client().dbsize() == 5


def test_keyless_commands_refused_in_sharded_pool(sharded):
    sharded.client.set("k", "v")
    with sharded.proxy.raw() as conn:
        assert_error(conn.command("TIME"), rb"^ERR ")
        assert_error(conn.command("LASTSAVE"), rb"^ERR ")
        assert_error(conn.command("CONFIG", "GET", "maxmemory"), rb"^ERR ")
        assert conn.command("GET", "k") == b"v"
    for server in sharded.servers:
        calls = server.command_calls()
        assert "time" not in calls and "lastsave" not in calls and "config|get" not in calls


def test_whole_data_set_commands_fan_out_in_sharded_pool(sharded):
    """DBSIZE, KEYS, RANDOMKEY, SCAN, FLUSHDB reach every shard (test_fanout.py has more)."""
    c = sharded.client
    c.mset({f"fan:{i}": i for i in range(20)})
    assert c.dbsize() == 20
    assert sorted(c.keys("fan:*")) == sorted(f"fan:{i}".encode() for i in range(20))
    assert c.randomkey().startswith(b"fan:")
    assert sorted(c.scan_iter(match="fan:*")) == sorted(c.keys("fan:*"))
    for server in sharded.servers:
        assert server.calls("dbsize") == 1 and server.calls("keys") == 2
    assert c.flushdb() is True
    assert [s.client().dbsize() for s in sharded.servers] == [0, 0]


def test_cross_shard_multikey_commands_are_refused(sharded):
    (a,), (b,) = keys_per_server(sharded.client, sharded.servers)
    c = sharded.client
    c.sadd(a, "1", "2")
    c.sadd(b, "2", "3")
    with sharded.proxy.raw() as conn:
        assert_error(conn.command("SINTER", a, b), CROSSSLOT)
        assert_error(conn.command("RENAME", a, b), CROSSSLOT)
        assert_error(conn.command("SMOVE", a, b, "1"), CROSSSLOT)
        assert_error(conn.command("SUNIONSTORE", a, a, b), CROSSSLOT)
        assert conn.command("SCARD", a) == 2
    assert c.smembers(a) == {b"1", b"2"} and c.smembers(b) == {b"2", b"3"}
    assert sharded.locate(a) == [0] and sharded.locate(b) == [1]


def test_multikey_commands_with_hash_tags(sharded):
    c = sharded.client
    c.sadd("{t}x", "1", "2", "3")
    c.sadd("{t}y", "2", "3", "4")
    assert c.sinter("{t}x", "{t}y") == {b"2", b"3"}
    assert c.sunionstore("{t}u", "{t}x", "{t}y") == 4
    assert c.smove("{t}x", "{t}y", "1") is True
    c.rpush("{t}list", "a", "b")
    assert c.rpoplpush("{t}list", "{t}list2") == b"b"
    c.zadd("{t}z1", {"a": 1})
    c.zadd("{t}z2", {"a": 2, "b": 1})
    assert c.zunionstore("{t}z3", ["{t}z1", "{t}z2"]) == 2
    where = {tuple(sharded.locate(k)) for k in
             ["{t}x", "{t}y", "{t}u", "{t}list", "{t}list2", "{t}z3"]}
    assert len(where) == 1 and len(next(iter(where))) == 1
    backend = backend_of(sharded, "{t}u")
    assert backend.smembers("{t}u") == {b"1", b"2", b"3", b"4"}
    assert backend.smembers("{t}y") == {b"1", b"2", b"3", b"4"}
    assert backend.lrange("{t}list2", 0, -1) == [b"b"]
    assert backend.zrange("{t}z3", 0, -1, withscores=True) == [(b"b", 1.0), (b"a", 3.0)]


def test_rename_with_hash_tags(sharded):
    c = sharded.client
    c.set("{r}old", "v")
    assert c.rename("{r}old", "{r}new") is True
    assert c.renamenx("{r}new", "{r}newer") is True
    assert c.get("{r}newer") == b"v" and c.exists("{r}old", "{r}new") == 0
    assert backend_of(sharded, "{r}newer").get("{r}newer") == b"v"


def test_hash_tags_colocate_keys(sharded):
    # fnv1a_64 spreads keys that differ only in their last bytes poorly, so the tags differ
    # from their first byte on.
    rng = random.Random(3)
    tags = ["".join(rng.choice(string.ascii_letters) for _ in range(8)) for _ in range(40)]
    c = sharded.client
    pipe = c.pipeline(transaction=False)
    for tag in tags:
        for suffix in ("a", "b", "c"):
            pipe.set(f"{suffix}{{{tag}}}:{suffix}", suffix)
    pipe.execute()
    used = set()
    for tag in tags:
        homes = {tuple(sharded.locate(f"{s}{{{tag}}}:{s}")) for s in ("a", "b", "c")}
        assert len(homes) == 1, f"{tag} split over {homes}"
        (home,) = homes
        assert len(home) == 1
        used.add(home[0])
    assert used == {0, 1}
