"""Double-random rounds through Dagster and the CLI on the fixture warehouse: the main job
drafts the next round, `renfang draw` publishes one, `renfang verify-draw` says IDENTICAL or
names a tampering, a published round is never silently redrawn, and reported outcomes join
back to their round and feed the next scoring run."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from fixtures.landing import FIRM_EQUIPMENT, PROCESSING_DATE, write_fixture_landing
from typer.testing import CliRunner, Result

from models.labels import default_labels
from pipelines.cli import app
from pipelines.cli.summary import failure_messages
from pipelines.definitions import ROUND_JOB, build_defs, execute_main
from pipelines.resources import Landing, Warehouse
from warehouse.connection import query

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


class Setup:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.landing = write_fixture_landing(root / "landing")
        self.warehouse = root / "warehouse.duckdb"
        self.reports = root / "reports"
        self.env = {"DAGSTER_HOME": str(root / "dagster"), "RENFANG_REPORTS": str(self.reports)}
        self.plan_2025q4 = self.reports / "rounds" / "2025Q4" / "plan.json"
        self.first: Result | None = None  # the fixture's two `renfang draw` runs of 2025Q4
        self.again: Result | None = None
        self.first_plan = self.again_plan = b""

    def main(self):
        defs = build_defs(
            warehouse=Warehouse(path=str(self.warehouse), reports_dir=str(self.reports)),
            landing=Landing(path=str(self.landing), today=PROCESSING_DATE),
        )
        return execute_main(defs)

    def cli(self, *args: str):
        return CliRunner().invoke(app, list(args), env=self.env)

    def draw(self, *args: str):
        return self.cli(
            "draw", "--warehouse", str(self.warehouse), "--today", PROCESSING_DATE, *args
        )

    def read(self, sql: str) -> pl.DataFrame:
        with Warehouse(path=str(self.warehouse)).connect(read_only=True) as con:
            return query(con, sql)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    """The main job's warehouse, then round 2025Q4 published by `renfang draw` (seed 7) and
    drawn once more with the same seed. Both draws happen here, before any test adds rounds
    or outcomes that would change what a 2025Q4 draw computes: the tests below only add to
    this warehouse or read it, so they pass in any order."""
    s = Setup(tmp_path_factory.mktemp("rounds"))
    assert s.main().success
    s.first = s.draw("--round", "2025Q4", "--seed", "7")
    s.first_plan = s.plan_2025q4.read_bytes() if s.plan_2025q4.exists() else b""
    s.again = s.draw("--round", "2025Q4", "--seed", "7")  # idempotent: same plan, same bytes
    s.again_plan = s.plan_2025q4.read_bytes() if s.plan_2025q4.exists() else b""
    return s


def test_the_main_job_drafts_the_next_quarter_and_its_plan_verifies(tmp_path: Path) -> None:
    setup = Setup(tmp_path)  # its own warehouse: the shared one holds rounds the others add
    assert setup.main().success
    rounds = setup.read("SELECT * FROM sampling_rounds")
    assert rounds.select("round_id", "status", "seed").rows() == [("2026Q1", "draft", 20251231)]
    row = rounds.row(0, named=True)
    plan = Path(row["plan_file"])
    assert plan == setup.reports / "rounds" / "2026Q1" / "plan.json"
    draws = setup.read("SELECT * FROM sampling_draws")
    # every stratum of the fixture's 5 eligible firms holds one firm: all are drawn
    assert draws.height == row["pool_size"] == 5
    teams = setup.read("SELECT uscc, count(*) n FROM sampling_assignments GROUP BY uscc")
    assert teams.get_column("n").to_list() == [2] * 5
    for name in ("firms", "inspectors", "conflicts", "previous"):
        published = (plan.parent / "inputs" / f"{name}.csv").read_bytes()
        assert hashlib.sha256(published).hexdigest() == row[f"{name}_sha256"]
    result = setup.cli("verify-draw", str(plan))
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("IDENTICAL")


def test_draw_publishes_reruns_identically_and_refuses_a_silent_redraw(setup: Setup) -> None:
    first, again = setup.first, setup.again  # drawn by the fixture, in this order
    assert first is not None and again is not None
    assert first.exit_code == 0, first.output
    plan = setup.plan_2025q4
    assert f"plan file  {plan}" in first.output
    assert "seed 7" in first.output and "firms sha256" in first.output
    before = setup.first_plan
    assert again.exit_code == 0, again.output
    assert setup.again_plan == before
    other = setup.draw("--round", "2025Q4", "--seed", "8")
    assert other.exit_code == 1
    assert "已公布" in other.output and "--replace" in other.output
    assert plan.read_bytes() == before
    status = setup.read("SELECT status, seed FROM sampling_rounds WHERE round_id = '2025Q4'")
    assert status.rows() == [("published", 7)]
    assert len(list((plan.parent / "calendars").glob("*.ics"))) >= 2


def test_the_plan_workbook_reads_as_a_chinese_office_expects(setup: Setup) -> None:
    """Title and issuer line, words instead of codes, and a 说明 sheet of readable rows
    (parameter, value, meaning) instead of one JSON string."""
    plan = setup.reports / "rounds" / "2026Q1"
    book = openpyxl.load_workbook(plan / "抽查计划_2026Q1.xlsx")
    assert book.sheetnames == ["说明", "检查安排", "分层抽取", "检查人员任务"]
    notes = book["说明"]
    assert notes["A1"].value == "双随机抽查计划（2026Q1）：说明"
    assert notes["A2"].value.startswith("数据截至：2025-12-31　发布单位：")
    assert [c.value for c in notes[3]] == ["参数", "取值", "含义"]
    facts = {r[0]: r[1] for r in notes.iter_rows(min_row=4, values_only=True)}
    assert facts["对照组比例"] == "5.0%"  # a share, not a count
    assert facts["对照组单位"].endswith(" 家")
    assert facts["抽查比例：C 级"] == "30.0%"
    assert facts["分层"] == "信用等级 × 单位类型"
    assert all(len(str(v)) < 100 for v in facts.values())  # no 466-character JSON cell
    sheet = book["检查安排"]
    header = [c.value for c in sheet[3]]
    assert header[0] == "序号"
    assert {"检查人员姓名", "所属单位", "执法证号", "统一社会信用代码", "抽取层"} <= set(header)
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    stratum = header.index("抽取层")
    assert all("/" not in r[stratum] and "_" not in r[stratum] for r in rows)  # C 级 · 防护设备
    kinds = {r[header.index("单位类型")] for r in rows}
    assert kinds <= set(default_labels().firm_type_map("zh").values())
    assert {r[header.index("对照组")] for r in rows} <= {"是", "否"}
    strata = book["分层抽取"]
    ratio = [c.value for c in strata[3]].index("抽查比例") + 1
    assert strata.cell(4, ratio).number_format == "0.0%"
    assert strata.auto_filter.ref and strata.freeze_panes == "A4"


def test_verify_draw_names_a_tampered_plan_and_a_different_input_file(setup: Setup) -> None:
    plan = setup.plan_2025q4
    tampered = setup.root / "tampered.json"
    document = json.loads(plan.read_bytes())
    document["outputs"]["draws"][0]["is_control"] = not document["outputs"]["draws"][0][
        "is_control"
    ]
    tampered.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    result = setup.cli("verify-draw", str(tampered))
    assert result.exit_code == 1
    assert "DIFFERENT" in result.output and "is_control" in result.output
    firms = setup.root / "firms.csv"
    shutil.copy(plan.parent / "inputs" / "firms.csv", firms)
    assert setup.cli("verify-draw", str(plan), "--firms", str(firms)).exit_code == 0
    firms.write_text(firms.read_text().replace(",B,", ",C,"), encoding="utf-8")
    result = setup.cli("verify-draw", str(plan), "--firms", str(firms))
    assert result.exit_code == 1 and "inputs.firms: the given file hashes" in result.output
    assert setup.cli("verify-draw", str(firms)).exit_code == 2  # not a plan file


def test_reported_outcomes_join_back_and_feed_scoring(setup: Setup) -> None:
    team = setup.read(
        f"SELECT inspector_id FROM sampling_assignments WHERE round_id = '2025Q4' "
        f"AND uscc = '{FIRM_EQUIPMENT}' ORDER BY 1"
    ).get_column("inspector_id")
    outcomes = setup.landing / "inspection_outcomes" / "round_2025Q4.csv"
    outcomes.write_text(
        "检查编号,抽查批次,统一社会信用代码,检查日期,检查人员编号,检查结果,问题数量\n"
        f"JC-2025Q4-1,2025Q4,{FIRM_EQUIPMENT},2025-11-12,{'、'.join(team)},拒绝检查,0\n",
        encoding="utf-8",
    )
    assert setup.main().success
    results = setup.read(
        "SELECT sum(planned) p, sum(inspected) i, sum(with_findings) f FROM round_results "
        "WHERE round_id = '2025Q4'"
    )
    planned = setup.read("SELECT count(*) n FROM sampling_draws WHERE round_id = '2025Q4'")
    assert results.row(0) == (planned.item(), 1, 1)
    public = pl.read_csv(setup.reports / "rounds" / "2025Q4" / "公示_2025Q4.csv")
    assert "检查人员编号" not in public.columns and "对照组" not in public.columns
    found = public.filter(pl.col("统一社会信用代码") == FIRM_EQUIPMENT)
    assert found.get_column("检查结果").to_list() == ["拒绝检查"]
    assert set(public.get_column("检查结果")) == {"拒绝检查", "待检查"}
    summary = setup.cli("rounds", "--warehouse", str(setup.warehouse), "--round", "2025Q4")
    assert summary.exit_code == 0, summary.output
    assert re.search(r"by-tier total\s+\d+\s+1\s+1\s+100%", summary.output), summary.output
    records = setup.read("SELECT * FROM credit_records WHERE evidence_doc_no = 'JC-2025Q4-1'")
    assert records.get_column("veto").to_list() == [True]  # scored like any other outcome


def test_the_round_job_takes_parameters_from_run_config(setup: Setup) -> None:
    """The Dagster `round` job as the UI launches it: run config names the round, the seed and
    overrides; a bad override fails with the field's name."""
    defs = build_defs(
        warehouse=Warehouse(path=str(setup.warehouse), reports_dir=str(setup.reports)),
        landing=Landing(path=str(setup.landing), today=PROCESSING_DATE),
    )
    job = defs.resolve_job_def(ROUND_JOB)

    def run(overrides: str):
        config = {"round_id": "2025-09", "seed": 3, "overrides": overrides}
        return job.execute_in_process(
            raise_on_error=False, run_config={"ops": {"sampling_round": {"config": config}}}
        )

    assert run("{control_share: 0.0, inspectors_per_firm: 3}").success
    row = setup.read("SELECT * FROM sampling_rounds WHERE round_id = '2025-09'").row(0, named=True)
    assert (row["window_start"], row["window_end"]) == (date(2025, 9, 1), date(2025, 9, 30))
    assert row["control"] == 0 and json.loads(row["parameters"])["inspectors_per_firm"] == 3
    teams = setup.read(
        "SELECT count(*) n FROM sampling_assignments WHERE round_id = '2025-09' GROUP BY uscc"
    )
    assert set(teams.get_column("n")) == {3}
    failed = run("{inspectors_per_firm: 1}")
    assert not failed.success
    assert any("inspectors_per_firm" in m for m in failure_messages(failed))


def test_a_failed_draw_prints_its_cause_in_one_line_and_the_run_id(setup: Setup) -> None:
    """Not `DagsterExecutionStepExecutionError: Error occurred while executing op …` and
    nothing more: the domain error's own message, Chinese first, then where the log is."""
    params = setup.root / "too_many_inspectors.yaml"
    params.write_text(
        "round_id: 2026Q2\ntier_as_of: 2025-12-31\nwindow_start: 2026-04-01\n"
        "window_end: 2026-06-30\nratios: {A: 0.03, B: 0.1, C: 0.3, D: 1.0}\n"
        "inspectors_per_firm: 40\nseed: 5\n",
        encoding="utf-8",
    )
    result = setup.draw("--round", "2026Q2", "--seed", "5", "--params", str(params), "--draft")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 2, lines  # the cause, then the run id
    assert lines[0].startswith("失败 failed: 双随机抽查计划：抽查批次 2026Q2 无法完成 / round")
    assert "检查名额" in lines[0] and "inspector slots" in lines[0]  # Chinese first, English
    assert "DagsterExecutionStepExecutionError" not in result.output
    run_id = re.search(r"运行编号 run id: ([0-9a-f-]{36})", lines[1])
    assert run_id, lines[1]


def tree(folder: Path) -> dict[str, bytes]:
    """Every path under `folder` with its bytes (folders as empty bytes)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b""
        for p in sorted(folder.rglob("*"))
    }


def test_no_round_id_run_config_or_link_reaches_outside_the_reports_folder(
    setup: Setup, tmp_path: Path
) -> None:
    """Absolute paths, `..`, Windows names and symlinks through every entry point that names
    a round's folder — `renfang draw`, the round job's run config (round id, overrides,
    parameter file, resource paths) — and a sentinel folder that must come out untouched."""
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "keep.txt").write_text("precious", encoding="utf-8")
    (sentinel / "2027Q1").mkdir()
    before, stored = tree(sentinel), setup.read("SELECT round_id FROM sampling_rounds")
    job = build_defs(
        warehouse=Warehouse(path=str(setup.warehouse), reports_dir=str(setup.reports)),
        landing=Landing(path=str(setup.landing), today=PROCESSING_DATE),
    ).resolve_job_def(ROUND_JOB)

    def launch(config: dict, **run_config: object):
        return job.execute_in_process(
            raise_on_error=False,
            run_config={"ops": {"sampling_round": {"config": config}}, **run_config},
        )

    bad_ids = [str(sentinel), str(sentinel / "2027Q1"), f"../../{sentinel.name}", "..",
               "rounds/../../x", "C:\\Windows\\x", "..\\..\\x", "CON", "nul.txt", "evil.",
               ".hidden", "-rf", "2027Q1\r\nBEGIN:VEVENT", "２０２７Ｑ１", "x" * 65]  # fmt: skip
    for bad in bad_ids:
        cli = setup.draw("--round", bad, "--seed", "1")
        assert cli.exit_code == 2, (bad, cli.output)
        assert "抽查批次编号" in cli.output and "round id" in cli.output, cli.output
        assert "Traceback" not in cli.output
        override = json.dumps({"round_id": bad})
        for config in (
            {"round_id": bad, "seed": 1, "publish": True},
            {"round_id": "2025-05", "seed": 1, "overrides": override},
        ):
            run = launch(config)
            assert not run.success
            assert any("round id" in m for m in failure_messages(run)), failure_messages(run)
    params = setup.root / "bad_round.yaml"
    params.write_text(f"round_id: '../../{sentinel.name}'\n", encoding="utf-8")
    run = launch({"params_file": str(params), "seed": 1})
    assert not run.success and any("round id" in m for m in failure_messages(run))
    assert not launch({"params_file": "/etc/passwd", "seed": 1}).success  # YAML files only

    # Resource paths in a run config change nothing: the writes stay in the server's folders.
    moved = {"warehouse": {"config": {"reports_dir": str(sentinel), "path": str(sentinel / "w")}}}
    assert launch({"round_id": "2025-08", "seed": 2}, resources=moved).success
    assert (setup.reports / "rounds" / "2025-08" / "plan.json").is_file()

    # A symlink planted in the reports folder is refused, never written or removed through.
    (setup.reports / "rounds" / "2025-07").symlink_to(sentinel / "2027Q1")
    elsewhere = tmp_path / "other_reports"
    elsewhere.mkdir()
    (elsewhere / "rounds").symlink_to(sentinel)
    for env, round_id in ({}, "2025-07"), ({"RENFANG_REPORTS": str(elsewhere)}, "2025-06"):
        result = CliRunner().invoke(
            app,
            ["draw", "--warehouse", str(setup.warehouse), "--today", PROCESSING_DATE,
             "--round", round_id, "--seed", "1"],
            env={**setup.env, **env},
        )  # fmt: skip
        assert result.exit_code == 1 and "outside its root" in result.output, result.output
    assert (setup.reports / "rounds" / "2025-07").is_symlink()
    assert tree(sentinel) == before
    after = setup.read("SELECT round_id FROM sampling_rounds")
    assert set(after.get_column("round_id")) == set(stored.get_column("round_id")) | {"2025-08"}


def test_ordering_by_risk_without_risk_scores_fails_clearly(setup: Setup) -> None:
    with Warehouse(path=str(setup.warehouse)).transaction() as con:
        con.execute("DROP TABLE IF EXISTS risk_scores")  # the main job no longer trains it
    result = setup.draw("--round", "2025Q3", "--seed", "1", "--order-by-risk", "--draft")
    assert result.exit_code == 1
    assert "order_by_risk" in result.output and "risk job" in result.output
