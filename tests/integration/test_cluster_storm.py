"""A MOVED storm never reaches a client: every slot of a Redis Cluster changes master under load.

One cluster (3 masters with 1 replica each) behind a `cluster: true` pool whose only seed is
the first master. A key in each of the 16384 slots is written first; then, while clients
read and write through the proxy, ownership rotates: every slot of master A goes to B, B's
to C and C's to A, so all 16384 slots move and the proxy's slot table is stale for each of
them from its move until the proxy reads the table again. The moves are done by hand as
redis-cli does them (IMPORTING, MIGRATING, MIGRATE ... KEYS, SETSLOT NODE on every master),
pipelined over a chunk of slots at a time, so clients meet MOVED for slots that have moved
and ASK for keys of slots half migrated.

What the clients must see: no error at all, and every read the value last written: plain
GETs and SETs, read-your-write on keys rewritten in turn, MGET and MSET split over 64 slots,
pipelines of GETs in 32 slots whose replies must stay in order. Afterwards every
acknowledged write is read back on the master the cluster names for its key (on the node,
not through the proxy), the proxy's slot table is the cluster's own (a request in every slot
meets no MOVED), and the proxy counted the MOVED and ASK redirections it followed.
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster_topology import (SLOT_COUNT, ClusterTopology, absent_on_owners,  # noqa: E402
                              cluster_fixture, key_slot, mget_mset_op,
                              wait_table_matches)
from harness import (HOST, Load, Outcome, Pool, RedisServer, Switchyard,  # noqa: E402
                     acknowledged, describe_errors, longest_gap, read_op, wait_until,
                     write_op)

REWRITTEN_KEYS = 500
MGET_WIDTH = 64  # keys per MGET/MSET, each in its own slot: 64 fragments
PIPELINE_DEPTH = 32  # GETs per pipeline, each in its own slot
CHUNKS_PER_MASTER = 8  # each master's slots move in this many pipelined chunks
MIGRATE_TIMEOUT_MS = 5000
ADMIN_TIMEOUT_S = 30.0  # a pipeline of thousands of SETSLOTs, on a busy machine

# A node timeout well above any pause a loaded machine causes: a master that seems down for
# a moment would be failed over, which is another test.
cluster = cluster_fixture("storm", masters=3, replicas=1, node_timeout_ms=5000)


@pytest.fixture(scope="module")
def proxy(cluster, module_procs):
    pool = Pool(servers=[cluster.seeds()[0]], extra={"cluster": "true"})
    return module_procs.proxy(pools=[pool], cls=Switchyard)


# --------------------------------------------------------------------------------------------
# moving every slot


def slot_owners(cluster: ClusterTopology) -> list[str]:
    """The master address serving each of the 16384 slots, by CLUSTER SHARDS."""
    owners = cluster.slot_owners()
    assert None not in owners, "a slot is served by no live master"
    return owners  # type: ignore[return-value]


def on_each(node: RedisServer, commands: Sequence[Sequence]) -> list:
    """Runs commands on node as one pipeline; raises at the first error reply."""
    client = node.client(decode_responses=True, socket_timeout=ADMIN_TIMEOUT_S)
    try:
        pipe = client.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        return pipe.execute(raise_on_error=True)
    finally:
        client.connection_pool.disconnect()


def move_slots(cluster: ClusterTopology, slots: Sequence[int], source: RedisServer,
               target: RedisServer, bystanders: Sequence[RedisServer],
               while_migrating: Optional[Callable[[], object]] = None) -> int:
    """Moves `slots`, all served by master `source`, to master `target`, as migrate_slot does
    for one slot but pipelined over all of them: IMPORTING on target, MIGRATING on source,
    MIGRATE ... KEYS of each slot's keys until the source holds none, then SETSLOT NODE on
    target, source and the other masters, `bystanders` (replicas learn it by gossip).
    while_migrating() runs once the keys have moved and before SETSLOT NODE, with every slot
    still half migrated. Returns the number of keys moved.

    While a slot is MIGRATING the source creates no key in it (a write of a missing key gets
    ASK), so the loop ends, and SETSLOT NODE on the source (refused while it holds a key of
    the slot) succeeds."""
    target_id, source_id = cluster.node_id(target), cluster.node_id(source)
    on_each(target, [("CLUSTER", "SETSLOT", s, "IMPORTING", source_id) for s in slots])
    on_each(source, [("CLUSTER", "SETSLOT", s, "MIGRATING", target_id) for s in slots])
    moved, holding = 0, list(slots)
    while holding:
        found = on_each(source, [("CLUSTER", "GETKEYSINSLOT", s, 1000) for s in holding])
        batches = [(slot, keys) for slot, keys in zip(holding, found) if keys]
        on_each(source, [("MIGRATE", HOST, target.port, "", 0, MIGRATE_TIMEOUT_MS, "KEYS",
                          *keys) for _, keys in batches])
        moved += sum(len(keys) for _, keys in batches)
        holding = [slot for slot, _ in batches]
    if while_migrating is not None:
        while_migrating()
    for node in [target, source, *bystanders]:
        on_each(node, [("CLUSTER", "SETSLOT", s, "NODE", target_id) for s in slots])
    return moved


def wait_epochs_agree(cluster: ClusterTopology) -> None:
    """Until every node reports the same cluster_current_epoch.

    The first SETSLOT NODE of a move raises the importing master's config epoch above the
    current epoch it knows. Waiting for this before each move makes that epoch the cluster's
    highest, so a gossip message still claiming a moved slot for its former owner (a lower
    epoch) can never take the slot back, and its keys with it."""
    def epochs() -> set[str]:
        found = set()
        for node in cluster.running():
            info = ClusterTopology.command(node, "CLUSTER", "INFO")
            found.add(next(line for line in info.splitlines()
                           if line.startswith("cluster_current_epoch:")))
        return found

    wait_until(lambda: len(epochs()) == 1, "every cluster node to agree on the current epoch",
               30.0)


def rotate_every_slot(cluster: ClusterTopology,
                      while_first_chunk_migrates: Callable[[list[int], RedisServer], object]
                      ) -> int:
    """Every slot of masters[i] moves to masters[i + 1] (the last master's to the first), in
    CHUNKS_PER_MASTER rounds: round k moves the k-th chunk of each master's slots, one master
    after the other. Before the very first chunk's SETSLOT NODE,
    while_first_chunk_migrates(chunk, target) runs. Returns the number of keys moved.

    Rounds, rather than one master's slots after another's, because Redis 7 turns a master
    left without slots into a replica of the master that took the last one: here every
    master receives a chunk before it gives away its last."""
    masters = cluster.masters()
    owners = slot_owners(cluster)
    chunks = []
    for master in masters:
        slots = [s for s in range(SLOT_COUNT) if owners[s] == master.addr]
        size = -(-len(slots) // CHUNKS_PER_MASTER)
        chunks.append([slots[start:start + size] for start in range(0, len(slots), size)])
    moved = 0
    for round_ in range(CHUNKS_PER_MASTER):
        for i, source in enumerate(masters):
            target = masters[(i + 1) % len(masters)]
            bystanders = [m for m in masters if m is not source and m is not target]
            chunk = chunks[i][round_]
            hook = None
            if round_ == 0 and i == 0:
                hook = functools.partial(while_first_chunk_migrates, chunk, target)
            wait_epochs_agree(cluster)
            moved += move_slots(cluster, chunk, source, target, bystanders, hook)
    cluster.wait_agreed()
    return moved


# --------------------------------------------------------------------------------------------
# what clients do meanwhile


def rewrite_op(keys: Sequence[str]):
    """A Load op: SET of the i-th key (round robin) to i, then GET of it on the same
    connection, which must answer i (a write is never lost to, nor read from, a former
    owner)."""
    def rewrite(client: redis.Redis, i: int) -> None:
        key = keys[i % len(keys)]
        assert client.set(key, i) is True
        got = client.get(key)
        assert got == str(i).encode(), f"GET {key} after SET {i} -> {got!r}"

    return rewrite


def last_rewrites(outcomes: Sequence[Outcome], keys: Sequence[str]) -> dict[str, str]:
    """key -> value of the last rewrite_op(keys) of each key, for keys whose last rewrite
    succeeded (after a failed one the value on the node is not known)."""
    last: dict[str, Outcome] = {}
    for outcome in outcomes:
        last[keys[outcome.index % len(keys)]] = outcome
    return {key: str(o.index) for key, o in last.items() if o.ok}


def split_op(values: dict[str, str]):
    """A Load op: MGET of MGET_WIDTH keys of `values` (the i-th window of them, round
    robin), checked against their values; every 4th time an MSET of them with the same
    values. Over one key per slot, it sweeps all slots every 16384 / MGET_WIDTH requests."""
    keys = list(values)
    windows = [keys[start:start + MGET_WIDTH] for start in range(0, len(keys), MGET_WIDTH)]
    return mget_mset_op(windows, values)


def pipeline_op(values: dict[str, str]):
    """A Load op: PIPELINE_DEPTH GETs of consecutive keys of `values` (the i-th window, round
    robin; each in its own slot) sent in one write, every reply checked against its own key:
    a request redirected in the middle of a pipeline keeps its place."""
    keys = list(values)
    windows = [keys[start:start + PIPELINE_DEPTH]
               for start in range(0, len(keys), PIPELINE_DEPTH)]

    def op(client: redis.Redis, i: int) -> None:
        window = windows[i % len(windows)]
        pipe = client.pipeline(transaction=False)
        for key in window:
            pipe.get(key)
        got = pipe.execute()
        assert got == [values[key].encode() for key in window], got

    return op


class StormClients:
    """The clients of the storm, each a Load on its own proxy connection: two writers of new
    keys (SET, slots at random), a reader of the seeded keys (GET), a rewriter (SET then GET
    of REWRITTEN_KEYS keys in turn), a splitter (MGET and MSET of MGET_WIDTH slots) and a
    pipeliner (PIPELINE_DEPTH GETs in one write).
    Thread: the test's."""

    WRITERS = 2

    def __init__(self, proxy: Switchyard, seeded: dict[str, str]):
        self.seeded = seeded
        self.rewritten = [f"storm:rewrite:{i}" for i in range(REWRITTEN_KEYS)]
        ops = [write_op(f"storm:w{n}") for n in range(self.WRITERS)]
        ops += [read_op(seeded), rewrite_op(self.rewritten), split_op(seeded),
                pipeline_op(seeded)]
        self.loads = [Load(proxy.client(socket_timeout=30), op) for op in ops]
        self.outcomes: list[list[Outcome]] = []

    def start(self) -> "StormClients":
        for load in self.loads:
            load.start()
        return self

    def wait_successes(self, count: int, after: float, what: str) -> None:
        """Until each client has `count` successes sent after `after`."""
        for load in self.loads:
            load.wait_successes(count, after, what)

    def stop(self) -> list[Outcome]:
        """Stops every client (again is harmless); returns all their outcomes."""
        self.outcomes = [load.stop() for load in self.loads]
        return [o for each in self.outcomes for o in each]

    def longest_gap(self) -> float:
        """The longest time one client went without a success, in seconds."""
        return max(longest_gap(each) for each in self.outcomes)

    def acknowledged(self) -> dict[str, str]:
        """key -> value of every write a client got OK for and nobody overwrote since."""
        expected = dict(self.seeded)
        for n in range(self.WRITERS):
            expected.update(acknowledged(self.outcomes[n], f"storm:w{n}"))
        expected.update(last_rewrites(self.outcomes[self.WRITERS + 1], self.rewritten))
        return expected


def cluster_counters(client: redis.Redis) -> dict:
    """The pool's line of INFO cluster: moved, ask, refreshes, generation, ..."""
    return client.info("cluster")["alpha"]


def one_key_per_slot(prefix: str) -> dict[int, str]:
    """slot -> the first key prefix:n in it, for each of the 16384 slots."""
    keys: dict[int, str] = {}
    n = 0
    while len(keys) < SLOT_COUNT:
        key = f"{prefix}:{n}"
        keys.setdefault(key_slot(key), key)
        n += 1
    return keys


def key_in(slots: Sequence[int], prefix: str) -> str:
    """A key (prefix:n) whose slot is one of `slots`."""
    wanted = set(slots)
    return next(f"{prefix}:{n}" for n in range(1_000_000)
                if key_slot(f"{prefix}:{n}") in wanted)


class AskProbe:
    """Run in the middle of a move (see rotate_every_slot): a write through the proxy of a new
    key in a half-migrated slot. Its old owner answers ASK; the write must land on the
    importing master and the proxy count the ASK it followed."""

    def __init__(self, client: redis.Redis):
        self.client = client
        self.key: Optional[str] = None
        self.on_target: Optional[bytes] = None

    def __call__(self, chunk: list[int], target: RedisServer) -> None:
        self.key = key_in(chunk, "storm:ask")
        asks = cluster_counters(self.client)["ask"]
        assert self.client.set(self.key, "asked") is True
        # The importing master serves the slot only to a connection that sent ASKING.
        pipe = target.client().pipeline(transaction=False)
        pipe.execute_command("ASKING")
        pipe.get(self.key)
        self.on_target = pipe.execute()[1]
        wait_until(lambda: cluster_counters(self.client)["ask"] > asks,
                   "the proxy to count the ASK it followed", 10.0)


def sweep_until_no_redirection(client: redis.Redis, values: dict[str, str],
                               timeout_s: float = 10.0) -> None:
    """MGETs of all of `values` through the proxy, each checked, until one whole sweep meets
    no MOVED: the proxy reads the cluster's table again at least every
    cluster_refresh_interval (1 s), and from then on routes every slot of these keys to its
    owner directly."""
    keys = list(values)
    deadline = time.monotonic() + timeout_s
    while True:
        moved_before = cluster_counters(client)["moved"]
        for start in range(0, len(keys), 1024):
            window = keys[start:start + 1024]
            assert client.mget(window) == [values[key].encode() for key in window]
        redirected = cluster_counters(client)["moved"] - moved_before
        if redirected == 0:
            return
        assert time.monotonic() < deadline, \
            f"a sweep of every slot still met {redirected} MOVED {timeout_s}s after the storm"
        time.sleep(0.2)


# --------------------------------------------------------------------------------------------
# the storm


def test_every_slot_moves_under_load_and_no_client_sees_it(cluster, proxy):
    client = proxy.client()
    seeded = {key: f"v{slot}" for slot, key in sorted(one_key_per_slot("storm:seed").items())}
    assert client.mset(seeded) is True
    assert not absent_on_owners(cluster, seeded)
    wait_table_matches(client, cluster)
    owners_before = slot_owners(cluster)
    masters = [m.addr for m in cluster.masters()]
    successor = {m: masters[(i + 1) % len(masters)] for i, m in enumerate(masters)}
    counters_before = cluster_counters(client)
    ask_probe = AskProbe(client)

    clients = StormClients(proxy, seeded).start()
    try:
        clients.wait_successes(50, 0.0, "load before the storm")
        began = time.monotonic()
        keys_moved = rotate_every_slot(cluster, ask_probe)
        ended = time.monotonic()
        clients.wait_successes(50, ended, "load after the storm")
    finally:
        outcomes = clients.stop()
    counters = cluster_counters(client)
    followed = {name: counters[name] - counters_before[name]
                for name in ("moved", "ask", "refreshes")}
    print(f"STORM all slots moved in {ended - began:.1f}s with {keys_moved} keys; "
          f"{len(outcomes)} requests, longest client gap "
          f"{clients.longest_gap() * 1000:.0f} ms; proxy counters grew by {followed}")

    failed = [o for o in outcomes if not o.ok]
    assert not failed, (f"{len(failed)} of {len(outcomes)} requests failed: "
                        f"{describe_errors(failed)}; proxy log {proxy.log_path}")
    owners_after = slot_owners(cluster)
    unmoved = [s for s in range(SLOT_COUNT) if owners_after[s] != successor[owners_before[s]]]
    assert not unmoved, f"{len(unmoved)} slots did not go to the next master: {unmoved[:5]}"
    assert ask_probe.on_target == b"asked", "the ASK-redirected write is not on the importer"
    expected = {**clients.acknowledged(), ask_probe.key: "asked"}
    missing = absent_on_owners(cluster, expected)
    assert not missing, f"{len(missing)} acknowledged writes not on their owner: {missing[:5]}"
    assert followed["moved"] > 0 and followed["ask"] > 0, counters
    assert counters["generation"] > counters_before["generation"], counters

    # The proxy's table is the cluster's: slot counts per master, then, once it has read the
    # settled table, a request in every slot goes straight to the slot's owner.
    wait_table_matches(client, cluster)
    sweep_until_no_redirection(client, seeded)
