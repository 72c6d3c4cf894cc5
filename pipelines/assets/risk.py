"""Model layer: risk features, the backtest, the trained model, risk scores and stability.

What belongs here: wiring `models.risk` into assets that read the canonical tables and write
the warehouse (one transaction per asset) and the model artefacts, plus the `risk` job and
its monthly retraining schedule. Tables and their columns: docs/risk-model.md. What does
not: any feature, model or metric (models.risk).

Order: risk_features → risk_backtest (train before data end − horizon, judge the horizon) →
risk_model (train up to the data end; the backtest's figures are its metadata) →
risk_scores (the model's one scoring path, every monitored date) → risk_psi.
"""

from pathlib import Path

import dagster as dg
import polars as pl

from models.periods import monitored_dates
from models.risk.backtest import run_backtest
from models.risk.config import RiskConfig, default_risk_config
from models.risk.features import feature_spec
from models.risk.history import History
from models.risk.model import TrainingDataError, train_models
from models.risk.monitoring import monitored_features, monitored_scores
from models.risk.stability import psi_month_over_month
from models.sampling.params import default_round_params
from pipelines.assets.ingestion import WRITER_POOL
from pipelines.memory import MEMORY_HOOKS
from pipelines.resources import Landing, Warehouse
from warehouse.catalogue import BACKTEST_TABLES, schema_of
from warehouse.connection import query, utc_now
from warehouse.risk import (
    backtest_frames,
    load_model,
    model_version_row,
    models_dir,
    read_history,
    record_model,
    save_model,
    store_backtest,
)
from warehouse.risk_report import write_report
from warehouse.tables import ensure_tables, replace_table

RISK_VERSION = "risk-model-2"
"""Bumped when the model code changes what it computes (Dagster marks the assets stale)."""
RISK_JOB = "risk"
RETRAIN_SCHEDULE = "risk_retrain"
SOURCES = ["inspection_outcomes", "firms", "credit_records", "credit_scores"]


def _load(warehouse: Warehouse) -> tuple[RiskConfig, History]:
    config = default_risk_config()
    with warehouse.connect() as con:
        return config, read_history(con, config)


@dg.asset(
    group_name="model",
    kinds={"duckdb", "polars"},
    pool=WRITER_POOL,
    code_version=RISK_VERSION,
    deps=SOURCES,
)
def risk_features(warehouse: Warehouse, landing: Landing) -> dg.MaterializeResult:
    """Point-in-time features of every firm of the directory at each monitored date (the last
    12 month ends and the processing date): inspection history with decay and
    strictness-adjusted excess findings, bad-record points and counts by window, correction
    timeliness, credit score and tier, firm age, type, district, qualification."""
    config, history = _load(warehouse)
    dates = monitored_dates(landing.processing_date, config.stability.months)
    features = monitored_features(history, dates, config)
    with warehouse.transaction() as con:
        replace_table(con, "risk_features", features, features.schema)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": features.height,
            "as_of_dates": len(dates),
            "features": list(feature_spec(history, config.features).all),
        }
    )


@dg.asset(
    group_name="model",
    kinds={"duckdb", "sklearn", "matplotlib"},
    pool=WRITER_POOL,
    code_version=RISK_VERSION,
    deps=["risk_features", *SOURCES],
)
def risk_backtest(
    context: dg.AssetExecutionContext, warehouse: Warehouse, landing: Landing
) -> dg.MaterializeResult:
    """The point-in-time backtest: models trained on what was known by (data end − horizon),
    judged on each firm's first inspection in the following horizon — AUC overall and within
    inspector, calibration, top-k lift, failure rate by tier, tier-driven vs uniform draw,
    schedule reordering, baselines — in the `risk_backtest_*`, `risk_lift_curve`,
    `risk_calibration`, `risk_tier_failure`, `risk_draw_comparison` and
    `risk_inspector_effects` tables, and as JSON + summary + PNG under
    `<reports>/risk_backtest/`."""
    config, history = _load(warehouse)
    horizon = config.horizon_days
    cutoff = history.backtest_cutoff(landing.processing_date, horizon)
    try:
        report = run_backtest(history, cutoff, horizon, config, default_round_params().ratios)
    except TrainingDataError as exc:
        # a young deployment: too little history is a state to report, not a failed run
        context.log.warning(f"risk backtest skipped: {exc}")
        with warehouse.transaction() as con:
            for name in BACKTEST_TABLES:
                replace_table(con, name, pl.DataFrame(), schema_of(name))
        return dg.MaterializeResult(metadata={"dagster/row_count": 0, "skipped": str(exc)})
    primary = report.models[report.primary]
    frames = backtest_frames(report, primary.version)
    with warehouse.transaction() as con:
        store_backtest(con, frames)
    folder = warehouse.reports / "risk_backtest"
    write_report(report, folder)
    context.log.info(f"backtest report written to {folder}")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": frames["risk_backtest_metrics"].height,
            "cutoff": str(cutoff),
            "evaluated_entities": report.scored.height,
            "model": report.primary,
            "model_selection": report.selection.get("reason", ""),
            "auc": report.metric("firm_risk", "auc"),
            "auc_within_inspector": report.metric("firm_risk", "auc", "within_inspector"),
            "lift_top_20pct": report.metric("firm_risk", "lift_top_20pct"),
            "auc_outcome_forecast": report.metric("outcome_forecast", "auc"),
            "auc_minus_history_only": report.metric("firm_risk", "auc_minus_history_only"),
            "auc_tier_only": report.metric("tier_only", "auc"),
            "auc_history_only": report.metric("history_only", "auc"),
            "auc_inspector_only": report.metric("inspector_only", "auc"),
            "inspector_variance_explained": report.inspector_summary["variance_explained"],
            "report": dg.MetadataValue.path(str(folder / "summary.txt")),
        }
    )


@dg.asset(
    group_name="model",
    kinds={"duckdb", "sklearn"},
    pool=WRITER_POOL,
    code_version=RISK_VERSION,
    deps=["risk_backtest", *SOURCES],
)
def risk_model(
    context: dg.AssetExecutionContext, warehouse: Warehouse, landing: Landing
) -> dg.MaterializeResult:
    """The risk model in use: the candidate chosen by the time-based validation (one-standard-
    error rule; the history-only logistic unless a more complex model beats it by more than
    noise), trained on every label known by the data end, saved as a versioned artefact
    (`<warehouse dir>/models/<version>.pkl` + manifest with every candidate's held-out
    figures, named by its content hash) and recorded in `risk_model_versions`. Its metadata
    carries the backtest's figures, the honest estimate of how well this training procedure
    predicts."""
    config, history = _load(warehouse)
    end = history.data_end(landing.processing_date)
    try:
        trained = train_models(history, end, config.horizon_days, config, only_winner=True)
        model = trained.primary
    except TrainingDataError as exc:
        context.log.warning(f"risk model not trained: {exc}")
        with warehouse.transaction() as con:
            ensure_tables(con, ["risk_model_versions"])
        return dg.MaterializeResult(metadata={"dagster/row_count": 0, "skipped": str(exc)})
    path = save_model(model, models_dir(warehouse))
    row = model_version_row(model, "primary", path, utc_now())
    with warehouse.transaction() as con:
        record_model(con, row)
        backtest = query(
            con,
            "SELECT scorer, scope, metric, value FROM risk_backtest_metrics "
            "WHERE scorer IN ('firm_risk', 'outcome_forecast') "
            "AND metric IN ('auc', 'lift_top_20pct', 'brier')",
        )
    figures = {
        f"backtest_{r['scorer']}_{r['metric']}_{r['scope']}": r["value"]
        for r in backtest.iter_rows(named=True)
    }
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": 1,
            "model_version": model.version,
            "model_selection": trained.selection.get("reason", ""),
            "content_sha256": model.content_sha256,
            "training_rows": model.training_rows,
            "positives": model.positives,
            "training_from": str(min(model.snapshots)),
            "training_until": str(end),
            "artefact": dg.MetadataValue.path(str(path)),
            **figures,
        }
    )


@dg.asset(
    group_name="model",
    kinds={"duckdb", "sklearn"},
    pool=WRITER_POOL,
    code_version=RISK_VERSION,
    deps=["risk_model", "risk_features", *SOURCES],
)
def risk_scores(warehouse: Warehouse, landing: Landing) -> dg.MaterializeResult:
    """Each firm's predicted probability that its next inspection finds a problem, at every
    monitored date, from the current model artefact (loaded and hash-checked) through the
    one scoring path; with its percentile, risk band (A–D by predicted risk) and the
    credit score and tier of that date. The model orders; it never replaces the draw."""
    config, history = _load(warehouse)
    with warehouse.connect() as con:
        current = query(
            con,
            "SELECT artefact_file FROM risk_model_versions WHERE role = 'primary' "
            "ORDER BY trained_at DESC LIMIT 1",
        )
    if current.is_empty():
        with warehouse.transaction() as con:
            replace_table(con, "risk_scores", pl.DataFrame(), schema_of("risk_scores"))
        return dg.MaterializeResult(metadata={"dagster/row_count": 0, "skipped": "no model"})
    model = load_model(Path(current["artefact_file"][0]))
    dates = monitored_dates(landing.processing_date, config.stability.months)
    scores = monitored_scores(model, history, dates, config)
    with warehouse.transaction() as con:
        replace_table(con, "risk_scores", scores, schema_of("risk_scores"))
    latest = scores.filter(pl.col("as_of") == scores["as_of"].max())
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": scores.height,
            "model_version": model.version,
            "latest_as_of": str(latest["as_of"].max()),
            "latest_mean_probability": float(latest["probability"].cast(pl.Float64).mean() or 0),  # type: ignore[arg-type]  # a Float64 column's mean is a float or None
        }
    )


@dg.asset(
    group_name="model",
    kinds={"duckdb", "polars"},
    pool=WRITER_POOL,
    code_version=RISK_VERSION,
    deps=["risk_scores", "risk_features"],
    check_specs=[
        dg.AssetCheckSpec(
            "population_stable",
            asset="risk_psi",
            description="Advisory: no score, tier or feature shifted by PSI above the "
            "threshold between the last two monitored dates.",
        )
    ],
)
def risk_psi(warehouse: Warehouse):
    """Population stability index month over month of the risk probability, risk band,
    credit score and tier (from `risk_scores`) and of every feature (from `risk_features`);
    `flagged` when PSI > 0.25."""
    config = default_risk_config()
    with warehouse.connect() as con:
        scores = query(con, "SELECT * FROM risk_scores")
        features = query(con, "SELECT * FROM risk_features")
    settings = config.stability
    numeric = [c for c, t in features.schema.items() if t.is_numeric()]
    categorical = [c for c, t in features.schema.items() if t == pl.Utf8 and c != "uscc"]
    psi = pl.concat(
        [
            psi_month_over_month(
                scores,
                ["probability", "credit_score"],
                ["risk_band", "tier"],
                bins=settings.bins,
                flag_above=settings.flag_above,
                min_population=settings.min_population,
            ),
            psi_month_over_month(
                features,
                numeric,
                categorical,
                bins=settings.bins,
                flag_above=settings.flag_above,
                min_population=settings.min_population,
            ),
        ]
    )
    with warehouse.transaction() as con:
        replace_table(con, "risk_psi", psi, schema_of("risk_psi"))
    last = psi.filter(pl.col("as_of") == psi["as_of"].max()) if psi.height else psi
    flagged = last.filter("flagged")
    yield dg.MaterializeResult(
        metadata={"dagster/row_count": psi.height, "flagged_latest": flagged.height}
    )
    yield dg.AssetCheckResult(
        check_name="population_stable",
        passed=flagged.is_empty(),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "flagged": flagged.height,
            "examples": flagged.head(5)["subject"].to_list(),
        },
    )


def risk_assets() -> list[dg.AssetsDefinition]:
    return [risk_features, risk_backtest, risk_model, risk_scores, risk_psi]


def risk_job(published: dg.AssetsDefinition):
    return dg.define_asset_job(
        RISK_JOB,
        selection=dg.AssetSelection.groups("model") | dg.AssetSelection.assets(published),
        description="Recompute risk features, backtest, retrain the model, rescore, PSI.",
        hooks=MEMORY_HOOKS,
    )


def retrain_schedule(job) -> dg.ScheduleDefinition:
    """Monthly retraining at 04:00 on the 1st (Asia/Shanghai), after the month-end scores."""
    return dg.ScheduleDefinition(
        name=RETRAIN_SCHEDULE,
        job=job,
        cron_schedule="0 4 1 * *",
        execution_timezone="Asia/Shanghai",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
