"""Inspector strictness by partial pooling, and how much of the outcome variance it explains.

What belongs here: an empirical-Bayes beta-binomial estimate of each inspector's problem-
finding rate from the outcomes known by a date, shrunk toward the population rate in
proportion to how few inspections the inspector has done; strictness is its log-odds above
the population; the expected outcome of an inspection given who did it. What does not:
features (they use `expected_problem`), evaluation.

Why partial pooling: an inspector with 3 inspections and 2 findings is not "67 % strict";
the between-inspector variance (method of moments) says how far raw rates should be trusted.
Under random assignment (双随机) raw rates are unconfounded; where inspectors cover their own
territory (most public datasets) strictness also absorbs the territory's risk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import polars as pl

STRICTNESS_SCHEMA = pl.Schema(
    {
        "inspector_id": pl.Utf8,
        "inspections": pl.Int64,
        "problems": pl.Int64,
        "raw_rate": pl.Float64,
        "pooled_rate": pl.Float64,
        "strictness": pl.Float64,  # log-odds of pooled_rate above the population rate
    }
)


@dataclass(frozen=True)
class Strictness:
    table: pl.DataFrame  # STRICTNESS_SCHEMA
    population_rate: float
    prior_strength: float  # pseudo-inspections at the population rate
    between_variance: float  # τ²: variance of true inspector rates
    variance_explained: float  # τ² / (p̄ (1 − p̄)): share of outcome variance due to inspectors


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def estimate_strictness(outcomes: pl.DataFrame, min_prior_strength: float) -> Strictness:
    """Each listed inspector of an inspection shares its outcome (a team of two both saw it)."""
    per = (
        outcomes.select("inspectors", "problem")
        .explode("inspectors")
        .drop_nulls("inspectors")
        .group_by(inspector_id="inspectors")
        .agg(inspections=pl.len().cast(pl.Int64), problems=pl.col("problem").sum().cast(pl.Int64))
        .sort("inspector_id")
    )
    total = outcomes.height
    # Series.mean() is typed as any scalar; a Boolean column's mean is a float
    rate = float(cast(float, outcomes["problem"].mean())) if total else 0.0
    if per.is_empty() or rate in (0.0, 1.0):
        empty = per.with_columns(
            raw_rate=pl.col("problems") / pl.col("inspections"),
            pooled_rate=pl.lit(rate),
            strictness=pl.lit(0.0),
        )
        return Strictness(empty.cast(STRICTNESS_SCHEMA), rate, math.inf, 0.0, 0.0)
    n = per["inspections"].cast(pl.Float64)
    raw = per["problems"].cast(pl.Float64) / n
    binomial = rate * (1 - rate)
    # Method of moments: weighted variance of raw rates minus their expected sampling noise.
    # Series.sum() is typed int | float | Decimal; both sums are over Float64, so floats
    observed = float((n * (raw - rate) ** 2).sum()) / float(n.sum())
    noise = binomial * per.height / float(n.sum())
    between = max(observed - noise, 0.0)
    strength = max(binomial / between - 1, min_prior_strength) if between > 0 else math.inf
    if math.isinf(strength):
        pooled = pl.lit(rate)
    else:
        pooled = (pl.col("problems") + strength * rate) / (pl.col("inspections") + strength)
    table = per.with_columns(raw_rate=raw, pooled_rate=pooled).with_columns(
        strictness=pl.col("pooled_rate").map_elements(_logit, return_dtype=pl.Float64)
        - _logit(rate)
    )
    return Strictness(table.cast(STRICTNESS_SCHEMA), rate, strength, between, between / binomial)


def team_strictness(inspectors: pl.Expr, strictness: Strictness) -> pl.Expr:
    """The mean strictness (log-odds above the population) of a team's known inspectors;
    0 — an average inspector — for an empty team or inspectors not yet seen."""
    lookup = dict(
        zip(strictness.table["inspector_id"], strictness.table["strictness"], strict=True)
    )
    return (
        inspectors.list.eval(
            pl.element().replace_strict(lookup, default=0.0, return_dtype=pl.Float64)
        )
        .list.mean()
        .fill_null(0.0)
    )


def expected_problem(inspectors: pl.Expr, strictness: Strictness) -> pl.Expr:
    """Probability that an inspection by these inspectors finds a problem at an average firm:
    population log-odds plus the mean strictness of its (known) inspectors."""
    shift = team_strictness(inspectors, strictness)
    return 1 / (1 + (-(shift + _logit(strictness.population_rate))).exp())


def lead_strictness(inspector: pl.Expr, strictness: Strictness) -> pl.Expr:
    """The strictness of one inspector id (unknown or new inspectors: 0, the population)."""
    lookup = dict(
        zip(strictness.table["inspector_id"], strictness.table["strictness"], strict=True)
    )
    return inspector.replace_strict(lookup, default=0.0, return_dtype=pl.Float64)
