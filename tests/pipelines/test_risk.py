"""The model layer through Dagster on a synthetic warehouse, and `renfang backtest` on a CSV."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
import typer
import yaml
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
from warehouse.connection import PROJECT_ROOT, query
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
    assert model["backtest_firm_risk_auc_overall"].value > 0.55
    assert "backtest_firm_risk_auc_within_inspector" in model
    assert model["backtest_outcome_forecast_auc_overall"].value > 0.55
    version = model["model_version"].value
    assert version.split("-")[0] in {"history_only", "logistic", "gradient_boosting"}
    assert model["model_selection"].value  # why this candidate won
    backtest = meta["risk_backtest"]
    assert backtest["model"].value in {"history_only", "logistic", "gradient_boosting"}


def test_the_tables_hold_what_the_validation_page_needs(materialized):
    _, warehouse = materialized
    firms = read(warehouse, "SELECT count(*) AS n FROM firms")["n"][0]
    scores = read(warehouse, "SELECT * FROM risk_scores")
    latest = scores.filter(pl.col("as_of") == date.fromisoformat(TODAY))
    assert latest.height == firms and latest["probability"].is_between(0, 1).all()
    assert set(latest["risk_band"]) == {"A", "B", "C", "D"}
    scorers = set(read(warehouse, "SELECT DISTINCT scorer FROM risk_lift_curve")["scorer"])
    assert {
        "firm_risk", "outcome_forecast", "gradient_boosting", "logistic", "random",
        "history_only", "last_score", "tier_only", "inspector_only",
    } <= scorers  # fmt: skip
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


def fast_settings(tmp_path: Path, **report: object) -> Path:
    """The packaged settings with fewer, smaller gradient-boosting candidates (test speed)."""
    text = (PROJECT_ROOT / "models" / "risk" / "default_risk.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["training"]["gradient_boosting"]["max_iter"] = 40
    data["training"]["candidates"] = {"gradient_boosting": [{"max_depth": 3}], "logistic": []}
    data["report"] |= {"bootstrap": {"resamples": 200, "level": 0.95}, **report}
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def export(tmp_path: Path) -> Path:
    """A regulator's export as it comes: a score, a violation count, a result text, an
    inspector column, an inspection id and a type column; a few rows unreadable."""
    rows = synthetic_outcomes().select(
        insp_no=pl.format("N{}", pl.int_range(1, pl.len() + 1)),
        shop="entity_id",
        day=pl.col("inspected_on").cast(pl.Utf8),
        grade="score",
        critical=pl.when("problem").then(pl.lit("2.0")).otherwise(pl.lit("0.0")),
        Results=pl.when("problem").then(pl.lit("Fail")).otherwise(pl.lit("Pass")),
        officer=pl.col("inspectors").list.first(),
        kind=pl.when(pl.int_range(pl.len()) % 7 == 0)
        .then(pl.lit("Re-Inspection"))
        .otherwise(pl.lit("Inspection")),
    )
    rows = rows.with_columns(
        day=pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("n/a")).otherwise("day")
    )
    csv = tmp_path / "inspections.csv"
    rows.write_csv(csv)
    return csv


def run_cli(*args: str):
    return CliRunner().invoke(app, ["backtest", *args])


def test_backtest_cli_reads_a_score_with_inspectors_by_firm(tmp_path):
    out = tmp_path / "report"
    done = run_cli(
        "--inspections", str(export(tmp_path)), "--cutoff", "2022-12-31", "--horizon", "365",
        "--id-col", "shop", "--date-col", "day", "--score-col", "grade", "--problem-below", "93",
        "--inspector-col", "officer", "--inspection-id-col", "insp_no",
        "--settings", str(fast_settings(tmp_path)), "--out", str(out),
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "column 'day' (--date-col): 1 row(s)" in done.output and "'n/a'" in done.output
    assert "first month: 2023-01-01 … 2023-01-31" in done.output
    summary = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    assert summary["unit"] == "firm" and summary["not_available"] == {
        "tier_only": "no credit tier in the inputs"
    }
    assert summary["primary"] == summary["selection"]["winner"]
    assert {c["name"] for c in summary["selection"]["candidates"]} >= {"history_only", "last_score"}
    metrics = summary["metrics"]
    assert metrics["firm_risk"]["auc"] > 0.65 and metrics["outcome_forecast"]["auc"] > 0.65
    assert "auc_minus_history_only_ci_low_within_inspector" in metrics["firm_risk"]
    scores = pl.read_csv(out / "scores.csv")
    assert scores.columns == [
        "id", "entity_id", "inspected_on", "as_of", "firm_risk", "outcome_forecast", "label",
        "inspector_id",
    ]  # fmt: skip
    assert scores.height == summary["evaluated"] and scores["id"].str.starts_with("N").all()
    assert scores["outcome_forecast"].is_not_null().all()
    for name in ("summary.txt", "lift.png", "calibration.png", "tiers.png", "inspectors.png"):
        assert (out / name).stat().st_size > 0


def test_backtest_cli_reads_a_count_by_inspection_without_inspectors(tmp_path):
    """A count with a threshold, every inspection of the window, routine ones evaluated,
    the first month as 30 days, a horizon past the data's end, and no inspector column: the
    inspector baselines are not available, not 0.5."""
    out = tmp_path / "report"
    settings = fast_settings(tmp_path, first_period=30)
    done = run_cli(
        "--inspections", str(export(tmp_path)), "--cutoff", "2022-12-31", "--horizon", "800",
        "--id-col", "shop", "--date-col", "day", "--problem-col", "critical",
        "--problem-above", "0", "--unit", "inspection", "--evaluate-where", "kind=Inspection",
        "--settings", str(settings), "--out", str(out),
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "runs past the last date in the data" in done.output and "cut to" in done.output
    assert "first month: 2023-01-01 … 2023-01-30 (30 days after the cut-off)" in done.output
    assert "inspector_only       not available: no inspector column" in done.output
    summary = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    assert summary["unit"] == "inspection" and summary["horizon_days"] < 365
    assert set(summary["not_available"]) == {"tier_only", "outcome_forecast", "inspector_only"}
    assert "inspector_only" not in summary["metrics"]
    scores = pl.read_csv(out / "scores.csv")
    assert scores["outcome_forecast"].is_null().all()
    assert scores.height > scores["entity_id"].n_unique()  # several inspections per firm
    assert (scores["as_of"].str.to_date() < scores["inspected_on"].str.to_date()).all()


def test_backtest_cli_reads_a_result_text(tmp_path):
    out = tmp_path / "report"
    done = run_cli(
        "--inspections", str(export(tmp_path)), "--cutoff", "2022-12-31",
        "--id-col", "shop", "--date-col", "day", "--problem-col", "Results",
        "--problem-values", "Fail", "--inspector-col", "officer",
        "--history-where", "kind!=Re-Inspection", "--attribute-col", "kind",
        "--settings", str(fast_settings(tmp_path)), "--out", str(out),
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    summary = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    assert summary["metrics"]["firm_risk"]["auc"] > 0.6
    assert "kind" in summary["models"][summary["primary"]]["features"] or (
        summary["primary"] == "history_only"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--inspector-col", "inspector"], "column 'inspector' (--inspector-col) not found"),
        (["--score-col", "grade", "--problem-below", "93", "--evaluate-where", "type=Inspection"],
         "column 'type' (--evaluate-where) not found"),
        (["--problem-col", "critical"], "not readable as a flag"),
        (["--problem-col", "critical", "--problem-above", "0", "--problem-below", "1"], "not both"),
        (["--score-col", "grade"], "--score-col needs --problem-below"),
        (["--problem-col", "Results", "--ok-values", "Pass"], "--ok-values needs --problem-values"),
        (["--where", "kind"], "expected COLUMN=VALUE"),
        (["--problem-col", "critical", "--problem-above", "0", "--settings", "nope.yaml"],
         "--settings nope.yaml"),
        (["--problem-col", "critical", "--problem-above", "0", "--unit", "shop"], "shop"),
    ],
    ids=["inspector", "filter", "count_as_flag", "two_directions", "score_without_threshold",
         "ok_without_values", "where_syntax", "settings_missing", "bad_unit"],
)  # fmt: skip
def test_backtest_cli_refuses_bad_options_before_running(tmp_path, args, expected):
    csv = export(tmp_path)
    done = run_cli(
        "--inspections", str(csv), "--cutoff", "2022-12-31", "--id-col", "shop",
        "--date-col", "day", *args,
    )  # fmt: skip
    assert done.exit_code == 2, done.output
    assert expected in done.output and "Traceback" not in done.output


def test_backtest_cli_names_the_columns_found(tmp_path):
    csv = tmp_path / "x.csv"
    csv.write_text("shop,day\nA,2024-01-01\n", encoding="utf-8")
    done = run_cli("--inspections", str(csv), "--cutoff", "2024-01-01", "--id-col", "shop")
    assert done.exit_code == 2
    assert "列 'inspected_on'（--date-col）不存在" in done.output
    assert "columns: shop, day" in done.output


def test_backtest_cli_settings_errors_name_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (PROJECT_ROOT / "models" / "risk" / "default_risk.yaml")
        .read_text(encoding="utf-8")
        .replace("first_period: month", "first_period: week"),
        encoding="utf-8",
    )
    done = run_cli("--inspections", str(bad), "--cutoff", "2022-12-31", "--settings", str(bad))
    assert done.exit_code == 2 and "report.first_period" in done.output


def test_readme_and_help_list_the_same_backtest_options():
    """The README's `renfang backtest` row names every option of the command, and nothing
    else."""
    command = typer.main.get_command(app).commands["backtest"]  # type: ignore[attr-defined]  # a Typer app with subcommands is a click Group
    options = {o for p in command.params for o in p.opts if o.startswith("--")} - {"--help"}
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    (row,) = [line for line in readme.splitlines() if line.startswith("| `renfang backtest")]
    assert set(re.findall(r"--[a-z][a-z-]*", row)) == options
