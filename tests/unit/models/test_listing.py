"""The 严重失信主体名单 procedure as pure functions: steps in order, the statement deadline,
numbered documents, a disputed ground blocks, and what the list holds on any date."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from models.listing import (
    LISTING_CASE_SCHEMA,
    LISTING_EVENT_SCHEMA,
    ListingError,
    case_overview,
    case_state,
    check_proposal,
    check_step,
    decision_text,
    listed_until,
    listings_as_of,
    next_doc_no,
    notice_text,
)
from models.rules import default_rule_set

RULES = default_rule_set()
U1 = "91310115MA1FL07778"
CASE = {
    "case_id": "SX2025-001", "uscc": U1, "firm_name": "上海申防", "basis": "veto",
    "grounds": "一票否决：提供虚假材料取得资质", "evidence_doc_nos": ["沪国动罚〔2025〕25号"],
    "proposed_on": date(2025, 11, 1), "rule_set_version": RULES.version, "actor": "t",
    "recorded_at": None,
}  # fmt: skip


def _events(*steps: tuple[str, date, str | None, date | None]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"case_id": "SX2025-001", "seq": i + 1, "step": s, "step_on": on, "doc_no": doc,
          "deadline": due, "detail": None, "document": None, "actor": "t", "recorded_at": None}
         for i, (s, on, doc, due) in enumerate(steps)],
        schema=LISTING_EVENT_SCHEMA,
    )  # fmt: skip


PROPOSED = ("proposed", date(2025, 11, 1), None, None)
NOTICE = ("notice", date(2025, 11, 3), "人防信用告〔2025〕1号", date(2025, 11, 10))
STATEMENT = ("statement", date(2025, 11, 7), None, None)
DECISION = ("decision", date(2025, 11, 12), "人防信用决〔2025〕1号", date(2028, 11, 11))
PUBLISHED = ("published", date(2025, 11, 13), None, None)


def test_steps_follow_the_procedure():
    state = case_state("SX2025-001", _events(PROPOSED))
    with pytest.raises(ListingError, match="不能"):
        check_step(state, "decision", date(2025, 11, 2), rules=RULES)
    with pytest.raises(ListingError, match="早于"):
        check_step(state, "notice", date(2025, 10, 1), rules=RULES)
    check_step(state, "notice", date(2025, 11, 3), rules=RULES)
    noticed = case_state("SX2025-001", _events(PROPOSED, NOTICE))
    with pytest.raises(ListingError, match="陈述申辩期限至 2025-11-10"):
        check_step(noticed, "decision", date(2025, 11, 10), rules=RULES)
    check_step(noticed, "decision", date(2025, 11, 11), rules=RULES)  # deadline passed: allowed
    heard = case_state("SX2025-001", _events(PROPOSED, NOTICE, STATEMENT))
    check_step(heard, "decision", date(2025, 11, 8), rules=RULES)  # heard: no need to wait
    with pytest.raises(ListingError, match="异议未决"):
        check_step(heard, "decision", date(2025, 11, 8), rules=RULES, disputed=["D1"])
    published = case_state("SX2025-001", _events(PROPOSED, NOTICE, STATEMENT, DECISION, PUBLISHED))
    with pytest.raises(ListingError, match="12 个月"):
        check_step(published, "removed", date(2026, 11, 12), rules=RULES, repair=True)
    check_step(published, "removed", date(2026, 11, 13), rules=RULES, repair=True)
    check_step(published, "removed", date(2025, 12, 1), rules=RULES)  # e.g. revoked on review


def test_a_case_needs_grounds_and_none_of_them_disputed():
    with pytest.raises(ListingError, match="依据文书"):
        check_proposal([], [], RULES)
    with pytest.raises(ListingError, match="异议未决"):
        check_proposal(["D1"], ["D1"], RULES)
    check_proposal([], ["D1"], RULES)


def test_documents_are_numbered_per_year_and_say_what_the_law_asks():
    assert next_doc_no(
        [None, "人防信用告〔2025〕1号", "人防信用告〔2024〕7号"], "人防信用告", 2025
    ) == ("人防信用告〔2025〕2号")
    assert next_doc_no([], "人防信用决", 2026) == "人防信用决〔2026〕1号"
    notice = notice_text(
        CASE, "人防信用告〔2025〕1号", date(2025, 11, 3), date(2025, 11, 10), RULES
    )
    assert "沪国动罚〔2025〕25号" in notice and "2025-11-10" in notice and "陈述和申辩" in notice
    decision = decision_text(CASE, "人防信用决〔2025〕1号", date(2025, 11, 12),
                             listed_until(date(2025, 11, 12), RULES), None, RULES)  # fmt: skip
    assert "2028-11-11" in decision and "未提出陈述申辩意见" in decision


def test_the_list_holds_decided_published_unexpired_unremoved_cases_only():
    cases = pl.DataFrame([CASE], schema=LISTING_CASE_SCHEMA)
    decided = _events(PROPOSED, NOTICE, STATEMENT, DECISION)
    assert listings_as_of(cases, decided, date(2025, 12, 1)).is_empty()  # decided, unpublished
    published = _events(PROPOSED, NOTICE, STATEMENT, DECISION, PUBLISHED)
    assert listings_as_of(cases, published, date(2025, 11, 12)).is_empty()
    assert listings_as_of(cases, published, date(2025, 11, 13))["uscc"].to_list() == [U1]
    assert listings_as_of(cases, published, date(2028, 11, 11)).height == 1
    assert listings_as_of(cases, published, date(2028, 11, 12)).is_empty()  # expired
    removed = _events(PROPOSED, NOTICE, STATEMENT, DECISION, PUBLISHED,
                      ("removed", date(2026, 1, 5), None, None))  # fmt: skip
    assert listings_as_of(cases, removed, date(2026, 1, 4)).height == 1
    assert listings_as_of(cases, removed, date(2026, 1, 5)).is_empty()
    overview = case_overview(cases, _events(PROPOSED, NOTICE), date(2025, 11, 11))
    row = overview.row(0, named=True)
    assert (row["state"], row["deadline"], row["overdue"]) == ("notice", date(2025, 11, 10), True)
    expired = case_overview(cases, published, date(2028, 11, 12)).row(0, named=True)
    assert expired["state"] == "removed" and expired["state_zh"] == "期满移出"
