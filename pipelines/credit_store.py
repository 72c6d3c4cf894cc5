"""Reading the credit engine's inputs from the warehouse and storing its outputs.

What belongs here: the SQL that loads clean tables for `models.credit_records` /
`models.scoring`, and the writes that replace a set of as-of dates in `credit_scores` and
`score_reasons` inside one transaction. Shared by the Dagster assets and `renfang score`, so
both store scores the same way. What does not: any scoring rule (models).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from models.credit_records import derive_credit_records, in_record_order, source_records
from models.credit_schema import (
    CREDIT_SCORE_SCHEMA,
    SCORE_REASON_SCHEMA,
)
from models.record_status import record_status_history
from models.rules import RuleSet, default_rule_set, parse_rule_set
from models.scoring import REASON_SPAN_SCHEMA, reason_spans, scores_from_spans
from pipelines.resources import Warehouse, _table_exists, query
from pipelines.warehouse import table_ddl

RECORD_SOURCES = (
    "penalty_decisions",
    "correction_notices",
    "circulars",
    "commendations",
    "inspection_outcomes",
)


FIRMS_SQL = "SELECT uscc, name, firm_type, district, status FROM firms"

DOCUMENTS_PER_PART = 500_000
"""Source documents derived at once by `record_parts` (~1 GB of frames at the peak)."""

SCORES_BY_FIRM_INDEX = "credit_scores_by_firm"


@dataclass(frozen=True)
class EngineInputs:
    records: pl.DataFrame
    statuses: pl.DataFrame
    firms: pl.DataFrame


def load_rule_set(path: str | None) -> RuleSet:
    """The rule set file at `path`, else the packaged default."""
    if not path:
        return default_rule_set()
    return parse_rule_set(Path(path).read_text(encoding="utf-8"))


def read_sources(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    return {name: query(con, f'SELECT * FROM "{name}"') for name in RECORD_SOURCES}


def record_parts(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> Iterator[pl.DataFrame]:
    """The credit records of the clean tables, one part at a time, each read when the
    previous one has been consumed: the documents and records of all sources at once do not
    fit in memory at national scale.

    A part is one source's documents of one slice of firms (by a hash of the USCC: a firm's
    documents stay together, which the per-firm rules need), at most ~`DOCUMENTS_PER_PART`
    documents, sorted by (uscc, record_id, segment). Together the parts hold exactly the
    rows of `derive_credit_records`, in the same order on every run of the same data.
    """
    for name in RECORD_SOURCES:
        [(documents,)] = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()
        slices = max(1, -(-documents // DOCUMENTS_PER_PART))
        for i in range(slices):
            part = query(con, f'SELECT * FROM "{name}" WHERE hash(uscc) % ? = ?', [slices, i])
            yield in_record_order(source_records(name, part, rules)).collect()


def read_engine_inputs(con: duckdb.DuckDBPyConnection) -> EngineInputs:
    return EngineInputs(
        records=query(con, "SELECT * FROM credit_records"),
        statuses=query(con, "SELECT * FROM credit_record_status"),
        firms=query(con, FIRMS_SQL),
    )


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def as_of_dates(months: Sequence[date], processing_date: date) -> list[date]:
    """Month-end as-of dates of the given months; the running month is scored as of the
    processing date (the 'latest' scores), and months after it are not scored at all."""
    dates = {min(month_end(m), processing_date) for m in months if m <= processing_date}
    return sorted(dates)


def compute_scores(
    spans: pl.DataFrame, firms: pl.DataFrame, rules: RuleSet, dates: Sequence[date]
) -> pl.DataFrame:
    """Scores from the reason spans: one filter-and-sum per date, equal to the one-pass
    `score_history`, and consistent with `score_reasons` by construction."""
    return scores_from_spans(spans, firms, rules, dates)


def compute_reason_spans(inputs: EngineInputs, rules: RuleSet) -> pl.DataFrame:
    return reason_spans(inputs.records, inputs.statuses, inputs.firms, rules)


def store_scores(
    con: duckdb.DuckDBPyConnection, scores: pl.DataFrame, dates: Sequence[date]
) -> None:
    """Replace exactly these as-of dates (other dates are history and are kept).

    The index on `uscc` serves one firm's history (the dashboards' firm profile: ~300 ms →
    ~2 ms at 100k firms × 66 dates). It is dropped while rows are replaced and rebuilt after:
    maintaining it row by row makes the write ten times slower (53 s instead of 5 s).
    """
    con.execute(table_ddl("credit_scores", CREDIT_SCORE_SCHEMA, replace=False))
    con.execute(f"DROP INDEX IF EXISTS {SCORES_BY_FIRM_INDEX}")
    con.execute(
        "DELETE FROM credit_scores WHERE as_of IN (SELECT unnest(?::DATE[]))", [list(dates)]
    )
    _insert(con, "credit_scores", scores, CREDIT_SCORE_SCHEMA)
    con.execute(f"CREATE INDEX {SCORES_BY_FIRM_INDEX} ON credit_scores (uscc)")


def store_reason_spans(con: duckdb.DuckDBPyConnection, spans: pl.DataFrame) -> None:
    """Replace the reason spans and (re)define `score_reasons` over every stored as-of date.

    A reason counts on every as-of date T with span_from ≤ T < span_until: storing the spans
    (about one row per record) instead of one row per record and date keeps a national
    history of 60 month-ends at ~10M rows instead of ~10⁸, and `score_reasons` still reads
    like a table of firm × as-of × record.
    """
    con.execute(table_ddl("score_reason_spans", REASON_SPAN_SCHEMA, replace=True))
    _insert(con, "score_reason_spans", spans, REASON_SPAN_SCHEMA)
    con.execute(table_ddl("credit_scores", CREDIT_SCORE_SCHEMA, replace=False))
    columns = ", ".join(
        "s.as_of" if c == "as_of" else f'r."{c}"' for c in SCORE_REASON_SCHEMA.names()
    )
    con.execute(
        f"""CREATE OR REPLACE VIEW score_reasons AS
        SELECT {columns} FROM credit_scores s
        JOIN score_reason_spans r ON r.uscc = s.uscc AND r.span_from <= s.as_of
         AND (r.span_until IS NULL OR s.as_of < r.span_until)"""
    )


def read_reason_spans(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return query(con, "SELECT * FROM score_reason_spans")


def read_reasons(con: duckdb.DuckDBPyConnection, dates: Sequence[date]) -> pl.DataFrame:
    return query(
        con, "SELECT * FROM score_reasons WHERE as_of IN (SELECT unnest(?::DATE[]))", [list(dates)]
    )


def _insert(
    con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, schema: pl.Schema
) -> None:
    if frame.is_empty():
        return
    con.register("_frame", frame.select(list(schema)).cast(dict(schema)))
    try:
        con.execute(f'INSERT INTO "{name}" SELECT * FROM _frame')
    finally:
        con.unregister("_frame")


class MissingWarehouseError(RuntimeError):
    """The warehouse has no clean tables yet: `renfang run` must ingest first."""


def score_and_store(warehouse: Warehouse, rules: RuleSet, as_of: date) -> int:
    """Derive records with `rules` from the clean tables, score as of one date, store it.

    Records are derived afresh (not read from `credit_records`) so that a different rule set
    passed here is applied consistently to every step; the reason spans are replaced too, so
    `score_reasons` explains exactly what the last scoring computed.
    """
    with warehouse.connect() as con:
        if not _table_exists(con, "firms"):
            raise MissingWarehouseError(
                f"{warehouse.file} has no clean tables: run `renfang run` first"
            )
        sources = read_sources(con)
        cases = query(con, "SELECT * FROM credit_cases")
        firms = query(con, FIRMS_SQL)
    records = derive_credit_records(sources, rules)
    inputs = EngineInputs(records, record_status_history(records, cases, rules), firms)
    spans = compute_reason_spans(inputs, rules)
    scores = compute_scores(spans, firms, rules, [as_of])
    with warehouse.transaction() as con:
        store_scores(con, scores, [as_of])
        store_reason_spans(con, spans)
    return scores.height


def tier_mix(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """Firms per tier and firm type as of a date (rows: firm types; columns: tiers)."""
    mix = query(
        con,
        "SELECT f.firm_type, s.tier, count(*) AS firms FROM credit_scores s "
        "JOIN firms f USING (uscc) WHERE s.as_of = ? GROUP BY ALL",
        [as_of],
    )
    if mix.is_empty():
        return mix
    return mix.pivot(on="tier", index="firm_type", values="firms", sort_columns=True).fill_null(0)
