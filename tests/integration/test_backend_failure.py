"""Backend failures: a killed backend, a slow backend with `timeout`, and `redis_db`.

The proxy is never restarted: it must fail fast for the keys of a dead backend, serve the
other shard meanwhile, reconnect on its own, and survive a slow backend without mixing up
replies.
"""

import threading
import time

import pytest
import redis

from harness import ERROR_TIMEOUT_WORDS, ErrorReply, Status, keys_per_server, locate_many, \
    pool_config, spread_keys

RECONNECT_WITHIN_S = 5.0


def test_killed_backend_fails_fast_then_recovers(sharded):
    proxy, c = sharded.proxy, sharded.client
    (alive_key,), (dead_key,) = keys_per_server(c, sharded.servers)
    c.set(alive_key, "a")
    c.set(dead_key, "d")
    pid = proxy.pid

    sharded.servers[1].kill()
    for attempt in range(5):
        started = time.monotonic()
        with pytest.raises(redis.ResponseError):
            c.get(dead_key)
        elapsed = time.monotonic() - started
        assert elapsed < 1.0, f"attempt {attempt}: error took {elapsed:.2f}s"
        assert c.get(alive_key) == (b"a%d" % (attempt - 1) if attempt else b"a")
        assert c.set(alive_key, f"a{attempt}") is True

    sharded.servers[1].restart()
    deadline = time.monotonic() + RECONNECT_WITHIN_S
    while True:
        try:
            if c.set(dead_key, "back") is True:
                break
        except redis.ResponseError:
            pass
        assert time.monotonic() < deadline, "requests still fail after the backend came back"
        time.sleep(0.1)
    assert c.get(dead_key) == b"back"
    assert sharded.servers[1].client().get(dead_key) == b"back"
    assert c.get(alive_key) == b"a4"
    assert proxy.is_running() and proxy.pid == pid


def test_killed_backend_errors_keep_client_connection(sharded):
    (alive_key,), (dead_key,) = keys_per_server(sharded.client, sharded.servers)
    with sharded.proxy.raw(timeout=3) as conn:
        assert conn.command("SET", alive_key, "1") == Status(b"OK")
        sharded.servers[1].kill()
        for _ in range(3):
            reply = conn.command("GET", dead_key)
            assert isinstance(reply, ErrorReply) and reply.startswith(b"ERR"), reply
            assert conn.command("GET", alive_key) == b"1"


def proxy_connection_ids(watcher, exclude: set) -> set:
    """Ids of the backend's client connections other than ours (those are the proxy's)."""
    return {entry["id"] for entry in watcher.client_list() if entry["id"] not in exclude}


def test_timeout_gives_error_and_discards_late_reply(procs):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server], timeout=300)])
    watcher = server.client()
    sleeper = server.client(socket_timeout=10)
    own_ids = {str(watcher.client_id()), str(sleeper.client_id())}

    with proxy.raw(timeout=5) as conn:
        assert conn.command("SET", "slow", "late-value") == Status(b"OK")
        assert conn.command("SET", "other", "other-value") == Status(b"OK")
        ids_before = proxy_connection_ids(watcher, own_ids)
        assert ids_before, "the proxy has no connection to the backend"

        sleep = threading.Thread(target=sleeper.execute_command, args=("DEBUG", "SLEEP", "2"))
        sleep.start()
        time.sleep(0.2)  # the backend is now blocked for ~1.8 s
        started = time.monotonic()
        reply = conn.command("GET", "slow")
        elapsed = time.monotonic() - started
        assert isinstance(reply, ErrorReply) and ERROR_TIMEOUT_WORDS.search(reply), reply
        assert 0.25 <= elapsed < 1.0, f"timeout error after {elapsed:.2f}s (timeout: 300 ms)"
        sleep.join(timeout=10)

        # The late reply to GET slow ("late-value") must be dropped, not handed to the next.
        assert conn.command("GET", "other") == b"other-value"
        assert conn.command("GET", "slow") == b"late-value"
        assert conn.command("SET", "fresh", "1") == Status(b"OK")
        assert conn.command("GET", "fresh") == b"1"
    ids_after = proxy_connection_ids(watcher, own_ids)
    assert ids_before <= ids_after, "the backend connection was closed for one slow request"


def test_timeout_in_a_pipeline(procs):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server], timeout=300)])
    sleeper = server.client(socket_timeout=10)
    with proxy.raw(timeout=5) as conn:
        for i in range(3):
            assert conn.command("SET", f"p{i}", f"v{i}") == Status(b"OK")
        sleep = threading.Thread(target=sleeper.execute_command, args=("DEBUG", "SLEEP", "1"))
        sleep.start()
        time.sleep(0.2)
        conn.send(b"".join(b"*2\r\n$3\r\nGET\r\n$2\r\np%d\r\n" % i for i in range(3)))
        replies = conn.read_replies(3)
        assert all(isinstance(r, ErrorReply) and ERROR_TIMEOUT_WORDS.search(r)
                   for r in replies), replies
        sleep.join(timeout=10)
        conn.send(b"".join(b"*2\r\n$3\r\nGET\r\n$2\r\np%d\r\n" % i for i in (2, 0, 1)))
        assert conn.read_replies(3) == [b"v2", b"v0", b"v1"]


def test_redis_db_places_keys_in_that_db(procs):
    servers = procs.redis(2)
    proxy = procs.proxy(pools=[pool_config(servers, redis_db=3)])
    c = proxy.client()
    keys = spread_keys(60, ":db")
    assert c.mset({k: k for k in keys}) is True
    assert c.mget(keys) == [k.encode() for k in keys]
    where = locate_many(keys, servers, db=3)
    assert all(len(v) == 1 for v in where.values()), where
    assert {v[0] for v in where.values()} == {0, 1}
    for server in servers:
        assert server.client(db=0).dbsize() == 0
    assert sum(server.client(db=3).dbsize() for server in servers) == 60


def test_redis_db_client_sees_db_0(procs):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server], redis_db=3)])
    with proxy.raw() as conn:
        assert conn.command("SET", "k", "v") == Status(b"OK")
        assert conn.command("SELECT", "0") == Status(b"OK")
        assert conn.command("GET", "k") == b"v"
    assert server.client(db=3).get("k") == b"v"
    assert server.client(db=0).exists("k") == 0
