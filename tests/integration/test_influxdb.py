"""The InfluxDB push (--influxdb-url): statistics written to Debian's influxd (1.x), started
here on loopback, and read back with InfluxQL; and a down or silent InfluxDB, which must cost
the data path nothing and be logged once.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest

from harness import (HOST, Switchyard, free_port, pool_config, spawn, stop_process,
                     switchyard_bin, wait_for_port, wait_until)

INFLUXD = "/usr/bin/influxd"
DATABASE = "switchyard"
UDP_DATABASE = "switchyard_udp"
INTERVAL_MS = 200

pytestmark = pytest.mark.skipif(shutil.which(INFLUXD) is None,
                                reason="influxd not installed (Debian package influxdb)")


@dataclass
class Influx:
    http_port: int
    udp_port: int

    def query(self, q: str, db: str = DATABASE) -> list[dict]:
        """The series an InfluxQL query returns: [{"name", "tags", "columns", "values"}]."""
        params = urllib.parse.urlencode({"db": db, "q": q})
        with urllib.request.urlopen(f"http://{HOST}:{self.http_port}/query?{params}",
                                    timeout=10) as response:
            results = json.load(response)["results"]
        assert "error" not in results[0], results
        return results[0].get("series", [])

    def last(self, field: str, measurement: str, where: str, db: str = DATABASE):
        series = self.query(f'SELECT last("{field}") FROM "{measurement}" WHERE {where}', db)
        return series[0]["values"][0][1] if series else None

    def write_url(self) -> str:
        return f"http://writer:secret@{HOST}:{self.http_port}/write?db={DATABASE}&rp=autogen"


INFLUXD_CONF = """\
reporting-disabled = true
bind-address = "{host}:{rpc_port}"
[meta]
  dir = "{dir}/meta"
[data]
  dir = "{dir}/data"
  wal-dir = "{dir}/wal"
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "{host}:{http_port}"
  log-enabled = false
[[udp]]
  enabled = true
  bind-address = "{host}:{udp_port}"
  database = "{udp_database}"
  batch-timeout = "50ms"
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
"""


@pytest.fixture(scope="module")
def influx(tmp_path_factory):
    """influxd on free loopback ports with DATABASE and UDP_DATABASE created; stopped by pid."""
    workdir = tmp_path_factory.mktemp("influxd")
    server = Influx(free_port(), free_port())
    conf = workdir / "influxdb.conf"
    conf.write_text(INFLUXD_CONF.format(host=HOST, rpc_port=free_port(), dir=workdir,
                                        http_port=server.http_port, udp_port=server.udp_port,
                                        udp_database=UDP_DATABASE))
    proc = spawn([INFLUXD, "-config", str(conf)], workdir / "influxd.log")
    try:
        wait_for_port(server.http_port, proc, timeout_s=30)
        for database in (DATABASE, UDP_DATABASE):
            request = urllib.request.Request(
                f"http://{HOST}:{server.http_port}/query",
                data=urllib.parse.urlencode({"q": f"CREATE DATABASE {database}"}).encode())
            urllib.request.urlopen(request, timeout=10).read()
        yield server
    finally:
        stop_process(proc)


def get_metrics(admin_port: int) -> dict[str, float]:
    """The unlabelled samples of GET /metrics, by name."""
    with urllib.request.urlopen(f"http://{HOST}:{admin_port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^(switchyard_[a-z_]+) (\S+)$", text, re.MULTILINE)}


def start_pushing(procs, url: str, interval_ms: int = INTERVAL_MS):
    """A proxy over one redis-server pushing to `url`, with its admin port; (proxy, port)."""
    server = procs.redis(1)[0]
    admin_port = free_port()
    proxy = procs.proxy(pools=[pool_config([server], names=["s1"])], cls=Switchyard,
                        extra_args=["--influxdb-url", url,
                                    "--influxdb-interval", str(interval_ms),
                                    "--admin-port", str(admin_port), "--admin-addr", HOST])
    wait_for_port(admin_port, proxy.proc)
    return proxy, admin_port


def request_latencies(proxy, count: int) -> list[float]:
    client = proxy.client(socket_timeout=5)
    latencies = []
    for i in range(count):
        started = time.monotonic()
        client.set(f"k{i}", "v")
        latencies.append(time.monotonic() - started)
    client.close()
    return latencies


def test_counters_in_influxdb_match_the_traffic_sent(procs, influx):
    proxy, admin_port = start_pushing(procs, influx.write_url())
    client = proxy.client()
    for i in range(500):
        client.set(f"key:{i}", i)
    for i in range(300):
        assert client.get(f"key:{i}") == str(i).encode()
    client.close()
    where = "pool='alpha' AND command='set'"
    wait_until(lambda: influx.last("calls", "switchyard_command", where) == 500,
               "SET calls to reach InfluxDB")
    where = "pool='alpha' AND command='get'"
    wait_until(lambda: influx.last("calls", "switchyard_command", where) == 300,
               "GET calls to reach InfluxDB")
    assert influx.last("failed_calls", "switchyard_command", where) == 0
    server_where = "pool='alpha' AND server='s1'"
    assert influx.last("requests", "switchyard_server", server_where) == 800
    assert influx.last("responses", "switchyard_server", server_where) == 800
    assert influx.last("server_connections", "switchyard_server", server_where) >= 1
    assert influx.last("latency_count", "switchyard_pool", "pool='alpha'") == 800
    assert influx.last("client_eof", "switchyard_pool", "pool='alpha'") >= 1

    # One timestamp per batch: the latest process point has a server and a command point
    # at the very same nanosecond.
    latest = influx.query('SELECT last("uptime_seconds") FROM "switchyard_process"')
    stamp = latest[0]["values"][0][0]
    for measurement in ("switchyard_pool", "switchyard_server", "switchyard_command"):
        rows = influx.query(f"SELECT * FROM \"{measurement}\" WHERE time = '{stamp}'")
        assert rows and rows[0]["values"], f"{measurement} has no point at {stamp}"
    # Integers stay integers, and the tags are tags.
    keys = influx.query('SHOW FIELD KEYS FROM "switchyard_server"')[0]["values"]
    assert ["requests", "integer"] in keys
    tags = {row[0] for row in influx.query('SHOW TAG KEYS FROM "switchyard_server"')[0]["values"]}
    assert tags == {"host", "pool", "server", "address"}

    metrics = get_metrics(admin_port)
    assert metrics["switchyard_influxdb_batches_sent_total"] >= 1
    assert metrics["switchyard_influxdb_batches_failed_total"] == 0
    assert metrics["switchyard_influxdb_batches_dropped_total"] == 0
    assert "the first batch reached" in proxy.log_text()


def test_udp_batches_reach_the_udp_listener(procs, influx):
    proxy, _ = start_pushing(procs, f"udp://{HOST}:{influx.udp_port}")
    client = proxy.client()
    for i in range(40):
        client.set(f"udp:{i}", i)
    client.close()
    wait_until(lambda: influx.last("calls", "switchyard_command",
                                   "pool='alpha' AND command='set'", UDP_DATABASE) == 40,
               "SET calls to reach InfluxDB over UDP")
    # Every server's point arrived whole, though the batch is cut into datagrams.
    assert influx.last("requests", "switchyard_server", "server='s1'", UDP_DATABASE) == 40


def closed_port() -> int:
    port = free_port()
    with socket.socket() as probe:
        probe.bind((HOST, port))  # bound, never listening: connections are refused
    return port


def check_logged_once(proxy, needle: str) -> None:
    lines = [line for line in proxy.log_text().splitlines() if needle in line]
    assert len(lines) == 1, f"expected one line with {needle!r}, got:\n" + "\n".join(lines)


def test_a_down_influxdb_costs_the_data_path_nothing_and_is_logged_once(procs):
    url = f"http://{HOST}:{closed_port()}/write?db={DATABASE}"
    proxy, admin_port = start_pushing(procs, url)
    started = time.monotonic()
    latencies = []
    # Long enough for the queue (6 batches) to fill and drop.
    while time.monotonic() - started < 8 * INTERVAL_MS / 1000:
        latencies.extend(request_latencies(proxy, 100))
    latencies.sort()
    assert latencies[len(latencies) // 2] < 0.005, "median request latency"
    assert latencies[-1] < 0.5, "slowest request"
    metrics = wait_until(lambda: (m := get_metrics(admin_port))
                         ["switchyard_influxdb_batches_dropped_total"] >= 1 and m,
                         "a batch to be dropped")
    assert metrics["switchyard_influxdb_batches_failed_total"] >= 3
    assert metrics["switchyard_influxdb_batches_sent_total"] == 0
    assert metrics["switchyard_influxdb_queued_batches"] <= 6
    check_logged_once(proxy, "InfluxDB push to")
    check_logged_once(proxy, "the queue is full")
    assert "Connection refused" in proxy.log_text()


class SilentServer:
    """Accepts TCP connections and never answers; closes them all on stop()."""

    def __init__(self):
        self.listener = socket.create_server((HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                self.accepted.append(self.listener.accept()[0])
            except OSError:
                return

    def stop(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()


def test_a_silent_influxdb_times_out_without_slowing_requests(procs):
    silent = SilentServer()
    try:
        proxy, admin_port = start_pushing(procs, f"http://{HOST}:{silent.port}/write?db=x")
        latencies = request_latencies(proxy, 1500)
        latencies.sort()
        assert latencies[len(latencies) // 2] < 0.005, "median request latency"
        assert latencies[-1] < 0.5, "slowest request"
        wait_until(lambda: get_metrics(admin_port)["switchyard_influxdb_batches_failed_total"]
                   >= 3, "three attempts to time out")
        assert len(silent.accepted) >= 3
        check_logged_once(proxy, "InfluxDB push to")
        assert f"no answer within {INTERVAL_MS} ms" in proxy.log_text()
    finally:
        silent.stop()


@pytest.mark.parametrize("url, message", [
    ("https://influx:8086/write?db=x", "TLS (https) is not supported"),
    ("http://influx:8086/write", "no database: add db=NAME"),
    ("http://influx:99999/write?db=x", "bad port '99999'"),
    ("tcp://influx:8086", "unknown scheme"),
])
def test_a_bad_url_is_refused_at_start_up(tmp_path, url, message):
    result = subprocess.run([str(switchyard_bin()), "-t", "-c", str(tmp_path / "none.yml"),
                             "--influxdb-url", url],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.startswith("switchyard: option --influxdb-url: "), result.stderr
    assert message in result.stderr
