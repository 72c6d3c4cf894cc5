"""Scoring: credit records → scores, tiers and reasons, as of one date or many (docs §1–§3, §5).

What belongs here: the counting predicate of docs §1, the repeat multiplier of docs §2, the
score formula and the tier with its veto override of docs §3, and the outputs
`credit_scores` and `score_reasons` — for one as-of date or for a whole series of them.

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

import numpy as np
import polars as pl

from models.credit_schema import CREDIT_SCORE_SCHEMA, SCORE_REASON_SCHEMA
from models.rules import RuleSet

STOPPING_STATUSES: tuple[str, ...] = ("revoked", "corrected", "repaired")
"""Statuses after which a record no longer counts (docs §4), from their `status_from` on."""
REPEAT_BREAKING_STATUSES: tuple[str, ...] = ("revoked", "corrected")
"""Statuses after which a record no longer makes a later one a repeat (docs §2): a revoked or
corrected record did not happen as recorded; a repaired one did, it only stopped counting."""
DISPUTED = "disputed"
"""Reason status while an objection runs (docs §4); the record keeps counting."""
ACTIVE = "active"

OPEN = date(9999, 12, 31)
"""Stands in for an open end (null `valid_until` / `segment_until` / `status_until`) inside
this module, so that interval arithmetic has no null cases; public tables show null again."""

REASON_SPAN_SCHEMA = pl.Schema(
    {
        **{c: t for c, t in SCORE_REASON_SCHEMA.items() if c != "as_of"},
        "veto_reason": pl.Utf8,
        "span_from": pl.Date,
        "span_until": pl.Date,
    }
)
"""`score_reasons` as an interval table: the row (without `as_of`) is a reason as of every
date T with `span_from ≤ T < span_until` (null `span_until`: open)."""

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
    return (
        _with_text(spans, records)
        .with_columns(
            span_until=pl.when(pl.col("span_until") < OPEN).then(pl.col("span_until")),
        )
        .select(REASON_SPAN_SCHEMA.names())
        .cast(dict(REASON_SPAN_SCHEMA))
        .sort("uscc", "record_id", "segment", "span_from")
    )


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
        .cast(dict(SCORE_REASON_SCHEMA))
    )


def score_timeline(
    records: pl.DataFrame,
    statuses: pl.DataFrame,
    firms: pl.DataFrame,
    rules: RuleSet,
    as_of: date,
) -> pl.DataFrame:
    """Each firm's score from T on if nothing new becomes known after T (docs §5): a row at T
    and one at every later date on which a known record starts or stops counting — windows
    and segments ending, a known later segment starting. Records collected and statuses
    decided after T are ignored: they are the new facts this view assumes away.

    Columns: `uscc`, `on`, `bonus` (Σ before the cap), `deduction`, `vetoes` (counting veto
    records), `score`, `tier`; sorted by (uscc, on). The row at T equals `score_as_of`.
    """
    known = records.filter(pl.col("collected_on") <= as_of)
    decided = statuses.filter(pl.col("status_from") <= as_of)
    firm_ids = _firm_ids(firms)
    spans = _spans(known, decided, firm_ids, rules, (as_of, OPEN))
    micro = (pl.col("points") * _MICRO).round().cast(pl.Int64)

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
    timeline = (
        pl.concat([at_as_of, at_start, at_end], how="vertical_relaxed")
        .group_by("f", "on")
        .agg(pl.col(_SUMS).sum())
        .sort("f", "on")
        .with_columns(pl.col(_SUMS).cum_sum().over("f"))
    )
    return (
        timeline.with_columns(
            uscc=firm_ids.gather(timeline.get_column("f")),
            bonus=pl.col("bonus") / _MICRO,
            deduction=pl.col("deduction") / _MICRO,
        )
        .with_columns(score=score_expr(rules, pl.col("bonus"), pl.col("deduction")))
        .with_columns(tier=tier_with_veto_expr(rules, pl.col("score"), pl.col("vetoes") > 0))
        .select("uscc", "on", "bonus", "deduction", "vetoes", "score", "tier")
    )


_SUMS = ["bonus", "deduction", "vetoes"]


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
) -> pl.DataFrame:
    """Spans (OPEN for open ends) as numbers: `row` of the record in `records`, firm index
    `f`, `good`, `veto`, signed `points` after the multiplier, `multiplier`, `disputed`,
    `span_from`, `span_until`. Only spans touching `window` [first, last], if given: the
    rest cannot count on any requested date, and dropping them first keeps one date cheap.

    Every stage is materialised once because later stages read it several times. The string
    work (firm, record id and category lookups) is done only on rows that survive the
    cheap date filters; text columns stay in `records`, fetched by row when needed.
    """
    firm_table = pl.DataFrame(
        {"uscc": firm_ids, "f": np.arange(len(firm_ids), dtype=np.int64)}
    ).lazy()
    by_record = statuses.group_by("record_id").agg(
        stop_from=pl.col("status_from").filter(pl.col("status").is_in(STOPPING_STATUSES)).min(),
        break_from=pl.col("status_from")
        .filter(pl.col("status").is_in(REPEAT_BREAKING_STATUSES))
        .min(),
        ever_disputed=(pl.col("status") == DISPUTED).any(),
    )
    counting = _counting(records, by_record, firm_table, window)
    repeats = _repeat_intervals(records, by_record, firm_table, counting, rules)
    disputes = _dispute_intervals(records, statuses, counting)
    pieces = (
        _pieces(counting, repeats, disputes)
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
            points=pl.when("good" | (pl.col("points") == 0))
            .then(pl.col("points") * pl.col("multiplier"))
            .otherwise(-pl.col("points") * pl.col("multiplier")),
            multiplier="multiplier",
            disputed="disputed",
            span_from="piece_from",
            span_until="piece_until",
        )
    )
    # A span touching the window may have been cut into pieces that do not.
    return _touching(pieces, window).collect()


_REPEATABLE = (
    (pl.col("polarity") == "bad")
    & ~pl.col("veto").fill_null(False)
    & pl.col("category").is_not_null()
)
"""A record that can be, or make, a repeat (docs §2): a bad record with a category, not a
veto record (a veto is no violation of its own; it rides on its document's record)."""


def _counting(
    records: pl.DataFrame,
    by_record: pl.DataFrame,
    firm_table: pl.LazyFrame,
    window: tuple[date, date] | None,
) -> pl.DataFrame:
    """docs §1, conditions 1–5, as one interval per record segment: it counts as of T iff
    `span_from ≤ T < span_until`. Segments of firms outside the directory are dropped."""

    candidates = (
        records.lazy()
        .with_row_index("row")
        # 5. an unevidenced bad record is reported by the annual review, never counted
        .filter((pl.col("polarity") == "good") | pl.col("evidence_valid").fill_null(False))
        # 1. a record without a collection date was never known to have arrived
        .filter(pl.col("collected_on").is_not_null())
        .with_columns(
            # 1. collected by T, 2. inside the window, 3. the segment in force …
            span_from=pl.max_horizontal("collected_on", "valid_from", "segment_from"),
            span_until=pl.min_horizontal("valid_until", "segment_until", pl.lit(OPEN)),
        )
    )
    candidates = _touching(candidates, window).join(firm_table, on="uscc")
    # … 4. and not revoked, corrected or repaired as of T
    counting = candidates.join(by_record.lazy(), on="record_id", how="left").with_columns(
        span_until=pl.min_horizontal("span_until", "stop_from"),
    )
    return (
        _touching(counting, window)
        .select(
            "row",
            "f",
            "category",
            "valid_from",
            "points",
            "span_from",
            "span_until",
            good=pl.col("polarity") == "good",
            veto=pl.col("veto").fill_null(False),
            repeatable=_REPEATABLE,
            ever_disputed=pl.col("ever_disputed").fill_null(False),
        )
        .collect()
    )


def _touching(spans: pl.LazyFrame, window: tuple[date, date] | None) -> pl.LazyFrame:
    """Non-empty spans that count on some day of `window` [first, last] (all if None)."""
    spans = spans.filter(pl.col("span_from") < pl.col("span_until"))
    if window is None:
        return spans
    first, last = window
    return spans.filter((pl.col("span_from") <= last) & (pl.col("span_until") > first))


_INTERVALS = pl.Schema({"row": pl.UInt32, "from": pl.Date, "until": pl.Date})


def _repeat_intervals(
    records: pl.DataFrame,
    by_record: pl.DataFrame,
    firm_table: pl.LazyFrame,
    counting: pl.DataFrame,
    rules: RuleSet,
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
    """
    later = counting.filter("repeatable").select("row", "f", "category", "valid_from")
    if later.is_empty():
        return pl.DataFrame(schema=_INTERVALS)
    months = rules.repeat.window_months
    # Only an E dated within the window before some R matters; the spare month absorbs the
    # month-end clipping of calendar arithmetic.
    oldest, newest = later.select(
        pl.col("valid_from").min().dt.offset_by(f"-{months + 1}mo").alias("oldest"),
        pl.col("valid_from").max().alias("newest"),
    ).row(0)
    earlier = (
        records.lazy()
        .filter(
            _REPEATABLE
            & pl.col("evidence_valid").fill_null(False)
            & pl.col("valid_from").is_between(oldest, newest, closed="left")
        )
        .select(
            "uscc",
            "record_id",
            "category",
            e_valid_from="valid_from",
            e_window_end=pl.col("valid_from").dt.offset_by(f"{months}mo"),
            **{"from": pl.col("collected_on")},
        )
        .join(firm_table, on="uscc")
        .collect()
    )
    # The categories as small integers, the same on both sides, so that (firm, category)
    # packs into one integer key: joining on it is much cheaper than on strings.
    categories = pl.Enum(earlier.get_column("category").unique().sort())

    def key(frame: pl.DataFrame) -> pl.LazyFrame:
        code = pl.col("category").cast(categories, strict=False).to_physical().cast(pl.Int64)
        return frame.lazy().with_columns(key=pl.col("f") * len(categories.categories) + code)

    pairs = (
        key(later)
        .join(key(earlier).drop("f", "category", "uscc"), on="key")
        .filter(
            (pl.col("e_valid_from") < pl.col("valid_from"))
            & (pl.col("valid_from") < pl.col("e_window_end"))
        )
        .join(by_record.lazy().select("record_id", "break_from"), on="record_id", how="left")
        .select("row", "from", until=pl.col("break_from").fill_null(OPEN))
        .filter(pl.col("from") < pl.col("until"))
        .collect()
    )
    return _union(pairs)


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
        .cast(dict(_INTERVALS))
    )


def _dispute_intervals(
    records: pl.DataFrame, statuses: pl.DataFrame, counting: pl.DataFrame
) -> pl.DataFrame:
    """Per counting row with an objection, the dates it shows as disputed (docs §4)."""
    rows = counting.filter("ever_disputed").select("row")
    ids = rows.with_columns(record_id=records.get_column("record_id").gather(rows["row"]))
    disputes = statuses.filter(pl.col("status") == DISPUTED).select(
        "record_id",
        pl.col("status_from").alias("from"),
        pl.col("status_until").fill_null(OPEN).alias("until"),
    )
    return ids.join(disputes, on="record_id").select(_INTERVALS.names()).cast(dict(_INTERVALS))


def _pieces(counting: pl.DataFrame, repeats: pl.DataFrame, disputes: pl.DataFrame) -> pl.DataFrame:
    """Cut each counting span where its multiplier or its disputed status changes, so that
    each piece has one reason row. Only rows with such a change are cut (repeats and
    objections); the rest pass through as one piece each."""
    cuts = pl.concat(
        [
            frame.select("row", pl.col(end).alias("cut"))
            for frame in (repeats, disputes)
            for end in ("from", "until")
        ]
    )
    is_cut = pl.col("row").is_in(cuts.get_column("row").unique().implode())
    plain = counting.filter(~is_cut).with_columns(
        piece_from=pl.col("span_from"),
        piece_until=pl.col("span_until"),
        multiplied=pl.lit(False),
        disputed=pl.lit(False),
    )
    split = counting.filter(is_cut)
    inner_cuts = (
        split.lazy()
        .select("row", "span_from", "span_until")
        .join(cuts.lazy(), on="row")
        .filter((pl.col("cut") > pl.col("span_from")) & (pl.col("cut") < pl.col("span_until")))
        .select("row", "cut")
    )
    bounds = (
        pl.concat([split.lazy().select("row", cut="span_from"), inner_cuts])
        .unique()
        .sort("row", "cut")
        .with_columns(
            next_cut=pl.when(pl.col("row").shift(-1) == pl.col("row")).then(pl.col("cut").shift(-1))
        )
    )
    pieces = (
        split.lazy()
        .join(bounds, on="row")
        .with_columns(piece_from=pl.col("cut"), piece_until=pl.coalesce("next_cut", "span_until"))
        .drop("cut", "next_cut")
        .collect()
    )
    pieces = _flag(_flag(pieces, repeats, "multiplied"), disputes, "disputed")
    return pl.concat([plain, pieces], how="diagonal_relaxed")


def _flag(pieces: pl.DataFrame, intervals: pl.DataFrame, name: str) -> pl.DataFrame:
    """`name` = the piece lies in one of its row's intervals. Pieces never straddle an
    interval end, so testing the piece's first day is enough."""
    hits = (
        pieces.lazy()
        .select("row", "piece_from")
        .join(intervals.lazy(), on="row")
        .filter((pl.col("from") <= pl.col("piece_from")) & (pl.col("piece_from") < pl.col("until")))
        .select("row", "piece_from")
        .unique()
        .with_columns(pl.lit(True).alias(name))
    )
    return (
        pieces.lazy()
        .join(hits, on=["row", "piece_from"], how="left")
        .with_columns(pl.col(name).fill_null(False))
        .collect()
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
        return table[np.clip(day - first, 0, last + 1 - first)]

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
    n_rows, n_firms = records.height, int(spans.get_column("f").max() or 0) + 1
    order = (pl.col("k") * n_firms + pl.col("f")) * n_rows + pl.col("row").cast(pl.Int64)
    expanded = _explode_dates(spans, dates).sort(order)
    return (
        _with_text(expanded, records)
        .select(SCORE_REASON_SCHEMA.names())
        .cast(dict(SCORE_REASON_SCHEMA))
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
    # Points are summed as whole micro-points, so adding and later subtracting the same
    # values leaves no float residue (0.1 + 0.2 − 0.1 − 0.2 ≠ 0) that could tip a score
    # at a tier threshold; rule-set points have far fewer decimals.
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
        .cast(dict(CREDIT_SCORE_SCHEMA))
    )


_MICRO = 1e6


def _veto_details(
    indexed: pl.DataFrame, records: pl.DataFrame, n_firms: int, size: int
) -> tuple[pl.Series, pl.Series]:
    """`veto_until` and `veto_reason` per cell (null without a counting veto): of the veto
    records counting there, the one lasting longest (ties: smallest record_id). Veto records
    are few, so expanding them over the dates they cover is cheap."""
    vetoes = indexed.filter("veto")
    best = (
        vetoes.select("f", "k_from", "k_until")
        .with_columns(
            records.select("record_id", "valid_until", "veto_reason").gather(vetoes["row"]),
            k=pl.int_ranges("k_from", "k_until"),
        )
        .explode("k")
        .with_columns(cell=pl.col("k") * n_firms + pl.col("f"))
        .sort(["cell", "valid_until", "record_id"], descending=[False, True, False])
        .unique("cell", keep="first", maintain_order=True)
    )
    pick = np.full(size, -1, dtype=np.int64)
    pick[best.get_column("cell").to_numpy()] = np.arange(best.height)
    index = pl.Series(pick).replace(-1, None)
    return (
        best.get_column("valid_until").gather(index),
        best.get_column("veto_reason").gather(index),
    )
