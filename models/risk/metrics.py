"""Evaluation metrics on (score, label) pairs, each small enough to check by hand.

What belongs here: AUC (overall and pooled within groups, e.g. within inspector), top-k lift
and the lift curve, calibration bins and the Brier score, failure rate by tier, the hit rate
of a tier-driven draw against a uniform one at the same budget, and the schedule-reordering
metrics. Pure numpy/polars; ties are handled explicitly. What does not: models, plots.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date

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
    frame: pl.DataFrame, score: str, label: str, date_col: str, first_until: date
) -> dict[str, float]:
    """Keep the real inspection dates of the window; give the earliest dates to the riskiest
    entities. Returns the mean days earlier each problem is found and the share of problems
    found by `first_until` (the end of the "first month"), actually and reordered."""
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
    limit = first_until
    earlier = [(a - r).days for a, r, hit in zip(actual, reordered, y, strict=True) if hit]
    return {
        "days_earlier": float(np.mean(earlier)),
        "share_first_actual": float(np.mean([a <= limit for a in actual[y]])),
        "share_first_reordered": float(np.mean([r <= limit for r in reordered[y]])),
    }


def bootstrap_weights(rows: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """How many times each row is drawn in each of `resamples` bootstrap samples (rows drawn
    with replacement, as many as there are): shape (resamples, rows)."""
    if rows == 0:
        return np.zeros((resamples, 0))
    return rng.multinomial(rows, np.full(rows, 1 / rows), size=resamples).astype(float)


def weighted_auc(
    scores: Sequence[float] | np.ndarray,
    labels: Sequence[bool] | np.ndarray,
    weights: np.ndarray,
    groups: Sequence[object] | np.ndarray | None = None,
) -> np.ndarray:
    """AUC of one score under each row of `weights` (resamples × rows; a row drawn twice
    counts twice), ties counting ½; with `groups`, pooled over pairs inside a group only (as
    `within_group_auc`; rows whose group is None take no part). One value per resample, NaN
    where no pair exists. With weights of one this is `auc` / `within_group_auc`."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    w = np.atleast_2d(np.asarray(weights, dtype=float))
    if groups is None:
        codes = np.zeros(len(s), dtype=np.int64)
    else:
        keys = pl.Series("g", list(groups), dtype=pl.Utf8)
        keep = keys.is_not_null().to_numpy()
        s, y, w = s[keep], y[keep], w[:, keep]
        codes = keys.filter(keys.is_not_null()).rank("dense").to_numpy().astype(np.int64)
    if len(s) == 0:
        return np.full(w.shape[0], math.nan)
    order = np.lexsort((s, codes))
    s, y, codes, w = s[order], y[order], codes[order], w[:, order]
    # blocks of equal (group, score): ties inside a block count ½
    new_block = np.r_[True, (codes[1:] != codes[:-1]) | (s[1:] != s[:-1])]
    starts = np.flatnonzero(new_block)
    block_group = codes[starts]
    pos = np.add.reduceat(w * y, starts, axis=1)
    neg = np.add.reduceat(w * ~y, starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg  # negatives in earlier blocks (all groups)
    first = np.flatnonzero(np.r_[True, block_group[1:] != block_group[:-1]])
    group_of_block = np.cumsum(np.r_[True, block_group[1:] != block_group[:-1]]) - 1
    below -= below[:, first][:, group_of_block]  # … of this group only
    concordant = (pos * (below + 0.5 * neg)).sum(axis=1)
    pairs = (np.add.reduceat(pos, first, axis=1) * np.add.reduceat(neg, first, axis=1)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, concordant / np.where(pairs > 0, pairs, 1), math.nan)


def bootstrap_aucs(
    scores: Mapping[str, np.ndarray],
    labels: np.ndarray,
    *,
    groups: Sequence[object] | np.ndarray | None = None,
    resamples: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """Each score's AUC on the same bootstrap samples of the rows (paired: differences
    between scores are computed sample by sample). Rows are the evaluated units."""
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // max(len(labels), 1))  # resamples per pass: bounded memory
    parts: dict[str, list[np.ndarray]] = {name: [] for name in scores}
    for start in range(0, resamples, chunk):
        weights = bootstrap_weights(len(labels), min(chunk, resamples - start), rng)
        for name, s in scores.items():
            parts[name].append(weighted_auc(s, labels, weights, groups))
    return {name: np.concatenate(p) if p else np.zeros(0) for name, p in parts.items()}


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central `level` percentile interval of bootstrap values (NaNs left out)."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return math.nan, math.nan
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def standard_error(values: np.ndarray) -> float:
    """The bootstrap standard error: the spread of the resampled values."""
    finite = values[np.isfinite(values)]
    return float(np.std(finite, ddof=1)) if len(finite) > 1 else math.nan
