"""Lua scripts across a failover. Redis does not replicate its script cache, so a new master
answers EVALSHA with NOSCRIPT; through switchyard a client never sees its scripts vanish: the
bodies it sent (SCRIPT LOAD, EVAL) are loaded on every backend connection the proxy opens,
the new master's too. EVALSHA then works outside and inside MULTI, where a client cannot
recover from NOSCRIPT by itself. A script loaded on the old master behind the proxy's back is
the control: the new master lacks it.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import HOST, Switchyard, pool_config, wait_until  # noqa: E402
from topology import Topology, topology_fixture, wait_proxy_group  # noqa: E402

LOADED = "return redis.call('INCRBY', KEYS[1], ARGV[1])"
EVALED = "return 'evaled:' .. ARGV[1]"
READER = "return redis.call('GET', KEYS[1])"
BEHIND_THE_PROXY = "return 'not through the proxy'"
PROBED = "return redis.call('INCR', KEYS[1])"


def sha1(body: str) -> str:
    return hashlib.sha1(body.encode()).hexdigest()


def stats(client: redis.Redis) -> dict:
    return client.info("stats")


topo = topology_fixture("scripts-failover", replicas=1)


@pytest.fixture(scope="module")
def proxy(topo, module_procs):
    return module_procs.proxy(pools=[topo.proxy_pool(read_from="prefer_replica")],
                              cls=Switchyard)


def evalsha_in_multi(client: redis.Redis, sha: str, key: str, by: int):
    pipe = client.pipeline(transaction=True)
    pipe.evalsha(sha, 1, key, by)
    pipe.get(key)
    return pipe.execute()


def test_scripts_sent_through_the_proxy_survive_a_failover(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    old = topo.master_of("g0")
    assert client.script_load(LOADED) == sha1(LOADED)
    assert client.eval(EVALED, 0, "x") == b"evaled:x"
    assert client.evalsha(sha1(LOADED), 1, "sc:n", 2) == 2
    old.client().script_load(BEHIND_THE_PROXY)

    topo.failover("g0")
    new = topo.wait_failover("g0", old.port)
    topo.wait_proxy_sees(client, "g0")
    reloaded_before = stats(client)["scripts_reloaded"]

    # Outside MULTI, inside MULTI, and the EVAL'd script by its SHA.
    assert client.evalsha(sha1(LOADED), 1, "sc:n", 3) == 5
    assert evalsha_in_multi(client, sha1(LOADED), "sc:n", 4) == [9, b"9"]
    assert client.evalsha(sha1(EVALED), 0, "y") == b"evaled:y"
    assert new.client().script_exists(sha1(LOADED), sha1(EVALED)) == [True, True]
    # The control: what the proxy never saw is gone from the new master.
    assert new.client().script_exists(sha1(BEHIND_THE_PROXY)) == [False]
    with pytest.raises(redis.exceptions.NoScriptError):
        client.evalsha(sha1(BEHIND_THE_PROXY), 0)

    info = stats(client)
    assert info["scripts_carried"] == 2
    assert info["scripts_carried_bytes"] == len(LOADED) + len(EVALED)
    assert info["scripts_reloaded"] >= reloaded_before
    assert info["scripts_reloaded"] > 0
    assert info["scripts_reload_errors"] == 0
    assert info["scripts_not_carried"] == 0


def test_replicas_get_the_scripts_for_evalsha_ro(topo, proxy):
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    sha = client.script_load(READER)
    client.set("sc:r", "v")
    master = topo.master_of("g0")
    replica = topo.replicas_of("g0")[0]
    wait_until(lambda: replica.client().get("sc:r") == b"v", "the replica to have sc:r",
               timeout_s=10)
    reads_before = replica.calls("evalsha_ro")
    # prefer_replica sends the read to the replica, which has the script only from the proxy.
    for _ in range(5):
        assert client.evalsha_ro(sha, 1, "sc:r") == b"v"
    assert replica.calls("evalsha_ro") > reads_before
    assert replica.client().script_exists(sha) == [True]
    assert master.client().script_exists(sha) == [True]


def test_transactions_with_scripts_on_the_next_master(topo, proxy):
    """A second failover, back: private connections leased after it (MULTI/EVALSHA/EXEC, as
    ioredis sends for BullMQ's FlowProducer) find every script on the master."""
    client = proxy.client()
    topo.wait_proxy_sees(client, "g0")
    old = topo.master_of("g0")
    topo.failover("g0")
    new = topo.wait_failover("g0", old.port)
    topo.wait_proxy_sees(client, "g0")
    start = int(client.get("sc:n"))
    for i in range(20):
        assert evalsha_in_multi(client, sha1(LOADED), "sc:n", 1) == [start + i + 1,
                                                                    str(start + i + 1).encode()]
    assert new.calls("exec") >= 20
    assert new.client().script_exists(sha1(LOADED), sha1(EVALED), sha1(READER)) == [True] * 3


def test_a_restarted_plain_server_gets_the_scripts_again(procs):
    backend = procs.redis(1)[0]
    proxy = procs.proxy(pools=[pool_config([backend])], cls=Switchyard)
    client = proxy.client()
    sha = client.script_load(LOADED)
    assert client.evalsha(sha, 1, "sc:p", 1) == 1
    backend.stop()
    backend.restart()
    assert backend.client().script_exists(sha) == [False]

    def runs():
        try:
            return client.evalsha(sha, 1, "sc:p", 1) == 1
        except redis.exceptions.ConnectionError:
            return False
        except redis.exceptions.ResponseError as err:
            assert "NOSCRIPT" not in str(err), err
            return False

    wait_until(runs, "EVALSHA on the restarted server", timeout_s=10)
    assert evalsha_in_multi(client, sha, "sc:p", 1) == [2, b"2"]


def test_script_flush_through_the_proxy_forgets_the_scripts(procs):
    backend = procs.redis(1)[0]
    proxy = procs.proxy(pools=[pool_config([backend])], cls=Switchyard)
    client = proxy.client()
    sha = client.script_load(LOADED)
    assert stats(client)["scripts_carried"] == 1
    assert client.script_flush() is True
    assert stats(client)["scripts_carried"] == 0
    backend.stop()
    backend.restart()

    def flushed_stays_flushed():  # a new connection does not bring the script back
        try:
            client.evalsha(sha, 1, "sc:f", 1)
        except redis.exceptions.NoScriptError:
            return True
        except (redis.exceptions.ConnectionError, redis.exceptions.ResponseError):
            return False  # the backend is not back yet
        raise AssertionError("EVALSHA ran a script flushed through the proxy")

    wait_until(flushed_stays_flushed, "the restarted server to answer", timeout_s=10)
    assert client.script_load(LOADED) == sha  # sent again: carried again
    assert stats(client)["scripts_carried"] == 1


@pytest.fixture(scope="module")
def probed_topo(tmp_path_factory):
    with Topology(tmp_path_factory.mktemp("scripts-probed"), groups=1, replicas=1,
                  sentinels=0) as topology:
        yield topology


@pytest.fixture(scope="module")
def probed_proxy(probed_topo, module_procs):
    pool = probed_topo.proxy_pool(name="alpha", role_probed=True, role_probe_interval=500)
    return module_procs.proxy(pools=[pool], cls=Switchyard)


def test_a_role_probed_group_that_switches_master_gets_the_scripts(probed_topo, probed_proxy):
    client = probed_proxy.client()
    probed_topo.wait_proxy_sees(client, "g0")
    old, new = probed_topo.master_of("g0"), probed_topo.replicas_of("g0")[0]
    sha = client.script_load(PROBED)
    assert new.client().script_exists(sha) == [False]  # SCRIPT LOAD is not replicated
    new.client().execute_command("REPLICAOF", "NO", "ONE")
    old.client().execute_command("REPLICAOF", HOST, new.port)
    wait_proxy_group(client, "g0", lambda g: g.master == new.addr and g.confirmed
                     and g.fields.get("writes") == "open", f"master {new.addr}, writes open",
                     20, "alpha")
    assert evalsha_in_multi(client, sha, "sc:probed", 1) == [1, b"1"]
    assert client.evalsha(sha, 1, "sc:probed") == 2
    assert new.client().get("sc:probed") == b"2"
