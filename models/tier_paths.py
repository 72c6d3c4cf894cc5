"""Tier paths and repair options: how a firm's tier can get better from T on (docs §5).
("docs §N" below: section N of docs/credit-engine.md, the engine's specification.)

What belongs here: `tier_paths` — for each firm as of T, the next better tier and the first
date it is reached if nothing new happens (records and vetoes expiring; bonuses expiring can
also lower the score on the way) — and `repair_options` — for each counting bad record, from
when a credit repair (信用修复) could clear it and the tier the firm would have without it.
Also here: what a later processing date changes (`firms_with_events`, `moved_on`): the firms
whose rows must be derived again, and how the others' rows follow the date.
What does not: whether a record counts and what a score is (`scoring`, whose timeline and
reasons this module reads), or deciding repair cases (`record_status`).
"""

from __future__ import annotations

from dataclasses import dataclass
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


# --- a later processing date ------------------------------------------------------------------

RECORD_EVENT_DATES: tuple[str, ...] = (
    "collected_on",
    "valid_from",
    "valid_until",
    "segment_from",
    "segment_until",
)
"""The dates of a credit record on which a firm's path can change (see `firms_with_events`)."""
STATUS_EVENT_DATES: tuple[str, ...] = ("status_from", "status_until")
"""The dates of a record status on which its firm's path can change."""


def firms_with_events(
    records: pl.DataFrame, statuses: pl.DataFrame, after: date, upto: date
) -> pl.Series:
    """The firms (`uscc`, sorted) whose `tier_paths` and `repair_options` as of `upto` may
    differ from theirs as of `after` (< `upto`) by more than `moved_on`: those with a record
    or status date in (after, upto] (`RECORD_EVENT_DATES`, `STATUS_EVENT_DATES`).

    Why these dates are all: as of T the paths read the records collected by T and the
    statuses decided by T, and each firm's timeline changes only on the dates of its own
    records and statuses — a span starts on max(collected_on, valid_from, segment_from) and
    ends on min(valid_until, segment_until, a stopping status_from); it is cut where a repeat
    starts (an earlier record's collected_on) or ends (a revoking status_from) and where a
    dispute or gap starts or ends (status_from, status_until). Without such a date in
    (after, upto], the same facts are known, the same pieces count on both days (so the
    same reasons and sums today) and the timeline has no step between them (so the same
    next better tier). What still moves is T itself: `as_of`, and the repair date
    max(eligible, T), which becomes max(its old value, upto) — and a repair option's test
    (that date before `valid_until`) keeps its answer, since the record still counts on
    `upto`, so `valid_until` > `upto`. The repeat window's end and the repair eligibility
    date (valid_from + months) are compared with other records' dates or through
    max(·, T) only, never with T alone: they are no events.

    A status belongs to the firm of its record (`records` must hold the records of every
    status). A date of a record collected (or a status decided) after `upto` changes
    nothing yet; counting it anyway only derives a firm again for nothing.
    """

    def in_between(columns: tuple[str, ...]) -> pl.Expr:
        return pl.any_horizontal(
            (pl.col(c) > after) & (pl.col(c) <= upto) for c in columns
        ).fill_null(False)

    moved_records = records.filter(in_between(RECORD_EVENT_DATES)).select("uscc")
    moved_statuses = (
        statuses.filter(in_between(STATUS_EVENT_DATES))
        .select("record_id")
        .join(records.select("record_id", "uscc").unique(), on="record_id")
        .select("uscc")
    )
    return pl.concat([moved_records, moved_statuses]).get_column("uscc").unique().sort()


@dataclass(frozen=True)
class DateColumns:
    """The columns of a table that follow the processing date T for a firm without events:
    `today` holds T, `not_before` holds max(date, T)."""

    today: tuple[str, ...]
    not_before: tuple[str, ...] = ()


FOLLOWING_T: dict[str, DateColumns] = {
    "tier_paths": DateColumns(today=("as_of",)),
    "repair_options": DateColumns(today=("as_of",), not_before=("repair_eligible_from",)),
}
"""Per table, the only columns that change when T moves on for a firm without events
(`firms_with_events`); `warehouse.credit` moves the stored rows by this table in SQL."""


def moved_on(frame: pl.DataFrame, table: str, as_of: date) -> pl.DataFrame:
    """Rows of `table` (`tier_paths` or `repair_options`) of firms without events between
    their `as_of` and the later `as_of`: the rows `tier_paths` gives as of that date.

    The reference for the SQL update of the stored rows (`warehouse.credit`)."""
    columns = FOLLOWING_T[table]
    day = pl.lit(as_of, dtype=pl.Date)
    return frame.with_columns(
        *(day.alias(c) for c in columns.today),
        *(pl.max_horizontal(c, day).alias(c) for c in columns.not_before),
    )
