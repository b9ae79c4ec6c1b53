"""The statistics outputs: INFO answered by the proxy, the --admin-port HTTP endpoint
(GET /metrics in Prometheus text format, GET /stats) and the twemproxy stats port, all fed by
the same counters, checked against traffic sent by real clients to real redis-server backends.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time

import pytest
import redis

from harness import HOST, Switchyard, free_port, pool_config, wait_until

DEADLINE = 20.0



def http(port: int, request: bytes, timeout: float = 10.0) -> tuple[int, dict, bytes]:
    """Sends raw `request`, reads to EOF; returns (status, headers, body)."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def get(port: int, path: str) -> tuple[int, dict, bytes]:
    return http(port, f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')


def parse_prometheus(text: str) -> tuple[dict, dict]:
    """(families name -> type, samples (name, labels) -> float), checking HELP/TYPE and
    duplicates as a scraper would."""
    helps, types, samples = set(), {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helps.add(line.split(" ")[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name in helps, f"TYPE before HELP: {line}"
            types[name] = kind
        else:
            match = SAMPLE.match(line)
            assert match, f"unparsable line: {line!r}"
            name, labels, value = match.group(1), match.group(3) or "", match.group(4)
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in types or types.get(family) == "histogram", f"no TYPE for {line}"
            key = (name, labels)
            assert key not in samples, f"duplicate series {line}"
            samples[key] = float(value)
    return types, samples


def scrape(port: int) -> tuple[dict, dict]:
    status, headers, body = get(port, "/metrics")
    assert status == 200
    assert headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse_prometheus(body.decode())


@pytest.fixture
def metered(procs):
    """Two backends behind switchyard with the admin HTTP port on and stats refreshed fast."""
    servers = procs.redis(2)
    admin_port = free_port()
    pool = pool_config(servers, hash="fnv1a_64", distribution="ketama", hash_tag="{}",
                       names=["s1", None])
    proxy = procs.proxy(pools=[pool], cls=Switchyard,
                        extra_args=["--admin-port", str(admin_port), "--admin-addr", HOST,
                                    "-i", "100"])
    proxy.admin_port = admin_port
    wait_until(lambda: _accepts(admin_port), "the admin port")
    return proxy, servers


def _accepts(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=1).close()
        return True
    except OSError:
        return False


def test_info_is_answered_by_the_proxy_and_parsed_by_redis_py(metered):
    proxy, servers = metered
    client = proxy.client()
    info = client.info()
    assert info["redis_version"] == "7.0.15"
    assert info["switchyard_version"]
    assert info["process_id"] == proxy.pid
    assert info["tcp_port"] == proxy.port
    assert info["config_file"] == str(proxy.conf_path.resolve())
    assert info["executable"].endswith("switchyard")
    assert info["connected_clients"] >= 1
    assert info["used_memory_rss"] > 0 and info["open_fds"] > 3
    assert info["used_cpu_user"] + info["used_cpu_sys"] > 0
    assert info["pool_alpha_name"] == "alpha"
    assert info["pool_alpha_servers"] == 2
    assert info["backend_alpha_s1_address"] == servers[0].addr
    assert info[f"backend_alpha_{servers[1].addr.replace('.', '_').replace(':', '_')}_name"] \
        == servers[1].addr
    # The proxy answered: no backend saw an INFO.
    for server in servers:
        assert "info" not in server.command_calls()


def test_info_from_clients_that_leave_at_once_and_in_pipelines(metered):
    proxy, _ = metered
    for _ in range(50):  # the reply is rendered on another thread; the client is gone by then
        with socket.create_connection((HOST, proxy.port), timeout=10) as sock:
            sock.sendall(b"INFO\r\nINFO all\r\n")
    with proxy.raw() as raw:  # replies stay in request order around INFO
        raw.send(b"SET p 1\r\nINFO server\r\nGET p\r\nINFO nosuch\r\nPING\r\n")
        assert raw.read_reply() == b"OK"
        assert raw.read_reply().startswith(b"# Server\r\n")
        assert raw.read_reply() == b"1"
        assert raw.read_reply() == b""
        assert raw.read_reply() == b"PONG"
    assert proxy.is_running()
    assert proxy.client().info("server")["redis_version"] == "7.0.15"


def test_redis_cli_reads_info(metered):
    proxy, _ = metered
    out = subprocess.run(["redis-cli", "-h", HOST, "-p", str(proxy.port), "INFO", "server"],
                         capture_output=True, text=True, timeout=20, check=True).stdout
    assert out.startswith("# Server")
    assert "redis_version:7.0.15" in out and f"tcp_port:{proxy.port}" in out


def test_admin_port_in_use_stops_start_up_with_a_clear_error(procs):
    servers = procs.redis(1)
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        proxy = Switchyard(procs.workdir, pools=[pool_config(servers)],
                           extra_args=["--admin-port", str(port), "--admin-addr", HOST])
        proxy.conf_path.write_text(proxy.config_text)
        result = subprocess.run(proxy.argv(), capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"admin: cannot listen on {HOST}:{port}: " in result.stdout + result.stderr


def test_commandstats_count_what_was_sent(metered):
    proxy, servers = metered
    client = proxy.client()
    for i in range(25):
        client.set(f"k{i}", i)
    for i in range(40):
        client.get(f"k{i}")
    client.mget([f"k{i}" for i in range(10)])
    client.set("text", "abc")
    for _ in range(3):
        with pytest.raises(redis.ResponseError):
            client.incr("text")  # INCRBY text 1, executed by the backend: an error reply
    for _ in range(2):
        with pytest.raises(redis.ResponseError):
            client.execute_command("WAIT", "1", "0")  # refused by the proxy
    with pytest.raises(redis.ResponseError):
        client.execute_command("GET")  # wrong arity: refused
    with pytest.raises(redis.ResponseError):
        client.execute_command("NOSUCHCOMMAND")  # unknown: not a command of the table

    stats = client.info("commandstats")
    assert stats["cmdstat_set"]["calls"] == 26
    assert stats["cmdstat_set"]["failed_calls"] == 0
    assert stats["cmdstat_get"]["calls"] == 40
    assert stats["cmdstat_get"]["rejected_calls"] == 1
    assert stats["cmdstat_mget"]["calls"] == 1
    assert stats["cmdstat_incrby"] == {"calls": 3, "usec": stats["cmdstat_incrby"]["usec"],
                                       "usec_per_call": stats["cmdstat_incrby"]["usec_per_call"],
                                       "rejected_calls": 0, "failed_calls": 3}
    assert stats["cmdstat_wait"]["calls"] == 0
    assert stats["cmdstat_wait"]["rejected_calls"] == 2
    assert stats["cmdstat_get"]["usec"] > 0
    assert not any("nosuchcommand" in key for key in stats)
    totals = client.info("stats")
    assert totals["total_commands_processed"] >= 26 + 40 + 1 + 3
    assert totals["total_error_replies"] >= 3 + 2 + 1


def test_info_section_selection_follows_redis(metered):
    proxy, _ = metered
    client = proxy.client()
    client.set("a", 1)
    server = client.info("server")
    assert "redis_version" in server and "connected_clients" not in server
    assert not any(key.startswith("pool_") for key in server)
    raw = proxy.raw()
    both = raw.command("INFO", "server", "CLIENTS")
    assert both.startswith(b"# Server\r\n") and b"\r\n\r\n# Clients\r\n" in both
    assert b"# Stats" not in both and both.endswith(b"\r\n")
    default = client.info()
    assert "pool_alpha_requests" not in default  # pools carry twemproxy's pool fields
    assert "pool_alpha_client_connections" in default
    assert not any(key.startswith("cmdstat_") for key in default)
    assert "cmdstat_set" in client.info("all")
    assert "cmdstat_set" in client.info("everything")
    assert b"cmdstat_set:" in raw.command("INFO", "default", "commandstats")
    assert raw.command("INFO", "nosuchsection") == b""
    assert client.info("nosuchsection") == {}
    pools = raw.command("INFO", "pools")
    assert pools.startswith(b"# Pool_alpha\r\n") and b"# Backend_" not in pools
    backends = raw.command("INFO", "backends").decode()
    assert backends.count("# Backend_alpha_") == 2
    raw.close()


def test_prometheus_counters_and_histograms_move_with_traffic(metered):
    proxy, servers = metered
    types, before = scrape(proxy.admin_port)
    for name in ("switchyard_pool_client_connections", "switchyard_server_connections",
                 "switchyard_server_in_queue", "switchyard_uptime_seconds"):
        assert types[name] == "gauge", name
    for name in ("switchyard_pool_client_eof_total", "switchyard_server_requests_total",
                 "switchyard_command_calls_total", "switchyard_connections_received_total"):
        assert types[name] == "counter", name
    assert types["switchyard_pool_request_duration_seconds"] == "histogram"
    assert types["switchyard_server_request_duration_seconds"] == "histogram"

    client = proxy.client()
    for i in range(50):
        client.set(f"key:{i}", "v")
    for i in range(30):
        client.get(f"key:{i}")
    _, after = scrape(proxy.admin_port)

    pool = 'pool="alpha"'
    assert after[("switchyard_command_calls_total", pool + ',command="set"')] == 50
    assert after[("switchyard_command_calls_total", pool + ',command="get"')] == 30
    assert after[("switchyard_command_duration_seconds_total", pool + ',command="get"')] > 0
    count = after[("switchyard_pool_request_duration_seconds_count", pool)]
    assert count - before[("switchyard_pool_request_duration_seconds_count", pool)] >= 80
    assert after[("switchyard_pool_request_duration_seconds_bucket", pool + ',le="+Inf"')] == count
    assert after[("switchyard_pool_request_duration_seconds_sum", pool)] > 0
    forwarded = sum(value for (name, labels), value in after.items()
                    if name == "switchyard_server_request_duration_seconds_count")
    requests = sum(value for (name, labels), value in after.items()
                   if name == "switchyard_server_requests_total")
    assert forwarded == requests >= 80
    assert after[("switchyard_pool_client_connections", pool)] >= 1
    assert types["switchyard_process_open_fds"] == "gauge"
    assert after[("switchyard_process_open_fds", "")] > 3
    assert after[("switchyard_process_resident_memory_bytes", "")] > 0
    assert after[("switchyard_process_cpu_seconds_total", "")] > 0
    per_server = {labels: value for (name, labels), value in after.items()
                  if name == "switchyard_server_requests_total"}
    assert set(per_server) == {f'{pool},server="s1"', f'{pool},server="{servers[1].addr}"'}


def test_stats_path_serves_the_twemproxy_json(metered):
    proxy, _ = metered
    proxy.client().set("x", 1)
    status, headers, body = get(proxy.admin_port, "/stats")
    assert status == 200 and headers["content-type"] == "application/json"
    doc = json.loads(body)
    assert doc["service"] == "switchyard"
    assert doc["alpha"]["s1"]["requests"] + \
        sum(v["requests"] for k, v in doc["alpha"].items()
            if isinstance(v, dict) and k != "s1") >= 1


def test_http_errors_are_clear(metered):
    proxy, _ = metered
    port = proxy.admin_port
    status, headers, body = http(port, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
    assert status == 405 and headers["allow"] == "GET, HEAD"
    assert body == b"method POST is not allowed on /metrics: use GET\n"
    status, _, body = get(port, "/nope")
    assert status == 404
    assert body == b"no such path: /nope; try /, /status.json, /metrics or /stats\n"
    status, _, _ = http(port, b"HELLO\r\n\r\n")
    assert status == 400
    big = b"GET /metrics HTTP/1.1\r\nX-Filler: " + b"a" * 20000 + b"\r\n\r\n"
    try:
        status, _, body = http(port, big)
    except ConnectionResetError:
        pytest.fail("the proxy reset the connection instead of answering 431")
    assert status == 431 and b"8192 bytes" in body
    status, headers, body = http(port, b"HEAD /metrics HTTP/1.1\r\n\r\n")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0


def test_slow_client_does_not_block_another_scrape(metered):
    proxy, _ = metered
    slow = socket.create_connection((HOST, proxy.admin_port), timeout=30)
    try:
        slow.sendall(b"GET /metr")  # and nothing more
        started = time.monotonic()
        types, _ = scrape(proxy.admin_port)
        assert "switchyard_threads" in types
        assert time.monotonic() - started < 4.0  # well before the 5 s head timeout
        assert proxy.client().ping()  # the data path is not blocked either
        data = b""
        while chunk := slow.recv(4096):  # the server gives up on the slow client
            data += chunk
        assert data.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert time.monotonic() - started < DEADLINE
    finally:
        slow.close()


def _json_now(port: int) -> tuple[bytes, float]:
    """Connects, sends nothing, reads until the proxy closes; returns (bytes, seconds)."""
    started = time.monotonic()
    with socket.create_connection((HOST, port), timeout=10) as sock:
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data, time.monotonic() - started


def _shape(doc: dict) -> list:
    """Key order of a twemproxy document, values dropped (names of nested objects kept)."""
    return [(key, _shape(value) if isinstance(value, dict) else None) for key, value in doc.items()]


def test_stats_port_still_writes_json_on_connect_like_nutcracker(procs):
    servers = procs.redis(2)
    proxies = []
    for cls in (Switchyard, pytest.importorskip("harness").Nutcracker):
        pool = pool_config(servers, hash="fnv1a_64", distribution="ketama",
                           names=["s1", "s2"])
        extra = ["-i", "100"] + (["--admin-port", str(free_port())] if cls is Switchyard else [])
        proxies.append(procs.proxy(pools=[pool], cls=cls, extra_args=extra))
    shapes = []
    for proxy in proxies:
        proxy.client().set("k", "v")
        wait_until(lambda p=proxy: json.loads(_json_now(p.stats_port)[0])["alpha"]["client_eof"]
                   >= 1, "the stats document to refresh")
        data, elapsed = _json_now(proxy.stats_port)
        assert data.endswith(b"\n") and data.count(b"\n") == 1
        assert elapsed < 5
        shapes.append(_shape(json.loads(data)))
    assert shapes[0] == shapes[1]
