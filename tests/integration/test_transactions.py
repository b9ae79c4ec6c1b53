"""Transactions (MULTI, EXEC, DISCARD, WATCH, UNWATCH) through the proxy: each session pins
itself to a private connection to the master of one backend, and what the client reads is
what a plain redis-server sends, byte for byte, also when the whole transaction arrives in
one write. Through a sharded pool a transaction is pinned to the backend of its first key,
and a command whose key lives elsewhere is refused while queuing (EXEC then aborts).
"""

import pytest

from harness import (ErrorReply, RawConn, ReplyReader, encode_command, pool_config, spread_keys,
                     watch_increments)

# Every key of these scripts carries the hash tag {t}: in a sharded pool they share a backend.
SCRIPTS = {
    "queued and executed": [
        ("MULTI",), ("SET", "{t}a", "1"), ("INCR", "{t}a"), ("GET", "{t}a"), ("EXEC",)],
    "keyless commands before the first key": [
        ("MULTI",), ("PING",), ("ECHO", "x"), ("SET", "{t}b", "2"), ("GET", "{t}b"), ("EXEC",)],
    "only keyless commands": [("MULTI",), ("PING",), ("PING", "hello"), ("EXEC",)],
    "empty": [("MULTI",), ("EXEC",)],
    "discarded": [("MULTI",), ("SET", "{t}c", "1"), ("DISCARD",), ("GET", "{t}c")],
    "discarded before any key": [("MULTI",), ("DISCARD",), ("PING",)],
    "without MULTI": [("EXEC",), ("DISCARD",), ("UNWATCH",)],
    "nested MULTI": [("MULTI",), ("MULTI",), ("SET", "{t}d", "1"), ("EXEC",)],
    "nested MULTI after a key": [("MULTI",), ("SET", "{t}d", "2"), ("MULTI",), ("EXEC",)],
    "WATCH inside MULTI": [("MULTI",), ("WATCH", "{t}a"), ("PING",), ("EXEC",)],
    "unknown command aborts": [("MULTI",), ("SET", "{t}e", "1"), ("NOSUCH", "x"), ("EXEC",),
                               ("GET", "{t}e")],
    "wrong arity aborts": [("MULTI",), ("SET", "{t}e", "1"), ("GET",), ("EXEC",), ("GET", "{t}e")],
    "runtime error inside EXEC": [
        ("SET", "{t}s", "text"), ("MULTI",), ("INCR", "{t}s"), ("SET", "{t}f", "1"), ("EXEC",)],
    "blocking command does not block inside MULTI": [
        ("MULTI",), ("BLPOP", "{t}empty", "0"), ("LPUSH", "{t}l", "x"), ("BRPOP", "{t}l", "0"),
        ("EXEC",)],
    "WATCH then EXEC": [("WATCH", "{t}w"), ("MULTI",), ("SET", "{t}w", "1"), ("EXEC",)],
    "WATCH, UNWATCH, plain commands": [
        ("WATCH", "{t}w"), ("UNWATCH",), ("SET", "{t}w", "2"), ("GET", "{t}w")],
    "WATCH then EXEC without MULTI": [("WATCH", "{t}w"), ("EXEC",), ("PING",)],
    "UNWATCH queued": [("WATCH", "{t}w"), ("MULTI",), ("UNWATCH",), ("GET", "{t}w"), ("EXEC",)],
    # Requests around transactions travel on other connections than the transaction's: the
    # client still sees them run in the order it sent them.
    "ordered around transactions": [
        ("SET", "{t}o", "1"), ("MULTI",), ("INCR", "{t}o"), ("EXEC",), ("GET", "{t}o"),
        ("MULTI",), ("INCR", "{t}o"), ("EXEC",), ("MULTI",), ("INCR", "{t}o"), ("EXEC",),
        ("INCR", "{t}o"), ("WATCH", "{t}o"), ("INCR", "{t}o"), ("MULTI",), ("INCR", "{t}o"),
        ("EXEC",), ("GET", "{t}o"), ("SELECT", "1"), ("GET", "{t}o"), ("MULTI",),
        ("SET", "{t}o", "db1"), ("EXEC",), ("SELECT", "0"), ("GET", "{t}o")],
}


def replies(port: int, script, pipelined: bool) -> list[bytes]:
    with RawConn(port, timeout=10) as conn:
        reader = ReplyReader(conn.sock)
        if pipelined:
            conn.send(b"".join(encode_command(*args) for args in script))
            return [reader.reply() for _ in script]
        out = []
        for args in script:
            conn.send(encode_command(*args))
            out.append(reader.reply())
        return out


@pytest.mark.parametrize("pipelined", [False, True], ids=["one-by-one", "one-write"])
def test_transactions_answer_as_redis_does(pool_and_oracle, pipelined):
    proxy, oracle, _ = pool_and_oracle
    for name, script in SCRIPTS.items():
        want = replies(oracle.port, script, pipelined)
        got = replies(proxy.port, script, pipelined)
        assert got == want, f"{name}: proxy {got!r} != redis {want!r}"
        oracle.client().flushall()
        for server in pool_and_oracle[2]:
            server.client().flushall()


def test_watched_key_changed_by_another_client_fails_exec(pool_and_oracle):
    proxy, oracle, _ = pool_and_oracle
    for port in (oracle.port, proxy.port):
        with RawConn(port) as watcher, RawConn(port) as other:
            assert watcher.command("WATCH", "{t}k") == b"OK"
            assert other.command("SET", "{t}k", "changed") == b"OK"
            assert watcher.command("MULTI") == b"OK"
            assert watcher.command("SET", "{t}k", "mine") == b"QUEUED"
            assert watcher.command("EXEC") is None
            assert other.command("GET", "{t}k") == b"changed"


def test_cross_shard_command_is_refused_while_queuing(procs):
    servers = procs.redis(3)
    proxy = procs.proxy(pools=[pool_config(servers, hash="fnv1a_64", distribution="ketama",
                                           hash_tag="{}")])
    with RawConn(proxy.port) as conn:
        assert conn.command("MULTI") == b"OK"
        assert conn.command("SET", "{t}x", "1") == b"QUEUED"
        home = servers_of(servers, "{t}x", proxy)
        other = next(key for key in spread_keys(50) if servers_of(servers, key, proxy) != home)
        error = conn.command("SET", other, "1")
        assert error.startswith(b"CROSSSLOT"), error
        assert conn.command("EXEC") == b"EXECABORT Transaction discarded because of previous " \
                                       b"errors."
        assert conn.command("GET", "{t}x") is None  # nothing was executed
        # WATCH pins too: a key of another backend is refused, the session goes on.
        assert conn.command("WATCH", "{t}x") == b"OK"
        assert conn.command("WATCH", other).startswith(b"CROSSSLOT")
        assert conn.command("SET", other, "plain") == b"OK"  # not in MULTI: served as ever
        assert conn.command("UNWATCH") == b"OK"
        assert conn.command("GET", other) == b"plain"


def servers_of(servers, key, proxy):
    """Index of the backend that holds `key` once the proxy has written it."""
    proxy.client().set(key, "probe")
    found = [i for i, s in enumerate(servers) if s.client().exists(key)]
    proxy.client().delete(key)
    return found


def test_redis_py_default_pipeline_and_watch_loop(pool_and_oracle):
    proxy, _, _ = pool_and_oracle
    client = proxy.client()
    pipe = client.pipeline()  # transaction=True: MULTI ... EXEC
    pipe.set("{t}p", 1).incr("{t}p").incrby("{t}p", 5).get("{t}p")
    assert pipe.execute() == [True, 2, 7, b"7"]

    assert watch_increments(proxy, "{t}counter", clients=4, rounds=50) == []
    assert int(client.get("{t}counter")) == 4 * 50


def test_leases_are_reused_not_leaked(procs):
    server = procs.redis(1)[0]
    proxy = procs.proxy(pools=[pool_config([server])])
    client = proxy.client()
    for i in range(200):
        pipe = client.pipeline()
        pipe.set("k", i).get("k")
        assert pipe.execute() == [True, str(i).encode()]
    # A few private connections stay idle for reuse; none per transaction.
    clients = server.client().info("clients")["connected_clients"]
    assert clients <= 12, clients
    # A client that leaves in the middle of a transaction leaves nothing queued behind.
    with RawConn(proxy.port) as conn:
        conn.send(encode_command("MULTI") + encode_command("SET", "k", "unsent"))
        assert conn.read_reply() == b"OK"
    assert client.get("k") == b"199"
    pipe = client.pipeline()
    pipe.set("k", "after").get("k")
    assert pipe.execute() == [True, b"after"]


def test_private_connection_limit_gives_a_clear_error(procs):
    server = procs.redis(1)[0]
    proxy = procs.proxy(pools=[pool_config([server], extra={"private_connections": 2})])
    holders = [RawConn(proxy.port) for _ in range(2)]
    try:
        for conn in holders:
            assert conn.command("MULTI") == b"OK"
        with RawConn(proxy.port) as third:
            error = third.command("MULTI")
            assert isinstance(error, ErrorReply) and b"private_connections" in error, error
            assert third.command("PING") == b"PONG"  # the session goes on
        assert holders[0].command("DISCARD") == b"OK"
        with RawConn(proxy.port) as fourth:
            assert fourth.command("MULTI") == b"OK"
            assert fourth.command("EXEC") == []
    finally:
        for conn in holders:
            conn.close()
