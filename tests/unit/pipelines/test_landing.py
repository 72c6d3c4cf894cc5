"""Reading landing files as regulators send them: encodings, title rows, XLSX quirks, and
problems attached to rows (never raised). Every file is built in the test under tmp_path."""

from __future__ import annotations

import codecs
import hashlib
import json
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from models.contracts import default_contracts
from models.row_checks import clean_source
from warehouse.ingestion import clean_raw, raw_rows, scan_rows
from warehouse.landing import (
    LandingFolder,
    ScannedFile,
    UnreadableFileError,
    decode_text,
    find_header,
    scan_file,
    source_files,
)

CONTRACTS = default_contracts()
PENALTIES = CONTRACTS.source("penalty_decisions")
LOOKUP = CONTRACTS.header_lookup("penalty_decisions")
FIRM = "91350200776049653A"
HEADER = "决定书文号,统一社会信用代码,决定日期,处罚种类,罚款金额（元）"
TEXT = "决定书文号,统一社会信用代码\n沪国动罚〔2024〕12号,91350200776049653A\n"


def scan(landing: Path, name: str, content: str | bytes) -> ScannedFile:
    path = landing / "penalty_decisions" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return scan_file(path, landing, PENALTIES, CONTRACTS)


def cells(scanned: ScannedFile, *columns: str) -> list[tuple[object, ...]]:
    return scanned.rows.select(*columns).rows()


# --- decode_text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        pytest.param(TEXT.encode("utf-8"), "utf-8", id="utf-8"),
        pytest.param(codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig", id="utf-8-bom"),
        pytest.param(TEXT.encode("gbk"), "gbk", id="gbk"),
        pytest.param(codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16", id="utf-16-le"),
        pytest.param(codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16", id="utf-16-be"),
    ],
)
def test_decode_text(data: bytes, encoding: str) -> None:
    assert decode_text(data) == (TEXT, encoding)


def test_decode_text_falls_back_to_gb18030_for_characters_outside_gbk() -> None:
    text = "单位名称\n㐀𠀀有限公司\n"  # CJK extension A and B: not in GBK
    assert decode_text(text.encode("gb18030")) == (text, "gb18030")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", id="png-with-nul"),
        pytest.param(bytes(range(256)) * 4, id="every-byte"),
        pytest.param(bytes(range(1, 32)) * 10, id="control-characters"),
        pytest.param(b"\x80\x80\x80", id="no-encoding-fits"),
        pytest.param(codecs.BOM_UTF16_LE + b"a\x00b", id="truncated-utf-16"),
    ],
)
def test_decode_text_rejects_binary(data: bytes) -> None:
    with pytest.raises(UnreadableFileError) as excinfo:
        decode_text(data)
    assert excinfo.value.code == "unreadable_file"
    assert excinfo.value.detail


# --- find_header -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param([HEADER.split(",")], 0, id="first-row"),
        pytest.param(
            [["2024年度行政处罚决定汇总表", None, None], ["制表单位：某某", "", None],
             HEADER.split(","), ["罚1", FIRM, "2024-03-05"]],
            2, id="below-title-rows",
        ),
        pytest.param([[], [" 决定书文号 ", "统一社会信用代码*"]], 1, id="spaces-and-stars"),
        pytest.param([["文号"]], 0, id="one-column-file"),
        pytest.param([["决定书文号", "备注"], HEADER.split(",")], 1, id="one-known-one-unknown"),
        pytest.param([["a", "b"], ["1", "2"]], None, id="headerless"),
        pytest.param([], None, id="nothing"),
        pytest.param([["x"]] * 20 + [HEADER.split(",")], None, id="beyond-20-rows"),
    ],
)  # fmt: skip
def test_find_header(rows: list[list[str | None]], expected: int | None) -> None:
    assert find_header(rows, LOOKUP) == expected


# --- scan_file: CSV --------------------------------------------------------------------------


def test_csv_with_title_rows_and_blank_lines(tmp_path: Path) -> None:
    content = (
        "2024年度行政处罚决定汇总表\n"  # row 1
        "制表单位：上海市国防动员办公室,,,,\n"  # row 2
        f"{HEADER}\n"  # row 3
        f"罚1,{FIRM},2024-03-05,警告,100\n"  # row 4
        "\n"  # row 5: blank, skipped
        f"罚2,{FIRM},2024/3/5,罚款,1.5万元\n"  # row 6
        ",,,,\n"  # row 7: only separators, skipped
        f"罚3,{FIRM},2024年3月6日,罚款,2\n"  # row 8
    )
    scanned = scan(tmp_path, "a.csv", content)
    assert (scanned.status, scanned.problem, scanned.format) == ("ok", None, "csv")
    assert (scanned.encoding, scanned.header_row) == ("utf-8", 3)
    assert scanned.file == "penalty_decisions/a.csv"
    assert cells(scanned, "source_row", "doc_no", "decided_on", "fine_amount") == [
        (4, "罚1", "2024-03-05", "100"),
        (6, "罚2", "2024/3/5", "1.5万元"),
        (8, "罚3", "2024年3月6日", "2"),
    ]
    assert scanned.rows["read_problem"].to_list() == [None, None, None]


def test_csv_metadata(tmp_path: Path) -> None:
    content = f"{HEADER}\n罚1,{FIRM},2024-03-05,警告,100\n".encode("gbk")
    scanned = scan(tmp_path, "gbk.csv", content)
    assert scanned.sha256 == hashlib.sha256(content).hexdigest()
    assert scanned.size_bytes == len(content)
    assert (scanned.source, scanned.encoding, scanned.status) == ("penalty_decisions", "gbk", "ok")
    assert cells(scanned, "doc_no", "penalty_types") == [("罚1", "警告")]


def test_csv_with_crlf_and_a_blank_line_between_title_and_header(tmp_path: Path) -> None:
    content = f"标题\r\n\r\n{HEADER}\r\n罚1,{FIRM},2024-03-05,警告,1\r\n\r\n罚2,{FIRM},x,y,z\r\n"
    scanned = scan(tmp_path, "crlf.csv", content)
    assert scanned.header_row == 3
    assert cells(scanned, "source_row", "doc_no") == [(4, "罚1"), (6, "罚2")]


def test_csv_quoted_cell_with_a_newline_is_one_row(tmp_path: Path) -> None:
    content = f'{HEADER}\n罚1,{FIRM},2024-03-05,"警告\n罚款",1\n罚2,{FIRM},2024-03-05,警告,2\n'
    scanned = scan(tmp_path, "multiline.csv", content)
    assert cells(scanned, "source_row", "penalty_types") == [(2, "警告\n罚款"), (3, "警告")]


def test_csv_row_with_more_cells_than_the_header_is_ragged(tmp_path: Path) -> None:
    content = (
        f"标题\n{HEADER}\n"
        f"罚1,{FIRM},2024-03-05,警告,100\n"  # row 3
        f"罚2,{FIRM},2024-03-05,警告,100,多出来的,又一个\n"  # row 4: ragged
        "\n"  # row 5
        f"罚3,{FIRM},2024-03-05,警告\n"  # row 6: fewer cells is fine
    )
    scanned = scan(tmp_path, "ragged.csv", content)
    assert scanned.status == "ok"
    assert cells(scanned, "source_row", "doc_no", "fine_amount", "read_problem") == [
        (3, "罚1", "100", None),
        (4, "罚2", "100", "ragged_row"),
        (6, "罚3", None, None),
    ]
    assert scanned.rows["read_detail"].to_list() == [None, "表头共5列", None]


def test_empty_csv(tmp_path: Path) -> None:
    scanned = scan(tmp_path, "empty.csv", b"")
    assert (scanned.status, scanned.header_row) == ("empty", None)
    assert scanned.rows.is_empty()


def test_whitespace_only_csv_is_empty(tmp_path: Path) -> None:
    assert scan(tmp_path, "blank.csv", "\n \r\n\n").status == "empty"


def test_header_only_csv(tmp_path: Path) -> None:
    scanned = scan(tmp_path, "header.csv", HEADER + "\n")
    assert (scanned.status, scanned.header_row, scanned.problem) == ("ok", 1, None)
    assert scanned.rows.height == 0
    assert {"source_row", "read_problem", "raw_row", "doc_no", "fine_amount"} <= set(
        scanned.rows.columns
    )


def test_file_missing_a_required_column_is_rejected_whole(tmp_path: Path) -> None:
    content = f"决定书文号,统一社会信用代码,处罚种类\n罚1,{FIRM},警告\n罚2,{FIRM},罚款\n"
    scanned = scan(tmp_path, "missing.csv", content)
    assert (scanned.status, scanned.problem) == ("rejected", "missing_column")
    assert scanned.header_row == 1
    assert str(scanned.detail).startswith("缺少必填列：决定日期(decided_on) / ")
    assert "decided_on" in str(scanned.detail)
    assert scanned.rows.is_empty()  # a rejected file keeps none of its rows


def test_file_missing_two_required_columns_names_both(tmp_path: Path) -> None:
    scanned = scan(tmp_path, "missing2.csv", f"决定书文号,统一社会信用代码\n罚1,{FIRM}\n")
    assert str(scanned.detail).startswith(
        "缺少必填列：决定日期(decided_on)、处罚种类(penalty_types)"
    )


def test_headerless_csv_is_rejected_without_rows(tmp_path: Path) -> None:
    scanned = scan(tmp_path, "noheader.csv", "a,b,c\n1,2,3\n")
    assert (scanned.status, scanned.problem, scanned.header_row) == ("rejected", "no_header", None)
    assert scanned.rows.is_empty()
    assert scanned.sha256 == hashlib.sha256(b"a,b,c\n1,2,3\n").hexdigest()


def test_a_file_above_the_size_limit_is_rejected_unread(tmp_path: Path, monkeypatch) -> None:
    content = f"{HEADER}\n罚1,{FIRM},2024-03-05,警告,100\n"
    monkeypatch.setenv("RENFANG_MAX_FILE_MB", str(len(content.encode()) / 2**20 / 2))
    scanned = scan(tmp_path, "big.csv", content)
    assert (scanned.status, scanned.problem) == ("rejected", "file_too_large")
    assert "RENFANG_MAX_FILE_MB" in str(scanned.detail) and scanned.rows.is_empty()
    assert scanned.sha256 == hashlib.sha256(content.encode()).hexdigest()
    monkeypatch.setenv("RENFANG_MAX_FILE_MB", "lots")
    with pytest.raises(ValueError, match="RENFANG_MAX_FILE_MB"):
        scan(tmp_path, "big.csv", content)


def test_junk_without_a_header_is_rejected_after_its_first_rows_only(tmp_path: Path) -> None:
    """A 64 MiB junk CSV: the header is looked for in the first 4 MiB; the file is never held
    whole (Python allocations peak at half its size at most) and no row of it is kept."""
    import tracemalloc

    path = tmp_path / "penalty_decisions" / "junk.csv"
    path.parent.mkdir(parents=True)
    line = ("垃圾," * 40 + "junk\n").encode("utf-8")
    with path.open("wb") as out:
        for _ in range(64 * 2**20 // (len(line) * 1000) + 1):
            out.write(line * 1000)
    tracemalloc.start()
    try:
        scanned = scan_file(path, tmp_path, PENALTIES, CONTRACTS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (scanned.status, scanned.problem) == ("rejected", "no_header")
    assert scanned.rows.is_empty() and scanned.size_bytes > 64 * 2**20
    assert peak < 32 * 2**20, f"peak {peak / 2**20:.1f} MiB while scanning a 64 MiB file"


def test_a_header_in_the_first_rows_of_a_large_file_is_found(tmp_path: Path) -> None:
    path = tmp_path / "penalty_decisions" / "large.csv"
    path.parent.mkdir(parents=True)
    row = f"罚{{}},{FIRM},2024-03-05,警告,100\n"
    body = "".join(row.format(i) for i in range(120_000)).encode("gbk")  # > 4 MiB of GBK
    path.write_bytes("2024年处罚汇总\n".encode("gbk") + HEADER.encode("gbk") + b"\n" + body)
    scanned = scan_file(path, tmp_path, PENALTIES, CONTRACTS)
    assert (scanned.status, scanned.encoding, scanned.header_row) == ("ok", "gbk", 2)
    assert scanned.rows.height == 120_000


@pytest.mark.parametrize("name", ["data.json", "report.xls", "README"])
def test_unsupported_extension(tmp_path: Path, name: str) -> None:
    scanned = scan(tmp_path, name, '{"决定书文号": "罚1"}')
    assert (scanned.status, scanned.problem, scanned.format) == (
        "unreadable",
        "unsupported_format",
        "other",
    )
    assert scanned.rows.is_empty()


def test_binary_csv_is_unreadable(tmp_path: Path) -> None:
    scanned = scan(tmp_path, "binary.csv", b"\x00\x01\x02\xff\xfe\x00" * 50)
    assert (scanned.status, scanned.problem) == ("unreadable", "unreadable_file")
    assert scanned.rows.is_empty()


def test_unknown_extra_column_is_kept_only_in_raw_row(tmp_path: Path) -> None:
    content = f"{HEADER},备注说明\n罚1,{FIRM},2024-03-05,警告,100,请尽快归档\n"
    scanned = scan(tmp_path, "extra.csv", content)
    assert scanned.status == "ok"
    assert "备注说明" not in scanned.rows.columns
    assert json.loads(scanned.rows["raw_row"][0]) == {
        "决定书文号": "罚1",
        "统一社会信用代码": FIRM,
        "决定日期": "2024-03-05",
        "处罚种类": "警告",
        "罚款金额（元）": "100",
        "备注说明": "请尽快归档",
    }


def test_duplicate_header_names_first_wins(tmp_path: Path) -> None:
    content = f"{HEADER},决定书文号,文号\n罚1,{FIRM},2024-03-05,警告,100,罚X,罚Y\n"
    scanned = scan(tmp_path, "twice.csv", content)
    assert cells(scanned, "doc_no") == [("罚1",)]
    raw = json.loads(scanned.rows["raw_row"][0])
    assert (raw["决定书文号"], raw["决定书文号#2"], raw["文号"]) == ("罚1", "罚X", "罚Y")


def test_chinese_and_english_headers_map_alike(tmp_path: Path) -> None:
    content = f"DOC_NO,uscc,Decided_On,penalty_types\n罚1,{FIRM},2024-03-05,警告\n"
    scanned = scan(tmp_path, "english.csv", content)
    assert scanned.status == "ok"
    assert cells(scanned, "doc_no", "uscc", "decided_on") == [("罚1", FIRM, "2024-03-05")]


# --- scan_file: XLSX -------------------------------------------------------------------------


def write_xlsx(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(path)) as book:
        sheet = book.add_worksheet("处罚")
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        sheet.merge_range(0, 0, 0, 4, "2024年度行政处罚决定汇总表")  # row 1: merged title
        sheet.write_row(1, 0, HEADER.split(","))  # row 2: header
        sheet.write_row(2, 0, ["罚1", FIRM])  # row 3
        sheet.write_datetime(2, 2, datetime(2024, 3, 5), day)  # a real date cell
        sheet.write_row(2, 3, ["警告", 15000])
        sheet.write_row(3, 0, ["罚2", FIRM, 45356, "罚款", "1.5万元"])  # row 4: serial
        # row 5 left empty
        sheet.write_row(5, 0, ["罚3", FIRM])  # row 6
        sheet.write_datetime(5, 2, datetime(2024, 3, 6, 8, 30), day)
        sheet.write_row(5, 3, ["警告", 2500.5])


def test_xlsx_with_merged_title_dates_and_serials(tmp_path: Path) -> None:
    path = tmp_path / "penalty_decisions" / "2024.xlsx"
    write_xlsx(path)
    scanned = scan_file(path, tmp_path, PENALTIES, CONTRACTS)
    assert (scanned.status, scanned.format, scanned.encoding) == ("ok", "xlsx", None)
    assert scanned.header_row == 2
    assert cells(scanned, "source_row", "doc_no", "decided_on", "fine_amount") == [
        (3, "罚1", "2024-03-05", "15000"),
        (4, "罚2", "45356", "1.5万元"),
        (6, "罚3", "2024-03-06 08:30:00", "2500.5"),
    ]
    assert scanned.rows["read_problem"].to_list() == [None, None, None]


def test_xlsx_cell_beyond_the_header_is_ragged(tmp_path: Path) -> None:
    path = tmp_path / "penalty_decisions" / "ragged.xlsx"
    path.parent.mkdir(parents=True)
    with xlsxwriter.Workbook(str(path)) as book:
        sheet = book.add_worksheet()
        sheet.write_row(0, 0, HEADER.split(","))
        sheet.write_row(1, 0, ["罚1", FIRM, "2024-03-05", "警告", "1"])
        sheet.write_row(2, 0, ["罚2", FIRM, "2024-03-05", "警告", "1", "多余"])
    scanned = scan_file(path, tmp_path, PENALTIES, CONTRACTS)
    assert cells(scanned, "source_row", "read_problem") == [(2, None), (3, "ragged_row")]


def test_empty_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "penalty_decisions" / "empty.xlsx"
    path.parent.mkdir(parents=True)
    with xlsxwriter.Workbook(str(path)) as book:
        book.add_worksheet()
    assert scan_file(path, tmp_path, PENALTIES, CONTRACTS).status == "empty"


def test_corrupt_xlsx_is_unreadable(tmp_path: Path) -> None:
    scanned = scan(tmp_path, "broken.xlsx", b"PK\x03\x04 not really a zip")
    assert (scanned.status, scanned.problem, scanned.format) == (
        "unreadable",
        "unreadable_file",
        "xlsx",
    )


# --- scan_file: workbooks as offices make them -----------------------------------------------

FIRMS = CONTRACTS.source("firms")
OFFICE_FIRMS = [  # (USCC, name, firm type, district): types and districts typed once a block
    ("91310115MA1FL07778", "申防设计院", "设计", "浦东新区"),
    ("91310101MA1AB1777K", "沪安监理", "设计", "浦东新区"),
    ("91310104MA1CD2777T", "民防设备厂", "设计", "徐汇区"),
    ("91310107MA1EF37772", "图审中心", "审图", "徐汇区"),
    ("91310110MA1GH47778", "防护检测所", "审图", "徐汇区"),
]


def write_office_workbook(path: Path) -> None:
    """What a district office sends: a first sheet of filling notes (填表说明), then the data
    under a merged title, with 单位类型 and 所属区 merged over the firms they apply to."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(path)) as book:
        notes = book.add_worksheet("填表说明")
        notes.write_column(
            0,
            0,
            ["填表说明", "1. 单位类型相同的单位可合并单元格填写。", "2. 日期格式 YYYY-MM-DD。"],
        )
        sheet = book.add_worksheet("名录")
        sheet.merge_range(0, 0, 0, 3, "2025年度检查对象名录（从业单位）")  # row 1: title
        sheet.write_row(1, 0, ["统一社会信用代码", "单位名称", "单位类型", "所属区"])  # row 2
        for i, (uscc, name, _, _) in enumerate(OFFICE_FIRMS):
            sheet.write_row(2 + i, 0, [uscc, name])  # rows 3–7
        sheet.merge_range(2, 2, 4, 2, "设计")  # C3:C5
        sheet.merge_range(5, 2, 6, 2, "审图")  # C6:C7
        sheet.merge_range(2, 3, 3, 3, "浦东新区")  # D3:D4
        sheet.merge_range(4, 3, 6, 3, "徐汇区")  # D5:D7


def test_a_workbook_with_notes_first_is_read_from_its_data_sheet(tmp_path: Path) -> None:
    path = tmp_path / "firms" / "名录_徐汇浦东.xlsx"
    write_office_workbook(path)
    scanned = scan_file(path, tmp_path, FIRMS, CONTRACTS)
    assert (scanned.status, scanned.sheet, scanned.header_row) == ("ok", "名录", 2)
    assert scanned.detail is not None
    zh, en = scanned.detail.split(" / ", 1)
    assert zh.startswith("读取工作表「名录」（第 2 张；「填表说明」没有可识别的表头，未读取）")
    assert "read sheet '名录' (sheet 2; 填表说明 without a recognised header" in en


def test_cells_merged_over_data_rows_are_filled_down_and_noted(tmp_path: Path) -> None:
    path = tmp_path / "firms" / "名录_徐汇浦东.xlsx"
    write_office_workbook(path)
    scanned = scan_file(path, tmp_path, FIRMS, CONTRACTS)
    assert cells(scanned, "source_row", "uscc", "firm_type", "district") == [
        (3 + i, uscc, firm_type, district)
        for i, (uscc, _, firm_type, district) in enumerate(OFFICE_FIRMS)
    ]
    assert scanned.detail is not None
    assert "合并单元格已向下填充：「单位类型」第 3–5、6–7 行，「所属区」第 3–4、5–7 行" in (
        scanned.detail
    )
    assert "merged cells filled down: '单位类型' rows 3-5, 6-7; '所属区' rows 3-4, 5-7" in (
        scanned.detail
    )
    # the merged title above the header is left alone (not a data row)
    assert scanned.rows.height == len(OFFICE_FIRMS)


def test_an_office_workbook_is_ingested_whole(tmp_path: Path) -> None:
    """Every firm of the workbook is accepted with its type and district; before, every row
    below a block's first was quarantined for a missing 单位类型."""
    path = tmp_path / "firms" / "名录_徐汇浦东.xlsx"
    write_office_workbook(path)
    scanned = scan_file(path, tmp_path, FIRMS, CONTRACTS)
    raw = scanned.rows.with_columns(
        source_file=pl.lit(scanned.file),
        file_first_seen=pl.lit(datetime(2025, 6, 1, 9, 0), dtype=pl.Datetime("us")),
    )
    result = clean_source(raw, FIRMS, CONTRACTS, today=date(2025, 6, 30))
    assert result.quarantine.is_empty()
    accepted = result.accepted.sort("source_row").select("uscc", "firm_type", "district")
    assert accepted.rows() == [
        ("91310115MA1FL07778", "design", "浦东新区"),
        ("91310101MA1AB1777K", "design", "浦东新区"),
        ("91310104MA1CD2777T", "design", "徐汇区"),
        ("91310107MA1EF37772", "drawing_review", "徐汇区"),
        ("91310110MA1GH47778", "drawing_review", "徐汇区"),
    ]


def test_a_workbook_without_any_recognised_header_is_rejected_from_its_first_sheet(
    tmp_path: Path,
) -> None:
    path = tmp_path / "firms" / "说明.xlsx"
    path.parent.mkdir(parents=True)
    with xlsxwriter.Workbook(str(path)) as book:
        book.add_worksheet("说明").write(0, 0, "本表无数据")
        book.add_worksheet("其他").write(0, 0, "也没有表头")
    scanned = scan_file(path, tmp_path, FIRMS, CONTRACTS)
    assert (scanned.status, scanned.problem, scanned.sheet) == ("rejected", "no_header", "说明")


def test_a_hidden_sheet_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "firms" / "hidden.xlsx"
    path.parent.mkdir(parents=True)
    with xlsxwriter.Workbook(str(path)) as book:
        hidden = book.add_worksheet("旧版")
        hidden.write_row(0, 0, ["统一社会信用代码", "单位名称", "单位类型"])
        hidden.write_row(1, 0, ["91310115MA1FL07778", "旧名称", "设计"])
        hidden.hide()
        current = book.add_worksheet("现行")
        current.write_row(0, 0, ["统一社会信用代码", "单位名称", "单位类型"])
        current.write_row(1, 0, ["91310115MA1FL07778", "新名称", "设计"])
        current.activate()
    scanned = scan_file(path, tmp_path, FIRMS, CONTRACTS)
    assert scanned.sheet == "现行" and cells(scanned, "name") == [("新名称",)]


# --- source_files ----------------------------------------------------------------------------


def test_source_files_skips_lock_and_hidden_files(tmp_path: Path) -> None:
    folder = tmp_path / "penalty_decisions"
    (folder / "2024").mkdir(parents=True)
    for name in ["b.xlsx", "a.csv", "~$lock.xlsx", ".hidden", ".~lock.a.csv#", "2024/c.csv"]:
        (folder / name).write_bytes(b"x")
    assert source_files(tmp_path, "penalty_decisions") == [
        folder / "2024" / "c.csv",
        folder / "a.csv",
        folder / "b.xlsx",
    ]


def test_source_files_of_a_missing_folder(tmp_path: Path) -> None:
    assert source_files(tmp_path, "firms") == []


OK_FILE = f"{HEADER}\n罚1,{FIRM},2024-03-05,警告,100\n罚2,{FIRM},2023-02-30,警告,1\n"
REJECTED_FILE = f"决定书文号,统一社会信用代码,处罚种类\n罚1,{FIRM},警告\n罚2,{FIRM},罚款\n"


@pytest.mark.parametrize(
    ("content", "accepted", "codes", "read"),
    [
        (OK_FILE, 1, ["invalid_date"], 2),
        (REJECTED_FILE, 0, ["missing_column"], 1),  # one whole-file entry, no rows
    ],
    ids=["ok-file", "rejected-file"],
)
def test_scanned_rows_feed_the_row_checks(
    tmp_path: Path, content: str, accepted: int, codes: list[str], read: int
) -> None:
    scanned = scan(tmp_path, "a.csv", content)
    first_seen = {scanned.sha256: datetime(2024, 6, 1, 9, 0)}
    raw = raw_rows([scanned], first_seen, PENALTIES)
    assert raw.height == (2 if accepted else 0)  # a rejected file leaves no raw rows
    scan_table = scan_rows([scanned], first_seen)
    landing = LandingFolder(path=str(tmp_path), today="2024-06-30")
    result = clean_raw(raw, PENALTIES, CONTRACTS, landing, {}, scan_table)
    assert result.accepted.height == accepted
    assert result.quarantine["reason_code"].to_list() == codes
    assert result.quarantine["file"].to_list() == ["penalty_decisions/a.csv"] * len(codes)
    assert result.file_counts.rows() == [
        ("penalty_decisions/a.csv", read, accepted, len(codes), 0, 0)
    ]


# --- the national 双公示 layout --------------------------------------------------------------

NATIONAL = (
    "行政相对人名称,行政相对人代码_1(统一社会信用代码),行政处罚决定书文号,违法行为类型,处罚类别,"
    "处罚内容,罚款金额（万元）,处罚决定日期,公示截止期,处罚机关,数据来源单位\n"
    "某公司,91350200776049653A,沪国动罚〔2024〕12号,监理未履行职责,警告;罚款,罚款1.5万元,1.5,"
    "2024/03/05,2025/03/04,上海市国防动员办公室,上海市国防动员办公室\n"
    "某公司,91350200776049653A,沪国动罚〔2024〕13号,未按规定修建防空地下室,罚款,,8,2024/04/01,"
    ",上海市国防动员办公室,上海市国防动员办公室\n"
    "某公司,91350200776049653A,沪国动罚〔2024〕14号,其他,警告,,,2024/05/01,,,\n"
    "某公司,91350200776049653A,沪国动罚〔2024〕15号,其他,罚款,,5000元,2024/05/02,,,\n"
)


def test_a_national_layout_file_is_read_as_it_comes(tmp_path: Path) -> None:
    scanned = scan(tmp_path, "国家标准.csv", NATIONAL)
    assert (scanned.status, scanned.layout) == ("ok", "national_double_publicity")
    assert cells(scanned, "doc_no", "fine_amount") == [
        ("沪国动罚〔2024〕12号", "1.5万元"),  # the unit is the header's
        ("沪国动罚〔2024〕13号", "8万元"),
        ("沪国动罚〔2024〕14号", None),
        ("沪国动罚〔2024〕15号", "5000元"),  # a cell with its own unit keeps it
    ]
    # the row as received keeps the cell as it was
    assert json.loads(scanned.rows["raw_row"][0])["罚款金额（万元）"] == "1.5"
    raw = scanned.rows.with_columns(
        source_file=pl.lit("a.csv"), file_sha256=pl.lit("x"),
        file_first_seen=pl.lit(datetime(2024, 6, 1)),
    )  # fmt: skip
    result = clean_source(raw, PENALTIES, CONTRACTS, today=date(2024, 6, 1))
    assert result.quarantine.is_empty()
    clean = result.accepted.sort("doc_no")
    assert clean["fine_amount"].to_list() == [15_000.0, 80_000.0, None, 5_000.0]
    assert clean["penalty_types"].to_list()[0] == ["警告", "罚款"]
    assert clean["publication_until"].to_list()[0] == date(2025, 3, 4)
    # 违法行为类型 spelling a category stands in for it; free text leaves it blank
    assert clean["violation_category"].to_list() == ["监理未履行职责", None, "其他违反人防法规行为",
                                                     "其他违反人防法规行为"]  # fmt: skip
    assert clean["violation_type"].to_list()[1] == "未按规定修建防空地下室"
    assert clean["firm_name"].to_list()[0] == "某公司"


def test_the_projects_own_layout_is_named_so(tmp_path: Path) -> None:
    scanned = scan(
        tmp_path, "ours.csv", f"{HEADER}\n沪国动罚〔2024〕12号,{FIRM},2024-03-05,罚款,15000\n"
    )
    assert scanned.layout == "project"
    assert CONTRACTS.layout_title("penalty_decisions", scanned.layout) == "本项目格式"
    assert CONTRACTS.layout_title("penalty_decisions", "national_double_publicity") == (
        "双公示行政处罚信息（国家标准格式）"
    )
