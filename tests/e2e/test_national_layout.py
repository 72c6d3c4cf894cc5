"""The national 双公示 行政处罚信息 layout, read as it comes, on real warehouses.

Two warehouses are built with `renfang run` from the fixture landing folder whose penalty
decisions are replaced by the same decisions in two layouts: the project's own (fines in
yuan) and the national exchange layout (行政相对人名称, 行政相对人代码_1(统一社会信用代码),
行政处罚决定书文号, 处罚类别 separated by semicolons, 罚款金额（万元）, 公示截止期, 数据来源单位 …,
as credit platforms export it, not edited). Neither states a collection date, so both are
collected on the day they are received. They must give the same decisions, fines, records
and scores, and the review report must name the layout each file was read as.
"""

from __future__ import annotations

import csv
import io
import shutil
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

from pipelines.assets.review import REPORT_FILE
from warehouse.connection import query as query_frame

pytestmark = pytest.mark.slow

NAMES = {
    FIRM_DESIGN: "上海申防人防工程设计有限公司",
    FIRM_SUPERVISION: "上海黄浦建设监理咨询有限公司",
    FIRM_EQUIPMENT: "上海徐汇防护设备有限公司",
    FIRM_REVIEW: "上海静安人防施工图审查中心",
    FIRM_TESTING: "上海宝山防护设备检测有限公司",
}
AUTHORITY = "上海市国防动员办公室"
# doc_no, uscc, decided_on, category, types, fine in yuan, publication until
DECISIONS = [
    ("沪国动罚〔2024〕31号", FIRM_DESIGN, "2024-03-05", "未按规定设计防空地下室", ["警告", "罚款"], 80_000, "2027-03-04"),
    ("沪国动罚〔2024〕32号", FIRM_SUPERVISION, "2024-06-10", "监理未履行职责", ["罚款"], 15_000, "2025-06-09"),
    ("沪国动罚〔2024〕33号", FIRM_EQUIPMENT, "2024-09-02", "生产销售不合格防护设备", ["罚款", "暂扣许可证件"], 45_000, "2027-09-01"),
    ("沪国动罚〔2025〕34号", FIRM_REVIEW, "2025-02-17", "其他违反人防法规行为", ["警告"], None, "2025-05-16"),
    ("沪国动罚〔2025〕35号", FIRM_TESTING, "2025-05-20", "伪造检测报告或生产记录", ["罚款", "通报批评"], 2_500, "2026-05-19"),
    ("沪国动罚〔2025〕36号", FIRM_DESIGN, "2025-07-01", "超越资质范围承接业务", ["罚款"], 10_000, "2026-06-30"),
]  # fmt: skip

PROJECT_HEADER = [
    "决定书文号", "统一社会信用代码", "当事人名称", "决定日期", "违法行为类别", "处罚种类",
    "罚款金额（元）", "处罚机关", "公示截止日期",
]  # fmt: skip
"""The project's own headers (no 状态 and no 归集日期, which the national layout lacks)."""
NATIONAL_HEADER = [
    "行政相对人名称", "行政相对人类别", "行政相对人代码_1(统一社会信用代码)",
    "行政相对人代码_2(工商注册号)", "法定代表人", "行政处罚决定书文号", "违法行为类型", "违法事实",
    "处罚依据", "处罚类别", "处罚内容", "罚款金额（万元）",
    "没收违法所得、没收非法财物的金额（万元）", "暂扣或吊销证照名称及编号", "处罚决定日期",
    "处罚有效期", "公示截止期", "处罚机关", "处罚机关统一社会信用代码", "数据来源单位",
    "数据来源单位统一社会信用代码", "备注",
]  # fmt: skip


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def project_layout() -> str:
    rows = [PROJECT_HEADER] + [
        [doc, uscc, NAMES[uscc][:4], day, category, "、".join(types),
         "" if fine is None else str(fine), AUTHORITY, until]
        for doc, uscc, day, category, types, fine, until in DECISIONS
    ]  # fmt: skip
    return _csv(rows)


def national_layout() -> str:
    rows = [NATIONAL_HEADER] + [
        [NAMES[uscc], "法人及非法人组织", uscc, "", "张三", doc, category, "违法事实（略）",
         "《中华人民共和国人民防空法》", ";".join(types),
         f"{'、'.join(types)}" + ("" if fine is None else f"，罚款{fine / 10_000:g}万元"),
         "" if fine is None else f"{fine / 10_000:g}", "", "", day.replace("-", "/"), "", until,
         AUTHORITY, "11310000MB0123456X", AUTHORITY, "11310000MB0123456X", ""]
        for doc, uscc, day, category, types, fine, until in DECISIONS
    ]  # fmt: skip
    return _csv(rows)


def build(root: Path, text: str, encoding: str) -> Path:
    landing = write_fixture_landing(root / "landing")
    shutil.rmtree(landing / "penalty_decisions")
    (landing / "penalty_decisions").mkdir()
    (landing / "penalty_decisions" / "行政处罚.csv").write_bytes(text.encode(encoding))
    renfang("run", "--landing", str(landing), root=root)
    return root


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    ours = build(tmp_path_factory.mktemp("project"), project_layout(), "utf-8")
    # as a platform exports it: GBK, semicolon lists, amounts in 万元, slashed dates
    theirs = build(tmp_path_factory.mktemp("national"), national_layout(), "gbk")
    return ours, theirs


def table(root: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        return query_frame(con, sql)


DECISION_COLUMNS = (
    "doc_no, uscc, decided_on, violation_category, penalty_types, fine_amount, authority, "
    "status, publication_until, collected_on"
)


def test_the_national_file_is_read_whole_without_editing(both: tuple[Path, Path]) -> None:
    _, theirs = both
    files = table(theirs, "SELECT status, layout, problem FROM landing_files "
                  "WHERE source = 'penalty_decisions'")  # fmt: skip
    assert files.rows() == [("ok", "national_double_publicity", None)]
    quarantined = table(theirs, "SELECT count(*) AS n FROM quarantine "
                        "WHERE source = 'penalty_decisions'")  # fmt: skip
    assert quarantined["n"][0] == 0
    fines = dict(table(theirs, "SELECT doc_no, fine_amount FROM penalty_decisions").rows())
    assert fines["沪国动罚〔2024〕31号"] == 80_000.0  # 8万元, within art. 48's 100,000
    assert fines["沪国动罚〔2025〕35号"] == 2_500.0  # 0.25万元
    assert fines["沪国动罚〔2025〕34号"] is None


def test_the_same_decisions_fines_records_and_scores_as_the_project_layout(
    both: tuple[Path, Path],
) -> None:
    ours, theirs = both
    order = "ORDER BY doc_no"
    decisions = f"SELECT {DECISION_COLUMNS} FROM penalty_decisions {order}"
    assert table(ours, decisions).equals(table(theirs, decisions))
    assert table(ours, decisions).height == len(DECISIONS)
    records = "SELECT * EXCLUDE (rule_set_version) FROM credit_records ORDER BY record_id, segment"
    assert table(ours, records).equals(table(theirs, records))
    scores = "SELECT * FROM credit_scores ORDER BY as_of, uscc"
    assert table(ours, scores).equals(table(theirs, scores))
    # the feed's dates and amounts (its texts are what each file states: the national one
    # carries 违法事实 and 处罚依据 the project's file here leaves out)
    feed = (
        "SELECT doc_no, uscc, decided_on, severity, fine_wan, published_on, late, "
        "publish_until, ended_on, end_reason FROM penalty_disclosures ORDER BY doc_no"
    )
    assert table(ours, feed).equals(table(theirs, feed))


def test_the_review_report_names_the_layout_each_file_was_read_as(
    both: tuple[Path, Path],
) -> None:
    for root, expected in zip(
        both, ("本项目格式", "双公示行政处罚信息（国家标准格式）"), strict=True
    ):
        book = load_workbook(root / "reports" / f"{REPORT_FILE}.xlsx", read_only=True)
        rows = list(book["文件读取格式"].iter_rows(min_row=3, values_only=True))
        header, body = rows[0], rows[1:]
        assert header[:4] == ("序号", "数据来源", "文件", "读取格式")
        penalties = [r for r in body if r[2] == "penalty_decisions/行政处罚.csv"]
        assert [r[3] for r in penalties] == [expected]
