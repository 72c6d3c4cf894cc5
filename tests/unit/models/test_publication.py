"""The association's tier list and the public feed, shaped from ten-row frames."""

from __future__ import annotations

from datetime import date, datetime
from importlib import resources

import polars as pl
import yaml

from models.labels import default_labels
from models.listing import LISTING_SCHEMA
from models.publication import (
    COVER_SHEET,
    PUBLIC_FIELDS,
    RESULT_INPUT,
    ROUND_INPUT,
    TIER_LIST_COLUMNS,
    disclosure_feed,
    tier_list_sheets,
)
from models.rules import default_rule_set, parse_rule_set

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
    # the association's audience: every column (scores, veto, qualification, the legal list)
    assert design.columns == list(TIER_LIST_COLUMNS)  # headers come from the catalogue
    assert [default_labels().column(c) for c in design.columns] == [
        "统一社会信用代码", "单位名称", "所属区", "资质等级", "信用得分", "信用等级", "等级名称",
        "一票否决", "严重失信主体名单",
    ]  # fmt: skip
    assert design["name"].to_list() == ["乙设计", "甲设计"]  # A before B
    # labels are risk classes (issue 14: were 守信 / 基本守信 … 严重失信)
    assert design["tier_label"].to_list() == ["信用风险低", "信用风险一般"]
    assert sheets["人防防护设备生产安装企业"]["veto"].to_list() == [True]
    cover = {r[0]: r[1] for r in sheets[COVER_SHEET].iter_rows()}
    assert sheets[COVER_SHEET].columns == ["parameter", "value", "meaning"]
    assert cover["截至日期"] == "2025-12-31"
    assert cover["评价标准版本"] == default_rule_set().version
    assert cover["A 级 信用风险低"] == "信用得分 ≥ 85"
    assert cover["D 级 信用风险高"].startswith("信用得分 0 – < 45，或一票否决")
    assert "不是失信认定" in cover["说明"]
    every = [str(v) for frame in sheets.values() for col in frame.columns
             for v in [default_labels().column(col), *frame[col].to_list()]]  # fmt: skip
    assert not any("严重失信" in v and "名单" not in v for v in every)


def test_a_decided_listing_shows_by_its_decision_number_a_score_never_does():
    listed = pl.DataFrame(
        [("L-1", "U4", "=丁设备", "人防信用决〔2025〕1号", AS_OF, AS_OF, date(2028, 12, 30), "…")],
        schema=LISTING_SCHEMA,
        orient="row",
    )
    sheets = tier_list_sheets(FIRMS, default_rule_set(), AS_OF, default_labels(), listed=listed)
    equipment = sheets["人防防护设备生产安装企业"]
    assert equipment["listed"].to_list() == ["是（人防信用决〔2025〕1号）"]
    assert sheets["人防工程监理单位"]["listed"].to_list() == ["否"]  # D by score only


def test_the_public_audience_gets_the_a_list_without_scores():
    sheets = tier_list_sheets(FIRMS, default_rule_set(), AS_OF, default_labels(), audience="public")
    assert list(sheets) == [COVER_SHEET, "人防工程设计单位"]
    design = sheets["人防工程设计单位"]
    assert design["name"].to_list() == ["乙设计"]
    assert "score" not in design.columns and "veto" not in design.columns


def test_an_old_rule_set_labelled_by_a_reserved_name_is_published_as_a_risk_class():
    data = yaml.safe_load(
        resources.files("models").joinpath("rulesets", "default.yaml").read_text("utf-8")
    )
    data["version"] = "old-labels"
    data["tiers"][3]["label_zh"] = "严重失信"
    data["tiers"][3]["label_en"] = "seriously untrustworthy"
    old = parse_rule_set(yaml.safe_dump(data, allow_unicode=True))
    assert old.public_label("D") == "信用风险高"
    assert old.public_label("D", "en") == "high credit risk"
    assert old.public_label("A") == "信用风险低"
    sheets = tier_list_sheets(FIRMS, old, AS_OF, default_labels())
    assert sheets["人防工程监理单位"]["tier_label"].to_list() == ["信用风险高"]


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
    assert list(feed) == [
        "firms", "tiers", "rounds", "results", "serious_dishonesty", "penalties", "legend",
        "feed_info",
    ]  # fmt: skip
    for name, frame in feed.items():
        assert tuple(frame.columns) == PUBLIC_FIELDS[name], name
    assert feed["results"]["result"].to_list() == ["未发现问题", "待检查"]
    legend = {(r["field"], r["code"]) for r in feed["legend"].iter_rows(named=True)}
    assert {("tier", "D"), ("firm_type", "testing"), ("result", "待检查")} <= legend
    info = dict(feed["feed_info"].iter_rows())
    # the public audience receives the A list only (issue 14: before, every tier)
    assert info["as_of"] == "2025-12-31" and info["rows.tiers"] == "1"
    assert feed["tiers"]["uscc"].to_list() == ["U2"]
    # firms named nowhere in the feed are not listed
    assert sorted(feed["firms"]["uscc"].to_list()) == ["U1", "U2", "U3"]
    texts = [str(v) for f in feed.values() for c in f.columns for v in f[c].to_list()]
    assert not any("严重失信" in t and "名单" not in t for t in texts)
