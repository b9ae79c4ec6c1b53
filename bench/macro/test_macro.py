"""Tests of the benchmark's own arithmetic and parsing (no servers needed).

    /usr/bin/python3 -m pytest -q bench/macro
"""

from __future__ import annotations

import pytest

import report
from procs import BenchError, cpu_ticks_from_stat
from workloads import WORKLOADS, LoadSettings, benchmark_argv, parse_csv, unexpected_stderr

CSV_OUTPUT = (
    '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",'
    '"p99_latency_ms","max_latency_ms"\n'
    '"MGET key:__rand_int__ key:__rand_int__","78431.38","9.992","4.280","8.895","16.911",'
    '"27.039","27.631"\n'
)


def test_parse_csv_reads_rps_and_percentiles():
    assert parse_csv(CSV_OUTPUT) == (78431.38, 8.895, 27.039)


def test_parse_csv_rejects_output_without_a_data_row():
    with pytest.raises(BenchError):
        parse_csv(CSV_OUTPUT.splitlines()[0] + "\n")


def test_config_warning_is_expected_but_server_errors_are_not():
    assert unexpected_stderr("WARNING: Could not fetch server CONFIG\n") is None
    assert unexpected_stderr("WARNING: Could not fetch server CONFIG\n"
                             "Error from server: ERR wrong\n") == "Error from server: ERR wrong"


def test_custom_command_comes_last_with_ten_random_keys():
    settings = LoadSettings("redis-benchmark", 50, 32, 100000)
    argv = benchmark_argv(settings, 7000, WORKLOADS["mget"], 16, 1000)
    assert argv[argv.index("-P") + 1] == "16"
    assert argv[-11:] == ["MGET"] + ["key:__rand_int__"] * 10


def test_cpu_ticks_survive_a_command_name_with_spaces_and_parens():
    stat = "4242 (my proxy) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 567 0 0 20 0 1 0"
    assert cpu_ticks_from_stat(stat) == 1234 + 567


def sample(round_, target, topology, rps, workload="GET", pipeline=16, cpu=0.5):
    return report.Sample(round_, workload, pipeline, topology, target, rps, 0.1, 0.2, cpu)


def rows_of(samples):
    return report.summarize(samples, ["GET", "MGET10"], ["redis", "switchyard", "nutcracker"])


def test_ratio_is_the_median_of_per_round_ratios():
    samples = [
        sample(1, "redis", "direct", 100), sample(1, "switchyard", "2 shards", 90),
        sample(2, "redis", "direct", 200), sample(2, "switchyard", "2 shards", 190),
        sample(3, "redis", "direct", 400), sample(3, "switchyard", "2 shards", 100),
    ]
    direct, proxy = rows_of(samples)
    assert direct.target == "redis" and direct.rps == 200
    assert proxy.rps == 100
    assert proxy.ratio == pytest.approx(0.9)  # ratios 0.90, 0.95, 0.25
    assert proxy.spread_pct == pytest.approx(100.0)


def test_failed_runs_are_excluded_and_listed():
    samples = [sample(1, "redis", "direct", 100), sample(2, "redis", "direct", 100),
               report.Sample(1, "GET", 16, "1 shard", "switchyard", 0, 0, 0, 0, "boom"),
               sample(2, "switchyard", "1 shard", 50)]
    proxy = rows_of(samples)[1]
    assert proxy.rounds == 1 and proxy.rps == 50 and proxy.ratio == 0.5
    assert proxy.errors == ["round 1: boom"]


def goals_by_label(samples):
    return {goal.label: goal for goal in report.check_goals(rows_of(samples))}


def test_goals_pass_fail_and_skip():
    samples = [
        sample(1, "redis", "direct", 100), sample(1, "switchyard", "1 shard", 90, cpu=0.5),
        sample(1, "nutcracker", "1 shard", 95, cpu=3.0),
        sample(1, "redis", "direct", 100, workload="MGET10"),
        sample(1, "switchyard", "2 shards", 61, workload="MGET10", cpu=0.7),
        sample(1, "nutcracker", "2 shards", 30, workload="MGET10"),
    ]
    goals = goals_by_label(samples)
    assert goals["P16: ≥ 0.85× direct Redis (except MGET10 on 2 shards)"].status == "PASS"
    assert goals["P16 MGET10 on 2 shards: ≥ 0.60× direct Redis"].status == "PASS"
    cpu = goals["P16: ≤ 0.6 µs CPU/request"]
    assert cpu.status == "FAIL" and "MGET10 P16 2 shards: 0.70 µs" in cpu.detail
    rival = goals["switchyard ahead of nutcracker (rps) on every row"]
    assert rival.status == "FAIL" and "GET P16 1 shard: 0.95×" in rival.detail
    assert goals["P1: ≥ 1.00× direct Redis"].status == "SKIP"


def test_goals_skip_without_switchyard():
    goals = goals_by_label([sample(1, "redis", "direct", 100),
                            sample(1, "nutcracker", "1 shard", 80)])
    assert {goal.status for goal in goals.values()} == {"SKIP"}


def test_scaled_cpu_goal_uses_nutcrackers_cpu_of_the_same_round():
    samples = [
        sample(1, "redis", "direct", 100), sample(1, "switchyard", "1 shard", 90, cpu=1.0),
        sample(1, "nutcracker", "1 shard", 50, cpu=5.0),  # 0.20
        sample(2, "redis", "direct", 100), sample(2, "switchyard", "1 shard", 90, cpu=2.0),
        sample(2, "nutcracker", "1 shard", 50, cpu=4.0),  # 0.50
        sample(3, "redis", "direct", 100), sample(3, "switchyard", "1 shard", 90, cpu=0.5),
        sample(3, "nutcracker", "1 shard", 50, cpu=2.0),  # 0.25
    ]
    proxy = rows_of(samples)[1]
    assert proxy.target == "switchyard"
    assert proxy.cpu_vs_rival == pytest.approx(0.25)
    goals = goals_by_label(samples)
    assert goals["P16 CPU/request scaled: ≤ 0.29× nutcracker's in the same round"].status == "PASS"
    assert goals["P1 CPU/request scaled: ≤ 0.63× nutcracker's in the same round"].status == "SKIP"
