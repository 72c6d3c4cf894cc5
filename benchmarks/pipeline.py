"""Benchmark: the whole main job at national scale (prints figures; asserts nothing).

For each size (default 10k and 100k firms; 300k if asked and it fits), generates a landing
folder with the project's generator (~100 source records per firm over 5 years: 10M at 100k
firms; cached under benchmarks/out/), then runs the real main job — ingestion, Great
Expectations validation, credit records, the month-end history, reasons, tier changes, the
review report, the round draft and its exports — in this process on a fresh Dagster
instance, and prints wall time and peak RSS per stage and in total, read from the run's
event log and an RSS sampler. Then one as-of scoring from the stored reason spans against a
bare DuckDB aggregate of the same records, and how the cost grows with the number of firms.

Targets: full pipeline < 5 min and peak RSS < 8 GB at 100k firms × 10M records;
GX validation of 10M rows < 60 s; one as-of scoring ≤ 2 × the bare aggregate.

    .venv/bin/python benchmarks/pipeline.py [--firms 10000 100000 300000] [--intensity 16.6]
"""

from __future__ import annotations

import argparse
import os
import platform
import threading
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
from timing import timed  # benchmarks/ is on sys.path when a script runs

from generator import write_landing
from pipelines.definitions import build_defs, execute_main
from pipelines.resources import Landing, Warehouse
from warehouse.connection import query
from warehouse.credit import FIRMS_SQL

OUT = Path(__file__).parent / "out"
DUCKDB_MEMORY = "2GB"
"""DuckDB's cap per connection for these runs (`$RENFANG_DUCKDB_MEMORY` overrides): DuckDB
spills beyond it and leaves the rest of the machine to polars (100k firms: 17.6 → 13.7 GB)."""
ROUND_OVERRIDES = "{max_firms_per_inspector: 40, daily_cap_per_team: 4}"
TODAY = "2026-06-30"  # after the generated history (2021–2025), like the e2e tests

STAGES = {
    "ingestion": ("raw_", "rows_conserved"),
    "validation (GX)": ("gx_suite",),
    "credit": ("credit_", "score_", "tier_", "reasons"),
    "review report": ("review",),
    "round draft": ("sampling_", "round_"),
    "risk model": ("risk_",),
}


def stage_of(step: str) -> str:
    for stage, keys in STAGES.items():
        if any(k in step for k in keys):
            return stage
    return "ingestion"  # the clean source tables (firms, penalty_decisions, …)


class RssSampler(threading.Thread):
    """Current RSS of this process every 0.2 s (ru_maxrss only ever grows)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, int]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self.stop.is_set():
            resident = int(Path("/proc/self/statm").read_text().split()[1]) * page
            self.samples.append((time.time(), resident))
            time.sleep(0.2)

    def peak(self, start: float, end: float) -> int:
        inside = [rss for t, rss in self.samples if start <= t <= end]
        return max(inside, default=0)


def landing_for(firms: int, intensity: float) -> Path:
    folder = OUT / f"landing_{firms}_{intensity}"
    done = folder / ".complete"
    if not done.exists():
        counts, seconds = timed(
            f"generate {firms:,d} firms", write_landing, folder, firms=firms, intensity=intensity
        )
        done.write_text(f"{sum(counts.values())} rows in {seconds:.0f} s\n")
    print(f"landing {folder}: {done.read_text().strip()}")
    return folder


def run_pipeline(firms: int, intensity: float) -> dict[str, float]:
    landing = landing_for(firms, intensity)
    warehouse = OUT / f"warehouse_{firms}.duckdb"
    for stale in (warehouse, warehouse.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    defs = build_defs(
        warehouse=Warehouse(path=str(warehouse), reports_dir=str(OUT / f"reports_{firms}")),
        landing=Landing(path=str(landing), today=TODAY),
    )
    sampler = RssSampler()
    sampler.start()
    with dg.DagsterInstance.ephemeral() as instance:
        start = time.time()
        result = execute_main(
            defs,
            instance=instance,
            run_config={
                "loggers": {"console": {"config": {"log_level": "ERROR"}}},
                # The template's cap (8 firms per inspector a quarter) suits a city; the
                # generated national roster has ~1 inspector per 7 firms.
                "ops": {"sampling_round": {"config": {"overrides": ROUND_OVERRIDES}}},
            },
        )
        wall = time.time() - start
        steps = step_intervals(instance, result.run_id)
    sampler.stop.set()
    print(f"\n{firms:,d} firms: main job {'succeeded' if result.success else 'FAILED'}")
    by_stage: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for step, interval in steps.items():
        by_stage[stage_of(step)].append(interval)
    for stage in STAGES:
        intervals = by_stage.get(stage, [])
        seconds = sum(end - begin for begin, end in intervals)
        peak = max((sampler.peak(b, e) for b, e in intervals), default=0)
        print(f"  {stage:18s} {seconds:8.1f} s   peak RSS {peak / 2**30:6.2f} GB")
    slowest = sorted(steps.items(), key=lambda kv: kv[1][0] - kv[1][1])[:8]
    print("  slowest steps: " + ", ".join(f"{k} {e - b:.1f} s" for k, (b, e) in slowest))
    hungriest = sorted(steps.items(), key=lambda kv: -sampler.peak(*kv[1]))[:5]
    print("  most memory: " + ", ".join(f"{k} {sampler.peak(b, e) / 2**30:.2f} GB"
                                        for k, (b, e) in hungriest))  # fmt: skip
    total_peak = sampler.peak(start, start + wall)
    print(f"  {'total (wall)':18s} {wall:8.1f} s   peak RSS {total_peak / 2**30:6.2f} GB")
    with Warehouse(path=str(warehouse)).connect(read_only=True) as con:
        records = con.execute("SELECT count(*) FROM credit_records").fetchall()[0][0]
        rows = con.execute(
            "SELECT sum(rows_accepted) FROM ingestion_log WHERE run_id = ?", [result.run_id]
        ).fetchall()[0][0]
    gx = sum(end - begin for begin, end in by_stage.get("validation (GX)", []))
    print(f"  {rows:,d} accepted source rows validated by GX in {gx:.1f} s; "
          f"{records:,d} credit records")  # fmt: skip
    ratio = scoring_ratio(warehouse)
    return {"firms": firms, "wall": wall, "peak_gb": total_peak / 2**30, "gx": gx, "ratio": ratio}


def step_intervals(instance: dg.DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    starts: dict[str, float] = {}
    intervals: dict[str, tuple[float, float]] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            intervals[event.step_key] = (
                starts.get(event.step_key, entry.timestamp),
                entry.timestamp,
            )
    return intervals


def scoring_ratio(warehouse: Path) -> float:
    """One as-of scoring from the stored spans vs the bare aggregate of the same records."""
    from models.engine import scores_of
    from models.rules import default_rule_set

    day = date(2025, 12, 31)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        spans = query(con, "SELECT * FROM score_reason_spans")
        firms = query(con, FIRMS_SQL)
        _, bare = timed(
            "  (c) bare DuckDB aggregate",
            lambda: con.execute(
                "SELECT uscc, sum(points) FROM credit_records WHERE valid_from <= ? "
                "AND (valid_until IS NULL OR valid_until > ?) GROUP BY uscc",
                [day, day],
            ).fetchall(),
            repeat=5,
        )
    rules = default_rule_set()
    _, scoring = timed(
        "  (a') one as-of scoring from spans", scores_of, spans, firms, rules, [day], repeat=5
    )
    ratio = scoring / bare
    print(f"  (a')/(c) = {ratio:.2f}  (target ≤ 2)")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--intensity", type=float, default=16.6)
    args = parser.parse_args()
    os.environ.setdefault("RENFANG_DUCKDB_MEMORY", DUCKDB_MEMORY)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB RAM, "
          f"Python {platform.python_version()}, DuckDB memory_limit "
          f"{os.environ['RENFANG_DUCKDB_MEMORY']}")  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    results = [run_pipeline(n, args.intensity) for n in args.firms]
    print("\nscaling")
    header = ("firms", "wall s", "s / 10k firms", "peak GB", "GX s", "(a')/(c)")
    print("  {:>8s} {:>8s} {:>14s} {:>8s} {:>6s} {:>9s}".format(*header))
    for r in results:
        per = r["wall"] / (r["firms"] / 10_000)
        print(f"  {r['firms']:>8,d} {r['wall']:>8.1f} {per:>14.1f} {r['peak_gb']:>8.2f} "
              f"{r['gx']:>6.1f} {r['ratio']:>9.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
