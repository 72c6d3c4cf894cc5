"""`renfang export tier-list|disclosure` on a copy of the fixture warehouse in which one firm
carries a formula-injection name: the files are read back with openpyxl and csv."""

from __future__ import annotations

import codecs
import csv
import shutil
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from models.publication import PUBLIC_FIELDS, TIER_LIST_HEADERS_ZH
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
    cover = {row[0]: row[1] for row in book["封面"].iter_rows(min_row=2, values_only=True)}
    assert cover["截至日期"] == "2025-12-31"
    assert cover["评价标准版本"] == default_rule_set().version
    # risk classes (issue 14: were 守信 · 基本守信 · 失信风险较高 · 严重失信)
    assert {"A 级 信用风险低", "B 级 信用风险一般", "C 级 信用风险较高", "D 级 信用风险高"} <= set(
        cover
    )
    rows = 0
    for sheet in book.worksheets[1:]:
        header = [c.value for c in sheet[1]]
        assert header == list(TIER_LIST_HEADERS_ZH.values())
        assert sheet.freeze_panes == "A2"
        assert sheet.column_dimensions["B"].width > 10  # fitted to the firm names
        rows += sheet.max_row - 1
    assert rows == 5
    cells = [c.value for s in book.worksheets for row in s.iter_rows() for c in row]
    assert "'" + EVIL_NAME in cells and "'" + EVIL_DISTRICT in cells
    assert EVIL_NAME not in cells and not any(str(v).startswith("=") for v in cells if v)


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
