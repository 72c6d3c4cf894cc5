"""The rule set's cross-field rules on penalty decisions: statutory fine limits by category
(人民防空法 art. 48/49) under the rule set in force on the decision date, and a decision not
to penalise that names a penalty."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import yaml

from models.contracts import default_contracts
from models.penalty_checks import penalty_rules
from models.row_checks import CleanResult, clean_source
from models.rules import RuleSet, default_rule_set, parse_rule_set

CONTRACTS = default_contracts()
FIRM = "91350200776049653A"


def _raw(*rows: dict[str, str]) -> pl.DataFrame:
    base = {"uscc": FIRM, "decided_on": "2024-03-05", "penalty_types": "罚款",
            "source_file": "a.csv", "file_sha256": "x"}  # fmt: skip
    frame = pl.DataFrame([base | {"doc_no": f"沪国动罚〔2024〕{i}号"} | r
                          for i, r in enumerate(rows, 1)])  # fmt: skip
    return frame.with_columns(
        source_row=pl.int_range(2, 2 + pl.len()), file_first_seen=pl.lit(datetime(2025, 1, 1))
    )


def _clean(raw: pl.DataFrame, adopted: list[tuple[date, RuleSet]]) -> CleanResult:
    return clean_source(
        raw, CONTRACTS.source("penalty_decisions"), CONTRACTS, today=date(2025, 1, 1),
        rules=penalty_rules(adopted),
    )  # fmt: skip


def test_a_fine_above_its_categorys_statutory_maximum_is_quarantined_with_the_basis():
    result = _clean(
        _raw(
            {"violation_category": "未按规定设计防空地下室", "fine_amount": "100000"},  # art. 48
            {"violation_category": "未按规定设计防空地下室", "fine_amount": "100001"},
            {"violation_category": "监理未履行职责", "fine_amount": "50000"},  # art. 49
            {"violation_category": "监理未履行职责", "fine_amount": "6万元"},
            {"fine_amount": "60000"},  # no category: the catch-all (art. 49)
        ),
        [(date(2021, 1, 1), default_rule_set())],
    )
    assert result.accepted["doc_no"].to_list() == ["沪国动罚〔2024〕1号", "沪国动罚〔2024〕3号"]
    quarantined = result.quarantine.sort("row_number")
    assert quarantined["reason_code"].to_list() == ["fine_above_limit"] * 3
    assert "第四十八条" in quarantined["reason"][0] and "100000" in quarantined["reason"][0]
    assert "第四十九条" in quarantined["reason"][1]


def test_the_rule_set_in_force_on_the_decision_date_judges_it():
    data = yaml.safe_load(default_rule_set().canonical_json())
    data["version"] = "higher"
    data["penalties"]["fine_limits"] = [{"categories": [], "max": 200000, "basis": "地方条例"}]
    higher = parse_rule_set(yaml.safe_dump(data, allow_unicode=True))
    adopted = [(date(2021, 1, 1), default_rule_set()), (date(2024, 6, 1), higher)]
    result = _clean(
        _raw(
            {"violation_category": "监理未履行职责", "fine_amount": "80000"},
            {"violation_category": "监理未履行职责", "fine_amount": "80000",
             "decided_on": "2024-07-01"},
        ),
        adopted,
    )  # fmt: skip
    assert result.accepted["doc_no"].to_list() == ["沪国动罚〔2024〕2号"]


def test_a_decision_not_to_penalise_cannot_name_a_penalty_or_a_fine():
    result = _clean(
        _raw(
            {"penalty_types": "不予处罚"},
            {"penalty_types": "轻微违法免罚"},
            {"penalty_types": "不予处罚、罚款", "fine_amount": "1000"},
            {"penalty_types": "不予处罚", "fine_amount": "1000"},
        ),
        [(date(2021, 1, 1), default_rule_set())],
    )
    assert result.accepted.height == 2
    assert result.quarantine["reason_code"].to_list() == ["no_penalty_with_penalty"] * 2
