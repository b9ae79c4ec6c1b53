"""Configuration reload on SIGHUP: the same file is read again and applied while clients stay
connected.

Each test rewrites the proxy's config file, sends SIGHUP and waits for the proxy's one-line
outcome in its log ("reload applied: ..." or "reload refused ..."). Placement after a change
is compared with nutcracker started on the new file.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time

import redis

from harness import (HOST, REDIS_BENCHMARK, ERROR_TIMEOUT_WORDS, ErrorReply, Nutcracker, Status,
                     free_port, locate_many, pool_config, spread_keys, wait_until)

OUTCOME = re.compile(r"reload (applied|refused).*")


def reload(proxy, pools=None, text: str | None = None) -> str:
    """Writes `pools` (or `text`) as the proxy's config, sends SIGHUP, returns the outcome line."""
    if text is None:
        for pool in pools:
            if pool.listen is None:
                pool.listen = f"{HOST}:{free_port()}"
        text = "".join(pool.render() for pool in pools)
    seen = len(OUTCOME.findall(proxy.log_text()))
    proxy.conf_path.write_text(text)
    os.kill(proxy.pid, signal.SIGHUP)
    outcomes = wait_until(lambda: OUTCOME.findall(proxy.log_text())[seen:] and
                          [m.group(0) for m in OUTCOME.finditer(proxy.log_text())][seen:],
                          "the reload outcome in the log")
    return outcomes[0]


def applied(line: str) -> str:
    assert line.startswith("reload applied"), line
    return line


def placement(proxy, servers, keys) -> dict:
    """key -> index of the backend the proxy puts it on (backends flushed first and after)."""
    for server in servers:
        server.flushall()
    pipe = proxy.client().pipeline(transaction=False)
    for key in keys:
        pipe.set(key, "v")
    assert all(reply is True for reply in pipe.execute())
    where = locate_many(keys, servers)
    for server in servers:
        server.flushall()
    assert all(len(v) == 1 for v in where.values()), where
    return {key: holders[0] for key, holders in where.items()}


def connection_refused(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return False
    except OSError:
        return True


# --------------------------------------------------------------------------------------------
# under load


class PipelinedClient(threading.Thread):
    """SET then GET its own keys in pipelines of 64 over one redis-py connection until stopped;
    records every wrong reply and the connection's CLIENT ID before and after."""

    def __init__(self, port: int, name: str):
        super().__init__(daemon=True)
        self.client = redis.Redis(host=HOST, port=port, socket_timeout=20,
                                  single_connection_client=True)
        self.name_prefix = name
        self.stop = threading.Event()
        self.batches = 0
        self.problems: list[str] = []
        self.first_id = self.client.client_id()
        self.last_id = None

    def run(self):
        keys = spread_keys(32, suffix=f":{self.name_prefix}")
        try:
            while not self.stop.is_set():
                pipe = self.client.pipeline(transaction=False)
                for key in keys:
                    pipe.set(key, f"{key}-{self.batches}")
                    pipe.get(key)
                replies = pipe.execute(raise_on_error=False)
                for i, key in enumerate(keys):
                    if replies[2 * i] is not True or replies[2 * i + 1] != \
                            f"{key}-{self.batches}".encode():
                        self.problems.append(f"{key}: {replies[2 * i:2 * i + 2]}")
                self.batches += 1
            self.last_id = self.client.client_id()
        except Exception as err:  # noqa: BLE001 - any failure is what the test reports
            self.problems.append(f"{type(err).__name__}: {err}")


def test_reload_under_load_loses_no_request_and_no_connection(procs):
    servers = procs.redis(2)
    alpha = pool_config(servers, names=["s1", "s2"], timeout=2000)
    proxy = procs.proxy(pools=[alpha])
    clients = [PipelinedClient(proxy.port, f"c{i}") for i in range(4)]
    requests = 200_000
    bench = subprocess.Popen(
        [REDIS_BENCHMARK, "-h", HOST, "-p", str(proxy.port), "-t", "set,get", "-n",
         str(requests), "-P", "16", "-c", "4", "-r", "1000", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for client in clients:
        client.start()
    try:
        wait_until(lambda: all(c.batches >= 3 for c in clients), "load before the reloads")
        beta = pool_config(servers[:1], name="beta")
        steps = [
            [pool_config(servers, names=["s1", "s2"], timeout=3000), beta],     # knob, new pool
            [beta, pool_config(servers, names=["s1", "s2"], timeout=3000,       # pools reordered,
                               extra={"server_connections": 2})],                # connections retired
            [pool_config(servers, names=["s1", "s2"], timeout=2000,
                         extra={"tcpkeepalive": "true"})],                       # pool removed
        ]
        for pools in steps:
            for pool in pools:
                if pool.name == "alpha":
                    pool.listen = alpha.listen
            applied(reload(proxy, pools))
            done = [c.batches for c in clients]
            wait_until(lambda: all(c.batches >= d + 20 for c, d in zip(clients, done)),
                       "load after the reload")
    finally:
        for client in clients:
            client.stop.set()
        for client in clients:
            client.join(timeout=30)
    output = bench.communicate(timeout=300)[0]
    for client in clients:
        assert not client.problems, client.problems[:5]
        assert client.last_id == client.first_id, "the client's connection was replaced"
    assert bench.returncode == 0, output
    assert "error" not in output.lower(), output
    bench_sets = sum(s.command_calls().get("set", 0) for s in servers)
    client_sets = sum(c.batches * 32 for c in clients)
    assert bench_sets == requests + client_sets, "a request was lost or sent twice"
    assert "connection lost" not in proxy.log_text()


# --------------------------------------------------------------------------------------------
# placement


def test_added_server_and_changed_address_move_the_keys_nutcracker_moves(procs):
    servers = procs.redis(4)
    keys = [f"key:{i}" for i in range(400)] + spread_keys(100, suffix=":spread")
    names = ["s1", "s2", "s3"]
    proxy = procs.proxy(pools=[pool_config(servers[:2], names=names[:2])])
    listen = proxy.pools[0].listen
    with_three = pool_config(servers[:3], names=names)
    oracle = procs.proxy(pools=[with_three], cls=Nutcracker)
    expected = placement(oracle, servers, keys)
    assert set(expected.values()) == {0, 1, 2}

    client = proxy.client()
    client.mset({key: key for key in keys})
    before = {key: where[0] for key, where in locate_many(keys, servers).items()}
    applied(reload(proxy, [pool_config(servers[:3], names=names, listen=listen)]))
    values = client.mget(keys)
    moved = {key for key in keys if expected[key] != before[key]}
    assert moved and all(expected[key] == 2 for key in moved), "only keys for s3 may move"
    for key, value in zip(keys, values):
        assert value == (None if key in moved else key.encode()), key
    assert placement(proxy, servers, keys) == expected

    # s2 moves to another address under the same name: its keys follow it, no other key moves.
    moved_s2 = [servers[0], servers[3], servers[2]]
    applied(reload(proxy, [pool_config(moved_s2, names=names, listen=listen)]))
    oracle2 = procs.proxy(pools=[pool_config(moved_s2, names=names)], cls=Nutcracker)
    expected2 = placement(oracle2, servers, keys)
    assert expected2 == {key: 3 if where == 1 else where for key, where in expected.items()}
    assert placement(proxy, servers, keys) == expected2


# --------------------------------------------------------------------------------------------
# knobs, refusals, listeners, removed pools, stats


def test_timeout_change_takes_effect_on_the_same_connections(procs):
    (server,) = procs.redis(1)
    pool = pool_config([server])
    proxy = procs.proxy(pools=[pool])
    sleeper = server.client(socket_timeout=10)
    with proxy.raw(timeout=10) as conn:
        assert conn.command("SET", "k", "v") == Status(b"OK")
        first_id = conn.command("CLIENT", "ID")
        pool.timeout = 300
        applied(reload(proxy, [pool]))
        sleep = threading.Thread(target=sleeper.execute_command, args=("DEBUG", "SLEEP", "1.5"))
        sleep.start()
        time.sleep(0.2)
        started = time.monotonic()
        reply = conn.command("GET", "k")
        elapsed = time.monotonic() - started
        sleep.join(timeout=10)
        assert isinstance(reply, ErrorReply) and ERROR_TIMEOUT_WORDS.search(reply), reply
        assert elapsed < 1.2, f"the new 300 ms timeout fired after {elapsed:.2f}s"
        assert conn.command("GET", "k") == b"v"
        assert conn.command("CLIENT", "ID") == first_id


def test_invalid_config_is_refused_and_the_old_one_keeps_serving(procs):
    servers = procs.redis(2)
    pool = pool_config(servers, names=["s1", "s2"])
    proxy = procs.proxy(pools=[pool])
    client = proxy.client()
    client.set("k", "v")
    good = proxy.conf_path.read_text()

    bad_hash = good.replace("  redis: true\n", "  redis: true\n  hash: fnv2\n")
    line = reload(proxy, text=bad_hash)
    assert line.startswith("reload refused"), line
    assert f"{proxy.conf_path}:4: pool 'alpha': hash: unknown hash function 'fnv2'" in line, line

    unresolvable = good.replace(servers[1].addr, "no-such-host.invalid:6379")
    line = reload(proxy, text=unresolvable)
    assert line.startswith("reload refused"), line
    assert (f"{proxy.conf_path}:6: pool 'alpha': servers: no-such-host.invalid:6379: "
            f"cannot resolve") in line, line
    assert len(re.findall(r"reload refused", proxy.log_text())) == 2

    assert client.get("k") == b"v"
    client.mset({key: key for key in spread_keys(50)})
    assert client.mget(spread_keys(50)) == [key.encode() for key in spread_keys(50)]
    line = applied(reload(proxy, text=good))
    assert line == "reload applied: no change"


def test_changed_listen_is_rebound_and_the_old_address_closed(procs):
    (server,) = procs.redis(1)
    pool = pool_config([server])
    proxy = procs.proxy(pools=[pool])
    old_port = proxy.port
    with proxy.raw() as old_client:
        assert old_client.command("SET", "k", "v") == Status(b"OK")
        new_port = free_port()
        pool.listen = f"{HOST}:{new_port}"
        line = applied(reload(proxy, [pool]))
        assert "settings changed [alpha.listen]" in line, line
        with proxy.raw(port=new_port) as new_client:
            assert new_client.command("GET", "k") == b"v"
        wait_until(lambda: connection_refused(old_port), "the old listen address to close")
        # A client accepted on the old address stays connected.
        assert old_client.command("GET", "k") == b"v"

        # A listen address that cannot be bound: the error is logged, the pool keeps its
        # current listener, and the rest of the new config applies.
        with socket.socket() as squatter:
            squatter.bind((HOST, 0))
            squatter.listen(1)
            taken = squatter.getsockname()[1]
            pool.listen = f"{HOST}:{taken}"
            pool.timeout = 250
            line = applied(reload(proxy, [pool]))
            assert "settings changed [alpha.listen, alpha.timeout]" in line, line
            assert f"cannot listen on {HOST}:{taken}" in proxy.log_text()
            assert "still listening on the previous address" in proxy.log_text()
            with proxy.raw(port=new_port) as again:
                assert again.command("GET", "k") == b"v"
        # The next reload binds it once it is free.
        applied(reload(proxy, [pool]))
        with proxy.raw(port=taken) as moved:
            assert moved.command("GET", "k") == b"v"
        wait_until(lambda: connection_refused(new_port), "the previous address to close")


def test_removed_pool_closes_its_clients_after_their_replies(procs):
    servers = procs.redis(2)
    alpha = pool_config(servers[:1], name="alpha")
    beta = pool_config(servers[1:], name="beta")
    proxy = procs.proxy(pools=[alpha, beta], extra_args=["-i", "50"])
    beta_port = proxy.listen_ports[1]
    sleeper = servers[1].client(socket_timeout=10)
    with proxy.raw() as alpha_client, proxy.raw(port=beta_port) as beta_client:
        assert beta_client.command("SET", "b", "1") == Status(b"OK")
        sleep = threading.Thread(target=sleeper.execute_command, args=("DEBUG", "SLEEP", "1"))
        sleep.start()
        time.sleep(0.2)
        beta_client.send(b"*2\r\n$3\r\nGET\r\n$1\r\nb\r\n")  # pending while the backend sleeps
        # The GET must be read and forwarded before the reload: bytes the proxy has not read
        # yet when the pool goes are dropped with the connection.
        wait_until(lambda: proxy.stats()["beta"][servers[1].addr]["requests"] == 2,
                   "the GET to be forwarded")
        line = applied(reload(proxy, [alpha]))
        assert "pools removed [beta]" in line, line
        assert beta_client.read_reply() == b"1", "the pending reply is written before closing"
        assert beta_client.is_closed_within(10), "the removed pool's client was not closed"
        sleep.join(timeout=10)
        wait_until(lambda: connection_refused(beta_port), "the removed pool's listener to close")
        assert alpha_client.command("SET", "a", "1") == Status(b"OK")
        assert alpha_client.command("GET", "a") == b"1"


def test_stats_follow_pools_and_servers_by_name(procs):
    servers = procs.redis(2)
    alpha = pool_config(servers, names=["s1", "s2"])
    proxy = procs.proxy(pools=[alpha], extra_args=["-i", "50"])
    client = proxy.client()
    keys = spread_keys(100, suffix=":stats")
    client.mset({key: "v" for key in keys})
    stats = wait_until(lambda: (s := proxy.stats())["alpha"]["s1"]["requests"] > 0 and s,
                       "stats with requests")
    before = {name: stats["alpha"][name]["requests"] for name in ("s1", "s2")}
    # A new pool goes first and alpha's servers swap places: indexes change, names do not.
    gamma = pool_config(servers[:1], name="gamma")
    reordered = pool_config([servers[1], servers[0]], names=["s2", "s1"], listen=alpha.listen)
    applied(reload(proxy, [gamma, reordered]))
    client.mget(keys)
    gamma_client = proxy.client(port=int(gamma.listen.rsplit(":", 1)[1]))
    gamma_client.set("g", "1")

    def settled():
        s = proxy.stats()
        after = {name: s["alpha"][name]["requests"] for name in ("s1", "s2")}
        done = after == {name: 2 * count for name, count in before.items()}
        return s if done and s["gamma"][servers[0].addr]["requests"] == 1 else None

    stats = wait_until(settled, "stats counted by name after the reload")
    for name in ("s1", "s2"):
        assert stats["alpha"][name]["server_connections"] == 1, stats["alpha"]
    assert stats["alpha"]["client_connections"] == 1
    assert stats["gamma"]["client_connections"] == 1
