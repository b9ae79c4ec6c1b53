"""SELECT per client connection. A pool whose redis_db is 0 (the default) serves every
database of its backends: each session carries its own, its requests travel on shared
connections SELECTed to it (one set per database in use), and MOVE, SWAPDB, FLUSHDB and
FLUSHALL mean what they mean in Redis. A pool with a redis_db serves that database alone, as
nutcracker does.
"""

import threading

import pytest

from harness import ErrorReply, RawConn, ReplyReader, encode_command, pool_config, spread_keys

SCRIPT = [
    ("SELECT", "1"), ("SET", "k", "in-1"), ("GET", "k"), ("SELECT", "0"), ("GET", "k"),
    ("SELECT", "16"), ("SELECT", "-1"), ("SELECT", "x"), ("SELECT", "1"),
    ("MOVE", "k", "2"), ("GET", "k"), ("SELECT", "2"), ("GET", "k"),
    ("SWAPDB", "0", "2"), ("GET", "k"), ("SELECT", "0"), ("GET", "k"), ("DBSIZE",),
    ("FLUSHDB",), ("DBSIZE",), ("SELECT", "3"), ("MULTI",), ("SET", "t", "1"), ("INCR", "t"),
    ("EXEC",), ("SELECT", "4"), ("EXISTS", "t"), ("SELECT", "3"), ("GET", "t"),
    ("FLUSHALL",), ("GET", "t"),
]


def replies(port: int, script) -> list[bytes]:
    with RawConn(port, timeout=10) as conn:
        reader = ReplyReader(conn.sock)
        conn.send(b"".join(encode_command(*args) for args in script))
        return [reader.reply() for _ in script]


def test_select_answers_as_redis_does(procs):
    server, oracle = procs.redis(2)
    proxy = procs.proxy(pools=[pool_config([server])])
    assert replies(proxy.port, SCRIPT) == replies(oracle.port, SCRIPT)


@pytest.mark.parametrize("shards", [1, 3])
def test_sessions_on_different_databases_never_see_each_others_keys(procs, shards):
    servers = procs.redis(shards)
    proxy = procs.proxy(pools=[pool_config(servers, hash="fnv1a_64", distribution="ketama")])
    keys = spread_keys(30, ":db")
    errors = []

    def writer(db: int):
        try:
            client = proxy.client(db=db)
            for round_ in range(20):
                client.mset({k: f"{db}:{round_}" for k in keys})
                got = client.mget(keys)
                if got != [f"{db}:{round_}".encode()] * len(keys):
                    errors.append(f"db {db} round {round_}: {got[:3]}")
                    return
        except Exception as err:  # reported below
            errors.append(f"db {db}: {err!r}")

    threads = [threading.Thread(target=writer, args=(db,)) for db in (0, 5, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    for db in (0, 5, 9):
        assert sum(s.client(db=db).dbsize() for s in servers) == len(keys)
        for server in servers:
            for key in server.client(db=db).keys():
                assert server.client(db=db).get(key) == f"{db}:19".encode()


def test_blocking_pop_and_transactions_stay_in_the_sessions_database(procs):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server])])
    db6 = proxy.client(db=6)
    pipe = db6.pipeline()
    pipe.rpush("q", "six").get("missing")
    assert pipe.execute() == [1, None]
    assert db6.blpop(["q"], timeout=1) == (b"q", b"six")
    assert server.client(db=6).exists("q") == 0
    proxy.client(db=0).rpush("q", "zero")
    assert db6.blpop(["q"], timeout=0.5) is None  # db 0's list is not db 6's
    assert server.client(db=0).lrange("q", 0, -1) == [b"zero"]


def test_a_pool_with_a_redis_db_serves_that_database_alone(procs):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server], redis_db=3)])
    with RawConn(proxy.port) as conn:
        assert conn.command("SET", "k", "v") == b"OK"
        reply = conn.command("SELECT", "1")
        assert isinstance(reply, ErrorReply) and b"redis_db" in reply, reply
        for args in (("MOVE", "k", "1"), ("SWAPDB", "0", "3"), ("FLUSHALL",)):
            reply = conn.command(*args)
            assert isinstance(reply, ErrorReply) and b"redis_db" in reply, (args, reply)
        assert conn.command("SELECT", "0") == b"OK"
        assert conn.command("GET", "k") == b"v"
        info = conn.command("CLIENT", "INFO")
        assert b" db=0 " in info, info
    assert server.client(db=3).get("k") == b"v"
    assert server.client(db=1).dbsize() == 0


def test_databases_key_bounds_select(procs):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server], extra={"databases": 4})])
    with RawConn(proxy.port) as conn:
        assert conn.command("SELECT", "3") == b"OK"
        assert conn.command("SELECT", "4") == b"ERR DB index is out of range"
