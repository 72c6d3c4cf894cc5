"""Tier paths and repair options: how a firm's tier can get better from T on (docs §5).
("docs §N" below: section N of docs/credit-engine.md, the engine's specification.)

What belongs here: `tier_paths` — for each firm as of T, the next better tier and the first
date it is reached if nothing new happens (records and vetoes expiring; bonuses expiring can
also lower the score on the way) — and `repair_options` — for each counting bad record, from
when a credit repair (信用修复) could clear it and the tier the firm would have without it.
What does not: whether a record counts and what a score is (`scoring`, whose timeline and
reasons this module reads), or deciding repair cases (`record_status`).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from models.credit_schema import REPAIR_OPTION_SCHEMA, TIER_PATH_SCHEMA
from models.rules import RuleSet
from models.scoring import score_expr, score_timeline, tier_with_veto_expr


def tier_paths(
    records: pl.DataFrame,
    statuses: pl.DataFrame,
    firms: pl.DataFrame,
    rules: RuleSet,
    as_of: date,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(`tier_paths`, `repair_options`) of every firm of `firms` as of T."""
    timeline = score_timeline(records, statuses, firms, rules, as_of)
    now = timeline.steps.filter(pl.col("on") == as_of)
    paths = _paths(timeline.steps, now, rules, as_of)
    bad = timeline.reasons.filter(pl.col("polarity") == "bad")
    return paths, _repair_options(_with_repair_months(bad, records, rules), now, rules)


def _paths(timeline: pl.DataFrame, now: pl.DataFrame, rules: RuleSet, as_of: date) -> pl.DataFrame:
    """The first later date on the timeline whose tier is better than today's.

    `next_tier` is the tier reached on that date, which can be better than the next one up
    (a veto expiring lifts a firm of 70 points from D straight to B). If waiting alone never
    improves the tier, `next_tier` is the next one up and `next_tier_on` is null: reaching it
    takes new facts (a repair, a commendation).
    """
    rank = rules.tier_rank_expr
    current = now.select("uscc", "score", current_tier="tier", current_rank=rank(pl.col("tier")))
    better = (
        timeline.filter(pl.col("on") > as_of)
        .join(current.select("uscc", "current_rank"), on="uscc")
        .filter(rank(pl.col("tier")) < pl.col("current_rank"))
        .sort("uscc", "on")
        .unique("uscc", keep="first")
        .select("uscc", reached="tier", next_tier_on="on", next_tier_score="score")
    )
    one_up = {name: rules.tier_names[i - 1] for i, name in enumerate(rules.tier_names) if i > 0}
    return (
        current.join(better, on="uscc", how="left")
        .with_columns(
            as_of=pl.lit(as_of),
            next_tier=pl.coalesce(
                "reached",
                pl.col("current_tier").replace_strict(one_up, default=None, return_dtype=pl.Utf8),
            ),
        )
        .select(TIER_PATH_SCHEMA.names())
        .cast(TIER_PATH_SCHEMA)
        .sort("uscc")
    )


def _with_repair_months(bad: pl.DataFrame, records: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """`months`: each bad reason's minimum repair period — its record's, the longest over
    the record's segments, as `record_status` judges a repair case (a case covers the whole
    record). A segment not counting as of T can only lengthen it if it has a longer period
    than the shortest among segmented records (none in the default rules: corrections are
    L1 then L3), so only those few rows are looked up."""

    def months(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            months=rules.repair_min_months(pl.col("severity"), pl.col("category"), pl.col("veto"))
        )

    segmented = months(
        records.filter((pl.col("segment") > 0) | pl.col("segment_until").is_not_null())
    )
    longer = (
        segmented.filter(pl.col("months") > pl.col("months").min())
        .group_by("record_id")
        .agg(pl.col("months").max().alias("longer"))
    )
    own = months(bad)
    if longer.is_empty():
        return own
    return (
        own.join(longer, on="record_id", how="left")
        .with_columns(months=pl.max_horizontal("months", "longer"))
        .drop("longer")
    )


def _repair_options(bad: pl.DataFrame, now: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """One row per counting bad record (veto records included) that a repair could clear
    before it expires anyway.

    Eligible from `valid_from` + the record's minimum repair period (from T if that is
    past); a record whose window ends first is no option. `tier_if_repaired` is the tier as
    of T if this record alone stopped counting: the firm's sums as of T without its points
    (and without its veto).
    """
    # One constant offset per distinct period (a rule set has two) is much cheaper than
    # a per-row offset string.
    eligible = pl.coalesce(
        pl.lit(None, pl.Date),  # no bad record, no period
        *(
            pl.when(pl.col("months") == m).then(pl.col("valid_from").dt.offset_by(f"{m}mo"))
            for m in bad["months"].unique().to_list()
        ),
    )
    return (
        bad.join(now.select("uscc", "bonus", "deduction", "vetoes"), on="uscc")
        .with_columns(
            repair_eligible_from=pl.max_horizontal(eligible, pl.col("as_of")),
            points_cleared=pl.col("points").abs(),  # a bad record's points are ≤ 0
        )
        .filter(pl.col("repair_eligible_from") < pl.col("valid_until"))
        .with_columns(
            score_if_repaired=score_expr(
                rules, pl.col("bonus"), pl.col("deduction") - pl.col("points_cleared")
            ),
            veto_if_repaired=(pl.col("vetoes") - pl.col("veto").cast(pl.Int64)) > 0,
        )
        .with_columns(
            tier_if_repaired=tier_with_veto_expr(
                rules, pl.col("score_if_repaired"), pl.col("veto_if_repaired")
            )
        )
        .select(REPAIR_OPTION_SCHEMA.names())
        .cast(REPAIR_OPTION_SCHEMA)
        .sort("uscc", "record_id")
    )
