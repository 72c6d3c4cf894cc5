"""`renfang export tier-list|disclosure` on a copy of the fixture warehouse in which one firm
carries a formula-injection name: the files are read back with openpyxl and csv."""

from __future__ import annotations

import codecs
import csv
import shutil
from pathlib import Path

import duckdb
import pytest
from fixtures.landing import MARKDOWN_NAME, URL_NAME
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from typer.testing import CliRunner

from models.labels import default_labels
from models.publication import PUBLIC_FIELDS, TIER_LIST_COLUMNS
from models.rules import default_rule_set
from pipelines.cli import app

EVIL_NAME = '=HYPERLINK("http://evil.example","点我")'
EVIL_DISTRICT = "@SUM(A1)"


@pytest.fixture(scope="module")
def warehouse(dashboard_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exports") / "warehouse.duckdb"
    shutil.copy(dashboard_warehouse, path)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "UPDATE firms SET name = ?, district = ? WHERE uscc = (SELECT min(uscc) FROM firms)",
            [EVIL_NAME, EVIL_DISTRICT],
        )
    return path


def export(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["export", *args])
    return result.exit_code, result.output


def test_the_tier_list_has_a_cover_and_a_sheet_per_firm_type(warehouse: Path, tmp_path: Path):
    out = tmp_path / "名单.xlsx"
    code, output = export(
        "tier-list", "--as-of", "2025-12-31", "--out", str(out), "--warehouse", str(warehouse)
    )
    assert code == 0, output
    assert "tier list as of 2025-12-31: 5 firms" in output
    book = load_workbook(out)
    assert book.sheetnames == [
        "封面",
        "人防工程设计单位",
        "人防工程监理单位",
        "人防防护设备生产安装企业",
        "人防施工图审查机构",
        "人防防护设备检测机构",
    ]
    cover = {row[0]: row[1] for row in book["封面"].iter_rows(min_row=4, values_only=True)}
    assert [c.value for c in book["封面"][3]] == ["参数", "取值", "含义"]
    assert cover["截至日期"] == "2025-12-31"
    assert cover["评价标准版本"] == default_rule_set().version
    # risk classes (issue 14: were 守信 · 基本守信 · 失信风险较高 · 严重失信)
    assert {"A 级 信用风险低", "B 级 信用风险一般", "C 级 信用风险较高", "D 级 信用风险高"} <= set(
        cover
    )
    headers = ["序号", *(default_labels().column(c) for c in TIER_LIST_COLUMNS)]
    rows = 0
    for sheet in book.worksheets[1:]:
        assert sheet["A1"].value == f"人防行业从业单位信用等级名单（{sheet.title}）"
        assert sheet["A2"].value.startswith("数据截至：2025-12-31　发布单位：")
        assert [c.value for c in sheet[3]] == headers
        assert sheet.freeze_panes == "A4"
        last = 3 + sheet.max_row - 3
        assert sheet.auto_filter.ref == f"A3:{get_column_letter(len(headers))}{last}"
        assert sheet.column_dimensions["C"].width >= 2 * 10  # Chinese names: two columns each
        assert sheet["F4"].number_format == "0.0" and isinstance(sheet["F4"].value, int | float)
        assert sheet["I4"].value in ("是", "否")
        assert int(sheet.page_setup.paperSize) == 9 and sheet.print_title_rows == "$1:$3"
        assert sheet.page_setup.fitToHeight == 0 and sheet.sheet_properties.pageSetUpPr.fitToPage
        rows += sheet.max_row - 3
    assert rows == 5
    cells = [c.value for s in book.worksheets for row in s.iter_rows() for c in row]
    assert "'" + EVIL_NAME in cells and "'" + EVIL_DISTRICT in cells
    assert EVIL_NAME not in cells and not any(str(v).startswith("=") for v in cells if v)


def test_url_and_markdown_firm_names_stay_plain_strings_in_the_tier_list(
    warehouse: Path, tmp_path: Path
):
    """xlsxwriter turns strings that look like URLs into live hyperlinks unless told not to:
    a firm named `http://evil.example/phish` must be a plain string cell, never a link."""
    out = tmp_path / "名单.xlsx"
    code, output = export(
        "tier-list", "--as-of", "2025-12-31", "--out", str(out), "--warehouse", str(warehouse)
    )
    assert code == 0, output
    book = load_workbook(out)
    found = {
        cell.value: cell
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value in (URL_NAME, MARKDOWN_NAME)
    }
    assert set(found) == {URL_NAME, MARKDOWN_NAME}
    for cell in found.values():
        assert cell.data_type == "s" and cell.hyperlink is None
    assert not any(sheet._hyperlinks for sheet in book.worksheets)


def test_the_disclosure_feed_holds_public_fields_only(warehouse: Path, tmp_path: Path):
    out = tmp_path / "feed"
    code, output = export("disclosure", "--out", str(out), "--warehouse", str(warehouse))
    assert code == 0, output
    for name, fields in PUBLIC_FIELDS.items():
        raw = (out / f"{name}.csv").read_bytes()
        assert raw.startswith(codecs.BOM_UTF8), name
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
        assert tuple(rows[0]) == fields, name
    firms = list(csv.DictReader((out / "firms.csv").read_text("utf-8-sig").splitlines()))
    assert len(firms) == 5 and {"'" + EVIL_NAME} <= {f["name"] for f in firms}
    results = list(csv.DictReader((out / "results.csv").read_text("utf-8-sig").splitlines()))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        drawn = con.execute("SELECT drawn FROM sampling_rounds").fetchall()[0][0]
    assert len(results) == drawn and {r["result"] for r in results} == {"待检查"}
    text = "".join(p.read_text("utf-8-sig") for p in out.glob("*.csv"))
    for secret in ("inspector", "is_control", "phone", "address", "score"):
        assert secret not in text


def test_a_date_without_scores_is_refused_with_the_fix(warehouse: Path, tmp_path: Path):
    code, output = export(
        "tier-list", "--as-of", "2025-12-15", "--out", str(tmp_path / "x.xlsx"),
        "--warehouse", str(warehouse),
    )  # fmt: skip
    assert code == 2
    assert "no scores stored as of 2025-12-15 (nearest: 2025-11-30, 2025-12-31)" in output
    assert "renfang score --as-of 2025-12-15" in output
    assert not (tmp_path / "x.xlsx").exists()


NOTES_SHEETS = {"封面", "说明"}


def test_every_workbook_the_pipeline_writes_has_the_office_layout(dashboard_warehouse: Path):
    """One writer for every workbook: the tier list, the review report, the round's plan and
    public list all carry a title and issuer line, 序号, a frozen filtered header, catalogue
    headers, A4 print setup, and Chinese file names."""
    reports = dashboard_warehouse.parent / "reports"
    books = sorted(reports.rglob("*.xlsx"))
    names = {p.name for p in books}
    assert {"信用等级名单_2025-12-31.xlsx", "评议报告.xlsx", "抽查计划_2026Q1.xlsx",
            "公示_2026Q1.xlsx"} <= names  # fmt: skip
    known = {label.zh for label in default_labels().columns.values()} | {"序号"}
    for path in books:
        assert not path.stem.isascii(), path.name  # Chinese file names by default
        book = load_workbook(path)
        for sheet in book.worksheets:
            where = f"{path.name}:{sheet.title}"
            assert sheet["A1"].value and sheet["A1"].font.b, where
            assert "发布单位：" in sheet["A2"].value, where
            header = [c.value for c in sheet[3]]
            assert set(header) <= known, (where, set(header) - known)  # words, not codes
            assert sheet.freeze_panes == "A4", where
            assert int(sheet.page_setup.paperSize) == 9 and sheet.print_title_rows == "$1:$3"
            assert sheet.page_setup.fitToHeight == 0, where
            if sheet.title in NOTES_SHEETS:
                assert header == ["参数", "取值", "含义"], where
            else:
                assert header[0] == "序号" and sheet.auto_filter.ref, where
        book.close()


def test_the_review_report_shows_rates_as_percentages_and_sources_as_words(dashboard_warehouse):
    book = load_workbook(dashboard_warehouse.parent / "reports" / "评议报告.xlsx")
    sheet = book["评议报告"]
    assert sheet["A1"].value == "人防行业信用信息归集评议报告"
    header = [c.value for c in sheet[3]]
    share = header.index("文号合规率") + 1
    assert sheet.cell(4, share).number_format == "0.0%"
    sources = {
        sheet.cell(r, header.index("数据来源") + 1).value for r in range(4, sheet.max_row + 1)
    }
    assert sources <= {"行政处罚决定书", "责令改正通知书", "通报", "全部"}
    book.close()
