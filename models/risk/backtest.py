"""The point-in-time backtest: train before a cut-off, score as of it, judge on what came next.

What belongs here: `run_backtest` — models trained only on labels that ended by the cut-off,
features as of the cut-off, labels from each entity's first inspection within the horizon
after it — scored by the models and the baselines (random, tier only, history only,
inspector only), and judged overall and within inspector: AUC, calibration, top-k lift,
failure rate by tier, tier-driven vs uniform draw at the same budget, schedule reordering.
Also `risk_bands` (tiers by predicted risk when no credit tier exists). What does not:
reading inputs, writing JSON/PNG (warehouse.risk_report).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

import numpy as np
import polars as pl

from models.risk import metrics
from models.risk.config import RiskConfig
from models.risk.history import TIERS, History
from models.risk.inspectors import lead_strictness
from models.risk.model import (
    RiskModel,
    TrainingDataError,
    labelled_features,
    predict,
    strictness_as_of,
    train_models,
)

MODEL_SCORERS = ("gradient_boosting", "logistic")
BASELINES = ("random", "tier_only", "history_only", "inspector_only")

METRIC_SCHEMA = pl.Schema(
    {"scorer": pl.Utf8, "scope": pl.Utf8, "metric": pl.Utf8, "value": pl.Float64}
)


@dataclass(frozen=True)
class BacktestReport:
    cutoff: date
    horizon_days: int
    tier_source: str  # credit | risk_band
    models: dict[str, RiskModel] = field(repr=False)
    scored: pl.DataFrame  # one row per evaluated entity: label, tier, one column per scorer
    metrics: pl.DataFrame  # METRIC_SCHEMA (long)
    lift: pl.DataFrame  # scorer, share_inspected, share_found, lift
    calibration: pl.DataFrame  # scorer, bin, entities, mean_predicted, observed_rate
    tiers: pl.DataFrame  # tier, entities, problems, failure_rate, ratio, drawn
    draw: pl.DataFrame  # strategy, budget, expected_hits, hit_rate
    inspectors: pl.DataFrame  # strictness as of the cut-off + evaluation figures
    inspector_summary: dict[str, float | None]

    def metric(self, scorer: str, name: str, scope: str = "overall") -> float:
        row = self.metrics.filter(
            (pl.col("scorer") == scorer) & (pl.col("metric") == name) & (pl.col("scope") == scope)
        )
        return float(row["value"][0]) if row.height else math.nan

    def summary(self) -> dict[str, Any]:
        """JSON-ready: every figure of the report, nested by scorer."""
        by_scorer: dict[str, dict[str, float | None]] = {}
        for row in self.metrics.iter_rows(named=True):
            key = row["metric"] if row["scope"] == "overall" else f"{row['metric']}_{row['scope']}"
            value = row["value"]
            by_scorer.setdefault(row["scorer"], {})[key] = (
                None if value is None or math.isnan(value) else value
            )
        labels = self.scored["label"]
        return {
            "cutoff": self.cutoff.isoformat(),
            "horizon_days": self.horizon_days,
            "window": [
                self.cutoff.isoformat(),
                (self.cutoff + timedelta(days=self.horizon_days)).isoformat(),
            ],
            "evaluated_entities": self.scored.height,
            "problems": int(labels.sum()),
            # Series.mean() is typed as any scalar; the mean of the 0/1 labels is a float
            "problem_rate": float(cast(float, labels.mean())) if labels.len() else None,
            "tier_source": self.tier_source,
            "inspectors": self.inspector_summary,
            "models": {name: m.manifest() for name, m in self.models.items()},
            "metrics": by_scorer,
            "tiers": self.tiers.to_dicts(),
            "draw": self.draw.to_dicts(),
        }


def risk_bands(probability: pl.Series, shares: Mapping[str, float]) -> pl.Series:
    """Tier letters by predicted risk: the lowest `shares['A']` of the population is A, …,
    the highest `shares['D']` is D (ties broken by position, so the shares are exact)."""
    n = probability.len()
    ranks = probability.rank("ordinal").to_numpy() - 1  # 0 = lowest risk
    bounds = np.cumsum([shares[t] for t in TIERS]) * n
    letters = np.array(TIERS)[np.searchsorted(bounds, ranks, side="right").clip(0, len(TIERS) - 1)]
    return pl.Series(probability.name, letters, dtype=pl.Utf8)


def run_backtest(
    history: History,
    cutoff: date,
    horizon_days: int,
    config: RiskConfig,
    ratios: Mapping[str, float],
) -> BacktestReport:
    """Train on what was known by `cutoff`, evaluate on the first inspection of each entity in
    (cutoff, cutoff + horizon]. `ratios` are the round's sampling ratios per tier."""
    models = train_models(history, cutoff, horizon_days, config)
    evaluated = labelled_features(history, cutoff, horizon_days, config)
    if evaluated.is_empty():
        raise TrainingDataError(f"no inspection in the evaluation window after {cutoff}")
    strictness = strictness_as_of(history, cutoff, config)
    scored = evaluated.select("entity_id", "label", "label_on", "label_inspector")
    for name, model in models.items():
        scored = scored.with_columns(predict(model, evaluated)["probability"].alias(name))
    rng = np.random.default_rng(config.training.random_state)
    scored = scored.with_columns(
        random=pl.Series(rng.random(scored.height)),
        inspector_only=lead_strictness(pl.col("label_inspector"), strictness),
    )
    has_tier = "tier_rank" in evaluated.columns and evaluated["tier_rank"].is_not_null().any()
    if has_tier:
        scored = scored.with_columns(
            tier_only=evaluated["tier_rank"],
            tier=evaluated["tier_rank"].replace_strict(
                {float(i): t for i, t in enumerate(TIERS)}, default=None, return_dtype=pl.Utf8
            ),
        )
    else:
        primary = config.training.primary
        scored = scored.with_columns(
            tier_only=pl.lit(None, dtype=pl.Float64),
            tier=risk_bands(scored[primary], config.report.risk_bands),
        )
    scorers = [*MODEL_SCORERS, *BASELINES]
    metric_rows, lifts, calibrations = [], [], []
    for name in scorers:
        values = scored[name]
        if values.is_null().all():
            continue
        rows = _scorer_metrics(scored, name, cutoff, config)
        metric_rows += [(name, scope, metric, value) for scope, metric, value in rows]
        lifts.append(
            metrics.lift_curve(
                values.fill_null(-math.inf).to_numpy(), scored["label"].to_numpy()
            ).with_columns(scorer=pl.lit(name))
        )
        if name in models:
            calibrations.append(
                metrics.calibration_bins(
                    values.to_numpy(), scored["label"].to_numpy(), config.report.calibration_bins
                ).with_columns(scorer=pl.lit(name))
            )
    tiers = metrics.failure_by_tier(scored, "tier", "label", ratios)
    draw = metrics.draw_comparison(tiers, scored, config.training.primary, "label")
    inspectors = _inspector_table(strictness.table, scored, config.training.primary)
    return BacktestReport(
        cutoff=cutoff,
        horizon_days=horizon_days,
        tier_source="credit" if has_tier else "risk_band",
        models=models,
        scored=scored,
        metrics=pl.DataFrame(metric_rows, schema=METRIC_SCHEMA, orient="row"),
        lift=pl.concat(lifts).select("scorer", pl.all().exclude("scorer")),
        calibration=pl.concat(calibrations).select("scorer", pl.all().exclude("scorer")),
        tiers=tiers,
        draw=draw,
        inspectors=inspectors,
        inspector_summary={
            "inspectors": strictness.table.height,
            "population_rate": strictness.population_rate,
            "prior_strength": strictness.prior_strength
            if math.isfinite(strictness.prior_strength)
            else None,
            "between_variance": strictness.between_variance,
            "variance_explained": strictness.variance_explained,
        },
    )


def _scorer_metrics(
    scored: pl.DataFrame, name: str, cutoff: date, config: RiskConfig
) -> list[tuple[str, str, float]]:
    values = scored[name].fill_null(-math.inf).to_numpy()
    labels = scored["label"].to_numpy()
    rows = [
        ("overall", "auc", metrics.auc(values, labels)),
        (
            "within_inspector",
            "auc",
            metrics.within_group_auc(
                scored.with_columns(pl.Series("_s", values)), "_s", "label", "label_inspector"
            ),
        ),
    ]
    rows += [
        (
            "overall",
            f"lift_top_{round(share * 100)}pct",
            metrics.top_share_lift(values, labels, share),
        )
        for share in config.report.top_shares
    ]
    if name in MODEL_SCORERS or name == "history_only":
        rows.append(("overall", "brier", metrics.brier(values, labels)))
        rows.append(("overall", "mean_predicted", float(np.mean(values))))
    order = metrics.reordering(
        scored.with_columns(pl.Series("_s", values)),
        "_s",
        "label",
        "label_on",
        cutoff,
        config.report.first_days,
    )
    rows += [("overall", key, value) for key, value in order.items()]
    return rows


def _inspector_table(strictness: pl.DataFrame, scored: pl.DataFrame, primary: str) -> pl.DataFrame:
    """Strictness as of the cut-off, with each inspector's evaluation entities, problems and
    the primary model's AUC among them (NaN when they saw only one outcome)."""
    per = (
        scored.drop_nulls("label_inspector")
        .group_by(inspector_id="label_inspector")
        .agg(
            evaluated=pl.len().cast(pl.Int64),
            evaluated_problems=pl.col("label").sum().cast(pl.Int64),
            within_auc=pl.struct(primary, "label").map_batches(
                lambda s: pl.Series(
                    [
                        metrics.auc(
                            s.struct.field(primary).to_numpy(), s.struct.field("label").to_numpy()
                        )
                    ]
                ),
                return_dtype=pl.Float64,
                returns_scalar=True,
            ),
        )
    )
    return strictness.join(per, on="inspector_id", how="full", coalesce=True).sort("inspector_id")
