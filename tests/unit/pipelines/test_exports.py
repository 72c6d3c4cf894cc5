"""Exports people open in Excel: formula injection escaped, Chinese headers, frozen header
row, lists joined with 、, CSV with a UTF-8 BOM. Files are read back with openpyxl / csv."""

from __future__ import annotations

import codecs
import csv
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook

from warehouse.exports import escape_formulas, with_headers, write_csv, write_xlsx

# --- escape_formulas -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+86 21 5555 0000", "'+86 21 5555 0000"),
        ("-500", "'-500"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("沪国动罚〔2024〕12号", "沪国动罚〔2024〕12号"),
        ("JC-2024-001", "JC-2024-001"),  # `-` inside text is not a formula
        ("a=b", "a=b"),
        ("user@example.com", "user@example.com"),
        (" =1", " =1"),  # a leading space makes it text already
        ("'=1", "'=1"),
        ("", ""),
        (None, None),
    ],
)
def test_escape_formulas_text(text: str | None, expected: str | None) -> None:
    frame = pl.DataFrame({"名称": [text]}, schema={"名称": pl.Utf8})
    assert escape_formulas(frame)["名称"].to_list() == [expected]


def test_escape_formulas_leaves_other_types_alone() -> None:
    frame = pl.DataFrame(
        {
            "score": [-5, 3],
            "amount": [-1.5, 2.0],
            "as_of": [date(2024, 3, 5), date(2024, 3, 6)],
            "veto": [True, False],
            "tier": ["=A", "B"],
        }
    )
    out = escape_formulas(frame)
    assert out.schema == frame.schema
    assert out["score"].to_list() == [-5, 3]
    assert out["amount"].to_list() == [-1.5, 2.0]
    assert out["as_of"].to_list() == [date(2024, 3, 5), date(2024, 3, 6)]
    assert out["veto"].to_list() == [True, False]
    assert out["tier"].to_list() == ["'=A", "B"]


def test_with_headers_renames_known_columns_only() -> None:
    frame = pl.DataFrame({"uscc": ["x"], "tier": ["A"], "extra": [1]})
    out = with_headers(frame, {"uscc": "统一社会信用代码", "tier": "信用等级", "absent": "无"})
    assert out.columns == ["统一社会信用代码", "信用等级", "extra"]


# --- write_xlsx ------------------------------------------------------------------------------

TIERS = pl.DataFrame(
    {
        "统一社会信用代码": ["91350200776049653A", "91440101MA5CJQ4N59", '=HYPERLINK("x")'],
        "信用等级": ["A", "B", "-D"],
        "得分": [98.5, 80.0, -3.0],
        "处罚种类": [["警告", "罚款"], ["警告"], ["=1+1", "罚款"]],
        "评价日期": [date(2024, 6, 30)] * 3,
    }
)
SUMMARY = pl.DataFrame({"等级": ["A", "B"], "单位数": [1, 1]})


def test_write_xlsx_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "out" / "信用等级名单.xlsx"
    assert write_xlsx({"等级名单": TIERS, "汇总": SUMMARY}, path) == path
    book = load_workbook(path)
    assert book.sheetnames == ["等级名单", "汇总"]

    sheet = book["等级名单"]
    assert sheet.freeze_panes == "A2"
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["统一社会信用代码", "信用等级", "得分", "处罚种类", "评价日期"]
    assert [r[:4] for r in rows[1:]] == [
        ["91350200776049653A", "A", 98.5, "警告、罚款"],
        ["91440101MA5CJQ4N59", "B", 80, "警告"],
        ['\'=HYPERLINK("x")', "'-D", -3, "'=1+1、罚款"],
    ]
    assert [r[4].date() for r in rows[1:]] == [date(2024, 6, 30)] * 3
    # nothing the spreadsheet would evaluate
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)

    summary = book["汇总"]
    assert summary.freeze_panes == "A2"
    assert [[c.value for c in row] for row in summary.iter_rows()] == [
        ["等级", "单位数"],
        ["A", 1],
        ["B", 1],
    ]
    book.close()


def test_write_xlsx_truncates_sheet_names_to_excels_31_characters(tmp_path: Path) -> None:
    name = "行政处罚决定书" * 5  # 35 characters
    path = write_xlsx({name: SUMMARY}, tmp_path / "long.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == [name[:31]]
    book.close()


def test_write_xlsx_replaces_an_old_file_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"old content")
    write_xlsx({"汇总": SUMMARY}, path)
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]
    book = load_workbook(path)
    assert book.sheetnames == ["汇总"]
    book.close()


# --- write_csv -------------------------------------------------------------------------------


def test_write_csv_starts_with_a_bom_and_round_trips_chinese_headers(tmp_path: Path) -> None:
    path = write_csv(TIERS, tmp_path / "exports" / "tiers.csv")
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    assert not data[3:].startswith(codecs.BOM_UTF8)  # exactly one BOM
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["统一社会信用代码", "信用等级", "得分", "处罚种类", "评价日期"],
        ["91350200776049653A", "A", "98.5", "警告、罚款", "2024-06-30"],
        ["91440101MA5CJQ4N59", "B", "80.0", "警告", "2024-06-30"],
        ['\'=HYPERLINK("x")', "'-D", "-3.0", "'=1+1、罚款", "2024-06-30"],
    ]
    assert [p.name for p in path.parent.iterdir()] == ["tiers.csv"]


def test_write_csv_with_headers(tmp_path: Path) -> None:
    frame = pl.DataFrame({"uscc": ["91350200776049653A"], "tier": ["A"]})
    path = write_csv(
        with_headers(frame, {"uscc": "统一社会信用代码", "tier": "信用等级"}),
        tmp_path / "t.csv",
    )
    assert path.read_text(encoding="utf-8-sig").splitlines() == [
        "统一社会信用代码,信用等级",
        "91350200776049653A,A",
    ]
