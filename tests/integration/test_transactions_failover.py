"""Transactions and blocking commands through a Sentinel-managed group (1 master, 1 replica,
3 Sentinels). A transaction is pinned to the master's private connection: a failover in the
middle of it aborts it with an error, and nothing queued ever runs on a node that is not
master; after the failover new transactions run on the new master.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (ErrorReply, RawConn, Switchyard, wait_until,  # noqa: E402
                     watch_increments)
from topology import topology_fixture  # noqa: E402


topo = topology_fixture("txn-failover", replicas=1)


@pytest.fixture(scope="module")
def proxy(topo, module_procs):
    return module_procs.proxy(pools=[topo.proxy_pool(read_from="prefer_replica")],
                              cls=Switchyard)


def test_transactions_run_on_the_master(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    pipe = client.pipeline()
    pipe.set("txn:a", 1).incr("txn:a").get("txn:a")
    assert pipe.execute() == [True, 2, b"2"]
    master = topo.master_of("g0")
    assert master.client().get("txn:a") == b"2"
    assert master.calls("exec") >= 1
    for replica in topo.replicas_of("g0"):
        assert replica.rejected_calls("exec") == 0


def test_failover_in_the_middle_aborts_the_transaction(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    old = topo.master_of("g0")
    with RawConn(proxy.port, timeout=30) as txn, RawConn(proxy.port, timeout=30) as watcher:
        assert txn.command("MULTI") == b"OK"
        assert txn.command("SET", "txn:lost", "queued-before-failover") == b"QUEUED"
        assert watcher.command("WATCH", "txn:watched") == b"OK"
        topo.failover("g0")
        new = topo.wait_failover("g0", old.port)
        topo.wait_proxy_sees(client, "g0")
        # Queued after the master changed: refused; EXEC aborts, nothing ran anywhere.
        reply = txn.command("SET", "txn:lost", "queued-after-failover")
        assert isinstance(reply, ErrorReply), reply
        reply = txn.command("EXEC")
        assert isinstance(reply, ErrorReply) and reply.startswith(b"EXECABORT"), reply
        for node in (old, new):
            assert node.client().get("txn:lost") is None
        # WATCH across the failover: the watched key may have changed, so EXEC answers nil.
        assert watcher.command("MULTI") == b"OK"
        assert watcher.command("SET", "txn:watched", "1") == b"QUEUED"
        assert watcher.command("EXEC") is None
        assert new.client().get("txn:watched") is None
        # The sessions go on, now pinned to the new master.
        assert txn.command("MULTI") == b"OK"
        assert txn.command("SET", "txn:after", "1") == b"QUEUED"
        assert txn.command("EXEC") == [b"OK"]
    assert new.client().get("txn:after") == b"1"


def transaction_runs(client) -> bool:
    try:
        pipe = client.pipeline()
        pipe.incr("txn:probe")
        pipe.execute()
        return True
    except redis.RedisError:
        return False


def test_watch_loop_and_blocking_pop_after_failover(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    # Settled: a transaction runs on the new master (one started while the proxy still
    # suspected the old master would have waited for it).
    wait_until(lambda: transaction_runs(client), "a transaction to run after the failover",
               timeout_s=10)
    assert watch_increments(proxy, "txn:counter", clients=3, rounds=30) == []
    assert int(client.get("txn:counter")) == 90

    client.rpush("txn:queue", "job")
    assert client.blpop(["txn:queue"], timeout=1) == (b"txn:queue", b"job")
    assert client.blpop(["txn:queue"], timeout=1) is None
