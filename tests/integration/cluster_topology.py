"""A real Redis Cluster on 127.0.0.1, for tests and demos.

A ClusterTopology starts M masters x (1 + R) redis-server 7.0 processes with
--cluster-enabled yes, each in its own folder with its own nodes.conf, joins them with
`redis-cli --cluster create`, and waits until every node says cluster_state:ok and all of
them return the same CLUSTER SLOTS. Everything runs on free ports, is stopped by pid, and
every wait polls with a generous deadline and names what it awaited when it times out.

    with ClusterTopology(workdir, masters=3, replicas=1) as cluster:
        owner = cluster.master_for_key("user:{42}:name")
        cluster.migrate_slot(cluster.slot_of("user:{42}:name"), other_master,
                             between_batches=check_the_proxy)
        cluster.kill_node(owner)
        new_owner = cluster.wait_failover(owner)

Slot moves come two ways: migrate_slot() does by hand what redis-cli does for one slot
(IMPORTING, MIGRATING, GETKEYSINSLOT + MIGRATE in batches, SETSLOT NODE), with a hook
between batches so a test can look at the proxy mid-migration; reshard() runs
`redis-cli --cluster reshard` itself.

A proxy in front of the cluster is judged against the nodes themselves: absent_on_owners()
reads expected values on the master serving each key, wait_table_matches() compares the
proxy's INFO groups with CLUSTER SHARDS.

As a script it prints the seeds and runs in the foreground until Ctrl-C:

    /usr/bin/python3 tests/integration/cluster_topology.py --masters 3 --replicas 1

Thread: the thread that created the ClusterTopology (the harness ties children to it).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import HOST, HarnessError, Pool, RedisServer, free_port  # noqa: E402
from topology import (catch_stop_signals, run_until_stopped, wait_until,  # noqa: E402
                      write_config_atomically)

REDIS_CLI = "/usr/bin/redis-cli"
SLOT_COUNT = 16384
SETTLE_TIMEOUT_S = 30.0
FAILOVER_TIMEOUT_S = 30.0
REDIS_CLI_TIMEOUT_S = 60.0
POLL_S = 0.05
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # redis-cli colours its messages


# --------------------------------------------------------------------------------------------
# key slots (CRC16-XMODEM, as Redis Cluster computes them)


def _crc16_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_CRC16_TABLE = _crc16_table()


def crc16(data: bytes) -> int:
    """CRC16-XMODEM (polynomial 0x1021, initial value 0), the checksum of key slots."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16_TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc


def key_slot(key: str | bytes) -> int:
    """The cluster slot of key: CRC16 of the hash tag (the bytes between the first '{' and
    the first '}' after it, when not empty), else of the whole key, modulo 16384."""
    data = key.encode() if isinstance(key, str) else bytes(key)
    start = data.find(b"{")
    if start != -1:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1:end]
    return crc16(data) % SLOT_COUNT


# --------------------------------------------------------------------------------------------
# replies


def _pairs(flat) -> dict:
    """A flat [name, value, name, value, ...] reply (or a RESP3 map) as a dict."""
    if isinstance(flat, dict):
        return dict(flat)
    return {flat[i]: flat[i + 1] for i in range(0, len(flat) - 1, 2)}


def _cluster_info(text: str) -> dict[str, str]:
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _addr(ip: str, port) -> str:
    """ip:port; a node that has never talked to another (a one-node cluster) reports its own
    ip as "", which clients read as the address they asked."""
    return f"{ip or HOST}:{port}"


def _slot_map(reply) -> frozenset:
    """CLUSTER SLOTS as a set of (start, end, master addr, sorted replica addrs), so that two
    nodes listing ranges or replicas in another order compare equal."""
    entries = set()
    for start, end, master, *replicas in reply:
        entries.add((int(start), int(end), _addr(master[0], master[1]),
                     tuple(sorted(_addr(r[0], r[1]) for r in replicas))))
    return frozenset(entries)


class ClusterTopology:
    """M masters x (1 master + R replicas) as one Redis Cluster, created by redis-cli.

    `nodes` are RedisServer objects in start order; which of them is a master changes with
    failovers, so ask (owner_of_slot, shards, replicas_of) rather than assume. A killed node
    can be restarted with node.restart(): it keeps its folder and nodes.conf and rejoins.
    """

    def __init__(self, workdir: Path, masters: int = 3, replicas: int = 1,
                 node_timeout_ms: int = 1000, extra_args: Sequence[str] = ()):
        if masters < 1 or replicas < 0:
            raise HarnessError("a cluster needs at least one master and no negative replicas")
        self.workdir = Path(workdir)
        self.master_count = masters
        self.replica_count = replicas
        self.node_timeout_ms = node_timeout_ms
        self.extra_args = list(extra_args)  # appended to every node's argv
        self.nodes: list[RedisServer] = []
        self._ids: dict[int, str] = {}  # port -> node id (stable: it lives in nodes.conf)
        self._bus_ports: dict[int, int] = {}  # port -> cluster bus port
        self._agreed: Optional[frozenset] = None  # the last slot map all nodes agreed on
        self._served_before_kill: dict[int, list[tuple[int, int]]] = {}  # port -> ranges

    # -- lifecycle
    def start(self) -> "ClusterTopology":
        try:
            for _ in range(self.master_count * (1 + self.replica_count)):
                # The bus port defaults to port + 10000, which fails for a free port above
                # 55535 and may be taken: give it a free port of its own.
                bus_port = free_port()
                args = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                        "--cluster-port", str(bus_port),
                        "--cluster-node-timeout", str(self.node_timeout_ms),
                        # Diskless sync waits 5 s by default for more replicas; a replica that
                        # never synced has no recent data and never fails over.
                        "--repl-diskless-sync-delay", "0",
                        # CLUSTER SLOTS leaves out a replica while its replication offset is
                        # 0, which on an idle master lasts until the first replication PING.
                        "--repl-ping-replica-period", "1"]
                node = RedisServer(self.workdir, extra_args=args + self.extra_args)
                self.nodes.append(node)
                self._bus_ports[node.port] = bus_port
                node.start()
            for node in self.nodes:
                self._ids[node.port] = self.command(node, "CLUSTER", "MYID")
            if self.master_count >= 3:
                self.redis_cli("--cluster", "create", *(n.addr for n in self.nodes),
                               "--cluster-replicas", str(self.replica_count), "--cluster-yes")
            else:
                self._create_by_hand()
            self.wait_agreed()
        except BaseException:
            self.stop()
            raise
        return self

    def _create_by_hand(self) -> None:
        """What `redis-cli --cluster create` does, for the one or two masters it refuses:
        slots split evenly over the first M nodes, distinct config epochs, MEET, then each
        further node REPLICATEs master i % M once it knows it."""
        masters = self.nodes[:self.master_count]
        for i, master in enumerate(masters):
            first = i * SLOT_COUNT // len(masters)
            last = (i + 1) * SLOT_COUNT // len(masters) - 1
            self.command(master, "CLUSTER", "ADDSLOTSRANGE", first, last)
        for epoch, node in enumerate(self.nodes, start=1):
            self.command(node, "CLUSTER", "SET-CONFIG-EPOCH", epoch)
        first_node = self.nodes[0]
        for node in self.nodes[1:]:
            self.command(node, "CLUSTER", "MEET", HOST, first_node.port,
                         self._bus_ports[first_node.port])
        for i, node in enumerate(self.nodes[self.master_count:]):
            master_id = self.node_id(masters[i % len(masters)])
            self._wait(lambda n=node, m=master_id: m in self.command(n, "CLUSTER", "NODES"),
                       f"{node.addr} to learn of node {master_id}", SETTLE_TIMEOUT_S)
            self.command(node, "CLUSTER", "REPLICATE", master_id)

    def stop(self) -> None:
        """Stops every node by its pid (SIGTERM, then SIGKILL after the harness's grace)."""
        for node in reversed(self.nodes):
            node.stop()

    def __enter__(self) -> "ClusterTopology":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- talking to nodes
    @staticmethod
    def command(node: RedisServer, *args, timeout_s: float = 5.0):
        """One command on node over a fresh connection, replies decoded as text."""
        client = node.client(decode_responses=True, socket_timeout=timeout_s,
                             socket_connect_timeout=timeout_s)
        try:
            return client.execute_command(*args)
        finally:
            client.connection_pool.disconnect()

    def redis_cli(self, *args: str, timeout_s: float = REDIS_CLI_TIMEOUT_S) -> str:
        """Runs redis-cli with args; returns its output, or raises HarnessError with it."""
        argv = [REDIS_CLI, *args]
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as err:
            raise HarnessError(f"{' '.join(argv)} took over {timeout_s}s:\n{err.stdout}")
        output = _ANSI_ESCAPE.sub("", done.stdout + done.stderr)
        if done.returncode != 0 or "[ERR]" in output:
            raise HarnessError(f"{' '.join(argv)} exited with {done.returncode}:\n{output}")
        return output

    # -- lookups
    def running(self) -> list[RedisServer]:
        return [n for n in self.nodes if n.is_running()]

    def node(self, where: int | str) -> RedisServer:
        """The node on a port, or at "127.0.0.1:port"."""
        port = int(str(where).rsplit(":", 1)[-1])
        for node in self.nodes:
            if node.port == port:
                return node
        raise HarnessError(f"no cluster node on port {port}")

    def node_id(self, node: RedisServer) -> str:
        return self._ids[node.port]

    def seeds(self) -> list[str]:
        """"127.0.0.1:port" of every current master (by CLUSTER SHARDS), in start order."""
        masters = {shard["master"] for shard in self.shards() if shard["slots"]}
        return [n.addr for n in self.nodes if n.addr in masters]

    def masters(self) -> list[RedisServer]:
        return [self.node(addr) for addr in self.seeds()]

    def slot_of(self, key: str | bytes) -> int:
        """The key's slot, computed here (key_slot), with {hash tags}."""
        return key_slot(key)

    def shards(self, via: Optional[RedisServer] = None) -> list[dict]:
        """CLUSTER SHARDS of `via` (default: the first running node), one dict per shard:
        {"slots": [(first, last), ...], "master": addr, "replicas": [addr, ...]}.
        Nodes the asked node marks as failed are left out; a shard whose master is failed
        and owns no slots (a dead master after its failover) is left out too."""
        via = via or self.running()[0]
        shards = []
        for entry in self.command(via, "CLUSTER", "SHARDS"):
            entry = _pairs(entry)
            bounds = [int(b) for b in entry["slots"]]
            slots = list(zip(bounds[0::2], bounds[1::2]))
            master, replicas = None, []
            for node in map(_pairs, entry["nodes"]):
                if node.get("health") == "fail":
                    continue
                addr = _addr(node["ip"], node["port"])
                if node["role"] == "master":
                    master = addr
                else:
                    replicas.append(addr)
            if master is None and not slots:
                continue
            shards.append({"slots": slots, "master": master, "replicas": sorted(replicas)})
        return shards

    def owner_of_slot(self, slot: int, via: Optional[RedisServer] = None) -> RedisServer:
        """The master serving slot, as CLUSTER SHARDS of `via` (a running node) says."""
        for shard in self.shards(via):
            if any(first <= slot <= last for first, last in shard["slots"]):
                if shard["master"] is None:
                    raise HarnessError(f"slot {slot} belongs to a shard without a live master")
                return self.node(shard["master"])
        raise HarnessError(f"no shard serves slot {slot}")

    def slot_owners(self, via: Optional[RedisServer] = None) -> list[Optional[str]]:
        """The address of the master serving each of the 16384 slots, from one CLUSTER SHARDS
        of `via` (see shards); None for a slot no live master serves."""
        owners: list[Optional[str]] = [None] * SLOT_COUNT
        for shard in self.shards(via):
            for first, last in shard["slots"]:
                owners[first:last + 1] = [shard["master"]] * (last - first + 1)
        return owners

    def master_for_key(self, key: str | bytes) -> RedisServer:
        return self.owner_of_slot(self.slot_of(key))

    def replicas_of(self, master: RedisServer) -> list[RedisServer]:
        """The live replicas of master, as CLUSTER SHARDS of a running node says."""
        for shard in self.shards():
            if shard["master"] == master.addr:
                return [self.node(addr) for addr in shard["replicas"]]
        raise HarnessError(f"{master.addr} is not the master of any shard")

    def slot_map(self, node: RedisServer) -> frozenset:
        """node's CLUSTER SLOTS, normalised by _slot_map."""
        return _slot_map(self.command(node, "CLUSTER", "SLOTS"))

    def describe(self) -> str:
        lines = []
        for shard in sorted(self.shards(), key=lambda s: s["slots"] or [(SLOT_COUNT, 0)]):
            ranges = " ".join(f"{a}-{b}" for a, b in shard["slots"]) or "-"
            lines.append(f"master {shard['master']} slots {ranges}, "
                         f"replicas {', '.join(shard['replicas']) or '-'}")
        return "\n".join(lines)

    # -- waits
    def _agreed_map(self) -> Optional[frozenset]:
        """The slot map when every running node is cluster_state:ok, returns the same
        CLUSTER SLOTS, all 16384 slots are covered and every running node is in it (CLUSTER
        SLOTS lists a replica only once it has replicated something); else None."""
        maps = set()
        running = self.running()
        for node in running:
            info = _cluster_info(self.command(node, "CLUSTER", "INFO"))
            if info.get("cluster_state") != "ok":
                return None
            maps.add(self.slot_map(node))
            if len(maps) > 1:
                return None
        (agreed,) = maps
        if sum(end - start + 1 for start, end, _, _ in agreed) != SLOT_COUNT:
            return None
        listed = {addr for _, _, master, replicas in agreed for addr in (master, *replicas)}
        if not {n.addr for n in running} <= listed:
            return None
        return agreed

    def node_states(self) -> str:
        """Each node's cluster_state and CLUSTER SLOTS (or why not): for timeout messages."""
        lines = []
        for node in self.nodes:
            if not node.is_running():
                lines.append(f"{node.addr}: not running")
                continue
            try:
                info = _cluster_info(self.command(node, "CLUSTER", "INFO", timeout_s=1.0))
                ranges = sorted(self.slot_map(node))
                lines.append(f"{node.addr}: {info.get('cluster_state')} "
                             f"epoch {info.get('cluster_current_epoch')} {ranges}")
            except (redis.exceptions.RedisError, OSError) as err:
                lines.append(f"{node.addr}: {err}")
        return "\n".join(lines)

    def _wait(self, condition: Callable[[], object], what: str, timeout_s: float):
        """wait_until, with every node's state added to the timeout error."""
        try:
            return wait_until(condition, timeout_s, what, POLL_S)
        except HarnessError as err:
            raise HarnessError(f"{err}; cluster nodes now:\n{self.node_states()}") from None

    def wait_agreed(self, timeout_s: float = SETTLE_TIMEOUT_S) -> frozenset:
        """Until every running node reports cluster_state:ok and all return the same CLUSTER
        SLOTS (covering every slot); returns that map (normalised, see _slot_map)."""
        self._agreed = self._wait(self._agreed_map, "every running cluster node to be ok "
                                  "and agree on CLUSTER SLOTS, listing all of them", timeout_s)
        return self._agreed

    # -- moving slots
    def migrate_slot(self, slot: int, target: RedisServer, batch: int = 10,
                     between_batches: Optional[Callable[[], object]] = None,
                     migrate_timeout_ms: int = 5000, wait: bool = True) -> int:
        """Moves slot to the master `target` by hand, as redis-cli does: SETSLOT IMPORTING on
        target, MIGRATING on the source, then GETKEYSINSLOT + MIGRATE ... KEYS in batches of
        `batch` (calling between_batches() after each batch), then SETSLOT NODE on target,
        source and every other running master. With wait, until all nodes agree again.
        Returns the number of keys moved."""
        source = self.owner_of_slot(slot)
        if source is target:
            raise HarnessError(f"slot {slot} is already served by {target.addr}")
        target_id, source_id = self.node_id(target), self.node_id(source)
        self.command(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        self.command(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
        moved = 0
        while True:
            keys = self.command(source, "CLUSTER", "GETKEYSINSLOT", slot, batch)
            if not keys:
                break
            self.command(source, "MIGRATE", HOST, target.port, "", 0, migrate_timeout_ms,
                         "KEYS", *keys, timeout_s=5.0 + migrate_timeout_ms / 1000)
            moved += len(keys)
            if between_batches is not None:
                between_batches()
        others = [m for m in self.masters() if m is not source and m is not target]
        for node in [target, source, *others]:
            self.command(node, "CLUSTER", "SETSLOT", slot, "NODE", target_id)
        if wait:
            self.wait_agreed()
        return moved

    def reshard(self, count: int, source: RedisServer, target: RedisServer) -> str:
        """Moves `count` slots from master source to master target with `redis-cli --cluster
        reshard`, then waits until all nodes agree; returns redis-cli's output."""
        self.wait_agreed()  # redis-cli refuses to start while the nodes disagree
        output = self.redis_cli("--cluster", "reshard", source.addr,
                                "--cluster-from", self.node_id(source),
                                "--cluster-to", self.node_id(target),
                                "--cluster-slots", str(count), "--cluster-yes")
        self.wait_agreed()
        return output

    # -- failures and failovers
    def kill_node(self, node: RedisServer) -> None:
        """SIGKILL, as a crash would. A master's slots are noted first, for wait_failover."""
        if node.is_running():
            served = [(start, end) for start, end, master, _ in self.slot_map(node)
                      if master == node.addr]
            if served:
                self._served_before_kill[node.port] = served
        node.kill()

    def restart_node(self, node: RedisServer) -> RedisServer:
        """Starts a killed or stopped node again with its nodes.conf (a former master comes
        back as a replica of whoever took its slots); until the cluster agrees again."""
        node.restart()
        self.wait_agreed()
        return node

    def wait_failover(self, old_master: RedisServer,
                      timeout_s: float = FAILOVER_TIMEOUT_S) -> RedisServer:
        """After old_master died: until one other node serves every slot range it served
        (as kill_node noted, else in the last agreed map), and the cluster is ok and agreed
        again; returns that node, its promoted replica."""
        lost = self._served_before_kill.pop(old_master.port, None)
        if lost is None:  # killed some other way: go by the last agreed map
            lost = [(start, end) for start, end, master, _ in self._agreed or ()
                    if master == old_master.addr]
        if not lost:
            raise HarnessError(f"{old_master.addr} served no slots when it was killed")

        def promoted():
            now = self._agreed_map()
            if now is None:
                return None
            taken = {(start, end): master for start, end, master, _ in now
                     if (start, end) in lost}
            owners = set(taken.values())
            if len(taken) != len(lost) or len(owners) != 1 or old_master.addr in owners:
                return None
            self._agreed = now
            return self.node(owners.pop())

        return self._wait(promoted, f"a replica of {old_master.addr} to take over its slots",
                          timeout_s)

    def manual_failover(self, replica: RedisServer,
                        timeout_s: float = FAILOVER_TIMEOUT_S) -> RedisServer:
        """CLUSTER FAILOVER on replica; until it is a master by ROLE and the cluster is ok
        and agreed with it serving its former master's slots. Returns replica.

        Waits for the replica's link to its master first: without it the master never
        answers the failover request and Redis gives up silently after 5 s."""
        self._wait(lambda: self.command(replica, "INFO", "replication")
                   .get("master_link_status") == "up",
                   f"{replica.addr} to have its replication link up", timeout_s)
        self.command(replica, "CLUSTER", "FAILOVER")

        def promoted():
            if self.command(replica, "ROLE")[0] != "master":
                return False
            now = self._agreed_map()
            if now is None or not any(master == replica.addr for _, _, master, _ in now):
                return False
            self._agreed = now
            return True

        self._wait(promoted, f"{replica.addr} to be master after CLUSTER FAILOVER", timeout_s)
        return replica


def cluster_fixture(folder: str, **options):
    """A module-scoped pytest fixture: a ClusterTopology(**options) started in a temporary
    folder named `folder`, stopped after the module's last test. In a test module:
    `cluster = cluster_fixture("cluster", masters=3, replicas=1)`."""
    import pytest  # the command line below runs without it

    @pytest.fixture(scope="module")
    def cluster(tmp_path_factory):
        with ClusterTopology(tmp_path_factory.mktemp(folder), **options) as topology:
            yield topology

    return cluster


# --------------------------------------------------------------------------------------------
# a proxy in front of the cluster, judged against the nodes themselves


def mget_mset_op(windows: list[list[str]], values: dict[str, str]):
    """A Load op (harness.Load) over keys of several slots, split by the proxy: the i-th window
    of keys (round robin) read with MGET and checked against `values`; every 4th time an MSET
    of that window with the same values."""

    def op(client: redis.Redis, i: int) -> None:
        window = windows[i % len(windows)]
        if i % 4 == 3:
            assert client.mset({key: values[key] for key in window}) is True
            return
        got = client.mget(window)
        assert got == [values[key].encode() for key in window], got

    return op


def absent_on_owners(cluster: ClusterTopology, expected: dict[str, str]) -> list[str]:
    """The keys of `expected` that the master serving their slot does not hold with the
    expected value (read on the nodes, not through the proxy). The owners are those of one
    reading of CLUSTER SHARDS."""
    owners = cluster.slot_owners()
    by_owner: dict[str, list[str]] = {}
    for key in expected:
        owner = owners[key_slot(key)]
        if owner is None:
            raise HarnessError(f"no live master serves slot {key_slot(key)} of {key}")
        by_owner.setdefault(owner, []).append(key)
    missing = []
    for addr, keys in by_owner.items():
        pipe = cluster.node(addr).client().pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
        for key, value in zip(keys, pipe.execute()):
            if value is None or value.decode() != expected[key]:
                missing.append(key)
    return missing


def wait_table_matches(client: redis.Redis, cluster: ClusterTopology,
                       timeout_s: float = 10.0) -> None:
    """Until the proxy's slot table (INFO groups: each shard's master and slot count) is the
    cluster's own (CLUSTER SHARDS of a node)."""
    deadline = time.monotonic() + timeout_s
    while True:
        truth = {shard["master"]: sum(b - a + 1 for a, b in shard["slots"])
                 for shard in cluster.shards() if shard["slots"]}
        groups = client.info("groups")
        seen = {fields["master"]: fields["slots"] for name, fields in groups.items()
                if name.count(".") == 1 and fields.get("slots", 0) > 0}
        if seen == truth:
            return
        assert time.monotonic() < deadline, f"proxy {seen} != cluster {truth}"
        time.sleep(0.1)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Start a Redis Cluster on 127.0.0.1 and run until Ctrl-C.")
    parser.add_argument("--masters", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--node-timeout-ms", type=int, default=1000)
    parser.add_argument("--workdir", default=None, help="where logs and nodes.conf files go "
                        "(default: a new temporary directory)")
    parser.add_argument("--switchyard-config", default=None, metavar="PATH",
                        help="once the cluster is ready, write a switchyard config for it here "
                        "(one `cluster: true` pool, every master a seed)")
    parser.add_argument("--listen", default=f"{HOST}:22121",
                        help="the pool's listen address in that config")
    parser.add_argument("--pool-name", default="demo")
    args = parser.parse_args(argv)
    if args.masters < 1 or args.replicas < 0:
        parser.error("need at least one master and no negative counts")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="switchyard-cluster-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cluster = ClusterTopology(workdir, masters=args.masters, replicas=args.replicas,
                              node_timeout_ms=args.node_timeout_ms)
    stopping = catch_stop_signals()
    with cluster:
        print(cluster.describe(), flush=True)
        print("seeds: " + " ".join(cluster.seeds()), flush=True)
        print(f"logs and nodes.conf files: {workdir}", flush=True)
        if args.switchyard_config:
            pool = Pool(servers=cluster.seeds(), name=args.pool_name, listen=args.listen,
                        timeout=1000, extra={"cluster": "true"})
            write_config_atomically(Path(args.switchyard_config), pool.render())
        run_until_stopped(stopping)
    return 0


if __name__ == "__main__":
    sys.exit(main())
