"""Choosing the risk model: the candidates' held-out figures and a one-standard-error rule.

What belongs here: the candidates in order of complexity — the one-feature baselines
(`last_score`, `tier_only`), the history-only logistic, the logistic and the gradient-boosted
model — their figures on the held-out snapshot of the time-based validation (AUC overall and
within inspector, each with a bootstrap standard error; top-20 % lift), and the rule that
picks the winner: the best held-out figure sets a bar one standard error below it, and the
simplest fitted model that reaches the bar wins; if no fitted model does, the history-only
model is the model (a complex model must beat history by more than noise to be used).
What does not: fitting (`model`), the evaluation after the cut-off (`backtest`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from models.risk import metrics

COMPLEXITY = ("last_score", "tier_only", "history_only", "logistic", "gradient_boosting")
"""Every candidate, simplest first."""
FITTED = ("history_only", "logistic", "gradient_boosting")
"""The candidates that can be the model (a calibrated probability), simplest first."""
FLOOR = "history_only"
"""The model when nothing fitted beats it."""
METRICS = ("auc", "auc_within_inspector")


def baseline_scores(frame: pl.DataFrame) -> dict[str, pl.Series]:
    """The one-feature scorers a feature frame allows (higher = riskier): `last_score` — the
    last inspection's score, lower being riskier, or without scores whether the last
    inspection found a problem; `tier_only` — the credit tier (A 0 … D 3). A missing value
    (no inspection yet, no tier) takes the median: neither risky nor safe."""
    out: dict[str, pl.Series] = {}
    if "last_score" in frame.columns and frame["last_score"].is_not_null().any():
        out["last_score"] = _neutral(-frame["last_score"])
    elif "last_problem" in frame.columns:
        out["last_score"] = _neutral(frame["last_problem"])
    if "tier_rank" in frame.columns and frame["tier_rank"].is_not_null().any():
        out["tier_only"] = _neutral(frame["tier_rank"])
    return out


def _neutral(values: pl.Series) -> pl.Series:
    values = values.cast(pl.Float64)
    return values.fill_null(values.median() if values.is_not_null().any() else 0.0)


def has_within_pairs(labels: np.ndarray, groups: Sequence[object | None]) -> bool:
    """Whether some group holds both outcomes (a within-inspector AUC exists)."""
    frame = pl.DataFrame({"y": labels.astype(bool), "g": pl.Series(list(groups), dtype=pl.Utf8)})
    both = frame.drop_nulls("g").group_by("g").agg(pl.col("y").n_unique() == 2)
    return bool(both["y"].any()) if both.height else False


def choose_metric(setting: str, labels: np.ndarray, groups: Sequence[object | None]) -> str:
    """`auto`: the AUC within inspector when the held-out snapshot has inspectors (a firm-risk
    model is judged without the inspector's share of the outcome), else the overall AUC."""
    if setting != "auto":
        return setting
    known = sum(g is not None for g in groups)
    if known >= len(groups) / 2 and has_within_pairs(labels, groups):
        return "auc_within_inspector"
    return "auc"


def held_out_figures(
    scores: Mapping[str, np.ndarray],
    labels: np.ndarray,
    groups: Sequence[object | None],
    *,
    resamples: int,
    seed: int,
) -> dict[str, dict[str, float]]:
    """Each scorer's AUC overall and within inspector with bootstrap standard errors (the
    same resampled rows for every scorer) and its top-20 % lift."""
    within = has_within_pairs(labels, groups)
    overall = metrics.bootstrap_aucs(scores, labels, resamples=resamples, seed=seed)
    inside = (
        metrics.bootstrap_aucs(scores, labels, groups=groups, resamples=resamples, seed=seed)
        if within
        else {}
    )
    frame = pl.DataFrame({"y": labels.astype(bool), "g": pl.Series(list(groups), dtype=pl.Utf8)})
    out = {}
    for name, values in scores.items():
        within_auc = (
            metrics.within_group_auc(frame.with_columns(s=pl.Series(values)), "s", "y", "g")
            if within
            else math.nan
        )
        out[name] = {
            "auc": metrics.auc(values, labels),
            "auc_se": metrics.standard_error(overall[name]),
            "auc_within_inspector": within_auc,
            "auc_within_inspector_se": (
                metrics.standard_error(inside[name]) if within else math.nan
            ),
            "lift_top_20pct": metrics.top_share_lift(values, labels, 0.2),
        }
    return out


@dataclass(frozen=True)
class Choice:
    winner: str
    best: str
    bar: float
    reason: str


def one_standard_error(figures: Mapping[str, tuple[float, float]], metric: str) -> Choice:
    """`figures`: candidate → (held-out figure, its standard error). The best figure (ties:
    the simpler) sets the bar one standard error below it; the simplest fitted candidate at
    or above the bar wins; if none is, the history-only model."""
    ranked = [n for n in COMPLEXITY if n in figures and math.isfinite(figures[n][0])]
    if not ranked:
        return Choice(FLOOR, FLOOR, math.nan, f"no held-out {metric}: the simplest model, {FLOOR}")
    best = max(ranked, key=lambda n: (figures[n][0], -COMPLEXITY.index(n)))
    value, se = figures[best]
    bar = value - (se if math.isfinite(se) else 0.0)
    reached = [n for n in FITTED if n in ranked and figures[n][0] >= bar]
    head = f"best held-out {metric}: {best} {value:.3f} (standard error {se:.3f}, bar {bar:.3f})"
    if not reached:
        reason = f"{head}; no fitted model reaches the bar, so the history-only model is the model"
        return Choice(FLOOR, best, bar, reason)
    winner = reached[0]
    if winner == best:
        simpler = [n for n in FITTED[: FITTED.index(winner)] if n in ranked]
        why = (
            f"every simpler model is below the bar ({', '.join(simpler)})"
            if simpler
            else "it is the simplest model"
        )
        return Choice(winner, best, bar, f"{head}; {winner} wins: {why}")
    reason = (
        f"{head}; {winner} ({figures[winner][0]:.3f}) is within one standard error and simpler, "
        f"so it wins"
    )
    return Choice(winner, best, bar, reason)
