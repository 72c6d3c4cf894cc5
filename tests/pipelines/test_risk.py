"""The model layer through Dagster on a synthetic warehouse, and `renfang backtest` on a CSV."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from fixtures.risk_history import synthetic_history, synthetic_outcomes
from typer.testing import CliRunner

from models.contracts import default_contracts
from models.credit_schema import CREDIT_RECORD_SCHEMA, CREDIT_SCORE_SCHEMA
from models.risk.model import RiskModel
from models.row_checks import clean_schema
from pipelines.assets.risk import RETRAIN_SCHEDULE, RISK_JOB, risk_assets
from pipelines.cli import app
from pipelines.definitions import build_defs
from pipelines.resources import Landing, Warehouse
from warehouse.connection import query
from warehouse.tables import replace_table

TODAY = "2024-06-30"


def write_synthetic_warehouse(path: Path) -> None:
    """The canonical tables the model reads, filled from the synthetic history."""
    history = synthetic_history()
    contracts = default_contracts()
    o = history.outcomes
    inspections = o.select(
        inspection_id=pl.format("JC-{}", pl.int_range(pl.len())),
        uscc="entity_id",
        inspected_on="inspected_on",
        collected_on="known_on",
        result=pl.when("problem").then(pl.lit("发现问题")).otherwise(pl.lit("未发现问题")),
        inspector_ids="inspectors",
    )
    firms = history.entities.select(
        uscc="entity_id",
        name="entity_id",
        firm_type=pl.lit("design"),
        district="district",
        established_on="opened_on",
        status=pl.lit("正常"),
    )
    month_ends = pl.date_range(date(2020, 1, 31), date(2024, 6, 30), "1mo", eager=True)
    month_ends = month_ends.dt.month_end()
    scores = firms.select("uscc").join(month_ends.to_frame("as_of"), how="cross")
    scores = scores.with_columns(
        score=pl.lit(70.0), tier=pl.lit("B"), veto=pl.lit(False), rule_set_version=pl.lit("t")
    )
    con = duckdb.connect(str(path))
    for name, frame, schema in (
        ("inspection_outcomes", inspections, clean_schema(contracts.source("inspection_outcomes"))),
        ("firms", firms, clean_schema(contracts.source("firms"))),
        ("credit_records", pl.DataFrame(schema=CREDIT_RECORD_SCHEMA), CREDIT_RECORD_SCHEMA),
        ("credit_scores", scores, CREDIT_SCORE_SCHEMA),
    ):
        full = frame.with_columns(
            pl.lit(None, dtype=t).alias(c) for c, t in schema.items() if c not in frame.columns
        )
        replace_table(con, name, full, schema)
    con.close()


@pytest.fixture(scope="module")
def materialized(tmp_path_factory):
    root = tmp_path_factory.mktemp("risk")
    path = root / "warehouse.duckdb"
    write_synthetic_warehouse(path)
    warehouse = Warehouse(path=str(path), reports_dir=str(root / "reports"))
    result = dg.materialize(
        risk_assets(), resources={"warehouse": warehouse, "landing": Landing(today=TODAY)}
    )
    return result, warehouse


def read(warehouse: Warehouse, sql: str) -> pl.DataFrame:
    with warehouse.connect(read_only=True) as con:
        return query(con, sql)


def test_every_model_asset_materializes_with_metrics(materialized):
    result, _ = materialized
    assert result.success
    meta = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert set(meta) == {"risk_features", "risk_backtest", "risk_model", "risk_scores", "risk_psi"}
    model = meta["risk_model"]
    assert model["backtest_auc_overall"].value > 0.55
    assert "backtest_auc_within_inspector" in model
    assert model["model_version"].value.startswith("gradient_boosting-")


def test_the_tables_hold_what_the_validation_page_needs(materialized):
    _, warehouse = materialized
    firms = read(warehouse, "SELECT count(*) AS n FROM firms")["n"][0]
    scores = read(warehouse, "SELECT * FROM risk_scores")
    latest = scores.filter(pl.col("as_of") == date.fromisoformat(TODAY))
    assert latest.height == firms and latest["probability"].is_between(0, 1).all()
    assert set(latest["risk_band"]) == {"A", "B", "C", "D"}
    scorers = set(read(warehouse, "SELECT DISTINCT scorer FROM risk_lift_curve")["scorer"])
    assert {"gradient_boosting", "logistic", "random", "history_only", "tier_only"} <= scorers
    assert read(warehouse, "SELECT count(*) AS n FROM risk_calibration")["n"][0] > 0
    scopes = read(warehouse, "SELECT DISTINCT scope FROM risk_backtest_metrics")["scope"]
    assert set(scopes) == {"overall", "within_inspector"}
    assert read(warehouse, "SELECT count(*) AS n FROM risk_tier_failure")["n"][0] >= 1
    effects = read(warehouse, "SELECT * FROM risk_inspector_effects")
    assert effects.height == 12 and effects["strictness"].is_not_null().all()
    psi = read(warehouse, "SELECT * FROM risk_psi")
    assert {"probability", "tier", "risk_band", "inspections_total"} <= set(psi["subject"])


def test_the_artefact_on_disk_is_the_recorded_version(materialized):
    _, warehouse = materialized
    row = read(warehouse, "SELECT * FROM risk_model_versions").row(0, named=True)
    model = RiskModel.from_bytes(Path(row["artefact_file"]).read_bytes())
    assert model.content_sha256 == row["content_sha256"]
    assert json.loads(row["features"]) == list(model.features)
    scores = read(warehouse, "SELECT DISTINCT model_version FROM risk_scores")["model_version"]
    assert scores.to_list() == [row["model_version"]]
    assert (warehouse.reports / "risk_backtest" / "lift.png").stat().st_size > 1000


def test_the_retrain_schedule_runs_the_risk_job():
    defs = build_defs()
    schedule = defs.resolve_schedule_def(RETRAIN_SCHEDULE)
    assert schedule.job_name == RISK_JOB and schedule.cron_schedule == "0 4 1 * *"
    job = defs.resolve_job_def(RISK_JOB)
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == {
        "risk_features", "risk_backtest", "risk_model", "risk_scores", "risk_psi",
        "published_warehouse",  # write, audit, publish: the retrained model is made live too
    }  # fmt: skip


def test_backtest_cli_on_a_generic_csv(tmp_path):
    rows = synthetic_outcomes().select(
        shop="entity_id",
        day=pl.col("inspected_on").cast(pl.Utf8),
        grade="score",
        officer=pl.col("inspectors").list.first(),
    )
    csv = tmp_path / "inspections.csv"
    rows.write_csv(csv)
    out = tmp_path / "report"
    args = ["backtest", "--inspections", str(csv), "--cutoff", "2022-12-31", "--horizon", "365",
            "--id-col", "shop", "--date-col", "day", "--score-col", "grade",
            "--problem-below", "93", "--inspector-col", "officer", "--out", str(out)]  # fmt: skip
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "gradient_boosting" in done.output and "inspector_only" in done.output
    summary = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    assert summary["metrics"]["logistic"]["auc"] > 0.65
    assert summary["metrics"]["gradient_boosting"]["auc_within_inspector"] > 0.55
    assert summary["tier_source"] == "risk_band" and len(summary["draw"]) == 3
    for name in ("summary.txt", "lift.png", "calibration.png", "tiers.png", "inspectors.png"):
        assert (out / name).stat().st_size > 0


def test_backtest_cli_names_a_missing_column(tmp_path):
    csv = tmp_path / "x.csv"
    csv.write_text("shop,day\nA,2024-01-01\n", encoding="utf-8")
    done = CliRunner().invoke(
        app, ["backtest", "--inspections", str(csv), "--cutoff", "2024-01-01"]
    )
    assert done.exit_code == 2
    assert "entity_id" in done.output and "--id-col" in done.output
