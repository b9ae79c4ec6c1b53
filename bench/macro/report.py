"""From per-round samples to the markdown table and the goal check.

Every number in a row is a median over rounds. The ratio to direct Redis is computed per
round (proxy rps / direct single-redis rps of the same workload and pipeline in the same
round) and then the median of those ratios is taken, so slow drift of the machine during
a run cancels out.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Callable

DIRECT_TARGET = "redis"
DIRECT_TOPOLOGY = "direct"
SUBJECT = "switchyard"
RIVAL = "nutcracker"


@dataclass(frozen=True)
class Sample:
    """One redis-benchmark run."""

    round: int
    workload: str
    pipeline: int
    topology: str
    target: str
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float
    error: str | None = None


@dataclass
class Row:
    """Medians over rounds for one workload x pipeline x topology x target."""

    workload: str
    pipeline: int
    topology: str
    target: str
    rounds: int = 0
    rps: float | None = None
    spread_pct: float | None = None  # (max - min) / median of rps over rounds
    ratio: float | None = None
    vs_rival: float | None = None  # subject rows: median per-round rps / rival rps
    cpu_vs_rival: float | None = None  # subject rows: median per-round CPU/req / rival's
    p50_ms: float | None = None
    p99_ms: float | None = None
    cpu_us: float | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.workload} P{self.pipeline} {self.topology}"


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _valid_rps(samples: list[Sample], target: str) -> dict[tuple[int, str, int, str], float]:
    """Maps (round, workload, pipeline, topology) to the valid rps of `target` that round."""
    return {
        (s.round, s.workload, s.pipeline, s.topology): s.rps
        for s in samples
        if s.target == target and s.error is None and s.rps > 0
    }


def _valid_cpu(samples: list[Sample], target: str) -> dict[tuple[int, str, int, str], float]:
    """Like _valid_rps, for CPU µs per request."""
    return {
        (s.round, s.workload, s.pipeline, s.topology): s.cpu_us
        for s in samples
        if s.target == target and s.error is None and s.cpu_us > 0
    }


def _median_ratio(valid: list[Sample], base: dict[tuple[int, str, int, str], float],
                  topology: str | None) -> float | None:
    """Median over rounds of sample rps / base rps of the same round, workload, pipeline
    and topology (`topology` None: the sample's own topology)."""
    ratios = []
    for s in valid:
        key = (s.round, s.workload, s.pipeline, topology or s.topology)
        if key in base:
            ratios.append(s.rps / base[key])
    return _median(ratios)


def summarize(samples: list[Sample], workload_order: list[str],
              target_order: list[str]) -> list[Row]:
    """Groups samples into rows, ordered by workload, pipeline, topology and target."""
    groups: dict[tuple[str, int, str, str], list[Sample]] = {}
    for sample in samples:
        key = (sample.workload, sample.pipeline, sample.topology, sample.target)
        groups.setdefault(key, []).append(sample)
    direct = _valid_rps(samples, DIRECT_TARGET)
    rival = _valid_rps(samples, RIVAL)
    rival_cpu = _valid_cpu(samples, RIVAL)
    rows = [_row(key, group, direct, rival, rival_cpu) for key, group in groups.items()]

    def order(row: Row) -> tuple:
        return (workload_order.index(row.workload), row.pipeline,
                row.topology != DIRECT_TOPOLOGY, row.topology, target_order.index(row.target))

    return sorted(rows, key=order)


def _row(key: tuple[str, int, str, str], group: list[Sample],
         direct: dict[tuple[int, str, int, str], float],
         rival: dict[tuple[int, str, int, str], float],
         rival_cpu: dict[tuple[int, str, int, str], float]) -> Row:
    row = Row(*key)
    valid = [s for s in group if s.error is None]
    row.errors = [f"round {s.round}: {s.error}" for s in group if s.error is not None]
    row.rounds = len(valid)
    if not valid:
        return row
    rps = [s.rps for s in valid]
    row.rps = _median(rps)
    if len(rps) > 1 and row.rps:
        row.spread_pct = (max(rps) - min(rps)) / row.rps * 100
    row.ratio = _median_ratio(valid, direct, DIRECT_TOPOLOGY)
    if row.target == SUBJECT:
        row.vs_rival = _median_ratio(valid, rival, None)
        row.cpu_vs_rival = _median([s.cpu_us / rival_cpu[(s.round, s.workload, s.pipeline,
                                                            s.topology)]
                                    for s in valid if s.cpu_us > 0 and
                                    (s.round, s.workload, s.pipeline, s.topology) in rival_cpu])
    row.p50_ms = _median([s.p50_ms for s in valid])
    row.p99_ms = _median([s.p99_ms for s in valid])
    row.cpu_us = _median([s.cpu_us for s in valid])
    return row


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def markdown_table(rows: list[Row]) -> str:
    """Returns the results table; one line per row."""
    lines = [
        "| workload | P | topology | target | rps | × direct | p50 ms | p99 ms "
        "| CPU µs/req | spread | rounds |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        target = f"**{row.target}**" if row.target == SUBJECT else row.target
        ratio = "1.00 (base)" if row.target == DIRECT_TARGET else _fmt(row.ratio, ".2f")
        rounds = str(row.rounds) + (f" ({len(row.errors)} failed)" if row.errors else "")
        lines.append(
            f"| {row.workload} | {row.pipeline} | {row.topology} | {target} "
            f"| {_fmt(row.rps, ',.0f')} | {ratio} | {_fmt(row.p50_ms, '.3f')} "
            f"| {_fmt(row.p99_ms, '.3f')} | {_fmt(row.cpu_us, '.2f')} "
            f"| {_fmt(row.spread_pct, '.0f', '%').replace('n/a', '–')} | {rounds} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class RowGoal:
    """A limit every selected switchyard row must meet."""

    label: str
    selects: Callable[[Row], bool]
    value: Callable[[Row], float | None]
    limit: float
    at_least: bool  # True: value >= limit passes; False: value <= limit passes
    unit: str


def _is_split_mget(row: Row) -> bool:
    return row.workload == "MGET10" and row.topology == "2 shards" and row.pipeline == 16


# The performance goals for one worker thread on the 2-core reference machine.
ROW_GOALS = (
    RowGoal("P1: ≥ 1.00× direct Redis", lambda r: r.pipeline == 1,
            lambda r: r.ratio, 1.0, True, "×"),
    RowGoal("P1: ≤ 6 µs CPU/request", lambda r: r.pipeline == 1,
            lambda r: r.cpu_us, 6.0, False, " µs"),
    RowGoal("P16: ≥ 0.85× direct Redis (except MGET10 on 2 shards)",
            lambda r: r.pipeline == 16 and not _is_split_mget(r),
            lambda r: r.ratio, 0.85, True, "×"),
    RowGoal("P16: ≤ 0.6 µs CPU/request", lambda r: r.pipeline == 16,
            lambda r: r.cpu_us, 0.6, False, " µs"),
    RowGoal("P16 MGET10 on 2 shards: ≥ 0.60× direct Redis", _is_split_mget,
            lambda r: r.ratio, 0.6, True, "×"),
    # The CPU goals again, scaled to this machine by nutcracker's CPU per request in the same
    # round: where the goals were set, nutcracker took 9.5 µs at P1 (6 / 9.5 = 0.63) and
    # 1.5-2.1 µs at P16 (0.6 / 2.1 = 0.29, the stricter end). System calls cost several
    # times more on some virtual machines than on others, and both proxies pay them.
    RowGoal("P1 CPU/request scaled: ≤ 0.63× nutcracker's in the same round",
            lambda r: r.pipeline == 1, lambda r: r.cpu_vs_rival, 0.63, False, "×"),
    RowGoal("P16 CPU/request scaled: ≤ 0.29× nutcracker's in the same round",
            lambda r: r.pipeline == 16, lambda r: r.cpu_vs_rival, 0.29, False, "×"),
)


@dataclass(frozen=True)
class GoalResult:
    label: str
    status: str  # PASS, FAIL or SKIP
    detail: str


def _check_row_goal(goal: RowGoal, rows: list[Row]) -> GoalResult:
    measured = [(row, goal.value(row)) for row in rows
                if row.target == SUBJECT and goal.selects(row)]
    measured = [(row, value) for row, value in measured if value is not None]
    if not measured:
        return GoalResult(goal.label, "SKIP", f"no {SUBJECT} rows measured")
    if goal.at_least:
        failing = [(r, v) for r, v in measured if v < goal.limit]
        worst = min(measured, key=lambda item: item[1])
    else:
        failing = [(r, v) for r, v in measured if v > goal.limit]
        worst = max(measured, key=lambda item: item[1])
    shown = failing or [worst]
    detail = ", ".join(f"{row.where}: {value:.2f}{goal.unit}" for row, value in shown[:6])
    if len(shown) > 6:
        detail += f", and {len(shown) - 6} more"
    if not failing:
        return GoalResult(goal.label, "PASS", f"worst {detail} ({len(measured)} rows)")
    return GoalResult(goal.label, "FAIL", f"{len(failing)}/{len(measured)} rows: {detail}")


def _check_ahead_of_rival(rows: list[Row]) -> GoalResult:
    label = f"{SUBJECT} ahead of {RIVAL} (rps) on every row"
    pairs = [row for row in rows if row.target == SUBJECT and row.vs_rival is not None]
    if not pairs:
        return GoalResult(label, "SKIP", f"no row measured for both {SUBJECT} and {RIVAL}")
    behind = [row for row in pairs if row.vs_rival <= 1.0]
    if not behind:
        closest = min(pairs, key=lambda row: row.vs_rival)
        return GoalResult(label, "PASS", f"closest {closest.where}: {closest.vs_rival:.2f}× "
                                         f"({len(pairs)} rows)")
    detail = ", ".join(f"{row.where}: {row.vs_rival:.2f}×" for row in behind[:6])
    return GoalResult(label, "FAIL", f"{len(behind)}/{len(pairs)} rows behind: {detail}")


def check_goals(rows: list[Row]) -> list[GoalResult]:
    """Evaluates every goal against the switchyard rows."""
    return [*(_check_row_goal(goal, rows) for goal in ROW_GOALS), _check_ahead_of_rival(rows)]


def markdown_goals(results: list[GoalResult]) -> str:
    """Returns the goal check as a markdown table."""
    lines = ["| goal | result | detail |", "|---|---|---|"]
    lines += [f"| {r.label} | {r.status} | {r.detail} |" for r in results]
    return "\n".join(lines)


def to_json(samples: list[Sample], rows: list[Row], goals: list[GoalResult],
            header: dict[str, str]) -> dict:
    """Returns everything the report shows, plus the raw samples, as JSON-ready data."""
    return {
        "header": header,
        "rows": [asdict(row) for row in rows],
        "goals": [asdict(goal) for goal in goals],
        "samples": [asdict(sample) for sample in samples],
    }
