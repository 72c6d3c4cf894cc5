"""The contract as data: the shipped file loads, header matching folds spellings, and a
malformed contract fails with a message that names the offending field."""

from __future__ import annotations

import pytest

from models.contracts import (
    SOURCE_ORDER,
    ContractError,
    default_contracts,
    header_key,
    parse_contracts,
)

# --- the shipped contract --------------------------------------------------------------------

# docs/contracts.md#sources, by hand: source → key.
KEYS = {
    "firms": ("uscc",),
    "inspectors": ("inspector_id",),
    "inspector_conflicts": ("inspector_id", "uscc", "valid_from"),
    "penalty_decisions": ("doc_no",),
    "correction_notices": ("doc_no",),
    "circulars": ("doc_no", "uscc"),
    "inspection_outcomes": ("inspection_id",),
    "commendations": ("doc_no", "uscc"),
    "credit_cases": ("case_id",),
    "inspection_records": ("inspection_id", "item_id"),
    "public_credit_grades": ("uscc", "evaluated_on"),
    "rectification_results": ("uscc", "evaluated_on"),
}


def test_default_contract_has_all_twelve_sources() -> None:
    contracts = default_contracts()
    assert set(contracts.sources) == set(KEYS)
    assert len(SOURCE_ORDER) == 12
    assert set(SOURCE_ORDER) == set(KEYS)


def test_a_district_is_one_district_whatever_its_spelling() -> None:
    from models.divisions import district_code, normalise_district

    assert {normalise_district(s) for s in ("浦东", "浦东新区", "310115", " 浦东新区 ")} == {
        "浦东新区"
    }
    assert district_code("浦东新区") == "310115"
    assert normalise_district("朝阳区") is None  # unknown: quarantined as invalid_enum
    assert normalise_district("市本级") == "市级"


@pytest.mark.parametrize(("source", "key"), KEYS.items())
def test_default_contract_keys(source: str, key: tuple[str, ...]) -> None:
    assert default_contracts().source(source).key == key


@pytest.mark.parametrize("source", list(KEYS))
def test_every_key_column_is_required(source: str) -> None:
    src = default_contracts().source(source)
    for name in src.key:
        assert src.column(name).required, f"{source}.{name}"
        assert name in src.required_columns


@pytest.mark.parametrize("source", list(KEYS))
def test_no_header_means_two_columns_within_a_source(source: str) -> None:
    seen: dict[str, str] = {}
    for col in default_contracts().source(source).columns:
        for spelling in (col.name, *col.aliases):
            key = header_key(spelling)
            assert seen.setdefault(key, col.name) == col.name, f"{source}: {spelling!r}"


@pytest.mark.parametrize(
    ("source", "column", "type_"),
    [
        ("firms", "uscc", "uscc"),
        ("firms", "firm_type", "enum"),
        ("inspectors", "fields", "enum_list"),
        ("inspectors", "active", "bool"),
        ("penalty_decisions", "decided_on", "date"),
        ("penalty_decisions", "penalty_types", "enum_list"),
        ("penalty_decisions", "fine_amount", "amount"),
        ("inspection_outcomes", "inspector_ids", "text_list"),
        ("inspection_outcomes", "problem_count", "integer"),
    ],
)
def test_default_column_types(source: str, column: str, type_: str) -> None:
    assert default_contracts().source(source).column(column).type == type_


@pytest.mark.parametrize(
    ("source", "header", "column"),
    [
        ("penalty_decisions", "罚款金额（元）", "fine_amount"),
        ("penalty_decisions", " 罚款金额(元)* ", "fine_amount"),
        ("penalty_decisions", "FINE_AMOUNT", "fine_amount"),
        ("penalty_decisions", "决定书文号", "doc_no"),
        ("penalty_decisions", "＊统一社会信用代码", "uscc"),
        ("firms", "单位类型", "firm_type"),
        ("inspectors", "执法证有效期至", "certificate_valid_until"),
        ("circulars", "通报文号", "doc_no"),
        ("credit_cases", "涉及文书号", "record_doc_no"),
    ],
)
def test_header_lookup(source: str, header: str, column: str) -> None:
    assert default_contracts().header_lookup(source)[header_key(header)] == column


def test_enum_values_in_declaration_order() -> None:
    assert default_contracts().enum_values("firm_type") == (
        "design",
        "supervision",
        "protective_equipment",
        "drawing_review",
        "testing",
    )


def test_default_min_date_and_text_limit() -> None:
    contracts = default_contracts()
    assert contracts.min_date.isoformat() == "1990-01-01"
    assert contracts.max_text_length == 2000


# --- header_key ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("罚款金额（元）", " 罚款金额(元)* "),
        ("罚款金额（元）", "罚款金额 （元）＊"),
        ("统一社会信用代码", "\u3000统一 社会信用代码\t"),
        ("fine_amount", "FINE_AMOUNT"),
        ("fine_amount", "ｆｉｎｅ＿ａｍｏｕｎｔ"),
        ("*决定日期", "决定日期"),
    ],
)
def test_header_key_folds_spellings_together(a: str, b: str) -> None:
    assert header_key(a) == header_key(b)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("罚款金额（元）", "罚款金额(元)"),
        (" 罚款金额(元)* ", "罚款金额(元)"),
        ("FINE_AMOUNT", "fine_amount"),
        ("", ""),
    ],
)
def test_header_key(text: str, expected: str) -> None:
    assert header_key(text) == expected


def test_header_key_keeps_different_headers_apart() -> None:
    assert header_key("决定日期") != header_key("决定书文号")


# --- parse_contracts -------------------------------------------------------------------------

MINIMAL = """
version: 1
min_date: "1990-01-01"
enums:
  firm_type:
    design: [设计]
    supervision: [监理]
sources:
  firms:
    title_zh: 名录
    key: [uscc]
    columns:
      - {name: uscc, type: uscc, required: true}
      - {name: firm_type, type: enum, enum: firm_type}
"""


def test_minimal_contract_parses() -> None:
    contracts = parse_contracts(MINIMAL)
    firms = contracts.source("firms")
    assert firms.name == "firms"  # filled in from the mapping key
    assert firms.key == ("uscc",)
    assert contracts.enum_lookup("firm_type") == {
        "design": "design",
        "设计": "design",
        "supervision": "supervision",
        "监理": "supervision",
    }


def test_enum_without_synonyms_parses() -> None:
    text = MINIMAL.replace("supervision: [监理]", "supervision:")
    assert parse_contracts(text).enum_values("firm_type") == ("design", "supervision")


@pytest.mark.parametrize(
    ("old", "new", "names"),
    [
        pytest.param(
            "key: [uscc]", "key: [code]", ["sources.firms", "'code'", "not declared"], id="key"
        ),
        pytest.param(
            "{name: uscc, type: uscc, required: true}",
            "{name: uscc, type: uscc}",
            ["sources.firms", "'uscc'", "must be required"],
            id="key-not-required",
        ),
        pytest.param(
            "{name: firm_type, type: enum, enum: firm_type}",
            "{name: firm_type, type: enum}",
            ["sources.firms.columns.1", "'firm_type'", "needs `enum:`"],
            id="enum-column-without-enum",
        ),
        pytest.param(
            "{name: uscc, type: uscc, required: true}",
            "{name: uscc, type: uscc, required: true, enum: firm_type}",
            ["sources.firms.columns.0", "'uscc'", "cannot have `enum:`"],
            id="enum-on-non-enum-column",
        ),
        pytest.param(
            "enum: firm_type}",
            "enum: firm_kind}",
            ["sources.firms.firm_type", "unknown enum 'firm_kind'"],
            id="unknown-enum",
        ),
        pytest.param(
            "supervision: [监理]",
            "supervision: [监理, 设计]",
            ["enums.firm_type", "'设计'", "'design'", "'supervision'"],
            id="synonym-with-two-meanings",
        ),
        pytest.param(
            "supervision: [监理]",
            "supervision: [监理, ' DESIGN ']",
            ["enums.firm_type", "' DESIGN '", "'design'", "'supervision'"],
            id="synonym-with-two-meanings-after-folding",
        ),
        pytest.param(
            "type: uscc,",
            "type: string,",
            ["sources.firms.columns.0.type"],
            id="unknown-column-type",
        ),
        pytest.param(
            "title_zh: 名录",
            "title_zh: 名录\n    colour: red",
            ["sources.firms.colour"],
            id="unknown-field",
        ),
        pytest.param("  firms:\n", "  farms:\n", ["unknown sources", "'farms'"], id="bad-source"),
        pytest.param(
            "      - {name: firm_type",
            "      - {name: uscc, type: text}\n      - {name: firm_type",
            ["source 'firms'", "declares a column twice"],
            id="column-declared-twice",
        ),
    ],
)
def test_parse_contracts_errors_name_the_field(old: str, new: str, names: list[str]) -> None:
    assert old in MINIMAL
    with pytest.raises(ContractError) as excinfo:
        parse_contracts(MINIMAL.replace(old, new))
    message = str(excinfo.value)
    for name in names:
        assert name in message, message


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (MINIMAL + "\n  broken: [unclosed\n", ["not valid YAML", "line"]),
        ("version: 1\nsources: {firms: {key: [uscc]\n", ["not valid YAML"]),
        ("- a\n- b\n", ["must be a mapping"]),
        ("", ["must be a mapping"]),
    ],
    ids=["unclosed-list", "unclosed-mapping", "a-list", "empty"],
)
def test_parse_contracts_rejects_bad_yaml(text: str, names: list[str]) -> None:
    with pytest.raises(ContractError) as excinfo:
        parse_contracts(text)
    for name in names:
        assert name in str(excinfo.value)


def test_contract_error_is_a_value_error() -> None:
    assert issubclass(ContractError, ValueError)
