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
    FIRM_EQUIPMENT,
    FIRM_SUPERVISION,
    PROCESSING_DATE,
    write_fixture_landing,
)
from typer.testing import CliRunner

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
    s = Setup(tmp_path_factory.mktemp("rounds"))
    assert s.main().success
    return s


def _first_cells(xlsx: Path) -> dict[str, object]:
    book = openpyxl.load_workbook(xlsx, read_only=True)
    return {
        name: next(book[name].iter_rows(max_row=1, values_only=True))[0] for name in book.sheetnames
    }


def test_the_main_job_drafts_the_next_quarter_marked_as_a_draft_everywhere(setup: Setup) -> None:
    rounds = setup.read("SELECT * FROM sampling_rounds")
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
        assert set(_first_cells(xlsx).values()) == {"草案 — 未公布 / DRAFT — not published"}
    for csv in folder.glob("*.csv"):
        assert csv.read_text(encoding="utf-8-sig").startswith("草案 — 未公布")
    ics = next((folder / "calendars").glob("*.ics")).read_text(encoding="utf-8")
    assert "【草案】" in ics and "TRANSP:OPAQUE" in ics and "TRANSPARENT" not in ics
    teams = setup.read("SELECT uscc, count(*) n FROM sampling_assignments GROUP BY uscc")
    assert set(teams.get_column("n")) <= {2}
    result = setup.cli("verify-draw", str(plan))
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("IDENTICAL")


def test_a_back_dated_round_is_refused_unless_backdate_with_a_reason(setup: Setup) -> None:
    refused = setup.draw("--round", "2025Q4", "--seed", "7")
    assert refused.exit_code == 2
    line = refused.output.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith("--round：检查期间自 2025-10-01 起，早于公布日期 2025-12-31")
    assert "--backdate --reason" in line
    no_reason = setup.draw("--round", "2025Q4", "--seed", "7", "--backdate")
    assert no_reason.exit_code == 2 and no_reason.output.startswith("--reason：")
    assert setup.read("SELECT * FROM sampling_rounds WHERE round_id = '2025Q4'").is_empty()
    done = setup.draw(
        "--round", "2025Q4", "--seed", "7", "--backdate", "--reason", "补录2025年第四季度纸质抽查"
    )
    assert done.exit_code == 0, done.output
    facts = setup.read("SELECT * FROM sampling_round_facts WHERE round_id = '2025Q4'")
    assert facts.row(0, named=True)["backdated"] is True
    log = (setup.root / "warehouse.audit.jsonl").read_text(encoding="utf-8")
    entry = [json.loads(line) for line in log.splitlines() if "2025Q4" in line][-1]
    assert "补录2025年第四季度纸质抽查" in json.dumps(entry, ensure_ascii=False)


def test_draw_publishes_reruns_identically_and_refuses_a_silent_redraw(setup: Setup) -> None:
    first = setup.draw("--round", "2026Q2", "--seed", "7")
    assert first.exit_code == 0, first.output
    plan = setup.folder("2026Q2") / "plan.json"
    assert f"plan file  {plan}" in first.output
    assert "seed 7" in first.output and "firms sha256" in first.output
    assert "inclusion probability by class" in first.output
    before = plan.read_bytes()
    again = setup.draw("--round", "2026Q2", "--seed", "7")  # idempotent: same plan, same bytes
    assert again.exit_code == 0, again.output
    assert plan.read_bytes() == before
    other = setup.draw("--round", "2026Q2", "--seed", "8")
    assert other.exit_code == 1
    assert "已公布" in other.output and "--replace" in other.output
    assert plan.read_bytes() == before
    status = setup.read("SELECT status, seed FROM sampling_rounds WHERE round_id = '2026Q2'")
    assert status.rows() == [("published", 7)]
    folder = plan.parent
    assert not [p for p in folder.rglob("*") if "草案" in p.name]
    xlsx = folder / "抽查计划_2026Q2.xlsx"
    assert set(_first_cells(xlsx).values()) == {"已公布（2025-12-31） / published 2025-12-31"}
    sheet = openpyxl.load_workbook(xlsx, read_only=True)["检查安排"]
    header = [cell.value for cell in next(iter(sheet.iter_rows(min_row=2, max_row=2)))]
    assert {"检查人员姓名", "所属单位", "执法证号", "统一社会信用代码", "监管类别"} <= set(header)
    assert len(list((folder / "calendars").glob("*.ics"))) >= 2
    assert list((folder / "检查记录").glob("检查记录_2026Q2_组*.xlsx"))
    # the notice period: nothing before 5 working days after publication
    document = json.loads(before)
    assert document["calendar"]["first_inspection_day"] >= "2026-04-01"


def test_verify_draw_names_a_tampered_plan_and_a_different_input_file(setup: Setup) -> None:
    plan = setup.folder("2026Q2") / "plan.json"
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
    for round_id in ("2026Q1", "2026Q2"):
        drawn = setup.read(
            f"SELECT tier, is_control FROM sampling_draws WHERE round_id = '{round_id}' "
            f"AND uscc = '{FIRM_SUPERVISION}'"
        )
        assert drawn.rows() == [("D", False)], round_id
    # 2025Q4's tiers are as of 2025-09-30: the grade, received on 2025-12-31, was not known
    back = json.loads((setup.folder("2025Q4") / "plan.json").read_bytes())
    assert FIRM_SUPERVISION not in {c["uscc"] for c in back["outputs"]["classes"]}
    sheet = openpyxl.load_workbook(setup.folder("2026Q2") / "抽查计划_2026Q2.xlsx")["检查安排"]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
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
    rows = 0
    for book_path in books:
        book = openpyxl.load_workbook(book_path)
        sheet = book["检查记录"]
        assert "检查记录表" in str(sheet.cell(1, 1).value)
        header = [c.value for c in sheet[2]]
        validations = sheet.data_validations.dataValidation
        assert any(v.type == "list" for v in validations)  # the result is a drop-down
        col = {name: header.index(name) + 1 for name in header}
        for r in range(3, sheet.max_row + 1):
            uscc = sheet.cell(r, col["统一社会信用代码"]).value
            found = uscc == FIRM_EQUIPMENT and uscc not in filled  # its first item only
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
    if FIRM_EQUIPMENT in filled:
        records = setup.read(
            f"SELECT * FROM credit_records WHERE evidence_doc_no = '2025Q4-{FIRM_EQUIPMENT}'"
        )
        assert records.height >= 1  # scored like any other inspection outcome
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


def test_ordering_by_risk_without_risk_scores_fails_clearly(setup: Setup) -> None:
    with Warehouse(path=str(setup.warehouse)).transaction() as con:
        con.execute("DELETE FROM risk_scores")
    result = setup.draw("--round", "2026Q3", "--seed", "1", "--order-by-risk", "--draft")
    assert result.exit_code == 1
    assert "order_by_risk" in result.output and "risk job" in result.output
