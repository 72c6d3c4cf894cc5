"""Credit layer: records, their status history, month-end scores and reasons, paths, changes.

What belongs here: wiring `models.credit_records`, `models.record_status`, `models.scoring`,
`models.tier_paths` and `models.tier_changes` into assets that read the clean tables and write
the warehouse (one transaction per asset), plus the checks on their outputs. Scores are
monthly-partitioned (backfillable; a range runs in one pass); the running month is scored as
of the processing date, which makes it the "latest" scores. What does not: any rule (models).
"""

from datetime import date

import dagster as dg
import polars as pl

from models.credit_records import derive_credit_records
from models.credit_schema import (
    CREDIT_RECORD_SCHEMA,
    RECORD_STATUS_SCHEMA,
    REPAIR_OPTION_SCHEMA,
    TIER_CHANGE_SCHEMA,
    TIER_PATH_SCHEMA,
)
from models.record_status import record_status_history
from models.rules import RuleSet, default_rule_set
from models.scoring import Scores
from models.tier_changes import tier_changes
from models.tier_paths import tier_paths
from pipelines.assets.ingestion import WRITER_POOL
from pipelines.credit_store import (
    RECORD_SOURCES,
    as_of_dates,
    compute_scores,
    read_engine_inputs,
    read_sources,
    store_scores,
)
from pipelines.resources import Landing, Rules, Warehouse, query
from pipelines.warehouse import replace_table

ENGINE_VERSION = "credit-engine-1"
"""Bumped when the engine's code changes what it computes (Dagster marks assets stale)."""

SCORE_PARTITIONS = dg.MonthlyPartitionsDefinition(
    start_date=default_rule_set().effective_from.isoformat(),
    end_offset=1,  # include the running month: its scores are the latest ones
)


@dg.asset(
    group_name="credit",
    kinds={"duckdb", "polars"},
    pool=WRITER_POOL,
    code_version=ENGINE_VERSION,
    deps=list(RECORD_SOURCES),
    check_specs=[
        dg.AssetCheckSpec(
            "bad_records_have_evidence",
            asset="credit_records",
            description="Every bad record carries a valid document number (annual review "
            "rule); those that do not are listed and never counted.",
        )
    ],
)
def credit_records(warehouse: Warehouse, rules: Rules):
    """One row per scored fact (segment) derived from penalty decisions, correction notices,
    circulars, commendations and inspection outcomes by the rule set: severity, points,
    validity window, evidence document, veto. Record ids are stable across runs."""
    rule_set = rules.load()
    with warehouse.connect() as con:
        sources = read_sources(con)
    records = derive_credit_records(sources, rule_set)
    with warehouse.transaction() as con:
        replace_table(con, "credit_records", records, CREDIT_RECORD_SCHEMA)
    unevidenced = records.filter((pl.col("polarity") == "bad") & ~pl.col("evidence_valid"))
    by_rule = records.group_by("rule").len().sort("rule")
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": records.height,
            "rule_set_version": rule_set.version,
            "records_by_rule": dict(zip(by_rule["rule"], by_rule["len"], strict=True)),
            "unevidenced_bad_records": unevidenced.height,
        }
    )
    yield dg.AssetCheckResult(
        check_name="bad_records_have_evidence",
        passed=unevidenced.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "unevidenced": unevidenced.height,
            "examples": unevidenced.head(5)["evidence_doc_no"].to_list(),
        },
    )


@dg.asset(
    group_name="credit",
    kinds={"duckdb", "polars"},
    pool=WRITER_POOL,
    code_version=ENGINE_VERSION,
    deps=["credit_records", "credit_cases"],
)
def credit_record_status(warehouse: Warehouse, rules: Rules) -> dg.MaterializeResult:
    """Status history of records from objections (异议) and credit repair (信用修复): disputed,
    revoked, corrected, repaired, repair refused — each with its dates and case. Nothing is
    deleted: a repaired record keeps its row and stops counting from the approval date."""
    with warehouse.connect() as con:
        records = query(con, "SELECT * FROM credit_records")
        cases = query(con, "SELECT * FROM credit_cases")
    statuses = record_status_history(records, cases, rules.load())
    with warehouse.transaction() as con:
        replace_table(con, "credit_record_status", statuses, RECORD_STATUS_SCHEMA)
    counts = statuses.group_by("status").len().sort("status")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": statuses.height,
            "by_status": dict(zip(counts["status"], counts["len"], strict=True)),
        }
    )


@dg.multi_asset(
    outs={
        "credit_scores": dg.AssetOut(
            group_name="credit",
            kinds={"duckdb", "polars"},
            code_version=ENGINE_VERSION,
            description="Score and tier of every firm in the directory as of each month end "
            "(the running month: as of the processing date), point-in-time: only what was "
            "collected by then, objections and repairs as decided by then.",
        ),
        "score_reasons": dg.AssetOut(
            group_name="credit",
            kinds={"duckdb", "polars"},
            code_version=ENGINE_VERSION,
            description="Every record that moved each firm's score on each as-of date, with "
            "its signed points, multiplier, rule and evidence document number.",
        ),
    },
    deps=["credit_records", "credit_record_status", "firms"],
    partitions_def=SCORE_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WRITER_POOL,
    check_specs=[
        dg.AssetCheckSpec(
            "reasons_add_up",
            asset="credit_scores",
            blocking=True,
            description="For every firm and date: score = clamp(base + min(Σ bonuses, cap) "
            "− Σ deductions) from its reasons.",
        )
    ],
)
def credit_scores(
    context: dg.AssetExecutionContext, warehouse: Warehouse, landing: Landing, rules: Rules
):
    rule_set = rules.load()
    months = [date.fromisoformat(key) for key in context.partition_keys]
    dates = as_of_dates(months, landing.processing_date)
    with warehouse.connect() as con:
        inputs = read_engine_inputs(con)
    scores = compute_scores(inputs, rule_set, dates)
    with warehouse.transaction() as con:
        store_scores(con, scores, dates)
    broken = _reasons_not_adding_up(scores, rule_set)
    tiers = scores.scores.group_by("tier").len().sort("tier")
    yield dg.MaterializeResult(
        asset_key="credit_scores",
        metadata={
            "dagster/row_count": scores.scores.height,
            "as_of_dates": len(dates),
            "latest_as_of": str(dates[-1]) if dates else "",
            "tiers_all_dates": dict(zip(tiers["tier"], tiers["len"], strict=True)),
            "rule_set_version": rule_set.version,
        },
    )
    yield dg.MaterializeResult(
        asset_key="score_reasons", metadata={"dagster/row_count": scores.reasons.height}
    )
    yield dg.AssetCheckResult(
        check_name="reasons_add_up",
        asset_key="credit_scores",
        passed=broken.is_empty(),
        metadata={
            "firm_dates_checked": scores.scores.height,
            "mismatches": broken.height,
            "examples": str(broken.head(5).to_dicts()),
        },
    )


def _reasons_not_adding_up(scores: Scores, rule_set: RuleSet) -> pl.DataFrame:
    """Firm-dates whose stored score differs from what their reasons imply."""
    sums = scores.reasons.group_by("uscc", "as_of").agg(
        bonus=pl.col("points").filter(pl.col("points") > 0).sum(),
        deduction=pl.col("points").filter(pl.col("points") < 0).sum(),
    )
    implied = (
        pl.lit(rule_set.score.base)
        + pl.min_horizontal(pl.col("bonus").fill_null(0), pl.lit(rule_set.score.bonus_cap))
        + pl.col("deduction").fill_null(0)
    ).clip(rule_set.score.min, rule_set.score.max)
    joined = scores.scores.join(sums, on=["uscc", "as_of"], how="left")
    return joined.filter((pl.col("score") - implied).abs() > 1e-9).select(
        "uscc", "as_of", "score", implied.alias("implied")
    )


@dg.asset(
    name="tier_changes",
    group_name="credit",
    kinds={"duckdb", "polars"},
    pool=WRITER_POOL,
    code_version=ENGINE_VERSION,
    deps=["credit_scores", "score_reasons"],
)
def tier_changes_asset(warehouse: Warehouse) -> dg.MaterializeResult:
    """Firms whose tier changed between consecutive as-of dates, with the records that
    started or stopped counting between them (the 'what changed and why' of the dashboard)."""
    with warehouse.connect() as con:
        scores = query(con, "SELECT * FROM credit_scores")
        reasons = query(con, "SELECT uscc, as_of, record_id, points FROM score_reasons")
    changes = tier_changes(scores, reasons)
    with warehouse.transaction() as con:
        replace_table(con, "tier_changes", changes, TIER_CHANGE_SCHEMA)
    return dg.MaterializeResult(metadata={"dagster/row_count": changes.height})


@dg.multi_asset(
    outs={
        "tier_paths": dg.AssetOut(
            group_name="credit",
            kinds={"duckdb", "polars"},
            code_version=ENGINE_VERSION,
            description="For each firm, as of the processing date: the next better tier and "
            "the date it is reached if nothing new happens (records expiring).",
        ),
        "repair_options": dg.AssetOut(
            group_name="credit",
            kinds={"duckdb", "polars"},
            code_version=ENGINE_VERSION,
            description="Bad records a credit repair (信用修复) could clear sooner, from when, "
            "and the tier the firm would have without them.",
        ),
    },
    deps=["credit_records", "credit_record_status", "firms"],
    pool=WRITER_POOL,
    name="tier_paths_and_repair_options",
)
def tier_paths_asset(warehouse: Warehouse, landing: Landing, rules: Rules):
    with warehouse.connect() as con:
        inputs = read_engine_inputs(con)
    paths, options = tier_paths(
        inputs.records, inputs.statuses, inputs.firms, rules.load(), landing.processing_date
    )
    with warehouse.transaction() as con:
        replace_table(con, "tier_paths", paths, TIER_PATH_SCHEMA)
        replace_table(con, "repair_options", options, REPAIR_OPTION_SCHEMA)
    improving = paths.filter(pl.col("next_tier_on").is_not_null()).height
    yield dg.MaterializeResult(
        asset_key="tier_paths",
        metadata={"dagster/row_count": paths.height, "firms_improving_by_expiry": improving},
    )
    yield dg.MaterializeResult(
        asset_key="repair_options", metadata={"dagster/row_count": options.height}
    )


def credit_assets() -> list[dg.AssetsDefinition]:
    return [
        credit_records,
        credit_record_status,
        credit_scores,
        tier_changes_asset,
        tier_paths_asset,
    ]
