"""Reading a round's inputs from the warehouse and storing its plan.

What belongs here: the SQL that gathers the directory, the tiers as of the round's
`tier_as_of` with the outside evaluations read point in time (the supervision class), the
other published rounds (their drawn firms and inspector bookings: one calendar), the open
findings, the office's inspector roster, recusals and the previous round for
`models.sampling.eligibility` / `models.sampling.round`; the writes that replace one round in
`sampling_rounds`, `sampling_strata`, `sampling_draws`, `sampling_assignments`,
`sampling_round_facts` and `sampling_tiers` inside one transaction. Shared by the Dagster
round asset and the CLI. What does not: any rule of the draw or of replacing a round
(models.sampling), file exports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb
import polars as pl

from models.divisions import CITY_LEVEL
from models.engine import scores_of
from models.rules import RuleSet
from models.sampling.calendar import SuppliedCalendar
from models.sampling.canonical import INPUT_SCHEMAS, RoundInputs
from models.sampling.draw import monotone_in_tier
from models.sampling.eligibility import (
    PLANNED_SCHEMA,
    EligiblePool,
    eligible_pool,
    history_since,
    open_findings,
    previous_pairs,
    previous_round,
)
from models.sampling.feedback import TRACKING_SCHEMA, inspection_tracking
from models.sampling.params import RoundParams
from models.sampling.replacement import STATUSES
from models.sampling.round import RoundPlan
from models.supervision import supervision_classes
from warehouse.catalogue import SAMPLING_TABLES, schema_of
from warehouse.connection import query, table_exists
from warehouse.credit import FIRMS_SQL, official_rules, read_reason_spans
from warehouse.tables import ensure_tables, replace_slice


@dataclass(frozen=True)
class GatheredRound:
    """What the warehouse holds for a round: the draw's inputs and the people behind ids."""

    inputs: RoundInputs
    excluded: pl.DataFrame
    previous_round_id: str | None
    firms: pl.DataFrame  # uscc, name, firm_type, district, address, contact, phone
    inspectors: pl.DataFrame  # the whole roster with name, unit, certificate_no
    eligible: EligiblePool | None = None


def gather_round(
    con: duckdb.DuckDBPyConnection, params: RoundParams, rules: RuleSet
) -> GatheredRound:
    firms = query(
        con,
        "SELECT uscc, name, firm_type, district, status, address, contact, phone FROM firms",
    )
    # of a national history (millions of outcomes) only what the pool looks at
    # (`history_since`: the recent ones and those of the published rounds), each firm's latest
    # for the open findings and each round's first for the previous round; who inspected only
    # for the previous round's rotation (below): the list column is most of a table's bytes
    of_rounds = (
        "OR round_id IN (SELECT round_id FROM sampling_rounds WHERE status = 'published')"
        if table_exists(con, "sampling_rounds")
        else ""
    )
    outcomes = query(
        con,
        "SELECT round_id, uscc, inspected_on, result, problem_count FROM inspection_outcomes "
        f"WHERE inspected_on >= ? {of_rounds}",
        [history_since(params)],
    )
    notices = (
        query(con, "SELECT uscc, issued_on, rectified_on FROM correction_notices")
        if table_exists(con, "correction_notices")
        else pl.DataFrame(schema={"uscc": pl.Utf8, "issued_on": pl.Date, "rectified_on": pl.Date})
    )
    classes = supervision_classes(
        tiers_as_of(con, params.tier_as_of, rules)
        .rename({"tier": "credit_tier"})
        .join(evaluations_as_of(con, params.tier_as_of), on="uscc", how="left"),
        rules.supervision,
        rules.tier_names,
    )
    pool = eligible_pool(
        firms,
        classes,
        outcomes,
        params,
        planned=planned_elsewhere(con, params.round_id),
        open_findings=open_findings(
            latest_outcomes(con, params.tier_as_of),
            notices,
            params.tier_as_of,
            rules.inspections.clean_result,
        ),
    )
    rounds = _rounds(con)
    first_reported = query(
        con,
        "SELECT round_id, min(inspected_on) AS inspected_on FROM inspection_outcomes "
        "WHERE round_id IS NOT NULL GROUP BY round_id",
    )
    previous_id = previous_round(rounds, first_reported, params)
    inspectors = query(con, "SELECT * FROM inspectors")
    conflicts = query(
        con, "SELECT inspector_id, uscc, valid_from, valid_until FROM inspector_conflicts"
    )
    return GatheredRound(
        inputs=RoundInputs(
            firms=pool.pool,
            inspectors=office_roster(inspectors, params),
            conflicts=conflicts,
            previous=previous_teams(con, previous_id),
            risk=(
                risk_as_of(con, params.tier_as_of, pool.pool)
                if params.order_by_risk
                else pl.DataFrame(schema=INPUT_SCHEMAS["risk"])
            ),
            bookings=bookings_elsewhere(con, params),
        ),
        excluded=pool.excluded,
        previous_round_id=previous_id,
        firms=firms.drop("status"),
        inspectors=inspectors,
        eligible=pool,
    )


def latest_outcomes(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """(uscc, inspected_on, result, problem_count) of each firm's inspections on its latest
    inspection date on or before `as_of` — what `open_findings` looks at."""
    return query(
        con,
        "SELECT o.uscc, o.inspected_on, o.result, o.problem_count "
        "FROM inspection_outcomes o JOIN ("
        "  SELECT uscc, max(inspected_on) AS inspected_on FROM inspection_outcomes"
        "  WHERE inspected_on <= ? GROUP BY uscc"
        ") latest USING (uscc, inspected_on)",
        [as_of],
    )


def previous_teams(con: duckdb.DuckDBPyConnection, round_id: str | None) -> pl.DataFrame:
    """(uscc, inspector_id) of the previous round (`models.sampling.eligibility.previous_pairs`:
    its planned teams and the inspectors its outcomes name), reading that round's rows only."""
    if round_id is None:
        return previous_pairs(None, pl.DataFrame(), pl.DataFrame())
    planned = (
        query(
            con,
            "SELECT round_id, uscc, inspector_id FROM sampling_assignments WHERE round_id = ?",
            [round_id],
        )
        if table_exists(con, "sampling_assignments")
        else pl.DataFrame(schema={"round_id": pl.Utf8, "uscc": pl.Utf8, "inspector_id": pl.Utf8})
    )
    reported = query(
        con,
        "SELECT round_id, uscc, inspector_ids FROM inspection_outcomes WHERE round_id = ?",
        [round_id],
    )
    return previous_pairs(round_id, planned, reported)


def office_roster(inspectors: pl.DataFrame, params: RoundParams) -> pl.DataFrame:
    """The inspectors a round may draw: the organising office's (a district office: those of
    its district, plus the city's own `市级` when `allow_city_inspectors`; the city: the
    whole roster), of the organiser's department (blank) or a partner department."""
    roster = inspectors
    if "department" not in roster.columns:
        roster = roster.with_columns(pl.lit(None, dtype=pl.Utf8).alias("department"))
    if params.office != CITY_LEVEL:
        offices = [params.office, *([CITY_LEVEL] if params.allow_city_inspectors else [])]
        roster = roster.filter(pl.col("district").is_in(offices).fill_null(False))
    allowed = ["", *params.partner_departments]
    return roster.filter(pl.col("department").fill_null("").is_in(allowed))


def evaluations_as_of(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """(uscc, public_grade, rectification_result): each firm's latest outside evaluation known
    by `as_of` — evaluated and collected on or before it (and, for the public grade, still
    valid) — read point in time like every record; null where none is."""
    grades = _latest(
        con,
        "public_credit_grades",
        "grade",
        "AND (valid_until IS NULL OR valid_until >= ?)",
        as_of,
    )
    results = _latest(con, "rectification_results", "result", "", as_of)
    return grades.rename({"value": "public_grade"}).join(
        results.rename({"value": "rectification_result"}), on="uscc", how="full", coalesce=True
    )


def _latest(
    con: duckdb.DuckDBPyConnection, table: str, column: str, extra: str, as_of: date
) -> pl.DataFrame:
    """(uscc, value): each firm's latest `column` of `table` evaluated and collected on or
    before `as_of` (`extra` one more condition with one `?` for `as_of`, or empty)."""
    if not table_exists(con, table):
        return pl.DataFrame(schema={"uscc": pl.Utf8, "value": pl.Utf8})
    params = [as_of, as_of, *([as_of] if extra else [])]
    return query(
        con,
        f'SELECT uscc, arg_max("{column}", evaluated_on) AS value FROM "{table}" '
        f"WHERE evaluated_on <= ? AND collected_on <= ? {extra} GROUP BY uscc",
        params,
    )


def planned_elsewhere(con: duckdb.DuckDBPyConnection, round_id: str) -> pl.DataFrame:
    """The drawn firms of every other published round, with their planned date and window."""
    return _other_published(
        con,
        "a.round_id, a.uscc, min(a.inspection_date) AS inspection_date, r.window_start, "
        "r.window_end",
        "",
        [round_id],
        PLANNED_SCHEMA,
    )


def bookings_elsewhere(con: duckdb.DuckDBPyConnection, params: RoundParams) -> pl.DataFrame:
    """Inspections per inspector and day that the other published rounds planned inside this
    round's window (one calendar: they count against the daily cap)."""
    return _other_published(
        con,
        "a.inspector_id, a.inspection_date AS day, count(*) AS booked",
        "AND a.inspection_date BETWEEN ? AND ?",
        [params.round_id, params.window_start, params.window_end],
        INPUT_SCHEMAS["bookings"],
    )


def _other_published(
    con: duckdb.DuckDBPyConnection,
    columns: str,
    condition: str,
    params: list[object],
    schema: pl.Schema,
) -> pl.DataFrame:
    """`columns` of the assignments of every published round but `params[0]` (grouped)."""
    if not table_exists(con, "sampling_assignments"):
        return pl.DataFrame(schema=schema)
    return query(
        con,
        f"SELECT {columns} FROM sampling_assignments a JOIN sampling_rounds r USING (round_id) "
        f"WHERE r.status = 'published' AND a.round_id <> ? {condition} GROUP BY ALL ORDER BY ALL",
        params,
    ).cast(schema)


class MissingRiskScoresError(RuntimeError):
    """The round orders by risk, but the risk model has scored no firm by its tier date."""


def risk_as_of(con: duckdb.DuckDBPyConnection, as_of: date, pool: pl.DataFrame) -> pl.DataFrame:
    """(uscc, probability) of the pool's firms from the latest risk scores on or before
    `as_of` — the same point in time as the tiers, so the ordering uses nothing later."""
    latest = (
        query(con, "SELECT max(as_of) FROM risk_scores WHERE as_of <= ?", [as_of]).item()
        if table_exists(con, "risk_scores")
        else None
    )
    if latest is None:
        raise MissingRiskScoresError(
            f"order_by_risk: 风险模型在 {as_of} 之前没有评分，请先运行风险模型 / no risk scores "
            f"on or before {as_of}; run the risk job first, or draw without order_by_risk"
        )
    scores = query(con, "SELECT uscc, probability FROM risk_scores WHERE as_of = ?", [latest])
    return scores.join(pool.select("uscc"), on="uscc", how="semi")


def tiers_as_of(con: duckdb.DuckDBPyConnection, as_of: date, rules: RuleSet) -> pl.DataFrame:
    """(uscc, tier) as of a date: the stored scores, else scored now from the stored reason
    spans — the same function the credit assets use, so the tiers agree either way."""
    stored = query(con, "SELECT uscc, tier FROM credit_scores WHERE as_of = ?", [as_of])
    if stored.height:
        return stored
    official = official_rules(con).for_date(as_of) or rules
    spans = read_reason_spans(con, official)
    return scores_of(spans, query(con, FIRMS_SQL), official, [as_of]).select("uscc", "tier")


def _rounds(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    if table_exists(con, "sampling_rounds"):
        return query(con, "SELECT round_id, window_start FROM sampling_rounds")
    return pl.DataFrame(schema={"round_id": pl.Utf8, "window_start": pl.Date})


def stored_round(con: duckdb.DuckDBPyConnection, round_id: str) -> dict[str, Any] | None:
    if not table_exists(con, "sampling_rounds"):
        return None
    rows = query(con, "SELECT * FROM sampling_rounds WHERE round_id = ?", [round_id])
    return rows.row(0, named=True) if rows.height else None


def published_since(con: duckdb.DuckDBPyConnection, moment: datetime) -> bool:
    """Whether any round was published (stored as published) after `moment`."""
    if not table_exists(con, "sampling_rounds"):
        return False
    found = con.execute(
        "SELECT count(*) FROM sampling_rounds WHERE status = 'published' AND created_at > ?",
        [moment],
    ).fetchone()
    return bool(found and found[0])


def store_round(
    con: duckdb.DuckDBPyConnection,
    plan: RoundPlan,
    gathered: GatheredRound,
    *,
    status: str,
    plan_file: str,
    plan_sha256: str,
    created_at: datetime,
    backdate_reason: str | None = None,
    tier_order: tuple[str, ...] = ("A", "B", "C", "D"),
) -> dict[str, Any]:
    """Replace round `plan.params.round_id` in the sampling tables; returns its row."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    params = plan.params
    hashes = plan.input_hashes
    row = {
        "round_id": params.round_id,
        "status": status,
        "seed": params.seed,
        "algorithm_version": plan.algorithm_version,
        "parameters": json.dumps(params.model_dump(mode="json"), ensure_ascii=False),
        "tier_as_of": params.tier_as_of,
        "window_start": params.window_start,
        "window_end": params.window_end,
        "previous_round_id": gathered.previous_round_id,
        "firms_sha256": hashes["firms"],
        "inspectors_sha256": hashes["inspectors"],
        "conflicts_sha256": hashes["conflicts"],
        "previous_sha256": hashes["previous"],
        "plan_sha256": plan_sha256,
        "plan_file": plan_file,
        "pool_size": plan.inputs.firms.height,
        "excluded": gathered.excluded.height,
        "drawn": plan.draws.filter(~pl.col("is_control")).height,
        "control": plan.draws.filter(pl.col("is_control")).height,
        "created_at": created_at,
    }
    strata = plan.strata.with_columns(pl.lit(params.round_id).alias("round_id"))
    eligible = gathered.eligible
    facts = {
        "round_id": params.round_id,
        "office": params.office,
        "office_code": params.office_code,
        "office_name": params.office_label,
        "scope_districts": list(params.scope_districts),
        "scope_firm_types": list(params.scope.firm_types),
        "partner_departments": list(params.partner_departments),
        "published_on": params.published_on,
        "backdated": params.backdate,
        "backdate_reason": backdate_reason,
        "calendar_source": plan.calendar.source,
        "calendar_notes": "\n".join(plan.calendar.notes) or None,
        "first_inspection_day": plan.first_day,
        "in_scope": eligible.in_scope if eligible else None,
        "excluded_by_reason": json.dumps(
            eligible.excluded_by_reason() if eligible else {}, ensure_ascii=False
        ),
        "monotone": monotone_in_tier(plan.tiers, list(tier_order)),
    }
    frames = {
        "sampling_rounds": pl.DataFrame([row], schema=schema_of("sampling_rounds")),
        "sampling_strata": strata,
        "sampling_draws": plan.draws,
        "sampling_assignments": plan.assignments,
        "sampling_round_facts": pl.DataFrame([facts], schema=schema_of("sampling_round_facts")),
        "sampling_tiers": plan.tiers.with_columns(pl.lit(params.round_id).alias("round_id")),
    }
    for name in SAMPLING_TABLES:
        replace_slice(
            con, name, frames[name], schema_of(name), where_column="round_id", value=params.round_id
        )
    return row


def ensure_round_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the sampling tables empty, so readers (feedback, dashboards) find them."""
    ensure_tables(con, SAMPLING_TABLES)


def round_tracking(
    con: duckdb.DuckDBPyConnection,
    day: date,
    *,
    office: str | None = None,
    round_id: str | None = None,
    published_only: bool = True,
) -> pl.DataFrame:
    """Each drawn firm of the (published) rounds as of `day`: planned, done or overdue, and its
    result's publication deadline (`models.sampling.feedback.inspection_tracking`, with the
    round's own calendar when it supplied one)."""
    if not (table_exists(con, "round_outcomes") and table_exists(con, "sampling_rounds")):
        return pl.DataFrame(schema=TRACKING_SCHEMA)
    rounds = query(con, "SELECT round_id, status, parameters FROM sampling_rounds")
    outcomes = query(con, "SELECT * FROM round_outcomes")
    parts = []
    for rid, status, parameters in rounds.iter_rows():
        if (published_only and status != "published") or (round_id and rid != round_id):
            continue
        saved = json.loads(parameters)
        if office is not None and saved.get("office", CITY_LEVEL) != office:
            continue
        supplied = (
            SuppliedCalendar.model_validate(saved["calendar"]) if saved.get("calendar") else None
        )
        published = saved.get("published_on")
        public_day = date.fromisoformat(published) if published and status == "published" else None
        rows = outcomes.filter(pl.col("round_id") == rid)
        parts.append(inspection_tracking(rows, {rid: public_day}, day, supplied))
    if not parts:
        return pl.DataFrame(schema=TRACKING_SCHEMA)
    return pl.concat(parts).sort("round_id", "planned_date", "uscc")
