"""Point-in-time features and labels: what was known about each entity on date T.

What belongs here: `features_as_of` (one row per entity of a population as of T) and
`labels_after` (did the entity's next inspection within the horizon find a problem?), plus
`FeatureSpec`, the list of feature columns by group. What does not: models, metrics.

Point-in-time rule (docs/rules.md#point-in-time): a fact counts as of T only if it happened
*and* was known by
T — inspections with `inspected_on ≤ T` and `known_on ≤ T`, records with `valid_from ≤ T` and
`known_on ≤ T`, the credit score of the last as-of date ≤ T. Inspector strictness is passed
in, estimated by the caller from outcomes known by T. Nothing after T can change a feature
(tests/unit/risk/test_features.py alters the future to prove it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

import polars as pl

from models.risk.config import FeatureSettings
from models.risk.history import TIERS, History
from models.risk.inspectors import Strictness, expected_problem

OTHER = "other"


@dataclass(frozen=True)
class FeatureSpec:
    """Feature columns by group; `history` alone is the history-only baseline."""

    history: tuple[str, ...]
    records: tuple[str, ...]
    credit: tuple[str, ...]
    entity: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def numeric(self) -> tuple[str, ...]:
        return (*self.history, *self.records, *self.credit, *self.entity)

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.numeric, *self.categorical)


def feature_spec(history: History, settings: FeatureSettings) -> FeatureSpec:
    windows = settings.windows_days
    longest = max(windows)
    hist = [
        "inspections_total",
        *(f"inspections_{w}d" for w in windows),
        *(f"problems_{w}d" for w in windows),
        "problem_rate_smoothed",
        "problems_decayed",
        "excess_problems_decayed",
        "last_problem",
        "days_since_inspection",
        "days_since_problem",
        f"median_gap_{longest}d",
        "overdue_ratio",
    ]
    if history.outcomes["score"].is_not_null().any():
        hist += [
            "last_score",
            f"mean_score_{longest}d",
            f"min_score_{longest}d",
            "score_decayed",
            "excess_score_decayed",
            "score_trend",
            f"score_std_{longest}d",
        ]
    records: list[str] = []
    if history.records is not None:
        records = [
            *(f"bad_points_{w}d" for w in windows),
            *(f"bad_records_{w}d" for w in windows),
            f"severe_records_{longest}d",
            "days_since_bad_record",
            "good_points_365d",
            f"correction_orders_{longest}d",
            f"late_corrections_{longest}d",
            f"late_correction_share_{longest}d",
        ]
    credit = ["credit_score", "tier_rank", "veto"] if history.scores is not None else []
    entity = ["age_years"] if history.entities["opened_on"].is_not_null().any() else []
    return FeatureSpec(
        tuple(hist), tuple(records), tuple(credit), tuple(entity), tuple(history.categorical)
    )


def features_as_of(
    history: History,
    as_of: date,
    population: pl.Series,
    strictness: Strictness,
    settings: FeatureSettings,
) -> pl.DataFrame:
    """One row per entity of `population`: `entity_id`, `as_of` and every feature of the spec."""
    spec = feature_spec(history, settings)
    base = population.to_frame("entity_id").with_columns(as_of=pl.lit(as_of, dtype=pl.Date))
    parts = [_inspection_features(history, as_of, strictness, settings)]
    if history.records is not None:
        parts.append(_record_features(history.records, as_of, settings))
    if history.scores is not None:
        parts.append(_credit_features(history.scores, as_of))
    parts.append(_entity_features(history, as_of))
    frame = base
    for part in parts:
        frame = frame.join(part, on="entity_id", how="left")
    counts = [
        c for c in spec.numeric if c.startswith(("inspections_", "problems_", "bad_", "good_"))
    ]
    counts += [c for c in spec.records if c.startswith(("severe_", "correction_", "late_c"))]
    fills = {c: pl.col(c).fill_null(0) for c in counts if not c.startswith("late_correction_s")}
    fills |= {
        "problems_decayed": pl.col("problems_decayed").fill_null(0.0),
        "excess_problems_decayed": pl.col("excess_problems_decayed").fill_null(0.0),
        "problem_rate_smoothed": pl.col("problem_rate_smoothed").fill_null(
            strictness.population_rate
        ),
    }
    fills |= {c: pl.col(c).fill_null(OTHER) for c in spec.categorical}
    return frame.with_columns(**fills).select("entity_id", "as_of", *spec.all).sort("entity_id")


LABEL_COLUMNS = ("label_id", "label", "label_on", "label_inspector", "label_team")


def _as_labels(outcomes: pl.DataFrame) -> pl.DataFrame:
    return outcomes.select(
        "entity_id",
        label_id=pl.col("inspection_id"),
        label=pl.col("problem"),
        label_on=pl.col("inspected_on"),
        label_inspector=pl.col("inspectors").list.first(),
        label_team=pl.col("inspectors"),
    )


def labels_after(outcomes: pl.DataFrame, as_of: date, horizon_days: int) -> pl.DataFrame:
    """The first inspection of each entity in (T, T + horizon]: did it find a problem, when,
    which inspection, who led it and the whole team. Entities not inspected in the window
    have no row."""
    end = as_of + timedelta(days=horizon_days)
    return _as_labels(
        outcomes.filter(pl.col("inspected_on").is_between(as_of, end, closed="right"))
        .sort(["entity_id", "inspected_on", "problem"], descending=[False, False, True])
        .group_by("entity_id", maintain_order=True)
        .first()
    )


def inspections_in(outcomes: pl.DataFrame, start: date, end: date) -> pl.DataFrame:
    """Every inspection in (start, end] as a label row (`renfang backtest --unit inspection`),
    in date order."""
    return _as_labels(
        outcomes.filter(pl.col("inspected_on").is_between(start, end, closed="right")).sort(
            "inspected_on", "entity_id", "inspection_id", nulls_last=True
        )
    )


def _age_days(column: str, as_of: date) -> pl.Expr:
    return (pl.lit(as_of, dtype=pl.Date) - pl.col(column)).dt.total_days()


def _inspection_features(
    history: History, as_of: date, strictness: Strictness, settings: FeatureSettings
) -> pl.DataFrame:
    windows = settings.windows_days
    longest = max(windows)
    known = history.outcomes.filter(
        (pl.col("inspected_on") <= as_of) & (pl.col("known_on") <= as_of)
    ).with_columns(
        age=_age_days("inspected_on", as_of),
        expected=expected_problem(pl.col("inspectors"), strictness),
        p=pl.col("problem").cast(pl.Float64),
    )
    decay = 0.5 ** (pl.col("age") / settings.half_life_days)
    gap = f"median_gap_{longest}d"
    k = settings.prior_strength
    rate = strictness.population_rate
    aggs: list[pl.Expr] = [
        pl.len().alias("inspections_total"),
        *(pl.col("p").filter(pl.col("age") < w).len().alias(f"inspections_{w}d") for w in windows),
        *(pl.col("p").filter(pl.col("age") < w).sum().alias(f"problems_{w}d") for w in windows),
        ((pl.col("p").sum() + k * rate) / (pl.len() + k)).alias("problem_rate_smoothed"),
        (pl.col("p") * decay).sum().alias("problems_decayed"),
        ((pl.col("p") - pl.col("expected")) * decay).sum().alias("excess_problems_decayed"),
        pl.col("p").sort_by("inspected_on").last().alias("last_problem"),
        pl.col("age").min().alias("days_since_inspection"),
        pl.col("age").filter(pl.col("problem")).min().alias("days_since_problem"),
        # the usual interval between inspections: regulators inspect riskier places more often
        pl.col("age").filter(pl.col("age") < longest).diff().abs().median().alias(gap),
    ]
    if history.outcomes["score"].is_not_null().any():
        known = known.with_columns(
            score_excess=pl.col("score") - _inspector_score(known, settings.inspector_score_prior)
        )
        recent = pl.col("score").filter(pl.col("age") < longest)
        scored = pl.col("score").is_not_null()
        aggs += [
            ((pl.col("score_excess") * decay).sum() / decay.filter(scored).sum()).alias(
                "excess_score_decayed"
            ),
            pl.col("score").drop_nulls().last().alias("last_score"),
            recent.mean().alias(f"mean_score_{longest}d"),
            recent.min().alias(f"min_score_{longest}d"),
            ((pl.col("score") * decay).sum() / decay.filter(scored).sum()).alias("score_decayed"),
            pl.col("score").drop_nulls().diff().last().alias("score_trend"),
            recent.std().alias(f"score_std_{longest}d"),
        ]
    return (
        known.sort("entity_id", "inspected_on")
        .group_by("entity_id")
        .agg(aggs)
        .with_columns(pl.selectors.numeric().cast(pl.Float64).fill_nan(None))  # 0/0: no score
        .with_columns(
            overdue_ratio=pl.when(pl.col(gap) > 0).then(
                pl.col("days_since_inspection") / pl.col(gap)
            )
        )
    )


def _inspector_score(known: pl.DataFrame, strength: float) -> pl.Expr:
    """The mean score each lead inspector gives, shrunk toward the mean of all scores by
    `strength` pseudo-inspections: a firm's score minus it is its strictness-adjusted score."""
    lead = pl.col("inspectors").list.first()
    mean = cast(float | None, known["score"].mean())  # Series.mean(): any scalar; score is Float64
    if mean is None:
        return pl.lit(None, dtype=pl.Float64)
    per = (
        known.drop_nulls("score")
        .group_by(lead.alias("_lead"))
        .agg(pl.col("score").sum(), pl.len())
        .drop_nulls("_lead")
    )
    pooled = (per["score"] + strength * mean) / (per["len"] + strength)
    lookup = dict(zip(per["_lead"], pooled, strict=True))
    return lead.replace_strict(lookup, default=mean, return_dtype=pl.Float64)


def _record_features(records: pl.DataFrame, as_of: date, settings: FeatureSettings) -> pl.DataFrame:
    windows = settings.windows_days
    longest = max(windows)
    known = records.filter(
        (pl.col("valid_from") <= as_of) & (pl.col("known_on") <= as_of)
    ).with_columns(age=_age_days("valid_from", as_of))
    bad = pl.col("polarity") == "bad"
    correction = pl.col("source") == "correction_notices"
    late = correction & bad & pl.col("severity").is_in(["L3", "L4"])
    in_longest = pl.col("age") < longest
    aggs = [
        *(
            pl.col("points").filter(bad & (pl.col("age") < w)).sum().alias(f"bad_points_{w}d")
            for w in windows
        ),
        *(
            pl.col("points").filter(bad & (pl.col("age") < w)).len().alias(f"bad_records_{w}d")
            for w in windows
        ),
        pl.col("points")
        .filter(bad & in_longest & pl.col("severity").is_in(["L3", "L4"]))
        .len()
        .alias(f"severe_records_{longest}d"),
        pl.col("age").filter(bad).min().alias("days_since_bad_record"),
        pl.col("points").filter(~bad & (pl.col("age") < 365)).sum().alias("good_points_365d"),
        pl.col("points")
        .filter(correction & (pl.col("rule") == "correction.order") & in_longest)
        .len()
        .alias(f"correction_orders_{longest}d"),
        pl.col("points").filter(late & in_longest).len().alias(f"late_corrections_{longest}d"),
    ]
    share = pl.col(f"late_corrections_{longest}d") / pl.col(f"correction_orders_{longest}d")
    return (
        known.group_by("entity_id")
        .agg(aggs)
        .with_columns(pl.selectors.numeric().cast(pl.Float64))
        .with_columns(share.clip(0, 1).fill_nan(None).alias(f"late_correction_share_{longest}d"))
    )


def _credit_features(scores: pl.DataFrame, as_of: date) -> pl.DataFrame:
    rank = {t: float(i) for i, t in enumerate(TIERS)}
    return (
        scores.filter(pl.col("as_of") <= as_of)
        .sort("as_of")
        .group_by("entity_id")
        .last()
        .select(
            "entity_id",
            credit_score=pl.col("score").cast(pl.Float64),
            tier_rank=pl.col("tier").replace_strict(rank, default=None, return_dtype=pl.Float64),
            veto=pl.col("veto").cast(pl.Float64),
        )
    )


def _entity_features(history: History, as_of: date) -> pl.DataFrame:
    entities = history.entities
    age = _age_days("opened_on", as_of) / 365.25
    # an entity opened after T is not yet open: no age rather than a negative one
    return entities.select(
        "entity_id",
        *history.categorical,
        age_years=pl.when(age >= 0).then(age).otherwise(None),
    )
