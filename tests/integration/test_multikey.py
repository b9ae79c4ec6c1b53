"""Multi-key commands split across shards and merged: MGET, MSET, DEL, UNLINK, EXISTS, TOUCH.

Replies must equal what a single Redis would answer for the same command, keys must land
where single-key commands put them, and each backend must get one sub-command per client
command (grouped per backend, not one per key).
"""

import pytest

from harness import locate_many, spread_keys


def values_for(keys):
    return {key: f"value-of-{key}".encode() for key in keys}


def spread_over_all(sharded, keys):
    where = locate_many(keys, sharded.servers)
    assert all(len(v) == 1 for v in where.values()), where
    per_backend = [sum(1 for v in where.values() if v == [i]) for i in range(len(sharded.servers))]
    assert all(per_backend), f"keys per backend {per_backend}: test keys do not cover all shards"
    return where


def test_mset_places_keys_like_single_key_commands(sharded3):
    c = sharded3.client
    keys = spread_keys(300, ":m")
    expected = values_for(keys)
    assert c.mset(expected) is True
    where = spread_over_all(sharded3, keys)
    for i, server in enumerate(sharded3.servers):
        mine = [k for k in keys if where[k] == [i]]
        assert server.client().mget(mine) == [expected[k] for k in mine]
    # the same keys written one by one go to the same backends
    for server in sharded3.servers:
        server.flushall()
    pipe = c.pipeline(transaction=False)
    for key in keys:
        pipe.set(key, "single")
    pipe.execute()
    assert locate_many(keys, sharded3.servers) == where


def test_mget_merges_in_request_order(sharded3):
    c = sharded3.client
    keys = spread_keys(300, ":g")
    expected = values_for(keys)
    c.mset(expected)
    missing = spread_keys(50, ":missing", seed=9)
    request = []
    for i, key in enumerate(keys):
        request.append(key)
        if i % 6 == 0:
            request.append(missing[i % len(missing)])
    request += keys[:20]  # duplicates
    assert c.mget(request) == [expected.get(k) for k in request]
    assert c.mget(missing) == [None] * len(missing)


def test_mget_single_and_duplicate_keys(sharded3):
    c = sharded3.client
    c.set("a", "1")
    c.set("b", "2")
    assert c.mget(["a"]) == [b"1"]
    assert c.mget(["a", "a", "nope", "b", "a"]) == [b"1", b"1", None, b"2", b"1"]


def test_mset_duplicate_key_last_value_wins(sharded3):
    c = sharded3.client
    assert c.execute_command("MSET", "dup", "1", "other", "x", "dup", "2") is True
    assert c.get("dup") == b"2"
    assert c.get("other") == b"x"


@pytest.mark.parametrize("command", ["DEL", "UNLINK"])
def test_del_and_unlink_count_like_redis(sharded3, command):
    c = sharded3.client
    keys = spread_keys(120, ":d")
    c.mset(values_for(keys))
    spread_over_all(sharded3, keys)
    missing = spread_keys(10, ":nope", seed=4)
    assert c.execute_command(command, *keys[:60], *missing) == 60
    assert c.execute_command(command, keys[60], keys[60], keys[61]) == 2  # like Redis: once
    assert c.execute_command(command, *missing) == 0
    assert c.exists(*keys[:62]) == 0
    assert c.execute_command(command, *keys[62:]) == 58
    assert sum(s.client().dbsize() for s in sharded3.servers) == 0


def test_exists_counts_every_argument(sharded3):
    c = sharded3.client
    keys = spread_keys(90, ":e")
    c.mset(values_for(keys))
    spread_over_all(sharded3, keys)
    missing = spread_keys(5, ":none", seed=5)
    assert c.exists(*keys) == 90
    assert c.exists(*keys, *missing) == 90
    assert c.exists(keys[0], keys[0]) == 2
    assert c.exists(keys[0], keys[1], keys[0], missing[0], keys[1]) == 4
    assert c.exists(*missing) == 0


def test_touch_counts_existing_keys(sharded3):
    c = sharded3.client
    keys = spread_keys(60, ":t")
    c.mset(values_for(keys))
    spread_over_all(sharded3, keys)
    missing = spread_keys(7, ":absent", seed=6)
    assert c.touch(*keys, *missing) == 60
    assert c.touch(keys[5], keys[5]) == 2


def test_one_subcommand_per_backend(sharded3):
    c = sharded3.client
    keys = spread_keys(90, ":p")
    assert c.mset(values_for(keys)) is True
    spread_over_all(sharded3, keys)
    assert c.mget(keys) == list(values_for(keys).values())
    assert c.mget(keys[::-1]) == list(values_for(keys[::-1]).values())
    assert c.delete(*keys) == 90
    for server in sharded3.servers:
        calls = server.command_calls()
        assert calls.get("mset") == 1, calls
        assert calls.get("mget") == 2, calls
        assert calls.get("del") == 1, calls
        assert "get" not in calls and "set" not in calls, calls


def test_pipelined_multikey_replies_in_order(sharded3):
    c = sharded3.client
    keys = spread_keys(60, ":q")
    expected = values_for(keys)
    pipe = c.pipeline(transaction=False)
    for i in range(0, 60, 6):
        chunk = keys[i:i + 6]
        pipe.mset({k: expected[k] for k in chunk})
        pipe.mget(chunk[::-1])
        pipe.get(chunk[0])
        pipe.delete(chunk[4], chunk[5])
        pipe.mget(chunk)
    replies = pipe.execute()
    for n, i in enumerate(range(0, 60, 6)):
        chunk = keys[i:i + 6]
        mset, mget_rev, get0, deleted, mget = replies[5 * n:5 * n + 5]
        assert mset is True
        assert mget_rev == [expected[k] for k in chunk[::-1]]
        assert get0 == expected[chunk[0]]
        assert deleted == 2
        assert mget == [expected[k] for k in chunk[:4]] + [None, None]


def test_binary_keys_in_multikey_commands(sharded3):
    c = sharded3.client
    keys = [bytes([i, 255 - i, 13, 10, i]) for i in range(64)] + [b"", b"\x00"]
    values = {k: b"\r\n" + k + b"\x00" for k in keys}
    assert c.mset(values) is True
    assert c.mget(keys) == [values[k] for k in keys]
    where = locate_many(keys, sharded3.servers)
    assert all(len(v) == 1 for v in where.values()), where
    assert c.delete(*keys) == len(keys)
    assert all(v == [] for v in locate_many(keys, sharded3.servers).values())
