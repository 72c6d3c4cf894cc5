"""Schemas of the risk model's warehouse tables, declared once (docs/risk-model.md).

What belongs here: the polars schemas of `risk_model_versions`, `risk_scores`,
`risk_backtest_metrics`, `risk_lift_curve`, `risk_calibration`, `risk_tier_failure`,
`risk_draw_comparison`, `risk_inspector_effects` and `risk_psi` (`risk_features` is one
column per feature of `FeatureSpec`, so its schema is the spec's). What does not: filling them.
"""

from __future__ import annotations

import polars as pl

from models.risk.stability import PSI_SCHEMA

MODEL_VERSION_SCHEMA = pl.Schema(
    {
        "model_version": pl.Utf8(),
        "role": pl.Utf8(),  # primary (its probabilities are risk_scores) | backtest
        "algorithm": pl.Utf8(),
        "content_sha256": pl.Utf8(),
        "trained_at": pl.Datetime("us"),
        "cutoff": pl.Date(),
        "horizon_days": pl.Int64(),
        "training_from": pl.Date(),
        "training_rows": pl.Int64(),
        "positives": pl.Int64(),
        "features": pl.Utf8(),  # JSON list
        "params": pl.Utf8(),  # JSON
        "library_versions": pl.Utf8(),  # JSON
        "config_version": pl.Utf8(),
        "artefact_file": pl.Utf8(),
    }
)

RISK_SCORE_SCHEMA = pl.Schema(
    {
        "uscc": pl.Utf8,
        "as_of": pl.Date,
        "probability": pl.Float64,
        "risk_percentile": pl.Float64,  # 0–100 within the as-of date, 100 = riskiest
        "risk_band": pl.Utf8,  # A–D by predicted risk (report.risk_bands shares)
        "credit_score": pl.Float64,
        "tier": pl.Utf8,  # the credit tier on that date
        "model_version": pl.Utf8,
    }
)

_BACKTEST_KEYS = {"cutoff": pl.Date, "horizon_days": pl.Int64, "model_version": pl.Utf8}

BACKTEST_METRIC_SCHEMA = pl.Schema(
    {**_BACKTEST_KEYS, "scorer": pl.Utf8, "scope": pl.Utf8, "metric": pl.Utf8, "value": pl.Float64}
)
LIFT_SCHEMA = pl.Schema(
    {
        **_BACKTEST_KEYS,
        "scorer": pl.Utf8,
        "share_inspected": pl.Float64,
        "share_found": pl.Float64,
        "lift": pl.Float64,
    }
)
CALIBRATION_SCHEMA = pl.Schema(
    {
        **_BACKTEST_KEYS,
        "scorer": pl.Utf8,
        "bin": pl.Int64,
        "entities": pl.Int64,
        "mean_predicted": pl.Float64,
        "observed_rate": pl.Float64,
    }
)
TIER_FAILURE_SCHEMA = pl.Schema(
    {
        **_BACKTEST_KEYS,
        "tier_source": pl.Utf8,
        "tier": pl.Utf8,
        "entities": pl.Int64,
        "problems": pl.Int64,
        "failure_rate": pl.Float64,
        "ratio": pl.Float64,
        "drawn": pl.Int64,
    }
)
DRAW_SCHEMA = pl.Schema(
    {
        **_BACKTEST_KEYS,
        "strategy": pl.Utf8,
        "budget": pl.Int64,
        "expected_hits": pl.Float64,
        "hit_rate": pl.Float64,
    }
)
INSPECTOR_EFFECT_SCHEMA = pl.Schema(
    {
        **_BACKTEST_KEYS,
        "inspector_id": pl.Utf8,
        "inspections": pl.Int64,
        "problems": pl.Int64,
        "raw_rate": pl.Float64,
        "pooled_rate": pl.Float64,
        "strictness": pl.Float64,
        "evaluated": pl.Int64,
        "evaluated_problems": pl.Int64,
        "within_auc": pl.Float64,
    }
)
RISK_PSI_SCHEMA = PSI_SCHEMA
