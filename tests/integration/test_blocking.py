"""Blocking commands through the proxy: each goes alone on a private connection to the master
of its keys' backend, so it never stalls the shared connections other clients pipeline on.
The command's own timeout rules, not the pool's; a client that leaves while blocked makes the
backend stop waiting for it at once, so an element pushed later is not popped for nobody.
"""

import threading
import time

import pytest

from harness import ErrorReply, RawConn, encode_command, pool_config, spread_keys, wait_until


@pytest.fixture(params=[1, 3], ids=["one-server", "three-shards"])
def proxy_and_servers(request, procs):
    servers = procs.redis(request.param)
    # A pool timeout far shorter than the blocks below: it must not cut them short.
    proxy = procs.proxy(pools=[pool_config(servers, hash="fnv1a_64", distribution="ketama",
                                           hash_tag="{}", timeout=300)])
    return proxy, servers


def test_block_outlives_the_pool_timeout_and_ends_with_its_own(proxy_and_servers):
    proxy, _ = proxy_and_servers
    with RawConn(proxy.port) as conn:
        started = time.monotonic()
        assert conn.command("BLPOP", "empty", "1") is None
        elapsed = time.monotonic() - started
        assert 0.9 < elapsed < 5, elapsed
        started = time.monotonic()
        assert conn.command("BZPOPMIN", "emptyz", "0.5") is None
        assert time.monotonic() - started > 0.4


def test_push_from_another_client_wakes_the_blocked_one(proxy_and_servers):
    proxy, _ = proxy_and_servers
    result = {}

    def pop():
        with RawConn(proxy.port, timeout=20) as conn:
            result["reply"] = conn.command("BRPOP", "queue", "0")

    thread = threading.Thread(target=pop)
    thread.start()
    time.sleep(0.5)  # blocked by now, well past the pool's 300 ms timeout
    other = proxy.client()
    assert other.set("unrelated", "v")  # the shared connections are not stalled
    assert other.get("unrelated") == b"v"
    other.lpush("queue", "job-1")
    thread.join(10)
    assert result["reply"] == [b"queue", b"job-1"]


def test_requests_pipelined_after_a_block_wait_for_it(proxy_and_servers):
    proxy, _ = proxy_and_servers
    with RawConn(proxy.port) as conn:
        conn.send(encode_command("BLPOP", "{q}list", "0.5") + encode_command("RPUSH", "{q}list", "a")
                  + encode_command("LRANGE", "{q}list", "0", "-1"))
        # As in Redis: RPUSH runs only once BLPOP has timed out, so BLPOP pops nothing.
        assert conn.read_reply() is None
        assert conn.read_reply() == 1
        assert conn.read_reply() == [b"a"]


def test_client_that_leaves_while_blocked_does_not_swallow_a_later_push(proxy_and_servers):
    proxy, servers = proxy_and_servers
    conn = RawConn(proxy.port)
    conn.send(encode_command("BLPOP", "jobs", "0"))
    time.sleep(0.3)
    blocked = sum(s.client().info("clients")["blocked_clients"] for s in servers)
    assert blocked == 1
    conn.close()
    wait_until(lambda: sum(s.client().info("clients")["blocked_clients"] for s in servers) == 0,
               "the backend to stop waiting for the departed client", timeout_s=5)
    client = proxy.client()
    client.lpush("jobs", "precious")
    assert client.lrange("jobs", 0, -1) == [b"precious"]


def test_xread_block_and_blmove(proxy_and_servers):
    proxy, _ = proxy_and_servers
    client = proxy.client()
    result = {}

    def read():
        with RawConn(proxy.port, timeout=20) as conn:
            result["reply"] = conn.command("XREAD", "BLOCK", "0", "STREAMS", "stream", "$")

    thread = threading.Thread(target=read)
    thread.start()
    time.sleep(0.5)
    entry = client.xadd("stream", {"f": "v"})
    thread.join(10)
    assert result["reply"] == [[b"stream", [[entry, [b"f", b"v"]]]]]

    client.rpush("{m}src", "x")
    with RawConn(proxy.port) as conn:
        assert conn.command("BLMOVE", "{m}src", "{m}dst", "LEFT", "RIGHT", "1") == b"x"
        assert conn.command("LRANGE", "{m}dst", "0", "-1") == [b"x"]


def test_cross_backend_keys_get_crossslot(procs):
    servers = procs.redis(3)
    proxy = procs.proxy(pools=[pool_config(servers, hash="fnv1a_64", distribution="ketama")])
    with RawConn(proxy.port) as conn:
        keys = spread_keys(12)  # on more than one backend
        reply = conn.command("BLPOP", *keys, "1")
        assert isinstance(reply, ErrorReply) and reply.startswith(b"CROSSSLOT"), reply
        assert conn.command("PING") == b"PONG"


def test_blocked_clients_are_bounded_by_private_connections(procs):
    server = procs.redis(1)[0]
    proxy = procs.proxy(pools=[pool_config([server], extra={"private_connections": 3})])
    blocked = [RawConn(proxy.port, timeout=20) for _ in range(3)]
    try:
        for conn in blocked:
            conn.send(encode_command("BLPOP", "bounded", "0"))
        wait_until(lambda: server.client().info("clients")["blocked_clients"] == 3,
                   "three blocked clients")
        with RawConn(proxy.port) as extra:
            reply = extra.command("BLPOP", "bounded", "0")
            assert isinstance(reply, ErrorReply) and b"private_connections" in reply, reply
            assert extra.command("GET", "plain") is None  # the shared path still works
        client = proxy.client()
        client.rpush("bounded", "1", "2", "3")
        assert sorted(conn.read_reply()[1] for conn in blocked) == [b"1", b"2", b"3"]
    finally:
        for conn in blocked:
            conn.close()


def test_many_blocked_clients_leave_no_connection_behind(procs):
    server = procs.redis(1)[0]
    proxy = procs.proxy(pools=[pool_config([server])])
    base = server.client().info("clients")["connected_clients"]
    for _ in range(3):
        conns = [RawConn(proxy.port) for _ in range(40)]
        for conn in conns:
            conn.send(encode_command("BLPOP", "storm", "0"))
        wait_until(lambda: server.client().info("clients")["blocked_clients"] == 40,
                   "40 blocked clients")
        for conn in conns:
            conn.close()
        wait_until(lambda: server.client().info("clients")["blocked_clients"] == 0,
                   "no blocked client left")
    wait_until(lambda: server.client().info("clients")["connected_clients"] <= base + 4,
               "the private connections of departed clients to close")
