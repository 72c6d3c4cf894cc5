"""The credit engine's one scoring sequence: documents → records → statuses → spans → scores.

What belongs here: the composition every caller uses — the Dagster assets (step by step, one
asset per step, through the same step functions), `renfang score`, `renfang backtest` and the
round's tiers as of a date — so objections, repairs and revocations count the same way
everywhere. Each step is a pure function of frames and the rule set.

What does not: the rules of each step (`credit_records`, `record_status`, `scoring`), where
the frames come from or go to (`warehouse`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from models.credit_records import (
    EVIDENCE_TYPES,
    conform_source,
    in_record_order,
    overdue_vetoes,
    source_records,
)
from models.credit_schema import CREDIT_RECORD_SCHEMA, RECORD_STATUS_SCHEMA
from models.grounds import derived_statuses
from models.record_status import record_status_history
from models.rules import RuleSet
from models.scoring import reason_spans, scores_from_spans


@dataclass(frozen=True)
class EngineResult:
    """Every intermediate of one scoring: what the assets store table by table."""

    records: pl.DataFrame
    statuses: pl.DataFrame
    spans: pl.DataFrame
    scores: pl.DataFrame


def no_cases() -> pl.DataFrame:
    """No objections or repairs (e.g. a backtest from files without a case register), with
    the columns of the clean `credit_cases` table."""
    return conform_source(pl.DataFrame(), "credit_cases").collect()


WITHDRAWN = "withdrawn"
"""The status of a record from the day its file was withdrawn or superseded
(`models.supersession`): it counts before that day, never after."""


STATUS_RECORD_COLUMNS: tuple[str, ...] = (
    "record_id",
    "uscc",
    "evidence_doc_no",
    "evidence_valid",
    "polarity",
    "category",
    "severity",
    "valid_from",
    "segment_until",
    "collected_on",
    "veto",
    "retired_on",
    "grounds",
    "grounds_needed",
    "same_fact_as",
)
"""The columns of `credit_records` that `statuses_of` reads: a caller reading the records
from storage for it needs no other. (`models.grounds` derives nothing from records without
`grounds` or `same_fact_as`: both are here.)"""


def moves_statuses(
    changed: pl.DataFrame, around: pl.DataFrame, cases: pl.DataFrame
) -> pl.DataFrame:
    """The rows of `changed` (record rows deleted or inserted) that `statuses_of` reads:
    named by one of the `cases` (its firm and document), retired, a veto on grounds, a
    record linked to a fact (`same_fact_as`), or a ground or a fact that a row of `around`
    names. `around` must hold every row, before and after, that could name them: a veto
    rests on records of its own source, and a circular's or a notice's fact is a penalty
    decision whose change derives them again too. Any other row — a day's new documents
    without a case, a veto or a link, most of them — changes no status of its firm
    (`statuses_of` reads it through no case, ground, fact or retirement), so
    `warehouse.credit.update_statuses` derives such firms no more."""
    grounds = around.get_column("grounds").explode().drop_nulls().unique()
    facts = around.get_column("same_fact_as").drop_nulls().unique()
    base = pl.col("record_id").str.replace(r"@.*$", "")
    linked = (
        pl.col("retired_on").is_not_null()
        | (pl.col("grounds").list.len().fill_null(0) > 0)
        | pl.col("same_fact_as").is_not_null()
        | pl.col("record_id").is_in(grounds.implode())
        | base.is_in(facts.implode())
    )
    named = cases.select("uscc", evidence_doc_no="record_doc_no").unique()
    return pl.concat(
        [
            changed.filter(linked.fill_null(False)),
            changed.join(named, on=["uscc", "evidence_doc_no"], how="semi"),
        ]
    )


def statuses_of(records: pl.DataFrame, cases: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """The status history of the records: from the credit cases (objections, repairs), from
    the retirement of the files they came from, and what follows from those for the records
    resting on them (`models.grounds`: vetoes on their grounds, one fact once)."""
    direct = _direct_statuses(records, cases, rules)
    derived = derived_statuses(records, direct, rules)
    return pl.concat([direct, derived]).sort("record_id", "status_from", "case_id", "status")


def _direct_statuses(records: pl.DataFrame, cases: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    from_cases = record_status_history(records, cases, rules)
    retired = (
        records.filter(pl.col("retired_on").is_not_null())
        .group_by("record_id")
        .agg(pl.col("retired_on").min())
    )
    if retired.is_empty():
        return from_cases
    withdrawn = retired.select(
        "record_id",
        status=pl.lit(WITHDRAWN),
        status_from=pl.col("retired_on"),
        status_until=pl.lit(None, dtype=pl.Date),
        case_id=pl.lit(None, dtype=pl.Utf8),
        reason=pl.lit("文件已撤回或被新版本取代 / file withdrawn or superseded"),
        ground_doc_no=pl.lit(None, dtype=pl.Utf8),
    ).cast(RECORD_STATUS_SCHEMA)
    return pl.concat([from_cases, withdrawn]).sort("record_id", "status_from", "case_id", "status")


def retired_records(
    source: str, rows: pl.DataFrame, rules: RuleSet, penalties: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The records of a source's retired rows (`models.supersession`): each keeps its own
    identity — its id ends in `@` and the first 12 characters of its file's hash, so it never
    collides with the record of the version in force — and its `retired_on`."""
    if rows.is_empty():
        return pl.DataFrame(schema=CREDIT_RECORD_SCHEMA)
    parts = []
    for (sha, day), group in rows.group_by("file_sha256", "retired_on", maintain_order=True):
        derived = source_records(source, group, rules, penalties).collect()
        parts.append(
            derived.with_columns(
                record_id=pl.col("record_id") + pl.lit(f"@{str(sha)[:12]}"),
                retired_on=pl.lit(day, dtype=pl.Date),
                # a veto of a retired row rests on that row's record, not on the current one
                grounds=pl.col("grounds").list.eval(pl.element() + pl.lit(f"@{str(sha)[:12]}")),
            )
        )
    return in_record_order(pl.concat(parts).lazy()).collect()


def spans_of(
    records: pl.DataFrame, statuses: pl.DataFrame, firms: pl.DataFrame, rules: RuleSet
) -> pl.DataFrame:
    """Every record piece that moves a score, with the as-of span in which it counts."""
    return reason_spans(records, statuses, firms, rules)


def scores_of(
    spans: pl.DataFrame, firms: pl.DataFrame, rules: RuleSet, dates: Sequence[date]
) -> pl.DataFrame:
    """Score and tier of every firm at each date, from the spans (consistent with the reasons
    by construction)."""
    return scores_from_spans(spans, firms, rules, dates)


def score_records(
    records: pl.DataFrame,
    cases: pl.DataFrame,
    firms: pl.DataFrame,
    rules: RuleSet,
    dates: Sequence[date],
) -> EngineResult:
    """Records (already derived) → statuses → spans → scores at `dates`."""
    statuses = statuses_of(records, cases, rules)
    spans = spans_of(records, statuses, firms, rules)
    return EngineResult(records, statuses, spans, scores_of(spans, firms, rules, dates))


def score_documents(
    sources: Mapping[str, pl.DataFrame],
    cases: pl.DataFrame,
    firms: pl.DataFrame,
    rules: RuleSet,
    dates: Sequence[date],
    retired: Mapping[str, pl.DataFrame] | None = None,
) -> EngineResult:
    """The whole sequence from the clean source tables (penalty decisions, correction
    notices, circulars, commendations, inspection outcomes — any subset) and the retired
    rows of those sources (`retired_<source>`, with `retired_on`)."""
    penalties = sources.get("penalty_decisions")
    parts = [
        source_records(name, sources[name], rules, penalties).collect()
        for name in EVIDENCE_TYPES
        if name in sources
    ] + [retired_records(name, rows, rules, penalties) for name, rows in (retired or {}).items()]
    records = pl.concat(parts) if parts else pl.DataFrame(schema=CREDIT_RECORD_SCHEMA)
    records = in_record_order(pl.concat([records, overdue_vetoes(records, rules)]).lazy()).collect()
    return score_records(records, cases, firms, rules, dates)
