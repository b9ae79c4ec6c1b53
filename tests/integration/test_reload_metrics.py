"""INFO, Prometheus (--admin-port) and the stats JSON report on the running configuration:
after a SIGHUP reload they show the new pools and servers, counters carried on by name
(also the per-command counters and latency histograms), and an auto_eject_hosts ejection.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import time

from harness import HOST, Switchyard, free_port, pool_config, spread_keys, wait_until
from test_metrics import get, scrape

OUTCOME = re.compile(r"reload (applied|refused).*")


def accepts(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), timeout=1).close()
        return True
    except OSError:
        return False


def reload(proxy, pools) -> str:
    for pool in pools:
        if pool.listen is None:
            pool.listen = f"{HOST}:{free_port()}"
    seen = len(OUTCOME.findall(proxy.log_text()))
    proxy.conf_path.write_text("".join(pool.render() for pool in pools))
    os.kill(proxy.pid, signal.SIGHUP)
    lines = wait_until(lambda: [m.group(0) for m in OUTCOME.finditer(proxy.log_text())][seen:],
                       "the reload outcome in the log")
    assert lines[0].startswith("reload applied"), lines[0]
    return lines[0]


def start(procs, pools):
    admin_port = free_port()
    proxy = procs.proxy(pools=pools, cls=Switchyard,
                        extra_args=["--admin-port", str(admin_port), "--admin-addr", HOST,
                                    "-i", "50", "--threads", "2"])
    proxy.admin_port = admin_port
    wait_until(lambda: accepts(admin_port), "the admin port")
    return proxy


def port_of(pool) -> int:
    return int(pool.listen.rsplit(":", 1)[1])


def test_info_prometheus_and_json_follow_a_reload(procs):
    servers = procs.redis(2)
    alpha = pool_config(servers, names=["s1", "s2"])
    proxy = start(procs, [alpha])
    client = proxy.client()
    keys = spread_keys(50, suffix=":metrics")
    for key in keys:
        client.set(key, "v")
    assert client.info("commandstats")["cmdstat_set"]["calls"] == 50

    # A new pool goes first and alpha's servers swap places: every index changes.
    gamma = pool_config(servers[:1], name="gamma")
    reordered = pool_config([servers[1], servers[0]], names=["s2", "s1"], listen=alpha.listen)
    reload(proxy, [gamma, reordered])
    for key in keys:
        client.get(key)
    proxy.client(port=port_of(gamma)).set("g", "1")

    # INFO, asked through alpha (now the second pool), names alpha's port and sees both pools.
    info = client.info("everything")
    assert info["tcp_port"] == port_of(alpha)
    assert info["pool_alpha_servers"] == 2 and info["pool_gamma_servers"] == 1
    assert info["backend_alpha_s1_address"] == servers[0].addr
    assert info["backend_alpha_s2_address"] == servers[1].addr
    assert info["cmdstat_set"]["calls"] == 51
    assert info["cmdstat_get"]["calls"] == 50
    assert info["pool_alpha_latency_count"] >= 100
    requests = info["backend_alpha_s1_requests"] + info["backend_alpha_s2_requests"]
    assert requests == 100, "alpha's server counters did not carry on by name"

    # Prometheus: the same pools, counters kept by name.
    _, samples = scrape(proxy.admin_port)
    assert samples[("switchyard_pools", "")] == 2
    assert samples[("switchyard_command_calls_total", 'pool="alpha",command="set"')] == 50
    assert samples[("switchyard_command_calls_total", 'pool="alpha",command="get"')] == 50
    assert samples[("switchyard_command_calls_total", 'pool="gamma",command="set"')] == 1
    served = sum(samples[("switchyard_server_requests_total", f'pool="alpha",server="{name}"')]
                 for name in ("s1", "s2"))
    assert served == 100
    assert samples[("switchyard_pool_request_duration_seconds_count", 'pool="alpha"')] >= 100

    # The stats JSON (both ports) follows too; removing gamma takes it out of every output.
    status, _, body = get(proxy.admin_port, "/stats")
    assert status == 200 and "gamma" in json.loads(body)
    reload(proxy, [alpha])
    wait_until(lambda: "gamma" not in proxy.stats(), "gamma to leave the stats JSON")
    assert "pool_gamma_servers" not in client.info("everything")
    _, samples = scrape(proxy.admin_port)
    assert samples[("switchyard_pools", "")] == 1
    assert not any('pool="gamma"' in labels for _, labels in samples)
    assert samples[("switchyard_command_calls_total", 'pool="alpha",command="get"')] == 50


def test_an_ejection_shows_in_info_and_prometheus(procs):
    servers = procs.redis(3)
    pool = pool_config(servers, names=["a", "b", "c"], timeout=500, hash="fnv1a_64",
                       distribution="ketama",
                       extra={"auto_eject_hosts": "true", "server_failure_limit": 2,
                              "server_retry_timeout": 1000})
    proxy = start(procs, [pool])
    client = proxy.client()
    keys = spread_keys(200, suffix=":ejected")

    def all_written() -> bool:
        pipe = client.pipeline(transaction=False)
        for key in keys:
            pipe.set(key, key)
        return all(reply is True for reply in pipe.execute(raise_on_error=False))

    assert all_written()
    servers[1].kill()
    wait_until(all_written, "b's keys to move to a and c")

    def ejected():
        _, samples = scrape(proxy.admin_port)
        return samples[("switchyard_pool_server_ejects_total", 'pool="alpha"')] == 1 and samples

    samples = wait_until(ejected, "server_ejects in Prometheus")
    ejected_at = samples[("switchyard_server_ejected_at", 'pool="alpha",server="b"')]
    assert ejected_at > (time.time() - 60) * 1e6
    assert samples[("switchyard_server_ejected_at", 'pool="alpha",server="a"')] == 0
    info = client.info("everything")
    assert info["pool_alpha_server_ejects"] >= 1
    assert info["backend_alpha_b_server_ejected_at"] >= ejected_at
    assert info["backend_alpha_a_server_ejected_at"] == 0
