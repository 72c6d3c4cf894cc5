"""Reading the credit engine's inputs from the warehouse and storing its outputs.

What belongs here: the SQL that loads clean tables for the engine (`models.engine`), the
writes that replace a set of as-of dates in `credit_scores` and the reason spans inside one
transaction, the register of rule sets that scored (`rule_sets`), and `score_and_store`
(`renfang score`). Shared by the Dagster assets and the CLI, so both store scores the same
way. What does not: any scoring rule or any "which dates" rule (models).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import polars as pl

from models.credit_records import EVIDENCE_TYPES, in_record_order, source_records
from models.credit_schema import SCORE_REASON_SCHEMA
from models.engine import retired_records, score_documents
from models.rules import RuleSet
from warehouse.catalogue import schema_of
from warehouse.connection import WarehouseLocation, query, table_exists
from warehouse.tables import ensure_tables, insert, table_ddl

RECORD_SOURCES = tuple(EVIDENCE_TYPES)
"""The clean tables that yield credit records, in derivation order."""


FIRMS_SQL = "SELECT uscc, name, firm_type, district, status FROM firms"

DOCUMENTS_PER_PART = 500_000
"""Source documents derived at once by `record_parts` (~1 GB of frames at the peak)."""

SCORES_BY_FIRM_INDEX = "credit_scores_by_firm"


@dataclass(frozen=True)
class EngineInputs:
    records: pl.DataFrame
    statuses: pl.DataFrame
    firms: pl.DataFrame


def read_sources(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    return {name: query(con, f'SELECT * FROM "{name}"') for name in RECORD_SOURCES}


def read_retired(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """The retired rows of each record source (rows of withdrawn or superseded files)."""
    return {
        name: query(con, f'SELECT * FROM "retired_{name}"')
        for name in RECORD_SOURCES
        if table_exists(con, f"retired_{name}")
    }


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
    for name, rows in read_retired(con).items():
        yield retired_records(name, rows, rules)


def read_engine_inputs(con: duckdb.DuckDBPyConnection) -> EngineInputs:
    return EngineInputs(
        records=query(con, "SELECT * FROM credit_records"),
        statuses=query(con, "SELECT * FROM credit_record_status"),
        firms=query(con, FIRMS_SQL),
    )


def store_scores(
    con: duckdb.DuckDBPyConnection, scores: pl.DataFrame, dates: Sequence[date]
) -> None:
    """Replace exactly these as-of dates (other dates are history and are kept).

    The index on `uscc` serves one firm's history (the dashboards' firm profile: ~300 ms →
    ~2 ms at 100k firms × 66 dates). It is dropped while rows are replaced and rebuilt after:
    maintaining it row by row makes the write ten times slower (53 s instead of 5 s).
    """
    ensure_tables(con, ["credit_scores"])
    con.execute(f"DROP INDEX IF EXISTS {SCORES_BY_FIRM_INDEX}")
    con.execute(
        "DELETE FROM credit_scores WHERE as_of IN (SELECT unnest(?::DATE[]))", [list(dates)]
    )
    insert(con, "credit_scores", scores, schema_of("credit_scores"))
    con.execute(f"CREATE INDEX {SCORES_BY_FIRM_INDEX} ON credit_scores (uscc)")


def store_reason_spans(con: duckdb.DuckDBPyConnection, spans: pl.DataFrame) -> None:
    """Replace the reason spans and (re)define `score_reasons` over every stored as-of date.

    A reason counts on every as-of date T with span_from ≤ T < span_until: storing the spans
    (about one row per record) instead of one row per record and date keeps a national
    history of 60 month-ends at ~10M rows instead of ~10⁸, and `score_reasons` still reads
    like a table of firm × as-of × record.
    """
    spans_schema = schema_of("score_reason_spans")
    con.execute(table_ddl("score_reason_spans", spans_schema, replace=True))
    insert(con, "score_reason_spans", spans, spans_schema)
    ensure_tables(con, ["credit_scores"])
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


class MissingWarehouseError(RuntimeError):
    """The warehouse has no clean tables yet: `renfang run` must ingest first."""


def score_and_store(warehouse: WarehouseLocation, rules: RuleSet, as_of: date) -> int:
    """Derive records with `rules` from the clean tables, score as of one date, store it.

    Records are derived afresh (not read from `credit_records`) so that a different rule set
    passed here is applied consistently to every step; the reason spans are replaced too, so
    `score_reasons` explains exactly what the last scoring computed.
    """
    with warehouse.connect() as con:
        if not table_exists(con, "firms"):
            raise MissingWarehouseError(
                f"{warehouse.file} has no clean tables: run `renfang run` first"
            )
        sources = read_sources(con)
        retired = read_retired(con)
        cases = query(con, "SELECT * FROM credit_cases")
        firms = query(con, FIRMS_SQL)
    result = score_documents(sources, cases, firms, rules, [as_of], retired)
    with warehouse.transaction() as con:
        register_rule_set(con, rules)
        store_scores(con, result.scores, [as_of])
        store_reason_spans(con, result.spans)
    return result.scores.height


def register_rule_set(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> None:
    """Keep the content of a rule set that scores are stored under (once per version and
    content), so any stored score's tier labels and thresholds can be read back."""
    ensure_tables(con, ["rule_sets"])
    known = con.execute(
        "SELECT count(*) FROM rule_sets WHERE rule_set_version = ? AND content_sha256 = ?",
        [rules.version, rules.content_sha256],
    ).fetchall()[0][0]
    if known:
        return
    row = {
        "rule_set_version": rules.version,
        "content_sha256": rules.content_sha256,
        "content": rules.canonical_json(),
        "first_used_at": datetime.now(UTC).replace(tzinfo=None),
    }
    insert(con, "rule_sets", pl.DataFrame([row]), schema_of("rule_sets"))


def stored_rule_set(con: duckdb.DuckDBPyConnection, version: str) -> RuleSet | None:
    """The rule set scores name as `version` (its latest registered content), if known."""
    if not table_exists(con, "rule_sets"):
        return None
    rows = con.execute(
        "SELECT content FROM rule_sets WHERE rule_set_version = ? "
        "ORDER BY first_used_at DESC LIMIT 1",
        [version],
    ).fetchall()
    return RuleSet.model_validate_json(rows[0][0]) if rows else None


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
