"""Double-random rounds through Dagster and the CLI on the fixture warehouse: the main job
drafts the next round (every file and sheet marked 草案), `renfang draw` publishes one,
`renfang verify-draw` says IDENTICAL or names a tampering, a published round is never
silently redrawn, a back-dated round is refused without --backdate, a supplied calendar is
recorded and reproduced, a worse public credit grade sets the class, and the inspection
record workbooks, filled in and dropped into the landing folder, come back as the round's
outcomes, item results, deadlines and scores."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from fixtures.landing import (
    FIRM_DESIGN,
    FIRM_SUPERVISION,
    PROCESSING_DATE,
    write_fixture_landing,
)
from typer.testing import CliRunner, Result

from models.labels import default_labels
from pipelines.cli import app
from pipelines.cli.summary import failure_messages, print_run_summary, round_metadata
from pipelines.definitions import ROUND_JOB, build_defs, execute_main
from pipelines.resources import Landing, Warehouse
from warehouse.connection import query

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


class Setup:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.landing = write_fixture_landing(root / "landing")
        # FIRM_SUPERVISION's public credit composite grade (D) is worse than its tier.
        (self.landing / "public_credit_grades").mkdir()
        (self.landing / "public_credit_grades" / "公共信用综合评价.csv").write_text(
            "统一社会信用代码,综合评价等级,评价日期\n"
            f"{FIRM_SUPERVISION},差,2025-09-30\n"
            f"{FIRM_DESIGN},A级,2026-06-30\n",  # evaluated after the tiers' date: not read
            encoding="utf-8",
        )
        self.warehouse = root / "warehouse.duckdb"
        self.reports = root / "reports"
        self.env = {"DAGSTER_HOME": str(root / "dagster"), "RENFANG_REPORTS": str(self.reports)}
        self.plan_published = self.reports / "rounds" / "2026Q2" / "plan.json"
        self.first: Result | None = None  # the fixture's two `renfang draw` runs of 2026Q2
        self.again: Result | None = None
        self.first_plan = self.again_plan = b""
        self.backdated: Result | None = None  # the fixture's back-dated 2025Q4
        self.first_draft = root / "draft_2026Q1_at_setup"  # the first main job's draft, kept

    def main(self, today: str = PROCESSING_DATE):
        defs = build_defs(
            warehouse=Warehouse(path=str(self.warehouse), reports_dir=str(self.reports)),
            landing=Landing(path=str(self.landing), today=today),
        )
        return execute_main(defs)

    def cli(self, *args: str):
        return CliRunner().invoke(app, list(args), env=self.env)

    def draw(self, *args: str, today: str = PROCESSING_DATE):
        return self.cli("draw", "--warehouse", str(self.warehouse), "--today", today, *args)

    def read(self, sql: str) -> pl.DataFrame:
        with Warehouse(path=str(self.warehouse)).connect(read_only=True) as con:
            return query(con, sql)

    def folder(self, round_id: str) -> Path:
        return self.reports / "rounds" / round_id


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    """The main job's warehouse (with its draft of 2026Q1), then round 2026Q2 published by
    `renfang draw` (seed 7) and drawn once more with the same seed, then the back-dated
    2025Q4 (--backdate --reason), whose record workbooks a test fills in. Both draws happen here,
    before any test adds rounds or outcomes that would change what a 2026Q2 draw computes:
    the tests below only add to this warehouse or read it, so they pass in any order."""
    s = Setup(tmp_path_factory.mktemp("rounds"))
    assert s.main().success
    # a later main run (a test ingesting record workbooks) drafts 2026Q1 again, after 2025Q4's
    # inspections made some firms too recent to draw: tests of the first draft read this copy
    shutil.copytree(s.folder("2026Q1"), s.first_draft)
    s.first = s.draw("--round", "2026Q2", "--seed", "7")
    s.first_plan = s.plan_published.read_bytes() if s.plan_published.exists() else b""
    s.again = s.draw("--round", "2026Q2", "--seed", "7")  # idempotent: same plan, same bytes
    s.again_plan = s.plan_published.read_bytes() if s.plan_published.exists() else b""
    s.backdated = s.draw(
        "--round", "2025Q4", "--seed", "7", "--backdate", "--reason", "补录2025年第四季度纸质抽查"
    )
    return s


def _first_cells(xlsx: Path) -> dict[str, object]:
    book = openpyxl.load_workbook(xlsx, read_only=True)
    return {
        name: next(book[name].iter_rows(max_row=1, values_only=True))[0] for name in book.sheetnames
    }


def test_the_main_job_drafts_the_next_quarter_marked_as_a_draft_everywhere(setup: Setup) -> None:
    rounds = setup.read("SELECT * FROM sampling_rounds WHERE round_id = '2026Q1'")
    assert rounds.select("round_id", "status", "seed").rows() == [("2026Q1", "draft", 20251231)]
    row = rounds.row(0, named=True)
    folder = setup.folder("2026Q1")
    plan = Path(row["plan_file"])
    assert plan == folder / "plan_草案.json"
    for path in folder.rglob("*"):
        if path.is_file():
            assert "草案" in path.name, path  # every file name says draft
    for name in ("firms", "inspectors", "conflicts", "previous"):
        published = (folder / "inputs" / f"{name}_草案.csv").read_bytes()
        assert hashlib.sha256(published).hexdigest() == row[f"{name}_sha256"]
    for xlsx in folder.glob("*.xlsx"):
        cells = _first_cells(xlsx).values()
        assert all(str(v).startswith("草案 — 未公布 / DRAFT — not published") for v in cells)
    for csv in folder.glob("*.csv"):
        assert csv.read_text(encoding="utf-8-sig").startswith("草案 — 未公布")
    ics = next((folder / "calendars").glob("*.ics")).read_text(encoding="utf-8")
    assert "【草案】" in ics and "TRANSP:OPAQUE" in ics and "TRANSPARENT" not in ics
    teams = setup.read(
        "SELECT uscc, count(*) n FROM sampling_assignments WHERE round_id = '2026Q1' GROUP BY uscc"
    )
    assert set(teams.get_column("n")) <= {2}
    result = setup.cli("verify-draw", str(plan))
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("IDENTICAL")


def test_the_main_jobs_draft_is_kept_while_current_then_drawn_again(tmp_path: Path) -> None:
    """The main job's draft of the next round stays, byte for byte, while it is less than
    `draft_max_age_days` (7) old and nothing it rests on changed; a week later, after its
    file was altered, or with a max age of 0 it is drawn again (and verified again)."""
    s = Setup(tmp_path)
    sql = "SELECT seed, plan_sha256, created_at FROM sampling_rounds WHERE round_id = '2026Q1'"
    plan = s.folder("2026Q1") / "plan_草案.json"
    assert s.main(today="2025-12-22").success
    (seed, sha, created) = s.read(sql).row(0)
    assert seed == 20251222
    kept = s.main(today="2025-12-26")  # four days later: kept
    assert kept.success
    assert s.read(sql).row(0) == (seed, sha, created)
    assert hashlib.sha256(plan.read_bytes()).hexdigest() == sha
    (check,) = [c for c in kept.get_asset_check_evaluations() if c.check_name == "plan_reproduces"]
    assert check.passed and "verified when drawn on 2025-12-22" in str(check.metadata)
    redrawn = s.main(today="2025-12-31")  # nine days after it was drawn: a new draft
    assert redrawn.success and s.read(sql).row(0)[0] == 20251231
    (_, sha, created) = s.read(sql).row(0)
    plan.write_bytes(plan.read_bytes().replace(b'"seed"', b'"seed" '))  # a changed file
    assert s.main(today="2025-12-31").success
    assert s.read(sql)["created_at"].item() > created  # drawn again, its file verified again
    assert hashlib.sha256(plan.read_bytes()).hexdigest() == sha  # the same draw that day
    (_, _, created) = s.read(sql).row(0)
    config = {"ops": {"sampling_round": {"config": {"draft_max_age_days": 0}}}}
    defs = build_defs(
        warehouse=Warehouse(path=str(s.warehouse), reports_dir=str(s.reports)),
        landing=Landing(path=str(s.landing), today="2025-12-31"),
    )
    assert execute_main(defs, run_config=config).success
    assert s.read(sql)["created_at"].item() > created  # 0: drawn on every run


def test_the_main_job_leaves_a_published_next_round_as_it_is(tmp_path: Path) -> None:
    """The main job drafts the quarter after the processing date only while that round is not
    announced: once `renfang draw` published it, the run keeps the published round's row and
    every file of its folder byte for byte, says so, and checks the published plan again."""
    s = Setup(tmp_path)
    sql = "SELECT status, seed, plan_sha256, created_at FROM sampling_rounds"
    assert s.main().success
    published = s.draw("--round", "2026Q1", "--seed", "7")
    assert published.exit_code == 0, published.output
    row = s.read(sql).row(0)
    assert row[:2] == ("published", 7)

    def files() -> dict[Path, bytes]:
        return {p: p.read_bytes() for p in s.folder("2026Q1").rglob("*") if p.is_file()}

    before = files()
    assert s.folder("2026Q1") / "plan.json" in before
    again = s.main()
    assert again.success
    assert s.read(sql).rows() == [row]
    assert files() == before
    assert round_metadata(again, "unchanged") == "already published"
    (check,) = [c for c in again.get_asset_check_evaluations() if c.check_name == "plan_reproduces"]
    assert check.passed and "IDENTICAL" in str(check.metadata)


def test_a_default_draft_that_cannot_be_drawn_is_reported_not_a_failed_run(
    tmp_path: Path,
) -> None:
    """The main job's draft is optional: when the round cannot be drawn (here 40 inspectors
    per firm, more than the roster has), the run still succeeds and
    publishes everything else, no round is stored, and the summary warns 草案未生成 with the
    reason. The same round asked for by name fails loudly instead."""
    s = Setup(tmp_path)
    overrides = "{inspectors_per_firm: 40}"
    defs = build_defs(
        warehouse=Warehouse(path=str(s.warehouse), reports_dir=str(s.reports)),
        landing=Landing(path=str(s.landing), today=PROCESSING_DATE),
    )
    config = {"ops": {"sampling_round": {"config": {"overrides": overrides}}}}
    result = execute_main(defs, run_config=config)
    assert result.success
    reason = round_metadata(result, "draft_skipped")
    assert reason, "the shortfall is said"
    assert round_metadata(result, "unchanged") == "no draft"
    lines: list[str] = []
    print_run_summary(result, Warehouse(path=str(s.warehouse), reports_dir=str(s.reports)),
                      lines.append)  # fmt: skip
    assert f"警告 草案未生成 / WARNING no draft round: {reason}" in lines
    assert s.read("SELECT * FROM sampling_rounds").is_empty()
    assert not s.folder("2026Q1").exists()
    assert s.read("SELECT count(*) AS n FROM credit_scores")["n"].item() > 0  # the rest is live
    named = {"round_id": "2026Q1", "seed": 7, "overrides": overrides, "publish": True}
    asked = defs.resolve_job_def(ROUND_JOB).execute_in_process(
        raise_on_error=False, run_config={"ops": {"sampling_round": {"config": named}}}
    )
    assert not asked.success
    assert s.read("SELECT * FROM sampling_rounds").is_empty()


def test_a_back_dated_round_is_refused_unless_backdate_with_a_reason(setup: Setup) -> None:
    refused = setup.draw("--round", "2025-11", "--seed", "7")
    assert refused.exit_code == 2
    line = refused.output.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith("--round：检查期间自 2025-11-01 起，早于公布日期 2025-12-31")
    assert "--backdate --reason" in line
    no_reason = setup.draw("--round", "2025-11", "--seed", "7", "--backdate")
    assert no_reason.exit_code == 2 and no_reason.output.startswith("--reason：")
    assert setup.read("SELECT * FROM sampling_rounds WHERE round_id = '2025-11'").is_empty()
    done = setup.backdated  # the fixture's 2025Q4, drawn with --backdate --reason
    assert done is not None and done.exit_code == 0, done.output if done else None
    facts = setup.read("SELECT * FROM sampling_round_facts WHERE round_id = '2025Q4'")
    assert facts.row(0, named=True)["backdated"] is True
    log = (setup.root / "warehouse.audit.jsonl").read_text(encoding="utf-8")
    entry = [json.loads(line) for line in log.splitlines() if "2025Q4" in line][-1]
    assert "补录2025年第四季度纸质抽查" in json.dumps(entry, ensure_ascii=False)


def test_draw_publishes_reruns_identically_and_refuses_a_silent_redraw(setup: Setup) -> None:
    first, again = setup.first, setup.again  # drawn by the fixture, in this order
    assert first is not None and again is not None
    assert first.exit_code == 0, first.output
    plan = setup.plan_published
    assert f"plan file  {plan}" in first.output
    assert "seed 7" in first.output and "firms sha256" in first.output
    assert "inclusion probability by class" in first.output
    before = setup.first_plan
    assert again.exit_code == 0, again.output
    assert setup.again_plan == before
    other = setup.draw("--round", "2026Q2", "--seed", "8")
    assert other.exit_code == 1
    assert "已公布" in other.output and "--replace" in other.output
    assert plan.read_bytes() == before
    status = setup.read("SELECT status, seed FROM sampling_rounds WHERE round_id = '2026Q2'")
    assert status.rows() == [("published", 7)]
    folder = plan.parent
    assert not [p for p in folder.rglob("*") if "草案" in p.name]
    xlsx = folder / "抽查计划_2026Q2.xlsx"
    cells = _first_cells(xlsx).values()
    assert all(str(v).startswith("已公布（2025-12-31） / published 2025-12-31 · ") for v in cells)
    sheet = openpyxl.load_workbook(xlsx, read_only=True)["检查安排"]
    header = [cell.value for cell in next(iter(sheet.iter_rows(min_row=3, max_row=3)))]
    assert {"检查人员姓名", "所属单位", "执法证号", "统一社会信用代码", "监管类别"} <= set(header)
    assert len(list((folder / "calendars").glob("*.ics"))) >= 2
    assert list((folder / "检查记录").glob("检查记录_2026Q2_组*.xlsx"))
    # the notice period: nothing before 5 working days after publication
    document = json.loads(before)
    assert document["calendar"]["first_inspection_day"] >= "2026-04-01"


def test_the_plan_workbook_reads_as_a_chinese_office_expects(setup: Setup) -> None:
    """Title (with the draft mark) and issuer line, words instead of codes, and a 说明 sheet
    of readable rows (parameter, value, meaning) instead of one JSON string: the office, the
    notice period, each class's ratio and effective inclusion probability, the frequency
    limits."""
    plan = setup.first_draft
    book = openpyxl.load_workbook(plan / "抽查计划_2026Q1_草案.xlsx")
    assert book.sheetnames == ["说明", "检查安排", "分层抽取", "等级入选概率", "检查人员任务"]
    notes = book["说明"]
    title = "草案 — 未公布 / DRAFT — not published · 双随机抽查计划（2026Q1）：说明"
    assert notes["A1"].value == title
    assert notes["A2"].value.startswith("数据截至：2025-12-31　发布单位：")
    assert [c.value for c in notes[3]] == ["参数", "取值", "含义"]
    facts = {r[0]: r[1] for r in notes.iter_rows(min_row=4, values_only=True)}
    assert facts["对照组比例"] == "5.0%"  # a share, not a count
    assert facts["对照组单位"].endswith(" 家")
    assert facts["抽查比例：C 类"] == "30.0%"
    assert facts["实际入选概率：C 类"] == "30.00%"  # no minimum per stratum: the ratio itself
    assert facts["组织单位"] == "市级（全市）" and facts["提前告知期"] == "5 个工作日"
    assert facts["同一单位最短检查间隔"] == "180 天" and facts["同一单位每年最多检查"] == "2 次"
    assert facts["复核方法"] == "renfang verify-draw plan_草案.json"
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
    plan = setup.plan_published
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


def test_a_worse_public_credit_grade_sets_the_class_and_the_plan_says_why(setup: Setup) -> None:
    """FIRM_SUPERVISION is tier B on the credit score; its public credit composite grade 差 (D)
    makes it class D, drawn at D's ratio (1.0) in every round; the plan lists why. The A
    grade of FIRM_DESIGN, evaluated after the tiers' date, is not read (point in time)."""
    plan = json.loads((setup.folder("2026Q2") / "plan.json").read_bytes())
    classes = {c["uscc"]: c for c in plan["outputs"]["classes"]}
    assert classes[FIRM_SUPERVISION]["public_grade"] == "D"
    assert classes[FIRM_SUPERVISION]["tier"] == "D"
    assert classes[FIRM_SUPERVISION]["credit_tier"] != "D"
    assert FIRM_DESIGN not in classes
    published = setup.read(
        f"SELECT tier, is_control FROM sampling_draws WHERE round_id = '2026Q2' "
        f"AND uscc = '{FIRM_SUPERVISION}'"
    )
    assert published.rows() == [("D", False)]
    # the 2026Q1 draft as the first main job drew it (a later main run in this module may
    # draft it again on another date, when the firm is within its minimum interval)
    draft = json.loads((setup.first_draft / "plan_草案.json").read_bytes())
    drawn = [(d["tier"], d["is_control"]) for d in draft["outputs"]["draws"]
             if d["uscc"] == FIRM_SUPERVISION]  # fmt: skip
    assert drawn == [("D", False)]
    # 2025Q4's tiers are as of 2025-09-30: the grade, received on 2025-12-31, was not known
    back = json.loads((setup.folder("2025Q4") / "plan.json").read_bytes())
    assert FIRM_SUPERVISION not in {c["uscc"] for c in back["outputs"]["classes"]}
    sheet = openpyxl.load_workbook(setup.folder("2026Q2") / "抽查计划_2026Q2.xlsx")["检查安排"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    header, body = rows[0], rows[1:]
    row = next(r for r in body if r[header.index("统一社会信用代码")] == FIRM_SUPERVISION)
    assert row[header.index("公共信用综合评价")] == "D"
    assert str(row[header.index("监管类别")]).startswith("D")


def test_verify_draw_reproduces_a_plan_made_with_a_supplied_calendar(setup: Setup) -> None:
    calendar = setup.root / "calendar_2026.yaml"
    calendar.write_text(
        "source: 国务院办公厅关于2026年部分节假日安排的通知（测试）\n"
        "years: [2026]\n"
        "days_off: [2026-02-02, 2026-02-03]\n"
        "working_days: [2026-02-07]\n",
        encoding="utf-8",
    )
    bad = setup.root / "bad_calendar.yaml"
    bad.write_text("source: x\nyears: [2026]\ndays_off: [2027-01-01]\n", encoding="utf-8")
    refused = setup.draw("--round", "2026-02", "--seed", "3", "--calendar", str(bad))
    assert refused.exit_code == 2 and refused.output.startswith("--calendar：")
    done = setup.draw("--round", "2026-02", "--seed", "3", "--calendar", str(calendar))
    assert done.exit_code == 0, done.output
    plan = setup.folder("2026-02") / "plan.json"
    document = json.loads(plan.read_bytes())
    days = document["calendar"]["working_days"]
    assert "2026-02-02" not in days and "2026-02-07" in days
    assert document["calendar"]["supplied_years"] == [2026]
    verified = setup.cli("verify-draw", str(plan))  # no calendar file given: the plan has it
    assert verified.exit_code == 0, verified.output
    assert verified.output.strip().endswith("IDENTICAL")


def test_record_workbooks_come_back_as_outcomes_item_results_deadlines_and_scores(
    setup: Setup,
) -> None:
    """The back-dated 2025Q4 round's record workbooks, filled in as an inspector would and
    dropped into the landing folder, become its outcomes and item results; the round's
    feedback, public list (with the date), deadline list and the credit records follow."""
    folder = setup.folder("2025Q4") / "检查记录"
    books = sorted(folder.glob("检查记录_2025Q4_组*.xlsx"))
    assert books
    target = setup.landing / "inspection_records"
    target.mkdir()
    filled: dict[str, tuple[str, int]] = {}
    finder: str | None = None  # the first firm listed: its first item finds a problem
    rows = 0
    for book_path in books:
        book = openpyxl.load_workbook(book_path)
        sheet = book["检查记录"]
        assert "检查记录表" in str(sheet.cell(1, 1).value)
        header = [c.value for c in sheet[3]]  # the title, the issuer line, then the header
        assert header[0] == "序号" and book.sheetnames == ["检查记录", "说明"]
        validations = sheet.data_validations.dataValidation
        assert {v.type for v in validations} == {"list", "whole", "date"}  # drop-down, checks
        col = {name: header.index(name) + 1 for name in header}
        for r in range(4, sheet.max_row + 1):
            uscc = sheet.cell(r, col["统一社会信用代码"]).value
            finder = finder or uscc
            found = uscc == finder and uscc not in filled  # its first item only
            sheet.cell(r, col["检查结果"]).value = "发现问题" if found else "未发现问题"
            sheet.cell(r, col["问题数量"]).value = 2 if found else 0
            sheet.cell(r, col["检查日期"]).value = datetime(2025, 10, 15)
            if found:
                sheet.cell(r, col["后续文书号"]).value = "沪民防责改字〔2025〕99号"
            filled.setdefault(uscc, ("发现问题", 2) if found else ("未发现问题", 0))
            rows += 1
        book.save(target / book_path.name)
    assert setup.main().success
    drawn = setup.read("SELECT uscc FROM sampling_draws WHERE round_id = '2025Q4'")
    outcomes = setup.read(
        "SELECT uscc, result, problem_count, inspected_on FROM round_outcomes "
        "WHERE round_id = '2025Q4' ORDER BY uscc"
    )
    assert outcomes.height == drawn.height
    for uscc, result, problems, day in outcomes.iter_rows():
        assert (result, problems) == filled[uscc]
        assert day == date(2025, 10, 15)
    items = setup.read("SELECT count(*) n FROM inspection_records WHERE round_id = '2025Q4'")
    assert items.item() == rows  # one item result per row filled in
    results = setup.read(
        "SELECT sum(planned) p, sum(inspected) i FROM round_results WHERE round_id = '2025Q4'"
    )
    assert results.row(0) == (drawn.height, drawn.height)
    public = pl.read_csv(setup.folder("2025Q4") / "公示_2025Q4.csv")
    assert "检查人员编号" not in public.columns and "对照组" not in public.columns
    assert set(public.get_column("检查日期")) == {"2025-10-15"}
    assert set(public.get_column("组织单位")) == {"市级（全市）"}
    # a clean inspection is a credit record (inspection.clean, evidence: the inspection id)
    # and a reason of the firm's updated score, like any other inspection outcome
    clean = next(u for u, (result, _) in filled.items() if result == "未发现问题")
    doc = f"2025Q4-{clean}"
    records = setup.read(f"SELECT rule FROM credit_records WHERE evidence_doc_no = '{doc}'")
    assert records.get_column("rule").to_list() == ["inspection.clean"]
    reasons = setup.read(f"SELECT count(*) FROM score_reasons WHERE evidence_doc_no = '{doc}'")
    assert reasons.item() >= 1
    # received 2025-12-31, 20 working days after 2025-10-15 passed on 2025-11-12: late
    listed = setup.cli(
        "rounds", "--warehouse", str(setup.warehouse), "--deadlines", "--today", PROCESSING_DATE
    )
    assert listed.exit_code == 0, listed.output
    assert re.search(rf"2025Q4\s+{FIRM_SUPERVISION}.*deadline 2025-11-12.*逾期公示", listed.output)
    summary = setup.cli("rounds", "--warehouse", str(setup.warehouse), "--round", "2025Q4")
    assert summary.exit_code == 0, summary.output
    assert re.search(r"by-tier total\s+\d+\s+\d+\s+\d+", summary.output), summary.output


def test_the_round_job_takes_parameters_from_run_config(setup: Setup) -> None:
    """The Dagster `round` job as the UI launches it: run config names the round, the seed and
    overrides; a bad override fails with the field's name."""
    defs = build_defs(
        warehouse=Warehouse(path=str(setup.warehouse), reports_dir=str(setup.reports)),
        landing=Landing(path=str(setup.landing), today=PROCESSING_DATE),
    )
    job = defs.resolve_job_def(ROUND_JOB)

    def run(overrides: str):
        config = {"round_id": "2026-09", "seed": 3, "overrides": overrides}
        return job.execute_in_process(
            raise_on_error=False, run_config={"ops": {"sampling_round": {"config": config}}}
        )

    assert run("{control_share: 0.0, inspectors_per_firm: 3}").success
    row = setup.read("SELECT * FROM sampling_rounds WHERE round_id = '2026-09'").row(0, named=True)
    assert (row["window_start"], row["window_end"]) == (date(2026, 9, 1), date(2026, 9, 30))
    assert row["control"] == 0 and json.loads(row["parameters"])["inspectors_per_firm"] == 3
    teams = setup.read(
        "SELECT count(*) n FROM sampling_assignments WHERE round_id = '2026-09' GROUP BY uscc"
    )
    assert set(teams.get_column("n")) == {3}
    failed = run("{inspectors_per_firm: 1}")
    assert not failed.success
    assert any("inspectors_per_firm" in m for m in failure_messages(failed))
    backdated = job.execute_in_process(
        raise_on_error=False,
        run_config={"ops": {"sampling_round": {"config": {"round_id": "2025-11", "seed": 3}}}},
    )
    assert not backdated.success
    assert any("backdate" in m for m in failure_messages(backdated))


def test_a_joint_round_without_a_partners_inspectors_fails_naming_the_department(
    setup: Setup,
) -> None:
    result = setup.draw("--round", "2026Q4", "--seed", "5", "--partner", "市场监管局", "--draft")
    assert result.exit_code == 1
    assert "无合格的 市场监管局 检查人员" in result.output
    unknown = setup.draw("--round", "2026Q4", "--seed", "5", "--office", "朝阳区")
    assert unknown.exit_code == 2 and unknown.output.startswith("--office：")


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
            {"round_id": "2027-05", "seed": 1, "overrides": override},
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
    assert launch({"round_id": "2027-08", "seed": 2}, resources=moved).success
    assert (setup.reports / "rounds" / "2027-08" / "plan_草案.json").is_file()

    # A symlink planted in the reports folder is refused, never written or removed through.
    (setup.reports / "rounds" / "2027-07").symlink_to(sentinel / "2027Q1")
    elsewhere = tmp_path / "other_reports"
    elsewhere.mkdir()
    (elsewhere / "rounds").symlink_to(sentinel)
    for env, round_id in ({}, "2027-07"), ({"RENFANG_REPORTS": str(elsewhere)}, "2027-06"):
        result = CliRunner().invoke(
            app,
            ["draw", "--warehouse", str(setup.warehouse), "--today", PROCESSING_DATE,
             "--round", round_id, "--seed", "1"],
            env={**setup.env, **env},
        )  # fmt: skip
        assert result.exit_code == 1 and "outside its root" in result.output, result.output
    assert (setup.reports / "rounds" / "2027-07").is_symlink()
    assert tree(sentinel) == before
    after = setup.read("SELECT round_id FROM sampling_rounds")
    assert set(after.get_column("round_id")) == set(stored.get_column("round_id")) | {"2027-08"}


def test_ordering_by_risk_without_risk_scores_fails_clearly(setup: Setup) -> None:
    with Warehouse(path=str(setup.warehouse)).transaction() as con:
        con.execute("DROP TABLE IF EXISTS risk_scores")  # the main job no longer trains it
    result = setup.draw("--round", "2026Q3", "--seed", "1", "--order-by-risk", "--draft")
    assert result.exit_code == 1
    assert "order_by_risk" in result.output and "risk job" in result.output


def test_a_round_whose_files_cannot_be_written_is_not_stored(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The round's tables are written while its files are staged and committed only once the
    files are: when staging fails (here the disk fills up as the calendars are written), the
    round stored before — tables and folder — is left exactly as it was."""
    from warehouse import round_exports

    job = build_defs(
        warehouse=Warehouse(path=str(setup.warehouse), reports_dir=str(setup.reports)),
        landing=Landing(path=str(setup.landing), today=PROCESSING_DATE),
    ).resolve_job_def(ROUND_JOB)

    def draw(seed: int):
        config = {"round_id": "2026-11", "seed": seed}
        return job.execute_in_process(
            raise_on_error=False, run_config={"ops": {"sampling_round": {"config": config}}}
        )

    tables = ["sampling_rounds", "sampling_strata", "sampling_draws", "sampling_assignments",
              "sampling_round_facts", "sampling_tiers"]  # fmt: skip

    def stored() -> dict[str, pl.DataFrame]:
        return {
            t: setup.read(f"SELECT * FROM {t} WHERE round_id = '2026-11' ORDER BY ALL")
            for t in tables
        }

    assert draw(5).success
    before, files = stored(), tree(setup.folder("2026-11"))
    assert before["sampling_draws"].height and files

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(round_exports, "write_calendars", disk_full)
    failed = draw(6)
    assert not failed.success
    assert any("No space left on device" in m for m in failure_messages(failed))
    after = stored()
    assert all(after[t].equals(before[t]) for t in tables)
    assert tree(setup.folder("2026-11")) == files
