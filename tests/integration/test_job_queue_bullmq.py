"""BullMQ (from npm, pinned by bullmq/package-lock.json), end to end through switchyard in
front of two Sentinel-managed groups (1 master + 1 replica each, 3 Sentinels, hash tag "{}").

node/jobs.js runs, in one Node process, a producer and workers for two queues whose
prefixes are hash tags placed on different groups: jobs added with addBulk (a pipeline of
EVALSHA) and FlowProducer (MULTI, EVALSHA..., EXEC), taken with BZPOPMIN on the queue's
marker and Lua scripts, completed with Lua scripts. Each run of a job is counted in a plain redis-server reached directly (the
ledger). Without a failover every job runs exactly once; with a SENTINEL FAILOVER of one
group in the middle every job still runs and completes: none is lost.

BullMQ is installed by node_clients.py (npm ci from node/package-lock.json); jobs.js runs
next to its node_modules.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

import node_clients  # noqa: E402
from harness import Switchyard, wait_until  # noqa: E402
from topology import Topology, topology_fixture  # noqa: E402

JOBS_PER_QUEUE = 1500
RUN_TIMEOUT_S = 70


@pytest.fixture(scope="module")
def bullmq_dir() -> Path:
    return node_clients.installed()


topo = topology_fixture("bullmq", groups=2, replicas=1)


@pytest.fixture(scope="module")
def proxy(topo, module_procs):
    pool = topo.proxy_pool(hash="fnv1a_64", distribution="ketama", hash_tag="{}", timeout=1000)
    proxy = module_procs.proxy(pools=[pool], cls=Switchyard)
    client = proxy.client()
    for group in topo.groups:
        topo.wait_proxy_sees(client, group.name)
    return proxy


def prefixes_by_group(topo: Topology, client: redis.Redis, stem: str) -> dict[str, str]:
    """Group name -> a hash-tag prefix ("{<stem>-<digest>}") whose keys the proxy places
    there. (Digests: fnv1a_64 spreads names that differ in one last digit poorly.)"""
    found: dict[str, str] = {}
    for n in range(64):
        prefix = f"{{{stem}-{hashlib.sha1(str(n).encode()).hexdigest()[:8]}}}"
        probe = f"{prefix}:probe"
        client.set(probe, "1")
        for group in topo.groups:
            if topo.master_of(group.name).client().exists(probe):
                found.setdefault(group.name, prefix)
        client.delete(probe)
        if len(found) == len(topo.groups):
            return found
    raise AssertionError(f"no prefix for every group among 64 tried: {found}")


def start_jobs(bullmq: Path, proxy_port: int, ledger_port: int, prefixes: list[str],
               log: Path, pause_ms: int = 20) -> subprocess.Popen:
    """jobs.js with JOBS_PER_QUEUE jobs for each prefix, added in batches of 50 with pause_ms
    between batches."""
    argv = [shutil.which("node"), str(bullmq / "jobs.js"), "--port", str(proxy_port),
            "--ledger-port", str(ledger_port), "--prefixes", ",".join(prefixes),
            "--jobs", str(JOBS_PER_QUEUE), "--batch", "50", "--pause-ms", str(pause_ms),
            "--deadline-s", str(RUN_TIMEOUT_S - 30)]
    return subprocess.Popen(argv, cwd=bullmq, stdout=subprocess.PIPE, stderr=log.open("w"),
                            text=True)


def finish(run: subprocess.Popen, log: Path) -> dict:
    """The JSON summary run printed at its end."""
    try:
        out, _ = run.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        run.kill()
        out, _ = run.communicate()
        raise AssertionError(f"jobs.js still running after {RUN_TIMEOUT_S}s; stderr:\n"
                             f"{log.read_text()[-3000:]}")
    assert run.returncode == 0, f"jobs.js exited {run.returncode}:\n{out}\n{log.read_text()}"
    summary = json.loads(out.strip().splitlines()[-1])
    print(f"jobs.js summary: {json.dumps(summary)}")
    return summary


def check_every_job_completed(client: redis.Redis, prefixes: list[str]) -> None:
    """Through the proxy: each queue's completed set holds every job id, and each job's
    return value is its own."""
    expected = {f"j{i}".encode() for i in range(JOBS_PER_QUEUE)}
    for prefix in prefixes:
        assert set(client.zrange(f"{prefix}:jobs:completed", 0, -1)) == expected, prefix
        pipe = client.pipeline(transaction=False)
        for i in range(JOBS_PER_QUEUE):
            pipe.hget(f"{prefix}:jobs:j{i}", "returnvalue")
        values = pipe.execute()
        wrong = [i for i, value in enumerate(values) if value != str(2 * i).encode()]
        assert not wrong, f"{prefix}: {len(wrong)} wrong return values, e.g. j{wrong[0]}"


def check_summary(summary: dict, prefixes: list[str], context: str = "") -> None:
    """Every job added, run and completed (none failed), by jobs.js's own account; the
    assertion shows the whole summary (with the errors BullMQ met) and `context`."""
    total = JOBS_PER_QUEUE * len(prefixes)
    shown = f"{json.dumps(summary, indent=1)}\n{context}"
    assert summary["added"] == total, f"jobs never added:\n{shown}"
    assert summary["distinct_runs"] == total, f"jobs that never ran:\n{shown}"
    assert summary["finished"], f"not finished:\n{shown}"
    for prefix in prefixes:
        counts = summary["counts"][prefix]
        assert counts["completed"] == JOBS_PER_QUEUE, f"{prefix} not completed:\n{shown}"
        assert counts["failed"] == 0, f"{prefix} has failed jobs:\n{shown}"


def test_every_job_runs_once(topo, proxy, procs, bullmq_dir, tmp_path):
    (ledger,) = procs.redis(1)
    client = proxy.client()
    prefixes = list(prefixes_by_group(topo, client, "bq").values())
    log = tmp_path / "jobs.log"
    summary = finish(start_jobs(bullmq_dir, proxy.port, ledger.port, prefixes, log), log)
    check_summary(summary, prefixes)
    assert summary["runs"] == summary["distinct_runs"], f"jobs that ran twice: {summary}"
    assert summary["errors"] == {}, summary
    check_every_job_completed(client, prefixes)


def test_every_job_runs_across_a_failover(topo, proxy, procs, bullmq_dir, tmp_path):
    (ledger,) = procs.redis(1)
    client = proxy.client()
    by_group = prefixes_by_group(topo, client, "fq")
    prefixes = list(by_group.values())
    failed_over = topo.groups[0].name
    old = topo.master_of(failed_over)
    log = tmp_path / "jobs.log"
    # Adding takes about 12 s (30 batches a queue, 400 ms apart), and workers keep up with
    # it, mostly blocked in BZPOPMIN: the failover meets adds, scripts and blocked workers.
    run = start_jobs(bullmq_dir, proxy.port, ledger.port, prefixes, log, pause_ms=400)
    try:
        ledger_client = ledger.client()
        total = JOBS_PER_QUEUE * len(prefixes)
        wait_until(lambda: run.poll() is not None or ledger_client.hlen("runs") >= total // 4,
                   "a quarter of the jobs to run", timeout_s=60)
        started = time.monotonic()
        topo.failover(failed_over)
        new = topo.wait_failover(failed_over, old.port)
        took = time.monotonic() - started
        added_after = int(ledger_client.get("added") or 0)
        print(f"failover of {failed_over} ({by_group[failed_over]}): {old.addr} -> {new.addr} "
              f"in {took:.1f} s; by then {added_after} of {total} jobs added, "
              f"{ledger_client.hlen('runs')} run")
    except BaseException:
        run.kill()
        run.wait()
        raise
    summary = finish(run, log)
    assert added_after < total, "every job was added before the failover ended"
    proxy_log = "\n".join(line for line in proxy.log_text().splitlines()
                          if " connected" not in line)
    check_summary(summary, prefixes, f"proxy log:\n{proxy_log[-4000:]}")
    topo.wait_proxy_sees(client, failed_over)
    check_every_job_completed(client, prefixes)
