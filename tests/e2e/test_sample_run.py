"""End to end: `renfang run` on the bundled sample, through a real Dagster instance.

The sample's defect manifest (`_defects.json`, written by the generator) is the oracle: every
injected defect must be quarantined with its reason (or collapsed, for identical copies),
and nothing else may be rejected except the original half of a conflicting pair.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from warehouse.connection import DEFAULT_LANDING, PROJECT_ROOT

pytestmark = pytest.mark.slow

SAMPLE_PROCESSING_DATE = "2026-06-30"
"""After every date in the sample (records of late 2025 are collected in January 2026) and
before its deliberate future dates (2031): the run is reproducible whatever today is."""

REASON_OF_KIND = {
    "invalid_uscc": "invalid_uscc",
    "unknown_firm": "unknown_firm",
    "invalid_date": "invalid_date",
    "missing_required": "missing_required",
    "invalid_enum": "invalid_enum",
    "negative_amount": "negative_amount",
    "deadline_before_issue": "date_order",
    "future_date": "future_date",
    "duplicate_conflict": "duplicate_conflict",
}


@pytest.fixture(scope="module")
def sample_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess, Path]:
    """`renfang run` on the sample, then the risk model's own job (`renfang retrain`: the
    daily run does not train it); the run's output is what the tests read."""
    root = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(root / "dagster_home"),
        "RENFANG_WAREHOUSE": str(root / "warehouse.duckdb"),
        "RENFANG_REPORTS": str(root / "reports"),
    }
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--today", SAMPLE_PROCESSING_DATE]
    done = subprocess.run(
        cmd, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )
    if done.returncode == 0:
        retrain = [sys.executable, "-m", "pipelines.cli", "retrain", "--quiet",
                   "--today", SAMPLE_PROCESSING_DATE]  # fmt: skip
        trained = subprocess.run(
            retrain, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
        )
        assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-3000:]
        assert "last trained" in trained.stdout, trained.stdout[-2000:]
    return done, root


def test_the_run_succeeds_and_prints_the_summary(sample_run):
    done, root = sample_run
    assert done.returncode == 0, done.stderr[-3000:]
    for source in ("检查对象名录库", "行政处罚决定书", "检查结果", "异议与信用修复"):
        assert source in done.stdout  # sources by name, not code
    assert "protective_equipment" not in done.stdout and "人防防护设备生产安装企业" in done.stdout
    # progress while it worked: one line per step with rows and rows per second (stderr)
    step = r"\[\s*\d+/\d+\] 读取 +行政处罚决定书（原始） +\d+ 行"
    assert re.search(step, done.stderr), done.stderr
    assert "BetaWarning" not in done.stderr
    passed = re.search(r"quality checks: (\d+)/(\d+) 通过 passed", done.stdout)
    assert passed and passed.group(1) == passed.group(2), done.stdout
    assert "tier mix as of 2026-06-30" in done.stdout
    assert (root / "reports" / "评议报告.xlsx").exists()
    assert (root / "reports" / "gx_docs" / "index.html").exists()
    # the daily run does not train the risk model (its own job) and says so
    assert "risk model" in done.stdout and "not trained yet" in done.stdout
    assert "risk_backtest" not in done.stderr
    runs = list((root / "dagster_home").rglob("*.db"))
    assert runs, "the run was recorded in the Dagster instance (visible in the UI)"


def test_every_injected_defect_is_caught_and_nothing_else(sample_run):
    _, root = sample_run
    manifest = json.loads((DEFAULT_LANDING / "_defects.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    quarantined = {
        (s, f, r): code
        for s, f, r, code in con.sql(
            "SELECT source, file, row_number, reason_code FROM quarantine"
        ).fetchall()
    }
    partners = set()
    for defect in manifest:
        where = (defect["source"], defect["file"], defect["row_number"])
        if defect["kind"] == "duplicate_identical":
            assert where not in quarantined, defect
            continue
        assert quarantined.get(where) == REASON_OF_KIND[defect["kind"]], defect
        if defect["kind"] == "duplicate_conflict":
            original = defect["duplicate_of"]
            partners.add((defect["source"], original["file"], original["row_number"]))
    expected = {
        (d["source"], d["file"], d["row_number"])
        for d in manifest
        if d["kind"] != "duplicate_identical"
    } | partners
    assert set(quarantined) == expected
    collapsed = con.execute("SELECT sum(duplicate_count - 1) FROM penalty_decisions").fetchone()[0]
    assert collapsed >= 1


def test_counts_are_conserved_for_every_file(sample_run):
    _, root = sample_run
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    broken = con.sql(
        "SELECT file FROM ingestion_log "
        "WHERE rows_read <> rows_accepted + rows_quarantined + rows_collapsed"
    ).fetchall()
    assert broken == []
    files = con.execute("SELECT count(DISTINCT file) FROM ingestion_log").fetchone()[0]
    assert files == sum(1 for p in DEFAULT_LANDING.rglob("*") if p.suffix in (".csv", ".xlsx"))


def test_every_score_adds_up_from_its_reasons_on_the_whole_sample(sample_run):
    """score = clamp(70 + min(Σ bonuses, 30) − Σ deductions) for every firm and every date."""
    _, root = sample_run
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    (firm_dates, mismatches, dates) = con.execute(
        """
        WITH sums AS (
            SELECT uscc, as_of,
                   coalesce(sum(points) FILTER (points > 0), 0) AS bonus,
                   coalesce(sum(points) FILTER (points < 0), 0) AS deduction
            FROM score_reasons GROUP BY ALL)
        SELECT count(*),
               count(*) FILTER (abs(s.score - greatest(0, least(100,
                   70 + least(coalesce(bonus, 0), 30) + coalesce(deduction, 0)))) > 1e-9),
               count(DISTINCT s.as_of)
        FROM credit_scores s LEFT JOIN sums USING (uscc, as_of)
        """
    ).fetchall()[0]
    firms = con.execute("SELECT count(*) FROM firms").fetchall()[0][0]
    assert dates >= 60  # 2021-01 … 2026-06 month ends
    assert firm_dates == firms * dates  # every firm of the directory on every date
    assert mismatches == 0


def test_renfang_score_stores_any_date_and_prints_the_tier_mix(sample_run):
    _, root = sample_run
    env = {**os.environ, "RENFANG_WAREHOUSE": str(root / "warehouse.duckdb")}
    cmd = [sys.executable, "-m", "pipelines.cli", "score", "--as-of", "2024-06-15"]
    scored = subprocess.run(cmd, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert scored.returncode == 0, scored.stderr[-2000:]
    assert "tier mix as of 2024-06-15" in scored.stdout
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    stored = con.execute(
        "SELECT count(*) FROM credit_scores WHERE as_of = DATE '2024-06-15'"
    ).fetchall()[0][0]
    firms = con.execute("SELECT count(*) FROM firms").fetchall()[0][0]
    assert stored == firms
    total = re.search(r"^\s+合计 total(?:\s+\d+){4}\s+(\d+)$", scored.stdout, re.M)
    assert total and int(total.group(1)) == firms


def test_the_run_ends_by_drafting_the_next_round_that_a_third_party_can_verify(sample_run):
    """`make run` drafts the quarter after the processing date (2026Q3 for 2026-06-30), prints
    its seed, input hashes and files, and the printed plan re-runs to IDENTICAL in a fresh
    process that touches neither the warehouse nor Dagster."""
    done, root = sample_run
    assert "round 2026Q3 (草案 — 未公布 draft · 市级（全市）)" in done.stdout, done.stdout[-2000:]
    assert "seed 20260630" in done.stdout
    for name in ("firms", "inspectors", "conflicts", "previous", "plan"):
        assert re.search(rf"{name} sha256\s+[0-9a-f]{{64}}", done.stdout), name
    assert "inclusion probability by class: A 3.0%" in done.stdout
    plan = root / "reports" / "rounds" / "2026Q3" / "plan_草案.json"
    assert f"plan file  {plan}" in done.stdout
    folder = plan.parent
    assert (folder / "抽查计划_2026Q3_草案.xlsx").exists()
    assert (folder / "公示_2026Q3_草案.csv").exists()
    assert list((folder / "calendars").glob("*.ics"))
    verify = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "verify-draw", str(plan)],
        env={**os.environ, "RENFANG_WAREHOUSE": str(root / "absent.duckdb")},
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr[-2000:]
    assert verify.stdout.strip().endswith("IDENTICAL")


def test_the_risk_job_trains_scores_and_reports_the_risk_model(sample_run):
    """`renfang retrain` (the `risk` job) backtests, trains (a hash-named artefact), scores
    every firm on the processing date and computes PSI; the report files are written."""
    _, root = sample_run
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    version, artefact = con.execute(
        "SELECT model_version, artefact_file FROM risk_model_versions"
    ).fetchall()[0]
    assert Path(artefact).exists() and version in Path(artefact).name
    firms = con.execute("SELECT count(*) FROM firms").fetchall()[0][0]
    scored = con.execute(
        "SELECT count(*) FROM risk_scores WHERE as_of = ? AND model_version = ?",
        [SAMPLE_PROCESSING_DATE, version],
    ).fetchall()[0][0]
    assert scored == firms
    auc = con.execute(
        "SELECT value FROM risk_backtest_metrics WHERE scorer = 'tier_only' AND metric = 'auc' "
        "AND scope = 'overall'"
    ).fetchall()[0][0]
    assert auc > 0.5  # worse tiers fail more often on the sample
    assert con.execute("SELECT count(*) FROM risk_psi").fetchall()[0][0] > 0
    con.close()
    report = root / "reports" / "risk_backtest"
    assert (report / "backtest.json").exists() and (report / "calibration.png").exists()


def test_a_round_ordered_by_risk_keeps_the_draw_and_verifies(sample_run):
    """Issue 6 item 8 on the sample: the risk model re-deals dates within strata and teams;
    the drawn firms and teams are those of the same round without ordering, and the plan,
    which now publishes the risk input, verifies."""
    _, root = sample_run
    env = {
        **os.environ,
        "DAGSTER_HOME": str(root / "dagster_home"),
        "RENFANG_WAREHOUSE": str(root / "warehouse.duckdb"),
        "RENFANG_REPORTS": str(root / "reports"),
    }
    plan_file = root / "reports" / "rounds" / "2026Q4" / "plan_草案.json"
    plans = []
    for extra in ([], ["--order-by-risk"]):
        cmd = [sys.executable, "-m", "pipelines.cli", "draw", "--round", "2026Q4", "--seed", "11",
               "--today", SAMPLE_PROCESSING_DATE, "--draft", *extra]  # fmt: skip
        drawn = subprocess.run(
            cmd, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
        )
        assert drawn.returncode == 0, drawn.stdout + drawn.stderr[-2000:]
        plans.append(json.loads(plan_file.read_text(encoding="utf-8")))
    plain, ordered = plans
    assert plain["inputs"]["risk"]["rows"] == 0 and ordered["inputs"]["risk"]["rows"] > 0
    assert ordered["outputs"]["draws"] == plain["outputs"]["draws"]

    def teams(plan: dict) -> list:
        return sorted((s["uscc"], s["team"]) for s in plan["outputs"]["schedule"])

    assert teams(ordered) == teams(plain)
    verify = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "verify-draw", str(plan_file)],
        cwd=root, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert verify.stdout.strip().endswith("IDENTICAL"), verify.stdout


def test_the_validation_page_shows_the_trained_models_backtest(sample_run, monkeypatch):
    """The dashboards' 模型验证 page on the sample: the model trained by the run, its AUC."""
    from streamlit.testing.v1 import AppTest

    from dashboards.auth import User

    _, root = sample_run
    monkeypatch.setenv("RENFANG_WAREHOUSE", str(root / "warehouse.duckdb"))
    monkeypatch.setenv("RENFANG_DEMO_USERS", "1")  # the shipped users, for a test
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    auc = con.execute(
        "SELECT m.value FROM risk_backtest_metrics m JOIN risk_model_versions v "
        "ON v.role = 'primary' AND m.scorer = v.algorithm "
        "WHERE m.scope = 'overall' AND m.metric = 'auc'"
    ).fetchall()
    con.close()
    assert auc, "the sample run trains a model and backtests it"
    app = PROJECT_ROOT / "dashboards" / "streamlit_app.py"
    at = AppTest.from_file(str(app), default_timeout=30)
    at.session_state["user"] = User(username="m", name="m", role="manager")
    at.run()
    at.switch_page("views/validation.py").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["模型 AUC"] == f"{auc[0][0]:.3f}"
    assert len(at.get("vega_lite_chart")) == 6  # tiers, draws, lift, calibration, inspectors, PSI
    headers = [h.value for h in at.subheader]
    for expected in (
        "提升曲线",
        "校准",
        "检查人员效应（同一检查人员内比较）",
        "稳定性（PSI，逐月）",
    ):
        assert expected in headers, headers
    assert len(at.dataframe) >= 4  # failure by tier, draws, inspector effects, PSI

    # every scorer, strategy, scope, metric and PSI subject by name, in both languages (the
    # browser walk runs on a fixture too small to train a model)
    from fixtures.page_text import problems

    for lang in ("zh", "en"):
        at.session_state["lang"] = lang
        at.run()
        assert not at.exception
        texts = [m.label for m in at.metric] + [str(m.value) for m in at.metric]
        texts += [e.value for e in (*at.caption, *at.subheader, *at.info, *at.success)]
        texts += [e.value for e in at.warning]
        cells = [str(c) for df in at.dataframe for c in [*df.value.columns, *df.value.stack()]]
        assert not problems(texts, lang, cells=cells), problems(texts, lang, cells=cells)


def test_the_backtest_from_the_landing_folder_gives_the_model_assets_figures(sample_run, tmp_path):
    """One scoring path: `renfang backtest --landing` reads, cleans and scores the folder as
    the main job did (objections and repairs included) and reproduces every figure the
    `model` asset group stored, to the last digit."""
    _, root = sample_run
    out = tmp_path / "backtest"
    cmd = [
        sys.executable, "-m", "pipelines.cli", "backtest", "--landing", str(DEFAULT_LANDING),
        "--today", SAMPLE_PROCESSING_DATE, "--out", str(out),
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    stored = con.sql("SELECT scorer, scope, metric, value, cutoff FROM risk_backtest_metrics")
    rows = stored.fetchall()
    assert rows, "the risk job ran the backtest"
    assert {str(r[4]) for r in rows} == {summary["cutoff"]}
    for scorer, scope, metric, value, _ in rows:
        key = metric if scope == "overall" else f"{metric}_{scope}"
        expected = None if value is None or value != value else value  # NaN is "no figure"
        assert summary["metrics"][scorer][key] == expected, (scorer, key)
