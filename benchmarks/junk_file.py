"""Benchmark: a 300 MB junk file in the landing folder is rejected with bounded memory.

Writes a 300 MB CSV with no recognisable header as `penalty_decisions/junk.csv` (cached under
benchmarks/out/junk/), then runs the real `raw_penalty_decisions` asset on it through Dagster
in a fresh process per case and prints that process's peak RSS, the file's scan status and
the raw rows it left:

- `baseline`   an empty landing folder (what Dagster, polars and DuckDB cost by themselves);
- `too_large`  the default size limit (200 MB): rejected before a byte is parsed;
- `probed`     the limit raised to 1 GB (`RENFANG_MAX_FILE_MB=1024`): the header is looked
               for in the first 4 MiB, the file is rejected `no_header` without being read.

Target: peak RSS < 1 GB for that file and no raw rows. (Before the fix: 19.8 GB peak and
1,980,226 junk rows for a 210 MB file.) Prints figures; asserts nothing.

    .venv/bin/python benchmarks/junk_file.py [--mb 300]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out" / "junk"
CASES = {"baseline": {}, "too_large": {}, "probed": {"RENFANG_MAX_FILE_MB": "1024"}}


def junk_landing(megabytes: int) -> Path:
    """`<out>/landing/penalty_decisions/junk.csv` of `megabytes` MB: CSV-ish lines of words
    and numbers, no header a contract knows."""
    landing = OUT / f"landing_{megabytes}"
    path = landing / "penalty_decisions" / "junk.csv"
    if path.exists() and path.stat().st_size >= megabytes * 10**6:
        return landing
    path.parent.mkdir(parents=True, exist_ok=True)
    block = "".join(
        f"垃圾{i},junk,{i * 7919 % 104729},x{i % 97},无表头数据,{i:08d}\n" for i in range(20_000)
    ).encode("utf-8")
    with path.open("wb") as out:
        written = 0
        while written < megabytes * 10**6:
            out.write(block)
            written += len(block)
    return landing


def child(case: str, landing: Path) -> None:
    """Run `raw_penalty_decisions` once and print what happened as JSON (one line)."""
    import dagster as dg

    from pipelines.definitions import build_defs, execute_main
    from pipelines.resources import Landing, Warehouse
    from warehouse.connection import query

    work = OUT / f"run_{case}"
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.glob("warehouse.duckdb*"):
        stale.unlink()
    if case == "baseline":
        landing = work / "empty_landing"
        (landing / "penalty_decisions").mkdir(parents=True, exist_ok=True)
    warehouse = Warehouse(path=str(work / "warehouse.duckdb"), reports_dir=str(work / "reports"))
    defs = build_defs(warehouse=warehouse, landing=Landing(path=str(landing)))
    start = time.perf_counter()
    with dg.DagsterInstance.ephemeral() as instance:
        result = execute_main(
            defs, instance=instance, asset_selection=[dg.AssetKey("raw_penalty_decisions")]
        )
    seconds = time.perf_counter() - start
    with warehouse.connect(read_only=True) as con:
        rows = query(con, "SELECT count(*) n FROM raw_penalty_decisions").item()
        scan = query(con, "SELECT status, problem, size_bytes FROM landing_scan").rows()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    print(json.dumps({"success": result.success, "seconds": seconds, "peak": peak,
                      "raw_rows": rows, "scan": scan}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=300, help="size of the junk file in MB")
    parser.add_argument("--child", choices=sorted(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--landing", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.landing)
        return
    landing = junk_landing(args.mb)
    size = (landing / "penalty_decisions" / "junk.csv").stat().st_size
    print(f"junk file: {size / 10**6:,.0f} MB  ({landing / 'penalty_decisions' / 'junk.csv'})")
    peaks = {}
    for case, env in CASES.items():
        out = (
            subprocess.run(
                [sys.executable, __file__, "--child", case, "--landing", str(landing)],
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        figures = json.loads(out)
        peaks[case] = figures["peak"]
        scan = ", ".join(f"{s} {p or ''}".strip() for s, p, _ in figures["scan"]) or "no files"
        print(
            f"{case:10s} {figures['seconds']:6.1f} s   peak RSS {figures['peak'] / 2**30:5.2f} GB"
            f"   raw rows {figures['raw_rows']:>9,d}   scan: {scan}"
        )
    for case in ("too_large", "probed"):
        extra = peaks[case] - peaks["baseline"]
        verdict = "met" if peaks[case] < 2**30 else "MISSED"
        print(
            f"{case}: peak {peaks[case] / 2**30:.2f} GB (+{extra / 2**20:,.0f} MB over the "
            f"baseline) — target < 1 GB: {verdict}"
        )


if __name__ == "__main__":
    main()
