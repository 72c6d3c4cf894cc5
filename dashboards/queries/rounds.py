"""Rounds (抽查计划): plan, office, calendar notes, strata and each class's inclusion
probability, inspector assignments, progress (planned / done / overdue), the publication
deadlines of results, findings by tier and for the control share. Reads the sampling tables;
before any round exists every function returns an empty frame (the page says so) instead of
failing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from models.sampling.feedback import TRACKING_SCHEMA
from warehouse.connection import query, table_exists
from warehouse.sampling import round_tracking

SAMPLING_TABLES = (
    "sampling_rounds",
    "sampling_strata",
    "sampling_draws",
    "sampling_assignments",
    "round_outcomes",
    "round_results",
)
"""The round tables every warehouse with rounds has (the per-round facts and tiers of
`draw-2` are read when present)."""


@dataclass(frozen=True)
class Round:
    round_id: str


@dataclass(frozen=True)
class Tracking:
    """Inspections of the published rounds as of `today` (one round, or an office's)."""

    today: date
    round_id: str | None = None
    office: str | None = None


def has_rounds(con: duckdb.DuckDBPyConnection) -> bool:
    return all(table_exists(con, t) for t in SAMPLING_TABLES)


def _or_empty(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> pl.DataFrame:
    if not has_rounds(con):
        return pl.DataFrame()
    return query(con, sql, params)


def rounds(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """Every round, newest first, with its plan facts (seed, hashes, sizes) and, for rounds
    drawn with `draw-2`, its office, calendar notes and publication."""
    if not has_rounds(con):
        return pl.DataFrame()
    if table_exists(con, "sampling_round_facts"):
        facts = """coalesce(f.office, '市级') AS office,
               coalesce(f.office_name, '市级（全市）') AS office_name,
               f.scope_districts, f.partner_departments, f.published_on, f.backdated,
               f.backdate_reason, f.calendar_source, f.calendar_notes, f.first_inspection_day,
               f.excluded_by_reason, f.monotone"""
        join = "LEFT JOIN sampling_round_facts f USING (round_id)"
    else:
        facts = """'市级' AS office, '市级（全市）' AS office_name, NULL AS scope_districts,
               NULL AS partner_departments, NULL AS published_on, NULL AS backdated,
               NULL AS backdate_reason, NULL AS calendar_source, NULL AS calendar_notes,
               NULL AS first_inspection_day, NULL AS excluded_by_reason, NULL AS monotone"""
        join = ""
    return query(
        con,
        f"""SELECT r.round_id, r.status, r.seed, r.algorithm_version, r.tier_as_of,
               r.window_start, r.window_end, r.previous_round_id, r.pool_size, r.excluded,
               r.drawn, r.control, r.plan_sha256, r.plan_file, r.created_at, {facts}
        FROM sampling_rounds r {join}
        ORDER BY r.window_start DESC, r.round_id DESC""",
    )


def tiers(con: duckdb.DuckDBPyConnection, r: Round) -> pl.DataFrame:
    """Each class's ratio, pool, effective inclusion probability, expected and drawn."""
    if not table_exists(con, "sampling_tiers"):
        return pl.DataFrame()
    return query(
        con,
        "SELECT tier, ratio, pool, probability, expected, drawn FROM sampling_tiers "
        "WHERE round_id = ? ORDER BY tier",
        [r.round_id],
    )


def tracking(con: duckdb.DuckDBPyConnection, f: Tracking) -> pl.DataFrame:
    """Each drawn firm of the published rounds: planned, done or overdue, with its result's
    publication deadline (20 working days) and whether it was made public in time."""
    if not has_rounds(con):
        return pl.DataFrame(schema=TRACKING_SCHEMA)
    rows = round_tracking(con, f.today, office=f.office, round_id=f.round_id)
    names = query(con, "SELECT uscc, name FROM firms")
    return rows.join(names, on="uscc", how="left")


def strata(con: duckdb.DuckDBPyConnection, r: Round) -> pl.DataFrame:
    return _or_empty(
        con,
        """SELECT stratum, tier, firm_type, pool, ratio, n_required, n_drawn
        FROM sampling_strata WHERE round_id = ? ORDER BY tier, firm_type""",
        [r.round_id],
    )


def assignments(con: duckdb.DuckDBPyConnection, r: Round) -> pl.DataFrame:
    """Drawn firms with their inspectors and dates (inspector data: centre and managers)."""
    return _or_empty(
        con,
        """SELECT d.draw_order, d.uscc, f.name, d.firm_type, d.tier, d.is_control,
               a.inspection_date, a.team,
               string_agg(a.inspector_id || ' ' || coalesce(i.name, ''), '、'
                          ORDER BY a.inspector_id) AS inspectors
        FROM sampling_draws d
        LEFT JOIN firms f USING (uscc)
        LEFT JOIN sampling_assignments a ON a.round_id = d.round_id AND a.uscc = d.uscc
        LEFT JOIN inspectors i ON i.inspector_id = a.inspector_id
        WHERE d.round_id = ?
        GROUP BY ALL ORDER BY d.draw_order""",
        [r.round_id],
    )


def progress(con: duckdb.DuckDBPyConnection, r: Round) -> pl.DataFrame:
    """Planned and reported inspections per planned date (cumulative counts)."""
    return _or_empty(
        con,
        """WITH days AS (
            SELECT planned_date AS day, count(*) AS planned, 0 AS inspected
            FROM round_outcomes WHERE round_id = ? AND planned_date IS NOT NULL GROUP BY 1
            UNION ALL
            SELECT inspected_on, 0, count(*)
            FROM round_outcomes WHERE round_id = ? AND inspected_on IS NOT NULL GROUP BY 1)
        SELECT day, CAST(sum(sum(planned)) OVER (ORDER BY day) AS BIGINT) AS planned,
               CAST(sum(sum(inspected)) OVER (ORDER BY day) AS BIGINT) AS inspected
        FROM days GROUP BY day ORDER BY day""",
        [r.round_id, r.round_id],
    )


def findings(con: duckdb.DuckDBPyConnection, r: Round) -> pl.DataFrame:
    """The round's feedback per tier × (control share or tier-driven draw)."""
    return _or_empty(
        con,
        """SELECT tier, is_control, planned, inspected, with_findings, finding_rate
        FROM round_results WHERE round_id = ? ORDER BY tier, is_control""",
        [r.round_id],
    )
