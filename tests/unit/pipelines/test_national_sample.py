"""The sample's penalty decisions in the national 双公示 layout, read as they come (issue 14:
such a file was once rejected whole). The accepted decisions of the bundled sample are
written twice — in the project's layout and in the national exchange layout (GBK, 万元,
semicolon-separated 处罚类别, slashed dates), neither stating a collection date — and read
through the same ingestion and credit engine: same decisions, fines, records and scores."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from models.contracts import default_contracts
from models.engine import no_cases, score_documents
from models.rules import default_rule_set
from warehouse.ingestion import clean_folder
from warehouse.landing import LandingFolder

SAMPLE = Path(__file__).parents[3] / "data" / "sample" / "landing"
TODAY = "2026-06-30"
CONTENT = ["doc_no", "uscc", "firm_name", "decided_on", "violation_category", "violation",
           "legal_basis", "penalty_types", "fine_amount", "effective_until", "authority",
           "status"]  # fmt: skip


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _text(value: object) -> str:
    return "" if value is None else str(value)


def project(decisions: pl.DataFrame) -> str:
    header = ["决定书文号", "统一社会信用代码", "当事人名称", "决定日期", "违法行为类别",
              "违法事实", "处罚依据", "处罚种类", "罚款金额（元）", "处罚期限至", "处罚机关",
              "状态"]  # fmt: skip
    rows = [
        [_text(r["doc_no"]), r["uscc"], _text(r["firm_name"]), str(r["decided_on"]),
         _text(r["violation_category"]), _text(r["violation"]), _text(r["legal_basis"]),
         "、".join(r["penalty_types"]), "" if r["fine_amount"] is None else f"{r['fine_amount']:g}",
         _text(r["effective_until"]), _text(r["authority"]), _text(r["status"])]
        for r in decisions.iter_rows(named=True)
    ]  # fmt: skip
    return _csv([header, *rows])


def national(decisions: pl.DataFrame) -> str:
    header = ["行政相对人名称", "行政相对人类别", "行政相对人代码_1(统一社会信用代码)",
              "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据", "处罚类别", "处罚内容",
              "罚款金额（万元）", "处罚决定日期", "处罚有效期", "公示截止期", "处罚机关",
              "数据来源单位", "状态"]  # fmt: skip
    rows = [
        [_text(r["firm_name"]), "法人及非法人组织", r["uscc"], _text(r["doc_no"]),
         _text(r["violation_category"]), _text(r["violation"]), _text(r["legal_basis"]),
         ";".join(r["penalty_types"]), "",
         "" if r["fine_amount"] is None else f"{r['fine_amount'] / 10_000:g}",
         str(r["decided_on"]).replace("-", "/"), _text(r["effective_until"]).replace("-", "/"),
         "", _text(r["authority"]), _text(r["authority"]), _text(r["status"])]
        for r in decisions.iter_rows(named=True)
    ]  # fmt: skip
    return _csv([header, *rows])


def landing(root: Path, text: str, encoding: str) -> LandingFolder:
    shutil.copytree(SAMPLE / "firms", root / "firms")
    (root / "penalty_decisions").mkdir()
    (root / "penalty_decisions" / "处罚.csv").write_bytes(text.encode(encoding))
    return LandingFolder(path=str(root), today=TODAY)


@pytest.fixture(scope="module")
def decisions(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    root = tmp_path_factory.mktemp("sample")
    shutil.copytree(SAMPLE / "firms", root / "firms")
    shutil.copytree(SAMPLE / "penalty_decisions", root / "penalty_decisions")
    accepted = clean_folder(LandingFolder(path=str(root), today=TODAY), default_contracts())
    return accepted["penalty_decisions"].sort("doc_no")


def test_the_samples_decisions_in_the_national_layout_give_the_same_scores(
    decisions: pl.DataFrame, tmp_path: Path
) -> None:
    assert decisions.height >= 200
    results = []
    for name, text, encoding in (("ours", project(decisions), "utf-8"),
                                 ("national", national(decisions), "gbk")):  # fmt: skip
        folder = landing(tmp_path / name, text, encoding)
        clean = clean_folder(folder, default_contracts())
        firms = clean["firms"]
        penalties = clean["penalty_decisions"].sort("doc_no")
        scores = score_documents(
            {"penalty_decisions": penalties}, no_cases(), firms, default_rule_set(),
            [date(2022, 12, 31), date(2024, 6, 30), date(2026, 6, 30)],
        ).scores  # fmt: skip
        results.append((penalties, scores))
    (ours, our_scores), (theirs, their_scores) = results
    assert ours.height == theirs.height == decisions.height  # nothing rejected
    assert ours.select(CONTENT).equals(theirs.select(CONTENT))
    assert ours.select(CONTENT).equals(decisions.select(CONTENT))  # the sample's own decisions
    assert our_scores.equals(their_scores)
    assert their_scores.filter(pl.col("tier") != "B").height > 0  # the decisions do move tiers
