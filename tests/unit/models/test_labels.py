"""The label catalogue (models/labels.yaml): complete for every code the product stores,
distinct where shortened, and never hiding a code it does not know."""

from __future__ import annotations

import pytest

from models.contracts import SOURCE_ORDER, default_contracts
from models.labels import LabelError, Labels, default_labels, display_width, pad
from models.reasons import REASONS
from models.yaml_data import load_yaml_mapping, packaged_text

LABELS = default_labels()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_reason_source_and_firm_type_has_a_label(lang) -> None:
    for code in REASONS:
        assert LABELS.code("reason_code", code, lang) != code, code
    for source in SOURCE_ORDER:
        assert LABELS.code("table", source, lang) != source, source
        assert LABELS.code("table", f"raw_{source}", lang) != f"raw_{source}", source
    for code in default_contracts().enum_values("firm_type"):
        assert LABELS.firm_type(code, lang) != code
        assert LABELS.firm_type(code, lang, short=True) != code


def test_every_stored_chinese_term_of_the_contract_has_english() -> None:
    contracts = default_contracts()
    for enum in ("firm_status", "penalty_type", "procedure", "penalty_status", "review_result",
                 "circular_kind", "case_kind", "case_decision", "violation_category"):  # fmt: skip
        for value in contracts.enum_values(enum):
            assert LABELS.term(value, "en") != value, (enum, value)
            assert LABELS.term(value, "zh") == value


def test_short_firm_type_labels_stay_distinct_in_both_languages() -> None:
    for lang in ("zh", "en"):
        shorts = list(LABELS.firm_type_map(lang, short=True).values())
        assert len(set(shorts)) == len(shorts), shorts


def test_templates_resolve_their_placeholders() -> None:
    assert LABELS.code("rule", "circular.commendation.国家") == "通报表扬（国家级）"
    assert LABELS.code("rule", "commendation.协会", "en") == "Commendation (industry association)"
    assert LABELS.code("metric", "lift_top_20pct", "en") == "Lift, top 20%"
    assert LABELS.code("feature", "late_corrections_1095d") == "近 1095 天逾期整改次数"
    assert LABELS.code("table", "raw_circulars") == "通报（原始）"


def test_an_unknown_code_is_shown_as_itself() -> None:
    assert LABELS.code("rule", "penalty.new_rule") == "penalty.new_rule"
    assert LABELS.column("no_such_column") == "no_such_column"


def test_labels_that_collide_are_refused() -> None:
    data = load_yaml_mapping(packaged_text("labels.yaml"), LabelError, "labels", "")
    data["firm_types"]["testing"]["zh_short"] = "设计"
    with pytest.raises(ValueError, match="firm_types: the zh labels"):
        Labels.model_validate(data)


def test_widths_count_chinese_as_two() -> None:
    assert display_width("单位名称ab") == 10
    assert pad("设计", 6) == "设计  " and pad("7", 3, right=True) == "  7"
