"""The risk model's warehouse and file I/O: history in, artefacts and report tables out.

What belongs here: reading the canonical tables into a `History`, saving and loading model
artefacts (`<warehouse dir>/models/<version>.pkl` + `.json` manifest), and writing a backtest
report into its tables (one transaction). Shared by the assets. What does not: any figure.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from models.risk.backtest import BacktestReport
from models.risk.config import RiskConfig
from models.risk.history import (
    History,
    entities_from_clean,
    outcomes_from_clean,
    records_from_credit,
    scores_from_credit,
)
from models.risk.model import RiskModel
from warehouse.catalogue import schema_of
from warehouse.connection import WarehouseLocation, query
from warehouse.tables import ensure_tables, insert, replace_table


def read_history(con: duckdb.DuckDBPyConnection, config: RiskConfig) -> History:
    return History(
        outcomes=outcomes_from_clean(
            query(con, "SELECT * FROM inspection_outcomes"), config.problem_results
        ),
        entities=entities_from_clean(query(con, "SELECT * FROM firms")),
        # the records of the rule set behind the latest scores (one row per record piece)
        records=records_from_credit(
            query(
                con,
                "SELECT * FROM credit_records WHERE rule_set_version = (SELECT "
                "rule_set_version FROM credit_scores ORDER BY as_of DESC LIMIT 1)",
            )
        ),
        scores=scores_from_credit(query(con, "SELECT * FROM credit_scores")),
    )


def models_dir(warehouse: WarehouseLocation) -> Path:
    return warehouse.file.parent / "models"


def save_model(model: RiskModel, folder: Path) -> Path:
    """Write the artefact and its manifest, atomically (the name is the content hash)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model.version}.pkl"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(model.to_bytes())
    tmp.replace(path)
    path.with_suffix(".json").write_text(
        json.dumps(model.manifest(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return path


def load_model(path: Path) -> RiskModel:
    return RiskModel.from_bytes(path.read_bytes())


def model_version_row(
    model: RiskModel, role: str, path: Path, trained_at: datetime
) -> dict[str, object]:
    m = model.manifest()
    return {
        "model_version": model.version,
        "role": role,
        "algorithm": model.algorithm,
        "content_sha256": model.content_sha256,
        "trained_at": trained_at,
        "cutoff": model.cutoff,
        "horizon_days": model.horizon_days,
        "training_from": min(model.snapshots),
        "training_rows": model.training_rows,
        "positives": model.positives,
        "features": json.dumps(m["features"]),
        "params": json.dumps(m["params"]),
        "library_versions": json.dumps(m["library_versions"]),
        "config_version": model.config_version,
        "artefact_file": str(path),
    }


def record_model(con: duckdb.DuckDBPyConnection, row: dict[str, object]) -> None:
    """Append a model version (a retrain of the same content replaces its own row)."""
    ensure_tables(con, ["risk_model_versions"])
    con.execute(
        "DELETE FROM risk_model_versions WHERE model_version = ? AND role = ?",
        [row["model_version"], row["role"]],
    )
    schema = schema_of("risk_model_versions")
    insert(con, "risk_model_versions", pl.DataFrame([row], schema=schema), schema)


def backtest_frames(report: BacktestReport, model_version: str) -> dict[str, pl.DataFrame]:
    keys = {
        "cutoff": pl.lit(report.cutoff, dtype=pl.Date),
        "horizon_days": pl.lit(report.horizon_days, dtype=pl.Int64),
        "model_version": pl.lit(model_version),
    }
    frames = {
        "risk_backtest_metrics": report.metrics,
        "risk_lift_curve": report.lift,
        "risk_calibration": report.calibration,
        "risk_tier_failure": report.tiers.with_columns(tier_source=pl.lit(report.tier_source)),
        "risk_draw_comparison": report.draw,
        "risk_inspector_effects": report.inspectors,
    }
    return {name: frame.with_columns(**keys) for name, frame in frames.items()}


def store_backtest(con: duckdb.DuckDBPyConnection, frames: dict[str, pl.DataFrame]) -> None:
    for name, frame in frames.items():
        replace_table(con, name, frame, schema_of(name))
