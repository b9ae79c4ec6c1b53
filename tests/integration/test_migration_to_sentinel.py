"""From a nutcracker pool of named servers to Sentinel-managed groups of the same names: no
key moves.

The migration a twemproxy user makes, end to end, with Debian's nutcracker as the oracle:

1. Three plain redis-server masters behind nutcracker, a pool of named servers (ketama,
   fnv1a_64, hash tag "{}"); 3000 keys are written through nutcracker.
2. The move, with no client downtime: a writer keeps writing through nutcracker and readers
   read through switchyard while each master gets a replica and three Sentinels start to
   monitor every master under its nutcracker server name. One switchyard runs nutcracker's
   config unchanged (but for its listen address) and is reloaded (SIGHUP) with `sentinels:`
   added; another is started on that config. Neither reader misses a key or a write.
3. Through switchyard every key nutcracker wrote reads back with its value; INFO shows each
   server as a group with its master, replica and Sentinels; a key switchyard writes lands on
   the master where nutcracker put it, and nutcracker reads it back.
4. A Sentinel failover of one group moves none of its keys: they read back through
   switchyard from the promoted replica. nutcracker, which follows no failover, now sends
   that group's writes to the old master, a replica (READONLY): it is retired.
5. A server name the Sentinels do not monitor is not a config error: switchyard serves that
   server at its configured address, as a group without replicas, and logs Sentinel's
   refusal.

The tests run in file order, each starting from the state the previous one left.
"""

from __future__ import annotations

import difflib
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (Load, Nutcracker, Pool, Proxy, RedisServer, Switchyard,  # noqa: E402
                     acknowledged, cpu_seconds, describe_errors, keys_per_server, locate_many, pool_config,
                     values_absent, wait_until, write_op)
from topology import (FAILOVER_TIMEOUT_S, Topology, proxy_groups, role_of,  # noqa: E402
                      wait_proxy_group)

NAMES = ["shard1", "shard2", "shard3"]
KEYS = 3000
# Sentinel's down-after is raised from the Topology default so that a stalled machine does
# not start a failover of its own while nutcracker (which follows none) still takes writes.
DOWN_AFTER_MS = 5000


@dataclass
class Migration:
    """What the tests hand on to each other, in file order."""

    masters: list[RedisServer]
    nutcracker_pool: Pool
    nutcracker: Optional[Proxy] = None
    topo: Optional[Topology] = None
    reloaded: Optional[Proxy] = None  # started as nutcracker's drop-in, reloaded with Sentinels
    started: Optional[Proxy] = None  # started on the Sentinel config
    values: dict[str, str] = field(default_factory=dict)  # every key written, and its value
    home: dict[str, int] = field(default_factory=dict)  # key -> index of the master nutcracker chose

    def switchyards(self) -> list[Proxy]:
        return [proxy for proxy in (self.reloaded, self.started) if proxy is not None]

    def sentinel_pool(self, listen: str) -> Pool:
        """nutcracker's pool with `sentinels` added (and the given listen address)."""
        sentinels = "[" + ", ".join(s.addr for s in self.topo.sentinels) + "]"
        return replace(self.nutcracker_pool, listen=listen,
                       extra={**self.nutcracker_pool.extra, "sentinels": sentinels})


@pytest.fixture(scope="module")
def migration(module_procs):
    masters = module_procs.redis(len(NAMES))
    pool = pool_config(masters, names=NAMES, hash="fnv1a_64", distribution="ketama",
                       hash_tag="{}", timeout=5000)
    state = Migration(masters, pool)
    yield state
    if state.topo is not None:
        state.topo.stop()


def seed_values() -> dict[str, str]:
    """KEYS keys, plain and hash-tagged, with values that tell them apart."""
    values = {f"user:{i}": f"u{i}" for i in range(KEYS - 500)}
    values.update({f"{{cart:{i % 40}}}:item{i}": f"c{i}" for i in range(500)})
    return values


def write_all(client: redis.Redis, values: dict[str, str]) -> None:
    pipe = client.pipeline(transaction=False)
    for key, value in values.items():
        pipe.set(key, value)
    failed = [(key, reply) for key, reply in zip(values, pipe.execute(raise_on_error=False))
              if reply is not True]
    assert not failed, f"{len(failed)} SETs failed, first: {failed[:3]}"


def misread(client: redis.Redis, values: dict[str, str]) -> list[tuple[str, object]]:
    """(key, what came back) for every key of `values` that `client` does not read back with
    its value (one pipelined GET pass)."""
    pipe = client.pipeline(transaction=False)
    for key in values:
        pipe.get(key)
    got = pipe.execute(raise_on_error=False)
    return [(key, value) for key, value in zip(values, got)
            if not isinstance(value, bytes) or value.decode() != values[key]]


def assert_placed_as_nutcracker(state: Migration, values: dict[str, str]) -> None:
    """Every key of `values` is on the master nutcracker chose for it, with its value, and on
    no other master."""
    where = locate_many(list(values), state.masters)
    moved = {key: holders for key, holders in where.items() if holders != [state.home[key]]}
    assert not moved, f"{len(moved)} keys not (only) on nutcracker's master: " \
                      f"{list(moved.items())[:5]}"
    for index, master in enumerate(state.masters):
        mine = {key: value for key, value in values.items() if state.home[key] == index}
        absent = values_absent(master, mine)
        assert not absent, f"{len(absent)} keys lack their value on {NAMES[index]}: {absent[:5]}"


def wait_groups(state: Migration, proxy: Proxy) -> None:
    """Until the proxy shows every group as it is: master confirmed, writes open, replica
    healthy."""
    client = proxy.client()
    for name in NAMES:
        state.topo.wait_proxy_sees(client, name)


def test_nutcracker_places_the_keys(migration, module_procs):
    migration.nutcracker = module_procs.proxy(pools=[migration.nutcracker_pool], cls=Nutcracker)
    values = seed_values()
    write_all(migration.nutcracker.client(), values)
    where = locate_many(list(values), migration.masters)
    assert all(len(holders) == 1 for holders in where.values())
    migration.home = {key: holders[0] for key, holders in where.items()}
    migration.values = dict(values)
    per_master = [list(migration.home.values()).count(i) for i in range(len(NAMES))]
    assert all(per_master), f"keys per master: {per_master}"


def test_cut_over_side_by_side_without_a_miss(migration, module_procs):
    """nutcracker keeps taking writes while replicas and Sentinels arrive and switchyard
    takes over the reads: a switchyard reloaded from nutcracker's config to the Sentinel one,
    and one started on the Sentinel config. No read misses a key or an acknowledged write."""
    nutcracker_text = migration.nutcracker.config_text
    dropin_pool = replace(migration.nutcracker_pool, listen=None)
    migration.reloaded = module_procs.proxy(pools=[dropin_pool], cls=Switchyard)
    dropin_text = migration.reloaded.config_text
    assert changed_lines(nutcracker_text, dropin_text) == (
        [f"  listen: {migration.nutcracker_pool.listen}"], [f"  listen: {dropin_pool.listen}"])

    newest: dict[str, int] = {}  # the index of the writer's last acknowledged write
    writer = Load(migration.nutcracker.client(), acknowledging(write_op("live"), newest))
    readers = [Load(migration.reloaded.client(), read_op_following(migration.values, newest))]
    loads = [writer.start(), readers[0].start()]
    try:
        writer.wait_successes(200, 0.0, "writes through nutcracker")
        readers[0].wait_successes(200, 0.0, "reads through switchyard")

        migration.topo = Topology(migration.reloaded.dir.parent, replicas=1, sentinels=3,
                                  down_after_ms=DOWN_AFTER_MS,
                                  masters=dict(zip(NAMES, migration.masters))).start()

        sentinel_text = migration.sentinel_pool(dropin_pool.listen).render()
        removed, added = changed_lines(dropin_text, sentinel_text)
        assert removed == [] and [line.split(":")[0] for line in added] == ["  sentinels"], \
            (removed, added)
        outcome = migration.reloaded.reload(sentinel_text)
        assert outcome.startswith("reload applied"), outcome
        wait_groups(migration, migration.reloaded)

        migration.started = module_procs.proxy(
            pools=[migration.sentinel_pool(listen=None)], cls=Switchyard)
        wait_groups(migration, migration.started)
        readers.append(Load(migration.started.client(),
                            read_op_following(migration.values, newest)).start())
        loads.append(readers[1])
        now = time.monotonic()
        for load, what in ((writer, "writes"), (readers[0], "reads (reloaded)"),
                           (readers[1], "reads (started)")):
            load.wait_successes(300, now, f"{what} with every group Sentinel-managed")
    finally:
        outcomes = [load.stop() for load in loads]
    for load_outcomes, who in zip(outcomes, ("nutcracker writer", "reader (reloaded)",
                                             "reader (started)")):
        failed = [o for o in load_outcomes if not o.ok]
        assert not failed, f"{who}: {len(failed)} failures: {describe_errors(failed)}"
    live = acknowledged(outcomes[0], "live")
    for proxy in migration.switchyards():
        assert not misread(proxy.client(), live)
    migration.home.update({key: holders[0]
                           for key, holders in locate_many(list(live), migration.masters).items()})
    migration.values.update(live)


def acknowledging(op, newest: dict[str, int]):
    """op, and once it succeeded, newest["index"] = its index."""
    def run(client: redis.Redis, i: int) -> None:
        op(client, i)
        newest["index"] = i

    return run


def read_op_following(values: dict[str, str], newest: dict[str, int]):
    """A Load op: GET of the i-th key of `values` (round robin), then of the writer's newest
    acknowledged key; each must hold its value."""
    keys = list(values)

    def read(client: redis.Redis, i: int) -> None:
        key = keys[i % len(keys)]
        got = client.get(key)
        assert got == values[key].encode(), f"GET {key} -> {got!r}"
        index = newest.get("index")
        if index is not None:
            got = client.get(f"live:{index}")
            assert got == str(index).encode(), f"GET live:{index} -> {got!r}"

    return read


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(lines only in `before`, lines only in `after`) of two config texts."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return ([line[2:] for line in diff if line.startswith("- ")],
            [line[2:] for line in diff if line.startswith("+ ")])


def test_every_key_reads_back_and_info_shows_the_groups(migration):
    for proxy in migration.switchyards():
        client = proxy.client()
        wrong = misread(client, migration.values)
        assert not wrong, f"{proxy.name}: {len(wrong)} of {len(migration.values)} keys read " \
                          f"back wrong, first: {wrong[:5]}"
        for index, name in enumerate(NAMES):
            expected = {"master": migration.masters[index].addr, "master_confirmed": 1,
                        "writes": "open", "replicas": 1, "healthy_replicas": 1, "sentinels": 3,
                        "reachable_sentinels": 3, "failovers": 0}
            wait_proxy_group(client, name, lambda g, want=expected: all(
                g.fields.get(key) == value for key, value in want.items()),
                f"{proxy.name} showing {expected}")


def test_switchyard_writes_land_where_nutcracker_puts_them(migration):
    """Every key rewritten through switchyard changes on the master nutcracker chose, and
    nutcracker reads back each key switchyard writes."""
    proxy = migration.started
    dbsizes = [master.client().dbsize() for master in migration.masters]
    rewritten = {key: f"sy-{value}" for key, value in migration.values.items()}
    write_all(proxy.client(), rewritten)
    assert [master.client().dbsize() for master in migration.masters] == dbsizes
    assert_placed_as_nutcracker(migration, rewritten)
    migration.values = rewritten

    fresh = {f"fresh:{i}": f"f{i}" for i in range(600)}
    fresh.update({f"{{cart:{i % 40}}}:fresh{i}": f"g{i}" for i in range(200)})
    write_all(proxy.client(), fresh)
    wrong = misread(migration.nutcracker.client(), fresh)
    assert not wrong, f"nutcracker does not read back {len(wrong)} keys switchyard wrote: " \
                      f"{wrong[:5]}"
    where = locate_many(list(fresh), migration.masters)
    assert all(len(holders) == 1 for holders in where.values())
    migration.home.update({key: holders[0] for key, holders in where.items()})
    migration.values.update(fresh)


def test_failover_of_one_group_moves_no_key(migration):
    """A Sentinel failover of one group under writes through switchyard leaves every key
    readable, the group's on its new master; nutcracker's writes to the group now fail."""
    topo, name = migration.topo, NAMES[0]
    old = topo.master_of(name)
    writer = Load(migration.started.client(socket_timeout=30), write_op("after")).start()
    try:
        writer.wait_successes(200, 0.0, "writes before the failover")
        topo.failover(name)
        topo.wait_failover(name, old.port)
        new = topo.settled_master(name)
        for proxy in migration.switchyards():
            wait_proxy_group(proxy.client(), name,
                             lambda g: g.master == new.addr and g.confirmed
                             and g.fields.get("writes") == "open",
                             f"the new master {new.addr} confirmed",
                             context=topo.sentinel_events)
        writer.wait_successes(300, time.monotonic(), "writes after the failover")
    finally:
        outcomes = writer.stop()
    failed = [o for o in outcomes if not o.ok]
    assert not failed, f"client-visible errors: {describe_errors(failed)}"
    migration.values.update(acknowledged(outcomes, "after"))

    group_keys = {key: value for key, value in migration.values.items()
                  if migration.home.get(key) == 0}
    wait_until(lambda: (role_of(old.port) or [b""])[0] == b"slave",
               f"Sentinel to turn the old master of {name} into a replica", FAILOVER_TIMEOUT_S)
    with pytest.raises(redis.exceptions.ReadOnlyError):
        migration.nutcracker.client().set(next(iter(group_keys)), "stale")
    migration.nutcracker.stop()

    for proxy in migration.switchyards():
        wrong = misread(proxy.client(), migration.values)
        assert not wrong, f"{proxy.name}: {len(wrong)} keys read back wrong after the " \
                          f"failover, first: {wrong[:5]}\n{topo.sentinel_events()}"
    assert group_keys and not values_absent(new, group_keys), \
        f"{name}'s keys are not all on its new master {new.addr}"
    wait_until(lambda: new.client().dbsize() == old.client().dbsize(),
               f"the old master of {name} to hold what the new one holds")


def test_a_name_the_sentinels_do_not_know(migration, procs):
    """A server whose name no Sentinel monitors is served at its configured address, as a
    group without replicas, and Sentinel's refusal is logged; the other groups are unaffected
    for their clients."""
    unknown = procs.redis(1)[0]
    known = migration.topo.settled_master(NAMES[1])
    sentinels = "[" + ", ".join(s.addr for s in migration.topo.sentinels) + "]"
    pool = pool_config([known, unknown], names=[NAMES[1], "shard9"], hash="fnv1a_64",
                       distribution="ketama", hash_tag="{}", timeout=5000,
                       extra={"sentinels": sentinels})
    proxy = procs.proxy(pools=[pool], cls=Switchyard)
    client = proxy.client()
    group = wait_proxy_group(client, "shard9",
                             lambda g: g.master == unknown.addr and g.confirmed, "shard9 served")
    assert group.fields["replicas"] == 0, group.fields
    wait_proxy_group(client, NAMES[1], lambda g: g.master == known.addr and g.confirmed
                     and g.fields["healthy_replicas"] == 1, f"{NAMES[1]} discovered")
    on_known, on_unknown = keys_per_server(client, [known, unknown], count=5, prefix="typo")
    for key in on_known + on_unknown:
        assert client.set(key, "t") and client.get(key) == b"t"
    assert all(unknown.client().get(key) == b"t" for key in on_unknown)
    wait_until(lambda: "does not monitor a master named 'shard9'" in proxy.log_text(),
               "the unknown name in the log")
    # The Sentinels answer; their refusal of one name is not a failure of theirs, so nothing
    # flickers and the control thread stays idle.
    cpu_before = cpu_seconds(proxy.pid)
    for _ in range(10):
        for name in (NAMES[1], "shard9"):
            fields = proxy_groups(client)[name].fields
            assert fields["reachable_sentinels"] == fields["sentinels"] == 3, (name, fields)
        time.sleep(0.2)
    used = cpu_seconds(proxy.pid) - cpu_before
    assert used < 0.5, f"switchyard used {used:.2f} s of CPU in 2 s, idle but for its pollers"
