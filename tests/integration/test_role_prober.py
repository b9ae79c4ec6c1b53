"""The ROLE prober (groups of plain Redis nodes, no Sentinel) against real redis-server
processes.

One group for the module, g0: three nodes, the first started as master and the other two
with --replicaof, and one `role_probe` driver (tests/support/role_probe.cpp) that prints every
GroupView the prober publishes as a JSON line. The tests run in file order and each leaves
the group as it found it (one master, two linked replicas): discovery, two nodes claiming
master, a re-probe on demand, the master killed and restarted, a replica stopped (SIGSTOP)
and resumed. requirepass gets a group of its own.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import HOST, RedisServer  # noqa: E402
from topology import role_of, wait_until  # noqa: E402
from view_stream import ViewStream, health_of, healthy  # noqa: E402

INTERVAL_MS = 200
# A re-probe asked on stdin must be published within this bound, far below the interval of
# the driver that tests it (so only rediscover can explain the view).
REDISCOVER_BOUND_S = 5.0
SLOW_INTERVAL_MS = 120_000
SETTLE_S = 30.0


class Group:
    """Three redis-servers: nodes[0] the master, the others its replicas."""

    def __init__(self, workdir: Path, password: str | None = None):
        auth = ["--masterauth", password] if password else []
        self.nodes = [RedisServer(workdir, requirepass=password).start()]
        master_port = str(self.nodes[0].port)
        for _ in range(2):
            self.nodes.append(RedisServer(workdir, requirepass=password,
                                          extra_args=["--replicaof", HOST, master_port] + auth)
                              .start())
        self.password = password
        self.wait_linked()

    @property
    def master(self) -> RedisServer:
        return self.nodes[0]

    @property
    def replicas(self) -> list[RedisServer]:
        return self.nodes[1:]

    def spec(self) -> str:
        return "g0=" + ",".join(node.addr for node in self.nodes)

    def wait_linked(self) -> None:
        """Until both replicas follow nodes[0] with the link up."""
        def linked():
            for node in self.replicas:
                role = node.client(socket_timeout=2).execute_command("ROLE")
                if role[0] != b"slave" or int(role[2]) != self.master.port \
                        or role[3] != b"connected":
                    return False
            return True

        wait_until(linked, SETTLE_S, "both replicas linked to the master")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def start_probe(workdir: Path, group: Group, interval_ms: int = INTERVAL_MS,
                extra_args=()) -> ViewStream:
    args = ["--group", group.spec(), "--interval-ms", str(interval_ms), "--timeout-ms", "500"]
    return ViewStream("role_probe", args + list(extra_args), workdir, stdin=subprocess.PIPE)


def settled(group: Group):
    """A predicate: nodes[0] confirmed master, both replicas healthy, no competing master."""
    replicas = {node.addr for node in group.replicas}
    return lambda v: (v["master"] == group.master.addr and v["confirmed"]
                      and not v["claimed_masters"] and healthy(v) == replicas)


@pytest.fixture(scope="module")
def group(tmp_path_factory):
    nodes = Group(tmp_path_factory.mktemp("nodes"))
    yield nodes
    nodes.stop()


@pytest.fixture(scope="module")
def probe(group, tmp_path_factory):
    driver = start_probe(tmp_path_factory.mktemp("probe"), group)
    yield driver
    assert driver.stop() == 0, driver.log()


def test_discovers_the_master(group, probe):
    _, view = probe.wait("g0", settled(group), "the master confirmed, both replicas healthy")
    assert not view["from_sentinel"] and view["sentinels"] == [], view
    assert view["master_rtt_usec"] > 0, view
    for replica in view["replicas"]:
        assert replica["link_up"] and replica["lag_bytes"] >= 0, replica
        assert replica["rtt_usec"] > 0, replica
    assert "role probe group 'g0' generation 1: master " + group.master.addr in probe.log()


def test_two_nodes_claiming_master(group, probe):
    rogue = group.replicas[0]
    rogue.client().execute_command("REPLICAOF", "NO", "ONE")
    claimants = sorted([group.master, rogue], key=lambda node: node.port)
    _, view = probe.wait("g0", lambda v: v["claimed_masters"] == [n.addr for n in claimants],
                         "both masters listed")
    assert not view["confirmed"], view
    assert view["master"] == group.master.addr, view  # the last known one stays
    assert health_of(view, rogue.addr) == "not a replica", view
    assert "2 nodes claim master" in probe.log() and "writes refused" in probe.log()
    rogue.client().execute_command("REPLICAOF", HOST, str(group.master.port))
    group.wait_linked()
    probe.wait("g0", settled(group), "one master again")


def test_rediscover_reprobes_at_once(group, tmp_path):
    slow = start_probe(tmp_path, group, interval_ms=SLOW_INTERVAL_MS)
    try:
        slow.wait("g0", settled(group), "the first round")
        first = slow.count("g0")
        rogue = group.replicas[1]
        rogue.client().execute_command("REPLICAOF", "NO", "ONE")
        wait_until(lambda: (role_of(rogue.port) or [b""])[0] == b"master", SETTLE_S,
                   "the replica promoted")
        asked = time.monotonic()
        slow.proc.stdin.write(b"g0\n")
        slow.proc.stdin.flush()
        arrived, _ = slow.wait("g0", lambda v: len(v["claimed_masters"]) == 2,
                               "two masters after rediscover", timeout_s=REDISCOVER_BOUND_S)
        assert arrived - asked < REDISCOVER_BOUND_S
        assert slow.count("g0") == first + 1
        rogue.client().execute_command("REPLICAOF", HOST, str(group.master.port))
        group.wait_linked()
        slow.proc.stdin.write(b"unknown-group\ng0\n")  # an unknown name is ignored
        slow.proc.stdin.flush()
        slow.wait("g0", settled(group), "one master after rediscover", timeout_s=REDISCOVER_BOUND_S)
    finally:
        assert slow.stop() == 0, slow.log()


def test_master_killed_then_restarted(group, probe):
    master = group.master
    master.kill()
    _, view = probe.wait("g0", lambda v: not v["confirmed"] and v["master"] == master.addr
                         and all(r["health"] == "link down" for r in v["replicas"]),
                         "the killed master unconfirmed, both replica links down")
    assert view["claimed_masters"] == [] and view["master_rtt_usec"] == -1, view
    assert healthy(view) == set(), view
    master.restart()  # empty, as a master; the replicas reconnect and resynchronise
    group.wait_linked()
    probe.wait("g0", settled(group), "the restarted master confirmed, replicas healthy")


def test_stopped_replica_is_unhealthy(group, probe):
    stopped = group.replicas[0]
    other = group.replicas[1]
    stopped.proc.send_signal(signal.SIGSTOP)  # hung: ROLE meets its deadline
    try:
        _, view = probe.wait("g0", lambda v: health_of(v, stopped.addr) == "unreachable",
                             "the stopped replica unreachable")
        assert view["confirmed"] and other.addr in healthy(view), view
        replica = next(r for r in view["replicas"] if r["address"] == stopped.addr)
        assert replica["rtt_usec"] == -1, replica
    finally:
        stopped.proc.send_signal(signal.SIGCONT)
    probe.wait("g0", settled(group), "the resumed replica healthy again")


def test_replica_following_another_node_is_unhealthy(group, probe):
    wanderer = group.replicas[0]
    wanderer.client().execute_command("REPLICAOF", HOST, str(group.replicas[1].port))
    probe.wait("g0", lambda v: v["confirmed"] and health_of(v, wanderer.addr)
               == "replicating from another node", "the replica of a replica not healthy")
    wanderer.client().execute_command("REPLICAOF", HOST, str(group.master.port))
    group.wait_linked()
    probe.wait("g0", settled(group), "the replica back under the master")


def test_redis_auth(tmp_path):
    protected = Group(tmp_path, password="s3cret pw")
    try:
        with_auth = start_probe(tmp_path, protected, extra_args=["--auth", "s3cret pw"])
        (tmp_path / "noauth").mkdir()
        without = ViewStream("role_probe", ["--group", protected.spec(), "--interval-ms",
                                            str(INTERVAL_MS)], tmp_path / "noauth")
        try:
            with_auth.wait("g0", settled(protected), "the master confirmed with AUTH")
            _, view = without.wait("g0", lambda v: not v["confirmed"], "no master without AUTH")
            assert {r["health"] for r in view["replicas"]} == {"unreachable"}, view
            assert "NOAUTH" in without.log(), without.log()[-2000:]
        finally:
            assert with_auth.stop() == 0, with_auth.log()
            assert without.stop() == 0, without.log()
    finally:
        protected.stop()
