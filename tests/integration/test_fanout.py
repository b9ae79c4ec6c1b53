"""Commands about the whole data set, sent to every shard and merged: DBSIZE (sum), KEYS
(concatenation), RANDOMKEY, FLUSHDB/FLUSHALL, SCRIPT LOAD/EXISTS/FLUSH, FUNCTION
LOAD/LIST/DELETE/FLUSH/DUMP/RESTORE, PUBSUB CHANNELS/NUMSUB/NUMPAT, SCAN with one cursor that walks every
shard, and SCRIPT KILL on private connections that get past a runaway script. Replies are
compared byte for byte with a plain redis-server holding the same data, in a pool of one
server and one of three shards; then through Sentinel-managed and role-probed groups with
read_from: replica, where every fan-out and SCAN goes to the masters.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (ErrorReply, RawConn, ReplyReader, Status, Switchyard,  # noqa: E402
                     encode_command, keys_per_server, pool_config, spread_keys, wait_until)
from test_eject import eject_pool  # noqa: E402
from topology import topology_fixture  # noqa: E402

LIBRARY = "#!lua name=fanlib\nredis.register_function('fanf', function(keys, args) return 1 end)"


def replies(port: int, script) -> list[bytes]:
    with RawConn(port, timeout=10) as conn:
        reader = ReplyReader(conn.sock)
        conn.send(b"".join(encode_command(*args) for args in script))
        return [reader.reply() for _ in script]


def fill(client, count: int = 60) -> list[str]:
    """Strings (`<x>:s`), hashes (`<x>:h`) and sets (`<x>:o`) on names that spread over
    shards (harness.spread_keys); returns the keys."""
    names = []
    pipe = client.pipeline(transaction=False)
    for i, base in enumerate(spread_keys(count)):
        pipe.set(f"{base}:s", i)
        pipe.hset(f"{base}:h", "f", i)
        pipe.sadd(f"{base}:o", i)
        names += [f"{base}:s", f"{base}:h", f"{base}:o"]
    pipe.execute()
    return names


def scan_all(client, **kwargs) -> list[bytes]:
    found = []
    cursor = 0
    calls = 0
    while True:
        cursor, page = client.scan(cursor, **kwargs)
        found += page
        calls += 1
        assert calls < 10000, "SCAN never ended"
        if cursor == 0:
            return found


@pytest.fixture
def pools(pool_and_oracle):
    """(switchyard, oracle, servers): one server, or three shards (conftest.py)."""
    return pool_and_oracle


def test_dbsize_keys_randomkey_as_one_redis(pools):
    proxy, oracle, servers = pools
    empty = [("DBSIZE",), ("KEYS", "*"), ("RANDOMKEY",)]
    assert replies(proxy.port, empty) == replies(oracle.port, empty)
    keys = fill(proxy.client())
    fill(oracle.client())
    if len(servers) > 1:
        sizes = [s.client().dbsize() for s in servers]
        assert all(size > 0 for size in sizes), f"keys did not spread: {sizes}"
    script = [("DBSIZE",), ("KEYS", "nothing*"), ("DBSIZE", "extra"), ("KEYS",)]
    assert replies(proxy.port, script) == replies(oracle.port, script)
    c = proxy.client()
    assert c.dbsize() == len(keys)
    assert sorted(c.keys("*:s")) == sorted(oracle.client().keys("*:s"))
    assert sorted(c.keys("*")) == sorted(k.encode() for k in keys)
    seen = {c.randomkey() for _ in range(60)}
    assert seen <= {k.encode() for k in keys}
    if len(servers) > 1:
        shards = {tuple(proxy_locate(servers, key)) for key in seen}
        assert len(shards) > 1, "RANDOMKEY always came from one shard"


def proxy_locate(servers, key) -> list[int]:
    return [i for i, s in enumerate(servers) if s.client().exists(key)]


def test_flushdb_and_flushall_reach_every_shard(pools):
    proxy, oracle, servers = pools
    for flush in [("FLUSHDB",), ("FLUSHDB", "ASYNC"), ("FLUSHALL", "SYNC"), ("FLUSHALL",)]:
        fill(proxy.client(), 20)
        fill(oracle.client(), 20)
        script = [flush, ("DBSIZE",), ("FLUSHDB", "NOPE")]
        assert replies(proxy.port, script) == replies(oracle.port, script)
        assert [s.client().dbsize() for s in servers] == [0] * len(servers)


def test_scan_visits_every_key_exactly_once(pools):
    proxy, oracle, servers = pools
    keys = fill(proxy.client(), 100)
    fill(oracle.client(), 100)
    c = proxy.client()
    everything = scan_all(c, count=7)
    assert len(everything) == len(set(everything)) == len(keys)
    assert set(everything) == {k.encode() for k in keys}
    some = scan_all(c, match="*[sh]", count=5)
    assert len(some) == len(set(some)) == 200
    assert set(some) == set(scan_all(oracle.client(), match="*[sh]", count=5))
    strings = scan_all(c, match="*[sh]", count=50, _type="string")
    assert len(strings) == len(set(strings))
    assert set(strings) == {k.encode() for k in keys if k.endswith(":s")}
    hashes = scan_all(c, _type="hash")
    assert set(hashes) == {k.encode() for k in keys if k.endswith(":h")}
    # Errors in Redis's words: the cursor first, then the options (from the backend).
    script = [("SCAN", "x"), ("SCAN", "-"), ("SCAN", "18446744073709551616"),
              ("SCAN", "0", "COUNT", "0"), ("SCAN", "0", "MATCH"), ("SCAN", "0", "BOGUS", "1")]
    assert replies(proxy.port, script) == replies(oracle.port, script)


def test_scan_pages_come_from_one_shard_at_a_time(procs):
    servers = procs.redis(3)
    proxy = procs.proxy(pools=[pool_config(servers, hash="fnv1a_64", distribution="ketama")],
                        cls=Switchyard)
    fill(proxy.client(), 50)
    c = proxy.client()
    cursor, shards_seen = 0, []
    while True:
        cursor, page = c.scan(cursor, count=1000)
        shards_seen.append({tuple(proxy_locate(servers, key)) for key in page})
        if cursor == 0:
            break
    # Large pages: one page per shard, each from that shard alone, in server order.
    assert shards_seen == [{(0,)}, {(1,)}, {(2,)}]
    assert [s.calls("scan") for s in servers] == [1, 1, 1]
    assert c.scan(0, match="nothing*", count=1000) == (1, [])  # an empty page goes on


def test_scripts_are_loaded_everywhere(pools):
    proxy, oracle, servers = pools
    body = "return redis.call('GET', KEYS[1])"
    script = [("SCRIPT", "LOAD", body), ("SCRIPT", "EXISTS", "0" * 40, "x"),
              ("SCRIPT", "LOAD", "this is not lua(")]
    expected = replies(oracle.port, script)
    assert replies(proxy.port, script) == expected
    sha = expected[0].split(b"\r\n")[1].decode()
    c = proxy.client()
    per_shard = keys_per_server(c, servers)
    for (key,) in per_shard:
        c.set(key, f"value-of-{key}")
        assert c.evalsha(sha, 1, key) == f"value-of-{key}".encode()
    for server in servers:
        assert server.client().script_exists(sha) == [True]
    assert c.script_exists(sha, "0" * 40) == [True, False]
    if len(servers) > 1:  # loaded on one shard only: not everywhere, so not there
        lonely = servers[0].client().script_load("return 'lonely'")
        assert c.script_exists(lonely, sha) == [False, True]
    flush = [("SCRIPT", "FLUSH"), ("SCRIPT", "EXISTS", sha)]
    assert replies(proxy.port, flush) == replies(oracle.port, flush)
    assert all(s.client().script_exists(sha) == [False] for s in servers)


def test_functions_are_loaded_everywhere(pools):
    proxy, oracle, servers = pools
    script = [("FUNCTION", "LOAD", LIBRARY), ("FUNCTION", "LIST"),
              ("FUNCTION", "LOAD", LIBRARY), ("FUNCTION", "DELETE", "fanlib"),
              ("FUNCTION", "DELETE", "fanlib"), ("FUNCTION", "LOAD", "REPLACE", LIBRARY),
              ("FUNCTION", "FLUSH"), ("FUNCTION", "LIST")]
    assert replies(proxy.port, script) == replies(oracle.port, script)
    load = [("FUNCTION", "LOAD", LIBRARY), ("FUNCTION", "DUMP")]
    dump = replies(oracle.port, load)[1]
    assert replies(proxy.port, load)[1] == dump
    payload = dump.split(b"\r\n", 1)[1][:-2]
    restore = [("FUNCTION", "FLUSH"), ("FUNCTION", "RESTORE", payload), ("FUNCTION", "LIST"),
               ("FUNCTION", "RESTORE", payload), ("FUNCTION", "FLUSH")]
    assert replies(proxy.port, restore) == replies(oracle.port, restore)
    if len(servers) > 1:
        servers[1].client().function_load(LIBRARY)
        with proxy.raw() as conn:
            reply = conn.command("FUNCTION", "LIST")
            assert isinstance(reply, ErrorReply) and b"answered differently" in reply, reply
        servers[1].client().function_flush()


def test_pubsub_introspection_merged(pools):
    proxy, oracle, servers = pools
    channels = [f"chan:{i}" for i in range(6)]
    with RawConn(proxy.port) as via_proxy, RawConn(oracle.port) as direct:
        for conn in (via_proxy, direct):
            reader = ReplyReader(conn.sock)
            conn.send(encode_command("SUBSCRIBE", *channels)
                      + encode_command("PSUBSCRIBE", "chan:*", "news.*"))
            for _ in range(len(channels) + 2):
                reader.reply()
        with RawConn(proxy.port) as second, RawConn(oracle.port) as second_direct:
            for conn in (second, second_direct):
                reader = ReplyReader(conn.sock)
                conn.send(encode_command("SUBSCRIBE", "chan:0", "chan:3")
                          + encode_command("PSUBSCRIBE", "chan:*"))
                for _ in range(3):
                    reader.reply()
            script = [("PUBSUB", "NUMSUB", "chan:0", "chan:1", "nobody", "chan:3"),
                      ("PUBSUB", "NUMSUB"), ("PUBSUB", "NUMPAT"),
                      ("PUBSUB", "SHARDNUMSUB", "chan:0"), ("PUBSUB", "SHARDCHANNELS")]
            assert replies(proxy.port, script) == replies(oracle.port, script)
            c = proxy.client()
            assert sorted(c.pubsub_channels()) == sorted(ch.encode() for ch in channels)
            assert sorted(c.pubsub_channels("chan:[0-2]")) == [b"chan:0", b"chan:1", b"chan:2"]


def test_script_kill_gets_past_a_runaway_script(procs):
    servers = procs.redis(3)
    for server in servers:  # answer BUSY (and take SCRIPT KILL) soon, not after 5 s
        server.client().config_set("busy-reply-threshold", 100)
    proxy = procs.proxy(pools=[pool_config(servers, hash="fnv1a_64", distribution="ketama",
                                           timeout=20000)], cls=Switchyard)
    c = proxy.client()
    _, (k1,), (k2,) = keys_per_server(c, servers)
    c.set(k1, "one")
    c.set(k2, "two")
    assert replies(proxy.port, [("SCRIPT", "KILL"), ("FUNCTION", "KILL")]) == [
        b"-NOTBUSY No scripts in execution right now.\r\n"] * 2
    with RawConn(proxy.port, timeout=20) as runner:
        runner.send(encode_command("EVAL", "while true do end", "1", k1))
        busy = servers[1].client(socket_timeout=5)
        wait_until(lambda: _is_busy(busy), "the script to run", timeout_s=10)
        with RawConn(proxy.port, timeout=10) as killer:
            started = time.monotonic()
            assert killer.command("SCRIPT", "KILL") == Status(b"OK")
            assert time.monotonic() - started < 5
        reply = runner.read_reply()
        assert isinstance(reply, ErrorReply) and b"killed" in reply, reply
        # Other clients of that backend are answered again (during the script: BUSY).
        assert proxy.client().get(k1) == b"one"
        assert runner.command("GET", k1) == b"one"
        assert c.get(k2) == b"two"
    assert servers[1].calls("script|kill") == 2  # NOTBUSY, then the kill


def _is_busy(client) -> bool:
    try:
        client.ping()
        return False
    except Exception as err:  # redis-py raises BusyLoadingError / ResponseError for BUSY
        return "busy" in str(err).lower()


def test_a_cache_pool_fans_out_to_the_servers_still_in_the_distribution(procs):
    servers = procs.redis(3)
    proxy = procs.proxy(pools=[eject_pool(servers)], extra_args=["-i", "50"], cls=Switchyard)
    c = proxy.client()
    keys = fill(c, 30)
    on_b = servers[1].client().dbsize()
    assert on_b > 0, "no key on the server to eject"
    servers[1].kill()
    wait_until(lambda: _ejected(c, keys), "b to leave the distribution")
    live = servers[0].client().dbsize() + servers[2].client().dbsize()
    assert c.dbsize() == live
    found = scan_all(c, count=20)
    assert len(found) == len(set(found)) == live
    assert c.scan(1, count=1000) == (0, c.scan(2, count=1000)[1])  # b's place is skipped
    assert c.flushdb() is True
    assert c.dbsize() == 0


def _ejected(client, keys) -> bool:
    """Every key answers (none is placed on the dead server): the ring no longer has it."""
    try:
        values = client.mget(keys)
    except Exception:  # the connection to the proxy itself: try again
        return False
    return not any(isinstance(value, Exception) for value in values)


def test_in_a_transaction_of_a_sharded_pool_a_fanout_is_refused(sharded3):
    with sharded3.proxy.raw() as conn:
        assert conn.command("MULTI") == Status(b"OK")
        reply = conn.command("DBSIZE")
        assert isinstance(reply, ErrorReply) and b"every shard" in reply
        assert conn.command("SET", "t", "1") == Status(b"QUEUED")
        assert conn.command("EXEC") == ErrorReply(
            b"EXECABORT Transaction discarded because of previous errors.")


# --------------------------------------------------------------------------------------------
# replication groups: fan-out and SCAN on the masters, whatever read_from says


topo = topology_fixture("fanout-groups", groups=2, replicas=1)


@pytest.fixture(scope="module", params=[False, True], ids=["sentinel", "role-probed"])
def group_proxy(request, topo, module_procs):
    proxy = module_procs.proxy(pools=[topo.proxy_pool(role_probed=request.param,
                                                      read_from="replica", hash="fnv1a_64",
                                                      distribution="ketama", timeout=2000)],
                               cls=Switchyard)
    client = proxy.client()
    for group in topo.groups:
        topo.wait_proxy_sees(client, group.name)
    return proxy


def test_groups_fan_out_to_the_masters(topo, group_proxy):
    c = group_proxy.client()
    c.flushdb()
    masters = [topo.master_of(group.name) for group in topo.groups]
    replicas = [r for group in topo.groups for r in topo.replicas_of(group.name)]
    names = fill(c, 40)
    assert all(m.client().dbsize() > 0 for m in masters), "keys did not spread over groups"
    assert c.dbsize() == len(names)
    scans_before = [r.calls("scan") for r in replicas]
    found = scan_all(c, count=9, match="*:[so]")
    assert len(found) == len(set(found)) == 80
    assert [r.calls("scan") for r in replicas] == scans_before, "SCAN reached a replica"
    sha = c.script_load("return 7")
    assert all(m.client().script_exists(sha) == [True] for m in masters)
    assert c.flushdb() is True
    assert [m.client().dbsize() for m in masters] == [0, 0]
    wait_until(lambda: all(r.client().dbsize() == 0 for r in replicas), "replicas to flush")
