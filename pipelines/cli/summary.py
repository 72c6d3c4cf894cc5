"""The short report `renfang run` prints: what was read, kept and rejected, and where it went.

Read back from the warehouse (the ingestion log of this run) rather than from memory, so the
summary shows what was actually committed.
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
import polars as pl

from models.conflicts import KINDS
from models.contracts import SOURCE_ORDER
from models.labels import default_labels, pad
from models.rules import RuleSet, default_rule_set
from pipelines.resources import Warehouse
from warehouse.connection import query, table_exists
from warehouse.credit import official_rules, tier_mix

SOURCE_WIDTH = 24
COUNT_COLUMNS = (
    ("files", "文件", "files"),
    ("read", "读取", "read"),
    ("accepted", "接收", "accepted"),
    ("quarantined", "隔离", "quarantined"),
    ("collapsed", "合并重复", "collapsed"),
)


def print_run_summary(
    result: dg.ExecuteInProcessResult,
    warehouse: Warehouse,
    echo: Callable[[str], object],
    rules: RuleSet | None = None,
) -> None:
    """Rows per source (by name, Chinese first), the checks, the tier mix by firm type, the
    round drafted, and where everything went."""
    run_id = result.run_id
    labels = default_labels()
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
    order = {name: i for i, name in enumerate(SOURCE_ORDER)}
    log = log.sort(pl.col("source").replace_strict(order, default=99))
    echo("")
    echo(
        pad("数据来源", SOURCE_WIDTH)
        + "".join(pad(zh, 12, right=True) for _, zh, _ in COUNT_COLUMNS)
    )
    echo(pad("source", SOURCE_WIDTH) + "".join(f"{en:>12s}" for _, _, en in COUNT_COLUMNS))
    for row in log.iter_rows(named=True):
        bad = (
            f"  （{row['bad_files']} 个文件拒收、无法读取或为空 / rejected, unreadable or empty）"
            if row["bad_files"]
            else ""
        )
        name = labels.code("table", row["source"])
        counts = "".join(f"{row[key]:>12,d}" for key, _, _ in COUNT_COLUMNS)
        echo(f"{pad(name, SOURCE_WIDTH)}{counts}{bad}")
    if not log.is_empty():
        t = log.select(pl.col("read", "accepted", "quarantined", "collapsed").sum()).row(0)
        echo(pad("合计 total", SOURCE_WIDTH) + " " * 12 + "".join(f"{v:>12,d}" for v in t))
    checks = result.get_asset_check_evaluations()
    failed = [c for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]
    warned = [c for c in checks if not c.passed and c.severity == dg.AssetCheckSeverity.WARN]
    echo("")
    echo(
        f"质量检查 quality checks: {len(checks) - len(failed)}/{len(checks)} 通过 passed"
        f"{f'（{len(warned)} 项警告 with warnings）' if warned else ''}"
    )
    for c in [*failed, *warned]:
        level = "未通过 FAILED" if c in failed else "警告 WARN"
        table = labels.code("table", c.asset_key.to_user_string())
        echo(f"  {level} {table}：{labels.code('check', c.check_name)}")
    print_conflicts(warehouse, echo)
    with warehouse.connect(read_only=True) as con:
        latest = (
            con.execute("SELECT max(as_of) FROM credit_scores").fetchall()[0][0]
            if table_exists(con, "credit_scores")
            else None
        )
        if latest:
            echo("")
            print_tier_mix(
                tier_mix(con, latest), latest, echo, official_rules(con).for_date(latest) or rules
            )
        if table_exists(con, "objection_deadlines"):
            states = dict(
                con.execute("SELECT state, count(*) FROM objection_deadlines GROUP BY 1").fetchall()
            )
            if states.get("open") or states.get("overdue"):
                echo(
                    f"异议办理中 {states.get('open', 0)} 件，已超期 {states.get('overdue', 0)} 件 "
                    f"/ objections open: {states.get('open', 0)}, overdue: "
                    f"{states.get('overdue', 0)} (renfang objections)"
                )
    print_model(warehouse, echo)
    print_derivation(result, echo)
    round_id = drawn_round_id(result)
    skipped = round_metadata(result, "draft_skipped")
    if skipped:
        echo("")
        echo(f"警告 草案未生成 / WARNING no draft round: {skipped}")
    elif round_id:
        echo("")
        kept = round_metadata(result, "draft_kept")
        if kept:
            echo(
                f"草案沿用 {kept} 所抽（仍在有效期内；重抽：renfang draw --round {round_id} "
                f"--seed N --draft）/ the draft drawn on {kept} is kept (still current; to "
                f"redraw: renfang draw --round {round_id} --seed N --draft)"
            )
        print_round(warehouse, round_id, echo)
    echo("")
    echo(f"warehouse: {warehouse.file}")
    echo(
        f"reports:   {warehouse.reports}  (评议报告.xlsx, 信用等级名单_*.xlsx, gx_docs/index.html)"
    )
    outcome = "成功 success" if result.success else "失败 FAILED"
    echo(f"run:       {run_id}  ({outcome})")


def print_model(warehouse: Warehouse, echo: Callable[[str], object]) -> None:
    """When the risk model was last trained and on data up to which day: the daily run does
    not train it (its own job: monthly, or `renfang retrain`)."""
    with warehouse.connect(read_only=True) as con:
        rows = (
            con.execute(
                "SELECT trained_at, cutoff, model_version FROM risk_model_versions "
                "WHERE role = 'primary' ORDER BY trained_at DESC LIMIT 1"
            ).fetchall()
            if table_exists(con, "risk_model_versions")
            else []
        )
    echo("")
    if not rows:
        echo(
            "风险模型 risk model: 尚未训练（按月自动训练，或运行 renfang retrain）/ not trained "
            "yet (monthly by its schedule, or `renfang retrain`)"
        )
        return
    trained_at, data_end, version = rows[0]
    echo(
        f"风险模型 risk model: {version}，上次训练 last trained {trained_at:%Y-%m-%d %H:%M} UTC，"
        f"数据截至 data up to {data_end}（每月重新训练，或运行 renfang retrain / retrained "
        "monthly, or `renfang retrain`）"
    )


CONFLICTS_SHOWN = 5


def print_conflicts(warehouse: Warehouse, echo: Callable[[str], object]) -> None:
    """Open conflicts by kind, with a few examples (all of them: the data-quality page)."""
    with warehouse.connect(read_only=True) as con:
        if not table_exists(con, "open_conflicts"):
            return
        conflicts = query(con, "SELECT * FROM open_conflicts")
    if conflicts.is_empty():
        return
    echo("")
    echo(f"待处理冲突 / open conflicts: {conflicts.height}")
    for (kind,), rows in conflicts.group_by("kind", maintain_order=True):
        zh, en = KINDS.get(str(kind), (str(kind), str(kind)))
        echo(f"  {zh} / {en}: {rows.height}")
        for row in rows.head(CONFLICTS_SHOWN).iter_rows(named=True):
            where = f"{row['file']}#{row['row_number']}"
            detail = str(row["detail"] or "").split(" / ")[0]  # the Chinese half; all: the page
            detail = detail if len(detail) <= 80 else detail[:79] + "…"
            echo(f"    {row['key']}  {detail}  ({where})")


TIERS = ("A", "B", "C", "D")
TYPE_WIDTH = 26


def print_tier_mix(
    mix: pl.DataFrame,
    as_of: object,
    echo: Callable[[str], object],
    rules: RuleSet | None = None,
) -> None:
    """Firms per tier and firm type, the firm types by name, with the tiers' published labels
    (risk classes, e.g. A 信用风险低 · B 信用风险一般 · C 信用风险较高 · D 信用风险高)."""
    rules = rules or default_rule_set()
    tiers = [t.tier for t in rules.tiers]
    legend = " · ".join(f"{t.tier} {rules.public_label(t.tier)}" for t in rules.tiers)
    echo(f"信用等级分布 tier mix as of {as_of}   ({legend})")
    if mix.is_empty():
        echo("  尚无得分 / no scores")
        return
    for tier in tiers:
        if tier not in mix.columns:
            mix = mix.with_columns(pl.lit(0).alias(tier))
    labels = default_labels()
    echo(
        "  " + pad("单位类型 firm type", TYPE_WIDTH)
        + "".join(f"{t:>7s}" for t in tiers) + pad("合计 total", 12, right=True)
    )  # fmt: skip
    order = {code: i for i, code in enumerate(labels.firm_types)}
    rows = mix.sort(pl.col("firm_type").replace_strict(order, default=99), "firm_type")
    for row in rows.iter_rows(named=True):
        counts = [int(row[t]) for t in tiers]
        name = labels.firm_type(row["firm_type"])
        echo(
            "  " + pad(name, TYPE_WIDTH) + "".join(f"{c:>7d}" for c in counts)
            + f"{sum(counts):>12d}"
        )  # fmt: skip
    totals = [int(mix[t].sum()) for t in tiers]
    echo(
        "  " + pad("合计 total", TYPE_WIDTH) + "".join(f"{c:>7d}" for c in totals)
        + f"{sum(totals):>12d}"
    )  # fmt: skip


def round_metadata(result: dg.ExecuteInProcessResult, key: str) -> str | None:
    """One metadata value of the run's `sampling_rounds` materialization, if any."""
    return asset_metadata(result, "sampling_rounds", key)


def asset_metadata(result: dg.ExecuteInProcessResult, asset: str, key: str) -> str | None:
    """One metadata value of the run's materialization of `asset`, if any."""
    for event in result.get_asset_materialization_events():
        data = event.step_materialization_data
        materialization = data.materialization if data else None
        if materialization and materialization.asset_key == dg.AssetKey(asset):
            value = materialization.metadata.get(key)
            return str(value.value) if value is not None else None
    return None


def print_derivation(result: dg.ExecuteInProcessResult, echo: Callable[[str], object]) -> None:
    """Whether the run rebuilt the credit layer for every firm or derived it again only for
    the firms its new files, acts and date touched (`credit_records`' metadata)."""
    mode = asset_metadata(result, "credit_records", "mode")
    if mode == "full":
        echo("派生方式 derivation: 全量重建，全部企业 / full rebuild, every firm")
    elif mode == "incremental":
        firms = int(asset_metadata(result, "credit_records", "firms_derived_again") or 0)
        echo(
            f"派生方式 derivation: 增量，{firms:,d} 家企业重新计算 / incremental, {firms:,d} "
            "firms derived again (renfang run --full: everything from the archive)"
        )


def drawn_round_id(result: dg.ExecuteInProcessResult) -> str | None:
    """The round the run drew (from the `sampling_rounds` materialization), if any."""
    return round_metadata(result, "round_id")


def print_round(warehouse: Warehouse, round_id: str, echo: Callable[[str], object]) -> None:
    """Seed, input hashes and files of a stored round: what the centre publishes."""
    import json

    from warehouse.connection import table_exists
    from warehouse.round_exports import marked, round_folder

    with warehouse.connect(read_only=True) as con:
        rows = query(con, "SELECT * FROM sampling_rounds WHERE round_id = ?", [round_id])
        facts = (
            query(con, "SELECT * FROM sampling_round_facts WHERE round_id = ?", [round_id])
            if table_exists(con, "sampling_round_facts")
            else None
        )
        tiers = (
            query(con, "SELECT * FROM sampling_tiers WHERE round_id = ? ORDER BY tier", [round_id])
            if table_exists(con, "sampling_tiers")
            else None
        )
    if rows.is_empty():
        return
    r = rows.row(0, named=True)
    f = facts.row(0, named=True) if facts is not None and facts.height else None
    labels = default_labels()
    status = " ".join(
        (
            labels.code("round_status", r["status"]),
            labels.code("round_status", r["status"], "en").lower(),
        )
    )
    office = f" · {f['office_name']}" if f else ""
    echo(
        f"round {r['round_id']} ({status}{office}): window {r['window_start']} — "
        f"{r['window_end']}, tiers as of {r['tier_as_of']}"
    )
    echo(
        f"  seed {r['seed']} · algorithm {r['algorithm_version']} · eligible {r['pool_size']:,d} "
        f"· drawn {r['drawn']:,d} + control {r['control']:,d}"
        f" · previous round {r['previous_round_id'] or '—'}"
    )
    if f:
        excluded = json.loads(f["excluded_by_reason"] or "{}")
        if excluded:
            listed = " · ".join(
                f"{labels.code('exclusion_reason', k, 'en').lower()} {n}"
                for k, n in excluded.items()
            )
            echo(f"  excluded   {r['excluded']:,d}: {listed}")
        first = f["first_inspection_day"]
        echo(f"  calendar   {f['calendar_source']} · first inspection day {first}")
        for note in (f["calendar_notes"] or "").splitlines():
            echo(f"  calendar   {note}")
    if tiers is not None and tiers.height:
        listed = " · ".join(
            f"{t['tier']} {t['probability']:.1%} ({t['drawn']}/{t['pool']})"
            for t in tiers.iter_rows(named=True)
        )
        echo(f"  inclusion probability by class: {listed}")
    for name in ("firms", "inspectors", "conflicts", "previous"):
        echo(f"  {name + ' sha256':20s} {r[name + '_sha256']}")
    echo(f"  {'plan sha256':20s} {r['plan_sha256']}")
    folder = round_folder(warehouse.reports, r["round_id"])
    st = r["status"]
    files = ", ".join(
        marked(name, st)
        for name in (f"抽查计划_{round_id}.xlsx", f"公示_{round_id}.xlsx", "calendars/*.ics")
    )
    records = ", 检查记录/*.xlsx" if st == "published" else ""
    echo(f"  plan file  {r['plan_file']}")
    echo(f"  exports    {folder}  ({files}{records}, {marked('inputs/*.csv', st)})")
    echo(f"  verify     renfang verify-draw {r['plan_file']}")


def failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    """The cause of each failed step in one line (`pipelines.cli.progress.cause_of`)."""
    from pipelines.cli.progress import step_failures

    return [cause for _, cause in step_failures(result)]
