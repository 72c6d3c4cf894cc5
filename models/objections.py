"""Objections follow their clock: each 异议 has a decision deadline from the rule set.

What belongs here: the deadline of every objection in `credit_cases` — filed on D, decided
within `objection.decision_days` (calendar days, or official working days when the rule set
says so) under the rule set in force on the filing date — and its state as of a date:
`open` (undecided, deadline not passed), `overdue` (undecided past it), `decided`, or
`decided_late`. The centre's case page and `renfang objections` list the open and overdue
ones. While an objection is open the disputed record keeps its points, but nothing the rule
set's `objection.blocks` names rests on it (`models.grounds` for vetoes, the listing and
penalty-feed modules for the rest); the decision applies from its date.

What does not: what an objection's outcome does to a record (`record_status`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl

from models.credit_records import conform_source
from models.record_status import OBJECTION
from models.rules import RuleSet
from models.workdays import add_working_days, working_day_calendar

OBJECTION_DEADLINE_SCHEMA = pl.Schema(
    {
        "case_id": pl.Utf8(),
        "uscc": pl.Utf8(),
        "record_doc_no": pl.Utf8(),
        "filed_on": pl.Date(),
        "deadline": pl.Date(),
        "decided_on": pl.Date(),
        "decision": pl.Utf8(),
        "state": pl.Utf8(),
        "days_overdue": pl.Int64(),
        "as_of": pl.Date(),
        "rule_set_version": pl.Utf8(),
    }
)
"""One row per objection: its deadline and its state as of `as_of` (`days_overdue`:
calendar days past the deadline, undecided or until the decision; 0 when on time)."""

STATES_ZH = {
    "open": "办理中",
    "overdue": "已超期",
    "decided": "已办结",
    "decided_late": "超期办结",
}


def objection_deadlines(
    cases: pl.DataFrame,
    adopted: Sequence[tuple[date, RuleSet]],
    as_of: date,
) -> pl.DataFrame:
    """Every objection of `cases` with its deadline and state as of `as_of`, each judged by
    the rule set in force on its filing date (`adopted`: official rule sets by start date;
    an objection filed before the first is judged by the first)."""
    objections = (
        conform_source(cases, "credit_cases")
        .filter(pl.col("kind") == OBJECTION)
        .select("case_id", "uscc", "record_doc_no", "filed_on", "decided_on", "decision")
        .collect()
    )
    if objections.is_empty() or not adopted:
        return pl.DataFrame(schema=OBJECTION_DEADLINE_SCHEMA)
    starts = [start for start, _ in adopted]
    parts = []
    for i, (start, rules) in enumerate(adopted):
        later = starts[i + 1] if i + 1 < len(starts) else None
        mine = objections.filter(
            (pl.col("filed_on") >= start) | pl.lit(i == 0),
            pl.col("filed_on") < later if later else pl.lit(True),
        )
        parts.append(_deadlines(mine, rules))
    found = pl.concat(parts)
    decided = pl.col("decided_on").is_not_null() & (pl.col("decided_on") <= as_of)
    late_by = pl.when(decided).then(pl.col("decided_on")).otherwise(pl.lit(as_of)) - pl.col(
        "deadline"
    )
    return (
        found.with_columns(
            state=pl.when(decided & (pl.col("decided_on") > pl.col("deadline")))
            .then(pl.lit("decided_late"))
            .when(decided)
            .then(pl.lit("decided"))
            .when(pl.lit(as_of) > pl.col("deadline"))
            .then(pl.lit("overdue"))
            .otherwise(pl.lit("open")),
            days_overdue=late_by.dt.total_days().clip(lower_bound=0),
            # a decision taken after `as_of` is not known yet
            decided_on=pl.when(decided).then(pl.col("decided_on")),
            decision=pl.when(decided).then(pl.col("decision")),
            as_of=pl.lit(as_of),
        )
        .filter(pl.col("filed_on") <= as_of)
        .select(OBJECTION_DEADLINE_SCHEMA.names())
        .cast(OBJECTION_DEADLINE_SCHEMA)
        .sort("deadline", "case_id")
    )


def _deadlines(objections: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    n = rules.objection.decision_days
    version = pl.lit(rules.version)
    if not rules.objection.working_days:
        return objections.with_columns(
            deadline=pl.col("filed_on") + pl.duration(days=n), rule_set_version=version
        )
    days = objections["filed_on"].drop_nulls()
    if days.is_empty():
        return objections.with_columns(
            deadline=pl.lit(None, dtype=pl.Date), rule_set_version=version
        )
    first, last = days.min(), days.max()
    assert isinstance(first, date) and isinstance(last, date)  # a non-empty date column
    calendar = working_day_calendar(first, last + timedelta(days=3 * n + 60))
    return add_working_days(objections, "filed_on", n, "deadline", calendar).with_columns(
        rule_set_version=version
    )


def open_objections(deadlines: pl.DataFrame) -> pl.DataFrame:
    """The objections still to decide (open or overdue), most urgent first."""
    return deadlines.filter(pl.col("state").is_in(["open", "overdue"])).sort("deadline", "case_id")
