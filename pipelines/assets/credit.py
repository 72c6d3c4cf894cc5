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

from models.objections import objection_deadlines as objection_deadlines_of
from models.periods import as_of_dates
from models.rules import default_rule_set
from models.scoring import unexplained_scores
from pipelines.assets.ingestion import WRITER_POOL, full_rebuild
from pipelines.resources import Landing, Rules, Warehouse
from warehouse.catalogue import schema_of
from warehouse.connection import query
from warehouse.credit import (
    RECORD_SOURCES,
    ensure_official,
    official_rules,
    read_reasons,
    update_disclosures,
    update_records,
    update_scores,
    update_spans,
    update_statuses,
    update_tier_changes,
    update_tier_paths,
)
from warehouse.tables import replace_table

ENGINE_VERSION = "credit-engine-2"
"""Bumped when the engine's code changes what it computes (Dagster marks assets stale)."""

REASON_CHECK_COLUMNS = ("uscc", "as_of", "points")
"""What `unexplained_scores` reads of the reasons (not their texts and record ids)."""

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
def credit_records(context: dg.AssetExecutionContext, warehouse: Warehouse, rules: Rules):
    """One row per scored fact (segment) derived from penalty decisions, correction notices,
    circulars, commendations and inspection outcomes by the rule set: severity, points,
    validity window, evidence document, veto. Record ids are stable across runs.

    Derived again only for the firms whose clean rows changed since the last run (every
    firm on a first run, with `--full`, or when the official rule sets changed), one part
    (a source's documents of a slice of firms) at a time (`warehouse.credit`)."""
    rule_set = rules.load()
    with warehouse.transaction() as con:
        official = ensure_official(con, rule_set, explicit=rules.explicit)
        update = update_records(con, official, full=full_rebuild(context))
        by_rule = query(
            con, "SELECT rule, count(*) AS n FROM credit_records GROUP BY rule ORDER BY rule"
        )
        unevidenced = query(
            con,
            "SELECT count(*) OVER () AS n, evidence_doc_no FROM credit_records "
            "WHERE polarity = 'bad' AND NOT evidence_valid "
            "ORDER BY uscc, record_id, segment LIMIT 5",
        )
    unevidenced_count = int(unevidenced["n"][0]) if unevidenced.height else 0
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(by_rule["n"].sum()),
            **_mode(update.full, update.firms),
            "rule_set_versions": [r.version for _, r in official.adopted],
            "records_by_rule": dict(zip(by_rule["rule"], by_rule["n"], strict=True)),
            "unevidenced_bad_records": unevidenced_count,
        }
    )
    yield dg.AssetCheckResult(
        check_name="bad_records_have_evidence",
        passed=unevidenced_count == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "unevidenced": unevidenced_count,
            "examples": unevidenced["evidence_doc_no"].to_list(),
        },
    )


def _mode(full: bool, firms: int | None) -> dict[str, str | int]:
    """Metadata: whether the step rebuilt everything or the firms whose inputs changed."""
    if full:
        return {"mode": "full"}
    return {"mode": "incremental", "firms_derived_again": firms or 0}


@dg.asset(
    group_name="credit",
    kinds={"duckdb", "polars"},
    pool=WRITER_POOL,
    code_version=ENGINE_VERSION,
    deps=["credit_records", "credit_cases"],
)
def credit_record_status(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> dg.MaterializeResult:
    """Status history of records from objections (异议) and credit repair (信用修复): disputed,
    revoked, corrected, repaired, repair refused — each with its dates and case. Nothing is
    deleted: a repaired record keeps its row and stops counting from the approval date."""
    with warehouse.transaction() as con:
        update = update_statuses(con, official_rules(con), full=full_rebuild(context))
        counts = query(
            con, "SELECT status, count(*) AS len FROM credit_record_status GROUP BY 1 ORDER BY 1"
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(counts["len"].sum()),
            **_mode(update.full, update.firms),
            "by_status": dict(zip(counts["status"], counts["len"], strict=True)),
        }
    )


@dg.asset(
    group_name="credit",
    kinds={"duckdb", "polars"},
    pool=WRITER_POOL,
    code_version=ENGINE_VERSION,
    deps=["credit_records", "credit_record_status", "firms"],
)
def score_reasons(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Every record that moves a firm's score, with its signed points, multiplier, rule and
    evidence document number — stored as spans of as-of dates (`score_reason_spans`, one row
    per record piece) and read through the view `score_reasons` (firm × as-of × record) for
    every date in `credit_scores`."""
    with warehouse.transaction() as con:
        update = update_spans(con, official_rules(con), full=full_rebuild(context))
        [(rows,)] = con.execute("SELECT count(*) FROM score_reason_spans").fetchall()
    return dg.MaterializeResult(
        metadata={"dagster/row_count": int(rows), **_mode(update.full, update.firms)}
    )


@dg.asset(
    group_name="credit",
    kinds={"duckdb", "polars"},
    pool=WRITER_POOL,
    code_version=ENGINE_VERSION,
    deps=["credit_records", "credit_record_status", "firms", "score_reasons"],
    partitions_def=SCORE_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[
        dg.AssetCheckSpec(
            "reasons_add_up",
            asset="credit_scores",
            blocking=True,
            description="On the first and last date of the run: every firm's score = "
            "clamp(base + min(Σ bonuses, cap) − Σ deductions) from its reasons.",
        )
    ],
)
def credit_scores(
    context: dg.AssetExecutionContext, warehouse: Warehouse, landing: Landing, rules: Rules
):
    """Score and tier of every firm in the directory as of each month end (the running
    month: as of the processing date — the latest scores), point-in-time: only what was
    collected by then, objections and repairs as decided by then."""
    months = [date.fromisoformat(key) for key in context.partition_keys]
    dates = as_of_dates(months, landing.processing_date)
    with warehouse.transaction() as con:
        official = official_rules(con)
        update = update_scores(con, official, dates, full=full_rebuild(context))
    scores = update.scores
    checked, broken_parts = [], []
    with warehouse.connect() as con:
        for rule_set, in_force in official.partition(dates):
            ends = sorted({in_force[0], in_force[-1]})
            checked += ends
            reasons = read_reasons(con, ends, REASON_CHECK_COLUMNS)
            mine = query(
                con,
                "SELECT * FROM credit_scores WHERE as_of IN (SELECT unnest(?::DATE[]))",
                [ends],
            )
            broken_parts.append(unexplained_scores(mine, reasons, rule_set))
    broken = pl.concat(broken_parts) if broken_parts else pl.DataFrame()
    with warehouse.connect() as con:
        tiers = query(
            con,
            "SELECT tier, count(*) AS len FROM credit_scores WHERE as_of = ? GROUP BY 1 ORDER BY 1",
            [dates[-1] if dates else None],
        )
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": scores.height,
            "mode": "full" if update.firms is None else "incremental",
            "firms_rescored_on_stored_dates": update.firms if update.firms is not None else -1,
            "as_of_dates": len(dates),
            "latest_as_of": str(dates[-1]) if dates else "",
            "latest_tiers": dict(zip(tiers["tier"], tiers["len"], strict=True)),
            "rule_set_versions": sorted(scores["rule_set_version"].unique().to_list()),
        },
    )
    yield dg.AssetCheckResult(
        check_name="reasons_add_up",
        passed=broken.is_empty(),
        metadata={
            "dates_checked": [str(d) for d in checked],
            "mismatches": broken.height,
            "examples": str(broken.head(5).to_dicts()),
        },
    )


@dg.asset(
    name="tier_changes",
    group_name="credit",
    kinds={"duckdb", "polars"},
    pool=WRITER_POOL,
    code_version=ENGINE_VERSION,
    deps=["credit_scores", "score_reasons"],
)
def tier_changes_asset(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> dg.MaterializeResult:
    """Firms whose tier changed between consecutive as-of dates, with the records that
    started or stopped counting between them (the 'what changed and why' of the dashboard)."""
    with warehouse.transaction() as con:
        update = update_tier_changes(con, official_rules(con).latest, full=full_rebuild(context))
        [(rows,)] = con.execute("SELECT count(*) FROM tier_changes").fetchall()
    return dg.MaterializeResult(
        metadata={"dagster/row_count": int(rows), **_mode(update.full, update.firms)}
    )


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
def tier_paths_asset(
    context: dg.AssetExecutionContext, warehouse: Warehouse, landing: Landing, rules: Rules
):
    with warehouse.transaction() as con:
        rule_set = official_rules(con).for_date(landing.processing_date) or rules.load()
        update = update_tier_paths(
            con, rule_set, landing.processing_date, full=full_rebuild(context)
        )
        [(paths, improving)] = con.execute(
            "SELECT count(*), count(next_tier_on) FROM tier_paths"
        ).fetchall()
        [(options,)] = con.execute("SELECT count(*) FROM repair_options").fetchall()
    yield dg.MaterializeResult(
        asset_key="tier_paths",
        metadata={
            "dagster/row_count": int(paths),
            "firms_improving_by_expiry": int(improving),
            **_mode(update.full, update.firms),
        },
    )
    yield dg.MaterializeResult(
        asset_key="repair_options", metadata={"dagster/row_count": int(options)}
    )


@dg.asset(
    group_name="credit",
    kinds={"duckdb", "polars"},
    pool=WRITER_POOL,
    code_version=ENGINE_VERSION,
    deps=["credit_cases", "credit_records"],
)
def objection_deadlines(
    warehouse: Warehouse, landing: Landing, rules: Rules
) -> dg.MaterializeResult:
    """Every objection (异议) with its decision deadline from the rule set in force when it
    was filed (`objection.decision_days`) and its state as of the processing date: open,
    overdue, decided, decided late. The centre's case page lists the open and overdue ones."""
    with warehouse.connect() as con:
        adopted = official_rules(con).adopted
        cases = query(con, "SELECT * FROM credit_cases")
    configured = rules.load()
    found = objection_deadlines_of(
        cases, adopted or ((configured.effective_from, configured),), landing.processing_date
    )
    with warehouse.transaction() as con:
        replace_table(con, "objection_deadlines", found, schema_of("objection_deadlines"))
    states = found.group_by("state").len().sort("state")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": found.height,
            "by_state": dict(zip(states["state"], states["len"], strict=True)),
        }
    )


@dg.asset(
    group_name="publish",
    kinds={"duckdb", "polars"},
    pool=WRITER_POOL,
    code_version=ENGINE_VERSION,
    deps=["penalty_decisions", "credit_record_status", "credit_cases"],
)
def penalty_disclosures(
    context: dg.AssetExecutionContext, warehouse: Warehouse, landing: Landing
) -> dg.MaterializeResult:
    """行政处罚信息公示: every penalty decision version with the day it entered the public
    feed (late ones — beyond 7 working days of the decision — flagged), the day it left it
    (end of its publication period by severity or its own 公示截止期, a repair, a revocation
    withdrawn within 3 working days or flagged late, a withdrawn file) and its open-objection
    suspensions. Decisions not to penalise are never published. The feed of any date is a
    filter on this table (`models.disclosure.feed_as_of`)."""
    with warehouse.transaction() as con:
        rules = official_rules(con).for_date(landing.processing_date)
        update = update_disclosures(con, rules, full=full_rebuild(context))
        [(rows, late, withdrawals_late)] = con.execute(
            "SELECT count(*), count(*) FILTER (late), count(*) FILTER (withdrawal_late) "
            "FROM penalty_disclosures"
        ).fetchall()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(rows),
            "late": int(late),
            "withdrawals_late": int(withdrawals_late),
            **_mode(update.full, update.firms),
        }
    )


def credit_assets() -> list[dg.AssetsDefinition]:
    return [
        credit_records,
        credit_record_status,
        score_reasons,
        credit_scores,
        tier_changes_asset,
        tier_paths_asset,
        objection_deadlines,
        penalty_disclosures,
    ]
