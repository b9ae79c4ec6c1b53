"""Replies a client shapes: whatever a request makes Redis answer reaches that client, byte for
byte as Redis sends it, and costs every other client of the shared backend connection nothing.

A script returns any table it builds (nested thousands of levels deep) and any status or
error text (a megabyte long); none of it may close the connection other clients' requests
are pipelined on.
"""

import socket
import threading

import pytest

from harness import RawConn, ReplyReader, encode_command

NESTED = "local t = 1 for i = 1, tonumber(ARGV[1]) do t = {t} end return t"
TREE = ("local function tree(d) if d == 0 then return {1, 'leaf'} end "
        "return {tree(d - 1), d, tree(d - 1)} end return tree(tonumber(ARGV[1]))")
STATUS = "return redis.status_reply(string.rep('s', tonumber(ARGV[1])))"
ERROR = "return redis.error_reply(string.rep('e', tonumber(ARGV[1])))"


def raw_reply(port: int, *args) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(encode_command(*args))
        reader = ReplyReader(sock)
        reply = reader.reply()
        assert reader.buf == b"", "bytes after the reply"
        return reply


class Bystanders:
    """Clients that pipeline SET/GET through the proxy meanwhile; every answer is checked."""

    def __init__(self, proxy, clients: int = 3):
        self.proxy = proxy
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.rounds = 0
        self.threads = [threading.Thread(target=self.run, args=(n,)) for n in range(clients)]

    def run(self, n: int) -> None:
        client = self.proxy.client(socket_timeout=10)
        i = 0
        while not self.stop.is_set():
            pipe = client.pipeline(transaction=False)
            for j in range(20):
                pipe.set(f"bystander:{n}:{j}", f"{i}-{j}")
                pipe.get(f"bystander:{n}:{j}")
            try:
                replies = pipe.execute(raise_on_error=False)
            except Exception as err:
                self.errors.append(f"client {n}: {err!r}")
                return
            want = [x for j in range(20) for x in (True, f"{i}-{j}".encode())]
            if replies != want:
                self.errors.append(f"client {n} round {i}: {replies[:4]!r}...")
                return
            i += 1
            self.rounds += 1

    def __enter__(self) -> "Bystanders":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=20)


@pytest.fixture(params=["single", "sharded3"])
def pool(request):
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("script,arg", [
    (NESTED, 200), (NESTED, 5000), (TREE, 12), (STATUS, 1_000_000), (ERROR, 1_000_000),
], ids=["nested-200", "nested-5000", "tree-12", "status-1MB", "error-1MB"])
def test_script_reply_forwarded_byte_for_byte(pool, script, arg):
    # The key places the script on one shard; the script does not touch it.
    pool.client.set("pin", "here")
    [shard] = pool.locate("pin")
    direct = raw_reply(pool.servers[shard].port, "EVAL", script, 1, "pin", arg)
    assert raw_reply(pool.proxy.port, "EVAL", script, 1, "pin", arg) == direct
    with RawConn(pool.proxy.port) as conn:  # the same client goes on
        assert conn.command("SET", "pin", "v") == b"OK"
        assert conn.command("GET", "pin") == b"v"


def test_repeated_deep_replies_cost_other_clients_nothing(single):
    proxy = single.proxy
    with Bystanders(proxy) as bystanders:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=20) as sock:
            expected = raw_reply(single.servers[0].port, "EVAL", NESTED, 0, 3000)
            request = encode_command("EVAL", NESTED, 0, 3000)
            reader = ReplyReader(sock)
            for _ in range(100):
                sock.sendall(request * 3)  # pipelined, as an attacker would
                for _ in range(3):
                    assert reader.reply() == expected
        while bystanders.rounds < 50 and not bystanders.errors:
            threading.Event().wait(0.05)
    assert not bystanders.errors, bystanders.errors
    assert bystanders.rounds >= 50
    log = proxy.log_text()
    assert "connection lost" not in log and "malformed reply" not in log, log[-2000:]
    backend = proxy.stats()["alpha"][single.servers[0].addr]
    assert backend["server_err"] == 0 and backend["server_eof"] == 0, backend
