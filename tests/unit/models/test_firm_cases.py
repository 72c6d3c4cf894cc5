"""Online filings: which record, reason and files are accepted, what each decision means, the
case numbers, and the online cases as `credit_cases` rows with their deadlines."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from models.firm_cases import (
    DECISION_SCHEMA,
    FILING_SCHEMA,
    MAX_FILE_BYTES,
    FilingError,
    as_credit_cases,
    case_queue,
    check_attachments,
    check_filing,
    decision_of,
    merge_cases,
    next_case_id,
)
from models.rules import default_rule_set

PDF = b"%PDF-1.4 x"


def test_a_filing_names_one_of_the_firms_own_records_and_a_reason() -> None:
    assert check_filing("异议", "A1", " 理由\n第二行 ", ["复议决定书", " "], ["A1"]) == (
        "理由 第二行",
        ["复议决定书"],
    )
    with pytest.raises(FilingError, match="not one of the firm's records"):
        check_filing("异议", "B2", "理由", [], ["A1"])
    with pytest.raises(FilingError, match="state the reason"):
        check_filing("信用修复", "A1", " \u202e ", [], ["A1"])
    with pytest.raises(FilingError, match="kind"):
        check_filing("投诉", "A1", "理由", [], ["A1"])


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ([("a.exe", b"MZ")], "only PDF, PNG and JPG"),
        ([("a.pdf", b"MZ not a pdf")], "is not a PDF file"),
        ([("a.pdf", b"")], "empty or larger"),
        ([("a.pdf", b"%PDF-" + b"0" * MAX_FILE_BYTES)], "empty or larger"),
        ([("a.pdf", PDF)] * 6, "at most 5"),
    ],
)
def test_attachments_are_checked_by_type_size_and_count(files, problem) -> None:
    with pytest.raises(FilingError, match=problem):
        check_attachments(files)


def test_allowed_attachments_keep_a_normal_suffix() -> None:
    jpeg = b"\xff\xd8\xff\xe0 jpeg"
    assert check_attachments([("x.PDF", PDF), ("y.jpeg", jpeg)]) == [".pdf", ".jpg"]


def test_each_decision_means_a_credit_case_decision() -> None:
    assert decision_of("异议", "accept", "撤销")[0] == "撤销"
    assert decision_of("异议", "reject", "维持")[0] == "维持"
    assert decision_of("异议", "correct", "更正")[0] == "更正"
    assert decision_of("信用修复", "accept", "准予")[0] == "准予修复"
    with pytest.raises(FilingError):
        decision_of("信用修复", "correct", "x")
    with pytest.raises(FilingError, match="decision text"):
        decision_of("异议", "accept", "  ")


def test_case_numbers_count_per_year() -> None:
    assert next_case_id([], 2026) == "WS2026-0001"
    assert next_case_id(["WS2026-0001", "WS2026-0007", "WS2025-0009"], 2026) == "WS2026-0008"


def _filings() -> tuple[pl.DataFrame, pl.DataFrame]:
    filings = pl.DataFrame(
        [
            {"case_id": "WS2026-0001", "uscc": "U1", "kind": "异议", "record_doc_no": "A1",
             "reason": "r", "materials": ["m"], "filed_at": datetime(2026, 3, 2, 9, 30),
             "filed_on": date(2026, 3, 2), "filed_by": "U1"},
            {"case_id": "WS2026-0002", "uscc": "U2", "kind": "信用修复", "record_doc_no": "B1",
             "reason": "r", "materials": [], "filed_at": datetime(2026, 3, 5, 10, 0),
             "filed_on": date(2026, 3, 5), "filed_by": "U2"},
        ],
        schema=FILING_SCHEMA,
    )  # fmt: skip
    decisions = pl.DataFrame(
        [{"case_id": "WS2026-0001", "outcome": "accept", "decision": "撤销",
          "decision_text": "已撤销", "effective_on": date(2026, 3, 10),
          "decided_at": datetime(2026, 3, 10, 8), "decided_by": "centre"}],
        schema=DECISION_SCHEMA,
    )  # fmt: skip
    return filings, decisions


def test_online_cases_are_credit_cases_decided_on_their_effective_day() -> None:
    filings, decisions = _filings()
    cases = as_credit_cases(filings, decisions)
    first = cases.row(0, named=True)
    assert (first["filed_on"], first["decided_on"], first["decision"], first["note"]) == (
        date(2026, 3, 2),
        date(2026, 3, 10),
        "撤销",
        "已撤销",
    )
    assert cases.row(1, named=True)["decision"] is None
    landing = cases.head(0).vstack(cases.head(1).with_columns(note=pl.lit("centre's row")))
    merged = merge_cases(landing, cases)
    assert merged["case_id"].to_list() == ["WS2026-0001", "WS2026-0002"]
    assert merged.row(0, named=True)["note"] == "centre's row"  # the landing row wins


def test_the_queue_counts_the_deadline_from_the_filing_day() -> None:
    filings, decisions = _filings()
    rules = default_rule_set()
    queue = case_queue(filings, decisions, [(rules.effective_from, rules)], date(2026, 4, 1))
    rows = {r["case_id"]: r for r in queue.iter_rows(named=True)}
    days = rules.objection.decision_days
    assert (rows["WS2026-0002"]["deadline"] - date(2026, 3, 5)).days == days
    assert rows["WS2026-0002"]["status"] == "已提交" and rows["WS2026-0002"]["state"] == "overdue"
    assert rows["WS2026-0001"]["status"] == "已办结"
    assert queue["case_id"][0] == "WS2026-0002"  # open cases first
