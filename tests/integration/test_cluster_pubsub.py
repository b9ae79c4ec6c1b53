"""Pub/Sub through a `cluster: true` pool while slots move and masters change.

A shard channel lives on its slot's master. A Redis Cluster node takes the shard channels of
one slot per SSUBSCRIBE (CROSSSLOT otherwise), and a node that loses a slot drops its
subscribers from that slot's channels with an unsolicited "sunsubscribe". Through the proxy a
client subscribes to any mix of channels at once, as on one Redis, and stays subscribed while
the slot moves: after a hand migration, the shard channel's messages reach it again within
seconds, each once, also through a proxy whose periodic table refresh is 10 minutes away.
Plain channels and patterns keep working as Cluster propagates PUBLISH to every node.
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster_topology import cluster_fixture, key_slot  # noqa: E402
from harness import HOST, Pool, ReplyReader, Switchyard, encode_command  # noqa: E402

FOLLOW_TIMEOUT_S = 15.0

cluster = cluster_fixture("cluster-pubsub", masters=2, replicas=1)


def decode(frame: bytes) -> list:
    """A flat RESP2 array or RESP3 push of bulks, integers and nulls, as a list."""
    lines = frame.split(b"\r\n")
    assert lines[0][:1] in (b"*", b">"), f"not a message or confirmation: {frame!r}"
    out, i = [], 1
    while len(out) < int(lines[0][1:]):
        kind, rest = lines[i][:1], lines[i][1:]
        if kind == b"$" and int(rest) >= 0:
            out.append(lines[i + 1])
            i += 2
        else:
            out.append(int(rest) if kind == b":" else None)
            i += 1
    return out


class Subscriber:
    """One client connection in Redis's subscribed state, read frame by frame."""

    def __init__(self, port: int, protocol: int = 2):
        self.sock = socket.create_connection((HOST, port), timeout=10)
        self.reader = ReplyReader(self.sock)
        if protocol == 3:
            self.sock.sendall(encode_command("HELLO", "3"))
            self.reader.reply()

    def request(self, *args: str, confirmations: int) -> list[list]:
        self.sock.sendall(encode_command(*args))
        return [decode(self.reader.reply()) for _ in range(confirmations)]

    def messages(self, within_s: float) -> list[tuple[bytes, bytes]]:
        """(channel, payload) of every message that arrives within `within_s`."""
        got, deadline = [], time.monotonic() + within_s
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                frame = decode(self.reader.reply())
            except socket.timeout:
                break
            assert frame[0] in (b"message", b"smessage", b"pmessage"), frame
            got.append((frame[-2], frame[-1]))
        return got

    def close(self) -> None:
        self.sock.close()


def channels_on(cluster, master, count: int, prefix: str) -> list[str]:
    """`count` channel names in different slots, all served by `master`."""
    owners = cluster.slot_owners()
    names, slots = [], set()
    for i in range(100000):
        name, slot = f"{prefix}{i}", key_slot(f"{prefix}{i}")
        if owners[slot] == master.addr and slot not in slots:
            names.append(name)
            slots.add(slot)
            if len(names) == count:
                return names
    raise AssertionError(f"no {count} channels on {master.addr}")


@pytest.fixture(scope="module")
def proxies(cluster, module_procs):
    """A proxy with the default table refresh, and one that only refreshes on demand."""
    started = []
    for refresh_ms in (1000, 600000):
        pool = Pool(servers=[cluster.seeds()[0]],
                    extra={"cluster": "true", "cluster_refresh_interval": str(refresh_ms)})
        started.append(module_procs.proxy(pools=[pool], cls=Switchyard))
    return started


def spublish_until_heard(client, subscriber: Subscriber, channel: str) -> float:
    """SPUBLISH through the proxy until the subscriber hears one; the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < FOLLOW_TIMEOUT_S:
        payload = f"probe-{time.monotonic()}"
        client.execute_command("SPUBLISH", channel, payload)
        if (channel.encode(), payload.encode()) in subscriber.messages(0.2):
            return time.monotonic() - start
    raise AssertionError(f"no message on shard channel {channel} within {FOLLOW_TIMEOUT_S}s")


def test_channels_of_many_slots_in_one_request(cluster, proxies):
    first, second = cluster.masters()[:2]
    shard = channels_on(cluster, first, 2, "s:") + channels_on(cluster, second, 1, "s:")
    client = proxies[0].client()
    subscriber = Subscriber(proxies[0].port)
    try:
        confirmations = subscriber.request("SSUBSCRIBE", *shard, confirmations=3)
        assert confirmations == [[b"ssubscribe", c.encode(), n + 1] for n, c in enumerate(shard)]
        assert subscriber.request("SUBSCRIBE", "plain", confirmations=1) == \
            [[b"subscribe", b"plain", 1]]
        assert subscriber.request("PSUBSCRIBE", "pat.*", confirmations=1) == \
            [[b"psubscribe", b"pat.*", 2]]
        for n, channel in enumerate(shard):
            assert client.execute_command("SPUBLISH", channel, f"m{n}") == 1
        assert client.publish("plain", "p") == 1
        client.publish("pat.x", "q")  # counts the receivers of one node, as in Redis Cluster
        heard = subscriber.messages(1.0)
        assert sorted(heard) == sorted([(c.encode(), f"m{n}".encode())
                                        for n, c in enumerate(shard)] +
                                       [(b"plain", b"p"), (b"pat.x", b"q")])
        assert subscriber.request("SUNSUBSCRIBE", shard[0], shard[1], confirmations=2) == \
            [[b"sunsubscribe", shard[0].encode(), 2], [b"sunsubscribe", shard[1].encode(), 1]]
        assert client.execute_command("SPUBLISH", shard[0], "gone") == 0
        assert client.execute_command("SPUBLISH", shard[2], "still") == 1
        assert subscriber.messages(0.5) == [(shard[2].encode(), b"still")]
    finally:
        subscriber.close()


@pytest.mark.parametrize("protocol", [2, 3], ids=["resp2", "resp3"])
def test_shard_channel_follows_its_slot(cluster, proxies, protocol):
    source, target = cluster.masters()[:2]
    moving, staying = channels_on(cluster, source, 2, f"move{protocol}:")
    subscribers = [Subscriber(proxy.port, protocol) for proxy in proxies]
    clients = [proxy.client() for proxy in proxies]
    try:
        for subscriber in subscribers:
            subscriber.request("SSUBSCRIBE", moving, staying, confirmations=2)
            subscriber.request("SUBSCRIBE", "plain", confirmations=1)
        cluster.migrate_slot(key_slot(moving), target)
        for subscriber, client, refresh in zip(subscribers, clients, ("1 s", "10 min")):
            took = spublish_until_heard(client, subscriber, moving)
            print(f"resp{protocol}, table refresh every {refresh}: shard channel heard again "
                  f"{took:.2f}s after the move")
        for subscriber in subscribers:
            subscriber.messages(0.3)  # probes sent before the one heard
        for n in range(20):
            for client in clients:
                assert client.execute_command("SPUBLISH", moving, f"after{n}") == 2
                assert client.execute_command("SPUBLISH", staying, f"kept{n}") == 2
        clients[0].publish("plain", "p")
        for subscriber in subscribers:
            heard = subscriber.messages(1.0)
            assert [m for c, m in heard if c == moving.encode()] == \
                [f"after{n}".encode() for n in range(20) for _ in clients]
            assert [m for c, m in heard if c == staying.encode()] == \
                [f"kept{n}".encode() for n in range(20) for _ in clients]
            assert heard.count((b"plain", b"p")) == 1
        assert cluster.owner_of_slot(key_slot(moving)) is target
    finally:
        for subscriber in subscribers:
            subscriber.close()


def test_shard_channels_follow_a_failover(cluster, proxies):
    master = cluster.masters()[0]
    channel = channels_on(cluster, master, 1, "fail:")[0]
    subscriber = Subscriber(proxies[0].port)
    client = proxies[0].client()
    try:
        subscriber.request("SSUBSCRIBE", channel, confirmations=1)
        cluster.manual_failover(cluster.replicas_of(master)[0])
        took = spublish_until_heard(client, subscriber, channel)
        print(f"shard channel heard again {took:.2f}s after the failover")
        subscriber.messages(0.3)
        assert client.execute_command("SPUBLISH", channel, "last") == 1
        assert subscriber.messages(0.5) == [(channel.encode(), b"last")]
    finally:
        subscriber.close()
