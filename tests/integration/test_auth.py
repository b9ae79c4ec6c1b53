"""Client authentication: switchyard answers AUTH, HELLO and NOAUTH byte for byte as Redis 7.0.

Each case sends the same bytes, in one write, to a real `redis-server --requirepass` and to
switchyard, and compares the raw replies. The reference Redis uses the password clients
must give switchyard:

  * redis_auth only (twemproxy's meaning): clients and the proxy both use the backend's
    password, so the backend itself is the reference;
  * client_auth: clients use their own password, the proxy the backend's (redis_auth);
  * no password at all: the backend without requirepass is the reference.

Also: redis-py with password / username, a backend that rejects the proxy's password (a
clear error per request, never a hang), and where nutcracker's redis_auth agrees.
"""

from __future__ import annotations

import re
import socket
import time

import pytest
import redis

from harness import (HOST, ConnectionClosed, ErrorReply, Nutcracker, RawConn, ReplyReader,
                     Switchyard, encode_command as cmd, pool_config)
from test_resp3 import check_hello

BACKEND_PW = "backend-pw"
CLIENT_PW = "client-pw"

HELLO_ID = re.compile(rb"(\$2\r\nid\r\n:)\d+")


def reply_end(buf: bytes, pos: int = 0):
    """Index just past the RESP2 reply starting at buf[pos], or None if it is incomplete."""
    line_end = buf.find(b"\r\n", pos)
    if line_end < 0:
        return None
    kind, head = buf[pos:pos + 1], buf[pos + 1:line_end]
    after = line_end + 2
    if kind in (b"+", b"-", b":"):
        return after
    if kind == b"$":
        n = int(head)
        if n < 0:
            return after
        return after + n + 2 if len(buf) >= after + n + 2 else None
    if kind == b"*":
        n = int(head)
        for _ in range(max(n, 0)):
            after = reply_end(buf, after)
            if after is None:
                return None
        return after
    raise AssertionError(f"not a RESP2 reply at {pos}: {buf[pos:pos + 40]!r}")


# Sent after each case: an unknown command is answered the same way authenticated or not,
# so its reply marks the end of the case's replies (an extra reply would come before it).
END_MARK = cmd("END-OF-CASE")


def exchange(port: int, data: bytes, replies: int, expect_close: bool = False) -> bytes:
    """Sends `data` in one write on a new connection; returns the raw bytes of `replies`
    replies, followed by b"<closed>" when the server then closes the connection (looked
    for only when expect_close; otherwise the end mark's reply follows)."""
    if not expect_close:
        data, replies = data + END_MARK, replies + 1
    with socket.create_connection((HOST, port), timeout=10) as sock:
        sock.sendall(data)
        buf, pos, count = b"", 0, 0
        deadline = time.monotonic() + 10
        while count < replies:
            end = reply_end(buf, pos) if pos < len(buf) else None
            if end is not None:
                pos, count = end, count + 1
                continue
            assert time.monotonic() < deadline, f"only {count} replies: {buf!r}"
            chunk = sock.recv(65536)
            if not chunk:
                return buf + b"<closed>"
            buf += chunk
        if not expect_close:
            assert buf.endswith(b"-ERR unknown command 'END-OF-CASE', with args beginning "
                                b"with: \r\n"), buf
            return HELLO_ID.sub(rb"\1<id>", buf)
        sock.settimeout(3.0)
        try:
            extra = sock.recv(65536)
            buf += extra if extra else b"<closed>"
        except socket.timeout:
            pass
        except ConnectionResetError:
            buf += b"<closed>"
    return HELLO_ID.sub(rb"\1<id>", buf)


# (name, request bytes, number of replies). The key "auth:absent" exists nowhere.
K = "auth:absent"


def password_cases(pw: str) -> list[tuple[str, bytes, int]]:
    return [
        ("get before auth", cmd("GET", K), 1),
        ("set before auth", cmd("SET", K, "v"), 1),
        ("ping before auth", cmd("PING"), 1),
        ("echo, select, client, command before auth",
         cmd("ECHO", "x") + cmd("SELECT", "0") + cmd("CLIENT", "GETNAME")
         + cmd("COMMAND", "COUNT") + cmd("MGET", "a", "b"), 5),
        ("inline get before auth", b"GET " + K.encode() + b"\r\n", 1),
        ("unknown command before auth", cmd("NOSUCHCMD", "a"), 1),
        ("unknown subcommand before auth", cmd("CLIENT", "NOSUCHSUB"), 1),
        ("wrong arity before auth", cmd("GET") + cmd("SET", "k"), 2),
        ("auth wrong password", cmd("AUTH", "nope"), 1),
        ("auth empty password", cmd("AUTH", ""), 1),
        ("auth good", cmd("AUTH", pw) + cmd("GET", K), 2),
        ("auth default user", cmd("AUTH", "default", pw) + cmd("GET", K), 2),
        ("auth user name is case-sensitive", cmd("AUTH", "DEFAULT", pw) + cmd("GET", K), 2),
        ("auth unknown user", cmd("AUTH", "bob", pw) + cmd("GET", K), 2),
        ("auth default user wrong password", cmd("AUTH", "default", "nope"), 1),
        ("auth without arguments", cmd("AUTH"), 1),
        ("auth with too many arguments", cmd("AUTH", "a", "b", "c"), 1),
        ("auth lower case", cmd("auth", pw) + cmd("get", K), 2),
        ("inline auth", b"AUTH " + pw.encode() + b"\r\nGET " + K.encode() + b"\r\n", 2),
        ("pipelined: before auth NOAUTH, after it runs",
         cmd("GET", K) + cmd("PING") + cmd("AUTH", pw) + cmd("GET", K) + cmd("PING"), 5),
        ("pipelined wrong then good",
         cmd("AUTH", "nope") + cmd("GET", K) + cmd("AUTH", pw) + cmd("GET", K), 4),
        ("re-auth with a wrong password keeps the client authenticated",
         cmd("AUTH", pw) + cmd("AUTH", "nope") + cmd("GET", K), 3),
        ("re-auth as an unknown user keeps the client authenticated",
         cmd("AUTH", pw) + cmd("AUTH", "bob", "x") + cmd("GET", K), 3),
        ("hello before auth", cmd("HELLO"), 1),
        ("hello 2 before auth", cmd("HELLO", "2"), 1),
        ("hello 3 before auth", cmd("HELLO", "3"), 1),
        ("hello 2 setname before auth", cmd("HELLO", "2", "SETNAME", "app"), 1),
        ("hello auth", cmd("HELLO", "2", "AUTH", "default", pw) + cmd("GET", K), 2),
        ("hello auth lower case", cmd("hello", "2", "auth", "default", pw), 1),
        ("hello auth wrong password",
         cmd("HELLO", "2", "AUTH", "default", "nope") + cmd("GET", K), 2),
        ("hello auth unknown user", cmd("HELLO", "2", "AUTH", "bob", pw) + cmd("GET", K), 2),
        ("hello auth missing password", cmd("HELLO", "2", "AUTH", "default"), 1),
        ("hello auth and setname",
         cmd("HELLO", "2", "AUTH", "default", pw, "SETNAME", "app") + cmd("CLIENT", "GETNAME"),
         2),
        ("hello bad client name", cmd("HELLO", "2", "SETNAME", "a b"), 1),
        ("hello bad option", cmd("HELLO", "2", "FOO"), 1),
        ("hello version not a number", cmd("HELLO", "two"), 1),
        ("hello version out of range", cmd("HELLO", "1") + cmd("HELLO", "4"), 2),
        ("hello after auth", cmd("AUTH", pw) + cmd("HELLO", "2") + cmd("HELLO"), 3),
        ("hello wrong password after auth keeps the client authenticated",
         cmd("AUTH", pw) + cmd("HELLO", "2", "AUTH", "default", "nope") + cmd("GET", K), 3),
    ]


NO_PASSWORD_CASES = [
    ("get", cmd("GET", K), 1),
    ("ping and hello", cmd("PING") + cmd("HELLO") + cmd("HELLO", "2"), 3),
    ("auth password without a password configured", cmd("AUTH", "anything"), 1),
    ("auth empty without a password configured", cmd("AUTH", ""), 1),
    ("auth default user accepts any password", cmd("AUTH", "default", "anything"), 1),
    ("auth unknown user", cmd("AUTH", "bob", "anything"), 1),
    ("auth without arguments", cmd("AUTH"), 1),
    ("auth with too many arguments", cmd("AUTH", "a", "b", "c"), 1),
    ("hello auth default accepts any password",
     cmd("HELLO", "2", "AUTH", "default", "anything") + cmd("GET", K), 2),
    ("hello auth unknown user", cmd("HELLO", "2", "AUTH", "bob", "x"), 1),
    ("hello setname", cmd("HELLO", "2", "SETNAME", "app") + cmd("CLIENT", "GETNAME"), 2),
    ("pipelined auth", cmd("GET", K) + cmd("AUTH", "x") + cmd("GET", K), 3),
]


def case_id(case) -> str:
    return case[0].replace(" ", "-")


@pytest.fixture(scope="module")
def setups(module_procs):
    """Three switchyards, each with the Redis whose replies it must reproduce."""
    # redis_auth only: the backend's password is the clients' password.
    shared = module_procs.redis(2, requirepass=BACKEND_PW)
    twem = module_procs.proxy(
        pools=[pool_config(shared, name="twem", extra={"redis_auth": BACKEND_PW})],
        cls=Switchyard)
    # client_auth: clients and backends have separate passwords.
    backends = module_procs.redis(2, requirepass=BACKEND_PW)
    separate = module_procs.proxy(
        pools=[pool_config(backends, name="sep",
                           extra={"redis_auth": BACKEND_PW, "client_auth": CLIENT_PW})],
        cls=Switchyard)
    client_reference = module_procs.redis(1, requirepass=CLIENT_PW)[0]
    # No password anywhere.
    open_backends = module_procs.redis(2)
    open_proxy = module_procs.proxy(pools=[pool_config(open_backends, name="open")],
                                    cls=Switchyard)
    return {
        "redis_auth": (twem, shared[0], BACKEND_PW),
        "client_auth": (separate, client_reference, CLIENT_PW),
        "none": (open_proxy, open_backends[0], None),
    }


def compare(proxy, reference, data: bytes, replies: int) -> None:
    expect_close = b"QUIT" in data.upper()
    want = exchange(reference.port, data, replies, expect_close)
    got = exchange(proxy.port, data, replies, expect_close)
    assert got == want, f"request {data!r}\nredis:      {want!r}\nswitchyard: {got!r}"


@pytest.mark.parametrize("index", range(len(password_cases(""))),
                         ids=[case_id(c) for c in password_cases("")])
@pytest.mark.parametrize("mode", ["redis_auth", "client_auth"])
def test_same_bytes_as_redis_with_requirepass(setups, mode, index):
    proxy, reference, pw = setups[mode]
    _, data, replies = password_cases(pw)[index]
    compare(proxy, reference, data, replies)


@pytest.mark.parametrize("case", NO_PASSWORD_CASES, ids=case_id)
def test_same_bytes_as_redis_without_a_password(setups, case):
    proxy, reference, _ = setups["none"]
    compare(proxy, reference, case[1], case[2])


@pytest.mark.parametrize("mode", ["redis_auth", "client_auth", "none"])
def test_quit_before_auth_replies_ok_and_closes(setups, mode):
    proxy, reference, _ = setups[mode]
    data = cmd("QUIT") + cmd("GET", K)
    want = exchange(reference.port, data, 1, expect_close=True)
    assert want == b"+OK\r\n<closed>"
    assert exchange(proxy.port, data, 1, expect_close=True) == want


def test_hello_3_with_auth_authenticates_and_switches_to_resp3(setups):
    """HELLO 3 is checked in Redis's order (NOAUTH before anything else); with good
    credentials the connection is authenticated and speaks RESP3, and so do the backend
    connections its requests travel on (AUTH, then HELLO 3, on each)."""
    proxy, _, pw = setups["redis_auth"]
    with proxy.raw() as conn:
        assert conn.command("HELLO", "3").startswith(b"NOAUTH HELLO must be called")
        reader = ReplyReader(conn.sock)
        conn.send(cmd("HELLO", "3", "AUTH", "default", pw))
        check_hello(reader.reply(), 3)
        conn.send(cmd("HSET", "auth:h", "f", "v") + cmd("HGETALL", "auth:h") + cmd("GET", K) +
                  cmd("DEL", "auth:h"))
        assert [reader.reply() for _ in range(4)] == [
            b":1\r\n", b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n", b"_\r\n", b":1\r\n"]


def test_client_auth_is_independent_of_the_backend_password(setups):
    proxy, _, _ = setups["client_auth"]
    with proxy.raw() as conn:
        assert conn.command("AUTH", BACKEND_PW) == \
            b"WRONGPASS invalid username-password pair or user is disabled."
        assert conn.command("AUTH", CLIENT_PW) == b"OK"
        assert conn.command("SET", "auth:k", "v") == b"OK"
        assert conn.command("GET", "auth:k") == b"v"
        assert conn.command("DEL", "auth:k") == 1


@pytest.mark.parametrize("mode", ["redis_auth", "client_auth"])
def test_redis_py_with_password_and_with_username(setups, mode):
    proxy, _, pw = setups[mode]
    for kwargs in ({"password": pw}, {"username": "default", "password": pw}):
        client = proxy.client(**kwargs)
        keys = [f"auth:{mode}:{i}" for i in range(20)]
        client.mset({key: key for key in keys})
        assert client.mget(keys) == [key.encode() for key in keys]
        assert client.delete(*keys) == len(keys)
        client.close()
    with pytest.raises(redis.exceptions.RedisError, match="^WRONGPASS"):
        proxy.client(password="nope").ping()
    with pytest.raises(redis.exceptions.RedisError, match="^Authentication required"):
        proxy.client().get(K)  # NOAUTH


# --------------------------------------------------------------------------------------------
# The proxy's own credentials are wrong


def assert_errors_promptly(conn: RawConn, needle: bytes, requests: int = 5) -> list[bytes]:
    """Every request gets an error naming the failed backend AUTH, each within seconds."""
    replies = []
    for i in range(requests):
        started = time.monotonic()
        reply = conn.command("GET", f"auth:k{i}")
        assert time.monotonic() - started < 5, "a request waited on a backend that refused AUTH"
        assert isinstance(reply, bytes) and reply.startswith(b"ERR backend"), reply
        assert needle in reply, reply
        replies.append(reply)
    return replies


def test_wrong_backend_password_fails_each_request_clearly(procs):
    backend = procs.redis(1, requirepass=BACKEND_PW)[0]
    proxy = procs.proxy(pools=[pool_config([backend], extra={
        "redis_auth": "not-the-backend-password", "client_auth": CLIENT_PW})],
        cls=Switchyard)
    with proxy.raw() as conn:
        assert conn.command("AUTH", CLIENT_PW) == b"OK"
        replies = assert_errors_promptly(
            conn, b"backend rejected AUTH: WRONGPASS invalid username-password pair")
        assert backend.addr.encode() in replies[0]
        # Pipelined requests too: one error each, in order, and the connection stays usable.
        conn.send(b"".join(cmd("GET", f"auth:p{i}") for i in range(50)))
        for reply in conn.read_replies(50):
            assert reply.startswith(b"ERR backend"), reply
        assert conn.is_open()
    assert proxy.is_running()


def test_backend_password_set_but_proxy_has_none(procs):
    """Without redis_auth the backend's own NOAUTH reaches the client: still one clear
    error per request, never a hang."""
    backend = procs.redis(1, requirepass=BACKEND_PW)[0]
    proxy = procs.proxy(pools=[pool_config([backend])], cls=Switchyard)
    with proxy.raw() as conn:
        for i in range(3):
            assert conn.command("GET", f"auth:k{i}") == b"NOAUTH Authentication required."


def test_backend_without_password_rejects_the_proxys_auth(procs):
    """redis_auth against a backend with no password: Redis refuses the AUTH, and
    switchyard reports it instead of running requests on a backend it could not verify."""
    backend = procs.redis(1)[0]
    proxy = procs.proxy(pools=[pool_config([backend], extra={"redis_auth": "pw"})],
                        cls=Switchyard)
    with proxy.raw() as conn:
        assert conn.command("AUTH", "pw") == b"OK"
        assert_errors_promptly(conn, b"backend rejected AUTH: ERR AUTH <password> called without")


# --------------------------------------------------------------------------------------------
# nutcracker, the oracle for redis_auth


def reply_shape(reply) -> tuple:
    """What nutcracker and switchyard agree on: the reply's type and, for an error, its code."""
    if isinstance(reply, ErrorReply):
        return ("error", reply.split(b" ", 1)[0])
    return (type(reply).__name__, reply if not isinstance(reply, bytes) else bytes(reply))


NUTCRACKER_AGREES = [
    [("GET", K)],
    [("PING",)],
    [("AUTH", "nope")],
    [("AUTH", BACKEND_PW), ("SET", "auth:nc", "v"), ("GET", "auth:nc"), ("DEL", "auth:nc")],
    [("GET", K), ("AUTH", BACKEND_PW), ("GET", K)],
    [("AUTH", "nope"), ("AUTH", BACKEND_PW), ("PING",)],
]


@pytest.mark.parametrize("requests", NUTCRACKER_AGREES, ids=lambda r: "-".join(c[0] for c in r))
def test_nutcracker_agrees_on_redis_auth(procs, requests):
    """nutcracker's redis_auth gives the same kinds of reply (NOAUTH, a wrong-password error,
    +OK, then data). Its texts differ; docs/configuration.md lists them."""
    backend = procs.redis(1, requirepass=BACKEND_PW)[0]
    shapes = []
    for cls in (Switchyard, Nutcracker):
        proxy = procs.proxy(pools=[pool_config([backend], extra={"redis_auth": BACKEND_PW})],
                            cls=cls)
        with proxy.raw() as conn:
            conn.send(b"".join(cmd(*request) for request in requests))
            shapes.append([reply_shape(r) for r in conn.read_replies(len(requests))])
    switchyard_shapes, nutcracker_shapes = shapes
    # The wrong-password error is "WRONGPASS ..." from switchyard (as Redis 6+) and
    # "ERR invalid password" from nutcracker; every other reply agrees in kind and code.
    normalized = [("error", b"WRONGPASS") if s == ("error", b"ERR") else s
                  for s in nutcracker_shapes]
    assert switchyard_shapes == normalized


def test_nutcracker_differs_where_documented(procs):
    """The differences docs/configuration.md lists, checked so the list stays true."""
    backend = procs.redis(1, requirepass=BACKEND_PW)[0]
    nut = procs.proxy(pools=[pool_config([backend], extra={"redis_auth": BACKEND_PW})],
                      cls=Nutcracker)
    with nut.raw() as conn:
        assert conn.command("GET", K) == b"NOAUTH Authentication required"
        assert conn.command("AUTH", "nope") == b"ERR invalid password"
        assert conn.command("AUTH", BACKEND_PW) == b"OK"
        # A wrong re-AUTH logs nutcracker's client out; Redis and switchyard keep it in.
        assert conn.command("AUTH", "nope") == b"ERR invalid password"
        assert conn.command("GET", K) == b"NOAUTH Authentication required"
    with nut.raw() as conn:
        # AUTH with a user name: nutcracker closes the connection.
        conn.send(cmd("AUTH", "default", BACKEND_PW))
        with pytest.raises((ConnectionClosed, ConnectionResetError)):
            conn.read_reply()
    open_backend = procs.redis(1)[0]
    nut_open = procs.proxy(pools=[pool_config([open_backend], name="open")], cls=Nutcracker)
    with nut_open.raw() as conn:
        assert conn.command("AUTH", "x") == b"ERR Client sent AUTH, but no password is set"
