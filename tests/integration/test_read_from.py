"""read_from: reads on replicas, writes on the master, judged by each node's own commandstats.

One Sentinel-managed group (1 master + 2 replicas, 3 Sentinels) behind a pool with
`read_from: replica` for the module; the tests run in file order (spread, then a stopped
replica). A role-probed group of ten replicas checks that the spread scales. The config
errors of the new keys are in test_cli.py.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (Load, Switchyard, describe_errors, read_all, read_op,  # noqa: E402
                     seed_keys)
from topology import Topology, topology_fixture  # noqa: E402

READS = 1200
# A stalled replica: its in-flight reads end by the pool's `timeout` (1 s), and the proxy's
# health probe (about a second apart, with its own timeout) takes it out of the read set.
# Errors may come until then, with slack for a busy machine; never after.
STALLED_REPLICA_BOUND_S = 5.0


topo = topology_fixture("read-from")


@pytest.fixture(scope="module")
def proxy(topo, module_procs):
    return module_procs.proxy(pools=[topo.proxy_pool(read_from="replica", timeout=1000)],
                              cls=Switchyard)


def calls(nodes, command: str) -> list[int]:
    return [node.calls(command) for node in nodes]


def assert_spread(master, replicas, before, reads: int, min_share: float) -> list[float]:
    """Replicas served >= 95% of `reads` GETs and each at least min_share; returns the shares."""
    after = calls([master, *replicas], "get")
    delta = [a - b for a, b in zip(after, before)]
    total = sum(delta)
    assert total >= reads, f"{total} GETs reached the nodes for {reads} sent: {delta}"
    shares = [d / total for d in delta[1:]]
    assert sum(delta[1:]) >= 0.95 * total, \
        f"replicas served {sum(delta[1:])} of {total} GETs (master {delta[0]})"
    assert min(shares) >= min_share, f"replica shares {shares} (GETs per node {delta})"
    return shares


def test_reads_on_replicas_writes_on_master(topo, proxy):
    client = proxy.client()
    group = topo.wait_proxy_sees(client, "g0")
    assert group.fields["read_from"] == "replica", group.fields
    assert group.fields["sentinels"] == 3 and group.fields["reachable_sentinels"] == 3, \
        group.fields
    master, replicas = topo.master_of("g0"), topo.replicas_of("g0")
    sets_before = master.calls("set")
    values = seed_keys(client, master, 100, len(replicas), "spread")
    assert master.calls("set") - sets_before == 100, "every SET must reach the master"
    before = calls([master, *replicas], "get")
    read_all(client, values, READS)
    shares = assert_spread(master, replicas, before, READS, min_share=0.20)
    print(f"READ SPREAD replicas={len(replicas)} shares={[round(s, 3) for s in shares]}")


def test_stalled_replica_loses_reads_then_gets_them_back(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    master, (victim, other) = topo.master_of("g0"), topo.replicas_of("g0")
    values = seed_keys(client, master, 20, 2, "stall")
    load = Load(proxy.client(), read_op(values), pace_s=0.001).start()
    stopped_at = time.monotonic()
    os.kill(victim.pid, signal.SIGSTOP)
    try:
        load.wait_successes(200, stopped_at + STALLED_REPLICA_BOUND_S,
                            "reads succeeding after the bound", timeout_s=30)
        master_gets, other_gets = master.calls("get"), other.calls("get")
        load.wait_successes(500, stopped_at + STALLED_REPLICA_BOUND_S,
                            "more reads after the bound", timeout_s=30)
        outcomes = load.stop()
        assert other.calls("get") - other_gets >= 250, "the running replica took the reads"
        assert master.calls("get") == master_gets, "read_from: replica sent reads to the master"
    finally:
        os.kill(victim.pid, signal.SIGCONT)
        load.stop()
    late = [o for o in outcomes if not o.ok and o.sent > stopped_at + STALLED_REPLICA_BOUND_S]
    assert not late, f"reads failed after the bound: {describe_errors(late)}"
    failed = [o for o in outcomes if not o.ok]
    last_error = max((o.answered - stopped_at for o in failed), default=0.0)
    slowest = max(o.latency for o in outcomes if o.sent >= stopped_at)
    print(f"STALLED REPLICA errors={len(failed)} last_error_after={last_error * 1000:.0f}ms "
          f"slowest_read={slowest * 1000:.0f}ms ({describe_errors(failed)})")

    # Back: healthy again, and it takes its share of the reads once more.
    topo.wait_proxy_sees(client, "g0")
    before = calls([master, victim, other], "get")
    read_all(client, values, READS)
    assert_spread(master, [victim, other], before, READS, min_share=0.20)


def test_ten_replicas_share_reads(procs, tmp_path):
    """A role-probed group (no Sentinel) of one master and ten replicas."""
    with Topology(tmp_path, groups=1, replicas=10, sentinels=0) as topo:
        pool = topo.proxy_pool(role_probed=True, read_from="replica", role_probe_interval=500)
        proxy = procs.proxy(pools=[pool], cls=Switchyard)
        client = proxy.client()
        topo.wait_proxy_sees(client, "g0")
        master, replicas = topo.master_of("g0"), topo.replicas_of("g0")
        values = seed_keys(client, master, 50, len(replicas), "ten")
        before = calls([master, *replicas], "get")
        read_all(client, values, 2000)
        shares = assert_spread(master, replicas, before, 2000, min_share=0.05)
        print(f"READ SPREAD replicas={len(replicas)} shares={[round(s, 3) for s in shares]}")
