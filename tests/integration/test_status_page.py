"""The status page on the admin HTTP port: GET / (one self-contained HTML page) and the
GET /status.json it polls every second, loaded in headless Chromium as a person would.

One proxy serves two pools: "alpha", a role-probed group g0 (a master and one replica, probed
every 300 ms), and "plain", one ordinary server. The tests run in file order on it: the page
and its data are served; the page renders them with no console error; a replica stopped
shows as unreachable within seconds; a promoted replica shows as the new master, with the
failover counted and the time taken to follow it.

STATUS_PAGE_SCREENSHOT=<path.png> also saves the last screenshot there (docs/status-page.png
is made that way).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import redis

from harness import HOST, Switchyard, free_port, pool_config, wait_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PROBE_MS = 300
# A change must reach the page within a few probes and page refreshes: a Chromium run that
# starts this long after it shows it (a run itself takes seconds: not counted).
SHOWN_WITHIN_S = 5.0
CHROMIUM_TIMEOUT_S = 60.0

pytestmark = pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK),
                                reason="needs Debian's chromium (scripts/install-deps.sh)")


class Fleet:
    def __init__(self, master, replica, plain, proxy, admin_port):
        self.master, self.replica, self.plain = master, replica, plain
        self.proxy, self.admin_port = proxy, admin_port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.admin_port}/"

    def status(self) -> dict:
        with urllib.request.urlopen(self.url + "status.json", timeout=10) as response:
            return json.load(response)

    def group(self) -> dict:
        return next(g for g in self.status()["groups"] if g["name"] == "g0")


@pytest.fixture(scope="module")
def fleet(module_procs):
    master, plain = module_procs.redis(2)
    (replica,) = module_procs.redis(1, extra_args=["--replicaof", HOST, str(master.port)])
    group = pool_config([master, replica], name="alpha", names=["g0", "g0"],
                        extra={"read_from": "replica", "role_probe_interval": PROBE_MS})
    admin_port = free_port()
    proxy = module_procs.proxy(pools=[group, pool_config([plain], name="plain")],
                               cls=Switchyard,
                               extra_args=["--admin-port", str(admin_port), "--admin-addr", HOST])
    fleet = Fleet(master, replica, plain, proxy, admin_port)
    wait_until(lambda: all(n["health"] == "healthy" for n in fleet.group()["nodes"])
               and fleet.group()["master_confirmed"] and len(fleet.group()["nodes"]) == 2,
               "g0's master confirmed and its replica healthy")
    return fleet


def traffic(fleet: Fleet, rounds: int = 50) -> None:
    with redis.Redis(host=HOST, port=fleet.proxy.listen_ports[0]) as alpha, \
            redis.Redis(host=HOST, port=fleet.proxy.listen_ports[1]) as plain:
        for i in range(rounds):
            alpha.set(f"k{i}", i)
            alpha.get(f"k{i}")
            plain.incr("counter")
        with pytest.raises(redis.ResponseError):
            plain.lpush("counter", 1)  # WRONGTYPE: a failed call


def chromium(url: str, *args: str, budget_ms: int = 2500) -> tuple[str, str]:
    """Runs headless Chromium on `url` for `budget_ms` of virtual time; returns (stdout,
    stderr). Killed by its pid when it overruns."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run", f"--user-data-dir={profile}",
             "--enable-logging=stderr", "--v=0", f"--virtual-time-budget={budget_ms}",
             *args, url],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=CHROMIUM_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"chromium pid {proc.pid} did not finish in {CHROMIUM_TIMEOUT_S} s")
    assert proc.returncode == 0, f"chromium exited with {proc.returncode}:\n{err[-3000:]}"
    return out, err


def console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def dump_dom(fleet: Fleet) -> str:
    dom, log = chromium(fleet.url, "--dump-dom")
    assert not console_errors(log), "\n".join(console_errors(log))
    assert 'id="state" class="live"' in dom, "the page never got its data"
    return dom


def row(dom: str, attribute: str, value: str) -> str:
    """The first <tr> whose `attribute` is `value` ('' if none)."""
    match = re.search(rf'<tr [^>]*{attribute}="{re.escape(html.escape(value))}"[^>]*>.*?</tr>',
                      dom, re.S)
    return match.group(0) if match else ""


def section(dom: str, element_id: str) -> str:
    """The HTML inside the element `element_id` (for failure messages)."""
    start = dom.find(f'id="{element_id}"')
    return dom[start:dom.find("</section>", start)] if start >= 0 else dom


def screenshot(fleet: Fleet, path: Path) -> None:
    _, log = chromium(fleet.url, f"--screenshot={path}", "--window-size=1280,900",
                      "--hide-scrollbars")
    assert not console_errors(log), "\n".join(console_errors(log))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    wanted = os.environ.get("STATUS_PAGE_SCREENSHOT")
    if wanted:
        shutil.copyfile(path, wanted)


def test_page_and_its_data_are_served(fleet):
    with urllib.request.urlopen(fleet.url, timeout=10) as response:
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        page = response.read().decode()
    assert page.startswith("<!doctype html>")
    # Self-contained: nothing fetched from elsewhere.
    assert not re.search(r"https?:|//[a-z]|\bsrc=|@import", page, re.I), "an external asset"
    with urllib.request.urlopen(fleet.url + "status.json", timeout=10) as response:
        assert response.headers["Content-Type"] == "application/json"
        doc = json.load(response)
    assert [p["name"] for p in doc["pools"]] == ["alpha", "plain"]
    assert [s["address"] for s in doc["pools"][1]["servers"]] == [fleet.plain.addr]
    group = doc["groups"][0]
    assert (group["pool"], group["name"], group["master"]) == ("alpha", "g0", fleet.master.addr)
    assert [(n["address"], n["role"]) for n in group["nodes"]] == [
        (fleet.master.addr, "master"), (fleet.replica.addr, "replica")]


def test_page_renders_the_fleet_without_console_error(fleet, tmp_path):
    traffic(fleet)
    dom = dump_dom(fleet)
    for pool in ("alpha", "plain"):
        assert row(dom, "data-pool", pool), f"pool {pool} missing"
    assert row(dom, "data-server", fleet.plain.addr), "the plain pool's server missing"
    master, replica = row(dom, "data-node", fleet.master.addr), row(dom, "data-node",
                                                                     fleet.replica.addr)
    assert 'data-role="master"' in master and 'data-health="healthy"' in master, master
    assert 'data-role="replica"' in replica and 'data-health="healthy"' in replica, replica
    for command in ("set", "get", "incrby", "lpush"):  # redis-py sends INCR as INCRBY
        assert row(dom, "data-command", command), \
            f"command {command} missing:\n{section(dom, 'commands')}"
    screenshot(fleet, tmp_path / "page.png")


def shown_since(fleet: Fleet, condition, what: str) -> tuple[str, float]:
    """Dumps the page until `condition(dom)` holds; returns that DOM and when the Chromium
    run that showed it started (time.monotonic()): a change is shown by then at the latest."""
    def attempt():
        started = time.monotonic()
        dom = dump_dom(fleet)
        return (dom, started) if condition(dom) else None

    return wait_until(attempt, what, timeout_s=30)


def test_a_stopped_replica_shows_down_within_seconds(fleet):
    fleet.replica.stop()  # by its pid
    stopped = time.monotonic()
    try:
        def down(dom):
            replica = row(dom, "data-node", fleet.replica.addr)
            return "unreachable" in replica and 'class="bad' in replica

        _, at = shown_since(fleet, down, "the page to show the replica down")
        assert at - stopped < SHOWN_WITHIN_S
    finally:
        fleet.replica.restart()
    wait_until(lambda: fleet.group()["healthy_replicas"] == 1, "the replica healthy again")


def test_a_failover_shows_the_new_master_and_its_duration(fleet, tmp_path):
    redis.Redis(host=HOST, port=fleet.replica.port).execute_command("REPLICAOF", "NO", "ONE")
    redis.Redis(host=HOST, port=fleet.master.port).execute_command(
        "REPLICAOF", HOST, fleet.replica.port)
    promoted = time.monotonic()

    def promoted_shown(dom):
        new_master = row(dom, "data-node", fleet.replica.addr)
        return 'data-role="master"' in new_master and row(dom, "data-group", "alpha/g0")

    dom, at = shown_since(fleet, promoted_shown, "the page to show the replica promoted")
    assert at - promoted < SHOWN_WITHIN_S
    group = fleet.group()
    assert group["failovers"] == 1 and group["master"] == fleet.replica.addr, group
    assert group["last_failover_follow_ms"] is not None, group
    assert fleet.replica.addr in row(dom, "data-group", "alpha/g0")
    assert f"last followed in {group['last_failover_follow_ms']} ms" in dom
    wait_until(lambda: all(n["health"] == "healthy" for n in fleet.group()["nodes"]),
               "the old master healthy as a replica")
    stop = threading.Event()

    def load():
        while not stop.is_set():
            traffic(fleet, 20)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        screenshot(fleet, tmp_path / "page.png")  # with traffic flowing, for the rates
    finally:
        stop.set()
        loader.join()
