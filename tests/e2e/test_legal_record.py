"""Say about a firm only what the law allows, when it allows it — on a real warehouse.

One warehouse is built with `renfang run` (real Dagster instance, real DuckDB file) from the
fixture landing folder plus the documents of issue 14's scenarios, processing date
2025-12-31; the tests then act through the `renfang` command as the centre would and read
the files and pages people receive:

- FIRM_TESTING: two correction notices never rectified (veto from 2025-06-06); the first
  is revoked on objection on 2025-08-20 → the veto is lifted from that day.
- FIRM_REVIEW: a penalty in a veto category (2025-08-25) under an objection open since
  2025-09-10 → no veto rests on it meanwhile; the objection is overdue by 2025-12-31.
- FIRM_SUPERVISION: a penalty with 通报批评 and the circular announcing it → one deduction.
- FIRM_DESIGN: a penalty collected late (published late), a decision not to penalise
  (never published) and a penalty in a veto category → the listing procedure, end to end.
- FIRM_EQUIPMENT: a penalty revoked on objection, known to the centre months later → its
  withdrawal from the feed is flagged late.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from fixtures.cli import renfang
from fixtures.landing import (
    FIRM_DESIGN,
    FIRM_EQUIPMENT,
    FIRM_REVIEW,
    FIRM_SUPERVISION,
    FIRM_TESTING,
    write_fixture_landing,
)
from openpyxl import load_workbook

from warehouse.connection import PROJECT_ROOT
from warehouse.connection import query as query_frame
from warehouse.listing import listings_on

pytestmark = pytest.mark.slow

PENALTY_HEADER = [
    "决定书文号", "统一社会信用代码", "当事人名称", "决定日期", "违法行为类别", "处罚种类",
    "罚款金额（元）", "处罚机关", "状态", "归集日期",
]  # fmt: skip
AUTHORITY = "上海市国防动员办公室"
P_REVIEW = "沪国动罚〔2025〕21号"  # FIRM_REVIEW, veto category, disputed
P_ANNOUNCED = "沪国动罚〔2025〕22号"  # FIRM_SUPERVISION, 通报批评, with its circular
P_LATE = "沪国动罚〔2025〕23号"  # FIRM_DESIGN, collected 5 weeks after the decision
P_NOT_PENALISED = "沪国动罚〔2025〕24号"  # FIRM_DESIGN, 不予处罚
P_VETO = "沪国动罚〔2025〕25号"  # FIRM_DESIGN, veto category → listing
P_REVOKED = "沪国动罚〔2025〕26号"  # FIRM_EQUIPMENT, revoked on objection
CIRCULAR = "沪国动通〔2025〕3号"
N1, N2 = "沪民防改〔2025〕第11号", "沪民防改〔2025〕第12号"


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def write_scenario(root: Path) -> Path:
    landing = write_fixture_landing(root / "landing")
    (landing / "penalty_decisions" / "2025.csv").write_text(
        _csv([
            PENALTY_HEADER,
            [P_REVIEW, FIRM_REVIEW, "静安审图", "2025-08-25", "伪造检测报告或生产记录", "罚款", "20000", AUTHORITY, "有效", "2025-08-26"],
            [P_ANNOUNCED, FIRM_SUPERVISION, "黄浦监理", "2025-03-03", "监理未履行职责", "警告、通报批评", "", AUTHORITY, "有效", "2025-03-05"],
            [P_LATE, FIRM_DESIGN, "申防设计", "2025-04-01", "其他违反人防法规行为", "罚款", "5000", AUTHORITY, "有效", "2025-05-06"],
            [P_NOT_PENALISED, FIRM_DESIGN, "申防设计", "2025-06-01", "其他违反人防法规行为", "不予处罚", "", AUTHORITY, "有效", "2025-06-02"],
            [P_VETO, FIRM_DESIGN, "申防设计", "2025-10-15", "提供虚假材料取得资质", "罚款", "30000", AUTHORITY, "有效", "2025-10-16"],
            [P_REVOKED, FIRM_EQUIPMENT, "徐汇设备", "2025-05-12", "防护设备安装不符合要求", "罚款", "20000", AUTHORITY, "有效", "2025-05-13"],
        ]),
        encoding="utf-8",
    )  # fmt: skip
    (landing / "correction_notices" / "逾期.csv").write_text(
        _csv([
            ["通知书文号", "统一社会信用代码", "下达日期", "整改期限", "问题类别", "整改完成日期", "下达机关", "归集日期"],
            [N1, FIRM_TESTING, "2025-01-10", "2025-02-10", "防护设备安装不符合要求", "", AUTHORITY, "2025-01-10"],
            [N2, FIRM_TESTING, "2025-05-05", "2025-06-05", "监理未履行职责", "", AUTHORITY, "2025-05-05"],
        ]),
        encoding="utf-8",
    )  # fmt: skip
    (landing / "circulars" / "2025.csv").write_text(
        _csv([
            ["通报文号", "统一社会信用代码", "通报日期", "通报类型", "级别", "通报机关", "归集日期"],
            [CIRCULAR, FIRM_SUPERVISION, "2025-03-10", "批评", "市", AUTHORITY, "2025-03-10"],
        ]),
        encoding="utf-8",
    )  # fmt: skip
    (landing / "credit_cases" / "2025.csv").write_text(
        _csv([
            ["案件编号", "统一社会信用代码", "类型", "涉及文书号", "申请日期", "决定日期", "决定"],
            ["YY-1", FIRM_TESTING, "异议", N1, "2025-08-20", "2025-08-20", "撤销"],
            ["YY-2", FIRM_REVIEW, "异议", P_REVIEW, "2025-09-10", "", ""],
            ["YY-3", FIRM_EQUIPMENT, "异议", P_REVOKED, "2025-06-20", "2025-07-01", "撤销"],
        ]),
        encoding="utf-8",
    )  # fmt: skip
    return landing


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("legal")
    landing = write_scenario(root)
    renfang("run", "--landing", str(landing), root=root)
    return root


def sql(root: Path, query: str, params: list[object] | None = None) -> pl.DataFrame:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        return query_frame(con, query, params or [])


def tier(root: Path, uscc: str, day: str) -> tuple[str, float, bool]:
    row = sql(
        root, "SELECT tier, score, veto FROM credit_scores WHERE uscc = ? AND as_of = ?",
        [uscc, date.fromisoformat(day)],
    ).row(0)  # fmt: skip
    return row[0], row[1], row[2]


# --- 5. every deduction defensible ------------------------------------------------------------


def test_revoking_the_first_of_two_overdue_notices_lifts_the_veto_from_that_day(built: Path):
    assert tier(built, FIRM_TESTING, "2025-07-31") == ("D", 50.0, True)
    renfang("score", "--as-of", "2025-08-19", root=built)
    renfang("score", "--as-of", "2025-08-20", root=built)
    assert tier(built, FIRM_TESTING, "2025-08-19") == ("D", 50.0, True)
    # the veto rested on both notices: revoking the first lifts it from the decision day
    assert tier(built, FIRM_TESTING, "2025-08-20") == ("C", 60.0, False)
    assert tier(built, FIRM_TESTING, "2025-08-31") == ("C", 60.0, False)
    lost = sql(
        built,
        "SELECT status, status_from, ground_doc_no FROM credit_record_status "
        "WHERE record_id = ? AND status = 'grounds_lost'",
        [f"correction_notices:{N2}:{FIRM_TESTING}:veto"],
    )
    assert lost.rows() == [("grounds_lost", date(2025, 8, 20), N1)]


def test_an_open_objection_blocks_a_veto_that_rests_only_on_the_disputed_record(built: Path):
    assert tier(built, FIRM_REVIEW, "2025-08-31") == ("D", 60.0, True)
    # disputed since 2025-09-10: the record keeps its points, the veto does not rest on it
    assert tier(built, FIRM_REVIEW, "2025-09-30") == ("C", 60.0, False)
    assert tier(built, FIRM_REVIEW, "2025-12-31") == ("C", 60.0, False)
    reasons = sql(
        built,
        "SELECT record_id, status, points FROM score_reasons WHERE uscc = ? AND as_of = ?",
        [FIRM_REVIEW, date(2025, 12, 31)],
    )
    assert reasons.rows() == [(f"penalty_decisions:{P_REVIEW}:{FIRM_REVIEW}", "disputed", -10.0)]
    # the objection's clock: filed 2025-09-10, 20 days → due 2025-09-30, overdue by 2025-12-31
    deadline = sql(built, "SELECT deadline, state, days_overdue FROM objection_deadlines "
                   "WHERE case_id = 'YY-2'")  # fmt: skip
    assert deadline.rows() == [(date(2025, 9, 30), "overdue", 92)]
    listed = renfang("objections", root=built)
    assert "YY-2" in listed.stdout and "已超期" in listed.stdout and "YY-1" not in listed.stdout


def test_a_penalty_and_the_circular_announcing_it_deduct_once(built: Path):
    assert tier(built, FIRM_SUPERVISION, "2025-03-31") == ("B", 65.0, False)
    reasons = sql(
        built, "SELECT evidence_doc_no, points FROM score_reasons WHERE uscc = ? AND as_of = ?",
        [FIRM_SUPERVISION, date(2025, 3, 31)],
    )  # fmt: skip
    assert reasons.rows() == [(P_ANNOUNCED, -5.0)]
    link = sql(
        built,
        "SELECT status, status_from, ground_doc_no FROM credit_record_status WHERE record_id = ?",
        [f"circulars:{CIRCULAR}:{FIRM_SUPERVISION}"],
    )
    assert link.rows() == [("same_fact", date(2025, 3, 5), P_ANNOUNCED)]


def test_a_decision_not_to_penalise_is_no_record_and_never_published(built: Path):
    records = sql(built, "SELECT count(*) AS n FROM credit_records WHERE evidence_doc_no = ?",
                  [P_NOT_PENALISED])  # fmt: skip
    published = sql(built, "SELECT count(*) AS n FROM penalty_disclosures WHERE doc_no = ?",
                    [P_NOT_PENALISED])  # fmt: skip
    assert records["n"][0] == 0 and published["n"][0] == 0


# --- 4. the penalty feed ----------------------------------------------------------------------


def feed(root: Path, day: str) -> dict[str, dict[str, str]]:
    out = root / f"feed_{day}.csv"
    renfang("export", "penalty-feed", "--as-of", day, "--out", str(out), root=root)
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    return {r["行政处罚决定书文号"]: r for r in rows}


def test_the_penalty_feed_as_of_three_dates_flags_late_and_withdrawn_decisions(built: Path):
    march = feed(built, "2025-03-31")
    assert {d: r["公示状态"] for d, r in march.items() if r["公示状态"] == "公示中"} == {
        P_ANNOUNCED: "公示中"
    }
    assert march[P_ANNOUNCED]["逾期公示"] == "否"
    assert march[P_ANNOUNCED]["罚款金额（万元）"] == ""
    june = feed(built, "2025-06-30")
    assert june[P_ANNOUNCED]["公示状态"] == "公示中"
    assert june[P_LATE]["公示状态"] == "公示中"
    assert (june[P_LATE]["逾期公示"], june[P_LATE]["应公示截止日（7个工作日）"]) == (
        "是", "2025-04-11",
    )  # fmt: skip
    assert june[P_REVOKED]["公示状态"] == "异议期间暂停公示"  # open objection: not published
    assert P_NOT_PENALISED not in june
    december = feed(built, "2025-12-31")
    assert december[P_ANNOUNCED]["公示状态"] == "公示期满已下线"
    assert december[P_ANNOUNCED]["下线或撤回日期"] == "2025-09-03"
    assert december[P_LATE]["公示状态"] == "公示期满已下线"
    revoked = december[P_REVOKED]
    assert revoked["公示状态"] == "已撤销，已撤回公示"
    assert (revoked["撤销日期"], revoked["应撤回截止日（3个工作日）"]) == (
        "2025-07-01",
        "2025-07-04",
    )
    # the centre learned of the revocation with this run: withdrawn late, and flagged
    assert (revoked["下线或撤回日期"], revoked["逾期撤回"]) == ("2025-12-31", "是")
    assert december[P_VETO]["公示状态"] == "公示中"
    # the public file holds the national fields of the public ones only
    public = built / "reports" / "disclosure_2025-12-31" / "penalties.csv"
    rows = list(csv.DictReader(public.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["行政处罚决定书文号"] for r in rows] == [P_VETO]
    assert rows[0]["罚款金额（万元）"] == "3.0" and rows[0]["统一社会信用代码"] == FIRM_DESIGN
    entries = (built / "warehouse.audit.jsonl").read_text(encoding="utf-8")
    assert '"penalty_feed"' in entries


def _report(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))


def test_a_months_whole_report_and_its_daily_change_reports_give_every_days_feed(
    built: Path, tmp_path: Path
):
    """The first report and a month's first are the whole feed; the other days' reports
    hold only the rows that changed since the last report (a second run on one day replaces
    that day's); the whole report with the changes applied is the feed `renfang export
    penalty-feed` gives for the day, row for row."""
    assert (built / "reports" / "penalty_feed_2025-12-31.csv").exists()  # the first report
    for name in ("warehouse.duckdb", "warehouse.audit.jsonl"):
        shutil.copy(built / name, tmp_path / name)
    for name in ("archive", "landing", "reports"):
        shutil.copytree(built / name, tmp_path / name)
    landing = tmp_path / "landing" / "penalty_decisions"
    reports = tmp_path / "reports"

    def day_file(name: str, doc_no: str, decided: str, collected: str | None = None) -> None:
        (landing / name).write_text(_csv([
            PENALTY_HEADER,
            [doc_no, FIRM_TESTING, "宝山检测", decided, "其他违反人防法规行为", "罚款", "3000",
             AUTHORITY, "有效", collected or decided],
        ]), encoding="utf-8")  # fmt: skip

    renfang("run", "--landing", str(tmp_path / "landing"), "--today", "2026-01-05", root=tmp_path)
    whole = _report(reports / "penalty_feed_2026-01-05.csv")  # a new month: the whole feed
    assert not (reports / "penalty_feed_changes_2026-01-05.csv").exists()
    day_file("0106.csv", "沪国动罚〔2026〕1号", "2026-01-06")
    renfang("run", "--landing", str(tmp_path / "landing"), "--today", "2026-01-07", root=tmp_path)
    first = _report(reports / "penalty_feed_changes_2026-01-07.csv")
    assert [(r["变更类型"], r["行政处罚决定书文号"], r["对比报告日期"]) for r in first] == [
        ("新增", "沪国动罚〔2026〕1号", "2026-01-05")
    ]
    assert not (reports / "penalty_feed_2026-01-07.csv").exists()
    day_file("0107.csv", "沪国动罚〔2026〕2号", "2026-01-07")  # a second run that day
    # received today, collected (归集) in November: public since then by today's warehouse,
    # in no report yet, so in this one
    day_file("late.csv", "沪国动罚〔2025〕31号", "2025-11-03", collected="2025-11-04")
    renfang("run", "--landing", str(tmp_path / "landing"), "--today", "2026-01-07", root=tmp_path)
    changes = _report(reports / "penalty_feed_changes_2026-01-07.csv")
    assert sorted((r["变更类型"], r["行政处罚决定书文号"]) for r in changes) == [
        ("新增", "沪国动罚〔2025〕31号"), ("新增", "沪国动罚〔2026〕1号"),
        ("新增", "沪国动罚〔2026〕2号"),
    ]  # fmt: skip
    key = ("行政处罚决定书文号", "版本")
    applied = {tuple(r[k] for k in key): r for r in whole}
    for row in changes:
        change = row.pop("变更类型")
        row.pop("对比报告日期")
        if change == "移除":
            del applied[tuple(row[k] for k in key)]
        else:
            applied[tuple(row[k] for k in key)] = row
    exported = tmp_path / "feed.csv"
    renfang("export", "penalty-feed", "--as-of", "2026-01-07", "--out", str(exported),
            root=tmp_path)  # fmt: skip
    expected = {tuple(r[k] for k in key): r for r in _report(exported)}
    assert applied == expected
    log = (tmp_path / "warehouse.audit.jsonl").read_text(encoding="utf-8").splitlines()
    feeds = [e["detail"] for e in map(json.loads, log) if e["action"] == "penalty_feed"]
    assert feeds[-1]["changes"]["published"] == ["沪国动罚〔2025〕31号", "沪国动罚〔2026〕1号",
                                                 "沪国动罚〔2026〕2号"]  # fmt: skip
    assert [(f["as_of"], f["since"], f["report"]) for f in feeds[-3:]] == [
        ("2026-01-05", "2025-12-31", "whole_feed"),
        ("2026-01-07", "2026-01-05", "feed_changes"),
        ("2026-01-07", "2026-01-05", "feed_changes"),
    ]


# --- 2. the listing procedure and 1. what is public ------------------------------------------


@pytest.fixture(scope="module")
def listing_walk(built: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """The listing procedure walked once through the CLI, in its order (a module fixture, so
    the tests that read the listed firm do not depend on the order tests run in): a refused
    proposal on a disputed record, then notice, an early decision, statement, decision,
    publication, a refused early repair and a removal, with the public feed exported while
    listed and after."""
    walk: dict[str, subprocess.CompletedProcess[str]] = {}
    walk["blocked"] = renfang("listing", "propose", "--uscc", FIRM_REVIEW, "--grounds",
                              "伪造检测报告", "--evidence", P_REVIEW, "--on", "2025-11-01",
                              root=built, check=False)  # fmt: skip
    walk["proposed"] = renfang("listing", "propose", "--uscc", FIRM_DESIGN, "--on", "2025-11-01",
                               root=built)  # fmt: skip
    case = walk["proposed"].stdout.split()[3]
    walk["notice"] = renfang("listing", "notice", case, "--on", "2025-11-03", root=built)
    walk["early"] = renfang("listing", "decide", case, "--on", "2025-11-05", root=built,
                            check=False)  # fmt: skip
    renfang(
        "listing", "statement", case, "--text", "对事实无异议", "--on", "2025-11-07", root=built
    )
    walk["decision"] = renfang("listing", "decide", case, "--on", "2025-11-12", root=built)
    renfang("listing", "publish", case, "--on", "2025-11-13", root=built)
    renfang("export", "disclosure", "--as-of", "2025-11-30", "--out", str(built / "nov"),
            root=built)  # fmt: skip
    walk["early_repair"] = renfang("listing", "remove", case, "--reason", "信用修复", "--repair",
                                   "--on", "2025-12-15", root=built, check=False)  # fmt: skip
    renfang("listing", "remove", case, "--reason", "复议决定撤销列入决定", "--on", "2025-12-15",
            root=built)  # fmt: skip
    renfang("export", "disclosure", "--as-of", "2025-12-31", "--out", str(built / "dec"),
            root=built)  # fmt: skip
    return walk


def test_a_listing_case_walks_notice_statement_decision_publication_removal(
    built: Path, listing_walk: dict[str, subprocess.CompletedProcess[str]]
):
    blocked = listing_walk["blocked"]
    assert (
        blocked.returncode == 2 and "异议未决" in blocked.stderr
    )  # no listing on a disputed record
    case = listing_walk["proposed"].stdout.split()[3]
    assert case == "SX2025-001"
    notice = listing_walk["notice"].stdout
    assert "人防信用告〔2025〕1号" in notice and "2025-11-10" in notice
    early = listing_walk["early"]
    assert early.returncode == 2 and "Traceback" not in early.stderr
    decision = listing_walk["decision"].stdout
    assert "人防信用决〔2025〕1号" in decision and "2028-11-11" in decision

    documents = built / "reports" / "listings" / case
    notice_text = (documents / "人防信用告〔2025〕1号.txt").read_text(encoding="utf-8")
    assert P_VETO in notice_text and "2025-11-10" in notice_text and "陈述" in notice_text
    decision_text = (documents / "人防信用决〔2025〕1号.txt").read_text(encoding="utf-8")
    assert "对事实无异议" in decision_text and "2028-11-11" in decision_text

    listed = list(csv.DictReader(
        (built / "nov" / "serious_dishonesty.csv").read_text(encoding="utf-8-sig").splitlines()
    ))  # fmt: skip
    assert [(r["uscc"], r["decision_doc_no"]) for r in listed] == [
        (FIRM_DESIGN, "人防信用决〔2025〕1号")
    ]
    assert listing_walk["early_repair"].returncode == 2  # a repair needs 12 months on the list
    after = (built / "dec" / "serious_dishonesty.csv").read_text(encoding="utf-8-sig")
    assert FIRM_DESIGN not in after
    steps = sql(built, "SELECT step, step_on, doc_no FROM listing_events WHERE case_id = ? "
                "ORDER BY seq", [case])  # fmt: skip
    assert [s for s, _, _ in steps.rows()] == [
        "proposed", "notice", "statement", "decision", "published", "removed",
    ]  # fmt: skip
    entries = [json.loads(line) for line in (built / "warehouse.audit.jsonl").open()]
    acts = [e["detail"]["step"] for e in entries if e["action"] == "listing"]
    assert acts == ["proposed", "notice", "statement", "decision", "published", "removed"]
    listing = renfang("listing", "list", "--all", "--on", "2025-12-31", root=built).stdout
    assert case in listing and "removed" in listing


def decided_listings(root: Path, day: str) -> set[str]:
    """Firms on the 严重失信主体名单 at the end of `day`, from the procedure's own record."""
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        return set(listings_on(con, date.fromisoformat(day))["uscc"].to_list())


def public_rows(path: Path) -> list[list[str]]:
    """Every row of every CSV and XLSX file under `path` (headers included), as text."""
    rows: list[list[str]] = []
    for file in [path] if path.is_file() else sorted(path.rglob("*")):
        if file.suffix == ".csv":
            rows += list(csv.reader(file.read_text(encoding="utf-8-sig").splitlines()))
        elif file.suffix == ".xlsx":
            book = load_workbook(file, read_only=True)
            for sheet in book.worksheets:
                rows += [
                    [str(c) for c in r if c is not None] for r in sheet.iter_rows(values_only=True)
                ]
    return rows


@pytest.mark.parametrize("day", ["2025-07-31", "2025-11-30", "2025-12-31"])
def test_no_public_file_or_page_calls_a_firm_seriously_dishonest_without_a_listing(
    built: Path, listing_walk: object, day: str
):
    out = built / f"public_{day}"
    renfang("export", "disclosure", "--as-of", day, "--out", str(out / "feed"), root=built)
    renfang("export", "tier-list", "--as-of", day, "--out", str(out / "tiers.xlsx"), root=built)
    directory = set(sql(built, "SELECT uscc FROM firms")["uscc"].to_list())
    listed = decided_listings(built, day)
    if day == "2025-11-30":  # the listing walk (fixture) published one that month
        assert listed == {FIRM_DESIGN}
    listed_file = out / "feed" / "serious_dishonesty.csv"
    on_the_list = {r[0] for r in public_rows(listed_file)[1:]}
    assert on_the_list <= listed
    for row in public_rows(out):
        firms = {cell for cell in row if cell in directory}
        if any("严重失信" in cell for cell in row):
            assert firms <= on_the_list, row  # only headers, legends and the legal list name it
    # a firm in D by its score alone is just that: a risk class
    labels = [r for r in public_rows(out / "tiers.xlsx") if FIRM_TESTING in r]
    if day == "2025-07-31":
        assert labels and "信用风险高" in labels[0] and "否" in labels[0]


def test_the_public_pages_name_only_decided_listings(
    built: Path, listing_walk: object, monkeypatch: pytest.MonkeyPatch
):
    from streamlit.testing.v1 import AppTest

    from dashboards.auth import User

    monkeypatch.setenv("RENFANG_WAREHOUSE", str(built / "warehouse.duckdb"))
    monkeypatch.setenv("RENFANG_REPORTS", str(built / "reports"))
    monkeypatch.setenv("RENFANG_DEMO_USERS", "1")  # the shipped users: a local test
    app = PROJECT_ROOT / "dashboards" / "streamlit_app.py"
    at = AppTest.from_file(str(app), default_timeout=30)
    at.session_state["user"] = User(username="public", name="public", role="public")
    at.session_state["lang"] = "zh"
    at.run()
    at.switch_page("views/public_lists.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.date_input[0].set_value(date(2025, 11, 30)).run()
    listed = decided_listings(built, "2025-11-30")
    frames = [df.value for df in at.dataframe]
    shown = {u for frame in frames for u in frame.get("统一社会信用代码", [])}
    assert listed <= shown  # the decided listing is public …
    assert FIRM_TESTING not in shown and FIRM_REVIEW not in shown  # … a score never is
    at.switch_page("views/tier_list.py").run()
    assert not at.exception, [e.value for e in at.exception]
    cells = [str(v) for df in at.dataframe for col in df.value.columns for v in df.value[col]]
    assert not any("严重失信" in c for c in cells)
    assert FIRM_TESTING not in cells  # the public audience receives the A list only
