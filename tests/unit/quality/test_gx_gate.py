"""The GX gate: suites follow the contract; each kind of defect fails the right expectation."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from models.contracts import SOURCE_ORDER, default_contracts
from pipelines.quality import gx_gate
from pipelines.quality.gx_gate import (
    GateResult,
    expectations_for,
    suite_fingerprint,
    validate_table,
)

CONTRACTS = default_contracts()
AS_OF = date(2025, 12, 31)
USCC_A = "91350200776049653A"  # docs/contracts.md#uscc-check examples
USCC_B = "91440101MA5CJQ4N59"

_DTYPES = {
    "text": pl.Utf8,
    "uscc": pl.Utf8,
    "enum": pl.Utf8,
    "date": pl.Date,
    "amount": pl.Float64,
    "integer": pl.Int32,
    "bool": pl.Boolean,
    "enum_list": pl.List(pl.Utf8),
    "text_list": pl.List(pl.Utf8),
}


def clean_table(source: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A clean table as the warehouse holds it: every declared column, then lineage."""
    columns = CONTRACTS.source(source).columns
    schema = {c.name: _DTYPES[c.type] for c in columns}
    schema |= {"source_file": pl.Utf8, "source_row": pl.Int32, "duplicate_count": pl.Int32}
    lineage = [{"source_file": f"{source}.csv", "source_row": i + 2} for i in range(len(rows))]
    full = [{**lin, "duplicate_count": 1, **row} for lin, row in zip(lineage, rows, strict=True)]
    return pl.DataFrame(full, schema=schema)


VALID: dict[str, list[dict[str, Any]]] = {
    "firms": [
        {
            "uscc": USCC_A,
            "name": "厦门某人防设计院有限公司",
            "firm_type": "design",
            "established_on": date(2003, 5, 1),
            "status": "正常",
        },
        {"uscc": USCC_B, "name": "广州某监理有限公司", "firm_type": "supervision"},
    ],
    "penalty_decisions": [
        {
            "doc_no": "沪国动罚〔2024〕12号",
            "uscc": USCC_A,
            "decided_on": date(2024, 3, 5),
            "violation_category": "防护设备安装不符合要求",
            "penalty_types": ["警告", "罚款"],
            "fine_amount": 15000.0,
            "procedure": "普通",
            "status": "有效",
            "collected_on": date(2024, 3, 8),
        },
        {
            "doc_no": "柳人防罚决字[2020]第1号",
            "uscc": USCC_B,
            "decided_on": date(2020, 6, 1),
            "penalty_types": ["警告"],
            "collected_on": date(2020, 6, 3),
        },
    ],
    "correction_notices": [
        {
            "doc_no": "沪国动改〔2024〕3号",
            "uscc": USCC_A,
            "issued_on": date(2024, 3, 1),
            "deadline": date(2026, 4, 1),  # deadlines may lie after the as-of date
            "rectified_on": date(2024, 3, 20),
            "review_result": "合格",
            "collected_on": date(2024, 3, 2),
        },
    ],
    "circulars": [  # one circular naming two firms: the key is (doc_no, uscc)
        {
            "doc_no": "沪国动通〔2024〕1号",
            "uscc": USCC_A,
            "issued_on": date(2024, 1, 9),
            "kind": "批评",
        },
        {
            "doc_no": "沪国动通〔2024〕1号",
            "uscc": USCC_B,
            "issued_on": date(2024, 1, 9),
            "kind": "批评",
        },
    ],
}


def run_gate(tmp_path: Path, source: str, df: pl.DataFrame) -> GateResult:
    return validate_table(
        df,
        CONTRACTS.source(source),
        CONTRACTS,
        as_of=AS_OF,
        docs_dir=tmp_path / "docs",
        results_dir=tmp_path / "results",
        run_id="run-1",
    )


def with_change(source: str, row: int, **changes: Any) -> pl.DataFrame:
    rows = [dict(r) for r in VALID[source]]
    rows[row] |= changes
    return clean_table(source, rows)


# --- the suite follows the contract ------------------------------------------------------


def by_type(suite: list, expectation_type: str) -> list:
    return [e for e in suite if e.expectation_type == expectation_type]


@pytest.mark.parametrize("name", SOURCE_ORDER)
def test_suite_covers_every_contract_rule(name: str):
    source = CONTRACTS.source(name)
    suite = expectations_for(source, CONTRACTS, AS_OF)

    [columns] = by_type(suite, "expect_table_columns_to_match_set")
    assert list(columns.column_set) == list(source.column_names)
    [rows] = by_type(suite, "expect_table_row_count_to_be_between")
    assert rows.min_value == source.min_rows

    not_null = {e.column for e in by_type(suite, "expect_column_values_to_not_be_null")}
    assert not_null == set(source.required_columns)

    in_set = {
        e.column: set(e.value_set) for e in by_type(suite, "expect_column_values_to_be_in_set")
    }
    assert in_set == {
        c.name: set(CONTRACTS.enum_values(c.enum)) for c in source.columns if c.type == "enum"
    }

    regexes = {e.column: e.regex for e in by_type(suite, "expect_column_values_to_match_regex")}
    for col in source.columns:
        if col.type == "enum_list":
            canonical = CONTRACTS.enum_values(col.enum)
            assert re.fullmatch(regexes[col.name], "、".join(canonical))
            assert re.fullmatch(regexes[col.name], canonical[0])
            synonym = next(s for synonyms in CONTRACTS.enums[col.enum].values() for s in synonyms)
            assert not re.fullmatch(regexes[col.name], f"{canonical[0]}、{synonym}")
        if col.type == "uscc":
            assert re.fullmatch(regexes[col.name], USCC_B)
            assert not re.fullmatch(regexes[col.name], USCC_B.replace("M", "I"))

    between = {e.column: e for e in by_type(suite, "expect_column_values_to_be_between")}
    for col in source.columns:
        if col.type == "date":
            assert between[col.name].min_value.date() == CONTRACTS.min_date
            upper = between[col.name].max_value
            assert (upper is None) if col.allow_future else (upper.date() == AS_OF)
        if col.type in ("amount", "integer"):
            assert between[col.name].min_value == 0

    lengths = {
        e.column: e.max_value for e in by_type(suite, "expect_column_value_lengths_to_be_between")
    }
    assert lengths == {c.name: CONTRACTS.max_length(c) for c in source.columns if c.type == "text"}

    unique = [e.column for e in by_type(suite, "expect_column_values_to_be_unique")]
    compound = [
        tuple(e.column_list) for e in by_type(suite, "expect_compound_columns_to_be_unique")
    ]
    assert (unique, compound) == (
        ([source.key[0]], []) if len(source.key) == 1 else ([], [source.key])
    )

    pairs = by_type(suite, "expect_column_pair_values_a_to_be_greater_than_b")
    assert {(e.column_A, e.column_B) for e in pairs} == {
        (rule.later, rule.earlier) for rule in source.date_order
    }
    assert all(e.or_equal and e.ignore_row_if == "either_value_is_missing" for e in pairs)


# --- the suite's fingerprint ------------------------------------------------------------------


def fingerprint_from_gx(name: str, contracts=CONTRACTS) -> str:
    """The fingerprint as the gate first computed it: from GX's own configurations of the
    expectations `expectations_for` builds (the date's bound left out), GX's version and
    the gate's."""
    gx = gx_gate._gx()
    source = contracts.source(name)
    configs = [
        e.configuration.to_json_dict() for e in expectations_for(source, contracts, date.max)
    ]
    text = json.dumps(configs, sort_keys=True, default=str)
    return hashlib.sha256(f"{gx_gate.GATE_VERSION}\n{gx.__version__}\n{text}".encode()).hexdigest()


@pytest.mark.parametrize("name", SOURCE_ORDER)
def test_the_fingerprint_is_the_one_gxs_configurations_of_the_suite_give(name: str):
    """The guard: the fingerprint is computed from the suite as data, without GX; if the
    configurations GX's expectations end up with change — a spec, the way a spec becomes an
    expectation, GX's defaults — while the fingerprint does not, this fails, so no change to
    the suite slips past it (rows validated under the old suite would be taken as passed)."""
    assert suite_fingerprint(CONTRACTS.source(name), CONTRACTS) == fingerprint_from_gx(name)


def test_the_guard_sees_a_change_made_to_gxs_expectations_alone(monkeypatch):
    """A suite changed where the specs become GX's expectations (here: every column's
    expectation made tolerant of 1 % bad rows) leaves the specs, and so the fingerprint, as
    they were: the guard above fails."""
    name = "penalty_decisions"
    fingerprint = suite_fingerprint(CONTRACTS.source(name), CONTRACTS)
    assert fingerprint_from_gx(name) == fingerprint
    build = gx_gate._expectation

    def tolerant(gxe, spec):
        if "column" not in spec.kwargs:
            return build(gxe, spec)
        return type(build(gxe, spec))(**spec.kwargs, mostly=0.99)

    monkeypatch.setattr(gx_gate, "_expectation", tolerant)
    assert fingerprint_from_gx(name) != fingerprint
    assert suite_fingerprint(CONTRACTS.source(name), CONTRACTS) == fingerprint


def test_the_fingerprint_follows_the_contract():
    source = CONTRACTS.source("firms")
    shorter = CONTRACTS.model_copy(update={"max_text_length": CONTRACTS.max_text_length - 1})
    earlier = CONTRACTS.model_copy(update={"min_date": date(1980, 1, 1)})
    fingerprints = {suite_fingerprint(source, c) for c in (CONTRACTS, shorter, earlier)}
    assert len(fingerprints) == 3
    again = default_contracts().model_copy(deep=True)  # the same contract loaded again
    assert suite_fingerprint(again.source("firms"), again) == suite_fingerprint(source, CONTRACTS)


def test_the_fingerprint_imports_no_gx(monkeypatch):
    """Every gate computes it first: importing GX for it cost ~2 s a run."""
    for name in [n for n in sys.modules if n.split(".")[0] == "great_expectations"]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "great_expectations", None)  # importing it now fails
    for source in CONTRACTS.sources.values():
        assert len(suite_fingerprint(source, CONTRACTS)) == 64


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize("source", sorted(VALID))
def test_a_valid_table_passes(tmp_path: Path, source: str):
    result = run_gate(tmp_path, source, clean_table(source, VALID[source]))
    assert result.success, result.failures
    assert result.row_count == len(VALID[source])


FORBIDDEN_CHAR_USCC = "9135020077604965OA"  # O is not in the GB 32100 charset

DEFECTS = {
    "duplicate key": (
        "firms",
        with_change("firms", 1, uscc=USCC_A),
        ("expect_column_values_to_be_unique", ("uscc",)),
        [{"uscc": USCC_A}, {"uscc": USCC_A}],
    ),
    "duplicate compound key": (
        "circulars",
        with_change("circulars", 1, uscc=USCC_A),
        ("expect_compound_columns_to_be_unique", ("doc_no", "uscc")),
        [{"doc_no": "沪国动通〔2024〕1号", "uscc": USCC_A}] * 2,
    ),
    "enum synonym instead of canonical value": (
        "firms",
        with_change("firms", 1, firm_type="监理"),
        ("expect_column_values_to_be_in_set", ("firm_type",)),
        [{"uscc": USCC_B}],
    ),
    "unknown item in an enum list": (
        "penalty_decisions",
        with_change("penalty_decisions", 0, penalty_types=["警告", "fine"]),
        ("expect_column_values_to_match_regex", ("penalty_types",)),
        [{"doc_no": "沪国动罚〔2024〕12号"}],
    ),
    "null in a required column": (
        "firms",
        with_change("firms", 0, name=None),
        ("expect_column_values_to_not_be_null", ("name",)),
        [{"uscc": USCC_A}],
    ),
    "deadline before issue date": (
        "correction_notices",
        with_change("correction_notices", 0, deadline=date(2024, 2, 1)),
        ("expect_column_pair_values_a_to_be_greater_than_b", ("deadline", "issued_on")),
        [{"doc_no": "沪国动改〔2024〕3号"}],
    ),
    "negative fine": (
        "penalty_decisions",
        with_change("penalty_decisions", 1, fine_amount=-500.0),
        ("expect_column_values_to_be_between", ("fine_amount",)),
        [{"doc_no": "柳人防罚决字[2020]第1号"}],
    ),
    "decision dated after the as-of date": (
        "penalty_decisions",
        with_change("penalty_decisions", 1, decided_on=date(2026, 1, 1)),
        ("expect_column_values_to_be_between", ("decided_on",)),
        [{"doc_no": "柳人防罚决字[2020]第1号"}],
    ),
    "USCC with a forbidden character": (
        "firms",
        with_change("firms", 0, uscc=FORBIDDEN_CHAR_USCC),
        ("expect_column_values_to_match_regex", ("uscc",)),
        [{"uscc": FORBIDDEN_CHAR_USCC}],
    ),
    "text longer than max_text_length": (
        "firms",
        with_change("firms", 1, address="长" * (CONTRACTS.max_text_length + 1)),
        ("expect_column_value_lengths_to_be_between", ("address",)),
        [{"uscc": USCC_B}],
    ),
    "empty firm directory": (
        "firms",
        clean_table("firms", []),
        ("expect_table_row_count_to_be_between", ()),
        [],
    ),
}


@pytest.mark.parametrize("defect", DEFECTS)
def test_a_defect_fails_the_right_expectation_naming_offending_keys(tmp_path: Path, defect: str):
    source, df, expected, keys = DEFECTS[defect]
    result = run_gate(tmp_path, source, df)
    assert not result.success
    # a decision dated after the as-of date also comes after its collection date: the
    # contract's cross-field rule (issue 14) fails too
    also = 1 if defect == "decision dated after the as-of date" else 0
    assert len(result.failures) == 1 + also
    [failure] = [f for f in result.failures if (f.expectation_type, f.columns) == expected]
    assert (failure.expectation_type, failure.columns) == expected
    assert list(failure.offending_keys) == keys
    assert failure.unexpected_count == (len(keys) if keys else None)


def test_empty_table_failure_says_what_was_observed(tmp_path: Path):
    [failure] = run_gate(tmp_path, "firms", clean_table("firms", [])).failures
    assert failure.detail == "observed: 0"


def test_a_missing_column_fails_the_column_set(tmp_path: Path):
    result = run_gate(tmp_path, "firms", clean_table("firms", VALID["firms"]).drop("status"))
    failed = {f.expectation_type: f for f in result.failures}
    assert "expect_table_columns_to_match_set" in failed
    assert '"missing": ["status"]' in failed["expect_table_columns_to_match_set"].detail


# --- evidence: JSON result and Data Docs -----------------------------------------------------


def test_json_result_is_kept_per_run_and_source(tmp_path: Path):
    result = run_gate(tmp_path, "firms", with_change("firms", 1, uscc=USCC_A))
    assert result.result_path == tmp_path / "results" / "run-1" / "firms.json"
    saved = json.loads(result.result_path.read_text(encoding="utf-8"))
    assert saved["success"] is False
    assert saved["suite_name"] == "firms"
    # no batch fingerprint: hashing a national table cost more than validating it
    assert "pandas_data_fingerprint" not in result.result_path.read_text(encoding="utf-8")


def test_data_docs_site_lists_every_validated_table(tmp_path: Path):
    firms = run_gate(tmp_path, "firms", clean_table("firms", VALID["firms"]))
    circulars = run_gate(tmp_path, "circulars", clean_table("circulars", VALID["circulars"]))
    index = (tmp_path / "docs" / "index.html").read_text(encoding="utf-8")
    for gate in (firms, circulars):
        assert gate.docs_page.is_file()
        assert gate.docs_page.is_relative_to(tmp_path / "docs")
        assert gate.docs_page.relative_to(tmp_path / "docs").as_posix() in index
    page = circulars.docs_page.read_text(encoding="utf-8")
    assert "数据质量检查报告：通报" in page and "Validation report: Circulars" in page
    assert page.count("<tr class=") == len(circulars.outcomes)  # one row per expectation
    assert "「通报文号」不为空" in page  # the column by its Chinese header, not `doc_no`


def test_a_failed_validation_report_names_the_offending_keys(tmp_path: Path):
    failed = run_gate(tmp_path, "firms", with_change("firms", 1, uscc=USCC_A))
    page = failed.docs_page.read_text(encoding="utf-8")
    assert '<tr class="fail">' in page and "未通过" in page
    assert f"uscc={USCC_A}" in page


def test_the_reports_load_nothing_from_the_network(tmp_path: Path):
    """Offline (an intranet): no script, stylesheet, font or image from anywhere — every
    page is one file with its style inline, linking only to pages beside it."""
    gate = run_gate(tmp_path, "firms", clean_table("firms", VALID["firms"]))
    for page in (gate.docs_page, tmp_path / "docs" / "index.html"):
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"<(script|link|img|iframe)\b", html), page
        assert not re.search(r"(src|href)=\"(https?:)?//", html), page


def test_the_validated_table_is_not_kept_alive_after_the_gate(tmp_path: Path) -> None:
    """GX keeps its last context in a module-level project manager: the gate must not leave
    the table it validated (a national table as pandas) reachable from it, or every later
    step of the run starts gigabytes higher."""
    import gc

    import pandas as pd

    rows = VALID["firms"] * 50  # duplicate keys: the gate fails, and must let go all the same
    result = run_gate(tmp_path, "firms", clean_table("firms", rows))
    assert result.rows_validated == len(rows)
    gc.collect()
    alive = [o for o in gc.get_objects() if isinstance(o, pd.DataFrame) and len(o) == len(rows)]
    assert alive == []
