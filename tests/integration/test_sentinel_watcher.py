"""The Sentinel watcher against real redis-server and redis-sentinel processes.

One topology for the module (2 groups x 1 master + 2 replicas, 3 Sentinels) and one
`sentinel_watch` driver (tests/support/sentinel_watch.cpp) that prints every GroupView the
watcher publishes as a JSON line. The tests run in file order and each leaves the topology
in a state the next one starts from: discovery, SENTINEL FAILOVER, kill -9 of a master, one
Sentinel killed, every Sentinel killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import HOST  # noqa: E402
from topology import Topology  # noqa: E402
from view_stream import WAIT_S, ViewStream, healthy  # noqa: E402

# After Sentinel announces +switch-master, the watcher must publish the new, ROLE-confirmed
# master within this bound (it reacts to the event at once; the bound is for a busy machine).
SWITCH_BOUND_S = 5.0


class Watch(ViewStream):
    """sentinel_watch on the topology's Sentinels (by default one seed: the others must be
    discovered) and groups."""

    def __init__(self, workdir: Path, topo: Topology, extra_args=(), group_args=None,
                 seeds=None):
        argv = ["--poll-ms", "1000", "--timeout-ms", "500"]
        for sentinel in seeds or topo.sentinels[:1]:
            argv += ["--sentinel", sentinel.addr]
        for group in group_args or [group.name for group in topo.groups]:
            argv += ["--group", group]
        super().__init__("sentinel_watch", argv + list(extra_args), workdir)


@pytest.fixture(scope="module")
def topo(tmp_path_factory):
    topology = Topology(tmp_path_factory.mktemp("sentinel"), groups=2, replicas=2, sentinels=3)
    topology.start()
    yield topology
    topology.stop()


@pytest.fixture(scope="module")
def watch(topo, tmp_path_factory):
    driver = Watch(tmp_path_factory.mktemp("watch"), topo)
    yield driver
    assert driver.stop() == 0, driver.log()


def addr(node) -> str:
    return f"{HOST}:{node.port}"


def reachable(view) -> set[str]:
    return {s["address"] for s in view["sentinels"] if s["reachable"]}


def test_initial_discovery(topo, watch):
    every_sentinel = {s.addr for s in topo.sentinels}
    for group in topo.groups:
        master = topo.master_of(group.name)
        replicas = {addr(n) for n in group.nodes if n is not master}
        _, view = watch.wait(
            group.name,
            lambda v: v["master"] == addr(master) and v["confirmed"] and healthy(v) == replicas
            and reachable(v) == every_sentinel,
            "the master confirmed, both replicas healthy and every Sentinel discovered")
        assert view["from_sentinel"] and view["claimed_masters"] == [], view
        assert view["master_rtt_usec"] > 0, view
        for replica in view["replicas"]:
            assert replica["link_up"] and replica["lag_bytes"] >= 0, replica
            assert replica["rtt_usec"] > 0, replica


def test_follows_sentinel_failover(topo, watch):
    old = topo.master_of("g0")
    _, before = watch.latest("g0")
    with topo.switch_announcements() as switches:
        topo.failover("g0")
        switched_at = switches.first("g0", WAIT_S)
    new = topo.wait_failover("g0", old.port)
    arrived, view = watch.wait("g0", lambda v: v["master"] == addr(new) and v["confirmed"],
                               f"the new master {addr(new)} confirmed")
    assert arrived - switched_at < SWITCH_BOUND_S, \
        f"published {arrived - switched_at:.2f}s after +switch-master"
    assert view["generation"] > before["generation"]
    # The demoted master comes back as a healthy replica once Sentinel has reconfigured it.
    watch.wait("g0", lambda v: addr(old) in healthy(v) and len(healthy(v)) == 2,
               "the old master healthy as a replica")


def test_follows_kill_of_master(topo, watch):
    old = topo.master_of("g1")
    topo.kill_node(old.port)
    watch.wait("g1", lambda v: v["master"] == addr(old) and not v["confirmed"]
               or v["master"] != addr(old), "the killed master unconfirmed or replaced")
    new = topo.wait_failover("g1", old.port)
    _, view = watch.wait("g1", lambda v: v["master"] == addr(new) and v["confirmed"],
                         f"the new master {addr(new)} confirmed")
    gone = [r for r in view["replicas"] if r["address"] == addr(old)]
    assert not gone or gone[0]["health"] != "healthy", view
    # The other replica follows the new master (the killed node stays down).
    watch.wait("g1", lambda v: len(healthy(v)) == 1 and addr(old) not in healthy(v),
               "the remaining replica healthy under the new master")


def test_one_sentinel_killed(topo, watch):
    victim = topo.sentinels[0]  # the seed: the watcher must go on with the discovered ones
    victim.kill()
    for group in topo.groups:
        watch.wait(group.name, lambda v: victim.addr not in reachable(v)
                   and len(reachable(v)) == 2 and v["confirmed"] and v["from_sentinel"],
                   f"{victim.addr} unreachable, the others answering")
    old = topo.master_of("g0")
    topo.failover("g0")
    new = topo.wait_failover("g0", old.port)
    watch.wait("g0", lambda v: v["master"] == addr(new) and v["confirmed"],
               f"the new master {addr(new)} followed with one Sentinel down")


def test_all_sentinels_killed_keeps_last_state(topo, watch):
    masters = {g.name: addr(topo.master_of(g.name)) for g in topo.groups}
    before = {}
    for group in topo.groups:
        _, view = watch.wait(group.name, lambda v: v["master"] == masters[group.name]
                             and v["confirmed"] and healthy(v), "the current master confirmed")
        before[group.name] = healthy(view)
    for sentinel in topo.running_sentinels():
        sentinel.kill()
    for group in topo.groups:
        _, view = watch.wait(group.name, lambda v: not v["from_sentinel"]
                             and not reachable(v), "every Sentinel unreachable")
        assert view["master"] == masters[group.name] and view["confirmed"], view
        # A demoted master that Sentinel reconfigured just before the kill may have joined.
        assert before[group.name] <= healthy(view), view
        assert all(s["failures"] > 0 for s in view["sentinels"]), view
    # Still polling (every second): the state stays as it was, and the driver keeps running.
    time.sleep(2.5)
    for group in topo.groups:
        _, view = watch.latest(group.name)
        assert view["master"] == masters[group.name] and view["confirmed"], view
        assert not view["from_sentinel"], view
