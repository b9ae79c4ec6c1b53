"""Sentinel-managed groups through the proxy while masters change under load.

One group (1 master + 2 replicas) and 3 Sentinels (down-after 1000 ms, failover-timeout
3000 ms) for the module, behind a pool with `read_from: prefer_replica` and the default
`failover_wait` (5000 ms). The tests run in file order, each starting from the state the
previous one left: kill -9 of the master under write load, the killed master back as a
replica, SENTINEL FAILOVER under reads and writes, one Sentinel killed, every Sentinel killed,
then the master killed with no Sentinel left (writes refused with TRYAGAIN; reads are not
checked there: with the master gone every replica's link is down, which takes it out of the
read set).

Writes are judged by the nodes themselves (GET on the new master, commandstats), and every
measured window is printed (run pytest with -s to see them).

A replica counts the SETs replicated to it in its own commandstats, so "no write reached a
replica" is judged by the SETs it rejected (rejected_calls) and, while a node still claims
master after a restart, by its SET calls.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (Load, Outcome, Switchyard, acknowledged, describe_errors,  # noqa: E402
                     longest_gap, read_all, read_op, seed_keys, values_absent, write_op)
from topology import role_of, topology_fixture, wait_proxy_group  # noqa: E402

FAILOVER_WAIT_S = 5.0  # the default failover_wait
# How long after Sentinel's +switch-master the proxy may take to send writes to the new master.
FOLLOW_BOUND_S = 1.0
# With kill -9, writes the old master acknowledged just before it died may not have reached
# any replica (asynchronous replication): Redis itself loses those. Only writes answered this
# close to the kill may be missing afterwards.
REDIS_LOSS_WINDOW_S = 0.5
SLACK_S = 1.5  # a busy machine


topo = topology_fixture("failover")


@pytest.fixture(scope="module")
def proxy(topo, module_procs):
    return module_procs.proxy(pools=[topo.proxy_pool(read_from="prefer_replica")],
                              cls=Switchyard)


def not_error_replies(outcomes: list[Outcome]) -> list[Outcome]:
    """Failures other than an error reply: a closed or stalled connection, a wrong answer."""
    return [o for o in outcomes if not o.ok and not o.error_reply]


def test_discovers_the_group(topo, proxy):
    group = topo.wait_proxy_sees(proxy.client(), "g0")
    fields = group.fields
    assert fields["read_from"] == "prefer_replica", fields
    assert fields["replicas"] == 2 and fields["healthy_replicas"] == 2, fields
    assert fields["sentinels"] == 3 and fields["reachable_sentinels"] == 3, fields
    master = topo.master_of("g0")
    assert group.node(master.addr)["role"] == "master", group.nodes
    for replica in topo.replicas_of("g0"):
        node = group.node(replica.addr)
        assert node["role"] == "replica" and node["health"] == "healthy", group.nodes
        assert 0 <= node["lag_seconds"] <= 10 and node["rtt_usec"] > 0, node


def test_kill9_master_under_write_load(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    failovers = wait_proxy_group(client, "g0", lambda g: True, "the group").fields["failovers"]
    old = topo.master_of("g0")
    writes = Load(proxy.client(socket_timeout=30), write_op("kill9")).start()
    try:
        writes.wait_successes(300, 0.0, "writes before the kill")
        with topo.switch_announcements() as switches:
            killed_at = time.monotonic()
            topo.kill_node(old.port)
            switched_at = switches.first("g0")
        new = topo.wait_failover("g0", old.port)
        writes.wait_successes(500, switched_at + FOLLOW_BOUND_S, "writes after the switch")
    finally:
        outcomes = writes.stop()
    sentinel_s = switched_at - killed_at
    window_s = longest_gap(outcomes)
    errors = [o for o in outcomes if not o.ok]
    slowest_s = max(o.latency for o in outcomes)
    # The master Sentinel chose last: on a stalled machine Sentinel may fail over again on its
    # own after the kill's failover; the proxy must follow that too.
    final = topo.settled_master("g0")
    group = wait_proxy_group(client, "g0", lambda g: g.master == final.addr and g.confirmed,
                             f"the master {final.addr} confirmed", context=topo.sentinel_events)
    if final is not new:
        print(f"Sentinel failed over again after the kill: {new.addr} then {final.addr}\n"
              f"{topo.sentinel_events()}")
    print(f"UNAVAILABLE kill9 window={window_s * 1000:.0f}ms sentinel={sentinel_s * 1000:.0f}ms "
          f"errors={len(errors)} slowest_write={slowest_s * 1000:.0f}ms "
          f"follow={group.fields.get('last_failover_follow_ms')}ms ({describe_errors(errors)})")

    assert window_s <= sentinel_s + FOLLOW_BOUND_S, \
        f"no successful write for {window_s:.2f}s; Sentinel took {sentinel_s:.2f}s"
    assert slowest_s <= FAILOVER_WAIT_S + SLACK_S, f"a write hung for {slowest_s:.2f}s"
    assert not not_error_replies(outcomes), \
        f"failures other than error replies: {describe_errors(not_error_replies(outcomes))}"
    late = [o for o in errors if o.sent > switched_at + FOLLOW_BOUND_S]
    assert not late, f"writes failed after the switch was followed: {describe_errors(late)}"
    assert group.fields["failovers"] > failovers, group.fields

    # Every acknowledged write is on the new master, except what the old master acknowledged
    # in its last moments and could not replicate before the kill.
    after_kill = acknowledged([o for o in outcomes if o.sent > killed_at], "kill9")
    assert after_kill, "no write succeeded after the kill"
    assert not values_absent(final, after_kill), "writes acknowledged after the kill are missing"
    before_kill = [o for o in outcomes if o.sent <= killed_at]
    lost = set(values_absent(final, acknowledged(before_kill, "kill9")))
    early = [o for o in before_kill if f"kill9:{o.index}" in lost
             and o.answered < killed_at - REDIS_LOSS_WINDOW_S]
    assert not early, f"{len(early)} writes acknowledged well before the kill are lost"
    print(f"LOST acknowledged by the dying master: {len(lost)} of {len(before_kill)}")


def test_old_master_back_as_replica_gets_no_writes(topo, proxy):
    client = proxy.client()
    old = next(node for node in topo.group("g0").nodes if not node.is_running())
    master = topo.master_of("g0")
    values = seed_keys(client, master, 20, 1, "back")
    writes = Load(proxy.client(), write_op("back")).start()
    reads = Load(proxy.client(), read_op(values)).start()
    try:
        topo.restart_node(old.port)  # empty, and a master until Sentinel converts it
        while_master = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            sample = (old.calls("set"), old.calls("get"))
            role = role_of(old.port)
            if role and role[0] != b"master":
                break
            if role:
                while_master = sample
            time.sleep(0.1)
        topo.wait_proxy_sees(client, "g0", timeout_s=30)
        rejected = old.rejected_calls("set")
        writes.wait_successes(300, time.monotonic(), "writes with the old master a replica")
        assert old.rejected_calls("set") == rejected == 0, "writes were sent to the replica"
    finally:
        write_outcomes, read_outcomes = writes.stop(), reads.stop()
    assert while_master is not None, "the restarted node never answered ROLE as a master"
    assert while_master == (0, 0), \
        f"(SET, GET) calls on the old master while it claimed master: {while_master}"
    failed = [o for o in write_outcomes + read_outcomes if not o.ok]
    assert not failed, describe_errors(failed)
    assert not values_absent(master, acknowledged(write_outcomes, "back"))
    # Once healthy it takes reads again.
    before = old.calls("get")
    read_all(client, values, 600)
    assert old.calls("get") - before >= 60, "the returned replica got no reads"


def test_graceful_failover_under_load_no_client_error(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    old = topo.master_of("g0")
    values = seed_keys(client, old, 20, 2, "graceful-read")
    writes = Load(proxy.client(socket_timeout=30), write_op("graceful")).start()
    reads = Load(proxy.client(socket_timeout=30), read_op(values)).start()
    try:
        writes.wait_successes(300, 0.0, "writes before the failover")
        with topo.switch_announcements() as switches:
            asked_at = time.monotonic()
            topo.failover("g0")
            switched_at = switches.first("g0")
        topo.wait_failover("g0", old.port)
        writes.wait_successes(500, switched_at + FOLLOW_BOUND_S, "writes after the switch")
        reads.wait_successes(500, switched_at + FOLLOW_BOUND_S, "reads after the switch")
    finally:
        write_outcomes, read_outcomes = writes.stop(), reads.stop()
    longest_write = max(o.latency for o in write_outcomes)
    longest_read = max(o.latency for o in read_outcomes)
    print(f"GRACEFUL failover longest_write={longest_write * 1000:.0f}ms "
          f"longest_read={longest_read * 1000:.0f}ms "
          f"write_window={longest_gap(write_outcomes) * 1000:.0f}ms "
          f"sentinel={(switched_at - asked_at) * 1000:.0f}ms")
    failed = [o for o in write_outcomes + read_outcomes if not o.ok]
    assert not failed, f"client-visible errors: {describe_errors(failed)}"
    assert longest_write <= FAILOVER_WAIT_S + 0.5, f"a write paused {longest_write:.2f}s"
    missing = values_absent(topo.settled_master("g0"), acknowledged(write_outcomes, "graceful"))
    assert not missing, f"{len(missing)} acknowledged writes are not on the new master " \
                        f"(e.g. {missing[:3]}): written to the old master after the promotion?"


def test_one_sentinel_killed_still_follows_failover(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    topo.sentinels[0].kill()
    wait_proxy_group(client, "g0", lambda g: g.fields["reachable_sentinels"] == 2,
                     "two Sentinels reachable")
    old = topo.master_of("g0")
    writes = Load(proxy.client(socket_timeout=30), write_op("one-down")).start()
    try:
        writes.wait_successes(100, 0.0, "writes with one Sentinel down")
        with topo.switch_announcements() as switches:
            topo.failover("g0")
            switched_at = switches.first("g0")
        topo.wait_failover("g0", old.port)
        new = topo.settled_master("g0")
        wait_proxy_group(client, "g0", lambda g: g.master == new.addr and g.confirmed,
                         f"the new master {new.addr} followed with one Sentinel down",
                         context=topo.sentinel_events)
        followed_at = time.monotonic()
        writes.wait_successes(300, followed_at, "writes after the switch")
    finally:
        outcomes = writes.stop()
    print(f"ONE SENTINEL DOWN followed {max(0.0, followed_at - switched_at) * 1000:.0f}ms "
          f"after +switch-master, longest_write={max(o.latency for o in outcomes) * 1000:.0f}ms")
    failed = [o for o in outcomes if not o.ok]
    assert not failed, describe_errors(failed)
    assert not values_absent(new, acknowledged([o for o in outcomes if o.sent > followed_at],
                                               "one-down"))


def test_all_sentinels_killed_keeps_last_topology(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    for sentinel in topo.running_sentinels():
        sentinel.kill()
    group = wait_proxy_group(client, "g0", lambda g: g.fields["reachable_sentinels"] == 0,
                             "no Sentinel reachable")
    master = topo.master_of("g0")
    assert group.master == master.addr and group.confirmed, group.fields
    sets = master.calls("set")
    values = seed_keys(client, master, 100, 2, "orphan")
    assert master.calls("set") - sets == 100
    read_all(client, values, 300)
    time.sleep(2.5)  # the Sentinels stay unreachable: nothing changes
    topo.wait_proxy_sees(client, "g0", timeout_s=5)


def test_master_lost_without_sentinels_refuses_writes(topo, proxy):
    client = proxy.client(socket_timeout=30)
    topo.kill_node(topo.master_of("g0").port)
    wait_proxy_group(client, "g0", lambda g: not g.confirmed, "the dead master unconfirmed")
    started = time.monotonic()
    with pytest.raises(redis.exceptions.ResponseError) as refused:
        client.set("orphan:new", 1)
    took = time.monotonic() - started
    print(f"NO MASTER write refused after {took * 1000:.0f}ms: {refused.value}")
    assert str(refused.value).startswith("TRYAGAIN"), refused.value
    assert "no confirmed master" in str(refused.value), refused.value
    assert took <= FAILOVER_WAIT_S + SLACK_S, f"the write waited {took:.2f}s"
    group = wait_proxy_group(client, "g0", lambda g: True, "the group")
    assert group.fields["writes"] in ("wait", "refused"), group.fields
