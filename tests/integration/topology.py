"""Sentinel-managed replication groups on 127.0.0.1, for tests and the README demo.

A Topology starts G replication groups, each one master and R replicas (Debian's
redis-server 7.0 with --replicaof), and S redis-sentinel processes that all monitor every
group by name (g0, g1, ...). Everything runs on free ports, is stopped by pid, and every
wait polls with a generous deadline so a busy machine slows tests down instead of failing
them.

    with Topology(workdir, groups=2, replicas=2, sentinels=3) as topo:
        old = topo.master_of("g0")
        topo.failover("g0")
        new = topo.wait_failover("g0", old)

With sentinels=0 the nodes are plain replication groups (no Sentinel), which switchyard
serves as role-probed groups. proxy_pool() renders a switchyard pool over either kind, and
proxy_groups() / wait_proxy_group() read what the proxy reports about them in INFO groups.

As a script it prints the ports and runs in the foreground until Ctrl-C; with
--switchyard-config it also writes a switchyard config for the groups (once they are ready):

    /usr/bin/python3 tests/integration/topology.py --groups 2 --replicas 2 --sentinels 3 \
        --switchyard-config /tmp/switchyard.yml --listen 127.0.0.1:22121 --read-from replica

Thread: the thread that created the Topology (the harness ties children to it).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import signal
import threading
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (HOST, HarnessError, ManagedProcess, Pool, RedisServer,  # noqa: E402
                     free_port, spawn)

REDIS_SENTINEL = "/usr/bin/redis-sentinel"
SETTLE_TIMEOUT_S = 30.0
FAILOVER_TIMEOUT_S = 30.0


def wait_until(condition: Callable[[], object], timeout_s: float, what: str,
               interval_s: float = 0.05):
    """Polls condition() until it returns a true value (returned) or raises HarnessError.

    Redis errors and socket errors raised by condition() count as "not yet".
    """
    deadline = time.monotonic() + timeout_s
    last_error = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except (redis.exceptions.RedisError, OSError) as err:
            last_error = err
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise HarnessError(f"timed out after {timeout_s}s waiting for {what}{detail}")
        time.sleep(interval_s)


def role_of(port: int, timeout_s: float = 2.0) -> Optional[list]:
    """The ROLE reply of the node on port, or None when it does not answer."""
    client = redis.Redis(host=HOST, port=port, socket_timeout=timeout_s,
                         socket_connect_timeout=timeout_s)
    try:
        return client.execute_command("ROLE")
    except (redis.exceptions.RedisError, OSError):
        return None
    finally:
        client.connection_pool.disconnect()


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _fields(flat) -> dict[str, str]:
    """A Sentinel instance entry ([name, value, name, value, ...]) as a dict of strings."""
    if isinstance(flat, dict):
        return {_text(k): _text(v) for k, v in flat.items()}
    return {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat) - 1, 2)}


class SentinelNode(ManagedProcess):
    """One redis-sentinel on 127.0.0.1 with its own config file, which Sentinel rewrites
    with what it learns; restart() reuses it, as a real Sentinel restart would."""

    def __init__(self, workdir: Path, groups: Sequence[tuple[str, int]], quorum: int,
                 down_after_ms: int, failover_timeout_ms: int, password: Optional[str] = None):
        self.port = free_port()
        self.password = password
        self.dir = Path(tempfile.mkdtemp(prefix=f"sentinel-{self.port}-", dir=workdir))
        self.conf_path = self.dir / "sentinel.conf"
        self.log_path = self.dir / "sentinel.log"
        lines = [f"port {self.port}", f"bind {HOST}", "protected-mode no", "daemonize no",
                 f"dir {self.dir}", "sentinel resolve-hostnames no"]
        if password:
            quoted = '"' + password.replace("\\", "\\\\").replace('"', '\\"') + '"'
            lines += [f"requirepass {quoted}", f"sentinel sentinel-pass {quoted}"]
        for name, master_port in groups:
            lines += [f"sentinel monitor {name} {HOST} {master_port} {quorum}",
                      f"sentinel down-after-milliseconds {name} {down_after_ms}",
                      f"sentinel failover-timeout {name} {failover_timeout_ms}",
                      f"sentinel parallel-syncs {name} 1"]
        self.conf_path.write_text("\n".join(lines) + "\n")
        self.proc: Optional[subprocess.Popen] = None

    @property
    def addr(self) -> str:
        return f"{HOST}:{self.port}"

    def start(self) -> "SentinelNode":
        self.proc = spawn([REDIS_SENTINEL, str(self.conf_path)], self.log_path)
        wait_until(self._ready, SETTLE_TIMEOUT_S, f"sentinel on {self.port} to answer PING")
        return self

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise HarnessError(f"redis-sentinel on {self.port} exited "
                               f"({self.proc.returncode}):\n{self.log_text()}")
        return self.client(socket_timeout=1).ping()

    def client(self, **kwargs) -> redis.Redis:
        kwargs.setdefault("socket_timeout", 5)
        kwargs.setdefault("socket_connect_timeout", 5)
        return redis.Redis(host=HOST, port=self.port, password=self.password, **kwargs)

    def command(self, *args):
        client = self.client()
        try:
            return client.execute_command(*args)
        finally:
            client.connection_pool.disconnect()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Group:
    """One replication group: its Sentinel name and its nodes (the first started as master)."""

    def __init__(self, name: str, nodes: list[RedisServer]):
        self.name = name
        self.nodes = nodes

    def node(self, port: int) -> RedisServer:
        for node in self.nodes:
            if node.port == port:
                return node
        raise HarnessError(f"no node on port {port} in group {self.name}")


def topology_fixture(folder: str, **options):
    """A module-scoped pytest fixture: a Topology(**options) started in a temporary folder
    named `folder`, stopped after the module's last test. In a test module:
    `topo = topology_fixture("failover", replicas=2)`."""
    import pytest  # the command line below runs without it

    @pytest.fixture(scope="module")
    def topo(tmp_path_factory):
        with Topology(tmp_path_factory.mktemp(folder), **options) as topology:
            yield topology

    return topo


class Topology:
    """G groups x (1 master + R replicas) and S Sentinels monitoring every group."""

    def __init__(self, workdir: Path, groups: int = 1, replicas: int = 2, sentinels: int = 3,
                 quorum: int = 2, down_after_ms: int = 1000, failover_timeout_ms: int = 3000,
                 sentinel_password: Optional[str] = None, name_prefix: str = "g",
                 masters: Optional[dict[str, RedisServer]] = None):
        """masters: groups built around servers already running (name -> server, e.g. the
        named servers of a nutcracker pool) instead of `groups` new ones; start() gives each
        its replicas and has the Sentinels monitor it under that name."""
        self.workdir = Path(workdir)
        self.replica_count = replicas
        self.quorum = quorum
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.sentinel_password = sentinel_password
        if masters is not None:
            self.groups = [Group(name, [server]) for name, server in masters.items()]
        else:
            self.groups = [Group(f"{name_prefix}{i}", []) for i in range(groups)]
        self.sentinel_count = sentinels
        self.sentinels: list[SentinelNode] = []

    # -- lifecycle
    def start(self) -> "Topology":
        try:
            for group in self.groups:
                if not group.nodes:
                    group.nodes.append(RedisServer(self.workdir).start())
                master = group.nodes[0]
                for _ in range(self.replica_count):
                    replica = RedisServer(self.workdir,
                                          extra_args=["--replicaof", HOST, str(master.port)])
                    group.nodes.append(replica.start())
            for group in self.groups:
                self.wait_replicas_linked(group.name)
            monitored = [(group.name, group.nodes[0].port) for group in self.groups]
            for _ in range(self.sentinel_count):
                sentinel = SentinelNode(self.workdir, monitored, self.quorum,
                                        self.down_after_ms, self.failover_timeout_ms,
                                        self.sentinel_password)
                self.sentinels.append(sentinel)
                sentinel.start()
            self.wait_settled()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops every Sentinel, then every node, each by its pid."""
        for sentinel in self.sentinels:
            sentinel.stop()
        for group in self.groups:
            for node in group.nodes:
                node.stop()

    def __enter__(self) -> "Topology":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- lookups
    def group(self, name: str) -> Group:
        for group in self.groups:
            if group.name == name:
                return group
        raise HarnessError(f"no group named {name}")

    def node(self, port: int) -> RedisServer:
        for group in self.groups:
            for node in group.nodes:
                if node.port == port:
                    return node
        raise HarnessError(f"no node on port {port}")

    def running_sentinels(self) -> list[SentinelNode]:
        return [s for s in self.sentinels if s.is_running()]

    def master_of(self, name: str) -> RedisServer:
        """The one running node of the group whose ROLE is master (waits for there to be one)."""
        group = self.group(name)

        def single_master():
            masters = [n for n in group.nodes
                       if n.is_running() and (role_of(n.port) or [b""])[0] == b"master"]
            return masters[0] if len(masters) == 1 else None

        return wait_until(single_master, FAILOVER_TIMEOUT_S, f"one master in {name}")

    def replicas_of(self, name: str) -> list[RedisServer]:
        master = self.master_of(name)
        return [n for n in self.group(name).nodes if n is not master]

    def sentinel_master_port(self, name: str, sentinel: Optional[SentinelNode] = None) -> int:
        sentinel = sentinel or self.running_sentinels()[0]
        host, port = sentinel.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", name)
        return int(port)

    # -- waits
    def wait_replicas_linked(self, name: str, timeout_s: float = SETTLE_TIMEOUT_S) -> None:
        """Until every running non-master node of the group is a replica of its master with
        the link up."""
        master = self.master_of(name)

        def linked():
            for node in self.group(name).nodes:
                if node is master or not node.is_running():
                    continue
                role = role_of(node.port)
                if not role or role[0] != b"slave" or int(role[2]) != master.port \
                        or role[3] != b"connected":
                    return False
            return True

        wait_until(linked, timeout_s, f"replicas of {name} linked to {master.port}")

    def wait_settled(self, timeout_s: float = SETTLE_TIMEOUT_S) -> None:
        """Until every running Sentinel knows the current master of every group, every
        running replica (not down), and every other running Sentinel."""
        def settled():
            live = self.running_sentinels()
            for group in self.groups:
                master = self.master_of(group.name)
                want = {n.port for n in group.nodes if n is not master and n.is_running()}
                for sentinel in live:
                    if self.sentinel_master_port(group.name, sentinel) != master.port:
                        return False
                    replicas = map(_fields,
                                   sentinel.command("SENTINEL", "REPLICAS", group.name))
                    known = {int(r["port"]) for r in replicas
                             if "s_down" not in r["flags"] and "disconnected" not in r["flags"]}
                    if not want <= known:
                        return False
                    others = sentinel.command("SENTINEL", "SENTINELS", group.name)
                    if len(others) < len(live) - 1:
                        return False
            return True

        wait_until(settled, timeout_s, "the Sentinels to agree on the topology", 0.2)

    # -- actions
    def kill_node(self, port: int) -> None:
        """SIGKILL, as a crash would."""
        self.node(port).kill()

    def stop_node(self, port: int) -> None:
        self.node(port).stop()

    def restart_node(self, port: int) -> RedisServer:
        """Starts a stopped node again on its port (empty data; a former master comes back as
        a master until Sentinel converts it)."""
        return self.node(port).restart()

    def failover(self, name: str, timeout_s: float = FAILOVER_TIMEOUT_S) -> None:
        """SENTINEL FAILOVER through a running Sentinel, retried while Sentinel says a failover
        is in progress or no replica is good enough yet (e.g. right after a previous one)."""
        def attempt():
            for sentinel in self.running_sentinels():
                try:
                    return sentinel.command("SENTINEL", "FAILOVER", name)
                except redis.exceptions.ResponseError as err:
                    if "INPROG" not in str(err) and "NOGOODSLAVE" not in str(err):
                        raise
            return False

        wait_until(attempt, timeout_s, f"Sentinel to accept a failover of {name}", 0.25)

    def wait_failover(self, name: str, old_master_port: int,
                      timeout_s: float = FAILOVER_TIMEOUT_S) -> RedisServer:
        """Until a node other than old_master_port is the group's master by ROLE and every
        running Sentinel names it; returns it."""
        group = self.group(name)

        def new_master():
            for node in group.nodes:
                if node.port == old_master_port or not node.is_running():
                    continue
                role = role_of(node.port)
                if role and role[0] == b"master":
                    ports = {self.sentinel_master_port(name, s) for s in self.running_sentinels()}
                    return node if ports == {node.port} else None
            return None

        return wait_until(new_master, timeout_s, f"a new master of {name}", 0.1)

    def settled_master(self, name: str, timeout_s: float = FAILOVER_TIMEOUT_S) -> RedisServer:
        """Until one running node of the group is master by ROLE and every running Sentinel
        names it; returns it. Unlike wait_failover, it accepts whatever master Sentinel chose
        last (a stalled machine can make Sentinel fail over again on its own)."""
        group = self.group(name)

        def agreed():
            masters = [n for n in group.nodes
                       if n.is_running() and (role_of(n.port) or [b""])[0] == b"master"]
            if len(masters) != 1:
                return None
            ports = {self.sentinel_master_port(name, s) for s in self.running_sentinels()}
            return masters[0] if ports == {masters[0].port} else None

        return wait_until(agreed, timeout_s, f"the Sentinels to agree on a master of {name}", 0.1)

    def sentinel_events(self) -> str:
        """The Sentinels' failure-detection and failover events (+sdown, +odown, +switch-
        master, +tilt...), merged in time order: what to show when a failover test fails."""
        wanted = ("+sdown", "-sdown", "+odown", "-odown", "+try-failover", "+elected-leader",
                  "+selected-slave", "+switch-master", "+tilt", "-tilt", "-failover-abort")
        events = set()
        for sentinel in self.sentinels:
            if not sentinel.log_path.exists():
                continue
            for line in sentinel.log_path.read_text(errors="replace").splitlines():
                if any(f"# {word} " in line or f"* {word} " in line for word in wanted):
                    pid, _, rest = line.partition(":X ")
                    events.add((rest[:24], f"sentinel {sentinel.port}: {rest[25:]}"))
        return "\n".join(f"{at} {what}" for at, what in sorted(events))

    def switch_announcements(self) -> "SwitchAnnouncements":
        """A subscription to +switch-master on every running Sentinel (use it in a with)."""
        return SwitchAnnouncements(self.running_sentinels())

    # -- a switchyard pool over the groups
    def proxy_pool(self, name: str = "alpha", role_probed: bool = False, **keys) -> Pool:
        """A switchyard pool over every group. Sentinel-managed by default: one `servers` line
        per group, named by its Sentinel master name, with the group's first master as the
        first guess, and `sentinels` listing every Sentinel (`sentinel_auth` too when they
        have a password). role_probed: one `servers` line per node, named by its group, and no
        Sentinels. keys: Pool fields (timeout, hash, listen...) or further pool keys
        (read_from, failover_wait, role_probe_interval...)."""
        fields = {f.name for f in dataclasses.fields(Pool)}
        pool_keys = {k: v for k, v in keys.items() if k in fields}
        extra = {k: v for k, v in keys.items() if k not in fields}
        if role_probed:
            servers = [node.addr for group in self.groups for node in group.nodes]
            names = [group.name for group in self.groups for _ in group.nodes]
        else:
            assert self.sentinels, "a Sentinel-managed pool needs Sentinels"
            servers = [group.nodes[0].addr for group in self.groups]
            names = [group.name for group in self.groups]
            extra = {"sentinels": "[" + ", ".join(s.addr for s in self.sentinels) + "]",
                     **extra}
            if self.sentinel_password:
                escaped = self.sentinel_password.replace("\\", "\\\\").replace('"', '\\"')
                extra["sentinel_auth"] = f'"{escaped}"'
        return Pool(servers=servers, name=name, names=names, extra=extra, **pool_keys)

    def wait_proxy_sees(self, client: redis.Redis, name: str, pool: str = "alpha",
                        timeout_s: float = SETTLE_TIMEOUT_S) -> "ProxyGroup":
        """Until the proxy behind `client` shows group `name` as it is: the master by ROLE
        confirmed with writes open, and every running replica (once linked) healthy."""
        self.wait_replicas_linked(name, timeout_s)
        master = self.master_of(name)
        replicas = {n.addr for n in self.group(name).nodes if n is not master and n.is_running()}
        return wait_proxy_group(
            client, name, lambda g: g.master == master.addr and g.confirmed
            and g.fields.get("writes") == "open" and g.healthy_replicas() == replicas,
            f"master {master.addr} confirmed, writes open, replicas {sorted(replicas)} healthy",
            timeout_s, pool)

    # -- reporting
    def describe(self) -> str:
        lines = []
        for group in self.groups:
            master = self.master_of(group.name)
            replicas = ", ".join(str(n.port) for n in group.nodes if n is not master)
            lines.append(f"group {group.name}: master {HOST}:{master.port}, "
                         f"replicas {replicas or '-'}")
        lines.append("sentinels: " + ", ".join(s.addr for s in self.sentinels))
        return "\n".join(lines)


class SwitchAnnouncements:
    """Collects every +switch-master the given Sentinels publish, with its arrival time
    (time.monotonic()), on a background thread. A Sentinel that goes away is dropped.

    All of them are subscribed, not one: the failover leader announces first, the others only
    once its hello message reaches them (up to two seconds later).
    Thread: the creating thread calls first() and close(); the collector runs on its own.
    """

    def __init__(self, sentinels: Sequence[SentinelNode]):
        self._subscriptions = []
        for sentinel in sentinels:
            pubsub = sentinel.client().pubsub()
            pubsub.subscribe("+switch-master")
            wait_until(lambda: (pubsub.get_message(timeout=0.5) or {}).get("type") ==
                       "subscribe", SETTLE_TIMEOUT_S, f"a subscription on {sentinel.addr}")
            self._subscriptions.append(pubsub)
        self._announced: list[tuple[float, str]] = []  # (arrival, group name)
        self._lock = threading.Lock()  # guards _announced
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while not self._stopping.is_set() and self._subscriptions:
            for pubsub in list(self._subscriptions):
                try:
                    message = pubsub.get_message(timeout=0.01)
                except (redis.exceptions.RedisError, OSError):
                    self._subscriptions.remove(pubsub)
                    continue
                if message and message["type"] == "message":
                    name = _text(message["data"]).split(" ", 1)[0]
                    with self._lock:
                        self._announced.append((time.monotonic(), name))

    def first(self, name: str, timeout_s: float = FAILOVER_TIMEOUT_S) -> float:
        """When the first +switch-master of group `name` arrived (waits for one)."""
        def arrival():
            with self._lock:
                return next((at for at, group in self._announced if group == name), None)

        return wait_until(arrival, timeout_s, f"a +switch-master of {name}")

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        for pubsub in self._subscriptions:
            pubsub.close()

    def __enter__(self) -> "SwitchAnnouncements":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# the groups as switchyard reports them (INFO groups)


@dataclasses.dataclass
class ProxyGroup:
    """One group's lines of the proxy's INFO groups: `fields` from `<pool>.<group>` (master,
    master_confirmed, writes, replicas, healthy_replicas, sentinels, reachable_sentinels,
    failovers, generation...), and `nodes` from `<pool>.<group>.nodeN` (addr, role, health,
    lag_seconds, rtt_usec), in N order."""

    fields: dict
    nodes: list[dict]

    @property
    def master(self) -> Optional[str]:
        return self.fields.get("master")

    @property
    def confirmed(self) -> bool:
        return self.fields.get("master_confirmed") == 1

    def healthy_replicas(self) -> set[str]:
        return {n["addr"] for n in self.nodes
                if n.get("role") == "replica" and n.get("health") == "healthy"}

    def node(self, addr: str) -> Optional[dict]:
        return next((n for n in self.nodes if n.get("addr") == addr), None)


_NODE_KEY = re.compile(r"^(?P<group>.+)\.node(?P<index>\d+)$")


def proxy_groups(client: redis.Redis, pool: str = "alpha") -> dict[str, ProxyGroup]:
    """Group name -> ProxyGroup, from the proxy's `INFO groups` (parsed by redis-py)."""
    groups: dict[str, ProxyGroup] = {}
    nodes: dict[str, list[tuple[int, dict]]] = {}
    prefix = pool + "."
    for key, value in client.info("groups").items():
        if not key.startswith(prefix) or not isinstance(value, dict):
            continue
        rest = key[len(prefix):]
        match = _NODE_KEY.match(rest)
        if match:
            nodes.setdefault(match["group"], []).append((int(match["index"]), value))
        else:
            groups[rest] = ProxyGroup(value, [])
    for name, entries in nodes.items():
        if name in groups:
            groups[name].nodes = [entry for _, entry in sorted(entries, key=lambda e: e[0])]
    return groups


def wait_proxy_group(client: redis.Redis, group: str, predicate: Callable[[ProxyGroup], object],
                     what: str, timeout_s: float = SETTLE_TIMEOUT_S, pool: str = "alpha",
                     interval_s: float = 0.05,
                     context: Optional[Callable[[], str]] = None) -> ProxyGroup:
    """Until the proxy's INFO groups shows `group` satisfying predicate; returns it. On time
    out the assertion carries the last INFO groups text the proxy gave, and context() when
    given (e.g. Topology.sentinel_events)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            state = proxy_groups(client, pool).get(group)
            if state is not None and predicate(state):
                return state
        except (redis.exceptions.RedisError, OSError, KeyError, TypeError):
            pass
        if time.monotonic() >= deadline:
            try:
                shown = client.info("groups")
            except (redis.exceptions.RedisError, OSError) as err:
                shown = f"(INFO groups failed: {err})"
            extra = f"\n{context()}" if context else ""
            raise AssertionError(f"timed out after {timeout_s}s waiting for {pool}.{group}: "
                                 f"{what}; INFO groups:\n{shown}{extra}")
        time.sleep(interval_s)


def write_switchyard_config(topo: Topology, path: Path, args: argparse.Namespace) -> None:
    """Writes the pool for topo to path in one rename, so a reader never sees half a file."""
    pool = topo.proxy_pool(name=args.pool_name, listen=args.listen, hash="fnv1a_64",
                           distribution="ketama", timeout=1000, read_from=args.read_from)
    write_config_atomically(path, pool.render())


def write_config_atomically(path: Path, text: str) -> None:
    """Writes a switchyard config in one rename, so a reader (the demo script waiting for the
    file) never sees half of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    os.replace(partial, path)
    print(f"switchyard config: {path}", flush=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Start Sentinel-managed Redis replication groups on 127.0.0.1 and run "
                    "until Ctrl-C.")
    parser.add_argument("--groups", type=int, default=2)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--sentinels", type=int, default=3)
    parser.add_argument("--quorum", type=int, default=2)
    parser.add_argument("--down-after-ms", type=int, default=1000)
    parser.add_argument("--failover-timeout-ms", type=int, default=3000)
    parser.add_argument("--sentinel-password", default=None)
    parser.add_argument("--workdir", default=None, help="where logs and configs go "
                        "(default: a new temporary directory)")
    parser.add_argument("--switchyard-config", default=None, metavar="PATH",
                        help="once the groups are ready, write a switchyard config for them "
                        "here (one pool, Sentinel-managed)")
    parser.add_argument("--listen", default=f"{HOST}:22121",
                        help="the pool's listen address in that config")
    parser.add_argument("--read-from", default="replica",
                        help="the pool's read_from in that config")
    parser.add_argument("--pool-name", default="demo")
    args = parser.parse_args(argv)
    if args.groups < 1 or args.replicas < 0 or args.sentinels < 1:
        parser.error("need at least one group and one Sentinel, and no negative counts")
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="switchyard-topology-"))
    workdir.mkdir(parents=True, exist_ok=True)
    topo = Topology(workdir, groups=args.groups, replicas=args.replicas,
                    sentinels=args.sentinels, quorum=args.quorum,
                    down_after_ms=args.down_after_ms,
                    failover_timeout_ms=args.failover_timeout_ms,
                    sentinel_password=args.sentinel_password)
    stopping = catch_stop_signals()
    with topo:
        print(topo.describe(), flush=True)
        print(f"logs and configs: {workdir}", flush=True)
        if args.switchyard_config:
            write_switchyard_config(topo, Path(args.switchyard_config), args)
        run_until_stopped(stopping)
    return 0


def catch_stop_signals() -> list:
    """SIGINT and SIGTERM append to the returned list instead of ending the process (a shell
    starts background jobs with SIGINT ignored, and Python then never raises
    KeyboardInterrupt): a command line's main loop polls it."""
    stopping: list = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.append(True))
    return stopping


def run_until_stopped(stopping: list) -> None:
    """Says so, then sleeps until catch_stop_signals' list is not empty."""
    print("running; Ctrl-C stops everything", flush=True)
    while not stopping:
        time.sleep(0.2)


if __name__ == "__main__":
    sys.exit(main())
