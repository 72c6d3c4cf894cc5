"""Row checks: every defect class lands in quarantine with its code, column and reason;
duplicates collapse or conflict; per-file counts are conserved.

Raw frames are built inline, one dict per landing row (canonical column → text as received);
keys starting with `_` set the reader's metadata (file, row, first-seen, read problem).
"""

from __future__ import annotations

import json
from datetime import date, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.contracts import default_contracts
from models.row_checks import (
    FILE_COUNT_SCHEMA,
    QUARANTINE_SCHEMA,
    RAW_META_COLUMNS,
    clean_schema,
    clean_source,
    typed_rows,
)

CONTRACTS = default_contracts()
TODAY = date(2024, 6, 30)
FIRST_SEEN = datetime(2024, 6, 1, 9, 30)
FIRM_A = "91350200776049653A"  # docs/contracts.md#uscc-check example
FIRM_B = "91440101MA5CJQ4N59"  # docs/contracts.md#uscc-check example

META_SCHEMA = {
    "source_file": pl.Utf8,
    "source_row": pl.Int64,
    "file_first_seen": pl.Datetime("us"),
    "read_problem": pl.Utf8,
    "read_detail": pl.Utf8,
    "raw_row": pl.Utf8,
}

PENALTY = {
    "doc_no": "沪国动罚〔2024〕12号",
    "uscc": FIRM_A,
    "decided_on": "2024-03-05",
    "penalty_types": "警告、罚款",
    "fine_amount": "15,000元",
}
NOTICE = {
    "doc_no": "沪国动改〔2024〕3号",
    "uscc": FIRM_A,
    "issued_on": "2024-03-05",
    "deadline": "2024-04-05",
}
CONFLICT = {"inspector_id": "J001", "uscc": FIRM_A, "valid_from": "2024-01-01"}
INSPECTOR = {"inspector_id": "J001", "name": "张三", "certificate_no": "沪执01", "active": "是"}
OUTCOME = {
    "inspection_id": "JC-2024-001",
    "uscc": FIRM_A,
    "inspected_on": "2024-03-05",
    "result": "未发现问题",
    "problem_count": "0",
}


def raw_frame(*rows: dict[str, object]) -> pl.DataFrame:
    """Raw rows as the reader hands them over (module docstring of row_checks)."""
    records = []
    for i, row in enumerate(rows):
        cells = {k: v for k, v in row.items() if not k.startswith("_")}
        records.append(
            {
                "source_file": row.get("_file", "a.csv"),
                "source_row": row.get("_row", i + 2),
                "file_first_seen": row.get("_seen", FIRST_SEEN),
                "read_problem": row.get("_problem"),
                "read_detail": row.get("_detail"),
                "raw_row": json.dumps(cells, ensure_ascii=False),
                **cells,
            }
        )
    names = sorted({k for r in records for k in r} - set(META_SCHEMA))
    schema = META_SCHEMA | dict.fromkeys(names, pl.Utf8)
    return pl.DataFrame(
        [{c: r.get(c) for c in schema} for r in records], schema=schema, orient="row"
    )


def clean(source: str, *rows: dict[str, object], known_keys=None, today: date = TODAY):
    return clean_source(
        raw_frame(*rows),
        CONTRACTS.source(source),
        CONTRACTS,
        today=today,
        known_keys=known_keys,
    )


def problems(quarantine_row: dict[str, object]) -> list[tuple[str, str]]:
    return [(p["column"], p["code"]) for p in json.loads(str(quarantine_row["problems"]))]


# --- one test per defect class ---------------------------------------------------------------

LONG = "违" * 2001  # one over the default max_text_length of 2000


@pytest.mark.parametrize(
    ("source", "row", "known", "column", "code", "raw_value"),
    [
        pytest.param(
            "penalty_decisions", PENALTY | {"decided_on": "  "}, None,
            "decided_on", "missing_required", "  ", id="missing_required",
        ),
        pytest.param(
            "penalty_decisions", PENALTY | {"doc_no": None}, None,
            "doc_no", "missing_required", None, id="missing_required-null-key",
        ),
        pytest.param(
            "penalty_decisions", PENALTY | {"uscc": "91350200776049653B"}, None,
            "uscc", "invalid_uscc", "91350200776049653B", id="invalid_uscc",
        ),
        pytest.param(
            "penalty_decisions", PENALTY | {"decided_on": "2023-02-30"}, None,
            "decided_on", "invalid_date", "2023-02-30", id="invalid_date",
        ),
        pytest.param(
            "penalty_decisions", PENALTY | {"decided_on": "2024年13月45日"}, None,
            "decided_on", "invalid_date", "2024年13月45日", id="invalid_date-chinese",
        ),
        pytest.param(
            "penalty_decisions", PENALTY | {"decided_on": "1989-12-31"}, None,
            "decided_on", "date_too_early", "1989-12-31", id="date_too_early",
        ),
        pytest.param(
            "penalty_decisions", PENALTY | {"decided_on": "2024-07-01"}, None,
            "decided_on", "future_date", "2024-07-01", id="future_date",
        ),
        pytest.param(
            "penalty_decisions", PENALTY | {"fine_amount": "一万五"}, None,
            "fine_amount", "invalid_number", "一万五", id="invalid_number-amount",
        ),
        pytest.param(
            "inspection_outcomes", OUTCOME | {"problem_count": "3.5"}, None,
            "problem_count", "invalid_number", "3.5", id="invalid_number-integer",
        ),
        pytest.param(
            "penalty_decisions", PENALTY | {"fine_amount": "-500"}, None,
            "fine_amount", "negative_amount", "-500", id="negative_amount",
        ),
        pytest.param(
            "inspection_outcomes", OUTCOME | {"problem_count": "-1"}, None,
            "problem_count", "negative_amount", "-1", id="negative_amount-integer",
        ),
        pytest.param(
            "penalty_decisions", PENALTY | {"status": "作废"}, None,
            "status", "invalid_enum", "作废", id="invalid_enum-enum",
        ),
        pytest.param(
            "penalty_decisions", PENALTY | {"penalty_types": "警告、拘留"}, None,
            "penalty_types", "invalid_enum", "警告、拘留", id="invalid_enum-enum_list",
        ),
        pytest.param(
            "inspectors", INSPECTOR | {"active": "也许"}, None,
            "active", "invalid_enum", "也许", id="invalid_enum-bool",
        ),
        pytest.param(
            "penalty_decisions", PENALTY | {"violation": LONG}, None,
            "violation", "value_too_long", LONG, id="value_too_long",
        ),
        pytest.param(
            "correction_notices", NOTICE | {"deadline": "2024-03-01"}, None,
            "deadline", "date_order", "issued_on=2024-03-05; deadline=2024-03-01",
            id="date_order",
        ),
        pytest.param(
            "penalty_decisions", PENALTY, {"firms": pl.Series([FIRM_B])},
            "uscc", "unknown_firm", FIRM_A, id="unknown_firm",
        ),
        pytest.param(
            "inspector_conflicts", CONFLICT,
            {"firms": pl.Series([FIRM_A]), "inspectors": pl.Series(["J999"])},
            "inspector_id", "unknown_inspector", "J001", id="unknown_inspector",
        ),
    ],
)  # fmt: skip
def test_defect_lands_in_quarantine(
    source: str,
    row: dict[str, object],
    known: dict[str, pl.Series] | None,
    column: str,
    code: str,
    raw_value: str | None,
) -> None:
    result = clean(source, row, known_keys=known)
    assert result.accepted.is_empty()
    assert result.quarantine.height == 1
    q = result.quarantine.row(0, named=True)
    assert (q["source"], q["file"], q["row_number"]) == (source, "a.csv", 2)
    assert (q["column"], q["reason_code"], q["raw_value"]) == (column, code, raw_value)
    assert problems(q) == [(column, code)]
    assert q["raw_row"] == json.dumps(row, ensure_ascii=False)
    assert q["ingested_at"] == FIRST_SEEN


@pytest.mark.parametrize(
    ("source", "row", "known"),
    [
        pytest.param("penalty_decisions", PENALTY, None, id="penalty"),
        pytest.param("penalty_decisions", PENALTY | {"decided_on": "2024-06-30"}, None, id="today"),
        pytest.param("penalty_decisions", PENALTY | {"decided_on": "1990-01-01"}, None, id="min"),
        pytest.param(
            "penalty_decisions",
            PENALTY | {"effective_until": "2030-01-01"},
            None,
            id="allow_future",
        ),
        pytest.param("penalty_decisions", PENALTY | {"violation": "违" * 2000}, None, id="2000"),
        pytest.param("penalty_decisions", PENALTY, {"firms": pl.Series([FIRM_A])}, id="known"),
        pytest.param("correction_notices", NOTICE | {"deadline": "2024-03-05"}, None, id="same"),
        pytest.param("inspectors", INSPECTOR, None, id="inspector"),
        pytest.param("inspection_outcomes", OUTCOME, None, id="outcome"),
        pytest.param(
            "inspector_conflicts",
            CONFLICT,
            {"firms": pl.Series([FIRM_A]), "inspectors": pl.Series(["J001"])},
            id="conflict",
        ),
    ],
)
def test_good_row_is_accepted(
    source: str, row: dict[str, object], known: dict[str, pl.Series] | None
) -> None:
    result = clean(source, row, known_keys=known)
    assert result.quarantine.is_empty()
    assert result.accepted.height == 1
    assert result.accepted.row(0, named=True)["duplicate_count"] == 1


def test_read_problem_is_passed_through_alone() -> None:
    # The reader rejected the whole file: decided_on is absent, but only the file's problem
    # is reported (cell problems on unmapped rows would be noise).
    row = {k: v for k, v in PENALTY.items() if k != "decided_on"}
    detail = "缺少 决定日期(decided_on)"
    result = clean(
        "penalty_decisions",
        row | {"_problem": "missing_column", "_detail": detail},
        row | {"doc_no": "X2", "_problem": "missing_column", "_detail": detail},
    )
    assert result.accepted.is_empty()
    assert result.quarantine["reason_code"].to_list() == ["missing_column"] * 2
    assert result.quarantine["column"].to_list() == ["(file)"] * 2
    q = result.quarantine.row(0, named=True)
    assert problems(q) == [("(file)", "missing_column")]
    assert q["raw_value"] == detail
    assert q["reason"] == "整个文件：文件缺少必填列，整份文件被拒收：缺少 决定日期(decided_on)"
    assert q["reason_en"] == (
        "(file): file lacks a required column; the whole file is rejected: "
        "缺少 决定日期(decided_on)"
    )


def test_ragged_row_is_rejected_alone() -> None:
    result = clean(
        "penalty_decisions",
        PENALTY | {"doc_no": "R1"},
        PENALTY | {"doc_no": "R2", "_problem": "ragged_row", "_detail": "表头共5列"},
        PENALTY | {"doc_no": "R3"},
    )
    assert result.accepted["doc_no"].to_list() == ["R1", "R3"]
    q = result.quarantine.row(0, named=True)
    assert (q["row_number"], q["reason_code"], q["column"]) == (3, "ragged_row", "(file)")
    assert q["reason"] == "整个文件：该行的列数多于表头：表头共5列"


# --- reasons ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "row", "reason", "reason_en"),
    [
        (
            "penalty_decisions",
            PENALTY | {"fine_amount": "abc"},
            "罚款金额（元）(fine_amount)：数值无法识别",
            "fine_amount: number cannot be read",
        ),
        (
            "penalty_decisions",
            PENALTY | {"uscc": "91350200776049653B"},
            "统一社会信用代码(uscc)：统一社会信用代码校验不通过（GB 32100-2015）",
            "uscc: USCC fails the GB 32100-2015 format or checksum",
        ),
        (
            "penalty_decisions",
            PENALTY | {"decided_on": ""},
            "决定日期(decided_on)：必填项为空",
            "decided_on: required value is missing",
        ),
        (
            "correction_notices",
            NOTICE | {"deadline": "2024-03-01"},
            "整改期限(deadline)：日期先后顺序错误：早于下达日期(issued_on)",
            "deadline: dates are out of order: before issued_on",
        ),
    ],
)
def test_reason_is_chinese_with_the_chinese_header_and_english_beside(
    source: str, row: dict[str, object], reason: str, reason_en: str
) -> None:
    q = clean(source, row).quarantine.row(0, named=True)
    assert q["reason"] == reason
    assert q["reason_en"] == reason_en


def test_problems_lists_every_problem_of_a_row() -> None:
    row = PENALTY | {
        "uscc": "91350200776049653B",
        "decided_on": "2030-01-01",
        "penalty_types": "警告、拘留",
        "fine_amount": "-5",
        "status": "作废",
    }
    result = clean("penalty_decisions", row, known_keys={"firms": pl.Series([FIRM_A])})
    q = result.quarantine.row(0, named=True)
    assert q["reason_code"] == "invalid_uscc"  # the first column with a problem
    assert sorted(problems(q)) == sorted(
        [
            ("uscc", "invalid_uscc"),
            ("uscc", "unknown_firm"),
            ("decided_on", "future_date"),
            ("penalty_types", "invalid_enum"),
            ("fine_amount", "negative_amount"),
            ("status", "invalid_enum"),
        ]
    )
    values = {(p["column"], p["code"]): p["value"] for p in json.loads(q["problems"])}
    assert values[("fine_amount", "negative_amount")] == "-5"
    assert values[("decided_on", "future_date")] == "2030-01-01"


# --- collected_on ----------------------------------------------------------------------------


def test_collected_on_defaults_to_first_seen_day_and_is_never_a_future_date() -> None:
    # The file arrived after `today` (e.g. a re-run with an old `today`): the default is not
    # input, so it is never reported; an explicit future collection date is.
    seen = datetime(2024, 7, 15, 23, 59)
    result = clean(
        "penalty_decisions",
        PENALTY | {"doc_no": "D1", "_seen": seen},
        PENALTY | {"doc_no": "D2", "collected_on": "  ", "_seen": seen},
        PENALTY | {"doc_no": "D3", "collected_on": "2024-07-15", "_seen": seen},
    )
    accepted = result.accepted.select("doc_no", "collected_on").rows()
    assert accepted == [("D1", date(2024, 7, 15)), ("D2", date(2024, 7, 15))]
    q = result.quarantine.row(0, named=True)
    assert (q["row_number"], q["column"], q["reason_code"]) == (4, "collected_on", "future_date")


def test_explicit_collected_on_is_kept() -> None:
    result = clean("penalty_decisions", PENALTY | {"collected_on": "2024年4月1日"})
    assert result.accepted["collected_on"].to_list() == [date(2024, 4, 1)]


# --- duplicates ------------------------------------------------------------------------------


def test_identical_duplicates_collapse_into_one_row() -> None:
    # The same decision in three files, spelled differently but equal once typed.
    result = clean(
        "penalty_decisions",
        PENALTY | {"_file": "b.csv", "_row": 5, "collected_on": "2024-04-01"},
        PENALTY | {"_file": "a.csv", "_row": 7, "collected_on": "2024-05-10"},
        PENALTY
        | {
            "_file": "c.xlsx",
            "_row": 3,
            "uscc": "９１３５０２００７７６０４９６５３ａ",
            "decided_on": "2024年3月5日",
            "penalty_types": "warning/fine",
            "fine_amount": "1.5万元",
        },  # no collected_on: first seen 2024-06-01
    )
    assert result.quarantine.is_empty()
    row = result.accepted.row(0, named=True)
    assert result.accepted.height == 1
    assert row["duplicate_count"] == 3
    assert row["collected_on"] == date(2024, 4, 1)  # the earliest
    assert (row["source_file"], row["source_row"]) == ("a.csv", 7)  # first by file, row
    assert row["uscc"] == FIRM_A
    assert row["penalty_types"] == ["警告", "罚款"]
    assert row["fine_amount"] == 15000.0
    assert result.file_counts.rows() == [
        ("a.csv", 1, 1, 0, 0, 0),
        ("b.csv", 1, 0, 0, 1, 0),
        ("c.xlsx", 1, 0, 0, 1, 0),
    ]


def test_conflicting_duplicates_quarantine_every_version() -> None:
    result = clean(
        "penalty_decisions",
        PENALTY | {"_file": "a.csv", "_row": 2},
        PENALTY | {"_file": "a.csv", "_row": 3},
        PENALTY | {"_file": "b.csv", "_row": 2, "fine_amount": "20000"},
        PENALTY | {"doc_no": "其他", "_file": "b.csv", "_row": 3},
    )
    assert result.accepted["doc_no"].to_list() == ["其他"]
    q = result.quarantine
    assert q.select("file", "row_number").rows() == [("a.csv", 2), ("a.csv", 3), ("b.csv", 2)]
    assert q["reason_code"].to_list() == ["duplicate_conflict"] * 3
    assert q["column"].to_list() == ["doc_no"] * 3
    assert q["raw_value"].to_list() == ["沪国动罚〔2024〕12号"] * 3
    assert q["reason"][0] == (
        "决定书文号(doc_no)：同一编号存在内容不一致的多条记录，均不采用"
        "（2个版本，见 a.csv#2、a.csv#3、b.csv#2）"
    )
    assert q["reason_en"][0] == (
        "doc_no: the same key arrived with different content; none of the versions is used"
        " (2 versions: a.csv#2, a.csv#3, b.csv#2)"
    )
    assert result.file_counts.rows() == [("a.csv", 2, 0, 2, 0, 0), ("b.csv", 2, 1, 1, 0, 0)]


def test_composite_key_same_doc_for_two_firms_is_not_a_duplicate() -> None:
    circular = {"doc_no": "沪国动通〔2024〕1号", "issued_on": "2024-03-05", "kind": "批评"}
    result = clean(
        "circulars",
        circular | {"uscc": FIRM_A},
        circular | {"uscc": FIRM_B},
    )
    assert result.quarantine.is_empty()
    assert result.accepted["uscc"].to_list() == [FIRM_A, FIRM_B]


def test_collected_on_difference_alone_is_not_a_conflict() -> None:
    result = clean(
        "penalty_decisions",
        PENALTY | {"collected_on": "2024-05-02"},
        PENALTY | {"collected_on": "2024-05-01", "_file": "b.csv"},
    )
    assert result.quarantine.is_empty()
    assert result.accepted.select("duplicate_count", "collected_on").rows() == [
        (2, date(2024, 5, 1))
    ]


def test_rejected_row_does_not_conflict_with_its_good_twin() -> None:
    result = clean(
        "penalty_decisions",
        PENALTY,
        PENALTY | {"decided_on": "2023-02-30"},
    )
    assert result.accepted.select("source_row", "duplicate_count").rows() == [(2, 1)]
    assert result.quarantine["reason_code"].to_list() == ["invalid_date"]


# --- schemas and typing ----------------------------------------------------------------------


def test_clean_schema_of_penalty_decisions() -> None:
    schema = clean_schema(CONTRACTS.source("penalty_decisions"))
    assert list(schema.items()) == [
        ("doc_no", pl.Utf8),
        ("uscc", pl.Utf8),
        ("firm_name", pl.Utf8),
        ("decided_on", pl.Date),
        ("violation_category", pl.Utf8),
        ("violation_type", pl.Utf8),  # the national layout's fields (issue 14) …
        ("violation", pl.Utf8),
        ("legal_basis", pl.Utf8),
        ("penalty_types", pl.List(pl.Utf8)),
        ("penalty_content", pl.Utf8),
        ("fine_amount", pl.Float64),
        ("confiscated_amount", pl.Float64),
        ("procedure", pl.Utf8),
        ("effective_until", pl.Date),
        ("publication_until", pl.Date),
        ("authority", pl.Utf8),
        ("data_source", pl.Utf8),
        ("status", pl.Utf8),
        ("collected_on", pl.Date),
        ("source_file", pl.Utf8),
        ("source_row", pl.Int64),
        ("duplicate_count", pl.Int64),
        ("file_sha256", pl.Utf8),
    ]


def test_results_have_their_declared_schemas_even_when_empty() -> None:
    src = CONTRACTS.source("inspection_outcomes")
    empty = pl.DataFrame(schema=META_SCHEMA)
    result = clean_source(empty, src, CONTRACTS, today=TODAY)
    assert result.accepted.schema == clean_schema(src)
    assert result.quarantine.schema == QUARANTINE_SCHEMA
    assert result.file_counts.schema == FILE_COUNT_SCHEMA
    assert result.accepted.is_empty() and result.quarantine.is_empty()


def test_typed_rows_types_and_defaults() -> None:
    typed = typed_rows(
        raw_frame(
            OUTCOME
            | {
                "inspector_ids": "J001、J002",
                "problem_count": "３个",
                "uscc": "91350200776049653a",
                "result": "合格",
            }
        ),
        CONTRACTS.source("inspection_outcomes"),
        CONTRACTS,
    )
    assert list(typed.columns[: len(RAW_META_COLUMNS)]) == list(RAW_META_COLUMNS)
    row = typed.row(0, named=True)
    assert row["uscc"] == FIRM_A
    assert row["inspected_on"] == date(2024, 3, 5)
    assert row["inspector_ids"] == ["J001", "J002"]
    assert row["result"] == "未发现问题"
    assert row["problem_count"] == 3
    assert row["round_id"] is None  # a column the file did not have
    assert row["collected_on"] == date(2024, 6, 1)  # first-seen day


def test_required_list_of_only_separators_is_missing() -> None:
    result = clean("penalty_decisions", PENALTY | {"penalty_types": "、"})
    assert result.accepted.is_empty()
    assert result.quarantine["reason_code"].to_list() == ["missing_required"]


def test_unreadable_integer_nan_is_quarantined_not_raised() -> None:
    result = clean("inspection_outcomes", OUTCOME | {"problem_count": "nan"})
    assert result.quarantine["reason_code"].to_list() == ["invalid_number"]


def test_fine_of_nan_is_quarantined() -> None:
    result = clean("penalty_decisions", PENALTY | {"fine_amount": "nan"})
    assert result.quarantine["reason_code"].to_list() == ["invalid_number"]


# --- conservation (property) -----------------------------------------------------------------

# variant → (fine_amount, decided_on, collected_on); 0, 1 and 4 are good, 2 and 3 are not.
# 0 and 4 differ only in collected_on, so they are the same record; 1 conflicts with both.
VARIANTS = {
    0: {"fine_amount": "15000"},
    1: {"fine_amount": "20000"},
    2: {"fine_amount": "15000", "decided_on": "2024-02-30"},
    3: {"fine_amount": "abc"},
    4: {"fine_amount": "1.5万元", "collected_on": "2024-05-01"},
}
GOOD = {0: "A", 4: "A", 1: "B"}  # variant → content


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a.csv", "b.csv", "c.xlsx"]),
            st.integers(0, 4),  # document number
            st.sampled_from(sorted(VARIANTS)),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_counts_are_conserved_and_accepted_keys_unique(
    spec: list[tuple[str, int, int]],
) -> None:
    next_row = {"a.csv": 2, "b.csv": 2, "c.xlsx": 2}
    rows = []
    for file, doc, variant in spec:
        rows.append(
            PENALTY
            | VARIANTS[variant]
            | {"doc_no": f"罚{doc}", "_file": file, "_row": next_row[file]}
        )
        next_row[file] += 1
    result = clean("penalty_decisions", *rows)

    # The oracle, by hand: bad rows are quarantined; a document whose good rows all have
    # the same content is accepted once; one with two contents has every good row rejected.
    contents: dict[int, set[str]] = {}
    good_rows: dict[int, int] = {}
    for _, doc, variant in spec:
        if variant in GOOD:
            contents.setdefault(doc, set()).add(GOOD[variant])
            good_rows[doc] = good_rows.get(doc, 0) + 1
    accepted_docs = {doc for doc, c in contents.items() if len(c) == 1}
    bad = sum(1 for _, _, v in spec if v not in GOOD)
    conflicting = sum(good_rows[doc] for doc in contents if doc not in accepted_docs)

    keys = result.accepted["doc_no"].to_list()
    assert len(keys) == len(set(keys))
    assert set(keys) == {f"罚{doc}" for doc in accepted_docs}
    assert result.quarantine.height == bad + conflicting
    counts = dict(zip(result.accepted["doc_no"], result.accepted["duplicate_count"], strict=True))
    assert counts == {f"罚{doc}": good_rows[doc] for doc in accepted_docs}

    per_file = {r[0]: r[1:] for r in result.file_counts.rows()}
    assert set(per_file) == {file for file, _, _ in spec}
    for file, (read, accepted, quarantined, collapsed, _cleaned) in per_file.items():
        assert read == sum(1 for f, _, _ in spec if f == file)
        assert read == accepted + quarantined + collapsed, file
    assert sum(r[0] for r in per_file.values()) == len(spec)


def test_an_established_version_stays_and_a_later_contradiction_is_held() -> None:
    """A key accepted from a file seen earlier is established: a later file that restates
    it with other content is quarantined as a conflict and cannot remove it."""
    earlier = PENALTY | {"_file": "old.csv", "_seen": datetime(2026, 1, 5)}
    later = PENALTY | {"fine_amount": "999", "_file": "new.csv", "_seen": datetime(2026, 2, 1)}
    result = clean("penalty_decisions", earlier, later)
    assert result.accepted["source_file"].to_list() == ["old.csv"]
    assert result.quarantine["reason_code"].to_list() == ["conflicts_established"]
    assert "old.csv" in result.quarantine["reason"][0]


def test_versions_that_arrive_together_are_all_held() -> None:
    same_day = datetime(2026, 1, 5)
    result = clean(
        "penalty_decisions",
        PENALTY | {"_file": "a.csv", "_seen": same_day},
        PENALTY | {"fine_amount": "999", "_file": "b.csv", "_seen": same_day},
    )
    assert result.accepted.is_empty()
    assert result.quarantine["reason_code"].to_list() == ["duplicate_conflict"] * 2
