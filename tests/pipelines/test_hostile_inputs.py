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

from pipelines.definitions import build_defs, execute_main
from pipelines.resources import Landing, Warehouse
from warehouse.connection import query

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
        Case("semicolon separated export", PENALTY, "semicolon.csv",
             ";".join(PENALTY_HEADER).encode() + b"\n" + ";".join(penalty("沪罚〔2024〕131号"))
             .encode(), file_problem="no_header", status="rejected"),
    ]  # fmt: skip


CASES = _cases()


class Run:
    def __init__(self, root: Path) -> None:
        self.landing = write_fixture_landing(root / "landing")
        for case in CASES:
            (self.landing / case.source / case.filename).write_bytes(case.data)
        self.warehouse = root / "warehouse.duckdb"
        self.reports = root / "reports"

    def main(self):
        defs = build_defs(
            warehouse=Warehouse(path=str(self.warehouse), reports_dir=str(self.reports)),
            landing=Landing(path=str(self.landing), today=PROCESSING_DATE),
        )
        return execute_main(defs)

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
    if case.file_problem:  # rows of a rejected file, or one whole-file entry, with its problem
        assert set(quarantined.get_column("reason_code")) == {case.file_problem}
        assert entry["rows_accepted"] == 0
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
