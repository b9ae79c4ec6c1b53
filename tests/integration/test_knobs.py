"""twemproxy's socket knobs reach the sockets: tcpkeepalive, backlog, reuseport, preconnect.

Each is checked from outside the proxy, the way an operator would: `ss` for socket options
and queues, CLIENT LIST on the backends for connections, a second process for the port.
"""

from __future__ import annotations

import subprocess
import time

import pytest

from harness import HOST, Switchyard, free_port, pool_config, spread_keys, switchyard_bin

SS = "/usr/bin/ss"


def ss(*args: str) -> str:
    return subprocess.run([SS, *args], capture_output=True, text=True, check=True,
                          timeout=10).stdout


def proxy_side_sockets(backend_port: int) -> list[str]:
    """`ss -tnoe` lines of established TCP sockets whose peer is backend_port (the proxy's
    ends of its backend connections, not redis-server's ends)."""
    out = ss("-tnoe", "state", "established", "dst", f"{HOST}:{backend_port}")
    return [line for line in out.splitlines()[1:] if line.strip()]


def wait_until(predicate, timeout_s: float = 15.0, every_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return value
        time.sleep(every_s)


def proxy_clients(server) -> list[str]:
    """CLIENT LIST entries of `server` other than the connection asking."""
    client = server.client()
    try:
        listing = client.execute_command("CLIENT", "LIST")
        own = client.client_id()
    finally:
        client.close()
    if isinstance(listing, bytes):
        listing = listing.decode()
    return [line for line in listing.splitlines() if not line.startswith(f"id={own} ")]


# --------------------------------------------------------------------------------------------
# tcpkeepalive


@pytest.mark.parametrize("keepalive", [True, False])
def test_tcpkeepalive_sets_so_keepalive_on_backend_sockets(procs, keepalive):
    servers = procs.redis(2)
    extra = {"tcpkeepalive": "true"} if keepalive else {}
    proxy = procs.proxy(pools=[pool_config(servers, extra=extra)], cls=Switchyard,
                        extra_args=["--threads", "1"])
    client = proxy.client()
    for key in spread_keys(64, suffix=":ka"):  # keys on both servers
        client.set(key, "v")
    for server in servers:
        lines = wait_until(lambda: proxy_side_sockets(server.port))
        assert lines, f"no backend connection to {server.addr}"
        for line in lines:
            has_timer = "timer:(keepalive" in line
            assert has_timer == keepalive, line


# --------------------------------------------------------------------------------------------
# backlog


def listen_queue_limit(port: int) -> int:
    """Send-Q of the listening socket on port: for a listener, the backlog given to listen(2)."""
    out = ss("-ltn", "sport", f"= :{port}")
    for line in out.splitlines()[1:]:
        fields = line.split()
        if fields and fields[0] == "LISTEN":
            return int(fields[2])
    raise AssertionError(f"no listener on {port}:\n{out}")


def test_backlog_reaches_listen(procs):
    servers = procs.redis(1)
    default_pool = pool_config(servers, name="plain")
    custom_pool = pool_config(servers, name="custom", extra={"backlog": 77})
    proxy = procs.proxy(pools=[default_pool, custom_pool], cls=Switchyard)
    assert listen_queue_limit(proxy.listen_ports[0]) == 512  # nutcracker's default
    assert listen_queue_limit(proxy.listen_ports[1]) == 77


# --------------------------------------------------------------------------------------------
# reuseport


def listeners_on(port: int) -> int:
    out = ss("-ltn", "sport", f"= :{port}")
    return sum(1 for line in out.splitlines()[1:] if line.startswith("LISTEN"))


def start_on_port(procs, config_text: str, port: int):
    """Starts another switchyard on config_text and returns it once it listens on port."""
    return procs.proxy(config_text=config_text, listen_ports=[port], cls=Switchyard,
                       extra_args=["-i", "100"])


def test_reuseport_lets_two_processes_share_the_port(procs):
    servers = procs.redis(1)
    port = free_port()
    text = (f"shared:\n  listen: {HOST}:{port}\n  redis: true\n  reuseport: true\n"
            f"  servers:\n   - {servers[0].addr}:1\n")
    first = start_on_port(procs, text, port)
    second = start_on_port(procs, text, port)
    # The port already answered for the first one: wait for the second's own listener.
    assert wait_until(lambda: listeners_on(port) == 2), ss("-ltnp", "sport", f"= :{port}")
    assert first.is_running() and second.is_running()
    # The kernel spreads connections over both; each answers.
    conns = [first.raw() for _ in range(24)]
    try:
        for conn in conns:
            assert conn.command("SET", "rp", "v") == b"OK"

        def clients_of(proxy) -> int:
            return proxy.stats()["shared"]["client_connections"]

        assert wait_until(lambda: clients_of(first) + clients_of(second) == len(conns))
        assert clients_of(first) > 0 and clients_of(second) > 0
    finally:
        for conn in conns:
            conn.close()


def test_without_reuseport_the_second_process_names_the_address(procs, tmp_path):
    servers = procs.redis(1)
    port = free_port()
    text = (f"solo:\n  listen: {HOST}:{port}\n  redis: true\n"
            f"  servers:\n   - {servers[0].addr}:1\n")
    start_on_port(procs, text, port)
    conf = tmp_path / "second.yml"
    conf.write_text(text)
    result = subprocess.run([str(switchyard_bin()), "-c", str(conf), "-s", str(free_port()),
                             "-a", HOST], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert f"pool 'solo': cannot listen on {HOST}:{port}" in result.stderr, result.stderr
    assert "Address already in use" in result.stderr, result.stderr


# --------------------------------------------------------------------------------------------
# preconnect


@pytest.mark.parametrize("preconnect", [True, False])
def test_preconnect_connects_every_server_at_start(procs, preconnect):
    servers = procs.redis(2)
    extra = {"preconnect": "true", "server_connections": 2} if preconnect else {}
    procs.proxy(pools=[pool_config(servers, extra=extra)], cls=Switchyard,
                extra_args=["--threads", "2"])
    if preconnect:
        # No client has connected: 2 workers x server_connections 2 connections each.
        for server in servers:
            clients = wait_until(lambda: len(proxy_clients(server)) >= 4 and proxy_clients(server))
            assert len(clients) == 4, clients
    else:
        time.sleep(1.0)
        for server in servers:
            assert proxy_clients(server) == []
