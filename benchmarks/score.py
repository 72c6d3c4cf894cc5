"""Benchmark: credit scoring at national scale (prints figures; asserts nothing).

Generates 100k firms with ~10M source records (the project's generator, clean frames),
derives credit records, then times on the same records:
  (a) scoring one as-of date (`score_as_of`),
  (b) all 60 month-ends of the five years in one pass (`score_history`),
  (c) a bare DuckDB `SELECT uscc, sum(points) FROM credit_records WHERE <in window> GROUP BY uscc`.
Targets: (a)/(c) ≤ 2 and (b)/(a) ≤ 3.

    .venv/bin/python benchmarks/score.py [--firms 100000] [--intensity 16.6]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
from timing import timed  # benchmarks/ is on sys.path when a script runs

from generator import generate
from models.credit_records import derive_credit_records
from models.periods import month_ends
from models.record_status import record_status_history
from models.rules import default_rule_set
from models.scoring import reason_spans, score_as_of, score_history, scores_from_spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--intensity", type=float, default=16.6, help="16.6 ≈ 10M records")
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, {platform.python_version()}, polars {pl.__version__},"
        f" duckdb {duckdb.__version__}"
    )

    rules = default_rule_set()
    frames, _ = timed(
        "generate source frames", generate, 20251231, args.firms, args.years, 2021, args.intensity
    )
    source_rows = sum(f.height for n, f in frames.items() if n not in ("firms", "inspectors"))
    print(f"source records: {source_rows:,d} for {frames['firms'].height:,d} firms")
    records, _ = timed("derive credit_records", derive_credit_records, frames, rules)
    statuses, _ = timed(
        "derive credit_record_status", record_status_history, records, frames["credit_cases"], rules
    )
    firms = frames["firms"].select("uscc", "firm_type", "district")
    del frames  # ~4 GB of source frames are not needed any more
    print(f"credit records: {records.height:,d}; status rows: {statuses.height:,d}")

    dates = month_ends(date(2021, 1, 1), date(2020 + args.years, 12, 31))
    last = dates[-1]
    one_result, one = timed(
        f"(a) score_as_of {last}", score_as_of, records, statuses, firms, rules, last
    )
    print(f"    {one_result.scores.height:,d} scores, {one_result.reasons.height:,d} reasons")
    del one_result
    # scores of every month end; reasons are stored as spans (one row per record piece),
    # as the pipeline does, not expanded per date (that would be ~10⁸ rows at this scale)
    _, all_ = timed(
        f"(b) score_history, {len(dates)} month-ends",
        score_history,
        records,
        statuses,
        firms,
        rules,
        dates,
        reason_dates=(),
    )
    spans, _ = timed(
        "    reason_spans (stored once, serve all dates)", reason_spans, records, statuses,
        firms, rules,
    )  # fmt: skip
    print(f"    {spans.height:,d} reason spans")
    _, from_spans = timed(
        f"(a') scores {last} from stored spans", scores_from_spans, spans, firms, rules, [last],
        repeat=5,
    )  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        con.register("r", records)
        con.execute("CREATE TABLE credit_records AS SELECT * FROM r")
        sql = (
            "SELECT uscc, sum(points) FROM credit_records WHERE collected_on <= ? "
            "AND valid_from <= ? AND valid_until > ? GROUP BY uscc"
        )
        _, bare = timed(
            "(c) bare DuckDB aggregate",
            lambda: con.execute(sql, [last, last, last]).to_arrow_table(),
            repeat=5,
        )
        con.close()

    print()
    print(f"(a)/(c) = {one / bare:5.2f}   target ≤ 2  (from records, incl. 2.2M reasons)")
    print(f"(a')/(c) = {from_spans / bare:5.2f}  target ≤ 2  (from the stored spans)")
    print(f"(b)/(a) = {all_ / one:5.2f}   target ≤ 3")


if __name__ == "__main__":
    main()
