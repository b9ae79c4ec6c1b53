#!/usr/bin/python3
"""Cluster rows of the macro benchmark: a Redis Cluster of 3 masters (no replicas), measured
directly and through switchyard's `cluster: true` pool, rounds alternated.

    redis-benchmark --cluster ──> the 3 masters                 (target "redis", direct)
    redis-benchmark ──> switchyard (cluster pool) ──> the 3 masters
    redis-benchmark ──> predixy (ClusterServerPool) ──> the 3 masters  (with --predixy PATH,
                                                                      or predixy on PATH)

SET and GET at each pipeline depth for both; MGET10 (ten random keys, so ten slots) through
switchyard only: redis-benchmark cannot send a multi-key command with random keys to a
cluster itself, and Redis Cluster would refuse it (CROSSSLOT). CPU per request is the
proxy's own for switchyard, and the three nodes' together for direct Redis.

    /usr/bin/python3 bench/macro/cluster.py [--rounds 3] [--requests 200000] [--pipelines 1,16]

Prints a Markdown table of medians over the rounds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests/integration"))

from cluster_topology import ClusterTopology  # noqa: E402
from procs import BenchError, ProcessSet, cpu_seconds, free_port, wait_for_port  # noqa: E402
from targets import DEFAULT_SWITCHYARD, PROXY_TIMEOUT_MS  # noqa: E402
from workloads import (WORKLOADS, LoadSettings, Workload, benchmark_argv,  # noqa: E402
                       parse_csv, unexpected_stderr)


def start_switchyard(procs: ProcessSet, binary: str, seeds: list[str], workdir: Path,
                     taken: set[int]) -> tuple[int, int]:
    """A switchyard with one cluster pool over `seeds`; returns (port, pid)."""
    port = free_port(taken)
    config = workdir / "switchyard.yml"
    config.write_text(
        "bench:\n"
        f"  listen: 127.0.0.1:{port}\n"
        "  cluster: true\n"
        f"  timeout: {PROXY_TIMEOUT_MS}\n"
        "  preconnect: true\n"
        "  servers:\n" + "".join(f"    - {seed}:1\n" for seed in seeds))
    started = procs.start("switchyard-cluster", "proxy",
                          [binary, "-c", str(config), "-s", str(free_port(taken))],
                          workdir / "switchyard.log")
    wait_for_port(port, started.proc, "switchyard")
    return port, started.pid


def start_predixy(procs: ProcessSet, binary: str, seeds: list[str], workdir: Path,
                  taken: set[int], threads: int) -> tuple[int, int]:
    """predixy in front of the cluster, with as many worker threads as switchyard; returns
    (port, pid)."""
    port = free_port(taken)
    config = workdir / "predixy.conf"
    config.write_text(
        f"Name bench\nBind 127.0.0.1:{port}\nWorkerThreads {threads}\nClientTimeout 300\n"
        "LogVerbSample 0\nLogDebugSample 0\nLogInfoSample 0\nLogNoticeSample 1\n"
        "LogWarnSample 1\nLogErrorSample 1\n"
        "Authority {\n  Auth {\n    Mode write\n  }\n}\n"
        "ClusterServerPool {\n  MasterReadPriority 100\n  RefreshInterval 1\n"
        f"  ServerTimeout {PROXY_TIMEOUT_MS // 1000}\n  ServerFailureLimit 10\n"
        "  ServerRetryTimeout 1\n  KeepAlive 120\n  Servers {\n"
        + "".join(f"    + {seed}\n" for seed in seeds) + "  }\n}\n")
    started = procs.start("predixy-cluster", "proxy", [binary, str(config)],
                          workdir / "predixy.log")
    wait_for_port(port, started.proc, "predixy")
    return port, started.pid


def run(settings: LoadSettings, port: int, pids: list[int], workload: Workload, pipeline: int,
        requests: int, cluster_mode: bool) -> tuple[float, float, float, float]:
    """One redis-benchmark run; returns (rps, p50 ms, p99 ms, CPU us per request of `pids`)."""
    argv = benchmark_argv(settings, port, workload, pipeline, requests)
    if cluster_mode:
        argv.insert(1, "--cluster")
    before = sum(cpu_seconds(pid) for pid in pids)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    used = sum(cpu_seconds(pid) for pid in pids) - before
    problem = unexpected_stderr(done.stderr)
    if done.returncode != 0 or problem:
        raise BenchError(f"{' '.join(argv)}: exit {done.returncode}: {problem}")
    rps, p50, p99 = parse_csv(done.stdout)
    return rps, p50, p99, used / requests * 1e6


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200000)
    parser.add_argument("--pipelines", default="1,16")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--switchyard", default=str(DEFAULT_SWITCHYARD))
    parser.add_argument("--predixy", default=shutil.which("predixy"),
                        help="a predixy binary to measure too (default: predixy on PATH)")
    args = parser.parse_args(argv)
    pipelines = [int(p) for p in args.pipelines.split(",")]
    settings = LoadSettings("redis-benchmark", args.clients, 16, 100000)
    workdir = Path(tempfile.mkdtemp(prefix="switchyard-bench-cluster-"))
    samples: dict[tuple[str, int, str], list[tuple[float, float, float, float]]] = {}
    (workdir / "cluster").mkdir()
    with ClusterTopology(workdir / "cluster", masters=3, replicas=0) as cluster, \
            ProcessSet({}) as procs:
        masters = cluster.masters()
        node_pids = [node.proc.pid for node in masters]
        taken: set[int] = {node.port for node in cluster.nodes}
        port, pid = start_switchyard(procs, args.switchyard, cluster.seeds(), workdir, taken)
        proxies = [("switchyard", port, [pid], False)]
        if args.predixy:
            predixy_port, predixy_pid = start_predixy(procs, args.predixy, cluster.seeds(),
                                                      workdir, taken, os.cpu_count() or 1)
            proxies.append(("predixy", predixy_port, [predixy_pid], False))
        for round_index in range(args.rounds):
            for name in ("set", "get", "mget"):
                workload = WORKLOADS[name]
                for pipeline in pipelines:
                    # Every target in each round, the order turned each round.
                    shift = round_index % len(proxies)
                    targets = proxies[shift:] + proxies[:shift]
                    if name != "mget":
                        targets.insert(round_index % 2, ("redis", masters[0].port, node_pids,
                                                         True))
                    for target, target_port, pids, cluster_mode in targets:
                        result = run(settings, target_port, pids, workload, pipeline,
                                     args.requests, cluster_mode)
                        samples.setdefault((workload.name, pipeline, target), []).append(result)
                        print(f"round {round_index + 1} {workload.name} P{pipeline} {target}: "
                              f"{result[0]:.0f} rps", file=sys.stderr, flush=True)
    print("| workload | P | target | rps (median) | vs direct | p50 ms | p99 ms | CPU us/req |")
    print("|---|---|---|---|---|---|---|---|")
    for (workload, pipeline, target), results in samples.items():
        rps = statistics.median(r[0] for r in results)
        direct = samples.get((workload, pipeline, "redis"))
        ratio = (f"{rps / statistics.median(r[0] for r in direct):.2f}x"
                 if direct and target != "redis" else "")
        print(f"| {workload} | {pipeline} | {target} | {rps:.0f} | {ratio} | "
              f"{statistics.median(r[1] for r in results):.3f} | "
              f"{statistics.median(r[2] for r in results):.3f} | "
              f"{statistics.median(r[3] for r in results):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
