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

from models.credit_records import (
    EVIDENCE_TYPES,
    NEVER_RECTIFIED,
    PENALTY_LOOKUP,
    in_record_order,
    overdue_vetoes,
    source_records,
)
from models.credit_schema import RECORD_STATUS_SCHEMA
from models.engine import retired_records, score_documents
from models.rules import OfficialRules, RuleSet, RuleSetError, check_identity
from warehouse.catalogue import schema_of
from warehouse.connection import WarehouseLocation, query, table_exists
from warehouse.staging import bump_generation
from warehouse.tables import ensure_tables, insert, table_ddl

RECORD_SOURCES = tuple(EVIDENCE_TYPES)
"""The clean tables that yield credit records, in derivation order."""


FIRMS_SQL = "SELECT uscc, name, firm_type, district, status FROM firms"

SAME_FACT_SOURCES = ("circulars", "correction_notices")
"""The sources whose documents may record a penalty decision's fact (one fact, one deduction)."""

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
    documents, sorted by (uscc, record_id, segment); circulars and correction notices are
    read with the same firms' penalty decisions (one fact, one deduction). The last part is
    the overdue-corrections vetoes, derived from the never-rectified notices of every part
    before it, current and retired (a set may span files). Together the parts hold exactly
    the rows of `derive_credit_records`, in the same order on every run of the same data.
    """
    failed: list[pl.DataFrame] = []  # never-rectified notices: the overdue veto's grounds

    def kept(part: pl.DataFrame) -> pl.DataFrame:
        failed.append(part.filter(pl.col("rule") == NEVER_RECTIFIED))
        return part

    lookup = ", ".join(PENALTY_LOOKUP)
    for name in RECORD_SOURCES:
        [(documents,)] = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()
        slices = max(1, -(-documents // DOCUMENTS_PER_PART))
        for i in range(slices):
            where, at = "WHERE hash(uscc) % ? = ?", [slices, i]
            part = query(con, f'SELECT * FROM "{name}" {where}', at)
            # the same firms' penalty decisions: the fact a circular or notice may record
            penalties = (
                query(con, f"SELECT {lookup} FROM penalty_decisions {where}", at)
                if name in SAME_FACT_SOURCES
                else None
            )
            yield kept(in_record_order(source_records(name, part, rules, penalties)).collect())
    retired = read_retired(con)
    if retired:
        penalties = query(con, f"SELECT {lookup} FROM penalty_decisions")
        for name, rows in retired.items():
            yield kept(retired_records(name, rows, rules, penalties))
    yield in_record_order(overdue_vetoes(pl.concat(failed), rules).lazy()).collect()


def read_engine_inputs(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> EngineInputs:
    """Records and statuses derived under `rules` (one official rule set), and the firms."""
    version = [rules.version]
    return EngineInputs(
        records=query(con, "SELECT * FROM credit_records WHERE rule_set_version = ?", version),
        statuses=query(
            con,
            "SELECT * EXCLUDE (rule_set_version) FROM credit_record_status "
            "WHERE rule_set_version = ?",
            version,
        ),
        firms=query(con, FIRMS_SQL),
    )


def with_version(frame: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    return frame.with_columns(rule_set_version=pl.lit(rules.version, dtype=pl.Utf8))


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
        "s.as_of" if c == "as_of" else f'r."{c}"' for c in schema_of("score_reasons").names()
    )
    con.execute(
        f"""CREATE OR REPLACE VIEW score_reasons AS
        SELECT {columns} FROM credit_scores s
        JOIN score_reason_spans r ON r.uscc = s.uscc AND r.span_from <= s.as_of
         AND (r.span_until IS NULL OR s.as_of < r.span_until)
         AND r.rule_set_version = s.rule_set_version"""
    )


def read_reason_spans(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> pl.DataFrame:
    """The reason spans computed under `rules`."""
    return query(
        con,
        "SELECT * EXCLUDE (rule_set_version) FROM score_reason_spans WHERE rule_set_version = ?",
        [rules.version],
    )


def read_reasons(con: duckdb.DuckDBPyConnection, dates: Sequence[date]) -> pl.DataFrame:
    return query(
        con, "SELECT * FROM score_reasons WHERE as_of IN (SELECT unnest(?::DATE[]))", [list(dates)]
    )


class MissingWarehouseError(RuntimeError):
    """The warehouse has no clean tables yet: `renfang run` must ingest first."""


def _score_now(warehouse: WarehouseLocation, rules: RuleSet, as_of: date) -> pl.DataFrame:
    """Scores of every firm as of one date under `rules`, from the clean tables (and the
    retired rows), through the one engine sequence."""
    with warehouse.connect(read_only=True) as con:
        if not table_exists(con, "firms"):
            raise MissingWarehouseError(
                f"{warehouse.file} has no clean tables: run `renfang run` first"
            )
        sources = read_sources(con)
        retired = read_retired(con)
        cases = query(con, "SELECT * FROM credit_cases")
        firms = query(con, FIRMS_SQL)
    return score_documents(sources, cases, firms, rules, [as_of], retired).scores


def official_for(warehouse: WarehouseLocation, as_of: date) -> RuleSet:
    """The official rule set in force on `as_of`; a date before the earliest one is refused
    (nothing official scored it, and no rule may be applied before its adoption)."""
    with warehouse.connect(read_only=True) as con:
        official = official_rules(con)
    rules = official.for_date(as_of)
    if rules is None:
        first = official.earliest
        raise NotOfficialError(
            f"{as_of} 早于最早的正式评价标准生效日 {first} / {as_of} is before the earliest "
            f"official rule set's effective date {first}"
            if first
            else "尚无正式评价标准，请先运行 renfang run / no official rule set yet: run "
            "`renfang run` first"
        )
    return rules


def score_and_store(warehouse: WarehouseLocation, rules: RuleSet, as_of: date) -> int:
    """Official scores of every firm as of one date, stored (the date's other scores are
    replaced, every other date is kept). `rules` must be the official rule set of that date:
    its reason spans are those the last run stored, so `score_reasons` explains the new
    date too."""
    official = official_for(warehouse, as_of)
    if (official.version, official.content_sha256) != (rules.version, rules.content_sha256):
        raise NotOfficialError(
            f"{as_of} 的正式评价标准是 {official.version}，不是 {rules.version}；测算请用 "
            f"--scenario / the official rule set for {as_of} is {official.version}, not "
            f"{rules.version}; try other rules as a scenario (--scenario NAME)"
        )
    scores = _score_now(warehouse, rules, as_of)
    with warehouse.transaction() as con:
        store_scores(con, scores, [as_of])
        bump_generation(con)
    return scores.height


def score_scenario(
    warehouse: WarehouseLocation, rules: RuleSet, as_of: date, name: str, actor: str
) -> pl.DataFrame:
    """A what-if: scores under `rules` stored as scenario `name` (never official); returns
    the firms whose tier moves against the official scores of the date, counted by tier
    pair (from, to, firms)."""
    with warehouse.connect(read_only=True) as con:
        check_identity(rules, known_rule_sets(con))
    scores = _score_now(warehouse, rules, as_of)
    official = _score_now(warehouse, official_for(warehouse, as_of), as_of)
    rows = scores.with_columns(
        scenario=pl.lit(name),
        content_sha256=pl.lit(rules.content_sha256),
        created_at=pl.lit(datetime.now(UTC).replace(tzinfo=None), dtype=pl.Datetime("us")),
        actor=pl.lit(actor),
    )
    schema = schema_of("scenario_scores")
    with warehouse.transaction() as con:
        ensure_tables(con, ["scenario_scores"])
        con.execute("DELETE FROM scenario_scores WHERE scenario = ? AND as_of = ?", [name, as_of])
        insert(con, "scenario_scores", rows, schema)
        bump_generation(con)
    moves = (
        official.select("uscc", from_tier="tier")
        .join(scores.select("uscc", to_tier="tier"), on="uscc")
        .filter(pl.col("from_tier") != pl.col("to_tier"))
    )
    return moves.group_by("from_tier", "to_tier").agg(firms=pl.len()).sort("from_tier", "to_tier")


class NotOfficialError(RuleSetError):
    """A rule set given for official scores is not official (for that date)."""


def known_rule_sets(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """version → content hash of every rule set the warehouse has registered."""
    if not table_exists(con, "rule_sets"):
        return {}
    rows = con.execute("SELECT rule_set_version, content_sha256 FROM rule_sets").fetchall()
    return {str(v): str(h) for v, h in rows}


def register_rule_set(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> None:
    """Keep the content of a rule set that scores are stored under (once per version), so
    any stored score's tier labels and thresholds can be read back; a known version with
    other content is refused (`RuleSetIdentityError`)."""
    ensure_tables(con, ["rule_sets"])
    known = known_rule_sets(con)
    check_identity(rules, known)
    if rules.version in known:
        return
    row = {
        "rule_set_version": rules.version,
        "content_sha256": rules.content_sha256,
        "content": rules.canonical_json(),
        "first_used_at": datetime.now(UTC).replace(tzinfo=None),
    }
    insert(con, "rule_sets", pl.DataFrame([row]), schema_of("rule_sets"))


def official_rules(con: duckdb.DuckDBPyConnection) -> OfficialRules:
    """The official rule sets with their start dates (none in a new warehouse)."""
    if not table_exists(con, "official_rule_sets"):
        return OfficialRules(())
    rows = con.execute(
        "SELECT o.effective_from, r.content FROM official_rule_sets o JOIN rule_sets r "
        "USING (rule_set_version, content_sha256) ORDER BY o.effective_from"
    ).fetchall()
    return OfficialRules(tuple((day, RuleSet.model_validate_json(text)) for day, text in rows))


def adopt_rule_set(
    con: duckdb.DuckDBPyConnection,
    rules: RuleSet,
    effective_from: date,
    *,
    actor: str,
    reason: str,
) -> None:
    """Make `rules` official from `effective_from` (inside the caller's transaction)."""
    if effective_from < rules.effective_from:
        raise RuleSetError(
            f"评价标准 {rules.version} 自 {rules.effective_from} 起才有效，不能自 "
            f"{effective_from} 起采用 / rule set {rules.version} is effective from "
            f"{rules.effective_from}; it cannot be adopted from {effective_from}"
        )
    register_rule_set(con, rules)
    ensure_tables(con, ["official_rule_sets"])
    taken = con.execute(
        "SELECT rule_set_version FROM official_rule_sets WHERE effective_from = ?",
        [effective_from],
    ).fetchall()
    if taken:
        raise RuleSetError(
            f"{effective_from} 起已采用评价标准 {taken[0][0]} / rule set {taken[0][0]} is "
            f"already official from {effective_from}"
        )
    row = {
        "rule_set_version": rules.version,
        "content_sha256": rules.content_sha256,
        "effective_from": effective_from,
        "adopted_at": datetime.now(UTC).replace(tzinfo=None),
        "actor": actor,
        "reason": reason,
    }
    schema = schema_of("official_rule_sets")
    insert(con, "official_rule_sets", pl.DataFrame([row], schema=schema), schema)


def ensure_official(
    con: duckdb.DuckDBPyConnection, configured: RuleSet, *, explicit: bool
) -> OfficialRules:
    """The official rule sets; a new warehouse adopts the configured one from its own
    `effective_from`. A rule set named explicitly (`--rules`, `$RENFANG_RULES`) must be one
    of them: official scores come only from official rules (a what-if is a scenario)."""
    official = official_rules(con)
    if not official.adopted:
        adopt_rule_set(
            con, configured, configured.effective_from, actor="system",
            reason="初次运行采用 / adopted by the first run",
        )  # fmt: skip
        return official_rules(con)
    check_identity(configured, known_rule_sets(con))
    if explicit and all(
        r.version != configured.version or r.content_sha256 != configured.content_sha256
        for _, r in official.adopted
    ):
        raise NotOfficialError(
            f"评价标准 {configured.version} 不是正式标准；请用 `renfang rules adopt` 采用，或用 "
            f"`renfang score --scenario` 测算 / rule set {configured.version} is not official: "
            "adopt it with `renfang rules adopt FILE --from DATE`, or try it as a scenario "
            "(`renfang score --rules FILE --scenario NAME`)"
        )
    return official


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


def firm_records(
    con: duckdb.DuckDBPyConnection, uscc: str, rules: RuleSet
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """One firm's `credit_records`, their statuses and its directory row under `rules`: what
    the engine needs to recompute the firm alone (its veto grounds, its path to the next
    tier)."""
    records = query(
        con,
        "SELECT * FROM credit_records WHERE uscc = ? AND rule_set_version = ?",
        [uscc, rules.version],
    )
    statuses = query(
        con,
        "SELECT * EXCLUDE (rule_set_version) FROM credit_record_status WHERE "
        "rule_set_version = ? AND record_id IN (SELECT unnest(?))",
        [rules.version, records["record_id"].unique().to_list()],
    ).cast(RECORD_STATUS_SCHEMA)
    firms = query(con, FIRMS_SQL + " WHERE uscc = ?", [uscc])
    return records, statuses, firms
