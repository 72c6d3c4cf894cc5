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

from models.credit_records import conform_source, derive_credit_records
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


def statuses_of(records: pl.DataFrame, cases: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """The status history of the records from the credit cases (objections, repairs)."""
    return record_status_history(records, cases, rules)


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
) -> EngineResult:
    """The whole sequence from the clean source tables (penalty decisions, correction
    notices, circulars, commendations, inspection outcomes — any subset)."""
    records = derive_credit_records(dict(sources), rules)
    return score_records(records, cases, firms, rules, dates)
