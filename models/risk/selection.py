"""Choosing the risk model: the candidates' held-out figures and a one-standard-error rule.

What belongs here: the candidates in order of complexity — the one-feature baselines
(`last_score`: the last inspection's score, or its result; `tier_only`: the credit tier),
the history-only logistic, the logistic on every feature and the gradient-boosted model —
their figures on the held-out snapshot of the time-based validation (AUC overall and within
inspector, each with a bootstrap standard error; top-20 % lift), and the rule that picks the
winner: the best held-out figure sets a bar one standard error below it; the history-only
model stays the model if it reaches the bar (nothing beats it by more than noise), else the
simplest candidate that reaches the bar wins. What does not: fitting (`model`), the
evaluation after the cut-off (`backtest`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from models.risk import metrics

COMPLEXITY = ("last_score", "tier_only", "history_only", "logistic", "gradient_boosting")
"""Every candidate, simplest first (each a calibrated model; `tier_only` only with tiers)."""
ANCHOR = "history_only"
"""The model unless a candidate beats it by more than one standard error."""


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
    the simpler) sets the bar one standard error below it. The history-only model wins if it
    reaches the bar (nothing beats it by more than noise, or it has no figure); otherwise the
    simplest candidate that reaches the bar wins."""
    ranked = [n for n in COMPLEXITY if n in figures and math.isfinite(figures[n][0])]
    if ANCHOR not in ranked:
        reason = f"no held-out {metric} for {ANCHOR}: it is the model by default"
        return Choice(ANCHOR, ANCHOR, math.nan, reason)
    best = max(ranked, key=lambda n: (figures[n][0], -COMPLEXITY.index(n)))
    value, se = figures[best]
    bar = value - (se if math.isfinite(se) else 0.0)
    head = f"best held-out {metric}: {best} {value:.3f} (standard error {se:.3f}, bar {bar:.3f})"
    anchor = figures[ANCHOR][0]
    if anchor >= bar:
        if best == ANCHOR:
            return Choice(ANCHOR, best, bar, f"{head}; nothing beats the history-only model")
        reason = (
            f"{head}; history_only ({anchor:.3f}) is within one standard error, so nothing "
            "beats it by more than noise and it stays the model"
        )
        return Choice(ANCHOR, best, bar, reason)
    winner = next(n for n in ranked if figures[n][0] >= bar)
    reason = (
        f"{head}; history_only ({anchor:.3f}) is below the bar; {winner} "
        f"({figures[winner][0]:.3f}) is the simplest candidate at or above it"
    )
    return Choice(winner, best, bar, reason)
