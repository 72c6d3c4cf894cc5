"""The short report `renfang run` prints: what was read, kept and rejected, and where it went.

Read back from the warehouse (the ingestion log of this run) rather than from memory, so the
summary shows what was actually committed.
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
import polars as pl

from models.contracts import SOURCE_ORDER, default_contracts
from pipelines.credit_store import tier_mix
from pipelines.resources import Warehouse, _table_exists, query


def print_run_summary(
    result: dg.ExecuteInProcessResult, warehouse: Warehouse, echo: Callable[[str], object]
) -> None:
    run_id = result.run_id
    with warehouse.connect(read_only=True) as con:
        log = query(
            con,
            "SELECT source, count(*) AS files, sum(rows_read)::BIGINT AS read, "
            "sum(rows_accepted)::BIGINT AS accepted, "
            "sum(rows_quarantined)::BIGINT AS quarantined, "
            "sum(rows_collapsed)::BIGINT AS collapsed, "
            "count(*) FILTER (status <> 'ok') AS bad_files "
            "FROM ingestion_log WHERE run_id = ? GROUP BY source",
            [run_id],
        )
    titles = {n: s.title_zh for n, s in default_contracts().sources.items()}
    order = {name: i for i, name in enumerate(SOURCE_ORDER)}
    log = log.sort(pl.col("source").replace_strict(order, default=99))
    echo("")
    echo(
        f"{'source':22s} {'files':>5s} {'read':>9s} {'accepted':>9s} {'quarant.':>9s} "
        f"{'collapsed':>9s}  "
    )
    for row in log.iter_rows(named=True):
        bad = (
            f"  ({row['bad_files']} file(s) rejected/unreadable/empty)" if row["bad_files"] else ""
        )
        echo(
            f"{row['source']:22s} {row['files']:>5d} {row['read']:>9,d} {row['accepted']:>9,d} "
            f"{row['quarantined']:>9,d} {row['collapsed']:>9,d}  {titles.get(row['source'], '')}"
            f"{bad}"
        )
    if not log.is_empty():
        t = log.select(pl.col("read", "accepted", "quarantined", "collapsed").sum()).row(0)
        echo(f"{'total':22s} {'':>5s} {t[0]:>9,d} {t[1]:>9,d} {t[2]:>9,d} {t[3]:>9,d}")
    checks = result.get_asset_check_evaluations()
    failed = [c for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
    warned = [c for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.WARN]
    echo("")
    echo(
        f"quality checks: {len(checks) - len(failed)}/{len(checks)} passed"
        f"{f' ({len(warned)} with warnings)' if warned else ''}"
    )
    for c in [*failed, *warned]:
        level = "FAILED" if c in failed else "WARN"
        echo(f"  {level} {c.asset_key.to_user_string()}:{c.check_name}")
    with warehouse.connect(read_only=True) as con:
        latest = (
            con.execute("SELECT max(as_of) FROM credit_scores").fetchall()[0][0]
            if _table_exists(con, "credit_scores")
            else None
        )
        if latest:
            echo("")
            print_tier_mix(tier_mix(con, latest), latest, echo)
    echo("")
    echo(f"warehouse: {warehouse.file}")
    echo(f"reports:   {warehouse.reports}  (review_report.xlsx, gx_docs/index.html)")
    echo(f"run:       {run_id}  ({'success' if result.success else 'FAILED'})")


TIERS = ("A", "B", "C", "D")


def print_tier_mix(mix: pl.DataFrame, as_of: object, echo: Callable[[str], object]) -> None:
    """Firms per tier and firm type (A 守信 · B 基本守信 · C 失信风险较高 · D 严重失信)."""
    echo(f"tier mix as of {as_of}   (A 守信 · B 基本守信 · C 失信风险较高 · D 严重失信)")
    if mix.is_empty():
        echo("  no scores")
        return
    for tier in TIERS:
        if tier not in mix.columns:
            mix = mix.with_columns(pl.lit(0).alias(tier))
    echo(f"  {'firm_type':22s}" + "".join(f"{t:>7s}" for t in TIERS) + f"{'total':>8s}")
    for row in mix.sort("firm_type").iter_rows(named=True):
        counts = [int(row[t]) for t in TIERS]
        echo(
            f"  {row['firm_type']:22s}" + "".join(f"{c:>7d}" for c in counts) + f"{sum(counts):>8d}"
        )
    totals = [int(mix[t].sum()) for t in TIERS]
    echo(f"  {'total':22s}" + "".join(f"{c:>7d}" for c in totals) + f"{sum(totals):>8d}")
