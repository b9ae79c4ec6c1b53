"""Replica reads from a Redis Cluster: a replica that falls behind its master gets no reads.

A cluster whose node timeout (15 s) outlasts the stall, so that the cluster itself still
calls the replica online: only its master's INFO replication (seconds since the replica's
last acknowledgement) tells the proxy that it lags. With `read_from: prefer_replica` and
`replica_max_lag: 1`, the shard's reads go to its master while its replica sleeps, and back
to the replica once it has caught up.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster_topology import cluster_fixture, key_slot  # noqa: E402
from harness import Pool, Switchyard, wait_until  # noqa: E402
from topology import proxy_groups  # noqa: E402

STALL_S = 6

cluster = cluster_fixture("cluster-replicas", masters=3, replicas=1, node_timeout_ms=15000)


def replica_health(client, replica_addr: str) -> str:
    for group in proxy_groups(client, "lagging").values():
        for node in group.nodes:
            if node["addr"] == replica_addr:
                return node["health"]
    return "absent"


def test_a_lagging_replica_gets_no_reads_until_it_catches_up(cluster, module_procs):
    pool = Pool(servers=[cluster.seeds()[0]], name="lagging",
                extra={"cluster": "true", "read_from": "prefer_replica", "replica_max_lag": "1"})
    proxy = module_procs.proxy(pools=[pool], cls=Switchyard)
    client = proxy.client(socket_timeout=2)
    master = cluster.masters()[0]
    replica = cluster.replicas_of(master)[0]
    keys = [f"lag:{i}" for i in range(2000) if cluster.owner_of_slot(key_slot(f"lag:{i}")) is master]
    keys = keys[:50]
    client.mset({key: "v" for key in keys})
    wait_until(lambda: replica_health(client, replica.addr) == "healthy", "replica healthy")

    stalled = threading.Thread(
        target=lambda: replica.client(socket_timeout=STALL_S + 10).execute_command(
            "DEBUG", "SLEEP", STALL_S), daemon=True)
    stalled_at = time.monotonic()
    stalled.start()
    wait_until(lambda: replica_health(client, replica.addr) == "lagging", "replica lagging",
               timeout_s=STALL_S - 1)
    assert time.monotonic() - stalled_at < STALL_S - 1, "the stall ended before the check"
    master_gets = master.calls("get")
    for key in keys:  # with a 2 s socket timeout: none may wait for the sleeping replica
        assert client.get(key) == b"v", key
    assert master.calls("get") - master_gets == len(keys), "reads did not go to the master"
    stalled.join(timeout=STALL_S + 10)

    wait_until(lambda: replica_health(client, replica.addr) == "healthy", "replica healthy again")
    replica_gets = replica.calls("get")
    for key in keys:
        assert client.get(key) == b"v", key
    assert replica.calls("get") - replica_gets == len(keys), "reads did not go back to the replica"
