"""Overview (总览): tier mix by firm type and district, monthly tier trend, this month's movers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from models.periods import publishable_dates
from warehouse.connection import query


@dataclass(frozen=True)
class Scope:
    """Which firms and which scoring date; empty tuples mean every firm type / district."""

    as_of: date | None = None
    firm_types: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()


def _firms_in(scope: Scope, column: str = "s.uscc") -> tuple[str, list[object]]:
    """A semi-join on the firm filters (TRUE without any): scanning 6.6M score rows once
    and probing a small firm set is several times faster than joining every row to firms."""
    clauses: list[str] = []
    params: list[object] = []
    if scope.firm_types:
        clauses.append("firm_type IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(scope.firm_types))
    if scope.districts:
        clauses.append("district IN (SELECT unnest(?::VARCHAR[]))")
        params.append(list(scope.districts))
    if not clauses:
        return "TRUE", []
    return f"{column} IN (SELECT uscc FROM firms WHERE {' AND '.join(clauses)})", params


def as_of_dates(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """Every stored scoring date, latest first (month ends and the processing date)."""
    return query(con, "SELECT DISTINCT as_of FROM credit_scores ORDER BY as_of DESC")


def firm_dimensions(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """Firm types and districts present in the directory (for the filters)."""
    return query(con, "SELECT DISTINCT firm_type, district FROM firms ORDER BY ALL")


def tier_mix(con: duckdb.DuckDBPyConnection, scope: Scope) -> pl.DataFrame:
    """Firms per firm type × district × tier as of `scope.as_of` (the latest if None)."""
    where, params = _firms_in(scope)
    return query(
        con,
        f"""SELECT f.firm_type, coalesce(f.district, '—') AS district, s.tier, count(*) AS firms
        FROM credit_scores s JOIN firms f USING (uscc)
        WHERE s.as_of = coalesce(?::DATE, (SELECT max(as_of) FROM credit_scores)) AND {where}
        GROUP BY ALL ORDER BY ALL""",
        [scope.as_of, *params],
    )


def tier_trend(con: duckdb.DuckDBPyConnection, scope: Scope) -> pl.DataFrame:
    """Firms per tier at every month end up to `scope.as_of` (and that date itself)."""
    where, params = _firms_in(scope)
    stored = [r[0] for r in con.execute("SELECT DISTINCT as_of FROM credit_scores").fetchall()]
    up_to = scope.as_of or (max(stored) if stored else None)
    # the dates of a trend are the publishable ones (models.periods): month ends and the
    # chosen date; count first, then keep them — one grouped scan, no per-row date test
    dates = publishable_dates(stored, up_to)
    return query(
        con,
        f"""WITH counts AS (
              SELECT s.as_of, s.tier, count(*) AS firms FROM credit_scores s
              WHERE {where} GROUP BY ALL)
        SELECT c.* FROM counts c
        WHERE c.as_of IN (SELECT unnest(?::DATE[]))
        ORDER BY ALL""",
        [*params, dates],
    )


def movers(con: duckdb.DuckDBPyConnection, scope: Scope) -> pl.DataFrame:
    """Firms whose tier changed into `scope.as_of` from the previous scoring date, with the
    document numbers of the records that started or stopped counting."""
    where, params = _firms_in(scope, "c.uscc")
    return query(
        con,
        f"""SELECT c.uscc, f.name, f.firm_type, f.district, c.from_as_of, c.to_as_of,
               c.from_tier, c.to_tier, c.from_score, c.to_score,
               c.to_score - c.from_score AS score_change,
               (SELECT string_agg(DISTINCT r.evidence_doc_no, '、')
                  FROM (SELECT unnest(from_json(c.cause_records, '["json"]')) AS j) x
                  JOIN credit_records r ON r.record_id = x.j->>'record_id') AS documents
        FROM tier_changes c JOIN firms f USING (uscc)
        WHERE c.to_as_of = coalesce(?::DATE, (SELECT max(as_of) FROM credit_scores))
          AND {where}
        ORDER BY c.to_score - c.from_score, f.name""",
        [scope.as_of, *params],
    )
