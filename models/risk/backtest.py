"""The point-in-time backtest: train before a cut-off, score as of it, judge on what came next.

What belongs here: `run_backtest` — the candidates trained only on labels that ended by the
cut-off and the model chosen among them (`model.train_models`), the evaluation set (each
entity's first inspection within the horizon after the cut-off, features as of the cut-off;
or with `unit="inspection"` every inspection of the window, features as of the day before
it) — scored by the two scores (firm risk, outcome forecast), every candidate and the
baselines (random, last score, tier only, inspector only; "not available" with the reason
when the inputs cannot give one), and judged overall and within inspector: AUC, bootstrap
intervals of each model's AUC minus the history-only baseline's, calibration, top-k lift,
failure rate by tier, tier-driven vs uniform draw at the same budget, schedule reordering.
Also `risk_bands` (tiers by predicted risk when no credit tier exists) and the "first month"
of the reordering. What does not: reading inputs, writing JSON/CSV/PNG (warehouse.risk_report).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, cast

import numpy as np
import polars as pl

from models.periods import one_month_after
from models.risk import metrics
from models.risk.config import RiskConfig
from models.risk.features import inspections_in
from models.risk.history import TIERS, History
from models.risk.model import (
    TEAM,
    RiskModel,
    TrainingDataError,
    forecast,
    labelled_features,
    predict,
    strictness_as_of,
    train_models,
    with_features,
)
from models.risk.selection import COMPLEXITY

MODEL_SCORERS = ("firm_risk", "outcome_forecast")
"""The two scores: firm risk (no inspector identity) and the outcome forecast (+ the team)."""
CANDIDATES = tuple(reversed(COMPLEXITY))
"""Every candidate, reported under its own name (the winner is also `firm_risk`)."""
BASELINES = ("random", "inspector_only")
SCORERS = (*MODEL_SCORERS, *CANDIDATES, *BASELINES)
PROBABILITIES = (*MODEL_SCORERS, *CANDIDATES)
COMPARED = ("firm_risk", "outcome_forecast", "gradient_boosting", "logistic")
"""Scorers whose AUC minus the history-only baseline's gets a bootstrap interval."""
REFERENCE = "history_only"

Unit = Literal["firm", "inspection"]
NO_INSPECTORS = "no inspector column in the inputs"
NO_TIER = "no credit tier in the inputs"

METRIC_SCHEMA = pl.Schema(
    {"scorer": pl.Utf8, "scope": pl.Utf8, "metric": pl.Utf8, "value": pl.Float64}
)


@dataclass(frozen=True)
class BacktestReport:
    cutoff: date
    horizon_days: int
    unit: Unit
    tier_source: str  # credit | risk_band
    primary: str  # the chosen model (its predictions are `firm_risk`)
    selection: dict[str, Any]  # why (the manifest's model_selection)
    models: dict[str, RiskModel] = field(repr=False)
    scored: pl.DataFrame  # one row per evaluated unit: ids, label, tier, one column per scorer
    metrics: pl.DataFrame  # METRIC_SCHEMA (long)
    lift: pl.DataFrame  # scorer, share_inspected, share_found, lift
    calibration: pl.DataFrame  # scorer, bin, entities, mean_predicted, observed_rate
    tiers: pl.DataFrame  # tier, entities, problems, failure_rate, ratio, drawn
    draw: pl.DataFrame  # strategy, budget, expected_hits, hit_rate
    inspectors: pl.DataFrame  # strictness as of the cut-off + evaluation figures
    inspector_summary: dict[str, float | None]
    first_period: tuple[date, date, str]  # reordering's "first month": from, to, setting
    unavailable: dict[str, str]  # scorer → why it cannot be computed from these inputs

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
        start, end, setting = self.first_period
        return {
            "cutoff": self.cutoff.isoformat(),
            "horizon_days": self.horizon_days,
            "window": [
                self.cutoff.isoformat(),
                (self.cutoff + timedelta(days=self.horizon_days)).isoformat(),
            ],
            "unit": self.unit,
            "evaluated": self.scored.height,
            "evaluated_entities": self.scored["entity_id"].n_unique(),
            "problems": int(labels.sum()),
            # Series.mean() is typed as any scalar; the mean of the 0/1 labels is a float
            "problem_rate": float(cast(float, labels.mean())) if labels.len() else None,
            "primary": self.primary,
            "selection": self.selection,
            "first_period": {"from": start.isoformat(), "to": end.isoformat(), "setting": setting},
            "tier_source": self.tier_source,
            "inspectors": self.inspector_summary,
            "not_available": self.unavailable,
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


def first_period(cutoff: date, setting: Literal["month"] | int) -> tuple[date, date, str]:
    """The reordering's "first month" after the cut-off: (first day, last day, setting) —
    one calendar month (the same day of the next month, or its last day) or N days."""
    if setting == "month":
        end = one_month_after(cutoff)
        text = "one calendar month after the cut-off"
    else:
        end = cutoff + timedelta(days=setting)
        text = f"{setting} days after the cut-off"
    return cutoff + timedelta(days=1), end, text


def evaluation_set(
    history: History, cutoff: date, horizon_days: int, config: RiskConfig, unit: Unit
) -> pl.DataFrame:
    """The evaluated units with their features and labels. `firm`: each entity's first
    inspection in (cutoff, cutoff + horizon], features as of the cut-off. `inspection`: every
    inspection of that window, features (and strictness) as of the day before it — the
    firm as the inspector found it, knowing every earlier result, the window's included."""
    if unit == "firm":
        return labelled_features(history, cutoff, horizon_days, config)
    rows = inspections_in(history.labels, cutoff, cutoff + timedelta(days=horizon_days))
    frames = []
    for (day,), part in rows.group_by("label_on", maintain_order=True):
        as_of = cast(date, day) - timedelta(days=1)
        strictness = strictness_as_of(history, as_of, config)
        frames.append(with_features(history, as_of, part, strictness, config))
    if not frames:
        return labelled_features(history, cutoff, horizon_days, config).clear()
    return pl.concat(frames, how="vertical").sort("label_on", "entity_id", "label_id")


def run_backtest(
    history: History,
    cutoff: date,
    horizon_days: int,
    config: RiskConfig,
    ratios: Mapping[str, float],
    *,
    unit: Unit = "firm",
) -> BacktestReport:
    """Train on what was known by `cutoff`, evaluate on the inspections of (cutoff, cutoff +
    horizon] (`unit`, see `evaluation_set`). `ratios` are the round's sampling ratios per tier."""
    trained = train_models(history, cutoff, horizon_days, config)
    evaluated = evaluation_set(history, cutoff, horizon_days, config, unit)
    if evaluated.is_empty():
        raise TrainingDataError(f"no inspection in the evaluation window after {cutoff}")
    scored, unavailable = _scores(evaluated, trained.models, trained.winner, history, config)
    has_tier = "tier_only" not in unavailable
    if has_tier:
        scored = scored.with_columns(
            tier=evaluated["tier_rank"].replace_strict(
                {float(i): t for i, t in enumerate(TIERS)}, default=None, return_dtype=pl.Utf8
            ),
        )
    else:
        scored = scored.with_columns(tier=risk_bands(scored["firm_risk"], config.report.risk_bands))
    period = first_period(cutoff, config.report.first_period)
    metric_rows, lifts, calibrations = [], [], []
    for name in SCORERS:
        if name in unavailable:
            continue
        values = scored[name]
        rows = _scorer_metrics(scored, name, period[1], config)
        metric_rows += [(name, scope, metric, value) for scope, metric, value in rows]
        lifts.append(
            metrics.lift_curve(
                values.fill_null(-math.inf).to_numpy(), scored["label"].to_numpy()
            ).with_columns(scorer=pl.lit(name))
        )
        if name in PROBABILITIES:
            calibrations.append(
                metrics.calibration_bins(
                    values.to_numpy(), scored["label"].to_numpy(), config.report.calibration_bins
                ).with_columns(scorer=pl.lit(name))
            )
    metric_rows += _comparisons(scored, unavailable, config)
    tiers = metrics.failure_by_tier(scored, "tier", "label", ratios)
    draw = metrics.draw_comparison(tiers, scored, "firm_risk", "label")
    strictness = strictness_as_of(history, cutoff, config)
    inspectors = _inspector_table(strictness.table, scored, "firm_risk")
    return BacktestReport(
        cutoff=cutoff,
        horizon_days=horizon_days,
        unit=unit,
        tier_source="credit" if has_tier else "risk_band",
        primary=trained.winner,
        selection=trained.selection,
        models=trained.models,
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
        first_period=period,
        unavailable=unavailable,
    )


def _scores(
    evaluated: pl.DataFrame,
    models: Mapping[str, RiskModel],
    winner: str,
    history: History,
    config: RiskConfig,
) -> tuple[pl.DataFrame, dict[str, str]]:
    """One column per scorer (null where not available) and the reasons for those missing."""
    scored = evaluated.select(
        "label_id", "entity_id", "as_of", "label", "label_on", "label_inspector", TEAM
    )
    for name, model in models.items():
        scored = scored.with_columns(predict(model, evaluated)["probability"].alias(name))
    scored = scored.with_columns(firm_risk=pl.col(winner))
    unavailable: dict[str, str] = {}
    teams = history.has_inspectors and bool((evaluated["label_team"].list.len() > 0).any())
    if teams:
        scored = scored.with_columns(
            outcome_forecast=forecast(models[winner], evaluated, evaluated[TEAM]),
            inspector_only=evaluated[TEAM],
        )
    else:
        unavailable |= {"outcome_forecast": NO_INSPECTORS, "inspector_only": NO_INSPECTORS}
        scored = scored.with_columns(
            outcome_forecast=pl.lit(None, dtype=pl.Float64),
            inspector_only=pl.lit(None, dtype=pl.Float64),
        )
    rng = np.random.default_rng(config.training.random_state)
    scored = scored.with_columns(random=pl.Series(rng.random(scored.height)))
    for name in CANDIDATES:
        if name not in models:
            unavailable[name] = NO_TIER if name == "tier_only" else "not trained"
            scored = scored.with_columns(pl.lit(None, dtype=pl.Float64).alias(name))
    return scored, unavailable


def _scorer_metrics(
    scored: pl.DataFrame, name: str, first_until: date, config: RiskConfig
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
    if name in PROBABILITIES:
        rows.append(("overall", "brier", metrics.brier(values, labels)))
        rows.append(("overall", "mean_predicted", float(np.mean(values))))
    order = metrics.reordering(
        scored.with_columns(pl.Series("_s", values)), "_s", "label", "label_on", first_until
    )
    rows += [("overall", key, value) for key, value in order.items()]
    return rows


def _comparisons(
    scored: pl.DataFrame, unavailable: Mapping[str, str], config: RiskConfig
) -> list[tuple[str, str, str, float]]:
    """Each model's AUC minus the history-only baseline's, overall and within inspector,
    with a paired bootstrap interval (the same resampled units for both)."""
    names = [n for n in (*COMPARED, REFERENCE) if n not in unavailable]
    values = {n: scored[n].to_numpy().astype(float) for n in names}
    labels = scored["label"].to_numpy()
    settings = config.report.bootstrap
    seed = config.training.random_state
    scopes: list[tuple[str, list[str | None] | None]] = [("overall", None)]
    if "inspector_only" not in unavailable:
        scopes.append(("within_inspector", scored["label_inspector"].to_list()))
    rows = []
    for scope, groups in scopes:
        boot = metrics.bootstrap_aucs(
            values, labels, groups=groups, resamples=settings.resamples, seed=seed
        )
        ones = np.ones((1, len(labels)))
        point = {
            n: float(metrics.weighted_auc(v, labels, ones, groups)[0]) for n, v in values.items()
        }
        for name in names[:-1]:
            low, high = metrics.interval(boot[name] - boot[REFERENCE], settings.level)
            diff = point[name] - point[REFERENCE]
            rows += [
                (name, scope, "auc_minus_history_only", diff),
                (name, scope, "auc_minus_history_only_ci_low", low),
                (name, scope, "auc_minus_history_only_ci_high", high),
            ]
    return rows


def _inspector_table(strictness: pl.DataFrame, scored: pl.DataFrame, primary: str) -> pl.DataFrame:
    """Strictness as of the cut-off, with each inspector's evaluation units, problems and
    the firm risk's AUC among them (NaN when they saw only one outcome)."""
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
