"""auto_eject_hosts: a failing server leaves the distribution after server_failure_limit
failures in a row and comes back only after it answers a probe ([AUTH redis_auth] + PING on a
fresh connection, to a TCP address or a unix socket); without auto_eject_hosts a down
server's keys get errors and never move.

Where keys go during an ejection is compared with nutcracker configured with the remaining
servers only (that is the ring nutcracker rebuilds when it ejects a server).
"""

from __future__ import annotations

import time

from harness import ErrorReply, Nutcracker, locate_many, pool_config, spread_keys, wait_until

KEYS = spread_keys(300, suffix=":eject")
PASSWORD = "probe-secret"


def write_all(client) -> list:
    """SETs every key in one pipeline; returns the keys that got an error."""
    pipe = client.pipeline(transaction=False)
    for key in KEYS:
        pipe.set(key, key)
    replies = pipe.execute(raise_on_error=False)
    return [key for key, reply in zip(KEYS, replies) if reply is not True]


def where(servers) -> dict:
    found = locate_many(KEYS, servers)
    assert all(len(holders) == 1 for holders in found.values()), found
    return {key: holders[0] for key, holders in found.items()}


def flush(servers) -> None:
    for server in servers:
        server.flushall()


def eject_pool(servers, **extra):
    settings = {"auto_eject_hosts": "true", "server_failure_limit": 2,
                "server_retry_timeout": 1000}
    settings.update(extra)
    return pool_config(servers, names=["a", "b", "c"][:len(servers)], timeout=500,
                       hash="fnv1a_64", distribution="ketama", extra=settings)


def test_ejected_server_keys_move_as_nutcracker_moves_them_and_come_back(procs):
    servers = procs.redis(3)
    a, b, c = servers
    proxy = procs.proxy(pools=[eject_pool(servers)], extra_args=["-i", "50", "--threads", "1"])
    client = proxy.client()
    assert write_all(client) == []
    full = where(servers)
    on_b = {key for key, index in full.items() if index == 1}
    assert on_b, "no key on the server to eject"
    flush(servers)

    # nutcracker's ring over the two remaining servers (its ring after ejecting b).
    oracle = procs.proxy(pools=[pool_config([a, c], names=["a", "c"], hash="fnv1a_64",
                                            distribution="ketama")], cls=Nutcracker)
    assert write_all(oracle.client()) == []
    expected_without_b = {key: [0, 2][index] for key, index in where([a, c]).items()}
    flush([a, c])

    b.kill()
    # Before the failure limit is reached b's keys get errors (and only b's keys).
    first_errors = write_all(client)
    assert first_errors and set(first_errors) <= on_b, first_errors
    wait_until(lambda: write_all(client) == [], "b's keys to move to a and c")
    during = {key: [0, 2][index] for key, index in where([a, c]).items()}
    assert during == expected_without_b, "placement during the ejection differs from nutcracker's"
    assert {key for key in KEYS if during[key] != full[key]} == on_b, "only b's keys may move"
    stats = wait_until(lambda: (s := proxy.stats())["alpha"]["server_ejects"] == 1 and s,
                       "server_ejects in the stats")
    assert stats["alpha"]["b"]["server_ejected_at"] > (time.time() - 60) * 1e6
    assert stats["alpha"]["a"]["server_ejected_at"] == 0

    # Still ejected while b is down: the probe after server_retry_timeout fails.
    wait_until(lambda: "still ejected: probe failed" in proxy.log_text(), "a failed probe")
    b.restart()
    wait_until(lambda: "b answered its probe" in proxy.log_text(), "b to be readmitted")
    flush([a, c])
    assert write_all(client) == []
    assert where(servers) == full, "keys did not return to b"


def test_probe_authenticates_with_redis_auth_and_a_refused_auth_keeps_the_server_out(procs):
    servers = procs.redis(2, requirepass=PASSWORD)
    a, b = servers
    proxy = procs.proxy(pools=[eject_pool(servers, redis_auth=PASSWORD)],
                        extra_args=["-i", "50", "--threads", "1"])
    client = proxy.client(password=PASSWORD)
    assert write_all(client) == []
    full = where(servers)
    assert 1 in full.values(), "no key on the server to eject"
    flush(servers)

    b.kill()
    wait_until(lambda: write_all(client) == [], "b's keys to move to a")
    # b is back but wants another password: its probe's AUTH is refused, so it stays out
    # although it answers.
    b.requirepass = "another-secret"
    b.restart()
    wait_until(lambda: "b still ejected: probe failed: AUTH refused" in proxy.log_text(),
               "a probe of b refused at AUTH")
    flush([a])
    assert write_all(client) == []
    assert set(where(servers).values()) == {0}, "b took keys back without a PONG"
    assert "b answered its probe" not in proxy.log_text()

    # With the pool's password again the next probe authenticates, gets PONG, readmits b.
    b.client().config_set("requirepass", PASSWORD)
    b.requirepass = PASSWORD
    wait_until(lambda: "b answered its probe" in proxy.log_text(), "b to be readmitted")
    flush(servers)
    assert write_all(client) == []
    assert where(servers) == full, "keys did not return to b"


def test_a_server_on_a_unix_socket_is_probed_on_its_socket(procs, tmp_path):
    path = str(tmp_path / "b.sock")
    a, = procs.redis(1)
    b, = procs.redis(1, extra_args=["--unixsocket", path, "--unixsocketperm", "700"])
    proxy = procs.proxy(pools=[eject_pool([a, path])], extra_args=["-i", "50", "--threads", "1"])
    client = proxy.client()
    assert write_all(client) == []
    full = where([a, b])
    assert 1 in full.values(), "no key on the server to eject"
    flush([a, b])

    b.kill()
    wait_until(lambda: write_all(client) == [], "b's keys to move to a")
    wait_until(lambda: f"b still ejected: probe failed: cannot connect to {path}"
               in proxy.log_text(), "a failed probe of b's socket")
    b.restart()
    wait_until(lambda: "b answered its probe" in proxy.log_text(), "b to be readmitted")
    flush([a, b])
    assert write_all(client) == []
    assert where([a, b]) == full, "keys did not return to b"


def test_without_auto_eject_hosts_a_down_server_keeps_its_keys(procs):
    servers = procs.redis(3)
    a, b, c = servers
    pool = pool_config(servers, names=["a", "b", "c"], timeout=500,
                       extra={"server_failure_limit": 1, "server_retry_timeout": 100})
    proxy = procs.proxy(pools=[pool], extra_args=["-i", "50"])
    client = proxy.client()
    assert write_all(client) == []
    on_b = {key for key, index in where(servers).items() if index == 1}
    flush(servers)
    b.kill()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert set(write_all(client)) == on_b, "b's keys must fail, every other key succeed"
        time.sleep(0.1)
    moved = {key for key, found in locate_many(KEYS, [a, c]).items() if found} & on_b
    assert not moved, f"{len(moved)} of b's keys were remapped"
    with proxy.raw() as conn:
        reply = conn.command("GET", sorted(on_b)[0])
        assert isinstance(reply, ErrorReply) and reply.startswith(b"ERR backend b ("), reply
    assert proxy.stats()["alpha"]["server_ejects"] == 0
