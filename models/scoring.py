"""Scoring: credit records → scores, tiers and reasons, as of one date or many (docs §1–§3, §5).
("docs §N" below: section N of docs/credit-engine.md, the engine's specification.)

What belongs here: the counting predicate of docs §1, the repeat multiplier of docs §2, the
score formula and the tier with its veto override of docs §3, and the outputs
`credit_scores` and `score_reasons` — for one as-of date or for a whole series of them —
plus each firm's score timeline from T on if nothing new happens (read by `tier_paths`).

The predicate lives in one place, as *spans*: for each record segment, the half-open interval
of as-of dates `[span_from, span_until)` on which it counts, cut into pieces on which its
reason row (multiplier, disputed or not) is constant. "Counts as of T" is then
`span_from ≤ T < span_until`, whether T is one date or sixty. Scores for many dates are
sums of span points over the dates each span covers, computed as deltas (+points where a
span starts, −points where it ends) and a running sum per firm: linear in records plus
firms × dates, never records × dates. Reasons are records × dates by nature, so they stay an
interval table (`reason_spans`) and are expanded only for the dates asked for.

What does not: deriving records from documents (`credit_records`), statuses from objection and
repair cases (`record_status`), the future of a tier (`tier_paths`), changes between dates
(`tier_changes`), and anything about storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar, cast

import numpy as np
import polars as pl

from models.credit_schema import CREDIT_SCORE_SCHEMA, SCORE_REASON_SCHEMA
from models.rules import RuleSet

STOPPING_STATUSES: tuple[str, ...] = (
    "revoked",
    "corrected",
    "repaired",
    "withdrawn",
    "grounds_lost",
)
"""Statuses after which a record no longer counts (docs §4), from their `status_from` on
(`grounds_lost`: a veto whose grounds no longer hold, `models.grounds`)."""
GAP_STATUSES: tuple[str, ...] = ("suspended", "same_fact")
"""Statuses during which a record does not count, from `status_from` until `status_until`
(null: open): a veto while a record it rests on is disputed, a document that records the
fact a penalty decision already deducts (`models.grounds`)."""
REPEAT_BREAKING_STATUSES: tuple[str, ...] = ("revoked", "corrected", "withdrawn")
"""Statuses after which a record no longer makes a later one a repeat (docs §2): a revoked or
corrected record did not happen as recorded, nor, from its date, does a record whose file was
withdrawn or superseded; a repaired one did happen, it only stopped counting."""
DISPUTED = "disputed"
"""Reason status while an objection runs (docs §4); the record keeps counting."""
ACTIVE = "active"

OPEN = date(9999, 12, 31)
"""Stands in for an open end (null `valid_until` / `segment_until` / `status_until`) inside
this module, so that interval arithmetic has no null cases; public tables show null again."""

REASON_SPAN_SCHEMA = pl.Schema(
    {
        **{c: t for c, t in SCORE_REASON_SCHEMA.items() if c != "as_of"},
        "veto_reason": pl.Utf8(),
        "span_from": pl.Date(),
        "span_until": pl.Date(),
        "points_micro": pl.Int64(),
        "veto_rank": pl.Int32(),
    }
)
"""`score_reasons` as an interval table: the row (without `as_of`) is a reason as of every
date T with `span_from ≤ T < span_until` (null `span_until`: open).

Two columns serve the as-of scoring of the stored spans (`warehouse.credit.span_sums`), so
that one aggregate does it with integers: `points_micro`, the points in the whole millionths
sums run in (`_micro`), and `veto_rank`, the order of a veto span among its firm's vetoes
(`with_scoring_columns`; null for any other span)."""

VETO_ORDER: tuple[tuple[str, bool], ...] = (("valid_until", True), ("record_id", False))
"""(column, descending): the order in which the veto records counting on a date are
reported (`veto_until`, `veto_reason`): the one lasting longest first (an open end, null,
before any date), then the smallest record id."""

_MICRO = 1e6
"""Points are summed as whole millionths: adding and later subtracting the same values then
leaves no float residue (0.1 + 0.2 − 0.1 − 0.2 ≠ 0) that could tip a score at a tier
threshold; rule-set points have far fewer decimals."""
_SUMS = ["bonus", "deduction", "vetoes"]


def _micro(points: pl.Expr) -> pl.Expr:
    """Points as whole millionths (half to even, as numpy's `rint` in `_scores`)."""
    return (points * _MICRO).round(0, mode="half_to_even").cast(pl.Int64)


FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def _in_veto_order(frame: FrameT, *first: str) -> FrameT:
    """`frame` sorted by the columns `first`, then by `VETO_ORDER`."""
    return frame.sort(
        [*first, *(c for c, _ in VETO_ORDER)],
        descending=[*(False for _ in first), *(d for _, d in VETO_ORDER)],
        nulls_last=False,
    )


def _points(micro: pl.Expr) -> pl.Expr:
    """Whole millionths back to points, correctly rounded like numpy's `micro / 1e6`.

    Polars divides a column by a scalar as a multiplication by its reciprocal, which is off
    by one ulp for ~30% of values (100000 / 1e6 → 0.09999999999999999): the same sums would
    then give scores differing in the last bit between the three scoring paths. A decimal
    of scale 6 holds the millionths exactly and converts to the nearest float.
    """
    return (micro.cast(pl.Decimal(38, 6)) / 10**6).cast(pl.Float64)


_REASON_TEXT = [
    "uscc",
    "record_id",
    "segment",
    "polarity",
    "severity",
    "category",
    "rule",
    "evidence_type",
    "evidence_doc_no",
    "valid_from",
    "valid_until",
    "veto_reason",
]
"""Columns a reason copies from its record; spans carry only the record's row number."""

RECORD_COLUMNS: tuple[str, ...] = (
    *_REASON_TEXT,
    "points",
    "segment_from",
    "segment_until",
    "collected_on",
    "evidence_valid",
    "veto",
)
"""The columns of `credit_records` that `reason_spans` and `score_timeline` read: a caller
reading the records from storage for them needs no other (a missing one is an error, never
a silent null). Not the source, rule set, retirement date and grounds: their effects reach
the spans through the statuses."""


@dataclass(frozen=True)
class Scores:
    """Scores and the reasons behind them, for the same firms and as-of dates."""

    scores: pl.DataFrame  # CREDIT_SCORE_SCHEMA
    reasons: pl.DataFrame  # SCORE_REASON_SCHEMA


# --- the score formula, shared by every consumer -------------------------------------------


def score_expr(rules: RuleSet, bonus: pl.Expr, deduction: pl.Expr) -> pl.Expr:
    """docs §3: clamp(base + min(Σ bonus, cap) − Σ deduction), with `bonus` before the cap
    and `deduction` a positive number after multipliers."""
    s = rules.score
    capped = pl.min_horizontal(bonus, pl.lit(s.bonus_cap))
    return (pl.lit(s.base) + capped - deduction).clip(s.min, s.max)


def tier_with_veto_expr(rules: RuleSet, score: pl.Expr, veto: pl.Expr) -> pl.Expr:
    """The tier of a score, overridden by `rules.veto_tier` whenever a veto record counts."""
    return pl.when(veto).then(pl.lit(rules.veto_tier)).otherwise(rules.tier_expr(score))


# --- public entry points --------------------------------------------------------------------


def score_as_of(
    records: pl.DataFrame,
    statuses: pl.DataFrame,
    firms: pl.DataFrame,
    rules: RuleSet,
    as_of: date,
) -> Scores:
    """Scores and reasons of every firm of `firms` as of T (docs §1–§3): point-in-time, from
    what the credit system knew at the end of day T. Records of firms missing from `firms`
    are ignored: the directory defines who is scored."""
    return score_history(records, statuses, firms, rules, [as_of])


def score_history(
    records: pl.DataFrame,
    statuses: pl.DataFrame,
    firms: pl.DataFrame,
    rules: RuleSet,
    as_of_dates: Sequence[date],
    reason_dates: Sequence[date] | None = None,
) -> Scores:
    """Scores and reasons as of each date — the same rows as `score_as_of` date by date,
    concatenated in date order — computed in one pass.

    Reasons are records × dates: 10M records over 60 month-ends make ~10⁸ reason rows, where
    the scores are only firms × dates. `reason_dates` (default: every as-of date) limits them
    to the dates someone will look at; pass `()` for scores alone, and keep `reason_spans`
    (about one row per record) if the reasons of every date must stay reachable.
    """
    dates = _sorted_dates(as_of_dates)
    wanted = dates if reason_dates is None else _sorted_dates(reason_dates)
    if not wanted.is_in(dates.implode()).all():
        raise ValueError("reason_dates must be among as_of_dates")
    if dates.is_empty():
        return Scores(
            pl.DataFrame(schema=CREDIT_SCORE_SCHEMA), pl.DataFrame(schema=SCORE_REASON_SCHEMA)
        )
    firm_ids = _firm_ids(firms)
    spans = _spans(records, statuses, firm_ids, rules, (dates[0], dates[-1]))
    return Scores(_scores(spans, records, firm_ids, rules, dates), _reasons(spans, records, wanted))


def reasons_as_of(
    records: pl.DataFrame,
    statuses: pl.DataFrame,
    firms: pl.DataFrame,
    rules: RuleSet,
    as_of: date,
) -> pl.DataFrame:
    """`score_reasons` as of T (SCORE_REASON_SCHEMA): one row per counting record segment,
    veto records included (0 points, `veto` true)."""
    spans = _spans(records, statuses, _firm_ids(firms), rules, (as_of, as_of))
    return _reasons(spans, records, _sorted_dates([as_of]))


def reason_spans(
    records: pl.DataFrame, statuses: pl.DataFrame, firms: pl.DataFrame, rules: RuleSet
) -> pl.DataFrame:
    """Every reason the records can produce, with the as-of dates it holds on
    (REASON_SPAN_SCHEMA). About one row per record: the form in which the reasons of a long
    series of dates can be stored; `expand_reasons` gives the rows of chosen dates."""
    spans = _spans(records, statuses, _firm_ids(firms), rules, None)
    text = _with_text(spans, records).with_columns(
        span_until=pl.when(pl.col("span_until") < OPEN).then(pl.col("span_until")),
    )
    return (
        with_scoring_columns(text)
        .select(REASON_SPAN_SCHEMA.names())
        .cast(REASON_SPAN_SCHEMA)
        .sort("uscc", "record_id", "segment", "span_from")
    )


def with_scoring_columns(spans: pl.DataFrame) -> pl.DataFrame:
    """`spans` — every span of their firms under one rule set — with the two columns a stored
    as-of scoring aggregates (REASON_SPAN_SCHEMA): `points_micro`, the points in whole
    millionths, and `veto_rank`: among the veto spans of the firm, 1 for the record reported
    first (`VETO_ORDER`), 2 for the next record, and so on (pieces of one record share its
    rank); null for a span of no veto.

    The veto reported on a date is then the counting veto span with the smallest rank: an
    integer minimum instead of a sort on the record ids, the widest column of the spans
    (reading it was most of the cost of a stored as-of scoring).
    """
    key = ["uscc", *(c for c, _ in VETO_ORDER)]
    vetoes = _in_veto_order(spans.select(*key, "veto").with_row_index("at").filter("veto"), "uscc")
    new_record = pl.any_horizontal(pl.col(c).ne_missing(pl.col(c).shift(1)) for c in key)
    ranked = vetoes.select("at", rank=new_record.cast(pl.Int32).cum_sum().over("uscc"))
    ranks = pl.Series([None] * spans.height, dtype=pl.Int32).scatter(ranked["at"], ranked["rank"])
    return spans.with_columns(points_micro=_micro(pl.col("points")), veto_rank=ranks)


def expand_reasons(spans: pl.DataFrame, as_of_dates: Sequence[date]) -> pl.DataFrame:
    """`score_reasons` rows (SCORE_REASON_SCHEMA) of the given dates from `reason_spans`."""
    dates = _sorted_dates(as_of_dates)
    if dates.is_empty():
        return pl.DataFrame(schema=SCORE_REASON_SCHEMA)
    # `spans` is sorted by firm and record (`reason_spans`); a stable sort by date keeps that.
    expanded = _explode_dates(spans.with_columns(pl.col("span_until").fill_null(OPEN)), dates)
    return (
        expanded.sort("k", maintain_order=True)
        .select(SCORE_REASON_SCHEMA.names())
        .cast(SCORE_REASON_SCHEMA)
    )


@dataclass(frozen=True)
class Timeline:
    """A firm's future if nothing new becomes known (`score_timeline`), and why it stands
    where it does at T."""

    steps: pl.DataFrame  # uscc, on, bonus, deduction, vetoes, score, tier
    reasons: pl.DataFrame  # SCORE_REASON_SCHEMA, as of T


def score_timeline(
    records: pl.DataFrame,
    statuses: pl.DataFrame,
    firms: pl.DataFrame,
    rules: RuleSet,
    as_of: date,
) -> Timeline:
    """Each firm's score from T on if nothing new becomes known after T (docs §5), with the
    reasons as of T.

    `steps`: a row at T and one at every later date on which a known record starts or stops
    counting — windows and segments ending, a known later segment starting. Records
    collected and statuses decided after T are the new facts this view assumes away.
    Columns `uscc`, `on`, `bonus` (Σ before the cap), `deduction`, `vetoes` (counting veto
    records), `score`, `tier`; sorted by (uscc, on). The row at T equals `score_as_of`, and
    so do the reasons: as of T only what was known at T counts anyway.
    """
    firm_ids = _firm_ids(firms)
    spans = _spans(records, statuses, firm_ids, rules, (as_of, OPEN), known_by=as_of)
    micro = _micro(pl.col("points"))

    def change(sign: int) -> list[pl.Expr]:
        return [
            pl.when("good").then(micro * sign).otherwise(0).alias("bonus"),
            pl.when("good").then(0).otherwise(-micro * sign).alias("deduction"),
            (pl.col("veto").cast(pl.Int64) * sign).alias("vetoes"),
        ]

    at_start = spans.select(
        "f", pl.max_horizontal("span_from", pl.lit(as_of)).alias("on"), *change(1)
    )
    at_end = spans.filter(pl.col("span_until") < OPEN).select(
        "f", pl.col("span_until").alias("on"), *change(-1)
    )
    at_as_of = pl.DataFrame(  # every firm has a row at T, records or not
        {"f": np.arange(len(firm_ids), dtype=np.int64)}
    ).with_columns(pl.lit(as_of).alias("on"), *(pl.lit(0, pl.Int64).alias(c) for c in _SUMS))
    # Running sums per firm over its changes in date order: one sort on a packed (firm, day)
    # key, a running sum over the whole frame less its value where the firm starts, and
    # the last row of each (firm, day) — cheaper than a group-by, a sort and a window.
    firm_starts = pl.col("f") != pl.col("f").shift(1).fill_null(-1)
    steps = (
        pl.concat([at_as_of, at_start, at_end], how="vertical_relaxed")
        .with_columns(key=pl.col("f") * (1 << 32) + pl.col("on").cast(pl.Int64) + (1 << 31))
        .sort("key")
        .with_columns(pl.col(_SUMS).cum_sum())
        .with_columns(
            pl.col(c) - pl.when(firm_starts).then(pl.col(c).shift(1).fill_null(0)).forward_fill()
            for c in _SUMS
        )
        .filter(pl.col("key").is_last_distinct())
    )
    steps = (
        steps.with_columns(
            uscc=firm_ids.gather(steps.get_column("f")),
            bonus=_points(pl.col("bonus")),
            deduction=_points(pl.col("deduction")),
        )
        .with_columns(score=score_expr(rules, pl.col("bonus"), pl.col("deduction")))
        .with_columns(tier=tier_with_veto_expr(rules, pl.col("score"), pl.col("vetoes") > 0))
        .select("uscc", "on", "bonus", "deduction", "vetoes", "score", "tier")
    )
    return Timeline(steps, _reasons(spans, records, _sorted_dates([as_of])))


# --- spans: the counting predicate ----------------------------------------------------------


def _firm_ids(firms: pl.DataFrame) -> pl.Series:
    """The directory's firms, sorted: a firm's position is its index in every array below."""
    return firms.get_column("uscc").unique().sort()


def _spans(
    records: pl.DataFrame,
    statuses: pl.DataFrame,
    firm_ids: pl.Series,
    rules: RuleSet,
    window: tuple[date, date] | None,
    known_by: date | None = None,
) -> pl.DataFrame:
    """Spans (OPEN for open ends) as numbers: `row` of the record in `records`, firm index
    `f`, `good`, `veto`, signed `points` after the multiplier, `multiplier`, `disputed`,
    `span_from`, `span_until`. Only spans touching `window` [first, last], if given: the
    rest cannot count on any requested date, and dropping them first keeps one date cheap.
    With `known_by`, only records collected and statuses decided by that day exist.

    Every stage is materialised once because later stages read it several times; text
    columns stay in `records` and are fetched by row when a reason needs them.
    """
    if known_by is not None:
        statuses = statuses.filter(pl.col("status_from") <= known_by)
    counting, earlier = _facts(records, statuses, firm_ids, rules, window, known_by)
    repeats = _repeat_intervals(counting, earlier, rules)
    disputes = _status_intervals(records, statuses, counting, (DISPUTED,))
    gaps = _status_intervals(records, statuses, counting, GAP_STATUSES)
    pieces = (
        _pieces(counting, repeats, disputes, gaps)
        .filter(~pl.col("gap"))
        .lazy()
        .with_columns(
            multiplier=pl.when("multiplied").then(pl.lit(rules.repeat.multiplier)).otherwise(1.0)
        )
        .select(
            "row",
            "f",
            "good",
            "veto",
            # A zero-point veto record gets 0.0, not the -0.0 of negating it.
            points=pl.when(pl.col("good") | (pl.col("points") == 0))
            .then(pl.col("points") * pl.col("multiplier"))
            .otherwise(-pl.col("points") * pl.col("multiplier")),
            multiplier="multiplier",
            disputed="disputed",
            span_from="piece_from",
            span_until="piece_until",
        )
    )
    # A span touching the window may have been cut into pieces that do not.
    return pieces.filter(_touches(window)).collect()


_REPEATABLE = (
    (pl.col("polarity") == "bad")
    & ~pl.col("veto").fill_null(False)
    & pl.col("category").is_not_null()
)
"""A record that can be, or make, a repeat (docs §2): a bad record with a category, not a
veto record (a veto is no violation of its own; it rides on its document's record)."""


_SPAN_FROM = pl.max_horizontal("collected_on", "valid_from", "segment_from")
_SPAN_UNTIL = pl.min_horizontal("valid_until", "segment_until", pl.lit(OPEN))
"""A record segment's span before its statuses (docs §1): 1. collected by T, 2. inside its
validity window, 3. the segment in force (4., its stopping statuses, come later)."""
_GOOD = pl.col("polarity") == "good"
_EVIDENCED = pl.col("evidence_valid").fill_null(False)


def moves_spans() -> pl.Expr:
    """The record rows `reason_spans` reads (true) — every other row of `credit_records`
    leaves every span of its firm as it is, whatever it holds.

    `reason_spans` (`_facts`) keeps of a firm's records only those collected that either
    count on some date (good or evidenced, a non-empty span before statuses) or can make
    a later record a repeat (repeatable and evidenced); statuses reach the spans through
    those rows' record ids alone. So a firm whose changed rows (deleted or inserted) all
    fail this — a day's documents dated so long ago that they expired before they were
    collected, or unevidenced, are most of a national day's — keeps its spans, unless its
    statuses or its directory row changed (`warehouse.credit.update_spans`). A superset of
    the rows `_facts` keeps: the two are held equal by a test on generated records."""
    candidate = (_GOOD | _EVIDENCED) & (_SPAN_FROM < _SPAN_UNTIL)
    earlier = _REPEATABLE & _EVIDENCED
    return (pl.col("collected_on").is_not_null() & (candidate | earlier)).fill_null(False)


def _touches(window: tuple[date, date] | None) -> pl.Expr:
    """A non-empty span counting on some day of `window` [first, last] (any day if None)."""
    non_empty = pl.col("span_from") < pl.col("span_until")
    if window is None:
        return non_empty
    first, last = window
    return non_empty & (pl.col("span_from") <= last) & (pl.col("span_until") > first)


def _facts(
    records: pl.DataFrame,
    statuses: pl.DataFrame,
    firm_ids: pl.Series,
    rules: RuleSet,
    window: tuple[date, date] | None,
    known_by: date | None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(counting, earlier): the record segments of directory firms that count somewhere in
    `window`, as one interval each (docs §1: counts as of T iff `span_from ≤ T <
    span_until`), and the records a repeat can look back to (docs §2).

    The date conditions are cheap and come first; the string lookups (firm, record id) are
    done once, on the rows that survive them.
    """
    months = rules.repeat.window_months
    collected = pl.col("collected_on").is_not_null()
    if known_by is not None:
        collected = pl.col("collected_on") <= known_by
    base = (
        records.lazy()
        .with_row_index("row")
        .filter(collected)
        .with_columns(
            # 1. collected by T, 2. inside the window, 3. the segment in force …
            span_from=_SPAN_FROM,
            span_until=_SPAN_UNTIL,
            good=_GOOD,
            evidenced=_EVIDENCED,
            repeatable=_REPEATABLE,
        )
        .with_columns(
            # 5. an unevidenced bad record is reported by the annual review, never counted
            # (and 1: one without a collection date was never known to have arrived)
            candidate=(pl.col("good") | pl.col("evidenced")) & _touches(window)
        )
    )
    # An earlier record E matters only within the repeat window before a later R; the
    # spare month absorbs the month-end clipping of calendar arithmetic.
    oldest = (
        base.filter("candidate", "repeatable")
        .select(pl.col("valid_from").min().dt.offset_by(f"-{months + 1}mo"))
        .collect()
        .item()
    )
    earlier = pl.col("repeatable") & pl.col("evidenced")
    if oldest is None:
        earlier = pl.lit(False)
    elif window is not None:
        earlier = earlier & pl.col("valid_from").is_between(oldest, window[1])
    by_record = statuses.group_by("record_id").agg(
        stop_from=pl.col("status_from").filter(pl.col("status").is_in(STOPPING_STATUSES)).min(),
        break_from=pl.col("status_from")
        .filter(pl.col("status").is_in(REPEAT_BREAKING_STATUSES))
        .min(),
        ever_disputed=(pl.col("status").is_in((DISPUTED, *GAP_STATUSES))).any(),
    )
    firm_table = pl.DataFrame({"uscc": firm_ids, "f": np.arange(len(firm_ids), dtype=np.int64)})
    facts = (
        base.with_columns(earlier=earlier)
        .filter(pl.col("candidate") | pl.col("earlier"))
        .join(firm_table.lazy(), on="uscc")
        .join(by_record.lazy(), on="record_id", how="left")
        .select(
            "row",
            "f",
            "category",
            "valid_from",
            "collected_on",
            "points",
            "span_from",
            # … 4. and not revoked, corrected or repaired as of T
            pl.min_horizontal("span_until", "stop_from").alias("span_until"),
            pl.col("break_from").fill_null(OPEN),
            "good",
            pl.col("veto").fill_null(False),
            "repeatable",
            "candidate",
            "earlier",
            pl.col("ever_disputed").fill_null(False),
        )
        .collect()
    )
    return facts.filter(pl.col("candidate") & _touches(window)), facts.filter("earlier")


_INTERVALS = pl.Schema({"row": pl.UInt32, "from": pl.Date, "until": pl.Date})


def _repeat_intervals(
    counting: pl.DataFrame, earlier: pl.DataFrame, rules: RuleSet
) -> pl.DataFrame:
    """For each counting row that can be a repeat, the as-of dates on which it is one.

    docs §2: record R is multiplied as of T when another record E of the same firm and
    category has `E.valid_from < R.valid_from < E.valid_from + window` and, as of T, E was
    collected and not revoked or corrected — E need not count any more. So each E
    contributes `[E.collected_on, E revoked/corrected)`, and R is multiplied on the union of
    these: a union, not a sum, so that two earlier records still give ×1.5, never ×1.5².
    An unevidenced record is no established fact, so it cannot be E. The strict
    `E.valid_from < R.valid_from` also keeps a record's own segments apart: they share their
    `valid_from`.

    Sorted by (firm, category, valid_from), the Es of an R are one contiguous run: those
    dated before R whose window end (monotone in `valid_from`) is after R. Two binary
    searches find it. Almost every E is never revoked, and those contribute
    `[earliest collection in the run, open)`: a minimum over the run. The few revoked ones
    are paired with their Rs one by one.
    """
    later = counting.filter("repeatable").select("row", "f", "category", "valid_from")
    earlier = earlier.filter(pl.col("collected_on") < pl.col("break_from"))
    if later.is_empty() or earlier.is_empty():
        return pl.DataFrame(schema=_INTERVALS)
    # Categories as small integers, the same on both sides: (firm, category) is one number,
    # and with a day in the low 32 bits one sortable int64 — a single-column sort and plain
    # binary searches instead of multi-column ones.
    categories = pl.Enum(pl.concat([later["category"], earlier["category"]]).unique().sort())
    key = pl.col("f") * len(categories.categories) + pl.col("category").cast(
        categories
    ).to_physical().cast(pl.Int64)

    def packed(day: pl.Expr) -> pl.Expr:
        return key * (1 << 32) + day.cast(pl.Int64) + (1 << 31)

    window_end = pl.col("valid_from").dt.offset_by(f"{rules.repeat.window_months}mo")
    runs = earlier.select(
        at=packed(pl.col("valid_from")),
        end=packed(window_end),
        **{"from": pl.col("collected_on"), "until": pl.col("break_from")},
    ).sort("at")
    # sorted queries make the binary searches walk memory in order: ~2.5× faster
    queries = later.select("row", at=packed(pl.col("valid_from"))).sort("at")
    open_ended = runs.filter(pl.col("until") == OPEN)
    revoked = runs.filter(pl.col("until") < OPEN)
    parts = [_earliest_in_run(queries, open_ended), _pairs_in_run(queries, revoked)]
    intervals = pl.concat(parts).cast(_INTERVALS)
    rows_with_revoked = intervals.filter(pl.col("until") < OPEN).select("row").unique()
    return pl.concat(
        [
            intervals.join(rows_with_revoked, on="row", how="anti"),
            _union(intervals.join(rows_with_revoked, on="row", how="semi")),
        ]
    )


def _run_bounds(queries: pl.DataFrame, runs: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per query, the index range [lo, hi) of `runs` (sorted by `at`) with its key, a day
    before the query's (`at < query at`) and a window end after it (`end > query at`)."""
    at = queries["at"].to_numpy()
    hi = np.searchsorted(runs["at"].to_numpy(), at, side="left")
    lo = np.searchsorted(runs["end"].to_numpy(), at, side="right")
    return lo, hi


def _earliest_in_run(queries: pl.DataFrame, runs: pl.DataFrame) -> pl.DataFrame:
    """[earliest `from` in the run, OPEN) for every query with a non-empty run.

    A range minimum by doubling: level k holds the minimum over [i, i + 2^k), and a run of
    length n is covered by two blocks of level floor(log2 n). Levels are built one at a
    time, each answering its queries, so memory stays one array.
    """
    lo, hi = _run_bounds(queries, runs)
    found = np.flatnonzero(lo < hi)
    lo, hi = lo[found], hi[found]
    level = np.floor(np.log2(hi - lo)).astype(np.int64)
    block = runs["from"].cast(pl.Int32).to_numpy().copy()
    earliest = np.empty(len(found), dtype=block.dtype)
    for k in range(int(level.max(initial=-1)) + 1):
        if k:
            step = 1 << (k - 1)
            block[:-step] = np.minimum(block[:-step], block[step:])
        at = np.flatnonzero(level == k)
        earliest[at] = np.minimum(block[lo[at]], block[hi[at] - (1 << k)])
    return pl.DataFrame(
        {
            "row": queries["row"].gather(found),
            "from": pl.Series(earliest, dtype=pl.Int32).cast(pl.Date),
            "until": pl.repeat(OPEN, len(found), eager=True),
        }
    )


def _pairs_in_run(queries: pl.DataFrame, runs: pl.DataFrame) -> pl.DataFrame:
    """Every (query, run member) pair, as the member's [from, until)."""
    lo, hi = _run_bounds(queries, runs)
    length = np.maximum(hi - lo, 0)
    query = np.repeat(np.arange(len(lo)), length)
    member = (
        np.repeat(lo, length)
        + np.arange(length.sum())
        - np.repeat(np.cumsum(length) - length, length)
    )
    return pl.DataFrame(
        {
            "row": queries["row"].gather(query),
            "from": runs["from"].gather(member),
            "until": runs["until"].gather(member),
        }
    )


def _union(intervals: pl.DataFrame) -> pl.DataFrame:
    """Merge overlapping or touching [from, until) intervals per row.

    Sorted by (row, from), an interval starts a new group unless it begins within the reach
    (running max of `until`) of the earlier ones of its row. Row and date are packed into
    one number so that a single running max over the whole frame stays within each row
    (a window function per row is ~10× slower here).
    """
    per_row = 1 << 32  # > any date as a day number

    def packed(column: str) -> pl.Expr:
        return pl.col("row").cast(pl.Int64) * per_row + pl.col(column).cast(pl.Int64)

    return (
        intervals.sort("row", "from")
        .with_columns(reach=packed("until").cum_max().shift(1))
        .with_columns(
            group=(pl.col("reach").is_null() | (packed("from") > pl.col("reach"))).cum_sum()
        )
        .group_by("group")
        .agg(pl.col("row").first(), pl.col("from").min(), pl.col("until").max())
        .select(_INTERVALS.names())
        .cast(_INTERVALS)
    )


def _status_intervals(
    records: pl.DataFrame,
    statuses: pl.DataFrame,
    counting: pl.DataFrame,
    kinds: tuple[str, ...],
) -> pl.DataFrame:
    """Per counting row with a status of `kinds` over an interval (disputed: docs §4; the
    gaps of `GAP_STATUSES`), the dates it holds."""
    rows = counting.filter("ever_disputed").select("row")
    ids = rows.with_columns(record_id=records.get_column("record_id").gather(rows["row"]))
    intervals = statuses.filter(pl.col("status").is_in(kinds)).select(
        "record_id",
        pl.col("status_from").alias("from"),
        pl.col("status_until").fill_null(OPEN).alias("until"),
    )
    return ids.join(intervals, on="record_id").select(_INTERVALS.names()).cast(_INTERVALS)


_KINDS = ("multiplied", "disputed", "gap")
"""The flags a piece of a span carries, in the order of `_pieces`' interval kinds."""


def _pieces(
    counting: pl.DataFrame, repeats: pl.DataFrame, disputes: pl.DataFrame, gaps: pl.DataFrame
) -> pl.DataFrame:
    """Cut each counting span where its multiplier, its disputed status or a gap starts or
    ends, so that each piece has one reason row, and flag the pieces `multiplied` /
    `disputed` / `gap` (a gap piece does not count: the caller drops it).

    Most intervals cover a span whole or miss it (a repeat usually applies from before R
    starts counting), so only the few spans with an interval end strictly inside are cut;
    the others are flagged through arrays indexed by row, without a join.
    """
    flagged = pl.concat(
        [
            frame.with_columns(kind=pl.lit(k, dtype=pl.Int8))
            for k, frame in enumerate((repeats, disputes, gaps))
        ]
    )
    top = cast(int | None, counting["row"].max())  # Series.max() is typed as any scalar; UInt32
    where = np.zeros(int(top or 0) + 1, dtype=np.int64)
    where[counting["row"].to_numpy()] = np.arange(counting.height)
    at = where[flagged["row"].to_numpy()]
    span_from = counting["span_from"].cast(pl.Int32).to_numpy()[at]
    span_until = counting["span_until"].cast(pl.Int32).to_numpy()[at]
    start = flagged["from"].cast(pl.Int32).to_numpy()
    end = flagged["until"].cast(pl.Int32).to_numpy()
    cutting = ((start > span_from) & (start < span_until)) | (
        (end > span_from) & (end < span_until)
    )
    cut_rows = np.unique(flagged["row"].to_numpy()[cutting])
    is_cut = pl.col("row").is_in(pl.Series(cut_rows, dtype=pl.UInt32).implode())
    # Whole spans: an interval covering the span's first day covers all of it.
    covering = (start <= span_from) & (span_from < end)
    kind = flagged["kind"].to_numpy()
    whole = np.zeros((len(_KINDS), len(where)), dtype=bool)
    for k in range(len(_KINDS)):
        whole[k, at[covering & (kind == k)]] = True
    uncut = counting.filter(~is_cut)
    position = where[uncut["row"].to_numpy()]
    uncut = uncut.with_columns(
        piece_from=pl.col("span_from"),
        piece_until=pl.col("span_until"),
        **{name: pl.Series(whole[k, position]) for k, name in enumerate(_KINDS)},
    )
    return pl.concat([uncut, _cut(counting.filter(is_cut), flagged)])


def _cut(spans: pl.DataFrame, flagged: pl.DataFrame) -> pl.DataFrame:
    """Spans cut at every interval end strictly inside them, each piece flagged by the
    intervals covering its first day (pieces never straddle an interval end)."""
    intervals = flagged.join(spans.select("row"), on="row", how="semi")
    cuts = (
        intervals.join(spans.select("row", "span_from", "span_until"), on="row")
        .select("row", "span_from", "span_until", cut=pl.concat_list("from", "until"))
        .explode("cut")
        .filter((pl.col("cut") > pl.col("span_from")) & (pl.col("cut") < pl.col("span_until")))
        .select("row", "cut")
    )
    bounds = (
        pl.concat([spans.select("row", cut="span_from"), cuts])
        .unique()
        .sort("row", "cut")
        .with_columns(
            next_cut=pl.when(pl.col("row").shift(-1) == pl.col("row")).then(pl.col("cut").shift(-1))
        )
    )
    pieces = (
        spans.join(bounds, on="row")
        .with_columns(piece_from=pl.col("cut"), piece_until=pl.coalesce("next_cut", "span_until"))
        .drop("cut", "next_cut")
    )
    hits = (
        pieces.select("row", "piece_from")
        .join(intervals, on="row")
        .filter((pl.col("from") <= pl.col("piece_from")) & (pl.col("piece_from") < pl.col("until")))
        .group_by("row", "piece_from")
        .agg(**{name: (pl.col("kind") == k).any() for k, name in enumerate(_KINDS)})
    )
    return pieces.join(hits, on=["row", "piece_from"], how="left").with_columns(
        pl.col(*_KINDS).fill_null(False)
    )


# --- from spans to dates --------------------------------------------------------------------


def _sorted_dates(as_of_dates: Sequence[date]) -> pl.Series:
    return pl.Series("as_of", sorted(set(as_of_dates)), dtype=pl.Date)


def _date_indices(spans: pl.DataFrame, dates: pl.Series) -> pl.DataFrame:
    """Each span's range [k_from, k_until) of indices into the sorted `dates` it covers:
    `span_from ≤ dates[k] < span_until`. Spans covering no date are dropped.

    The index of a day is `searchsorted(dates, day)`; it is tabulated once per day between
    the first and the last date, which is several times faster than a binary search per
    span (day numbers outside that range are clipped to its ends, where the answer is the
    same).
    """
    days = dates.cast(pl.Int32).to_numpy()
    first, last = int(days[0]), int(days[-1])
    table = np.searchsorted(days, np.arange(first, last + 2))

    def index(column: str) -> np.ndarray:
        day = spans.get_column(column).cast(pl.Int32).to_numpy()
        looked_up: np.ndarray = table[np.clip(day - first, 0, last + 1 - first)]  # indexing: Any
        return looked_up

    return spans.with_columns(
        k_from=pl.Series(index("span_from"), dtype=pl.Int64),
        k_until=pl.Series(index("span_until"), dtype=pl.Int64),
    ).filter(pl.col("k_from") < pl.col("k_until"))


def _explode_dates(spans: pl.DataFrame, dates: pl.Series) -> pl.DataFrame:
    """One row per span and date it covers, with the date's index `k` and `as_of`."""
    exploded = (
        _date_indices(spans, dates).with_columns(k=pl.int_ranges("k_from", "k_until")).explode("k")
    )
    return exploded.with_columns(as_of=dates.gather(exploded.get_column("k")))


def _with_text(spans: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
    """Spans with their record's text columns and the reason status."""
    text = records.select(_REASON_TEXT).gather(spans.get_column("row"))
    return pl.concat([spans, text], how="horizontal").with_columns(
        status=pl.when("disputed").then(pl.lit(DISPUTED)).otherwise(pl.lit(ACTIVE))
    )


def _reasons(spans: pl.DataFrame, records: pl.DataFrame, dates: pl.Series) -> pl.DataFrame:
    """Reasons of `dates`, sorted by as_of, uscc and then the order of `records`: sorting
    on one packed integer before the text is fetched is ~15× faster than sorting the rows
    by their strings."""
    if dates.is_empty():
        return pl.DataFrame(schema=SCORE_REASON_SCHEMA)
    top = cast(int | None, spans.get_column("f").max())  # Series.max(): any scalar; f is an int
    n_rows, n_firms = records.height, int(top or 0) + 1
    order = (pl.col("k") * n_firms + pl.col("f")) * n_rows + pl.col("row").cast(pl.Int64)
    expanded = _explode_dates(spans, dates).sort(order)
    return (
        _with_text(expanded, records).select(SCORE_REASON_SCHEMA.names()).cast(SCORE_REASON_SCHEMA)
    )


def _scores(
    spans: pl.DataFrame,
    records: pl.DataFrame,
    firm_ids: pl.Series,
    rules: RuleSet,
    dates: pl.Series,
) -> pl.DataFrame:
    """Firms × dates of CREDIT_SCORE_SCHEMA, sorted by (as_of, uscc), by deltas and running
    sums: a span covering date indices k_from … k_until−1 adds its points at k_from and takes
    them back at k_until; a running sum over k per firm gives Σ points as of every date at
    once. The bonus cap and the clamp are not additive, so they come after the sums.

    Cells are laid out date-major (`k × n_firms + f`), the order of the output.
    """
    n_firms, n_dates = len(firm_ids), len(dates)
    size = n_firms * n_dates
    indexed = _date_indices(spans, dates)
    f = indexed.get_column("f").to_numpy()
    starts = indexed.get_column("k_from").to_numpy() * n_firms + f
    k_until = indexed.get_column("k_until").to_numpy()
    ends_inside = k_until < n_dates  # a span still counting on the last date never ends
    ends = (k_until * n_firms + f)[ends_inside]

    def running(weights: np.ndarray | None) -> np.ndarray:
        delta = np.bincount(starts, weights=weights, minlength=size)
        delta -= np.bincount(
            ends, weights=None if weights is None else weights[ends_inside], minlength=size
        )
        return delta.reshape(n_dates, n_firms).cumsum(axis=0).ravel()

    points = indexed.get_column("points").to_numpy()
    good = indexed.get_column("good").to_numpy()
    micro = np.rint(points * _MICRO)
    bonus = running(np.where(good, micro, 0.0)) / _MICRO
    deduction = running(np.where(good, 0.0, -micro)) / _MICRO
    veto_until, veto_reason = _veto_details(indexed, records, n_firms, size)
    firm_index = np.tile(np.arange(n_firms, dtype=np.int64), n_dates)
    date_index = np.repeat(np.arange(n_dates, dtype=np.int64), n_firms)
    return (
        pl.DataFrame(
            {
                "uscc": firm_ids.gather(firm_index),
                "as_of": dates.gather(date_index),
                "bonus": bonus,
                "deduction_points": deduction,
                "counting_records": running(None),
                "veto_until": veto_until,
                "veto_reason": veto_reason,
            }
        )
        .with_columns(
            veto=pl.col("veto_until").is_not_null(),
            score=score_expr(rules, pl.col("bonus"), pl.col("deduction_points")),
            bonus_points=pl.min_horizontal("bonus", pl.lit(rules.score.bonus_cap)),
            rule_set_version=pl.lit(rules.version),
        )
        .with_columns(tier=tier_with_veto_expr(rules, pl.col("score"), pl.col("veto")))
        .select(CREDIT_SCORE_SCHEMA.names())
        .cast(CREDIT_SCORE_SCHEMA)
    )


def _veto_details(
    indexed: pl.DataFrame, records: pl.DataFrame, n_firms: int, size: int
) -> tuple[pl.Series, pl.Series]:
    """`veto_until` and `veto_reason` per cell (null without a counting veto): of the veto
    records counting there, the first in `VETO_ORDER` (the one lasting longest).

    The veto spans are ranked once by that order; expanded over the dates they cover (veto
    records are few), each cell keeps its best rank — integers only, no string sort.
    """
    vetoes = indexed.filter("veto")
    ranked = (
        pl.concat(
            [
                vetoes.select("f", "k_from", "k_until"),
                records.select("record_id", "valid_until", "veto_reason").gather(vetoes["row"]),
            ],
            how="horizontal",
        )
        .pipe(_in_veto_order)
        .with_row_index("rank")
    )
    best = (
        ranked.select("rank", "f", k=pl.int_ranges("k_from", "k_until"))
        .explode("k")
        .group_by(cell=pl.col("k") * n_firms + pl.col("f"))
        .agg(pl.col("rank").min())
    )
    pick = np.full(size, -1, dtype=np.int64)
    pick[best["cell"].to_numpy()] = best["rank"].to_numpy()
    index = pl.Series(pick).replace(-1, None)
    return ranked["valid_until"].gather(index), ranked["veto_reason"].gather(index)


def unexplained_scores(scores: pl.DataFrame, reasons: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Firm-dates whose score differs from what their reasons imply (should be empty):
    score = clamp(base + min(Σ positive points, cap) + Σ negative points)."""
    sums = reasons.group_by("uscc", "as_of").agg(
        bonus=pl.col("points").filter(pl.col("points") > 0).sum(),
        deduction=-pl.col("points").filter(pl.col("points") < 0).sum(),
    )
    implied = score_expr(rules, pl.col("bonus").fill_null(0), pl.col("deduction").fill_null(0))
    return (
        scores.join(sums, on=["uscc", "as_of"], how="left")
        .with_columns(implied=implied)
        .filter((pl.col("score") - pl.col("implied")).abs() > 1e-9)
        .select("uscc", "as_of", "score", "implied")
    )


def scores_from_spans(
    spans: pl.DataFrame, firms: pl.DataFrame, rules: RuleSet, as_of_dates: Sequence[date]
) -> pl.DataFrame:
    """CREDIT_SCORE_SCHEMA rows from stored `reason_spans` — equal to
    `score_history(...).scores` for the same records, statuses and dates.

    Statuses, segments, evidence and repeat multipliers are already resolved in the spans, so
    one as-of date is a filter and a sum per firm (`span_sums`: the shape of a bare
    aggregate, which `warehouse.credit` runs in DuckDB), and the scores agree with the
    `score_reasons` view by construction (`scores_from_sums`).
    """
    days = _sorted_dates(as_of_dates).to_list()
    if not days:
        return pl.DataFrame(schema=CREDIT_SCORE_SCHEMA)
    sums = pl.concat([span_sums(spans.lazy(), day) for day in days])
    return scores_from_sums(sums, firms, rules, days)


SPAN_SUM_SCHEMA = pl.Schema(
    {
        "uscc": pl.Utf8(),
        "as_of": pl.Date(),
        "bonus": pl.Int64(),  # whole millionths, before the cap
        "deduction": pl.Int64(),  # whole millionths, positive
        "counting_records": pl.Int64(),
        "veto_until": pl.Date(),
        "veto_reason": pl.Utf8(),
    }
)
"""Per firm and as-of date with a counting reason: the sums of its points in whole
millionths, how many reasons count, and the veto reported (the first in `VETO_ORDER`)."""


def span_sums(spans: pl.LazyFrame, day: date) -> pl.LazyFrame:
    """SPAN_SUM_SCHEMA rows of one as-of date from the reason spans.

    From the points and the record ids themselves, not from the spans' `points_micro` and
    `veto_rank`: the reference that the DuckDB aggregate over those columns
    (`warehouse.credit.span_sums`) is held equal to.
    """
    micro = _micro(pl.col("points"))
    good = pl.col("polarity") == "good"
    counting = spans.filter(
        (pl.col("span_from") <= day)
        & (pl.col("span_until").is_null() | (pl.col("span_until") > day))
    )
    sums = counting.group_by("uscc").agg(
        bonus=micro.filter(good).sum(),
        deduction=(-micro).filter(~good).sum(),
        counting_records=pl.len(),
    )
    vetoes = (
        _in_veto_order(counting.filter("veto"))
        .group_by("uscc", maintain_order=True)
        .agg(veto_until=pl.col("valid_until").first(), veto_reason=pl.col("veto_reason").first())
    )
    return (
        sums.join(vetoes, on="uscc", how="left")
        .with_columns(as_of=pl.lit(day, dtype=pl.Date))
        .select(SPAN_SUM_SCHEMA.names())
        .cast(SPAN_SUM_SCHEMA)
    )


def scores_from_sums(
    sums: pl.LazyFrame | pl.DataFrame,
    firms: pl.DataFrame,
    rules: RuleSet,
    as_of_dates: Sequence[date],
) -> pl.DataFrame:
    """CREDIT_SCORE_SCHEMA rows of every directory firm at each date, sorted by (as_of,
    uscc), from its `span_sums` (a firm without any: no points, no veto). Sums run in whole
    millionths, as `_scores` does, so every scoring path gives the same floats.

    Each date's sums are joined to the sorted directory on the firm alone, in the
    directory's order: no grid of firms × dates, no join on two keys and no sort after it
    (one date, the usual as-of scoring, is one join).
    """
    firm_ids = _firm_ids(firms).to_frame("uscc")
    by_date = sums.lazy().cast(SPAN_SUM_SCHEMA).collect().partition_by("as_of", as_dict=True)
    none = pl.DataFrame(schema=SPAN_SUM_SCHEMA)
    dated = [
        firm_ids.join(
            by_date.get((day,), none).drop("as_of"), on="uscc", how="left", maintain_order="left"
        ).with_columns(as_of=pl.lit(day, dtype=pl.Date))
        for day in _sorted_dates(as_of_dates)
    ]
    if not dated:
        return pl.DataFrame(schema=CREDIT_SCORE_SCHEMA)
    bonus, deduction = pl.col("bonus"), pl.col("deduction")
    return (
        pl.concat(dated)
        # millionths → points once: an expression used twice is evaluated twice
        .with_columns(bonus=_points(bonus.fill_null(0)), deduction=_points(deduction.fill_null(0)))
        .with_columns(
            veto=pl.col("veto_until").is_not_null(),
            score=score_expr(rules, bonus, deduction),
            bonus_points=pl.min_horizontal(bonus, pl.lit(rules.score.bonus_cap)),
            deduction_points=deduction,
            counting_records=pl.col("counting_records").fill_null(0),
            rule_set_version=pl.lit(rules.version),
        )
        .with_columns(tier=tier_with_veto_expr(rules, pl.col("score"), pl.col("veto")))
        .select(CREDIT_SCORE_SCHEMA.names())
        .cast(CREDIT_SCORE_SCHEMA)
    )
