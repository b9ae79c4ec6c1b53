"""Pub/Sub through the proxy: SUBSCRIBE and its family, PUBLISH, PING and RESET in the
subscribed context, with what a plain redis-server sends, byte for byte, as the oracle; in a
pool of one server and in a pool of three shards, where a channel lives on the backend its
name hashes to (as a key would) and patterns reach every shard. A subscriber whose backend
restarts is subscribed again; one that does not read is disconnected past its output limit.
"""

from __future__ import annotations

import socket
import time

import pytest
import redis

from harness import (RawConn, ReplyReader, Switchyard, encode_command, pool_config, rss_bytes,
                     spread_keys, wait_until)

CHANNELS = spread_keys(6, suffix=":chan")

# (request, how many replies Redis sends for it). Every reply is compared byte for byte.
SCRIPTS = {
    "channels, patterns, shard channels and their counts": [
        (("SUBSCRIBE", "a", "b", "a"), 3), (("PSUBSCRIBE", "n*", "m?"), 2),
        (("SSUBSCRIBE", "s1", "s2"), 2), (("SUBSCRIBE", "c"), 1), (("PING",), 1),
        (("PING", "hello"), 1), (("UNSUBSCRIBE", "a", "zzz"), 2), (("PUNSUBSCRIBE", "n*"), 1),
        (("SUNSUBSCRIBE", "s2", "s1"), 2), (("UNSUBSCRIBE", "b"), 1), (("UNSUBSCRIBE", "c"), 1),
        (("PUNSUBSCRIBE",), 1), (("PING",), 1)],
    "other commands are refused while subscribed": [
        (("SUBSCRIBE", "a"), 1), (("GET", "k"), 1), (("SET", "k", "v"), 1),
        (("CONFIG", "GET", "maxmemory"), 1), (("MULTI",), 1), (("SELECT", "1"), 1),
        (("NOSUCH",), 1), (("GET",), 1), (("UNSUBSCRIBE",), 1), (("GET", "k"), 1)],
    "unsubscribing from nothing": [
        (("UNSUBSCRIBE",), 1), (("PUNSUBSCRIBE",), 1), (("SUNSUBSCRIBE",), 1),
        (("UNSUBSCRIBE", "x"), 1), (("PING",), 1)],
    "shard channels alone keep the subscribed context": [
        (("SSUBSCRIBE", "s"), 1), (("GET", "k"), 1), (("PING",), 1), (("SUNSUBSCRIBE",), 1),
        (("GET", "k"), 1)],
    "RESET leaves the subscribed context": [
        (("SET", "k", "v"), 1), (("SUBSCRIBE", "a"), 1), (("PSUBSCRIBE", "b*"), 1),
        (("RESET",), 1), (("PING",), 1), (("GET", "k"), 1)],
    "arity": [(("SUBSCRIBE",), 1), (("PUBLISH", "a"), 1), (("PSUBSCRIBE",), 1)],
}


def run_script(port: int, script, pipelined: bool) -> list[bytes]:
    with RawConn(port, timeout=10) as conn:
        reader = ReplyReader(conn.sock)
        if pipelined:
            conn.send(b"".join(encode_command(*args) for args, _ in script))
            return [reader.reply() for _, count in script for _ in range(count)]
        out = []
        for args, count in script:
            conn.send(encode_command(*args))
            out.extend(reader.reply() for _ in range(count))
        return out


@pytest.mark.parametrize("pipelined", [False, True], ids=["one-by-one", "one-write"])
def test_subscription_replies_match_redis(pool_and_oracle, pipelined):
    proxy, oracle, _ = pool_and_oracle
    for name, script in SCRIPTS.items():
        want = run_script(oracle.port, script, pipelined)
        got = run_script(proxy.port, script, pipelined)
        assert got == want, f"{name}: proxy {got!r} != redis {want!r}"


def subscribe_all(conn: RawConn, reader: ReplyReader) -> list[bytes]:
    conn.send(encode_command("SUBSCRIBE", *CHANNELS) + encode_command("PSUBSCRIBE", "*:chan")
              + encode_command("SSUBSCRIBE", CHANNELS[0]))
    return [reader.reply() for _ in range(len(CHANNELS) + 2)]


def publish_round(port: int) -> list[int]:
    publisher = redis.Redis(port=port, socket_timeout=10)
    counts = [publisher.publish(channel, f"to {channel}") for channel in CHANNELS]
    counts.append(publisher.publish("elsewhere", "nobody listens"))
    counts.append(publisher.execute_command("SPUBLISH", CHANNELS[0], "sharded"))
    return counts


def test_messages_and_counts_match_redis(pool_and_oracle):
    proxy, oracle, servers = pool_and_oracle
    results = {}
    for target in (oracle.port, proxy.port):
        with RawConn(target, timeout=10) as conn:
            reader = ReplyReader(conn.sock)
            confirmations = subscribe_all(conn, reader)
            counts = publish_round(target)
            # Each channel's message and the pattern's, then the shard channel's.
            messages = [reader.reply() for _ in range(2 * len(CHANNELS) + 1)]
            results[target] = (confirmations, counts, messages)
    want, got = results[oracle.port], results[proxy.port]
    assert got[:2] == want[:2]
    if len(servers) == 1:
        assert got[2] == want[2]
    else:
        # Messages from different shards travel on different connections: each publish's
        # own messages keep their order, the rounds may interleave.
        assert sorted(got[2]) == sorted(want[2])


def test_channels_are_spread_over_the_shards(procs):
    servers = procs.redis(3)
    proxy = procs.proxy(pools=[pool_config(servers, hash="fnv1a_64", distribution="ketama")],
                        cls=Switchyard)
    with RawConn(proxy.port, timeout=10) as conn:
        reader = ReplyReader(conn.sock)
        subscribe_all(conn, reader)
        holders = []
        for channel in CHANNELS:
            found = [i for i, s in enumerate(servers)
                     if s.client().execute_command("PUBSUB", "NUMSUB", channel)[1] == 1]
            holders.append(found)
        assert all(len(found) == 1 for found in holders), holders
        assert len({found[0] for found in holders}) > 1, "every channel on one shard"
        # The pattern is on every shard, once.
        assert [s.client().execute_command("PUBSUB", "NUMPAT") for s in servers] == [1, 1, 1]


def test_redis_py_pubsub(pool_and_oracle):
    proxy, _, servers = pool_and_oracle
    client = proxy.client()
    pubsub = client.pubsub()
    pubsub.subscribe("news", "sports")
    pubsub.psubscribe("weather.*")
    confirmations = [pubsub.get_message(timeout=5) for _ in range(3)]
    assert [m["type"] for m in confirmations] == ["subscribe", "subscribe", "psubscribe"]
    assert [m["data"] for m in confirmations] == [1, 2, 3]
    assert client.publish("news", "n1") == 1
    assert client.publish("weather.paris", "sunny") == 1
    assert client.publish("sports", "s1") == 1
    got = []
    wait_until(lambda: got.append(pubsub.get_message(timeout=1)) or
               len([m for m in got if m]) >= 3, "three messages", timeout_s=10)
    got = [(m["type"], m["channel"], m["data"], m["pattern"]) for m in got if m]
    want = [("message", b"news", b"n1", None), ("pmessage", b"weather.paris", b"sunny", b"weather.*"),
            ("message", b"sports", b"s1", None)]
    if len(servers) > 1:  # channels of different shards come over different connections
        got, want = sorted(got), sorted(want)
    assert got == want
    pubsub.close()
    # A listener thread with handlers, as applications run it.
    received = []
    listener = client.pubsub()
    listener.subscribe(**{"jobs": received.append})
    listener.psubscribe(**{"job*": received.append})
    thread = listener.run_in_thread(sleep_time=0.05, daemon=True)
    try:
        wait_until(lambda: client.publish("jobs", "j1") == 2, "the jobs subscription", timeout_s=10)
        wait_until(lambda: len(received) >= 2, "the messages on jobs", timeout_s=10)
        assert sorted(m["type"] for m in received) == ["message", "pmessage"]
        assert all(m["data"] == b"j1" for m in received[:2])
    finally:
        thread.stop()
        thread.join(5)
    listener.close()
    # The subscriptions are gone with the client: nobody receives.
    wait_until(lambda: client.publish("news", "late") == 0, "the subscriber to leave")


def test_subscriber_is_subscribed_again_after_its_backend_restarts(procs):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server], timeout=500)], cls=Switchyard)
    with RawConn(proxy.port, timeout=20) as conn:
        reader = ReplyReader(conn.sock)
        conn.send(encode_command("SUBSCRIBE", "jobs") + encode_command("PSUBSCRIBE", "j*"))
        assert reader.reply() == b"*3\r\n$9\r\nsubscribe\r\n$4\r\njobs\r\n:1\r\n"
        assert reader.reply() == b"*3\r\n$10\r\npsubscribe\r\n$2\r\nj*\r\n:2\r\n"
        server.stop()
        server.restart()
        publisher = redis.Redis(port=proxy.port, socket_timeout=5)
        # Published before the proxy subscribed again: lost, as Pub/Sub loses them.
        wait_until(lambda: publisher.publish("jobs", "after restart") == 2,
                   "the subscription to come back", timeout_s=20)
        frames = []
        while True:
            frame = reader.reply()
            frames.append(frame)
            if frame.endswith(b"$13\r\nafter restart\r\n") and b"pmessage" in frame:
                break
        assert frames[-2:] == [
            b"*3\r\n$7\r\nmessage\r\n$4\r\njobs\r\n$13\r\nafter restart\r\n",
            b"*4\r\n$8\r\npmessage\r\n$2\r\nj*\r\n$4\r\njobs\r\n$13\r\nafter restart\r\n"]
        # The client saw no confirmation twice: only messages.
        assert all(b"subscribe" not in frame for frame in frames)
        conn.send(encode_command("PING"))
        assert reader.reply() == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    info = redis.Redis(port=proxy.port).info("stats")
    assert info["pubsub_resubscribes"] >= 1
    assert "subscribed again to 1 channels, 1 patterns" in proxy.log_text()


def test_subscriber_that_does_not_read_is_disconnected(procs):
    (server,) = procs.redis(1)
    # Only the proxy's limit is under test: the backend must not close the proxy's connection
    # first (its own pubsub limit is also 32 MB).
    server.client().config_set("client-output-buffer-limit", "pubsub 0 0 0")
    proxy = procs.proxy(pools=[pool_config([server])], cls=Switchyard)
    slow = socket.create_connection(("127.0.0.1", proxy.port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sendall(encode_command("SUBSCRIBE", "firehose"))
    publisher = redis.Redis(port=proxy.port, socket_timeout=10)
    wait_until(lambda: publisher.publish("firehose", "x") == 1, "the subscription")
    rss_before = rss_bytes(proxy.pid)
    payload = b"m" * 100_000
    delivered_to = []
    for _ in range(1500):  # up to 150 MB: past the 32 MiB limit and the sockets' buffers
        delivered_to.append(publisher.publish("firehose", payload))
        if delivered_to[-1] == 0:
            break
    assert delivered_to[-1] == 0, "the subscriber was never disconnected"
    wait_until(lambda: "output limit" in proxy.log_text(), "the log line: " + proxy.log_text())
    assert "subscription connection" not in proxy.log_text(), proxy.log_text()
    assert rss_bytes(proxy.pid) - rss_before < 64 * 1024 * 1024
    slow.close()
    # The proxy carries on for everybody else.
    assert publisher.ping()


def test_pubsub_numbers_in_a_single_server_pool(procs):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server])], cls=Switchyard)
    client = proxy.client()
    with RawConn(proxy.port) as a, RawConn(proxy.port) as b:
        ra, rb = ReplyReader(a.sock), ReplyReader(b.sock)
        a.send(encode_command("SUBSCRIBE", "x", "y"))
        ra.reply(), ra.reply()
        b.send(encode_command("PSUBSCRIBE", "p*"))
        rb.reply()
        assert sorted(client.pubsub_channels()) == [b"x", b"y"]
        assert client.pubsub_numsub("x", "z") == [(b"x", 1), (b"z", 0)]
        assert client.pubsub_numpat() == 1
    wait_until(lambda: client.pubsub_numpat() == 0 and client.pubsub_channels() == [],
               "the subscriptions to end with their clients")


def test_many_subscribers_leave_no_connections_behind(procs):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server])], cls=Switchyard)
    client = proxy.client()
    for _ in range(3):
        conns = [RawConn(proxy.port) for _ in range(50)]
        for conn in conns:
            conn.send(encode_command("SUBSCRIBE", "storm"))
        for conn in conns:
            ReplyReader(conn.sock).reply()
        assert client.publish("storm", "x") == 50
        for conn in conns:
            conn.close()
        wait_until(lambda: client.publish("storm", "x") == 0, "the subscribers to go")
    backend_clients = server.client().client_list()
    assert len(backend_clients) < 20, backend_clients
    time.sleep(0.1)
