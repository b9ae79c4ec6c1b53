"""RQ (python3-rq, Debian's), end to end through switchyard: jobs enqueued with WATCH/MULTI
pipelines and Lua, dependencies released with WATCH retry loops, workers that wait on BLPOP
(which the pool's short timeout must not cut). Every job runs exactly once and its result
is readable through the proxy.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

rq = pytest.importorskip("rq")

import rq_jobs  # noqa: E402
from harness import pool_config, wait_until  # noqa: E402

JOBS = 1000
WORKERS = 2
HERE = Path(__file__).resolve().parent


def start_worker(port: int, max_jobs: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(HERE))
    argv = ["/usr/bin/python3", "-m", "rq.cli", "worker", "--url", f"redis://127.0.0.1:{port}",
            "--worker-class", "rq.worker.SimpleWorker", "--max-jobs", str(max_jobs),
            "--disable-job-desc-logging", "default"]
    return subprocess.Popen(argv, env=env, cwd=HERE, stdout=log.open("w"),
                            stderr=subprocess.STDOUT)


def test_rq_runs_every_job_once(procs, tmp_path):
    (server,) = procs.redis(1)
    # A pool timeout far below rq's BLPOP timeout: blocked dequeues must outlive it.
    proxy = procs.proxy(pools=[pool_config([server], timeout=500)])
    connection = proxy.client()
    queue = rq.Queue("default", connection=connection)

    logs = [tmp_path / f"worker{i}.log" for i in range(WORKERS)]
    workers = [start_worker(proxy.port, JOBS // WORKERS + 50, log) for log in logs]
    try:
        time.sleep(1.0)  # the workers wait on BLPOP by now
        jobs = [queue.enqueue(rq_jobs.double, i) for i in range(JOBS - 100)]
        # Chains of dependent jobs: each is released by its parent's completion (WATCH loop).
        parent = None
        for i in range(JOBS - 100, JOBS):
            job = queue.enqueue(rq_jobs.double, i, depends_on=parent if i % 10 else None)
            jobs.append(job)
            parent = job

        def all_done():
            statuses = [job.get_status(refresh=True) for job in jobs[-20:] + jobs[:20]]
            return all(status == "finished" for status in statuses) and queue.count == 0

        wait_until(all_done, "every job to finish", timeout_s=120)
        for job in jobs:
            job.refresh()
        unfinished = [job.id for job in jobs if job.get_status() != "finished"]
        assert not unfinished, f"{len(unfinished)} jobs not finished"
        assert [job.return_value() if hasattr(job, "return_value") else job.result
                for job in jobs] == [2 * i for i in range(JOBS)]
        assert len(rq.registry.FailedJobRegistry(queue=queue)) == 0
        assert len(rq.registry.FinishedJobRegistry(queue=queue)) == JOBS
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
    outputs = "\n".join(log.read_text()[-2000:] for log in logs)
    assert "Traceback" not in outputs, outputs
