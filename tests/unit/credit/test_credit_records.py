"""Documents → credit records (docs §2), one mapping branch at a time.

Every expected severity, window end and id below is computed by hand from the default rule set
(docs/rules.md): L1 2 pts/6 months, L2 5/12, L3 10/24, L4 20/36, veto 12 months, never rectified 36.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from typing import Any

import polars as pl
import pytest
import yaml

from models.credit_records import derive_credit_records
from models.credit_schema import CREDIT_RECORD_SCHEMA
from models.rules import default_rule_set, parse_rule_set

U1 = "91350200776049653A"
U2 = "91440101MA5CJQ4N59"
DOC = "沪人防罚〔2024〕12号"
DECIDED = date(2024, 3, 5)


def _penalty(**overrides: Any) -> dict[str, Any]:
    row = {
        "doc_no": DOC,
        "uscc": U1,
        "decided_on": DECIDED,
        "penalty_types": ["罚款"],
        "fine_amount": None,
        "effective_until": None,
        "violation_category": "监理未履行职责",
        "status": "有效",
        "collected_on": date(2024, 3, 8),
    }
    return row | overrides


def _notice(**overrides: Any) -> dict[str, Any]:
    row = {
        "doc_no": "沪人防改〔2024〕3号",
        "uscc": U1,
        "issued_on": date(2024, 3, 5),
        "deadline": date(2024, 4, 5),
        "rectified_on": None,
        "review_result": None,
        "problem_category": "防护设备安装不符合要求",
        "collected_on": date(2024, 3, 6),
    }
    return row | overrides


def _derive(rules: Any = None, **sources: list[dict[str, Any]]) -> pl.DataFrame:
    frames = {name: pl.DataFrame(rows) for name, rows in sources.items()}
    return derive_credit_records(frames, rules or default_rule_set())


def _one(records: pl.DataFrame) -> dict[str, Any]:
    assert records.height == 1, records
    return records.row(0, named=True)


# --- penalty decisions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("types", "fine", "severity", "rule", "points", "until"),
    [
        (["警告"], None, "L1", "penalty.minor", 2.0, date(2024, 9, 5)),
        (["没收违法所得"], None, "L1", "penalty.minor", 2.0, date(2024, 9, 5)),
        (["罚款"], 0.0, "L1", "penalty.minor", 2.0, date(2024, 9, 5)),
        (["罚款"], 0.01, "L2", "penalty.criticism_or_small_fine", 5.0, date(2025, 3, 5)),
        (["罚款"], 9_999.99, "L2", "penalty.criticism_or_small_fine", 5.0, date(2025, 3, 5)),
        (["通报批评"], None, "L2", "penalty.criticism_or_small_fine", 5.0, date(2025, 3, 5)),
        (["罚款"], 10_000.0, "L3", "penalty.fine_10k_50k", 10.0, date(2026, 3, 5)),
        (["罚款"], 50_000.0, "L3", "penalty.fine_10k_50k", 10.0, date(2026, 3, 5)),
        (["通报批评", "罚款"], 20_000.0, "L3", "penalty.fine_10k_50k", 10.0, date(2026, 3, 5)),
        (["罚款"], 50_000.01, "L4", "penalty.fine_above_50k", 20.0, date(2027, 3, 5)),
        (["吊销许可证件"], None, "L4", "penalty.l4_type", 20.0, date(2027, 3, 5)),
        (["警告", "责令停产停业"], 1_000.0, "L4", "penalty.l4_type", 20.0, date(2027, 3, 5)),
        (["降低资质等级"], None, "L4", "penalty.l4_type", 20.0, date(2027, 3, 5)),
        (["暂扣许可证件"], None, "L4", "penalty.l4_type", 20.0, date(2027, 3, 5)),
        (["限制从业"], None, "L4", "penalty.l4_type", 20.0, date(2027, 3, 5)),
    ],
)
def test_penalty_severity_first_match(
    types: list[str], fine: float | None, severity: str, rule: str, points: float, until: date
) -> None:
    row = _one(_derive(penalty_decisions=[_penalty(penalty_types=types, fine_amount=fine)]))
    assert (row["severity"], row["rule"], row["points"]) == (severity, rule, points)
    assert (row["valid_from"], row["valid_until"]) == (DECIDED, until)
    assert (row["segment"], row["segment_from"], row["segment_until"]) == (0, DECIDED, None)
    assert row["polarity"] == "bad"
    assert row["category"] == "监理未履行职责"
    assert row["evidence_type"] == "行政处罚决定书"
    assert row["evidence_doc_no"] == DOC
    assert row["collected_on"] == date(2024, 3, 8)
    assert row["veto"] is False
    assert row["veto_reason"] is None
    assert row["rule_set_version"] == "default-2026.1"


@pytest.mark.parametrize(("status", "records"), [("已撤销", 0), ("有效", 1), ("复议中", 1),
                                                 ("诉讼中", 1), (None, 1)])  # fmt: skip
def test_revoked_penalty_yields_nothing(status: str | None, records: int) -> None:
    assert _derive(penalty_decisions=[_penalty(status=status)]).height == records


@pytest.mark.parametrize(
    ("effective_until", "valid_until"),
    [
        (None, date(2027, 3, 5)),
        (date(2025, 12, 31), date(2027, 3, 5)),  # inside the window: the window wins
        (date(2027, 3, 4), date(2027, 3, 5)),  # ends the day before: same end
        (date(2027, 3, 5), date(2027, 3, 6)),
        (date(2028, 6, 30), date(2028, 7, 1)),  # a longer suspension keeps counting
    ],
)
def test_window_never_ends_before_the_penalty(
    effective_until: date | None, valid_until: date
) -> None:
    doc = _penalty(penalty_types=["责令停产停业"], effective_until=effective_until)
    assert _one(_derive(penalty_decisions=[doc]))["valid_until"] == valid_until


@pytest.mark.parametrize(
    ("effective_until", "veto_until"),
    [(None, date(2025, 3, 5)), (date(2026, 1, 1), date(2026, 1, 2))],
)
def test_veto_category_adds_a_veto_record(effective_until: date | None, veto_until: date) -> None:
    doc = _penalty(
        fine_amount=20_000.0,
        violation_category="伪造检测报告或生产记录",
        effective_until=effective_until,
    )
    records = _derive(penalty_decisions=[doc])
    assert records.get_column("record_id").to_list() == [
        f"penalty_decisions:{DOC}:{U1}",
        f"penalty_decisions:{DOC}:{U1}:veto",
    ]
    veto = records.row(1, named=True)
    assert veto["veto"] is True
    assert veto["veto_reason"] == "一票否决：伪造检测报告或生产记录"
    assert (veto["severity"], veto["points"], veto["polarity"]) == (None, 0.0, "bad")
    assert veto["rule"] == "penalty.veto_category"
    assert veto["category"] == "伪造检测报告或生产记录"
    assert (veto["valid_from"], veto["valid_until"]) == (DECIDED, veto_until)
    assert veto["evidence_doc_no"] == DOC
    assert records.row(0, named=True)["severity"] == "L3"


def test_calendar_months_clip_to_the_month_end() -> None:
    doc = _penalty(decided_on=date(2024, 1, 31), penalty_types=["警告"])
    assert _one(_derive(penalty_decisions=[doc]))["valid_until"] == date(2024, 7, 31)
    doc = _penalty(decided_on=date(2024, 2, 29), fine_amount=500.0)
    assert _one(_derive(penalty_decisions=[doc]))["valid_until"] == date(2025, 2, 28)
    doc = _penalty(decided_on=date(2023, 8, 31), penalty_types=["警告"])
    assert _one(_derive(penalty_decisions=[doc]))["valid_until"] == date(2024, 2, 29)


@pytest.mark.parametrize(
    ("doc_no", "valid"),
    [(DOC, True), ("柳人防罚决字[2023]第7号", True), ("罚字12号", False), ("2024-12", False)],
)
def test_evidence_valid_follows_the_doc_no_shape(doc_no: str, valid: bool) -> None:
    assert _one(_derive(penalty_decisions=[_penalty(doc_no=doc_no)]))["evidence_valid"] is valid


# --- correction notices ----------------------------------------------------------------------

ISSUED = date(2024, 3, 5)
AFTER_DEADLINE = date(2024, 4, 6)


@pytest.mark.parametrize(
    ("rectified_on", "review", "rule", "seg1_until"),
    [
        (date(2024, 4, 10), None, "correction.failed", date(2026, 3, 5)),  # late
        (date(2024, 4, 10), "合格", "correction.failed", date(2026, 3, 5)),
        (date(2024, 4, 1), "不合格", "correction.failed", date(2026, 3, 5)),
        (None, None, "correction.never_rectified", date(2027, 3, 5)),  # refusal: 24 × 1.5
        (None, "逾期未改", "correction.never_rectified", date(2027, 3, 5)),
        (date(2024, 4, 20), "逾期未改", "correction.never_rectified", date(2027, 3, 5)),
    ],
)
def test_failed_correction_has_two_segments(
    rectified_on: date | None, review: str | None, rule: str, seg1_until: date
) -> None:
    records = _derive(correction_notices=[_notice(rectified_on=rectified_on, review_result=review)])
    rid = f"correction_notices:沪人防改〔2024〕3号:{U1}"
    got = records.select(
        "record_id", "segment", "severity", "points", "rule",
        "valid_from", "valid_until", "segment_from", "segment_until",
    ).rows()  # fmt: skip
    assert got == [
        (rid, 0, "L1", 2.0, "correction.order",
         ISSUED, date(2024, 9, 5), ISSUED, AFTER_DEADLINE),
        (rid, 1, "L3", 10.0, rule, ISSUED, seg1_until, AFTER_DEADLINE, None),
    ]  # fmt: skip
    assert records.get_column("category").to_list() == ["防护设备安装不符合要求"] * 2
    assert records.get_column("evidence_type").to_list() == ["责令改正通知书"] * 2


@pytest.mark.parametrize(
    ("rectified_on", "review"),
    [(date(2024, 4, 5), "合格"), (date(2024, 4, 5), None), (date(2024, 3, 20), None)],
)
def test_correction_on_time_is_one_open_l1_segment(rectified_on: date, review: str | None) -> None:
    row = _one(
        _derive(correction_notices=[_notice(rectified_on=rectified_on, review_result=review)])
    )
    assert (row["segment"], row["severity"], row["rule"]) == (0, "L1", "correction.order")
    assert (row["valid_until"], row["segment_until"]) == (date(2024, 9, 5), None)


def _ignored(doc_no: str, deadline: date, uscc: str = U1, **extra: Any) -> dict[str, Any]:
    """A notice never rectified: it fails on deadline + 1 day."""
    return _notice(doc_no=doc_no, issued_on=date(2024, 1, 2), deadline=deadline, uscc=uscc) | extra


def _vetoes(records: pl.DataFrame) -> list[tuple[Any, ...]]:
    return records.filter("veto").select("record_id", "valid_from", "valid_until").rows()


def test_second_ignored_notice_within_12_months_vetoes() -> None:
    records = _derive(
        correction_notices=[
            _ignored("甲〔2024〕1号", date(2024, 4, 5), collected_on=date(2024, 5, 1)),
            _ignored("甲〔2025〕2号", date(2025, 4, 4), collected_on=date(2025, 4, 2)),
        ]
    )
    # failures 2024-04-06 and 2025-04-05: within 12 months (2025-04-05 < 2025-04-06)
    assert _vetoes(records) == [
        (f"correction_notices:甲〔2025〕2号:{U1}:veto", date(2025, 4, 5), date(2026, 4, 5))
    ]
    veto = records.filter("veto").row(0, named=True)
    assert veto["veto_reason"] == "一票否决：两次逾期未整改"
    assert veto["rule"] == "correction.overdue_twice_veto"
    assert (veto["severity"], veto["category"], veto["points"]) == (None, None, 0.0)
    assert veto["collected_on"] == date(2025, 4, 2)  # known once both notices are
    assert veto["evidence_doc_no"] == "甲〔2025〕2号"


@pytest.mark.parametrize(
    "second",
    [
        _ignored("甲〔2025〕2号", date(2025, 4, 5)),  # failures exactly 12 months apart
        _ignored("甲〔2025〕2号", date(2024, 6, 1), uscc=U2),  # another firm
        _ignored("甲〔2025〕2号", date(2024, 6, 1), rectified_on=date(2024, 6, 9)),  # late only
        _ignored(
            "甲〔2025〕2号", date(2024, 6, 1), review_result="不合格", rectified_on=date(2024, 5, 1)
        ),
    ],
)
def test_no_overdue_veto(second: dict[str, Any]) -> None:
    first = _ignored("甲〔2024〕1号", date(2024, 4, 5))
    assert _vetoes(_derive(correction_notices=[first, second])) == []


def test_every_notice_completing_a_pair_vetoes() -> None:
    notices = [
        _ignored("甲〔2024〕3号", date(2024, 9, 30)),
        _ignored("甲〔2024〕1号", date(2024, 2, 29)),
        _ignored("甲〔2024〕2号", date(2024, 6, 30)),
    ]
    assert [r[0] for r in _vetoes(_derive(correction_notices=notices))] == [
        f"correction_notices:甲〔2024〕2号:{U1}:veto",
        f"correction_notices:甲〔2024〕3号:{U1}:veto",
    ]


# --- circulars, commendations, inspections ---------------------------------------------------


def test_circular_criticism_gives_each_named_firm_an_l2() -> None:
    rows = [
        {
            "doc_no": "沪人防通〔2024〕5号",
            "uscc": u,
            "issued_on": ISSUED,
            "kind": "批评",
            "level": "市",
        }
        for u in (U1, U2)
    ]
    records = _derive(circulars=rows)
    assert records.select("record_id", "severity", "points", "rule", "valid_until").rows() == [
        (f"circulars:沪人防通〔2024〕5号:{U1}", "L2", 5.0, "circular.criticism", date(2025, 3, 5)),
        (f"circulars:沪人防通〔2024〕5号:{U2}", "L2", 5.0, "circular.criticism", date(2025, 3, 5)),
    ]
    assert records.get_column("evidence_type").to_list() == ["通报", "通报"]
    assert records.get_column("evidence_valid").to_list() == [True, True]


@pytest.mark.parametrize(
    ("level", "points", "until"),
    [
        ("国家", 10.0, date(2027, 3, 5)),
        ("省", 10.0, date(2027, 3, 5)),
        ("市", 5.0, date(2027, 3, 5)),
        ("区", 2.0, date(2025, 3, 5)),
    ],
)
def test_circular_commendation_is_a_bonus_by_level(level: str, points: float, until: date) -> None:
    row = {"doc_no": "沪人防通〔2024〕6号", "uscc": U1, "issued_on": ISSUED, "kind": "表扬"}
    got = _one(_derive(circulars=[row | {"level": level}]))
    assert (got["polarity"], got["severity"], got["points"]) == ("good", None, points)
    assert (got["rule"], got["valid_until"]) == (f"circular.commendation.{level}", until)


def test_commendation_without_a_priced_level_yields_nothing() -> None:
    row = {"doc_no": "沪人防通〔2024〕6号", "uscc": U1, "issued_on": ISSUED, "kind": "表扬"}
    assert _derive(circulars=[row | {"level": None}]).is_empty()


@pytest.mark.parametrize(
    ("level", "points", "until"),
    [
        ("协会", 5.0, date(2027, 3, 5)),
        ("国家", 10.0, date(2027, 3, 5)),
        ("区", 2.0, date(2025, 3, 5)),
    ],
)
def test_commendations(level: str, points: float, until: date) -> None:
    row = {"doc_no": "沪人防表〔2024〕1号", "uscc": U1, "awarded_on": ISSUED, "level": level}
    got = _one(_derive(commendations=[row]))
    assert (got["polarity"], got["points"], got["valid_until"]) == ("good", points, until)
    assert (got["rule"], got["evidence_type"]) == (f"commendation.{level}", "表彰")
    assert got["record_id"] == f"commendations:沪人防表〔2024〕1号:{U1}"


@pytest.mark.parametrize(
    ("result", "followup", "expected"),
    [
        ("未发现问题", None, ("good", None, 2.0, "inspection.clean", False, None, "I-1")),
        ("查无下落", None, ("bad", "L2", 5.0, "inspection.not_found", False, None, "I-1")),
        ("拒绝检查", None,
         ("bad", None, 0.0, "inspection.refused_veto", True, "一票否决：拒绝检查", "I-1")),
        ("拒绝检查", "罚字12号",
         ("bad", None, 0.0, "inspection.refused_veto", True, "一票否决：拒绝检查", "罚字12号")),
    ],
)  # fmt: skip
def test_inspection_outcomes(result: str, followup: str | None, expected: tuple[Any, ...]) -> None:
    row = {"inspection_id": "I-1", "uscc": U1, "inspected_on": ISSUED, "result": result,
           "followup_doc_no": followup}  # fmt: skip
    got = _one(_derive(inspection_outcomes=[row]))
    fields = ("polarity", "severity", "points", "rule", "veto", "veto_reason", "evidence_doc_no")
    assert tuple(got[f] for f in fields) == expected
    assert got["record_id"] == f"inspection_outcomes:I-1:{U1}"
    assert got["valid_until"] == date(2025, 3, 5)  # all three last 12 months
    assert got["evidence_valid"] is True  # the inspection system is the evidence
    assert got["evidence_type"] == "检查记录"


@pytest.mark.parametrize("result", ["发现问题", "立案查处"])
def test_inspection_with_a_followup_document_yields_nothing_itself(result: str) -> None:
    row = {"inspection_id": "I-1", "uscc": U1, "inspected_on": ISSUED, "result": result,
           "followup_doc_no": DOC}  # fmt: skip
    assert _derive(inspection_outcomes=[row]).is_empty()


# --- the table as a whole --------------------------------------------------------------------


def _mixed_sources() -> dict[str, list[dict[str, Any]]]:
    return {
        "penalty_decisions": [
            _penalty(fine_amount=60_000.0, violation_category="出借转让资质证书"),
            _penalty(doc_no="沪人防罚〔2024〕13号", uscc=U2, penalty_types=["警告"]),
        ],
        "correction_notices": [
            _ignored("甲〔2024〕1号", date(2024, 4, 5)),
            _ignored("甲〔2024〕2号", date(2024, 5, 5)),
        ],
        "inspection_outcomes": [
            {"inspection_id": "I-1", "uscc": U2, "inspected_on": ISSUED, "result": "拒绝检查"}
        ],
    }


def test_records_are_stable_unique_typed_and_sorted() -> None:
    first = _derive(**_mixed_sources())
    again = _derive(**_mixed_sources())
    assert first.equals(again)
    assert first.schema == CREDIT_RECORD_SCHEMA
    assert first.select("record_id", "segment").is_duplicated().sum() == 0
    assert first.equals(first.sort("uscc", "record_id", "segment"))
    assert first.height == 2 + 1 + 2 * 2 + 1 + 1  # penalty+veto, penalty, 2×2 segments, veto, insp


def test_missing_and_empty_sources_contribute_nothing() -> None:
    assert derive_credit_records({}, default_rule_set()).schema == CREDIT_RECORD_SCHEMA
    assert derive_credit_records({}, default_rule_set()).is_empty()
    empty = pl.DataFrame(schema={"doc_no": pl.Utf8, "uscc": pl.Utf8, "decided_on": pl.Date})
    records = derive_credit_records({"penalty_decisions": empty}, default_rule_set())
    assert records.is_empty()
    assert records.schema == CREDIT_RECORD_SCHEMA


def test_lineage_and_unknown_extra_columns_are_ignored() -> None:
    row = _penalty(source_file="a.csv", source_row=2, duplicate_count=1, remark="x")
    assert _one(_derive(penalty_decisions=[row]))["severity"] == "L1"


def test_numbers_come_from_the_rule_set() -> None:
    text = resources.files("models").joinpath("rulesets", "default.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    data["version"] = "test-1"
    data["severities"]["L2"] = {"label_zh": "一般", "points": 7, "months": 18}
    data["penalties"]["l3_fine_from"] = 5_000
    rules = parse_rule_set(yaml.safe_dump(data, allow_unicode=True))
    row = _one(_derive(rules, penalty_decisions=[_penalty(fine_amount=4_000.0)]))
    assert (row["severity"], row["points"], row["valid_until"]) == ("L2", 7.0, date(2025, 9, 5))
    assert row["rule_set_version"] == "test-1"
    assert (
        _one(_derive(rules, penalty_decisions=[_penalty(fine_amount=5_000.0)]))["severity"] == "L3"
    )
