"""Tier changes: which firms moved tier between consecutive as-of dates, and why (docs §5).
("docs §N" below: section N of docs/credit-engine.md, the engine's specification.)

What belongs here: pairing each firm's consecutive scored dates, keeping those where the tier
differs, and naming the records behind the move — those that started or stopped counting
between the two dates, or whose points changed (a repeat multiplier lapsing). What does not:
computing scores or reasons (`scoring`); this module only compares two dates of them.
"""

from __future__ import annotations

import polars as pl

from models.credit_schema import TIER_CHANGE_SCHEMA

_PAIR = ["uscc", "from_as_of", "to_as_of"]

SPAN_COLUMNS = ("uscc", "record_id", "points", "span_from", "span_until")
"""What `tier_changes_from_spans` reads of the spans: a caller reading them from storage
needs no other column (nor the spans of firms without a tier change: `moved_firms`)."""


def tier_changes(scores: pl.DataFrame, reasons: pl.DataFrame) -> pl.DataFrame:
    """`tier_changes` (TIER_CHANGE_SCHEMA) from `credit_scores` and `score_reasons`.

    `scores` needs uscc, as_of, score, tier; `reasons` needs uscc, as_of, record_id, points.
    `cause_records` is a JSON list, by record_id, of `{record_id, change, points}` where
    `change` is `started`, `stopped` or `changed` and `points` the record's effect on the
    score between the two dates (before the bonus cap and the clamp): `started` +its points,
    `stopped` −its points, `changed` the difference. A record is compared as a whole: a
    correction moving from its L1 to its L3 segment is `changed`.
    """
    pairs = _pairs(scores)
    per_record = reasons.group_by("uscc", "as_of", "record_id").agg(pl.col("points").sum())

    def on(date_column: str, points: str) -> pl.DataFrame:
        return pairs.select(_PAIR).join(
            per_record.rename({"as_of": date_column, "points": points}),
            on=["uscc", date_column],
        )

    compared = on("from_as_of", "before").join(
        on("to_as_of", "after"), on=[*_PAIR, "record_id"], how="full", coalesce=True
    )
    return _with_causes(pairs, compared)


def tier_changes_from_spans(scores: pl.DataFrame, spans: pl.DataFrame) -> pl.DataFrame:
    """`tier_changes` when reasons are stored as spans (`scoring.reason_spans`), equal to
    `tier_changes(scores, expand_reasons(spans, dates))`.

    A span counts on T when span_from ≤ T < span_until, so each change's records are read
    straight off the spans of the firms that moved — one join of changes × those firms'
    spans, streamed — instead of expanding every moved firm's reasons on every date (which
    took ~6 GB at 10k firms and would not fit at 100k)."""
    pairs = _pairs(scores)
    if pairs.is_empty():
        return _with_causes(pairs, pl.DataFrame(schema=_COMPARED))

    def counted(date_column: str) -> pl.Expr:
        on = (pl.col("span_from") <= pl.col(date_column)) & (
            pl.col("span_until").is_null() | (pl.col(date_column) < pl.col("span_until"))
        )
        return pl.when(on).then(pl.col("points"))

    def total(column: str) -> pl.Expr:
        return pl.when(pl.col(column).is_not_null().any()).then(pl.col(column).sum())

    compared = (
        pairs.lazy()
        .select(_PAIR)
        .join(
            spans.lazy().select(SPAN_COLUMNS),
            on="uscc",
        )
        .with_columns(before=counted("from_as_of"), after=counted("to_as_of"))
        .filter(pl.col("before").is_not_null() | pl.col("after").is_not_null())
        .group_by(*_PAIR, "record_id")
        .agg(before=total("before"), after=total("after"))
        .collect(engine="streaming")
    )
    return _with_causes(pairs, compared)


def moved_firms(scores: pl.DataFrame) -> pl.Series:
    """The firms whose tier differs between two consecutive dates of `scores` (uscc, as_of,
    score, tier): those with a tier change to explain (`tier_changes_from_spans`)."""
    return _pairs(scores)["uscc"].unique().sort()


_COMPARED = pl.Schema(
    {
        "uscc": pl.Utf8,
        "from_as_of": pl.Date,
        "to_as_of": pl.Date,
        "record_id": pl.Utf8,
        "before": pl.Float64,
        "after": pl.Float64,
    }
)


def _pairs(scores: pl.DataFrame) -> pl.DataFrame:
    """Each firm's consecutive scored dates where the tier differs."""
    return (
        scores.select("uscc", "as_of", "score", "tier")
        .sort("uscc", "as_of")
        .with_columns(
            from_as_of=pl.col("as_of").shift(1).over("uscc"),
            from_tier=pl.col("tier").shift(1).over("uscc"),
            from_score=pl.col("score").shift(1).over("uscc"),
        )
        .filter(pl.col("from_as_of").is_not_null() & (pl.col("tier") != pl.col("from_tier")))
        .rename({"as_of": "to_as_of", "tier": "to_tier", "score": "to_score"})
    )


def _with_causes(pairs: pl.DataFrame, compared: pl.DataFrame) -> pl.DataFrame:
    """`compared`: per change and record, its points before and after (null: not counting)."""
    causes = (
        compared.with_columns(
            change=pl.when(pl.col("before").is_null())
            .then(pl.lit("started"))
            .when(pl.col("after").is_null())
            .then(pl.lit("stopped"))
            .when(pl.col("before") != pl.col("after"))
            .then(pl.lit("changed")),
            points=pl.col("after").fill_null(0.0) - pl.col("before").fill_null(0.0),
        )
        .filter(pl.col("change").is_not_null())
        .sort(*_PAIR, "record_id")
        .group_by(_PAIR, maintain_order=True)
        .agg(
            pl.struct("record_id", "change", "points")
            .struct.json_encode()
            .str.join(",")
            .alias("cause_records")
        )
    )
    return (
        pairs.join(causes, on=_PAIR, how="left")
        .with_columns(cause_records=pl.format("[{}]", pl.col("cause_records").fill_null("")))
        .select(TIER_CHANGE_SCHEMA.names())
        .cast(TIER_CHANGE_SCHEMA)
        .sort("uscc", "to_as_of")
    )
