"""Key placement must match nutcracker bit for bit.

For every hash function x {ketama, modula} and a few server-list shapes, nutcracker and the
proxy under test run on the same config over the same backends. The same keys are written
through each in turn (backends flushed in between) and the backend holding each key is
compared. Backends are shared by the whole module and flushed between combinations.
"""

import random
import zlib

import pytest

from harness import Nutcracker, locate_many, pool_config

HASHES = ["one_at_a_time", "md5", "crc16", "crc32", "crc32a", "fnv1_64", "fnv1a_64",
          "fnv1_32", "fnv1a_32", "hsieh", "murmur", "jenkins"]
DISTRIBUTIONS = ["ketama", "modula"]
VARIANTS = ["named", "weighted", "unnamed", "hash_tag"]


def make_keys(seed: int) -> list[bytes]:
    """About 300 distinct keys: ASCII, binary, bytes >= 0x80, long keys and the empty key."""
    rng = random.Random(seed)
    keys = [f"user:{i}".encode() for i in range(300)]
    keys += [f"k{rng.getrandbits(48):x}".encode() for i in range(40)]
    keys += [bytes([b]) for b in range(0, 256, 7)]  # single bytes, incl. NUL, CR, LF, 0xff
    keys += [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 40))) for _ in range(40)]
    keys += [bytes(rng.randint(0x80, 0xff) for _ in range(rng.randint(1, 12)))
             for _ in range(30)]
    keys += ["héllo".encode(), "ключ".encode(), "キー".encode(), b"a\r\nb", b" "]
    keys += [bytes(rng.getrandbits(8) for _ in range(rng.randint(2000, 6000)))
             for _ in range(6)]
    keys += [b"L" * 4096]
    keys.append(b"")
    return list(dict.fromkeys(keys))


def make_tagged_keys(seed: int) -> list[bytes]:
    """Keys exercising hash_tag "{}": tags, empty tags, unbalanced and nested braces."""
    rng = random.Random(seed)
    keys = [f"{{user:{i % 40}}}.field{i}".encode() for i in range(120)]
    keys += [f"prefix{i}{{t{i % 15}}}suffix".encode() for i in range(60)]
    keys += [b"{}", b"{}abc", b"abc{}", b"{", b"}", b"}{", b"}{x}", b"{x", b"x}", b"{{x}}",
             b"{x}{y}", b"a{b{c}d}e", b"{\xff\xfe}", "{ключ}x".encode(), b"{\r\n}z", b""]
    keys += [b"{" + bytes(rng.getrandbits(8) for _ in range(8)) + b"}" + str(i).encode()
             for i in range(30)]
    keys += [f"plain{i}".encode() for i in range(60)]
    return list(dict.fromkeys(keys))


def build_pool(servers, hash_name, distribution, variant):
    kwargs = dict(hash=hash_name, distribution=distribution)
    if variant == "named":
        return pool_config(servers, names=[f"server{i + 1}" for i in range(4)], **kwargs)
    if variant == "weighted":
        return pool_config(servers[:3], names=["alpha", "beta", "gamma"], weights=[1, 2, 3],
                           **kwargs)
    if variant == "unnamed":
        return pool_config(servers, **kwargs)
    assert variant == "hash_tag"
    return pool_config(servers, names=[f"s{i}" for i in range(4)], hash_tag="{}", **kwargs)


@pytest.fixture(scope="module")
def backends(module_procs):
    return module_procs.redis(4)


def write_through(proxy, keys) -> None:
    pipe = proxy.client().pipeline(transaction=False)
    for key in keys:
        pipe.set(key, b"v")
    replies = pipe.execute(raise_on_error=False)
    bad = [(key[:40], reply) for key, reply in zip(keys, replies) if reply is not True]
    assert not bad, f"{proxy.name}: SET failed for {len(bad)} keys, first: {bad[:5]}"


def placement(proxy, servers, keys) -> dict:
    for server in servers:
        server.flushall()
    write_through(proxy, keys)
    where = locate_many(keys, servers)
    misplaced = {k[:40]: v for k, v in where.items() if len(v) != 1}
    assert not misplaced, f"{proxy.name}: keys not on exactly one backend: {misplaced}"
    return {key: holders[0] for key, holders in where.items()}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
@pytest.mark.parametrize("hash_name", HASHES)
def test_same_placement_as_nutcracker(procs, backends, hash_name, distribution, variant):
    servers = backends if variant != "weighted" else backends[:3]
    seed = zlib.crc32(f"{hash_name}-{distribution}-{variant}".encode())
    keys = make_tagged_keys(seed) if variant == "hash_tag" else make_keys(seed)

    oracle = procs.proxy(pools=[build_pool(servers, hash_name, distribution, variant)],
                         cls=Nutcracker)
    subject = procs.proxy(pools=[build_pool(servers, hash_name, distribution, variant)])
    expected = placement(oracle, servers, keys)
    actual = placement(subject, servers, keys)
    for server in servers:
        server.flushall()

    if (hash_name, distribution) != ("crc32", "ketama"):
        # crc32 yields 15 bits, so on a 32-bit ketama ring every key falls before the first
        # point or two; everywhere else every backend must get keys.
        assert len(set(expected.values())) == len(servers), "oracle used only some backends"
    diff = [(key[:40], expected[key], actual[key]) for key in keys if expected[key] != actual[key]]
    assert not diff, (f"{len(diff)} of {len(keys)} keys placed differently from nutcracker "
                      f"(key, nutcracker server, {subject.name} server): {diff[:10]}")


def test_reference_ring_vectors(procs, backends):
    """Fixed vectors for servers named server1..4 (fnv1a_64, ketama): independent of ports."""
    subject = procs.proxy(pools=[pool_config(backends, names=[f"server{i + 1}" for i in range(4)],
                                             hash="fnv1a_64", distribution="ketama")])
    for server in backends:
        server.flushall()
    vectors = {b"foo": 0, b"bar": 3, b"user:1000": 0, b"hello world!": 0,
               b"": 2}  # the empty key hashes to 0: the lowest ring point belongs to server3
    actual = placement(subject, backends, list(vectors))
    for server in backends:
        server.flushall()
    assert actual == vectors


@pytest.mark.parametrize("hash_name", ["fnv1a_64", "md5", "crc32"])
def test_modula_orders_servers_by_name(procs, backends, hash_name):
    """modula indexes the servers sorted by name (shorter first, then bytewise), not in
    config order: the empty key (hash 0) lands on the first server of that order."""
    names = ["zeta", "b", "aa", "ccc"]
    subject = procs.proxy(pools=[pool_config(backends, names=names, hash=hash_name,
                                             distribution="modula")])
    actual = placement(subject, backends, [b""])
    for server in backends:
        server.flushall()
    assert actual == {b"": names.index("b")}


def test_random_distribution_uses_every_backend(procs, backends):
    subject = procs.proxy(pools=[pool_config(backends, distribution="random")])
    keys = [f"r:{i}".encode() for i in range(400)]
    actual = placement(subject, backends, keys)
    for server in backends:
        server.flushall()
    counts = [list(actual.values()).count(i) for i in range(len(backends))]
    assert all(count > 0 for count in counts), f"keys per backend: {counts}"
    assert sum(counts) == len(keys)


def test_single_server_pool_takes_every_key(procs, backends):
    subject = procs.proxy(pools=[pool_config(backends[:1], hash="crc32")])
    keys = make_keys(7)
    actual = placement(subject, backends[:1], keys)
    backends[0].flushall()
    assert set(actual.values()) == {0}
