"""Exports people open in Excel, through the one workbook writer: title and issuer line,
序号, catalogue headers and labels, number formats, CJK-aware widths, frozen and filtered
header, A4 print setup, strings kept as strings and formula injection escaped; CSV with a
UTF-8 BOM. Files are read back with openpyxl / csv."""

from __future__ import annotations

import codecs
import csv
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from warehouse.exports import (
    Sheet,
    Workbook,
    csv_bytes,
    escape_formulas,
    issuer,
    readable,
    with_headers,
    write_csv,
    write_workbook,
)

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


# --- write_workbook: the one writer of every workbook --------------------------------------

TIERS = pl.DataFrame(
    {
        "uscc": ["91350200776049653A", "91440101MA5CJQ4N59", '=HYPERLINK("x")'],
        "name": ["上海申防人防工程设计研究院有限公司", "Acme", "http://evil.example/x"],
        "firm_type": ["design", "testing", "supervision"],
        "tier": ["A", "B", "-D"],
        "score": [98.5, 80.0, -3.0],
        "valid_doc_no_share": [0.9982, 1.0, 0.03],
        "records": [12_345, 2, 0],
        "veto": [False, False, True],
        "penalty_types": [["警告", "罚款"], ["警告"], ["=1+1", "罚款"]],
        "as_of": [date(2024, 6, 30)] * 3,
    }
)
NOTES = pl.DataFrame(
    {
        "parameter": ["随机种子", "对照组比例"],
        "value": ["20251231", "5.0%"],
        "meaning": ["事先公布的随机种子：相同的输入和种子必然得到相同的抽取结果" * 3, "用于检验"],
    }
)
BOOK = Workbook(
    title="人防行业从业单位信用等级名单",
    as_of=date(2024, 6, 30),
    issuer="某市民防监督管理事务中心",
    sheets=[Sheet("说明", NOTES, notes=True), Sheet("等级名单", TIERS)],
)


@pytest.fixture
def book(tmp_path: Path):
    path = write_workbook(BOOK, tmp_path / "out" / "信用等级名单.xlsx")
    assert path == tmp_path / "out" / "信用等级名单.xlsx"
    workbook = load_workbook(path)
    yield workbook
    workbook.close()


def values(sheet) -> list[list[object]]:
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_a_title_row_and_the_as_of_date_and_issuer_above_the_header(book) -> None:
    sheet = book["等级名单"]
    rows = values(sheet)
    assert rows[0][0] == "人防行业从业单位信用等级名单"
    assert rows[1][0] == "数据截至：2024-06-30　发布单位：某市民防监督管理事务中心"
    assert {str(r) for r in sheet.merged_cells.ranges} == {"A1:K1", "A2:K2"}
    assert sheet["A1"].font.b and sheet["A1"].font.sz == 14


def test_headers_and_codes_are_words_from_the_catalogue_with_a_serial_number(book) -> None:
    rows = values(book["等级名单"])
    assert rows[2] == [
        "序号", "统一社会信用代码", "单位名称", "单位类型", "信用等级", "信用得分", "文号合规率",
        "记录数", "一票否决", "处罚种类", "评价日期",
    ]  # fmt: skip
    assert [r[0] for r in rows[3:]] == [1, 2, 3]
    assert [r[3] for r in rows[3:]] == [
        "人防工程设计单位",
        "人防防护设备检测机构",
        "人防工程监理单位",
    ]
    assert [r[8] for r in rows[3:]] == ["否", "否", "是"]
    assert rows[3][9] == "警告、罚款"


def test_numbers_are_numbers_with_the_formats_people_expect(book) -> None:
    sheet = book["等级名单"]
    score, share, records, day = sheet["F4"], sheet["G4"], sheet["H4"], sheet["K4"]
    assert (score.value, score.number_format) == (98.5, "0.0")  # 98.5, not "98.500"
    assert (share.value, share.number_format) == (0.9982, "0.0%")  # 99.8%, not 0.9982
    assert (records.value, records.number_format) == (12345, "#,##0")
    assert day.value.date() == date(2024, 6, 30) and day.number_format == "yyyy-mm-dd"
    assert sheet["A4"].number_format == "#,##0"


def test_the_header_is_frozen_and_filtered(book) -> None:
    sheet = book["等级名单"]
    assert sheet.freeze_panes == "A4"  # title, issuer line and header stay in view
    assert sheet.auto_filter.ref == "A3:K6"


def test_column_widths_count_a_chinese_character_as_two(book) -> None:
    sheet = book["等级名单"]
    name = sheet.column_dimensions["C"].width  # 17 Chinese characters: 34 columns wide
    assert 34 <= name <= 40
    assert sheet.column_dimensions["B"].width >= 20  # an 18-character USCC
    assert sheet.column_dimensions["A"].width < 10  # 序号
    assert sheet.column_dimensions["F"].width >= 10  # 信用得分: a 4-character header


def test_a4_print_setup_repeats_the_header_and_fits_the_width(book) -> None:
    sheet = book["等级名单"]
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.page_setup.orientation == "landscape"  # wide: eleven columns
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    # one page wide (1 is the file format's default, left implicit), as many pages long as needed
    assert (sheet.page_setup.fitToWidth or 1, sheet.page_setup.fitToHeight) == (1, 0)
    assert sheet.print_title_rows == "$1:$3"
    assert "&P" in sheet.oddFooter.center.text and "&N" in sheet.oddFooter.center.text


def test_a_notes_sheet_is_readable_rows_of_parameter_value_meaning(book) -> None:
    sheet = book["说明"]
    rows = values(sheet)
    assert rows[2] == ["参数", "取值", "含义"]
    assert rows[3] == ["随机种子", "20251231", NOTES["meaning"][0]]
    assert sheet.auto_filter.ref is None  # notes are read, not filtered
    assert sheet["C4"].alignment.wrap_text
    assert sheet.column_dimensions["C"].width <= 82  # long meanings wrap, not a 255-wide column


def test_strings_stay_strings_and_formulas_are_escaped(book) -> None:
    sheet = book["等级名单"]
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)  # nothing the spreadsheet would evaluate
    assert not sheet._hyperlinks  # a URL-looking name is text, not a link
    shown = [c.value for c in cells]
    assert '\'=HYPERLINK("x")' in shown and "'-D" in shown and "'=1+1、罚款" in shown
    assert "http://evil.example/x" in shown
    assert sheet["B4"].value == "91350200776049653A" and sheet["B4"].data_type == "s"


def test_sheet_names_follow_excels_rules(tmp_path: Path) -> None:
    name = "行政处罚决定书" * 5  # 35 characters
    sheets = [Sheet(name, NOTES), Sheet(name, NOTES), Sheet("a/b:c", NOTES)]
    path = write_workbook(Workbook(title="t", sheets=sheets), tmp_path / "long.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == [name[:31], name[:28] + "(2)", "a_b_c"]
    book.close()


def test_the_issuer_defaults_to_the_environment_then_the_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RENFANG_ISSUER", raising=False)
    assert issuer() == "人防行业信用监管中心"
    monkeypatch.setenv("RENFANG_ISSUER", "上海市民防监督管理事务中心")
    path = write_workbook(Workbook(title="t", sheets=[Sheet("s", NOTES)]), tmp_path / "i.xlsx")
    book = load_workbook(path)
    assert book["s"]["A2"].value == "发布单位：上海市民防监督管理事务中心"
    book.close()


def test_write_workbook_replaces_an_old_file_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"old content")
    write_workbook(Workbook(title="t", sheets=[Sheet("汇总", NOTES)]), path)
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]
    book = load_workbook(path)
    assert book.sheetnames == ["汇总"]
    book.close()


def test_readable_gives_a_csv_chinese_headers_and_labels() -> None:
    out = readable(TIERS.select("uscc", "firm_type", "veto"))
    assert out.columns == ["统一社会信用代码", "单位类型", "一票否决"]
    assert out["单位类型"].to_list() == [
        "人防工程设计单位",
        "人防防护设备检测机构",
        "人防工程监理单位",
    ]
    assert out["一票否决"].to_list() == ["否", "否", "是"]


# --- write_csv -------------------------------------------------------------------------------


CSV_ROWS = pl.DataFrame(
    {
        "统一社会信用代码": ["91350200776049653A", "91440101MA5CJQ4N59", '=HYPERLINK("x")'],
        "信用等级": ["A", "B", "-D"],
        "得分": [98.5, 80.0, -3.0],
        "处罚种类": [["警告", "罚款"], ["警告"], ["=1+1", "罚款"]],
        "评价日期": [date(2024, 6, 30)] * 3,
    }
)


def test_write_csv_starts_with_a_bom_and_round_trips_chinese_headers(tmp_path: Path) -> None:
    path = write_csv(CSV_ROWS, tmp_path / "exports" / "tiers.csv")
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


@pytest.mark.parametrize("first_line", [None, "草案 — 未公布 / DRAFT"])
def test_write_csv_writes_exactly_the_bytes_csv_bytes_gives(
    tmp_path: Path, first_line: str | None
) -> None:
    """The file is streamed by polars; a caller comparing `csv_bytes` with it (the public
    lists' fingerprints) must see the same bytes, hostile cells and a draft's first line
    included."""
    hostile = CSV_ROWS.with_columns(
        pl.Series("备注", ['含,逗号与"引号"', "多\n行", None]),
    )
    path = write_csv(hostile, tmp_path / "f.csv", first_line=first_line)
    assert path.read_bytes() == csv_bytes(hostile, first_line=first_line)
    assert not (tmp_path / "f.csv.tmp").exists()


_WIDE = ((0x1100, 0x115F), (0x2E80, 0xA4CF), (0xAC00, 0xD7A3), (0xF900, 0xFAFF),
         (0xFE30, 0xFE4F), (0xFF00, 0xFF60), (0xFFE0, 0xFFE6))  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet=st.sampled_from([*"aZ9 -单位（）、ＡＢ가", "é", "—", "🙂"])),
            st.text(alphabet=st.sampled_from(list("ab 1单位名称（）、"))),
        ),
        max_size=30,
    )
)
def test_text_width_counts_wide_characters_twice(values: list[str | None]) -> None:
    """A column's width is the 98th percentile of its texts' widths (a wide character counts
    two), whether or not the column holds only ASCII and wide characters."""
    from warehouse.exports import _text_width

    widths = sorted(
        len(v) + sum(any(lo <= ord(c) <= hi for lo, hi in _WIDE) for c in v)
        for v in values
        if v is not None
    )
    expected = pl.Series(widths, dtype=pl.UInt32).quantile(0.98, interpolation="higher")
    assert _text_width(pl.Series(values, dtype=pl.Utf8)) == int(expected or 0)
