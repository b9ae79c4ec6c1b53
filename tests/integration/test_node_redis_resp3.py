"""node-redis (npm, pinned by node/package-lock.json) speaking RESP3 through switchyard: it
opens with HELLO 3, gets the same answers as from a plain redis-server (maps, sets, doubles,
nulls), and its subscriber keeps running commands while subscribed, which only RESP3 allows.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import node_clients  # noqa: E402
from harness import pool_config  # noqa: E402

RUN_TIMEOUT_S = 60


def run_resp3_js(node_dir: Path, port: int) -> dict:
    run = subprocess.run([shutil.which("node"), str(node_dir / "resp3.js"),
                          f"redis://127.0.0.1:{port}"], cwd=node_dir, capture_output=True,
                         text=True, timeout=RUN_TIMEOUT_S)
    assert run.returncode == 0, f"resp3.js exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("shards", [1, 3])
def test_node_redis_with_resp3_gets_what_redis_gives(procs, shards):
    node_dir = node_clients.installed()
    servers = procs.redis(shards)
    oracle = procs.redis(1)[0]
    proxy = procs.proxy(pools=[pool_config(servers, hash="fnv1a_64", distribution="ketama")])
    through_proxy = run_resp3_js(node_dir, proxy.port)
    direct = run_resp3_js(node_dir, oracle.port)
    for got in (through_proxy, direct):
        got["hello"].pop("id")  # each server's own connection id
        got["hello"].pop("version")
    assert through_proxy == direct
    assert through_proxy["hello"]["proto"] == 3
    assert through_proxy["hgetall"] == {"f": "v", "g": "w"}
    assert through_proxy["zscore"] == 1.5
    assert through_proxy["message"] == "hello"
    assert through_proxy["get_while_subscribed"] is None
    assert through_proxy["hgetall_while_subscribed"] == {"f": "v", "g": "w"}
