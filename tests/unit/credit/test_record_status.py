"""Objections and repair → status rows (docs §4), computed by hand.

Records come from `derive_credit_records` on one-document sources, so the join by
(uscc, evidence_doc_no) is exercised as in production.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from models.credit_records import derive_credit_records
from models.credit_schema import RECORD_STATUS_SCHEMA
from models.record_status import record_status_history
from models.rules import default_rule_set

U1 = "91350200776049653A"
U2 = "91440101MA5CJQ4N59"
DOC = "沪人防罚〔2024〕12号"
DECIDED = date(2024, 3, 5)
PENALTY_ID = f"penalty_decisions:{DOC}:{U1}"


def _records(**penalty: Any) -> pl.DataFrame:
    row = {
        "doc_no": DOC,
        "uscc": U1,
        "decided_on": DECIDED,
        "penalty_types": ["罚款"],
        "fine_amount": 20_000.0,  # L3
        "violation_category": "监理未履行职责",
        "collected_on": DECIDED,
    }
    return derive_credit_records(
        {"penalty_decisions": pl.DataFrame([row | penalty])}, default_rule_set()
    )


def _case(kind: str, filed: date, decided: date | None = None, decision: str | None = None,
          **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "case_id": "C-1",
        "uscc": U1,
        "kind": kind,
        "record_doc_no": DOC,
        "filed_on": filed,
        "decided_on": decided,
        "decision": decision,
        "note": "说明",
    } | extra


def _history(records: pl.DataFrame, *cases: dict[str, Any]) -> list[tuple[Any, ...]]:
    got = record_status_history(records, pl.DataFrame(list(cases)), default_rule_set())
    assert got.schema == RECORD_STATUS_SCHEMA
    assert got["ground_doc_no"].null_count() == got.height  # cases rest on their own document
    return got.drop("ground_doc_no").rows()


# --- repair ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filed", "decided", "decision", "expected"),
    [
        # exactly 3 months after 2024-03-05: eligible
        (date(2024, 6, 5), date(2024, 6, 20), "准予修复",
         [(PENALTY_ID, "repaired", date(2024, 6, 20), None, "C-1", "说明")]),
        # a day early: refused by the rule, whatever was decided, on the decision day
        (date(2024, 6, 4), date(2024, 6, 20), "准予修复",
         [(PENALTY_ID, "repair_refused", date(2024, 6, 20), None, "C-1",
           "未满最短公示期（3个月）")]),
        # a day early and undecided: refused on the filing day
        (date(2024, 6, 4), None, None,
         [(PENALTY_ID, "repair_refused", date(2024, 6, 4), None, "C-1",
           "未满最短公示期（3个月）")]),
        # on time, refused by the authority
        (date(2024, 7, 1), date(2024, 7, 9), "不予修复",
         [(PENALTY_ID, "repair_refused", date(2024, 7, 9), None, "C-1", "说明")]),
        # on time, pending: no row, the record simply counts
        (date(2024, 7, 1), None, None, []),
    ],
)  # fmt: skip
def test_repair_of_an_l3_record(
    filed: date, decided: date | None, decision: str | None, expected: list[tuple[Any, ...]]
) -> None:
    assert _history(_records(), _case("信用修复", filed, decided, decision)) == expected


@pytest.mark.parametrize(
    ("filed", "status", "reason"),
    [
        (date(2025, 3, 4), "repair_refused", "未满最短公示期（12个月）"),
        (date(2025, 3, 5), "repaired", "说明"),
    ],
)
def test_l4_record_needs_12_months(filed: date, status: str, reason: str) -> None:
    records = _records(penalty_types=["吊销许可证件"])
    case = _case("信用修复", filed, date(2025, 4, 1), "准予修复")
    assert _history(records, case) == [(PENALTY_ID, status, date(2025, 4, 1), None, "C-1", reason)]


def test_repair_judges_the_veto_record_on_its_own_minimum() -> None:
    records = _records(violation_category="提供虚假材料取得资质")
    case = _case("信用修复", date(2024, 9, 5), date(2024, 9, 10), "准予修复")
    assert _history(records, case) == [
        (PENALTY_ID, "repaired", date(2024, 9, 10), None, "C-1", "说明"),
        (f"{PENALTY_ID}:veto", "repair_refused", date(2024, 9, 10), None, "C-1",
         "未满最短公示期（12个月）"),
    ]  # fmt: skip


# --- objections ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decided", "decision", "expected"),
    [
        (None, None, [(PENALTY_ID, "disputed", date(2024, 4, 1), None, "C-1", None)]),
        (date(2024, 4, 15), "维持", [
            (PENALTY_ID, "disputed", date(2024, 4, 1), date(2024, 4, 15), "C-1", None),
            (PENALTY_ID, "active", date(2024, 4, 15), None, "C-1", "说明"),
        ]),
        (date(2024, 4, 15), "撤销", [
            (PENALTY_ID, "disputed", date(2024, 4, 1), date(2024, 4, 15), "C-1", None),
            (PENALTY_ID, "revoked", date(2024, 4, 15), None, "C-1", "说明"),
        ]),
        (date(2024, 4, 15), "更正", [
            (PENALTY_ID, "disputed", date(2024, 4, 1), date(2024, 4, 15), "C-1", None),
            (PENALTY_ID, "corrected", date(2024, 4, 15), None, "C-1", "说明"),
        ]),
        # closed without a decision: disputed until then, then simply active
        (date(2024, 4, 15), None, [
            (PENALTY_ID, "disputed", date(2024, 4, 1), date(2024, 4, 15), "C-1", None),
        ]),
        # a decision without its date cannot be dated: still disputed
        (None, "撤销", [(PENALTY_ID, "disputed", date(2024, 4, 1), None, "C-1", None)]),
    ],
)  # fmt: skip
def test_objection(
    decided: date | None, decision: str | None, expected: list[tuple[Any, ...]]
) -> None:
    assert _history(_records(), _case("异议", date(2024, 4, 1), decided, decision)) == expected


def test_case_applies_once_to_every_record_of_the_document() -> None:
    notice = {
        "doc_no": DOC,
        "uscc": U1,
        "issued_on": DECIDED,
        "deadline": date(2024, 4, 5),
        "rectified_on": None,
        "collected_on": DECIDED,
    }
    records = derive_credit_records(
        {"correction_notices": pl.DataFrame([notice])}, default_rule_set()
    )
    assert records.height == 2  # two segments, one record
    case = _case("异议", date(2024, 4, 1), date(2024, 4, 15), "撤销")
    statuses = [(r[0], r[1]) for r in _history(records, case)]
    rid = f"correction_notices:{DOC}:{U1}"
    assert statuses == [(rid, "disputed"), (rid, "revoked")]


def test_case_of_another_firm_or_document_matches_nothing() -> None:
    other_firm = _case("异议", date(2024, 4, 1), uscc=U2)
    other_doc = _case("异议", date(2024, 4, 1), case_id="C-2", record_doc_no="沪人防罚〔2024〕99号")
    assert _history(_records(), other_firm, other_doc) == []


def test_good_records_are_not_applicable() -> None:
    award = {"doc_no": DOC, "uscc": U1, "awarded_on": DECIDED, "level": "市"}
    records = derive_credit_records({"commendations": pl.DataFrame([award])}, default_rule_set())
    cases = [
        _case("异议", date(2024, 4, 1)),
        _case("信用修复", date(2024, 8, 1), date(2024, 8, 9), "准予修复", case_id="C-2"),
    ]
    rid = f"commendations:{DOC}:{U1}"
    reason = "良好信用记录不适用异议或信用修复"
    assert _history(records, *cases) == [
        (rid, "not_applicable", date(2024, 4, 1), None, "C-1", reason),
        (rid, "not_applicable", date(2024, 8, 1), None, "C-2", reason),
    ]


def test_no_cases_no_rows() -> None:
    cases = pl.DataFrame(schema={"case_id": pl.Utf8, "uscc": pl.Utf8, "kind": pl.Utf8})
    got = record_status_history(_records(), cases, default_rule_set())
    assert got.is_empty()
    assert got.schema == RECORD_STATUS_SCHEMA


def test_rows_are_unique_per_record_status_date_case() -> None:
    records = _records(violation_category="提供虚假材料取得资质")
    cases = [
        _case("异议", date(2024, 4, 1), date(2024, 4, 15), "维持"),
        _case("信用修复", date(2025, 4, 1), date(2025, 4, 9), "准予修复", case_id="C-2"),
    ]
    got = record_status_history(records, pl.DataFrame(cases), default_rule_set())
    assert got.select("record_id", "status", "status_from", "case_id").is_duplicated().sum() == 0
    assert got.height == 2 * 2 + 2  # (disputed, active) and repaired, for record and veto
