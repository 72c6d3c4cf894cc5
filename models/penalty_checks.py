"""Cross-field rules on penalty decisions that come from the rule set, not the contract.

What belongs here: the `RowRule`s ingestion applies to penalty decisions under the official
rule sets — a fine above the statutory maximum of its violation category (人民防空法 art.
48/49 bands, `penalties.fine_limits`, judged by the rule set in force on the decision date),
and a decision not to penalise (不予处罚 / 轻微违法免罚) that also names a penalty or a fine.
A row breaking one is quarantined with the reason and the limit's legal basis.

The contract's own cross-field rules (`date_order`: a penalty ending before its decision,
evidence dated after its collection) are `row_checks`'. What does not: reading the
rule sets (`warehouse.credit`), scoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from models.row_checks import RowRule
from models.rules import RuleSet


def penalty_rules(adopted: Sequence[tuple[date, RuleSet]]) -> list[RowRule]:
    """The rule-set row rules for `penalty_decisions` (`adopted`: rule sets by start date,
    each judging the decisions dated from its start; the first also those before it)."""
    if not adopted:
        return []
    limit: pl.Expr = pl.lit(None, dtype=pl.Float64)
    basis: pl.Expr = pl.lit(None, dtype=pl.Utf8)
    exempt: pl.Expr = pl.lit(None, dtype=pl.List(pl.Utf8))
    for i, (start, rules) in enumerate(adopted):
        applies = pl.lit(True) if i == 0 else pl.col("decided_on") >= start
        limit = pl.when(applies).then(_limit(rules, "max")).otherwise(limit)
        basis = pl.when(applies).then(_limit(rules, "basis")).otherwise(basis)
        types = list(rules.penalties.no_penalty_types)
        exempt = pl.when(applies).then(pl.lit(types, dtype=pl.List(pl.Utf8))).otherwise(exempt)
    fine = pl.col("fine_amount")
    listed = pl.col("penalty_types")
    names_exempt = listed.list.set_intersection(exempt).list.len() > 0
    names_other = listed.list.set_difference(exempt).list.len() > 0
    return [
        RowRule(
            when=(fine > limit).fill_null(False),
            column="fine_amount",
            code="fine_above_limit",
            note_zh=pl.format("（{}：最高{}元）", basis, limit.cast(pl.Int64)),
            note_en=pl.format(" ({}: at most {} yuan)", basis, limit.cast(pl.Int64)),
        ),
        RowRule(
            when=(names_exempt & (names_other | (fine.fill_null(0) > 0))).fill_null(False),
            column="penalty_types",
            code="no_penalty_with_penalty",
        ),
    ]


def _limit(rules: RuleSet, field: str) -> pl.Expr:
    """The category's limit (`max` or `basis`), else the catch-all's, else null."""
    limits = rules.penalties.fine_limits
    catch_all = next((f for f in limits if not f.categories), None)
    default = getattr(catch_all, field) if catch_all else None
    mapping = {c: getattr(f, field) for f in limits for c in f.categories}
    dtype = pl.Float64 if field == "max" else pl.Utf8
    if not mapping:
        return pl.lit(default, dtype=dtype)
    return pl.col("violation_category").replace_strict(mapping, default=default, return_dtype=dtype)
