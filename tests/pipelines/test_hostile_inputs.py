"""Hostile inputs: every broken export regulators produce, in one landing folder.

Each case is a file added to the fixture landing folder with the outcome it must have: the
whole file rejected with a named problem, or every row accepted, collapsed or quarantined with
a specific reason. One run of the real main job ingests them all; the tests read the
warehouse's ingestion log and quarantine. Never a crash, counts always conserved, and a file
that changes between runs replaces its rows instead of adding to them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import xlsxwriter
from fixtures.landing import (
    FIRM_DESIGN,
    FIRM_EQUIPMENT,
    FIRM_SUPERVISION,
    NOT_IN_DIRECTORY,
    PENALTY_HEADER,
    PROCESSING_DATE,
    write_fixture_landing,
)
from icalendar import Calendar

from pipelines.definitions import build_defs, execute_main
from pipelines.resources import Landing, Warehouse
from warehouse.connection import query
from warehouse.publication import TIER_LIST_FILE

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

OK = "accepted"
COLLAPSED = "collapsed"
PENALTY = "penalty_decisions"
NOTICE_HEADER = ["通知书文号", "统一社会信用代码", "下达日期", "整改期限", "问题类别"]
CIRCULAR_HEADER = ["通报文号", "统一社会信用代码", "通报日期", "通报类型", "级别"]


def penalty(doc: str, uscc: str = FIRM_DESIGN, day: str = "2024-03-05", fine: str = "5000",
            kind: str = "罚款", name: str = "某公司") -> list[str]:  # fmt: skip
    return [doc, uscc, name, day, "其他违反人防法规行为", kind, fine, "普通",
            "上海市国防动员办公室", "有效", ""]  # fmt: skip


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def xlsx_bytes(rows: list[list[object]], merge_title: int | None = None) -> bytes:
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer, {"in_memory": True}) as book:
        book.set_properties({"created": datetime(2025, 1, 1)})
        sheet = book.add_worksheet()
        start = 0
        if merge_title is not None:
            sheet.merge_range(0, 0, 0, merge_title, "2024年度行政处罚决定汇总表")
            start = 1
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r + start, c, value)
    return buffer.getvalue()


@dataclass
class Case:
    """A hostile file: where it goes, its bytes, and what must become of it.

    `rows` maps spreadsheet row numbers to OK, COLLAPSED or a quarantine reason code;
    `file_problem` is set when the whole file must be rejected.
    """

    name: str
    source: str
    filename: str
    data: bytes
    rows: dict[int, str] = field(default_factory=dict)
    file_problem: str | None = None
    status: str = "ok"


def _cases() -> list[Case]:
    header = csv_text([PENALTY_HEADER])
    return [
        Case("gbk encoding", PENALTY, "gbk.csv",
             csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕101号")]).encode("gbk"), {2: OK}),
        Case("gb18030 rare characters", PENALTY, "gb18030.csv",
             csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕102号")]).replace(
                 "某公司", "𠀀某公司").encode("gb18030"), {2: OK}),
        Case("utf-16 with BOM", PENALTY, "utf16.csv",
             csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕103号")]).encode("utf-16"), {2: OK}),
        Case("utf-8 BOM", PENALTY, "bom.csv",
             ("\ufeff" + csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕104号")])).encode(), {2: OK}),
        Case("two title rows", PENALTY, "titles.csv",
             csv_text([["上海市国防动员办公室"], ["2024年度行政处罚决定汇总表"], PENALTY_HEADER,
                       penalty("沪罚〔2024〕105号")]).encode(), {4: OK}),
        Case("merged title cells in xlsx", PENALTY, "merged.xlsx",
             xlsx_bytes([PENALTY_HEADER, penalty("沪罚〔2024〕106号")], merge_title=10), {3: OK}),
        Case("missing required column", PENALTY, "missing_column.csv",
             csv_text([["决定书文号", "决定日期"], ["沪罚〔2024〕107号", "2024-03-05"]]).encode(),
             file_problem="missing_column", status="rejected"),
        Case("extra columns", PENALTY, "extra.csv",
             csv_text([[*PENALTY_HEADER, "备注", "经办人"],
                       [*penalty("沪罚〔2024〕108号"), "补录", "张三"]]).encode(), {2: OK}),
        Case("empty file", PENALTY, "empty.csv", b"", status="empty"),
        Case("whitespace only", PENALTY, "blank.csv", b"\r\n  \n\t\n", status="empty"),
        Case("header only", PENALTY, "header_only.csv", header.encode()),
        Case("binary garbage named .csv", PENALTY, "garbage2.csv",
             bytes(range(255, -1, -1)) * 16, file_problem="unreadable_file", status="unreadable"),
        Case("corrupt xlsx", PENALTY, "corrupt.xlsx", b"PK\x03\x04not really a zip",
             file_problem="unreadable_file", status="unreadable"),
        Case("unsupported extension", PENALTY, "export.xls", b"\xd0\xcf\x11\xe0",
             file_problem="unsupported_format", status="unreadable"),
        Case("1 MB cell", PENALTY, "huge_cell.csv",
             csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕109号", name="某" * 1_000_000),
                       penalty("沪罚〔2024〕110号")]).encode(),
             {2: "value_too_long", 3: OK}),
        Case("formula strings", PENALTY, "formula.csv",
             csv_text([PENALTY_HEADER, [*penalty("=HYPERLINK(\"http://x\")")[:2], "=1+1",
                       *penalty("x")[3:]]]).encode(), {2: OK}),
        Case("excel serial date in csv", PENALTY, "serial.csv",
             csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕111号", day="45356")]).encode(),
             {2: OK}),
        Case("impossible date", PENALTY, "bad_date.csv",
             csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕112号", day="2024年13月45日"),
                       penalty("沪罚〔2024〕113号", day="2023-02-29")]).encode(),
             {2: "invalid_date", 3: "invalid_date"}),
        Case("negative fine", PENALTY, "negative.csv",
             csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕114号", fine="-500元")]).encode(),
             {2: "negative_amount"}),
        Case("fines with units and separators", PENALTY, "units.csv",
             csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕115号", fine="1.5万元"),
                       penalty("沪罚〔2024〕116号", fine="15,000元"),
                       penalty("沪罚〔2024〕117号", fine="１５０００"),
                       penalty("沪罚〔2024〕118号", fine="一万元")]).encode(),
             {2: OK, 3: OK, 4: OK, 5: "invalid_number"}),
        Case("same document number, different content", PENALTY, "dup_conflict.csv",
             csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕119号", fine="5000"),
                       penalty("沪罚〔2024〕119号", fine="8000")]).encode(),
             {2: "duplicate_conflict", 3: "duplicate_conflict"}),
        Case("same row twice", PENALTY, "dup_same.csv",
             csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕120号"),
                       penalty("沪罚〔2024〕120号")]).encode(), {2: OK, 3: COLLAPSED}),
        Case("unknown firm", PENALTY, "unknown_firm.csv",
             csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕121号", uscc=NOT_IN_DIRECTORY)]).encode(),
             {2: "unknown_firm"}),
        Case("lower-case and full-width USCC", PENALTY, "uscc_forms.csv",
             csv_text([PENALTY_HEADER,
                       penalty("沪罚〔2024〕122号", uscc=FIRM_SUPERVISION.lower()),
                       penalty("沪罚〔2024〕123号", uscc="".join(
                           chr(ord(c) + 0xFEE0) for c in FIRM_EQUIPMENT)),
                       penalty("沪罚〔2024〕124号", uscc=f" {FIRM_DESIGN[:9]} {FIRM_DESIGN[9:]} "),
                       penalty("沪罚〔2024〕125号", uscc="91310115MA1FL0777")]).encode(),
             {2: OK, 3: OK, 4: OK, 5: "invalid_uscc"}),
        Case("future date", PENALTY, "future.csv",
             csv_text([PENALTY_HEADER, penalty("沪罚〔2030〕1号", day="2030-01-02")]).encode(),
             {2: "future_date"}),
        Case("missing required value", PENALTY, "missing_value.csv",
             csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕126号", day="")]).encode(),
             {2: "missing_required"}),
        Case("ragged row", PENALTY, "ragged.csv",
             csv_text([PENALTY_HEADER, [*penalty("沪罚〔2024〕127号"), "多", "余"]]).encode(),
             {2: "ragged_row"}),
        Case("value outside the enum", PENALTY, "enum.csv",
             csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕128号", kind="罚金")]).encode(),
             {2: "invalid_enum"}),
        Case("quoted line breaks and CRLF", PENALTY, "crlf.csv",
             ("\r\n".join([",".join(PENALTY_HEADER),
                            ",".join(penalty("沪罚〔2024〕129号")).replace("某公司", '"某\r\n公司"')])
              + "\r\n").encode(), {2: OK}),
        Case("NUL bytes", PENALTY, "nul.csv",
             csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕130号")]).replace("某公司", "某\x00公司")
             .encode(), file_problem="unreadable_file", status="unreadable"),  # NUL: a binary or truncated export, rejected whole
        Case("deadline before issue date", "correction_notices", "order.csv",
             csv_text([NOTICE_HEADER, ["沪改〔2024〕1号", FIRM_DESIGN, "2024-05-01", "2024-04-01",
                                       "其他违反人防法规行为"]]).encode(), {2: "date_order"}),
        Case("circular naming one firm twice", "circulars", "twice.csv",
             csv_text([CIRCULAR_HEADER,
                       ["沪通〔2024〕9号", FIRM_DESIGN, "2024-08-01", "批评", "市"],
                       ["沪通〔2024〕9号", FIRM_DESIGN, "2024/8/1", "通报批评", "市级"]]).encode(),
             {2: OK, 3: COLLAPSED}),
        Case("6 MB of junk without a header (beyond the 4 MiB header probe)", PENALTY,
             "junk.csv", ("垃圾,junk," * 20 + "\n").encode() * 40_000,
             file_problem="no_header", status="rejected"),
        Case("semicolon separated export", PENALTY, "semicolon.csv",
             ";".join(PENALTY_HEADER).encode() + b"\n" + ";".join(penalty("沪罚〔2024〕131号"))
             .encode(), file_problem="no_header", status="rejected"),
    ]  # fmt: skip


CASES = _cases()


EVIL_FIRM = "上海徐汇\r\nBEGIN:VEVENT\u202e防护\t设备有限公司"
CLEAN_FIRM = "上海徐汇 BEGIN:VEVENT防护 设备有限公司"
EVIL_INSPECTORS = {f"INS-{i}": f"检查员{i}\r\nEND:VCALENDAR\u2066" for i in range(1, 8)}


class Run:
    def __init__(self, root: Path) -> None:
        self.landing = write_fixture_landing(
            root / "landing",
            firm_names={FIRM_EQUIPMENT: EVIL_FIRM},
            inspector_names=EVIL_INSPECTORS,
        )
        for case in CASES:
            (self.landing / case.source / case.filename).write_bytes(case.data)
        self.warehouse = root / "warehouse.duckdb"
        self.reports = root / "reports"

    def main(self):
        defs = build_defs(
            warehouse=Warehouse(path=str(self.warehouse), reports_dir=str(self.reports)),
            landing=Landing(path=str(self.landing), today=PROCESSING_DATE),
        )
        # at least one firm per stratum, so the hostile firm is drawn and in every round file
        config = {"overrides": "{min_per_stratum: 1}"}
        return execute_main(defs, run_config={"ops": {"sampling_round": {"config": config}}})

    def read(self, sql: str, params: list | None = None) -> pl.DataFrame:
        with Warehouse(path=str(self.warehouse)).connect(read_only=True) as con:
            return query(con, sql, params)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    r = Run(tmp_path_factory.mktemp("hostile"))
    result = r.main()
    assert result.success, "hostile files must never crash the run"
    return r


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
    assert len({(c.source, c.filename) for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_hostile_file_gets_its_outcome_and_conserves_counts(run: Run, case: Case) -> None:
    file = f"{case.source}/{case.filename}"
    log = run.read("SELECT * FROM ingestion_log WHERE file = ?", [file])
    assert log.height == 1, f"{file} must be logged once per run"
    entry = log.row(0, named=True)
    assert entry["status"] == case.status, entry
    assert entry["problem"] == case.file_problem, entry
    assert entry["rows_read"] == (
        entry["rows_accepted"] + entry["rows_quarantined"] + entry["rows_collapsed"]
    )
    quarantined = run.read(
        "SELECT row_number, reason_code FROM quarantine WHERE file = ? ORDER BY row_number",
        [file],
    )
    if case.file_problem:  # one whole-file entry with its problem; none of its rows is kept
        assert quarantined.rows() == [(None, case.file_problem)]
        assert (entry["rows_read"], entry["rows_quarantined"]) == (1, 1)
        raw = run.read(f"SELECT count(*) n FROM raw_{case.source} WHERE source_file = ?", [file])
        assert raw.item() == 0
        return
    reasons = dict(quarantined.iter_rows())
    expected_bad = {row: why for row, why in case.rows.items() if why not in (OK, COLLAPSED)}
    assert reasons == expected_bad
    assert entry["rows_accepted"] == sum(why == OK for why in case.rows.values())
    assert entry["rows_collapsed"] == sum(why == COLLAPSED for why in case.rows.values())


def test_text_that_looks_like_a_formula_is_kept_as_text(run: Run) -> None:
    row = run.read("SELECT doc_no, firm_name FROM penalty_decisions WHERE doc_no LIKE '=%'")
    assert row.rows() == [('=HYPERLINK("http://x")', "=1+1")]


def test_amounts_with_units_are_read_as_yuan(run: Run) -> None:
    fines = run.read(
        "SELECT doc_no, fine_amount FROM penalty_decisions WHERE doc_no IN "
        "('沪罚〔2024〕115号', '沪罚〔2024〕116号', '沪罚〔2024〕117号') ORDER BY doc_no"
    )
    assert [float(v) for v in fines.get_column("fine_amount")] == [15000.0] * 3


def test_a_file_that_changes_between_runs_replaces_its_rows(tmp_path: Path) -> None:
    # Its own landing and warehouse: the shared `run` must keep exactly one run (and no
    # changing.csv), whatever order the tests above run in.
    run = Run(tmp_path)
    path = run.landing / PENALTY / "changing.csv"
    path.write_text(csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕201号"),
                              penalty("沪罚〔2024〕202号")]), encoding="utf-8")  # fmt: skip
    assert run.main().success
    path.write_text(csv_text([PENALTY_HEADER, penalty("沪罚〔2024〕201号", fine="9000"),
                              penalty("沪罚〔2024〕203号", day="2030-01-01")]),
                    encoding="utf-8")  # fmt: skip
    assert run.main().success
    kept = run.read(
        "SELECT doc_no, fine_amount FROM penalty_decisions WHERE source_file = ?",
        [f"{PENALTY}/changing.csv"],
    )
    assert [(d, float(f)) for d, f in kept.rows()] == [("沪罚〔2024〕201号", 9000.0)]
    quarantined = run.read(
        "SELECT row_number, reason_code FROM quarantine WHERE file = ?", [f"{PENALTY}/changing.csv"]
    )
    assert quarantined.rows() == [(3, "future_date")]


def test_a_name_with_line_breaks_and_bidi_overrides_is_clean_text_in_every_export(
    run: Run,
) -> None:
    """CR/LF, TAB and bidi characters in a firm's and the inspectors' names: cleaned at
    ingestion and counted per file, and every file the run writes — the round's calendars,
    plan and public list (XLSX and CSV), the tier list and the disclosure feed — holds the
    one-line name, parses, and has exactly its rows."""
    name = run.read("SELECT name FROM firms WHERE uscc = ?", [FIRM_EQUIPMENT]).item()
    assert name == CLEAN_FIRM
    people = run.read("SELECT name FROM inspectors ORDER BY inspector_id").get_column("name")
    assert people.to_list() == [f"检查员{i} END:VCALENDAR" for i in range(1, 8)]
    cleaned = run.read(
        "SELECT DISTINCT file, cells_cleaned FROM ingestion_log WHERE source IN ('firms', 'inspectors') "
        "AND cells_cleaned > 0 ORDER BY file"
    )
    assert cleaned.rows() == [("firms/名录.csv", 1), ("inspectors/人员.csv", 7)]

    folder = run.reports / "rounds" / "2026Q1"
    calendars = sorted((folder / "calendars").glob("*.ics"))
    assert calendars
    for path in calendars:
        lines = path.read_bytes().decode("utf-8").split("\r\n")
        assert lines.count("BEGIN:VCALENDAR") == lines.count("END:VCALENDAR") == 1
        events = Calendar.from_ical(path.read_bytes()).walk("VEVENT")
        assert lines.count("BEGIN:VEVENT") == len(events) > 0
        assert "\u202e" not in path.read_text(encoding="utf-8")
    summaries = [
        str(e["summary"])
        for p in calendars
        for e in Calendar.from_ical(p.read_bytes()).walk("VEVENT")
    ]
    assert any(s.endswith(f"双随机抽查 2026Q1：{CLEAN_FIRM}") for s in summaries)

    def csv_rows(path: Path) -> list[dict[str, str]]:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            lines = stream.read().splitlines()
        if lines and lines[0].startswith("草案"):  # a draft's files say so on their first line
            lines = lines[1:]
        return list(csv.DictReader(lines))

    def xlsx_values(path: Path) -> list[object]:
        book = openpyxl.load_workbook(path, read_only=True)
        return [c for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                for c in row]  # fmt: skip

    plan = csv_rows(folder / "抽查计划_2026Q1_草案.csv")
    assert len(plan) == run.read("SELECT count(*) FROM sampling_assignments").item()
    assert CLEAN_FIRM in {r["单位名称"] for r in plan}
    assert {r["检查人员姓名"] for r in plan} <= set(people)
    public = csv_rows(folder / "公示_2026Q1_草案.csv")
    assert CLEAN_FIRM in {r["单位名称"] for r in public}
    for xlsx in (folder / "抽查计划_2026Q1_草案.xlsx", folder / "公示_2026Q1_草案.xlsx",
                 *run.reports.glob(TIER_LIST_FILE.format(as_of="*"))):  # fmt: skip
        values = xlsx_values(xlsx)
        assert CLEAN_FIRM in values, xlsx
        assert not any(isinstance(v, str) and ("\r" in v or "\u202e" in v) for v in values)
    (feed,) = run.reports.glob("disclosure_*")
    firms = csv_rows(feed / "firms.csv")  # only the firms the public feed names (issue 14)
    named = {r["uscc"] for f in ("tiers", "results", "serious_dishonesty")
             for r in csv_rows(feed / f"{f}.csv")}  # fmt: skip
    named |= {r["统一社会信用代码"] for r in csv_rows(feed / "penalties.csv")}
    assert {r["uscc"] for r in firms} == named
    assert not any("\r" in r["name"] or "\u202e" in r["name"] for r in firms)
