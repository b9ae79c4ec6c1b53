"""Many client connections: opened and closed in waves, the proxy's file descriptors and
memory must come back to where they started. Prints the memory cost of an idle connection."""

import socket
import time

from harness import MEMORY_SLACK, encode_command, fd_count, raise_nofile_limit, rss_bytes, \
    spread_keys

WAVES = 4
PER_WAVE = 500
MIB = 1 << 20

# Before any fixture starts the proxy, so that it inherits the higher limit too.
NOFILE = raise_nofile_limit(16384)

PING = encode_command("PING")


def open_wave(port: int, count: int, keys) -> list[socket.socket]:
    """`count` connections, each with a PING and a GET answered before returning."""
    socks = []
    for i in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(PING + encode_command("GET", keys[i % len(keys)]))
        socks.append(sock)
    for sock in socks:
        expected = b"+PONG\r\n$1\r\nv\r\n"
        got = b""
        while len(got) < len(expected):
            chunk = sock.recv(64)
            assert chunk, "the proxy closed an idle connection"
            got += chunk
        assert got == expected
    return socks


def wait_for_fds(pid: int, at_most: int, timeout_s: float = 5.0) -> int:
    deadline = time.monotonic() + timeout_s
    while True:
        count = fd_count(pid)
        if count <= at_most or time.monotonic() > deadline:
            return count
        time.sleep(0.05)


def test_waves_of_connections_release_fds_and_memory(sharded, capsys):
    assert NOFILE >= PER_WAVE + 100, f"RLIMIT_NOFILE is only {NOFILE}"
    proxy = sharded.proxy
    keys = spread_keys(8, ":conn")
    sharded.client.mset({k: "v" for k in keys})
    for sock in open_wave(proxy.port, 50, keys):  # warm up: backend connections of every worker
        sock.close()
    sharded.client.connection_pool.disconnect()
    time.sleep(0.3)
    base_fds = fd_count(proxy.pid)
    base_rss = rss_bytes(proxy.pid)

    open_rss = []
    for wave in range(WAVES):
        socks = open_wave(proxy.port, PER_WAVE, keys)
        fds_open = fd_count(proxy.pid)
        open_rss.append(rss_bytes(proxy.pid))
        assert fds_open >= base_fds + PER_WAVE, (wave, base_fds, fds_open)
        for sock in socks:
            sock.close()
        fds_after = wait_for_fds(proxy.pid, base_fds + 4)
        assert fds_after <= base_fds + 4, f"wave {wave}: fds {base_fds} -> {fds_after}"

    final_rss = rss_bytes(proxy.pid)
    peak_growth = max(open_rss) - base_rss
    per_connection = (open_rss[0] - base_rss) / PER_WAVE
    with capsys.disabled():
        print(f"\n[{proxy.name}] idle connection cost: {per_connection / 1024:.1f} KiB "
              f"(RSS {base_rss / MIB:.1f} MiB -> {open_rss[0] / MIB:.1f} MiB with {PER_WAVE} "
              f"connections; after {WAVES * PER_WAVE} connections: {final_rss / MIB:.1f} MiB)")
    assert peak_growth < 64 * MIB * MEMORY_SLACK, f"RSS grew {peak_growth / MIB:.1f} MiB"
    # The first wave may leave the allocator (and a sanitizer's quarantine) holding freed
    # blocks that the second wave does not reuse; from then on a wave must cost nothing.
    steady_growth = open_rss[-1] - open_rss[1]
    assert steady_growth < 4 * MIB * MEMORY_SLACK, f"RSS per wave keeps growing: {open_rss}"
    assert final_rss - base_rss < 16 * MIB * MEMORY_SLACK, \
        f"RSS {base_rss} -> {final_rss} after closing"
    assert sharded.client.get(keys[0]) == b"v"


def test_clients_disconnecting_with_requests_in_flight(sharded):
    proxy = sharded.proxy
    keys = spread_keys(20, ":flight")
    sharded.client.mset({k: k for k in keys})
    sharded.client.connection_pool.disconnect()
    time.sleep(0.2)
    base_fds = fd_count(proxy.pid)
    burst = b"".join(encode_command("GET", keys[i % 20]) for i in range(200)) + \
        encode_command("MGET", *keys)
    for _ in range(100):
        sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
        sock.sendall(burst)
        sock.close()  # never reads its replies
    c = proxy.client()
    pipe = c.pipeline(transaction=False)
    for key in keys:
        pipe.get(key)
    pipe.mget(keys)
    assert pipe.execute() == [k.encode() for k in keys] + [[k.encode() for k in keys]]
    c.connection_pool.disconnect()
    fds_after = wait_for_fds(proxy.pid, base_fds + 4)
    assert fds_after <= base_fds + 4, f"fds {base_fds} -> {fds_after}"
