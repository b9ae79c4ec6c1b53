"""Blocking commands and transactions across failovers of a Sentinel-managed group (1 master,
1 replica, 3 Sentinels). A client blocked on the old master stays blocked: the proxy sends
its command again to the new master with the time that is left (nothing was popped: the old
connection closed, or the node answered UNBLOCKED, before any reply). A transaction or a
block that starts while the master is being switched waits for the new master, as a write
does, instead of failing.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Load, Switchyard, wait_until  # noqa: E402
from topology import topology_fixture  # noqa: E402


topo = topology_fixture("block-failover", replicas=1)


@pytest.fixture(scope="module")
def proxy(topo, module_procs):
    return module_procs.proxy(pools=[topo.proxy_pool(failover_wait=15000)], cls=Switchyard)


class Blocked:
    """One blocking call on its own connection, from a thread: its reply (or error) and how
    long it took."""

    def __init__(self, proxy, *args):
        self.client = proxy.client(socket_timeout=60)
        self.args = args
        self.reply = None
        self.error = None
        self.elapsed = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        started = time.monotonic()
        try:
            self.reply = self.client.execute_command(*self.args)
        except redis.RedisError as err:
            self.error = err
        self.elapsed = time.monotonic() - started

    def result(self, timeout_s: float = 30.0):
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), f"{self.args[0]} still blocked"
        assert self.error is None, self.error
        return self.reply


def blocked_clients(node) -> int:
    return node.client().info("clients")["blocked_clients"]


def resends(client) -> int:
    return client.info("stats")["blocked_resends"]


def fail_over(topo, client, kill: bool = False):
    old = topo.master_of("g0")
    if kill:
        topo.kill_node(old.port)
    else:
        topo.failover("g0")
    new = topo.wait_failover("g0", old.port)
    topo.wait_proxy_sees(client, "g0")
    return old, new


def test_a_blocked_pop_stays_blocked_across_a_failover(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    before = resends(client)
    old = topo.master_of("g0")
    pop = Blocked(proxy, "BLPOP", "bf:queue", "0")
    wait_until(lambda: blocked_clients(old) == 1, "BLPOP to block on the master")
    old, new = fail_over(topo, client)
    wait_until(lambda: blocked_clients(new) == 1, "BLPOP to block on the new master")
    assert client.rpush("bf:queue", "after") == 1
    assert pop.result() == (b"bf:queue", b"after")
    assert resends(client) == before + 1
    assert new.client().llen("bf:queue") == 0
    assert "sent again to the new master of g0" in proxy.log_text()


def test_a_block_keeps_its_own_timeout_across_a_failover(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    old = topo.master_of("g0")
    timeout_s = 8
    pop = Blocked(proxy, "BZPOPMIN", "bf:zset", str(timeout_s))
    wait_until(lambda: blocked_clients(old) == 1, "BZPOPMIN to block on the master")
    fail_over(topo, client)
    assert pop.result(timeout_s + 10) is None  # the node's own timeout reply
    assert timeout_s - 0.5 <= pop.elapsed <= timeout_s + 2, pop.elapsed


def test_a_stream_read_survives_its_master_being_killed(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    client.xadd("bf:stream", {"n": "0"}, id="1-0")
    topo.wait_replicas_linked("g0")
    old = topo.master_of("g0")
    read = Blocked(proxy, "XREAD", "BLOCK", "0", "STREAMS", "bf:stream", "1-0")
    wait_until(lambda: blocked_clients(old) == 1, "XREAD to block on the master")
    old, new = fail_over(topo, client, kill=True)
    wait_until(lambda: blocked_clients(new) == 1, "XREAD to block on the new master",
               timeout_s=30)
    client.xadd("bf:stream", {"n": "1"}, id="2-0")
    assert read.result() == [[b"bf:stream", [(b"2-0", {b"n": b"1"})]]]
    topo.restart_node(old.port)  # back as a replica, for the tests that follow
    topo.wait_proxy_sees(client, "g0", timeout_s=60)


def transaction(client: redis.Redis, index: int):
    pipe = client.pipeline()  # MULTI ... EXEC
    pipe.incr("bf:counter").rpush("bf:done", index)
    pipe.execute()


def short_block(client: redis.Redis, index: int):
    client.blpop(["bf:nothing"], timeout=0.05)


def new_subscription(client: redis.Redis, index: int):
    subscriber = client.pubsub()
    try:
        subscriber.subscribe(f"bf:channel:{index}")
        confirmation = subscriber.get_message(timeout=10)
        assert confirmation and confirmation["type"] == "subscribe", confirmation
    finally:
        subscriber.close()


def test_transactions_blocks_and_subscriptions_wait_for_the_new_master(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    client.delete("bf:counter", "bf:done")
    loads = [Load(proxy.client(socket_timeout=30), transaction).start(),
             Load(proxy.client(socket_timeout=30), short_block).start(),
             Load(proxy.client(socket_timeout=30), new_subscription).start()]
    loads[0].wait_successes(50, time.monotonic() - 60, "transactions before the failover")
    old, new = fail_over(topo, client)
    switched = time.monotonic()
    for load in loads:
        load.wait_successes(50, switched, "transactions, blocks, subscriptions after it")
    outcomes = [load.stop() for load in loads]
    errors = [o.error for load_outcomes in outcomes for o in load_outcomes if not o.ok]
    assert errors == []
    done = sum(1 for o in outcomes[0] if o.ok)
    assert int(new.client().get("bf:counter")) == done
    assert new.client().llen("bf:done") == done
