"""Role-probed groups: several `servers` lines with one name and no Sentinel.

Three plain nodes (1 master + 2 replicas by --replicaof) are one group; the proxy finds the
master by probing ROLE every `role_probe_interval` (500 ms here) and sends writes only there.
The tests run in file order on one group: writes on the master, two nodes claiming master
(writes refused, reads served) and back, then a clean switch of master that writes follow.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (HOST, Load, Outcome, Switchyard, acknowledged,  # noqa: E402
                     describe_errors, longest_gap, read_op, seed_keys, values_absent,
                     wait_until, write_op)
from topology import topology_fixture, wait_proxy_group  # noqa: E402

PROBE_S = 0.5
# The proxy must notice a change of ROLE within two probes; the rest is for a busy machine.
NOTICE_BOUND_S = 2 * PROBE_S + 1.0
CLAIM = "claim master"


topo = topology_fixture("role-groups", sentinels=0)


@pytest.fixture(scope="module")
def proxy(topo, module_procs):
    pool = topo.proxy_pool(role_probed=True, read_from="replica",
                           role_probe_interval=int(PROBE_S * 1000))
    return module_procs.proxy(pools=[pool], cls=Switchyard)


def replicaof(node, master=None) -> None:
    """REPLICAOF on node: of `master`, or NO ONE."""
    args = ("NO", "ONE") if master is None else (HOST, master.port)
    node.client().execute_command("REPLICAOF", *args)


def wait_refusal(writes: Load, since: float) -> Outcome:
    """The first write sent after `since` refused for two claimed masters (waits for one)."""
    def first():
        return next((o for o in writes.outcomes()
                     if o.sent > since and not o.ok and CLAIM in o.error), None)

    return wait_until(first, f"a write refused with '{CLAIM}'", timeout_s=10)


def test_writes_on_the_master_reads_on_replicas(topo, proxy):
    client = proxy.client()
    group = topo.wait_proxy_sees(client, "g0")
    assert group.fields["replicas"] == 2, group.fields
    master, replicas = topo.master_of("g0"), topo.replicas_of("g0")
    sets = master.calls("set")
    gets = [node.calls("get") for node in replicas]
    values = seed_keys(client, master, 100, 2, "plain")
    assert master.calls("set") - sets == 100
    assert [node.rejected_calls("set") for node in replicas] == [0, 0]
    for key, value in values.items():
        assert client.get(key) == value.encode()
    assert sum(node.calls("get") for node in replicas) - sum(gets) == 100


def test_two_masters_refuse_writes_reads_go_on(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    master, (rogue, _) = topo.master_of("g0"), topo.replicas_of("g0")
    values = seed_keys(client, master, 20, 2, "split-read")
    writes = Load(proxy.client(), write_op("split")).start()
    reads = Load(proxy.client(), read_op(values)).start()
    try:
        writes.wait_successes(100, 0.0, "writes before the split")
        split_at = time.monotonic()
        replicaof(rogue)
        wait_proxy_group(client, "g0", lambda g: g.fields["writes"] != "open",
                         "writes closed while two nodes claim master", timeout_s=10)
        refused = wait_refusal(writes, split_at)
        time.sleep(1.0)  # refused for as long as both claim master
        healed_at = time.monotonic()
        replicaof(rogue, master)
        writes.wait_successes(200, healed_at + NOTICE_BOUND_S, "writes after the heal")
    finally:
        write_outcomes, read_outcomes = writes.stop(), reads.stop()
    noticed = refused.answered - split_at
    resumed = min(o.answered for o in write_outcomes if o.ok and o.sent > healed_at) - healed_at
    print(f"CLAIM MASTER refused after {noticed * 1000:.0f}ms, writes back "
          f"{resumed * 1000:.0f}ms after the heal")
    assert noticed <= NOTICE_BOUND_S, f"writes refused only {noticed:.2f}s after the split"
    assert resumed <= NOTICE_BOUND_S, f"writes back only {resumed:.2f}s after the heal"
    failed_reads = [o for o in read_outcomes if not o.ok]
    assert not failed_reads, f"reads failed: {describe_errors(failed_reads)}"
    other = [o for o in write_outcomes if not o.ok and CLAIM not in o.error]
    assert not other, f"writes failed otherwise than by '{CLAIM}': {describe_errors(other)}"
    late = [o for o in write_outcomes if not o.ok and o.sent > healed_at + NOTICE_BOUND_S]
    assert not late, describe_errors(late)
    # Nothing was written to the rogue: every acknowledged write is on the real master.
    assert not values_absent(master, acknowledged(write_outcomes, "split"))


def test_clean_switch_writes_follow(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    old, (new, other) = topo.master_of("g0"), topo.replicas_of("g0")
    writes = Load(proxy.client(), write_op("switch")).start()
    try:
        writes.wait_successes(100, 0.0, "writes before the switch")
        switched_at = time.monotonic()
        replicaof(new)
        replicaof(old, new)
        replicaof(other, new)
        wait_proxy_group(client, "g0", lambda g: g.master == new.addr and g.confirmed
                         and g.fields["writes"] == "open", f"writes open on {new.addr}",
                         timeout_s=10)
        followed_at = time.monotonic()
        rejected = old.rejected_calls("set")
        writes.wait_successes(300, followed_at, "writes after the switch")
    finally:
        outcomes = writes.stop()
    failed = [o for o in outcomes if not o.ok]
    print(f"ROLE SWITCH followed {(followed_at - switched_at) * 1000:.0f}ms, write "
          f"window={longest_gap(outcomes) * 1000:.0f}ms errors={len(failed)} "
          f"({describe_errors(failed)})")
    assert followed_at - switched_at <= NOTICE_BOUND_S
    late = [o for o in failed if o.sent > followed_at]
    assert not late, f"writes failed after the switch was followed: {describe_errors(late)}"
    assert old.rejected_calls("set") == rejected, "writes went on to the demoted master"
    assert not values_absent(new, acknowledged([o for o in outcomes if o.sent > followed_at],
                                               "switch"))
