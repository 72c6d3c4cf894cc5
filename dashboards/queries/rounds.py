"""Rounds (抽查计划): plan, strata, inspector assignments, progress, findings by tier and for
the control share. Reads the sampling tables; before any round exists every function
returns an empty frame (the page says so) instead of failing."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from warehouse.catalogue import tables_in
from warehouse.connection import query, table_exists

SAMPLING_TABLES = tables_in("sampling")
"""The round tables and their feedback, from the warehouse catalogue."""


@dataclass(frozen=True)
class Round:
    round_id: str


def has_rounds(con: duckdb.DuckDBPyConnection) -> bool:
    return all(table_exists(con, t) for t in SAMPLING_TABLES)


def _or_empty(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> pl.DataFrame:
    if not has_rounds(con):
        return pl.DataFrame()
    return query(con, sql, params)


def rounds(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """Every round, newest first, with its plan facts (seed, hashes, sizes)."""
    return _or_empty(
        con,
        """SELECT round_id, status, seed, algorithm_version, tier_as_of, window_start,
               window_end, previous_round_id, pool_size, drawn, control, plan_sha256,
               plan_file, created_at
        FROM sampling_rounds ORDER BY window_start DESC, round_id DESC""",
        [],
    )


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
