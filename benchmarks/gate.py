"""Benchmark: the quality gate on whole tables and on a day's changed rows (prints figures).

Generates an industry (`generator.generate`, ~100 source rows per firm over 5 years at the
default intensity), stores each source's frame as its clean table in a fresh warehouse, and
times `gate_source` per source — the function the `gx_suite` checks call — twice: a full
validation (every row to GX, as a `--full` run or a first run), then an incremental one
after a day's worth of key groups (`--share` of each table, 0.1 % by default, as the
pipeline benchmark's day) were marked as written. The rest of the main job is not run, so
the figures isolate the gate on a shared machine (the main job's figures:
`benchmarks/pipeline.py`).

    .venv/bin/python benchmarks/gate.py [--firms 10000] [--share 0.001]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl

from generator import generate
from models.contracts import SOURCE_ORDER, default_contracts
from models.row_checks import clean_schema
from pipelines.quality.gx_gate import gate_source
from warehouse.connection import Warehouse, query
from warehouse.gate_state import mark_unvalidated
from warehouse.tables import replace_table

TODAY = date(2026, 6, 30)  # after the generated history, as benchmarks/pipeline.py
CONTRACTS = default_contracts()


def clean_tables(warehouse: Warehouse, firms: int, intensity: float) -> dict[str, int]:
    """Each generated source frame stored as its clean table (lineage made up); the rows."""
    frames = generate(1, firms=firms, years=5, start_year=2021, intensity=intensity)
    rows = {}
    with warehouse.transaction() as con:
        for name in SOURCE_ORDER:
            source = CONTRACTS.source(name)
            frame = frames.get(name, pl.DataFrame())
            schema = clean_schema(source)
            frame = frame.with_columns(
                pl.lit(None, dtype=schema[c]).alias(c) for c in schema if c not in frame.columns
            ).with_columns(
                source_file=pl.lit(f"{name}.csv"),
                source_row=pl.int_range(2, pl.len() + 2, dtype=pl.Int64),
                duplicate_count=pl.lit(1, dtype=pl.Int64),
            )
            frame = frame.select(list(schema)).cast(schema).unique(source.key, keep="first")
            replace_table(con, name, frame, schema)
            mark_unvalidated(con, name, None)
            rows[name] = frame.height
    return rows


def mark_a_day(warehouse: Warehouse, share: float) -> None:
    """Mark `share` of each table's key groups as written today."""
    with warehouse.transaction() as con:
        for name in SOURCE_ORDER:
            key = CONTRACTS.source(name).key
            columns = ", ".join(f'"{k}"' for k in key)
            keys = query(
                con,
                f'SELECT DISTINCT {columns} FROM (SELECT * FROM "{name}" '
                f"USING SAMPLE {share * 100:.4f} PERCENT (bernoulli, 7))",
            )
            mark_unvalidated(con, name, keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=10_000)
    parser.add_argument("--intensity", type=float, default=16.6)
    parser.add_argument("--share", type=float, default=0.001)
    args = parser.parse_args()
    print(f"load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        warehouse = Warehouse(path=str(root / "warehouse.duckdb"), reports_dir=str(root / "r"))
        start = time.perf_counter()
        rows = clean_tables(warehouse, args.firms, args.intensity)
        print(f"{args.firms:,d} firms: {sum(rows.values()):,d} clean rows "
              f"({time.perf_counter() - start:.1f} s to generate and store)")  # fmt: skip
        times: dict[str, list[float]] = {}
        validated: dict[str, list[int]] = {}
        for run, full in (("full", True), ("day", False)):
            if not full:
                mark_a_day(warehouse, args.share)
            for name in SOURCE_ORDER:
                start = time.perf_counter()
                gate = gate_source(warehouse, CONTRACTS.source(name), CONTRACTS, as_of=TODAY,
                                   run_id=run, full_run=full)  # fmt: skip
                assert gate.success, (name, gate.failures)
                times.setdefault(name, []).append(time.perf_counter() - start)
                validated.setdefault(name, []).append(gate.rows_validated)
        print(f"{'source':24s} {'rows':>10s} {'full s':>8s} {'day rows':>9s} {'day s':>7s}")
        for name in SOURCE_ORDER:
            (full_s, day_s), (_, day_rows) = times[name], validated[name]
            print(f"{name:24s} {rows[name]:10,d} {full_s:8.2f} {day_rows:9,d} {day_s:7.2f}")
        total_full = sum(t[0] for t in times.values())
        total_day = sum(t[1] for t in times.values())
        print(f"{'total':24s} {sum(rows.values()):10,d} {total_full:8.2f} "
              f"{sum(v[1] for v in validated.values()):9,d} {total_day:7.2f}")  # fmt: skip
    print(f"load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
