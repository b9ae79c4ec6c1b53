"""Subscribers through a Sentinel-managed group (1 master, 1 replica, 3 Sentinels) stay
subscribed across a graceful failover: the proxy subscribes again on the new master, says so
in its log and counts it, and messages published after the failover reach them, with no
confirmation shown twice. Also with a role-probed group (no Sentinel), and for a RESP3
subscriber (HELLO 3), whose messages are push replies.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import RawConn, Switchyard, encode_command, wait_until  # noqa: E402
from harness import ReplyReader  # noqa: E402
from test_resp3 import check_hello  # noqa: E402
from topology import topology_fixture  # noqa: E402


topo = topology_fixture("pubsub-failover", replicas=1)


@pytest.fixture(scope="module", params=[False, True], ids=["sentinel", "role-probed"])
def proxy(request, topo, module_procs):
    return module_procs.proxy(
        pools=[topo.proxy_pool(role_probed=request.param, read_from="prefer_replica",
                               timeout=1000)], cls=Switchyard)


def message(channel: bytes, payload: bytes, head: bytes = b"*") -> bytes:
    """A message as Redis frames it: an array (RESP2) or a push (head b">", RESP3)."""
    return head + b"3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
        len(channel), channel, len(payload), payload)


def fail_over(topo, client: redis.Redis, channel: str, payload: str) -> None:
    """A graceful failover of g0, then until a PUBLISH through the proxy reaches the one
    subscriber again (publishes before the proxy subscribed on the new master reach nobody)."""
    old = topo.master_of("g0")
    topo.failover("g0")
    topo.wait_failover("g0", old.port)
    topo.wait_proxy_sees(client, "g0")
    assert topo.master_of("g0").port != old.port
    wait_until(lambda: client.publish(channel, payload) == 1, "the subscription to follow",
               timeout_s=30)


@pytest.mark.parametrize("protocol", [2, 3], ids=["resp2", "resp3"])
def test_subscribers_follow_a_failover(topo, proxy, protocol):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    resubscribed_before = client.info("stats")["pubsub_resubscribes"]
    head = b">" if protocol == 3 else b"*"
    with RawConn(proxy.port, timeout=60) as conn:
        reader = ReplyReader(conn.sock)
        if protocol == 3:
            conn.send(encode_command("HELLO", "3"))
            check_hello(reader.reply(), 3)
        conn.send(encode_command("SUBSCRIBE", "orders", "audit")
                  + encode_command("PSUBSCRIBE", "order*"))
        confirmations = [reader.reply() for _ in range(3)]
        assert confirmations[-1] == head + b"3\r\n$10\r\npsubscribe\r\n$6\r\norder*\r\n:3\r\n"
        assert client.publish("audit", "before") == 1
        assert reader.reply() == message(b"audit", b"before", head)

        fail_over(topo, client, "audit", "after")
        frames = [reader.reply()]
        while frames[-1] != message(b"audit", b"after", head):
            frames.append(reader.reply())
        assert all(b"subscribe" not in frame for frame in frames), frames
        assert client.publish("orders", "o1") == 2  # the channel and the pattern
        assert reader.reply() == message(b"orders", b"o1", head)
        assert reader.reply() == (head + b"4\r\n$8\r\npmessage\r\n$6\r\norder*\r\n"
                                  b"$6\r\norders\r\n$2\r\no1\r\n")
        numsub = topo.master_of("g0").client().execute_command("PUBSUB", "NUMSUB", "orders", "audit")
        assert numsub == [b"orders", 1, b"audit", 1]
        conn.send(encode_command("UNSUBSCRIBE") + encode_command("PUNSUBSCRIBE"))
        assert [reader.reply() for _ in range(3)][-1].endswith(b":0\r\n")
    assert client.info("stats")["pubsub_resubscribes"] > resubscribed_before
    assert "subscribed again to 2 channels, 1 patterns" in proxy.log_text()


def test_redis_py_subscriber_across_a_failover(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe("events")
    wait_until(lambda: client.publish("events", "first") == 1, "the subscription")
    got = []

    def until(payload: bytes):
        def check():
            item = pubsub.get_message(timeout=0.2)
            if item:
                got.append(item["data"])
            return payload in got
        return check

    wait_until(until(b"first"), "the first message")
    fail_over(topo, client, "events", "second")
    wait_until(until(b"second"), "a message after the failover")
    pubsub.close()
    with pytest.raises(redis.ResponseError, match="only .P.S.SUBSCRIBE"):
        with RawConn(proxy.port) as conn:
            conn.command("SUBSCRIBE", "x")
            raise redis.ResponseError(conn.command("GET", "k").decode())
