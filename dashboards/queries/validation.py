"""Validation (模型验证): does the tier (and the risk model) predict the next finding?

Reads the risk model's tables (docs/risk-model.md, "What the 模型验证 page needs"): the
primary model version, the backtest's headline metrics, lift curve, calibration, failure
rate by tier and the equal-budget draw comparison. Before a model has been trained the
tables are absent or empty, and `model_version` returns no row: the page then says plainly
that no model exists.
"""

from __future__ import annotations

import duckdb
import polars as pl

from warehouse.connection import query, table_exists


def _read(con: duckdb.DuckDBPyConnection, table: str, sql: str) -> pl.DataFrame:
    return query(con, sql) if table_exists(con, table) else pl.DataFrame()


def model_version(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """The latest primary model (one row), or nothing when no model has been trained."""
    return _read(
        con,
        "risk_model_versions",
        """SELECT model_version, algorithm, trained_at, cutoff, horizon_days, training_from,
               training_rows, positives, content_sha256
        FROM risk_model_versions WHERE role = 'primary' ORDER BY trained_at DESC LIMIT 1""",
    )


def headline(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """Overall backtest metrics per scorer (model, credit score, baselines)."""
    return _read(
        con,
        "risk_backtest_metrics",
        """SELECT scorer, metric, value, cutoff, horizon_days FROM risk_backtest_metrics
        WHERE scope = 'overall' ORDER BY scorer, metric""",
    )


def lift_curve(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    return _read(
        con,
        "risk_lift_curve",
        "SELECT scorer, share_inspected, share_found, lift FROM risk_lift_curve ORDER BY ALL",
    )


def calibration(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    return _read(
        con,
        "risk_calibration",
        """SELECT scorer, bin, entities, mean_predicted, observed_rate FROM risk_calibration
        ORDER BY scorer, bin""",
    )


def tier_failure(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """Failure rate of the next inspection by credit tier (and by the model's risk band)."""
    return _read(
        con,
        "risk_tier_failure",
        """SELECT tier_source, tier, entities, problems, failure_rate, ratio, drawn
        FROM risk_tier_failure ORDER BY tier_source, tier""",
    )


def draw_comparison(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """Hits expected at the same inspection budget: uniform, tier-driven, model-driven."""
    return _read(
        con,
        "risk_draw_comparison",
        "SELECT strategy, budget, expected_hits, hit_rate FROM risk_draw_comparison",
    )


def within_inspector(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """AUC and lift per scorer, overall and within inspector (the inspector's effect removed)."""
    return _read(
        con,
        "risk_backtest_metrics",
        """SELECT scorer, scope, metric, value FROM risk_backtest_metrics
        WHERE metric IN ('auc', 'lift_top_20pct') ORDER BY scorer, metric, scope""",
    )


def inspector_effects(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """Each inspector's partially pooled finding rate and strictness, strictest first."""
    return _read(
        con,
        "risk_inspector_effects",
        """SELECT inspector_id, inspections, problems, pooled_rate, strictness, within_auc
        FROM risk_inspector_effects ORDER BY strictness DESC, inspector_id""",
    )


def psi_latest(con: duckdb.DuckDBPyConnection, _: None = None) -> pl.DataFrame:
    """PSI of every monitored subject for the latest month, largest first."""
    return _read(
        con,
        "risk_psi",
        """SELECT subject, kind, as_of, previous_as_of, psi, entities, flagged FROM risk_psi
        WHERE as_of = (SELECT max(as_of) FROM risk_psi) ORDER BY psi DESC NULLS LAST, subject""",
    )
