"""Benchmark: the daily job at national scale, full and incremental (prints figures; asserts
nothing).

For each size (default 10k and 100k firms; ~100 source records per firm over 5 years: 10M
at 100k firms), generates a landing folder with the project's generator (cached under
benchmarks/out/), then, in this process, on fresh Dagster instances:

1. a bare parse of the landing files — decoded and parsed into text columns (polars for
   CSV, calamine for XLSX), no checks — timed right before the run, for the ratio
   ingestion / parse;
2. the full rebuild: the main job (`--full`) on an empty warehouse, staged and published as
   `renfang run` does: wall time and peak RSS per stage, the slowest and hungriest steps;
3. incremental days: the next processing date with one day's new files (~0.1 % of the
   rows: documents sampled from the raw tables under new numbers) — the first day after
   the build, which copies the whole file (there is no spare yet: `warehouse.staging`), then
   a day as every later day runs (the figure for the target), and the day after it, one more
   day's files plus the withdrawal of one of yesterday's files; each run makes its staging
   copy of the live warehouse and publishes it, as in production;
4. one as-of scoring from the stored spans against a bare DuckDB aggregate of the records;
5. the scaling across sizes. With `--model`, the risk model's own job is timed too.

Load average and machine size are printed with the figures: on a shared machine the times
are upper bounds. Targets at 100k firms × 10M rows on 2 cores: incremental day < 30 s;
full rebuild < 300 s; peak RSS ≤ 6 GB; ingestion ≤ 3 × bare parse; as-of scoring ≤ 2 × the
bare aggregate.

    .venv/bin/python benchmarks/pipeline.py [--firms 10000 100000] [--intensity 16.6] [--model]
"""

from __future__ import annotations

import argparse
import codecs
import io
import os
import platform
import shutil
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
from timing import timed  # benchmarks/ is on sys.path when a script runs

from generator import write_landing
from models.contracts import SOURCE_ORDER, default_contracts
from pipelines.assets.risk import RISK_JOB
from pipelines.definitions import build_defs, execute_job, execute_main
from pipelines.resources import Landing, Warehouse
from warehouse.archive import FileEvent, record_event
from warehouse.connection import DEFAULT_MEMORY_LIMIT, query
from warehouse.credit import FIRMS_SQL
from warehouse.landing import source_files
from warehouse.staging import bump_generation

OUT = Path(__file__).parent / "out"
ROUND_OVERRIDES = "{max_firms_per_inspector: 40, daily_cap_per_team: 4}"
TODAY = date(2026, 6, 30)  # after the generated history (2021–2025), like the e2e tests
DAY_SHARE = 0.001
"""A day's new files: this share of the source rows, as new documents."""

STAGES = {
    "ingestion": ("raw_", "rows_conserved", "open_conflicts", *SOURCE_ORDER),
    "validation (GX)": ("gx_suite",),
    "credit": ("credit_", "score_", "tier_", "reasons", "objection_deadlines"),
    "review report": ("review",),
    "round draft": ("sampling_", "round_"),
    "publish": (
        "published_warehouse",
        "association_tier_list",
        "disclosure_feed",
        "penalty_disclosures",
        "penalty_feed",
    ),
    "risk model": ("risk_",),
}


def stage_of(step: str) -> str:
    for stage, keys in STAGES.items():
        if stage != "ingestion" and any(k in step for k in keys):
            return stage
    return "ingestion"  # raw and clean source tables, their checks, open conflicts


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


SAMPLER = RssSampler()


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f}"


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


# --- the bare parse ------------------------------------------------------------------------


def bare_parse(landing: Path) -> tuple[int, float]:
    """Every landing file decoded and parsed into text columns, no checks: (rows, seconds)."""
    from python_calamine import CalamineWorkbook

    start = time.perf_counter()
    rows = 0
    for source in SOURCE_ORDER:
        for path in source_files(landing, source):
            if path.suffix.lower() == ".csv":
                data = path.read_bytes()
                text = _decode(data)
                frame = pl.read_csv(io.BytesIO(text.encode()), has_header=False,
                                    infer_schema=False, truncate_ragged_lines=True)  # fmt: skip
                rows += frame.height
            elif path.suffix.lower() == ".xlsx":
                book = CalamineWorkbook.from_path(str(path))
                for name in book.sheet_names:
                    rows += len(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
    return rows, time.perf_counter() - start


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig")
    for encoding in ("utf-8", "gbk", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


# --- runs ----------------------------------------------------------------------------------


def run_job(
    warehouse: Path, landing: Path, today: date, label: str, *, full: bool = False,
    job: str | None = None,
) -> dict[str, float]:  # fmt: skip
    """One staged run of the main job (or `job`): per-stage wall and peak RSS, printed."""
    defs = build_defs(
        warehouse=Warehouse(
            path=str(warehouse), reports_dir=str(warehouse.parent / "reports"), staged=True
        ),
        landing=Landing(path=str(landing), today=today.isoformat()),
    )
    config = {
        "loggers": {"console": {"config": {"log_level": "ERROR"}}},
        # The template's cap (8 firms per inspector a quarter) suits a city; the generated
        # national roster has ~1 inspector per 7 firms.
        "ops": {"sampling_round": {"config": {"overrides": ROUND_OVERRIDES}}},
    }
    print(f"\n{label} ({today}, {load()})", flush=True)
    with dg.DagsterInstance.ephemeral() as instance:
        start = time.time()
        if job is None:
            result = execute_main(defs, instance=instance, run_config=config, full=full)
        else:
            config.pop("ops")
            result = execute_job(defs, job, instance=instance, run_config=config)
        wall = time.time() - start
        steps = step_intervals(instance, result.run_id)
    by_stage: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for step, interval in steps.items():
        by_stage[stage_of(step)].append(interval)
    figures: dict[str, float] = {}
    for stage in STAGES:
        intervals = by_stage.get(stage, [])
        if not intervals:
            continue
        seconds = sum(end - begin for begin, end in intervals)
        peak = max(SAMPLER.peak(b, e) for b, e in intervals)
        figures[stage] = seconds
        print(f"  {stage:18s} {seconds:8.1f} s   peak RSS {peak / 2**30:6.2f} GB")
    slowest = sorted(steps.items(), key=lambda kv: kv[1][0] - kv[1][1])[:8]
    print("  slowest steps: " + ", ".join(f"{k} {e - b:.1f} s" for k, (b, e) in slowest))
    hungriest = sorted(steps.items(), key=lambda kv: -SAMPLER.peak(*kv[1]))[:5]
    print("  most memory: " + ", ".join(f"{k} {SAMPLER.peak(b, e) / 2**30:.2f} GB"
                                        for k, (b, e) in hungriest))  # fmt: skip
    steps_total = sum(e - b for b, e in steps.values())
    peak = SAMPLER.peak(start, start + wall)
    print(f"  {'total (wall)':18s} {wall:8.1f} s   peak RSS {peak / 2**30:6.2f} GB   "
          f"({'succeeded' if result.success else 'FAILED'}; steps {steps_total:.1f} s, "
          f"Dagster and the staging copy {wall - steps_total:.1f} s; {load()})")  # fmt: skip
    return {"wall": wall, "peak_gb": peak / 2**30, **figures}


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


# --- one day's files -----------------------------------------------------------------------

NEW_KEY = {"penalty_decisions": "doc_no", "correction_notices": "doc_no", "circulars": "doc_no",
           "commendations": "doc_no", "inspection_outcomes": "inspection_id",
           "credit_cases": "case_id"}  # fmt: skip


def day_files(warehouse: Path, landing: Path, day: date, tag: str) -> int:
    """Write one day's new files into the run's landing folder: documents sampled from the
    received rows (`DAY_SHARE` of them) under new numbers, collected that day."""
    contracts = default_contracts()
    written = 0
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for source, key in NEW_KEY.items():
            [(total,)] = con.execute(f'SELECT count(*) FROM "raw_{source}"').fetchall()
            n = max(1, round(total * DAY_SHARE))
            columns = [c for c in contracts.source(source).column_names]
            frame = query(
                con,
                f'SELECT {", ".join(columns)} FROM "raw_{source}" '
                f"WHERE read_problem IS NULL USING SAMPLE {n} ROWS (reservoir, 17)",
            ).with_columns(pl.col(key) + f"-{tag}")
            if "collected_on" in frame.columns:
                frame = frame.with_columns(collected_on=pl.lit(day.isoformat()))
            path = landing / source / f"当日_{tag}.csv"
            frame.write_csv(path)
            written += frame.height
    finally:
        con.close()
    return written


def run_folder(landing: Path, firms: int) -> Path:
    """A landing folder for the incremental runs: the generated files (symbolic links) plus
    the days' files written into it."""
    folder = OUT / f"landing_{firms}_days"
    shutil.rmtree(folder, ignore_errors=True)
    for source in SOURCE_ORDER:
        for path in source_files(landing, source):
            target = folder / path.relative_to(landing)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path.resolve())
    return folder


def withdraw(warehouse: Path, landing: Path, relative: str, on: date) -> None:
    """`renfang withdraw` of a received file, as the command records it."""
    con = duckdb.connect(str(warehouse))
    try:
        [(source, sha)] = con.execute(
            "SELECT source, sha256 FROM landing_files WHERE file = ?", [relative]
        ).fetchall()
        event = FileEvent(source, sha, "withdrawn", on, datetime.now(UTC).replace(tzinfo=None),
                          "benchmark", "报送有误 / sent by mistake")  # fmt: skip
        con.execute("BEGIN TRANSACTION")
        record_event(con, event)
        bump_generation(con)  # an act on the live file, as `renfang withdraw` does
        con.execute("COMMIT")
    finally:
        con.close()


# --- as-of scoring -------------------------------------------------------------------------


def scoring_ratio(warehouse: Path) -> float:
    """One as-of scoring from the stored spans — the pipeline's own function
    (`warehouse.credit.score_stored_spans`: the sums in DuckDB, the tiers in polars) on the
    directory it has read — vs the bare DuckDB aggregate of the same records; the all-polars
    path from spans read into memory too."""
    from models.engine import scores_of
    from models.rules import default_rule_set
    from warehouse.credit import score_stored_spans

    day = date(2025, 12, 31)
    rules = default_rule_set()
    with duckdb.connect(str(warehouse), read_only=True) as con:
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
        _, scoring = timed(
            "  (a') one as-of scoring (DuckDB sums + tiers)",
            lambda: score_stored_spans(con, rules, [day], firms),
            repeat=5,
        )
        spans = query(con, "SELECT * EXCLUDE (rule_set_version) FROM score_reason_spans")
    timed("  (a'') the same in polars from spans in memory", scores_of, spans, firms, rules, [day],
          repeat=5)  # fmt: skip
    ratio = scoring / bare
    print(f"  (a')/(c) = {ratio:.2f}  (target ≤ 2)")
    return ratio


def bench(firms: int, intensity: float, model: bool) -> dict[str, float]:
    landing = landing_for(firms, intensity)
    root = OUT / f"warehouse_{firms}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    warehouse = root / "warehouse.duckdb"
    folder = run_folder(landing, firms)

    rows, parse = bare_parse(folder)
    print(f"\n{firms:,d} firms: bare parse of the landing files: {rows:,d} rows in {parse:.1f} s "
          f"({load()})")  # fmt: skip
    full = run_job(warehouse, folder, TODAY, f"{firms:,d} firms: full rebuild (main job, --full)",
                   full=True)  # fmt: skip
    ratio_ingestion = full["ingestion"] / parse
    print(f"  ingestion / bare parse = {full['ingestion']:.1f} s / {parse:.1f} s = "
          f"{ratio_ingestion:.1f}  (target ≤ 3)")  # fmt: skip
    with duckdb.connect(str(warehouse), read_only=True) as con:
        [(records,)] = con.execute("SELECT count(*) FROM credit_records").fetchall()
        [(accepted,)] = con.execute("SELECT sum(rows_accepted) FROM ingestion_log").fetchall()
        refused = con.execute(
            "SELECT file, problem FROM landing_files WHERE status IN ('rejected', 'unreadable')"
        ).fetchall()
    print(f"  {accepted:,d} accepted source rows; {records:,d} credit records; "
          f"{len(refused)} files refused whole")  # fmt: skip
    too_large = [file for file, problem in refused if problem == "file_too_large"]
    if too_large:  # the run measured less than the landing holds: its figures mean nothing
        raise SystemExit(f"files refused as too large, figures not comparable: {too_large}")

    day1, day2, day3 = (TODAY + timedelta(days=n) for n in (1, 2, 3))
    new = day_files(warehouse, folder, day1, "D1")
    first = run_job(warehouse, folder, day1, f"{firms:,d} firms: first incremental day after the "
                    f"build ({new:,d} new rows in 6 files; no spare yet, the whole file is "
                    "copied)")  # fmt: skip
    new = day_files(warehouse, folder, day2, "D2")
    second = run_job(warehouse, folder, day2, f"{firms:,d} firms: incremental day ({new:,d} new "
                     "rows in 6 files)")  # fmt: skip
    new = day_files(warehouse, folder, day3, "D3")
    withdraw(warehouse, folder, "penalty_decisions/当日_D2.csv", day3)
    third = run_job(warehouse, folder, day3, f"{firms:,d} firms: incremental day ({new:,d} new "
                    "rows in 6 files) + one withdrawal (yesterday's penalty file)")  # fmt: skip
    if model:
        run_job(warehouse, folder, day3, f"{firms:,d} firms: the risk model's job", job=RISK_JOB)
    ratio = scoring_ratio(warehouse)
    return {
        "firms": firms,
        "full": full["wall"],
        "full_peak": full["peak_gb"],
        "first_day": first["wall"],
        "day": second["wall"],
        "day_withdrawal": third["wall"],
        "ingestion_ratio": ratio_ingestion,
        "scoring_ratio": ratio,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--intensity", type=float, default=16.6)
    parser.add_argument("--model", action="store_true", help="time the risk model's job too")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB RAM, "
          f"Python {platform.python_version()}, DuckDB memory_limit "
          f"{os.environ.get('RENFANG_DUCKDB_MEMORY', DEFAULT_MEMORY_LIMIT)}; {load()}")  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    SAMPLER.start()
    results = [bench(n, args.intensity, args.model) for n in args.firms]
    SAMPLER.stop.set()
    print(f"\nscaling ({load()})")
    header = ("firms", "full s", "s/10k firms", "peak GB", "1st day s", "day s", "day+wd s",
              "ingest/parse", "score/aggr")  # fmt: skip
    print("  {:>8s} {:>8s} {:>12s} {:>8s} {:>10s} {:>7s} {:>9s} {:>13s} {:>11s}".format(*header))
    for r in results:
        per = r["full"] / (r["firms"] / 10_000)
        print(f"  {r['firms']:>8,d} {r['full']:>8.1f} {per:>12.1f} {r['full_peak']:>8.2f} "
              f"{r['first_day']:>10.1f} {r['day']:>7.1f} {r['day_withdrawal']:>9.1f} "
              f"{r['ingestion_ratio']:>13.1f} {r['scoring_ratio']:>11.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
