#!/usr/bin/python3
"""Golden key placements produced by nutcracker itself, for tests/unit/hash.

nutcracker (twemproxy 0.5.0, Debian's package) is the oracle for key placement. This tool starts
real redis-server backends on free 127.0.0.1 ports (and on unix sockets), starts one nutcracker
with one pool per configuration (every hash function x ketama/modula x several server lists,
plus hash_tag, unix-socket, port-11211 and large-ring pools), SETs every test key through each
pool, then asks every backend which keys it holds. Each pool uses its own redis_db, so the
pools share the backends without mixing their keys. The identity of every server (the string
ketama hashes) is read from nutcracker's stats JSON, which names servers by that same string.

Regenerate (takes well under a minute; needs nutcracker, redis-server and python3-redis):

    /usr/bin/python3 tools/nutcracker_golden.py --out tests/unit/hash/golden/placement.txt

Keys are generated from a fixed seed, so a run on any machine yields the same keys; only the
free ports (and so the unnamed servers' identities) change between runs.

Output format (one record per line, fields separated by one space, '#' starts a comment):

    pool <pool> <hash> <distribution> <hash_tag|->
    server <pool> <identity> <weight> <host-or-socket-path> <port|0> <name|-> <backend> <position>
    <hash> <distribution> <pool> <hex key|-> <backend>

`server` lines come in config order. <identity> is the string ketama hashes for the server: the
tool predicts it from the line (name; else "host:port"; "host" for port 11211; "path:" for a unix
socket) and stops unless nutcracker's stats JSON names the pool's servers exactly so. <position>
is the server's place in nutcracker's own server array, in the order the stats JSON lists them:
nutcracker sorts each pool's servers by identity (shorter first, then bytewise) while checking
for duplicates, and that sorted order, not the config order, is what modula and ketama ties
use. <backend> is the address of the redis-server that actually held the key ("host:port" or
the socket path); several servers of a pool may share one backend (large rings). An empty key
is written as '-'. A key nutcracker refused to forward is listed in a comment, not as a record.
"""

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import redis

HASHES = [
    "one_at_a_time", "md5", "crc16", "crc32", "crc32a", "fnv1_64", "fnv1a_64", "fnv1_32",
    "fnv1a_32", "hsieh", "murmur", "jenkins",
]
TCP_BACKENDS = 5
UNIX_BACKENDS = 3
KETAMA_DEFAULT_PORT = 11211
PRIMES = [7919, 7907, 7901, 7883, 7879]


_handed_out = set()


def free_port():
    """A free 127.0.0.1 port, never the same one twice in a run."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out and port != KETAMA_DEFAULT_PORT:
            _handed_out.add(port)
            return port


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_until(predicate, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def tcp_accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Backend:
    """One redis-server, on a TCP port or a unix socket, stopped by pid."""

    def __init__(self, root, label, port=None, socket_path=None):
        self.dir = os.path.join(root, label)
        os.makedirs(self.dir)
        self.port = port
        self.socket_path = socket_path
        args = ["redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--databases", "256", "--dir", self.dir,
                "--logfile", os.path.join(self.dir, "redis.log")]
        if socket_path:
            args += ["--port", "0", "--unixsocket", socket_path, "--unixsocketperm", "700"]
        else:
            args += ["--port", str(port)]
        self.proc = subprocess.Popen(args, cwd=self.dir, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_until(self.answers, f"redis {self.address}")

    def answers(self):
        try:
            return self.client(0).ping()
        except redis.exceptions.ConnectionError:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis {self.address} exited") from None
            return False

    @property
    def address(self):
        return self.socket_path if self.socket_path else f"127.0.0.1:{self.port}"

    def client(self, db):
        if self.socket_path:
            return redis.Redis(unix_socket_path=self.socket_path, db=db, socket_timeout=5)
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=5)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Server:
    """One `servers` line of a pool and the backend behind it."""

    def __init__(self, backend, weight, name=None):
        self.backend = backend
        self.weight = weight
        self.name = name

    def conf_line(self):
        if self.backend.socket_path:
            line = f"{self.backend.socket_path}:{self.weight}"
        else:
            line = f"127.0.0.1:{self.backend.port}:{self.weight}"
        return f"{line} {self.name}" if self.name else line


class Pool:
    def __init__(self, hash_name, distribution, servers, hash_tag=None):
        self.hash = hash_name
        self.distribution = distribution
        self.servers = servers
        self.hash_tag = hash_tag
        self.id = None
        self.port = None
        self.identities = None


def make_keys():
    """The test keys: ASCII, binary, bytes >= 0x80 at every tail length, tags, long, empty."""
    rng = random.Random(20240611)
    keys = [b"foo", b"bar", b"user:1000", b"hello world!", b"h\xc3\xa9llo", b"a", b"ab",
            b"abc", b"abcd", b"key", b"counter", b"cart:0123456789abcdef"]
    keys += [f"key:{i}".encode() for i in range(48)]
    keys += [f"object:{rng.randrange(10**9)}:field".encode() for i in range(16)]
    keys += [bytes([b]) for b in (0x00, 0x01, 0x0a, 0x20, 0x7f, 0x80, 0x81, 0xc3, 0xfe, 0xff)]
    keys += [bytes([rng.randrange(0x80, 0x100)]) for _ in range(8)]
    for length in range(2, 33):  # every tail length of every hash, high bytes throughout
        keys.append(bytes(rng.randrange(0x80, 0x100) for _ in range(length)))
        keys.append(bytes(rng.randrange(0x00, 0x100) for _ in range(length)))
        keys.append(b"k" * (length - 1) + bytes([rng.randrange(0x80, 0x100)]))
    keys += [b"\x00\x00\x00\x00", b"a\x00b", b"\r\n", b"line\r\nbreak", b"tab\there", b" "]
    keys += ["日本語".encode(), "ключ".encode(), "emoji\U0001F600".encode(), "ñandú".encode()]
    keys += [b"{user1000}.following", b"{user1000}.followers", b"user1000", b"a{b}c", b"{b}",
             b"b", b"{}", b"{}x", b"x{}", b"x{", b"}{", b"}x{y}", b"{{a}}", b"{a", b"a}",
             b"a{b", b"a}b{c}", b"{\xff\xfe}tail", b"\xff\xfe", b"pre{x}post{y}", b"x",
             b"$$", b"$a$", b"a", b"$ab$cd", b"ab", b"$$x$", b"x$"]
    for length in (37, 64, 100, 255, 300, 513):
        keys.append(bytes(rng.randrange(0x00, 0x100) for _ in range(length)))
    keys.append(bytes(rng.randrange(0x20, 0x7f) for _ in range(1024)))
    keys.append(bytes(rng.randrange(0x00, 0x100) for _ in range(3000)))
    keys.append(b"")
    unique = []
    seen = set()
    for key in keys:
        if key not in seen:
            seen.add(key)
            unique.append(key)
    return unique


def make_pools(tcp, unix, default_port_backend):
    pools = []
    named4 = [Server(tcp[i], 1, f"server{i + 1}") for i in range(4)]
    weighted3 = [Server(tcp[i], i + 1) for i in range(3)]
    primes5 = [Server(tcp[i], PRIMES[i]) for i in range(5)]
    for hash_name in HASHES:
        pools.append(Pool(hash_name, "ketama", named4))
        pools.append(Pool(hash_name, "ketama", weighted3))
        pools.append(Pool(hash_name, "modula", weighted3))
        pools.append(Pool(hash_name, "modula", primes5))
    for hash_name in ("fnv1a_64", "md5", "murmur", "hsieh"):
        pools.append(Pool(hash_name, "ketama", named4, hash_tag="{}"))
    pools.append(Pool("fnv1a_64", "modula", primes5, hash_tag="{}"))
    pools.append(Pool("one_at_a_time", "ketama", named4, hash_tag="$$"))
    pools.append(Pool("crc32a", "modula", primes5, hash_tag="$$"))
    # Unix-socket servers: unnamed (identity derived from the path) and mixed with names.
    pools.append(Pool("fnv1a_64", "ketama", [Server(u, 1) for u in unix]))
    pools.append(Pool("md5", "ketama", [Server(unix[0], 2), Server(unix[1], 1, "sock-b"),
                                        Server(tcp[0], 3)]))
    # Large rings of named servers over few backends; 25 and 50 members get 156 points each.
    for hash_name, count in (("fnv1a_64", 25), ("md5", 50), ("murmur", 10)):
        ring = [Server(tcp[i % len(tcp)], 1, f"node{i:02d}") for i in range(count)]
        pools.append(Pool(hash_name, "ketama", ring))
    pools.append(Pool("jenkins", "ketama",
                      [Server(tcp[i % len(tcp)], w, f"w{i}")
                       for i, w in enumerate((1, 2, 1, 3, 1, 5, 8, 1))]))
    if default_port_backend:
        servers = [Server(default_port_backend, 1)] + [Server(t, 1) for t in tcp[:3]]
        pools.append(Pool("fnv1a_64", "ketama", servers))
        pools.append(Pool("crc16", "ketama", servers))
    for index, pool in enumerate(pools):
        pool.id = f"p{index:02d}"
    return pools


def write_conf(path, pools, db_of):
    with open(path, "w") as f:
        for pool in pools:
            f.write(f"{pool.id}:\n")
            f.write(f"  listen: 127.0.0.1:{pool.port}\n")
            f.write(f"  hash: {pool.hash}\n")
            f.write(f"  distribution: {pool.distribution}\n")
            if pool.hash_tag:
                f.write(f"  hash_tag: \"{pool.hash_tag}\"\n")
            f.write("  redis: true\n")
            f.write(f"  redis_db: {db_of[pool.id]}\n")
            f.write("  timeout: 5000\n")
            f.write("  auto_eject_hosts: false\n")
            f.write("  servers:\n")
            for server in pool.servers:
                f.write(f"   - {server.conf_line()}\n")


def read_stats(port):
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    return json.loads(b"".join(chunks))


def expected_identity(server):
    """The hashing identity the compat doc predicts for a `servers` line."""
    b = server.backend
    if server.name:
        return server.name
    if b.socket_path:
        return b.socket_path + ":"
    if b.port == KETAMA_DEFAULT_PORT:
        return "127.0.0.1"
    return f"127.0.0.1:{b.port}"


def pool_identities(stats, pool):
    """Each server's identity and its position in nutcracker's own server order.

    The stats JSON names every server by the string ketama hashes and lists the servers in the
    order of the pool's server array. The predicted identities must be exactly those names;
    otherwise the identity rule is wrong and the tool stops."""
    entry = stats[pool.id]
    names = [k for k, v in entry.items() if isinstance(v, dict)]
    expected = [expected_identity(server) for server in pool.servers]
    if sorted(names) != sorted(expected):
        raise RuntimeError(f"{pool.id}: nutcracker names servers {names}, predicted {expected}")
    return [(identity, names.index(identity)) for identity in expected]


def place_keys(pool, keys, db):
    """SETs every key through the pool; returns ({key: backend address}, [refused keys])."""
    backends = {s.backend.address: s.backend for s in pool.servers}
    for backend in backends.values():
        if backend.socket_path:
            backend.client(0).flushdb()
    refused = []
    client = redis.Redis(host="127.0.0.1", port=pool.port, socket_timeout=10)
    for key in keys:
        try:
            client.set(key, b"v")
        except redis.exceptions.RedisError as error:
            refused.append((key, str(error)))
            client = redis.Redis(host="127.0.0.1", port=pool.port, socket_timeout=10)
    placement = {}
    for address, backend in backends.items():
        # nutcracker 0.5.0 sends no SELECT to unix-socket servers: their keys stay in db 0.
        for key in backend.client(0 if backend.socket_path else db).keys("*"):
            if key in placement:
                raise RuntimeError(f"{pool.id}: key {key!r} on two backends")
            placement[key] = address
    missing = [k for k in keys if k not in placement and k not in {r[0] for r in refused}]
    if missing:
        raise RuntimeError(f"{pool.id}: keys not found on any backend: {missing[:5]!r}")
    return placement, refused


def write_golden(path, pools, keys, placements, refusals):
    with open(path, "w") as f:
        f.write("# Generated by tools/nutcracker_golden.py from nutcracker 0.5.0; do not edit.\n")
        f.write("# Format: see the header of tools/nutcracker_golden.py.\n")
        for pool in pools:
            f.write(f"pool {pool.id} {pool.hash} {pool.distribution} {pool.hash_tag or '-'}\n")
            for server, (identity, position) in zip(pool.servers, pool.identities):
                b = server.backend
                host = b.socket_path if b.socket_path else "127.0.0.1"
                port = 0 if b.socket_path else b.port
                f.write(f"server {pool.id} {identity} {server.weight} {host} {port} "
                        f"{server.name or '-'} {b.address} {position}\n")
            for key, error in refusals[pool.id]:
                f.write(f"# {pool.id}: nutcracker refused key {key.hex() or '-'}: {error}\n")
            for key in keys:
                if key in placements[pool.id]:
                    f.write(f"{pool.hash} {pool.distribution} {pool.id} {key.hex() or '-'} "
                            f"{placements[pool.id][key]}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.normpath(os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "unit", "hash", "golden",
        "placement.txt")))
    args = parser.parse_args()

    root = tempfile.mkdtemp(prefix="sy-golden-")
    backends = []
    nutcracker = None
    try:
        tcp = []
        for i in range(TCP_BACKENDS):
            tcp.append(Backend(root, f"tcp{i}", port=free_port()))
        backends += tcp
        unix = []
        for i in range(UNIX_BACKENDS):
            unix.append(Backend(root, f"unix{i}", socket_path=os.path.join(root, f"r{i}.sock")))
        backends += unix
        default_port_backend = None
        if port_is_free(KETAMA_DEFAULT_PORT):
            default_port_backend = Backend(root, "default", port=KETAMA_DEFAULT_PORT)
            backends.append(default_port_backend)
        else:
            print(f"port {KETAMA_DEFAULT_PORT} is busy: skipping its pools", file=sys.stderr)

        pools = make_pools(tcp, unix, default_port_backend)
        db_of = {pool.id: index for index, pool in enumerate(pools)}
        for pool in pools:
            pool.port = free_port()
        conf = os.path.join(root, "nutcracker.yml")
        write_conf(conf, pools, db_of)
        stats_port = free_port()
        nutcracker = subprocess.Popen(
            ["nutcracker", "-c", conf, "-s", str(stats_port), "-a", "127.0.0.1",
             "-o", os.path.join(root, "nutcracker.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for pool in pools:
            wait_until(lambda p=pool: nutcracker.poll() is None and tcp_accepts(p.port),
                       f"nutcracker pool {pool.id}")
        wait_until(lambda: tcp_accepts(stats_port), "nutcracker stats")
        stats = read_stats(stats_port)
        for pool in pools:
            pool.identities = pool_identities(stats, pool)

        keys = make_keys()
        placements, refusals = {}, {}
        for pool in pools:
            placements[pool.id], refusals[pool.id] = place_keys(pool, keys, db_of[pool.id])
        write_golden(args.out, pools, keys, placements, refusals)
        records = sum(len(p) for p in placements.values())
        print(f"{len(pools)} pools, {len(keys)} keys, {records} placements -> {args.out} "
              f"({os.path.getsize(args.out)} bytes)")
    finally:
        if nutcracker is not None and nutcracker.poll() is None:
            os.kill(nutcracker.pid, signal.SIGTERM)
            nutcracker.wait(timeout=10)
        for backend in backends:
            backend.stop()
        if os.environ.get("SY_GOLDEN_KEEP"):
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
