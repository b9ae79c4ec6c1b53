"""Deep pipelines from several clients at once: every reply in order and correct."""

import re
import subprocess
import threading
import time

import pytest

from harness import (REDIS_BENCHMARK, RawConn, encode_command, locate_many, pool_config,
                     spread_keys)


COMMANDS_PER_CLIENT = 20_000


def run_pipelined_client(proxy, client_id: int, errors: list) -> None:
    """20k commands in one pipeline: SET, GET, INCR and a GET of a missing key per round."""
    try:
        c = proxy.client(socket_timeout=60)
        pipe = c.pipeline(transaction=False)
        rounds = COMMANDS_PER_CLIENT // 4
        for i in range(rounds):
            key = f"{i}:{client_id}:pipe"
            pipe.set(key, f"v{i}-{client_id}")
            pipe.get(key)
            pipe.incr(f"counter:{client_id}")
            pipe.get(f"{i}:{client_id}:missing")
        replies = pipe.execute(raise_on_error=False)
        assert len(replies) == COMMANDS_PER_CLIENT
        for i in range(rounds):
            got = replies[4 * i:4 * i + 4]
            want = [True, f"v{i}-{client_id}".encode(), i + 1, None]
            assert got == want, f"client {client_id} round {i}: {got} != {want}"
    except Exception as err:  # reported by the main thread
        errors.append(f"client {client_id}: {err!r}")


def test_concurrent_deep_pipelines(sharded3):
    errors: list = []
    threads = [threading.Thread(target=run_pipelined_client, args=(sharded3.proxy, n, errors))
               for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a pipelined client hung"
    assert not errors, "\n".join(errors)
    total = sum(server.client().dbsize() for server in sharded3.servers)
    assert total == 4 * (COMMANDS_PER_CLIENT // 4) + 4  # the keys plus one counter per client


def test_raw_pipeline_sent_in_one_write(sharded3):
    count = COMMANDS_PER_CLIENT
    payload = b"".join(encode_command("SET", f"{i}:raw", str(i)) if i % 2 == 0
                       else encode_command("GET", f"{i - 1}:raw") for i in range(count))
    with RawConn(sharded3.proxy.port, timeout=60) as conn:
        sender = threading.Thread(target=conn.send, args=(payload,))
        sender.start()
        replies = conn.read_replies(count)
        sender.join(timeout=60)
    for i, reply in enumerate(replies):
        expected = b"OK" if i % 2 == 0 else str(i - 1).encode()
        assert reply == expected, f"reply {i}: {reply!r} != {expected!r}"


def test_redis_benchmark_pipelined(sharded3):
    requests = 20_000
    result = subprocess.run(
        [REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(sharded3.proxy.port), "-t", "set,get",
         "-n", str(requests), "-P", "16", "-c", "8", "-r", "1000", "-q"],
        capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"^SET: [\d.]+ requests per second", output, re.MULTILINE), output
    assert re.search(r"^GET: [\d.]+ requests per second", output, re.MULTILINE), output
    sets = gets = 0
    for server in sharded3.servers:
        calls = server.command_calls()
        sets += calls.get("set", 0)
        gets += calls.get("get", 0)
    assert (sets, gets) == (requests, requests)
    errors = sum(s.client().info("errorstats").get("errorstat_ERR", {}).get("count", 0)
                 for s in sharded3.servers)
    assert errors == 0


def test_one_client_pipelining_over_two_shards_is_not_delayed(sharded):
    """A pipeline whose replies come from two backends leaves the proxy in more than one
    write. Without TCP_NODELAY on the client socket, Nagle holds the second write until the
    client's delayed ACK (about 40 ms), so 500 pipelines of 16 would take some 20 s."""
    keys = spread_keys(16, suffix=":nagle")
    client = sharded.proxy.client(socket_timeout=10)
    for key in keys:
        client.set(key, key)
    shards = {server for holders in locate_many(keys, sharded.servers).values()
              for server in holders}
    assert shards == {0, 1}, "the keys must span both shards for this test"
    started = time.monotonic()
    for done in range(500):
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
        assert pipe.execute() == [key.encode() for key in keys]
        elapsed = time.monotonic() - started
        assert elapsed < 5.0, f"only {done + 1} two-shard pipelines in {elapsed:.1f} s (Nagle?)"


@pytest.mark.parametrize("io_args", [[], ["--no-io-uring"]], ids=["io_uring", "syscalls"])
def test_each_client_io_mode_serves_pipelines_and_large_values(redis_factory, switchyard_factory,
                                                                 io_args):
    servers = redis_factory(2)
    proxy = switchyard_factory(pools=[pool_config(servers, hash="fnv1a_64",
                                                  distribution="ketama")],
                               extra_args=["--threads", "1", *io_args])
    log = proxy.log_text()
    syscalls = "sockets: one system call per read and write (io_uring: "
    if io_args:
        assert syscalls + "turned off)" in log, log
    else:  # a kernel or seccomp policy without io_uring falls back, and says why
        assert "sockets: client reads and end-of-turn writes batched through io_uring" in log or \
            syscalls in log, log
    errors: list = []
    threads = [threading.Thread(target=run_pipelined_client, args=(proxy, n, errors))
               for n in range(3)]
    for thread in threads:
        thread.start()
    big = bytes(range(256)) * 4096  # 1 MiB, every byte value
    c = proxy.client(socket_timeout=60)
    for i in range(5):
        assert c.set(f"big:{i}", big[i:] + big[:i])
    for i in range(5):
        assert c.get(f"big:{i}") == big[i:] + big[:i]
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a pipelined client hung"
    assert not errors, "\n".join(errors)
