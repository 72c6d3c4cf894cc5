"""Scoring: credit records → scores, tiers and reasons, as of one date or many (docs §1–§3, §5).

What belongs here: the counting predicate of docs §1, the repeat multiplier of docs §2, the
score formula and the tier with its veto override of docs §3, and the two outputs
`credit_scores` and `score_reasons` — for one as-of date or for a whole series of them.

The predicate lives in one place, as *reason spans*: for each record segment, the half-open
interval of as-of dates `[span_from, span_until)` on which it counts, cut into pieces on which
its reason row (multiplier, disputed or not) is constant. Counting as of T is then
`span_from ≤ T < span_until`, for one date or sixty. Scores for many dates are sums of
span points over the dates each span covers, computed as deltas (+points where a span starts,
−points where it ends) and a running sum per firm: linear in records + firms × dates, never
records × dates. Reasons, which are records × dates by nature, stay an interval table
(`reason_spans`) and are expanded only for the dates asked for (`expand_reasons`).

What does not: deriving records from documents (`credit_records`), statuses from objection and
repair cases (`record_status`), the future of a tier (`tier_paths`), changes between dates
(`tier_changes`), and anything about storage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from models.credit_schema import CREDIT_SCORE_SCHEMA, SCORE_REASON_SCHEMA
from models.rules import RuleSet

STOPPING_STATUSES: tuple[str, ...] = ("revoked", "corrected", "repaired")
"""Statuses after which a record no longer counts (docs §4), from their `status_from`."""
REPEAT_BREAKING_STATUSES: tuple[str, ...] = ("revoked", "corrected")
"""Statuses after which a record no longer makes a later one a repeat (docs §2): a revoked or
corrected record did not happen as recorded; a repaired one did, it only stopped counting."""
DISPUTED = "disputed"
"""The status shown in reasons while an objection runs; the record keeps counting."""
ACTIVE = "active"

OPEN = date(9999, 12, 31)
"""Stands for an open end (null `valid_until` / `segment_until` / `status_until`) inside this
module, so that interval arithmetic needs no null cases; public tables show null again."""

REASON_SPAN_SCHEMA = pl.Schema(
    {
        **{c: t for c, t in SCORE_REASON_SCHEMA.items() if c != "as_of"},
        "veto_reason": pl.Utf8,
        "span_from": pl.Date,
        "span_until": pl.Date,
    }
)
"""`score_reasons` as an interval table: the reason row (without `as_of`) holds for every
as-of date T with `span_from ≤ T < span_until` (null `span_until`: open)."""

_KEY = ["record_id", "segment"]


@dataclass(frozen=True)
class Scores:
    """Scores and the reasons behind them, for the same firms and as-of dates."""

    scores: pl.DataFrame  # CREDIT_SCORE_SCHEMA
    reasons: pl.DataFrame  # SCORE_REASON_SCHEMA


# --- the score formula, shared by every consumer ------------------------------------------


def score_expr(rules: RuleSet, bonus: pl.Expr, deduction: pl.Expr) -> pl.Expr:
    """docs §3: clamp(base + min(Σ bonus, cap) − Σ deduction) — `bonus` before the cap,
    `deduction` as a positive number after multipliers."""
    s = rules.score
    return (pl.lit(s.base) + pl.min_horizontal(bonus, pl.lit(s.bonus_cap)) - deduction).clip(
        s.min, s.max
    )


def tier_with_veto_expr(rules: RuleSet, score: pl.Expr, veto: pl.Expr) -> pl.Expr:
    """The tier of a score, overridden by `rules.veto_tier` whenever a veto record counts."""
    return pl.when(veto).then(pl.lit(rules.veto_tier)).otherwise(rules.tier_expr(score))


# --- spans: the counting predicate ---------------------------------------------------------


def reason_spans(
    records: pl.DataFrame, statuses: pl.DataFrame, firms: pl.DataFrame, rules: RuleSet
) -> pl.DataFrame:
    """Every reason row the records can ever produce, with the as-of dates it holds on.

    Size ~ records (plus a few pieces where a multiplier or a dispute starts or ends), so this
    is the form in which reasons for a long series of dates can be kept; `expand_reasons`
    turns it into `score_reasons` rows for the dates someone asks about.
    """
    spans = _spans(records, statuses, firms, rules, None).collect()
    return _public_spans(spans)


def expand_reasons(spans: pl.DataFrame, as_of_dates: Sequence[date]) -> pl.DataFrame:
    """`score_reasons` rows (SCORE_REASON_SCHEMA) of the given dates, from `reason_spans`.

    Output size is Σ over spans of the requested dates they cover: for 10M records and 60
    month-ends that is hundreds of millions of rows, so ask for the dates you will show.
    """
    dates = _sorted_dates(as_of_dates)
    spans = spans.with_columns(pl.col("span_until").fill_null(OPEN))
    expanded = (
        _with_date_indices(spans, dates)
        .with_columns(k=pl.int_ranges("k_from", "k_until"))
        .explode("k")
        .join(_date_index_frame(dates), on="k")
    )
    return (
        expanded.select(SCORE_REASON_SCHEMA.names())
        .cast(dict(SCORE_REASON_SCHEMA))
        .sort("as_of", "uscc", "record_id", "segment")
    )


def _spans(
    records: pl.DataFrame,
    statuses: pl.DataFrame,
    firms: pl.DataFrame,
    rules: RuleSet,
    window: tuple[date, date] | None,
) -> pl.LazyFrame:
    """Reason spans (OPEN for open ends), only those touching `window` [first, last] if given:
    a span outside every requested date can be dropped before the repeat join, which makes
    a single as-of date cheap."""
    statuses_lf = statuses.lazy()
    counting = _counting(records.lazy(), statuses_lf, firms, window)
    repeats = _repeat_intervals(records.lazy(), statuses_lf, counting, rules)
    disputes = statuses_lf.filter(pl.col("status") == DISPUTED).select(
        "record_id",
        pl.col("status_from").alias("from"),
        pl.col("status_until").fill_null(OPEN).alias("until"),
    )
    pieces = _pieces(counting, repeats, disputes)
    signed = pl.col("points") * pl.col("multiplier")
    return pieces.with_columns(
        multiplier=pl.when("multiplied").then(pl.lit(rules.repeat.multiplier)).otherwise(1.0),
        status=pl.when("disputed").then(pl.lit(DISPUTED)).otherwise(pl.lit(ACTIVE)),
    ).select(
        "uscc",
        "record_id",
        "segment",
        "polarity",
        "severity",
        "category",
        # `+ 0.0` turns the −0.0 of a zero-point veto record into 0.0.
        points=pl.when(pl.col("polarity") == "good").then(signed).otherwise(-signed) + 0.0,
        multiplier="multiplier",
        rule="rule",
        evidence_type="evidence_type",
        evidence_doc_no="evidence_doc_no",
        valid_from="valid_from",
        valid_until="valid_until",
        status="status",
        veto=pl.col("veto").fill_null(False),
        veto_reason="veto_reason",
        span_from="piece_from",
        span_until="piece_until",
    )


def _counting(
    records: pl.LazyFrame,
    statuses: pl.LazyFrame,
    firms: pl.DataFrame,
    window: tuple[date, date] | None,
) -> pl.LazyFrame:
    """docs §1, conditions 1–5, as one interval per record segment: it counts as of T iff
    `span_from ≤ T < span_until`."""
    stops = _first_status(statuses, STOPPING_STATUSES, "stop_from")
    counting = (
        records.filter(pl.col("uscc").is_in(firms.get_column("uscc").implode()))
        # 5. an unevidenced bad record is reported by the annual review, never counted
        .filter((pl.col("polarity") == "good") | pl.col("evidence_valid").fill_null(False))
        .join(stops, on="record_id", how="left")
        .with_columns(
            # 1. collected by T, 2. inside the window, 3. the segment in force …
            span_from=pl.max_horizontal("collected_on", "valid_from", "segment_from"),
            # … 2, 3 and 4. not revoked, corrected or repaired as of T
            span_until=pl.min_horizontal("valid_until", "segment_until", "stop_from", pl.lit(OPEN)),
        )
        .filter(pl.col("span_from") < pl.col("span_until"))
    )
    if window is not None:
        first, last = window
        counting = counting.filter((pl.col("span_from") <= last) & (pl.col("span_until") > first))
    return counting


def _first_status(statuses: pl.LazyFrame, kinds: tuple[str, ...], name: str) -> pl.LazyFrame:
    return (
        statuses.filter(pl.col("status").is_in(list(kinds)))
        .group_by("record_id")
        .agg(pl.col("status_from").min().alias(name))
    )


def _repeat_intervals(
    records: pl.LazyFrame, statuses: pl.LazyFrame, counting: pl.LazyFrame, rules: RuleSet
) -> pl.LazyFrame:
    """For each counting record that can be a repeat, the as-of dates on which it is one.

    docs §2: record R (bad, with a category) is multiplied as of T when another bad record E
    of the same firm and category has `E.valid_from < R.valid_from < E.valid_from + window`
    and, as of T, E was collected and not revoked or corrected — E itself need not count any
    more. So each E contributes `[E.collected_on, E revoked/corrected)`, and R is multiplied on
    the union of these intervals. The union is taken (not a sum) so that two earlier records
    still give ×1.5, never compound. Veto records are not violations of their own (they ride
    on a document's record) and unevidenced ones are not established facts: neither is E.
    """
    repeatable = (
        (pl.col("polarity") == "bad")
        & ~pl.col("veto").fill_null(False)
        & pl.col("category").is_not_null()
    )
    earlier = (
        records.filter(repeatable & pl.col("evidence_valid").fill_null(False))
        .group_by("record_id")
        .agg(
            pl.col("uscc").first(),
            pl.col("category").first(),
            pl.col("valid_from").min().alias("e_valid_from"),
            pl.col("collected_on").min().alias("from"),
        )
        .join(
            _first_status(statuses, REPEAT_BREAKING_STATUSES, "until"), on="record_id", how="left"
        )
        .with_columns(pl.col("until").fill_null(OPEN))
        .filter(pl.col("from") < pl.col("until"))
        .rename({"record_id": "e_record_id"})
    )
    later = (
        counting.filter(repeatable)
        .group_by("record_id")
        .agg(pl.col("uscc").first(), pl.col("category").first(), pl.col("valid_from").min())
    )
    window = f"{rules.repeat.window_months}mo"
    pairs = (
        later.join(earlier, on=["uscc", "category"])
        .filter(
            (pl.col("e_record_id") != pl.col("record_id"))
            & (pl.col("e_valid_from") < pl.col("valid_from"))
            & (pl.col("valid_from") < pl.col("e_valid_from").dt.offset_by(window))
        )
        .select("record_id", "from", "until")
    )
    return _union(pairs)


def _union(intervals: pl.LazyFrame) -> pl.LazyFrame:
    """Merge overlapping or touching [from, until) intervals per record_id."""
    return (
        intervals.sort("record_id", "from")
        .with_columns(reach=pl.col("until").cum_max().shift(1).over("record_id"))
        .with_columns(
            group=(pl.col("reach").is_null() | (pl.col("from") > pl.col("reach")))
            .cum_sum()
            .over("record_id")
        )
        .group_by("record_id", "group")
        .agg(pl.col("from").min(), pl.col("until").max())
        .drop("group")
    )


def _pieces(counting: pl.LazyFrame, repeats: pl.LazyFrame, disputes: pl.LazyFrame) -> pl.LazyFrame:
    """Cut each counting span where its multiplier or its disputed status changes, so each
    piece has one reason row. Only the few records with such a change are cut; the rest
    pass through as one piece."""
    cuts = pl.concat(
        [
            frame.select("record_id", pl.col(end).alias("cut"))
            for frame in (repeats, disputes)
            for end in ("from", "until")
        ]
    )
    cut_ids = cuts.select("record_id").unique()
    plain = counting.join(cut_ids, on="record_id", how="anti").with_columns(
        piece_from=pl.col("span_from"),
        piece_until=pl.col("span_until"),
        multiplied=pl.lit(False),
        disputed=pl.lit(False),
    )
    split = counting.join(cut_ids, on="record_id", how="semi")
    inner_cuts = (
        split.select(*_KEY, "span_from", "span_until")
        .join(cuts, on="record_id")
        .filter((pl.col("cut") > pl.col("span_from")) & (pl.col("cut") < pl.col("span_until")))
        .select(*_KEY, "cut")
    )
    bounds = (
        pl.concat([split.select(*_KEY, pl.col("span_from").alias("cut")), inner_cuts])
        .unique()
        .sort(*_KEY, "cut")
        .with_columns(next_cut=pl.col("cut").shift(-1).over(_KEY))
    )
    split = split.join(bounds, on=_KEY).with_columns(
        piece_from=pl.col("cut"),
        piece_until=pl.coalesce("next_cut", "span_until"),
    )
    split = _flag(_flag(split, repeats, "multiplied"), disputes, "disputed")
    return pl.concat([plain, split.drop("cut", "next_cut")], how="diagonal_relaxed")


def _flag(pieces: pl.LazyFrame, intervals: pl.LazyFrame, name: str) -> pl.LazyFrame:
    """`name` = the piece lies in one of its record's intervals (pieces never straddle an
    interval end, so testing the piece's first day is enough)."""
    hits = (
        pieces.select(*_KEY, "piece_from")
        .join(intervals, on="record_id")
        .filter((pl.col("from") <= pl.col("piece_from")) & (pl.col("piece_from") < pl.col("until")))
        .select(*_KEY, "piece_from")
        .unique()
        .with_columns(pl.lit(True).alias(name))
    )
    return pieces.join(hits, on=[*_KEY, "piece_from"], how="left").with_columns(
        pl.col(name).fill_null(False)
    )


def _public_spans(spans: pl.DataFrame) -> pl.DataFrame:
    return (
        spans.with_columns(
            pl.when(pl.col("span_until") < OPEN).then(pl.col("span_until")).alias("span_until")
        )
        .select(REASON_SPAN_SCHEMA.names())
        .cast(dict(REASON_SPAN_SCHEMA))
        .sort("uscc", "record_id", "segment", "span_from")
    )


# --- from spans to scores for a series of dates --------------------------------------------


def _sorted_dates(as_of_dates: Sequence[date]) -> pl.Series:
    return pl.Series("as_of", sorted(set(as_of_dates)), dtype=pl.Date)


def _date_index_frame(dates: pl.Series) -> pl.DataFrame:
    return pl.DataFrame({"k": np.arange(len(dates), dtype=np.int64), "as_of": dates})


def _with_date_indices(spans: pl.DataFrame, dates: pl.Series) -> pl.DataFrame:
    """Map each span to the index range [k_from, k_until) of the sorted dates it covers."""
    return spans.with_columns(
        k_from=dates.search_sorted(spans.get_column("span_from"), side="left").cast(pl.Int64),
        k_until=dates.search_sorted(spans.get_column("span_until"), side="left").cast(pl.Int64),
    ).filter(pl.col("k_from") < pl.col("k_until"))


def _scores(
    spans: pl.DataFrame, firms: pl.DataFrame, rules: RuleSet, dates: pl.Series
) -> pl.DataFrame:
    """Firms × dates of CREDIT_SCORE_SCHEMA from spans, by deltas and running sums.

    A span covering dates k_from … k_until−1 adds its points at k_from and removes them at
    k_until; a running sum over k per firm then gives Σ points as of every date at once.
    The bonus cap and the clamp are not additive, so they are applied after the sums.
    """
    firm_ids = firms.get_column("uscc").unique().sort()
    n_firms, n_dates = len(firm_ids), len(dates)
    indexed = _with_date_indices(spans, dates).with_columns(
        f=pl.col("uscc").cast(pl.Enum(firm_ids)).to_physical().cast(pl.Int64)
    )
    f = indexed.get_column("f").to_numpy()
    k_from = indexed.get_column("k_from").to_numpy()
    k_until = indexed.get_column("k_until").to_numpy()
    points = indexed.get_column("points").to_numpy()
    good = (indexed.get_column("polarity") == "good").to_numpy()
    veto = indexed.get_column("veto").to_numpy()
    ends = k_until < n_dates  # a span ending after the last date never subtracts

    def running(weights: np.ndarray) -> np.ndarray:
        size = n_firms * n_dates
        delta = np.bincount(f * n_dates + k_from, weights=weights, minlength=size)
        delta -= np.bincount((f * n_dates + k_until)[ends], weights=weights[ends], minlength=size)
        # Adding and later subtracting the same values leaves float residue (0.1 + 0.2 − …);
        # rule-set points have few decimals, so rounding restores exact sums and exact ties
        # at the tier thresholds.
        return np.round(delta.reshape(n_firms, n_dates).cumsum(axis=1), 9).T.ravel()

    sums = pl.DataFrame(
        {
            "f": np.tile(np.arange(n_firms, dtype=np.int64), n_dates),
            "k": np.repeat(np.arange(n_dates, dtype=np.int64), n_firms),
            "bonus": running(np.where(good, points, 0.0)),
            "deduction": running(np.where(good, 0.0, -points)),
            "counting_records": running(np.ones(len(points))).astype(np.int64),
        }
    )
    vetoes = _veto_details(indexed.filter(pl.col("veto")), veto.any())
    scores = (
        sums.join(vetoes, on=["f", "k"], how="left")
        .with_columns(
            uscc=firm_ids.gather(pl.Series(sums.get_column("f"))).alias("uscc"),
            as_of=dates.gather(pl.Series(sums.get_column("k"))),
            veto=pl.col("veto_until").is_not_null(),
        )
        .with_columns(score=score_expr(rules, pl.col("bonus"), pl.col("deduction")))
        .with_columns(
            tier=tier_with_veto_expr(rules, pl.col("score"), pl.col("veto")),
            bonus_points=pl.min_horizontal("bonus", pl.lit(rules.score.bonus_cap)),
            deduction_points=pl.col("deduction"),
            rule_set_version=pl.lit(rules.version),
        )
    )
    return scores.select(CREDIT_SCORE_SCHEMA.names()).cast(dict(CREDIT_SCORE_SCHEMA))


def _veto_details(vetoes: pl.DataFrame, any_veto: bool) -> pl.DataFrame:
    """Per firm and date with a counting veto: the veto that lasts longest (its `valid_until`
    and reason; ties broken by record_id). Veto records are few, so expanding them over the
    dates they cover is cheap."""
    schema = {"f": pl.Int64, "k": pl.Int64, "veto_until": pl.Date, "veto_reason": pl.Utf8}
    if not any_veto:
        return pl.DataFrame(schema=schema)
    return (
        vetoes.with_columns(k=pl.int_ranges("k_from", "k_until"))
        .explode("k")
        .sort(["f", "k", "valid_until", "record_id"], descending=[False, False, True, False])
        .group_by("f", "k", maintain_order=True)
        .agg(pl.col("valid_until").first().alias("veto_until"), pl.col("veto_reason").first())
        .cast(schema)
    )


# --- public entry points -------------------------------------------------------------------


def credit_scores(
    records: pl.DataFrame,
    statuses: pl.DataFrame,
    firms: pl.DataFrame,
    rules: RuleSet,
    as_of_dates: Sequence[date],
) -> pl.DataFrame:
    """`credit_scores` (CREDIT_SCORE_SCHEMA) for every firm of `firms` × every date, sorted by
    (as_of, uscc), without reasons: the path for long series over the whole directory."""
    dates = _sorted_dates(as_of_dates)
    if dates.is_empty():
        return pl.DataFrame(schema=CREDIT_SCORE_SCHEMA)
    spans = _spans(records, statuses, firms, rules, (dates[0], dates[-1])).collect()
    return _scores(spans, firms, rules, dates)


def score_history(
    records: pl.DataFrame,
    statuses: pl.DataFrame,
    firms: pl.DataFrame,
    rules: RuleSet,
    as_of_dates: Sequence[date],
) -> Scores:
    """Scores and reasons as of each date: the same as `score_as_of` per date, concatenated
    in date order, in one pass. Reasons are expanded for every date (see `expand_reasons`
    for their size); use `credit_scores` when only scores are needed."""
    dates = _sorted_dates(as_of_dates)
    if dates.is_empty():
        return Scores(
            pl.DataFrame(schema=CREDIT_SCORE_SCHEMA), pl.DataFrame(schema=SCORE_REASON_SCHEMA)
        )
    spans = _spans(records, statuses, firms, rules, (dates[0], dates[-1])).collect()
    return Scores(_scores(spans, firms, rules, dates), expand_reasons(spans, dates))


def score_as_of(
    records: pl.DataFrame,
    statuses: pl.DataFrame,
    firms: pl.DataFrame,
    rules: RuleSet,
    as_of: date,
) -> Scores:
    """Scores and reasons of every firm of `firms` as of T (docs §1–§3): point-in-time, from
    what the credit system knew at the end of day T. Records of firms not in `firms` are
    ignored: the directory defines who is scored."""
    return score_history(records, statuses, firms, rules, [as_of])


def reasons_as_of(
    records: pl.DataFrame,
    statuses: pl.DataFrame,
    firms: pl.DataFrame,
    rules: RuleSet,
    as_of: date,
) -> pl.DataFrame:
    """`score_reasons` as of T: one row per counting record segment (veto records included,
    with 0 points)."""
    spans = _spans(records, statuses, firms, rules, (as_of, as_of)).collect()
    return expand_reasons(spans, [as_of])
