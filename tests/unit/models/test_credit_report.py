"""A credit report's facts: the same facts give the same JSON and code; what differs is named;
tiers carry their risk-class names and never a name the law reserves for a decided list."""

from __future__ import annotations

from datetime import date

import polars as pl

from models.credit_report import (
    canonical_json,
    fact_differences,
    normalised_text,
    qr_payload,
    report_facts,
    tier_label,
    verification_code,
)
from models.rules import default_rule_set

RULES = default_rule_set()


def _facts(points: float = -10.0) -> dict:
    reasons = pl.DataFrame(
        {
            "evidence_doc_no": ["罚〔2024〕1号"], "evidence_type": ["行政处罚决定书"],
            "severity": ["L3"], "category": ["超越资质范围承接业务"],
            "valid_from": [date(2024, 3, 5)], "valid_until": [date(2026, 3, 5)],
            "points": [points], "veto": [False],
        }
    )  # fmt: skip
    history = pl.DataFrame(
        {"as_of": [date(2025, 11, 30), date(2025, 12, 31)], "score": [70.0, 60.0],
         "tier": ["B", "C"]}
    )  # fmt: skip
    return report_facts(
        firm={"uscc": "91310115MA1FL07778", "name": "某设计院", "firm_type": "design",
              "district": "浦东新区", "qualification": None},
        score={"score": 70 + points, "tier": "C", "veto": False, "veto_reason": None,
               "veto_until": None, "bonus_points": 0.0, "deduction_points": -points,
               "rule_set_version": RULES.version},
        reasons=reasons, history=history,
        path={"next_tier": "B", "next_tier_on": date(2026, 3, 5), "next_tier_score": 70.0},
        cases=pl.DataFrame(schema={"case_id": pl.Utf8, "kind": pl.Utf8,
                                   "record_doc_no": pl.Utf8, "filed_on": pl.Date}),
        listings=pl.DataFrame(schema={"case_id": pl.Utf8}),
        rules=RULES, as_of=date(2025, 12, 31), issuer="监管中心",
    )  # fmt: skip


def test_the_same_facts_give_the_same_json_and_code() -> None:
    a, b = _facts(), _facts()
    assert canonical_json(a) == canonical_json(b)
    assert verification_code(a) == verification_code(b)
    assert len(verification_code(a)) == 64
    assert qr_payload(a).endswith(verification_code(a))
    assert '"score":"60.00"' in canonical_json(a)  # numbers as text: no float in the JSON
    assert a["score"] == "60.00" and a["risk_class"] == "信用风险较高"
    assert a["records"][0]["doc_no"] == "罚〔2024〕1号"
    assert a["next_tier"] == {"tier": "B", "min_score": "65.0", "on": "2026-03-05",
                              "score": "70.00"}  # fmt: skip


def test_changed_facts_change_the_code_and_are_named() -> None:
    a, b = _facts(), _facts(points=-5.0)
    assert verification_code(a) != verification_code(b)
    found = fact_differences(a, b)
    assert any(d.startswith("score:") for d in found)
    assert any(d.startswith("records[0].points") for d in found)
    assert fact_differences(a, _facts()) == []


def test_a_reserved_name_is_never_a_tier_label() -> None:
    tiers = [t.model_copy(update={"label_zh": "严重失信"}) if t.tier == "D" else t
             for t in RULES.tiers]  # fmt: skip
    rules = RULES.model_copy(update={"tiers": tiers})
    assert tier_label(rules, "D") == "D 类"
    assert tier_label(RULES, "A") == "信用风险低"


def test_text_compares_without_white_space() -> None:
    assert normalised_text("得分 60.00\n等级 C") == normalised_text("得分60.00 等级\r\nC")
