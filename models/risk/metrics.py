"""Evaluation metrics on (score, label) pairs, each small enough to check by hand.

What belongs here: AUC (overall and pooled within groups, e.g. within inspector), top-k lift
and the lift curve, calibration bins and the Brier score, failure rate by tier, the hit rate
of a tier-driven draw against a uniform one at the same budget, and the schedule-reordering
metrics. Pure numpy/polars; ties are handled explicitly. What does not: models, plots.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import numpy as np
import polars as pl


def auc(scores: Sequence[float] | np.ndarray, labels: Sequence[bool] | np.ndarray) -> float:
    """P(score of a random positive > score of a random negative), ties counting ½
    (Mann–Whitney). NaN when one class is absent."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    pos, neg = int(y.sum()), int((~y).sum())
    if pos == 0 or neg == 0:
        return math.nan
    ranks = pl.Series(s).rank("average").to_numpy()
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def within_group_auc(frame: pl.DataFrame, score: str, label: str, group: str) -> float:
    """AUC over pairs drawn from the same group only (e.g. the same inspector): the group's
    AUCs weighted by their positive × negative pair counts. Groups with one class add no
    pair. NaN if no group has both classes."""
    total, weight = 0.0, 0
    for _, part in frame.drop_nulls(group).group_by(group):
        y = part[label].to_numpy().astype(bool)
        pairs = int(y.sum()) * int((~y).sum())
        if pairs:
            total += auc(part[score].to_numpy(), y) * pairs
            weight += pairs
    return total / weight if weight else math.nan


def _ranked(scores: np.ndarray, labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Labels ordered by score, highest first; ties broken by a fixed random order so that a
    constant score has exactly the lift of a random draw in expectation."""
    jitter = np.random.default_rng(seed).random(len(scores))
    order = np.lexsort((jitter, -scores))
    return labels[order]


def top_share_lift(
    scores: Sequence[float] | np.ndarray, labels: Sequence[bool] | np.ndarray, share: float
) -> float:
    """Problem rate among the top `share` by score ÷ overall problem rate (ceil of the count)."""
    y = _ranked(np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool))
    if len(y) == 0 or not y.any():
        return math.nan
    k = max(1, math.ceil(share * len(y)))
    return float(y[:k].mean() / y.mean())


def lift_curve(
    scores: Sequence[float] | np.ndarray, labels: Sequence[bool] | np.ndarray, points: int = 20
) -> pl.DataFrame:
    """Cumulative gains: share inspected (riskiest first) → share of problems found, lift."""
    y = _ranked(np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool))
    n, hits = len(y), int(y.sum())
    rows = []
    for i in range(1, points + 1):
        k = max(1, math.ceil(i / points * n)) if n else 0
        found = int(y[:k].sum()) if n else 0
        rows.append(
            {
                "share_inspected": i / points,
                "share_found": found / hits if hits else math.nan,
                "lift": (found / k) / (hits / n) if hits and k else math.nan,
            }
        )
    return pl.DataFrame(
        rows, schema={"share_inspected": pl.Float64, "share_found": pl.Float64, "lift": pl.Float64}
    )


def calibration_bins(
    probabilities: Sequence[float] | np.ndarray, labels: Sequence[bool] | np.ndarray, bins: int
) -> pl.DataFrame:
    """Equal-count bins by predicted probability: mean prediction vs observed problem rate."""
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(labels, dtype=bool)
    order = np.argsort(p, kind="stable")
    rows = []
    for i, idx in enumerate(np.array_split(order, bins)):
        if len(idx):
            rows.append(
                {
                    "bin": i + 1,
                    "entities": len(idx),
                    "mean_predicted": float(p[idx].mean()),
                    "observed_rate": float(y[idx].mean()),
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "bin": pl.Int64,
            "entities": pl.Int64,
            "mean_predicted": pl.Float64,
            "observed_rate": pl.Float64,
        },
    )


def brier(
    probabilities: Sequence[float] | np.ndarray, labels: Sequence[bool] | np.ndarray
) -> float:
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(labels, dtype=float)
    return float(np.mean((p - y) ** 2)) if len(p) else math.nan


def failure_by_tier(
    frame: pl.DataFrame, tier: str, label: str, ratios: Mapping[str, float]
) -> pl.DataFrame:
    """Entities, problems and failure rate per tier, with the tier's draw ratio and how many
    a draw at that ratio takes (n = ceil(entities × ratio), docs/sampling.md#strata-and-ratios)."""
    return (
        frame.group_by(tier=pl.col(tier))
        .agg(entities=pl.len().cast(pl.Int64), problems=pl.col(label).sum().cast(pl.Int64))
        .with_columns(
            failure_rate=pl.col("problems") / pl.col("entities"),
            ratio=pl.col("tier").replace_strict(
                dict(ratios), default=None, return_dtype=pl.Float64
            ),
        )
        .with_columns(drawn=(pl.col("entities") * pl.col("ratio")).ceil().cast(pl.Int64))
        .sort("tier")
    )


def draw_comparison(
    tiers: pl.DataFrame, scored: pl.DataFrame, score: str, label: str
) -> pl.DataFrame:
    """Expected hit rates at the same budget: the tier-driven draw (each tier drawn at its
    ratio), a uniform random draw, and the riskiest entities by `score`."""
    drawn = tiers.drop_nulls("ratio")
    budget = int(drawn["drawn"].sum())
    expected_hits = float((drawn["drawn"] * drawn["failure_rate"]).sum())
    y = scored[label].to_numpy().astype(bool)
    base = float(y.mean()) if len(y) else math.nan
    top = _ranked(scored[score].to_numpy().astype(float), y)[:budget]
    rows = [
        ("uniform", budget, base * budget, base),
        ("tier_driven", budget, expected_hits, expected_hits / budget if budget else math.nan),
        ("model_top", budget, float(top.sum()), float(top.mean()) if budget else math.nan),
    ]
    return pl.DataFrame(
        rows,
        schema={
            "strategy": pl.Utf8,
            "budget": pl.Int64,
            "expected_hits": pl.Float64,
            "hit_rate": pl.Float64,
        },
        orient="row",
    )


def reordering(
    frame: pl.DataFrame, score: str, label: str, date_col: str, start: date, first_days: int
) -> dict[str, float]:
    """Keep the real inspection dates of the window; give the earliest dates to the riskiest
    entities. Returns the mean days earlier each problem is found and the share of problems
    found in the first `first_days` days, actually and reordered."""
    if frame.is_empty() or not frame[label].any():
        return {
            "days_earlier": math.nan,
            "share_first_actual": math.nan,
            "share_first_reordered": math.nan,
        }
    dates = frame[date_col].sort().to_list()
    y = frame[label].to_numpy().astype(bool)
    jitter = np.random.default_rng(0).random(len(y))
    order = np.lexsort((jitter, -frame[score].to_numpy().astype(float)))
    reordered = np.empty(len(y), dtype=object)
    reordered[order] = dates
    actual = np.array(frame[date_col].to_list(), dtype=object)
    limit = start + timedelta(days=first_days)
    earlier = [(a - r).days for a, r, hit in zip(actual, reordered, y, strict=True) if hit]
    return {
        "days_earlier": float(np.mean(earlier)),
        "share_first_actual": float(np.mean([a <= limit for a in actual[y]])),
        "share_first_reordered": float(np.mean([r <= limit for r in reordered[y]])),
    }
