"""The association's tier list and the public feed, shaped from ten-row frames."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from models.labels import default_labels
from models.publication import (
    COVER_SHEET,
    PUBLIC_FIELDS,
    RESULT_INPUT,
    ROUND_INPUT,
    TIER_LIST_COLUMNS,
    disclosure_feed,
    tier_list_sheets,
)
from models.rules import default_rule_set

AS_OF = date(2025, 12, 31)
FIRMS = pl.DataFrame(
    {
        "uscc": ["U1", "U2", "U3", "U4"],
        "name": ["甲设计", "乙设计", "丙监理", "=丁设备"],
        "firm_type": ["design", "design", "supervision", "protective_equipment"],
        "district": ["黄浦区", "徐汇区", "静安区", "宝山区"],
        "qualification": ["甲级", None, "乙级", None],
        "score": [70.0, 88.0, 40.0, 75.0],
        "tier": ["B", "A", "D", "D"],
        "veto": [False, False, False, True],
        "address": ["secret", "secret", "secret", "secret"],
        "phone": ["1", "2", "3", "4"],
    }
)


def test_a_cover_sheet_then_one_sheet_per_firm_type_best_tier_first():
    sheets = tier_list_sheets(FIRMS, default_rule_set(), AS_OF, default_labels())
    assert list(sheets) == [
        COVER_SHEET,
        "人防工程设计单位",
        "人防工程监理单位",
        "人防防护设备生产安装企业",
    ]
    design = sheets["人防工程设计单位"]
    assert design.columns == list(TIER_LIST_COLUMNS)  # headers come from the catalogue
    assert [default_labels().column(c) for c in design.columns] == [
        "统一社会信用代码", "单位名称", "所属区", "资质等级", "信用得分", "信用等级", "等级名称",
        "一票否决",
    ]  # fmt: skip
    assert design["name"].to_list() == ["乙设计", "甲设计"]  # A before B
    assert design["tier_label"].to_list() == ["守信", "基本守信"]
    assert sheets["人防防护设备生产安装企业"]["veto"].to_list() == [True]
    cover = {r[0]: r[1] for r in sheets[COVER_SHEET].iter_rows()}
    assert sheets[COVER_SHEET].columns == ["parameter", "value", "meaning"]
    assert cover["截至日期"] == "2025-12-31"
    assert cover["评价标准版本"] == default_rule_set().version
    assert cover["A 级 守信"] == "信用得分 ≥ 85"
    assert cover["D 级 严重失信"] == "信用得分 0 – < 45，或一票否决"


def test_the_public_feed_holds_public_fields_only():
    rounds = pl.DataFrame(
        [("2026Q1", AS_OF, date(2026, 1, 1), date(2026, 3, 31), 7, "draw-1", "ab", 10, 3)],
        schema=ROUND_INPUT,
        orient="row",
    )
    results = pl.DataFrame(
        [("2026Q1", "U1", "未发现问题"), ("2026Q1", "U3", None)], schema=RESULT_INPUT, orient="row"
    )
    feed = disclosure_feed(
        FIRMS, rounds, results, rules=default_rule_set(), labels=default_labels(), as_of=AS_OF,
        generated_at=datetime(2026, 1, 1, 8),
    )  # fmt: skip
    assert list(feed) == ["firms", "tiers", "rounds", "results", "legend", "feed_info"]
    for name, frame in feed.items():
        assert tuple(frame.columns) == PUBLIC_FIELDS[name], name
    assert feed["results"]["result"].to_list() == ["未发现问题", "待检查"]
    legend = {(r["field"], r["code"]) for r in feed["legend"].iter_rows(named=True)}
    assert {("tier", "D"), ("firm_type", "testing"), ("result", "待检查")} <= legend
    info = dict(feed["feed_info"].iter_rows())
    assert info["as_of"] == "2025-12-31" and info["rows.tiers"] == "4"
