"""Restarts and upgrades without a failed request.

On SIGTERM switchyard hands its listening sockets over, answers every request it has read,
closes each client connection between requests and exits (bounded by --drain-timeout). The
systemd unit's restart keeps the pools' sockets in systemd's file descriptor store: the tests
play systemd's part (a notify socket that receives FDSTORE=1 with the sockets, then the next
process started with them as LISTEN_FDS), under a pipelined load that checks every reply.
"""
import fcntl
import os
import select
import shutil
import signal
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
import redis

from harness import HOST, encode_command, free_port, pool_config, switchyard_bin, wait_until

BATCH = 16  # requests per pipelined batch: 8 SETs, then 8 GETs of the same keys


class ServiceManager:
    """The part of systemd a Type=notify unit with FileDescriptorStoreMax= talks to: a notify
    socket that records states and keeps the descriptors sent with FDSTORE=1 by FDNAME."""

    def __init__(self):
        # A short path: sun_path holds 108 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="sy-manager-", dir="/tmp"))
        self.path = str(self.dir / "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages: list[str] = []
        self.store: dict[str, int] = {}
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.running:
            ready, _, _ = select.select([self.sock], [], [], 0.1)
            if not ready:
                continue
            data, fds, _, _ = socket.recv_fds(self.sock, 4096, 16)
            text = data.decode()
            fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
            with self.lock:
                self.messages.append(text)
                name = fields.get("FDNAME", "stored")
                if fields.get("FDSTORE") == "1":
                    for fd in fds:
                        self.store[name] = self._keep_high(fd)
                elif fields.get("FDSTOREREMOVE") == "1" and name in self.store:
                    os.close(self.store.pop(name))

    @staticmethod
    def _keep_high(fd: int) -> int:
        """Moved above the numbers a next process gets the sockets at (3, 4, ...)."""
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100)
        os.close(fd)
        return high

    def env(self) -> dict[str, str]:
        return {"NOTIFY_SOCKET": self.path}

    def count(self, state: str) -> int:
        with self.lock:
            return sum(1 for m in self.messages if state in m.splitlines())

    def stored(self) -> dict[str, int]:
        with self.lock:
            return dict(self.store)

    def launcher(self) -> tuple[list[str], dict[str, str], tuple[int, ...]]:
        """What starts the next process as systemd does: the stored sockets as descriptors
        3, 4, ... with LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID (the shell's pid is the
        program's after exec)."""
        stored = self.stored()
        moves = " ".join(f"{3 + i}<&{fd} {fd}<&-" for i, fd in enumerate(stored.values()))
        script = (f"exec {moves}; LISTEN_PID=$$ LISTEN_FDS={len(stored)} "
                  f"LISTEN_FDNAMES='{':'.join(stored)}' exec \"$@\"")
        return ["/bin/bash", "-c", script, "bash"], self.env(), tuple(stored.values())

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()
        for fd in self.store.values():
            os.close(fd)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def manager():
    if b"libsystemd.so" not in switchyard_bin().read_bytes():
        pytest.skip("built without libsystemd (SY_SYSTEMD=OFF): no socket store")
    m = ServiceManager()
    yield m
    m.close()


def read_reply(stream) -> bytes | None:
    """One RESP2 reply of a SET or GET (simple string, error, bulk), or None at EOF."""
    line = stream.readline()
    if not line:
        return None
    if line[:1] == b"$":
        length = int(line[1:-2])
        if length < 0:
            return b"(nil)"
        data = stream.read(length + 2)
        return data[:-2] if len(data) == length + 2 else None
    return line[:-2]


def command(*args: str) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class PipelinedLoad:
    """Connections that each send a batch of BATCH requests, read every reply and check it,
    and send the next batch. A connection closed after a whole batch is answered is opened
    again (the client sees the close before it sends: it checks, as connection pools do);
    a close with replies still owed, an unexpected reply or a refused connect is a failure."""

    def __init__(self, port: int, connections: int):
        self.port = port
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.batches = 0
        self.reconnects = 0
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(c,), daemon=True)
                        for c in range(connections)]

    def start(self) -> "PipelinedLoad":
        for thread in self.threads:
            thread.start()
        return self

    def _connect(self):
        sock = socket.create_connection((HOST, self.port), timeout=10)
        return sock, sock.makefile("rb")

    def _run(self, number: int) -> None:
        try:
            sock, stream = self._connect()
        except OSError as err:
            self._fail(f"connection {number}: connect: {err}")
            return
        batch = 0
        while not self.stop_flag.is_set():
            # The server may have closed the connection after the last batch: a pool checks.
            readable, _, _ = select.select([sock], [], [], 0)
            if readable and sock.recv(1, socket.MSG_PEEK) == b"":
                sock.close()
                try:
                    sock, stream = self._connect()
                except OSError as err:
                    self._fail(f"connection {number}: reconnect: {err}")
                    return
                with self.lock:
                    self.reconnects += 1
            keys = [f"up:{number}:{batch}:{i}" for i in range(BATCH // 2)]
            payload = b"".join(command("SET", k, f"v{batch}") for k in keys) + \
                b"".join(command("GET", k) for k in keys)
            try:
                sock.sendall(payload)
            except OSError as err:
                self._fail(f"connection {number} batch {batch}: send: {err}")
                return
            expected = [b"+OK"] * len(keys) + [f"v{batch}".encode()] * len(keys)
            for i, want in enumerate(expected):
                try:
                    got = read_reply(stream)
                except OSError as err:
                    got = None
                    self._fail(f"connection {number} batch {batch}: read: {err}")
                if got is None:
                    self._fail(f"connection {number} batch {batch}: closed with "
                               f"{len(expected) - i} replies owed")
                    return
                if got != want:
                    self._fail(f"connection {number} batch {batch}: {got!r}, wanted {want!r}")
                    return
            batch += 1
            with self.lock:
                self.batches += 1
        sock.close()

    def _fail(self, text: str) -> None:
        with self.lock:
            self.failures.append(text)

    def done(self) -> int:
        with self.lock:
            assert not self.failures, "\n".join(self.failures[:10])
            return self.batches

    def stop(self) -> None:
        self.stop_flag.set()
        for thread in self.threads:
            thread.join(timeout=20)


class RedisPyLoad:
    """redis-py's own connection pool running non-transactional pipelines of BATCH commands:
    a connection the server closed is replaced when it is taken from the pool."""

    def __init__(self, port: int):
        self.client = redis.Redis(host=HOST, port=port, socket_timeout=10)
        self.stop_flag = threading.Event()
        self.pipelines = 0
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "RedisPyLoad":
        self.thread.start()
        return self

    def _run(self) -> None:
        n = 0
        while not self.stop_flag.is_set():
            pipe = self.client.pipeline(transaction=False)
            for i in range(BATCH // 2):
                pipe.set(f"py:{n}:{i}", n)
            for i in range(BATCH // 2):
                pipe.get(f"py:{n}:{i}")
            try:
                replies = pipe.execute()
            except redis.RedisError as err:
                self.errors.append(f"pipeline {n}: {err!r}")
                return
            if replies != [True] * (BATCH // 2) + [str(n).encode()] * (BATCH // 2):
                self.errors.append(f"pipeline {n}: {replies!r}")
                return
            n += 1
            self.pipelines = n

    def stop(self) -> None:
        self.stop_flag.set()
        self.thread.join(timeout=20)


def blocked_pop(proxy, server, key: str):
    """A raw connection whose BLPOP `key` 0 is blocked on `server`."""
    conn = proxy.raw()
    conn.send(encode_command("BLPOP", key, "0"))
    wait_until(lambda: server.client().info("clients")["blocked_clients"] == 1,
               "the BLPOP blocked on the server")
    return conn


def ready_lines(proxy) -> int:
    return proxy.log_text().count("ready: every listener is open")


def test_restart_through_the_socket_store_fails_no_request(procs, manager):
    (server,) = procs.redis(1)
    pool = pool_config([server])
    old = procs.proxy(pools=[pool], env=manager.env())
    wait_until(lambda: manager.count("READY=1") == 1, "READY=1 from the first process")
    stored = manager.stored()
    assert list(stored) == [f"listen {HOST} {old.port}"], manager.messages

    load = PipelinedLoad(old.port, connections=8).start()
    library = RedisPyLoad(old.port).start()
    wait_until(lambda: load.done() >= 200, "batches through the first process")
    stopping = time.monotonic()
    assert old.stop(signal.SIGTERM) == 0, old.log_text()[-3000:]
    drain_s = time.monotonic() - stopping
    before_restart = load.done()
    # As systemd's restart: the next process starts once the old one has exited, with the
    # stored socket; clients that connect meanwhile wait in its backlog.
    launcher, env, fds = manager.launcher()
    new = procs.proxy(config_text=old.config_text, listen_ports=[old.port], env=env,
                      pass_fds=fds, launcher=launcher)
    library_before = library.pipelines
    wait_until(lambda: load.done() >= before_restart + 200, "batches through the new process")
    wait_until(lambda: library.pipelines > library_before + 20 or library.errors,
               "redis-py's pipelines through the new process")
    load.stop()
    library.stop()

    assert load.failures == [], "\n".join(load.failures[:10])
    assert library.errors == []
    assert load.reconnects >= 8, load.reconnects
    assert "drained: every client left between requests" in old.log_text()
    assert drain_s < 3, f"the drain took {drain_s:.2f} s"
    assert "socket passed by the service manager" in new.log_text(), new.log_text()[-2000:]
    assert manager.count("READY=1") == 2
    # The new process stored nothing twice: it keeps the socket it was given.
    assert list(manager.stored()) == list(stored)


def test_reuseport_overlap_fails_no_request(procs):
    """Without a service manager: a second process bound to the same port (reuseport) starts
    first, then the old one is stopped."""
    (server,) = procs.redis(1)
    pool = pool_config([server], extra={"reuseport": "true"})
    old = procs.proxy(pools=[pool])
    load = PipelinedLoad(old.port, connections=8).start()
    wait_until(lambda: load.done() >= 200, "batches through the first process")
    new = procs.proxy(config_text=old.config_text, listen_ports=[old.port])
    wait_until(lambda: ready_lines(new) == 1, "the second process ready")
    assert old.stop(signal.SIGTERM) == 0, old.log_text()[-3000:]
    after = load.done()
    wait_until(lambda: load.done() >= after + 200, "batches through the second process")
    load.stop()
    assert load.failures == [], "\n".join(load.failures[:10])
    assert load.reconnects >= 8, load.reconnects
    assert "drained: every client left between requests" in old.log_text()


def test_drain_answers_transactions_and_blocked_commands(procs):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server])])
    in_multi = proxy.raw()
    idle = proxy.client()
    assert idle.ping() is True
    assert in_multi.command("MULTI") == b"OK"
    assert in_multi.command("SET", "tx-key", "1") == b"QUEUED"
    blocked = blocked_pop(proxy, server, "drain-list")
    os.kill(proxy.pid, signal.SIGTERM)
    time.sleep(0.3)
    assert proxy.is_running(), "the proxy left before its transaction and blocked client"
    assert in_multi.command("EXEC") == [b"OK"]
    assert in_multi.is_closed_within(2), "the connection stays open after its transaction"
    server.client().rpush("drain-list", "x")
    assert blocked.read_reply() == [b"drain-list", b"x"]
    assert blocked.is_closed_within(2)
    assert proxy.proc.wait(timeout=5) == 0
    proxy.stopped = True
    assert server.client().get("tx-key") == b"1"


def test_drain_time_bounds_a_blocked_client(procs):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server])], extra_args=["--drain-timeout", "700"])
    blocked = blocked_pop(proxy, server, "bounded-list")
    started = time.monotonic()
    os.kill(proxy.pid, signal.SIGTERM)
    assert proxy.proc.wait(timeout=5) == 0
    proxy.stopped = True
    took = time.monotonic() - started
    assert 0.6 < took < 3, took
    assert "drain time is up: closing the 1 client connection(s) still busy" in proxy.log_text()
    # The blocked pop ended with its connection: nothing is taken from the list afterwards.
    wait_until(lambda: server.client().info("clients")["blocked_clients"] == 0,
               "the server's blocked client gone")
    server.client().rpush("bounded-list", "kept")
    assert server.client().lrange("bounded-list", 0, -1) == [b"kept"]
    assert blocked.is_closed_within(1)


def test_second_signal_stops_at_once(procs):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server])], extra_args=["--drain-timeout", "60000"])
    blocked = blocked_pop(proxy, server, "never")
    os.kill(proxy.pid, signal.SIGTERM)
    wait_until(lambda: "draining" in proxy.log_text(), "the drain to begin")
    started = time.monotonic()
    os.kill(proxy.pid, signal.SIGTERM)
    assert proxy.proc.wait(timeout=5) == 0
    proxy.stopped = True
    assert time.monotonic() - started < 2
    assert blocked.is_closed_within(1)


def test_reload_and_restart_keep_the_store_in_step(procs, manager):
    """A listen address a reload gives up leaves the store; a stored socket the next
    process's config no longer names is closed and leaves it too."""
    (server,) = procs.redis(1)
    old = procs.proxy(pools=[pool_config([server])], env=manager.env())
    wait_until(lambda: manager.count("READY=1") == 1, "READY=1")
    first = f"listen {HOST} {old.port}"
    assert list(manager.stored()) == [first]
    moved = pool_config([server], listen=f"{HOST}:{free_port()}")
    moved_port = int(moved.listen.rsplit(":", 1)[1])
    assert old.reload(moved.render()).startswith("reload applied"), old.log_text()[-2000:]
    wait_until(lambda: list(manager.stored()) == [f"listen {HOST} {moved_port}"],
               "the store to follow the reload")
    assert old.stop(signal.SIGTERM) == 0
    # The next process is configured with yet another address: the passed socket is unused.
    third = pool_config([server], listen=f"{HOST}:{free_port()}")
    launcher, env, fds = manager.launcher()
    new = procs.proxy(config_text=third.render(),
                      listen_ports=[int(third.listen.rsplit(":", 1)[1])], env=env,
                      pass_fds=fds, launcher=launcher)
    wait_until(lambda: ready_lines(new) == 1, "the next process ready")
    assert "matches no pool's listen address: closed" in new.log_text()
    wait_until(lambda: list(manager.stored()) == [f"listen {HOST} {new.port}"],
               "the store to hold only the new address")
    with pytest.raises(OSError):
        socket.create_connection((HOST, moved_port), timeout=1).close()
    assert new.client().ping() is True
