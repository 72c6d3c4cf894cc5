"""Scoring (docs §1–§3): golden cases worked out by hand, the reasons
("docs §N" below: section N of docs/credit-engine.md, the engine's specification.)
invariant, and three readings that must agree on random record sets (hypothesis): one pass
over many dates, one date at a time, and a brute-force transcription of the spec.

Default rule set: base 70, bonus cap 30, tiers A ≥ 85 · B ≥ 65 · C ≥ 45 · D, veto → D,
repeat ×1.5 within 12 months. Every record here is built by hand, points included, so the
expected numbers follow from the record and the rules alone.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from models.credit_schema import (
    CREDIT_RECORD_SCHEMA,
    CREDIT_SCORE_SCHEMA,
    RECORD_STATUS_SCHEMA,
    SCORE_REASON_SCHEMA,
)
from models.rules import default_rule_set
from models.scoring import (
    Scores,
    expand_reasons,
    reason_spans,
    reasons_as_of,
    score_as_of,
    score_history,
    score_timeline,
    tier_with_veto_expr,
)

RULES = default_rule_set()
F1, F2, F3 = "F1", "F2", "F3"
OUTSIDER = "F9"  # has records but is not in the directory
FIRMS = pl.DataFrame({"uscc": [F1, F2, F3]})
D = date.fromisoformat


# --- builders ---------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic, clipped to the month's last day (polars `offset_by`)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def record(
    record_id: str,
    *,
    uscc: str = F1,
    polarity: str = "bad",
    points: float = 5.0,
    valid_from: str | date = "2024-03-05",
    months: int = 12,
    valid_until: str | date | None = None,
    category: str | None = None,
    segment: int = 0,
    segment_from: str | date | None = None,
    segment_until: str | date | None = None,
    collected_on: str | date | None = None,
    veto: bool = False,
    evidence_valid: bool = True,
    severity: str | None = None,
) -> dict[str, Any]:
    """One credit record segment; unmentioned fields get the obvious filler (collected the
    day it starts, a window of `months`, segment 0 from `valid_from`)."""
    start = valid_from if isinstance(valid_from, date) else D(valid_from)

    def day(value: str | date | None, default: date | None) -> date | None:
        return default if value is None else value if isinstance(value, date) else D(value)

    return {
        "record_id": record_id,
        "segment": segment,
        "uscc": uscc,
        "source": "penalty_decisions",
        "evidence_type": "行政处罚决定书",
        "evidence_doc_no": f"沪国动罚〔2024〕{record_id}号",
        "evidence_valid": evidence_valid,
        "polarity": polarity,
        "category": category,
        "severity": severity if severity or polarity == "good" or veto else "L2",
        "points": points,
        "rule": "test",
        "valid_from": start,
        "valid_until": day(valid_until, add_months(start, months)),
        "segment_from": day(segment_from, start),
        "segment_until": day(segment_until, None),
        "collected_on": day(collected_on, start),
        "veto": veto,
        "veto_reason": f"一票否决：{record_id}" if veto else None,
        "rule_set_version": RULES.version,
    }


def bonus(record_id: str, points: float, **kw: Any) -> dict[str, Any]:
    return record(record_id, polarity="good", points=points, **kw)


def veto(record_id: str, **kw: Any) -> dict[str, Any]:
    return record(record_id, points=0.0, veto=True, **kw)


def status(record_id: str, kind: str, since: str | date, until: str | date | None = None) -> dict:
    as_date = lambda v: v if isinstance(v, date) or v is None else D(v)  # noqa: E731
    return {
        "record_id": record_id,
        "status": kind,
        "status_from": as_date(since),
        "status_until": as_date(until),
        "case_id": f"case-{record_id}",
        "reason": None,
    }


def records_frame(rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=CREDIT_RECORD_SCHEMA)


def statuses_frame(rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=RECORD_STATUS_SCHEMA)


def score_of(
    rows: Sequence[dict], as_of: str, statuses: Sequence[dict] = (), uscc: str = F1
) -> dict[str, Any]:
    scores = score_as_of(
        records_frame(rows), statuses_frame(statuses), FIRMS, RULES, D(as_of)
    ).scores
    return scores.filter(pl.col("uscc") == uscc).row(0, named=True)


# --- golden cases: (records, statuses, as of) → score, tier, counting records -------------------

L2 = record("p", points=5.0)  # 2024-03-05 … 2025-03-04, collected 2024-03-05
TWO_SEGMENTS = [  # a correction notice: L1 while the deadline runs, L3 from 2024-04-06
    record("c", points=2.0, months=6, segment_until="2024-04-06"),
    record("c", points=10.0, months=24, segment=1, segment_from="2024-04-06"),
]

# fmt: off
GOLDEN = [
    # id, records, statuses, as of, score, tier, counting records
    ("no records", [], [], "2024-06-30", 70.0, "B", 0),
    # §1.2 the window [valid_from, valid_until) is half-open
    ("window first day", [L2], [], "2024-03-05", 65.0, "B", 1),
    ("window last day", [L2], [], "2025-03-04", 65.0, "B", 1),
    ("window end excluded", [L2], [], "2025-03-05", 70.0, "B", 0),
    ("before window", [L2], [], "2024-03-04", 70.0, "B", 0),
    # §1.1 collected by T
    ("collected after T", [record("p", collected_on="2024-04-01")], [], "2024-03-31",
     70.0, "B", 0),
    ("collected on T", [record("p", collected_on="2024-04-01")], [], "2024-04-01", 65.0, "B", 1),
    ("collection date missing", [{**L2, "collected_on": None}], [], "2024-06-01", 70.0, "B", 0),
    # §1.3 segments
    ("segment 0 last day", TWO_SEGMENTS, [], "2024-04-05", 68.0, "B", 1),
    ("segment 1 first day", TWO_SEGMENTS, [], "2024-04-06", 60.0, "C", 1),
    ("segment 1 after segment 0 window", TWO_SEGMENTS, [], "2024-12-31", 60.0, "C", 1),
    # §1.4 statuses as of T: stopping ones from status_from on; the others keep counting
    ("revoked day before", [L2], [status("p", "revoked", "2024-06-01")], "2024-05-31",
     65.0, "B", 1),
    ("revoked from its day", [L2], [status("p", "revoked", "2024-06-01")], "2024-06-01",
     70.0, "B", 0),
    ("corrected", [L2], [status("p", "corrected", "2024-06-01")], "2024-06-01", 70.0, "B", 0),
    ("repaired", [L2], [status("p", "repaired", "2024-06-01")], "2024-06-01", 70.0, "B", 0),
    ("revocation not yet known", [L2], [status("p", "revoked", "2024-09-01")], "2024-06-01",
     65.0, "B", 1),
    ("disputed keeps counting", [L2], [status("p", "disputed", "2024-05-01", "2024-05-20")],
     "2024-05-10", 65.0, "B", 1),
    ("repair refused keeps counting", [L2], [status("p", "repair_refused", "2024-05-01")],
     "2024-06-01", 65.0, "B", 1),
    ("upheld objection keeps counting", [L2], [status("p", "active", "2024-05-20")],
     "2024-06-01", 65.0, "B", 1),
    # §1.5 an unevidenced bad record never counts; a good record needs no 文号
    ("bad without evidence", [record("p", evidence_valid=False)], [], "2024-06-01",
     70.0, "B", 0),
    ("good without evidence", [bonus("g", 5.0, evidence_valid=False)], [], "2024-06-01",
     75.0, "B", 1),
    # §3 bonus cap and clamp
    ("bonus cap", [bonus("g1", 10.0), bonus("g2", 10.0), bonus("g3", 10.0), bonus("g4", 5.0)],
     [], "2024-06-01", 100.0, "A", 4),
    ("cap before deductions", [bonus("g1", 20.0), bonus("g2", 15.0), L2], [], "2024-06-01",
     95.0, "A", 3),
    ("clamp at 0", [record(f"p{i}", points=20.0) for i in range(5)], [], "2024-06-01",
     0.0, "D", 5),
    # §3 tiers exactly at the thresholds
    ("85 is A", [bonus("g", 15.0)], [], "2024-06-01", 85.0, "A", 1),
    ("84.99 is B", [bonus("g", 14.99)], [], "2024-06-01", 84.99, "B", 1),
    ("65 is B", [record("p", points=5.0)], [], "2024-06-01", 65.0, "B", 1),
    ("64.99 is C", [record("p", points=5.01)], [], "2024-06-01", 64.99, "C", 1),
    ("45 is C", [record("p", points=25.0)], [], "2024-06-01", 45.0, "C", 1),
    ("44.99 is D", [record("p", points=25.01)], [], "2024-06-01", 44.99, "D", 1),
    # §3 veto → D whatever the score, while the veto record counts
    ("veto", [veto("v"), bonus("g", 20.0)], [], "2024-06-01", 90.0, "D", 2),
    ("veto expired", [veto("v"), bonus("g", 20.0, months=36)], [], "2025-03-05", 90.0, "A", 1),
    ("veto without evidence", [veto("v", evidence_valid=False)], [], "2024-06-01", 70.0, "B", 0),
    ("veto revoked", [veto("v")], [status("v", "revoked", "2024-05-01")], "2024-06-01",
     70.0, "B", 0),
    # another firm's records and an outsider's do not touch F1
    ("other firms", [record("p", uscc=F2), record("q", uscc=OUTSIDER)], [], "2024-06-01",
     70.0, "B", 0),
]
# fmt: on


@pytest.mark.parametrize(
    ("rows", "statuses", "as_of", "score", "tier", "counting"),
    [case[1:] for case in GOLDEN],
    ids=[case[0] for case in GOLDEN],
)
def test_golden_score(
    rows: list[dict], statuses: list[dict], as_of: str, score: float, tier: str, counting: int
) -> None:
    got = score_of(rows, as_of, statuses)
    assert got["score"] == pytest.approx(score, abs=1e-9)
    assert got["tier"] == tier
    assert got["counting_records"] == counting


# --- the repeat multiplier (docs §2) ----------------------------------------------------------

EARLIER = record("e", points=5.0, valid_from="2024-01-10", category="X")
LATER = record("r", points=10.0, valid_from="2024-06-01", category="X")

# fmt: off
REPEATS = [
    # id, records, statuses, as of, F1's Σ deductions
    ("same category within 12 months", [EARLIER, LATER], [], "2024-07-01", 5 + 15),
    ("other category", [EARLIER, {**LATER, "category": "Y"}], [], "2024-07-01", 5 + 10),
    ("later has no category", [EARLIER, {**LATER, "category": None}], [], "2024-07-01", 5 + 10),
    ("earlier need not count any more",  # L1-like: 6 months, gone by 2025-01-09
     [record("e", points=2.0, valid_from="2024-01-10", months=6, category="X"),
      record("r", points=10.0, valid_from="2025-01-09", category="X")], [], "2025-01-09", 15),
    ("12 months later is no repeat",
     [record("e", points=2.0, valid_from="2024-01-10", months=6, category="X"),
      record("r", points=10.0, valid_from="2025-01-10", category="X")], [], "2025-01-10", 10),
    ("earlier revoked before T", [EARLIER, LATER], [status("e", "revoked", "2024-06-15")],
     "2024-07-01", 10),
    ("earlier corrected before T", [EARLIER, LATER], [status("e", "corrected", "2024-06-15")],
     "2024-07-01", 10),
    ("earlier revoked after T", [EARLIER, LATER], [status("e", "revoked", "2024-08-01")],
     "2024-07-01", 5 + 15),
    ("earlier repaired still makes a repeat", [EARLIER, LATER],
     [status("e", "repaired", "2024-06-15")], "2024-07-01", 15),
    ("earlier disputed still makes a repeat", [EARLIER, LATER],
     [status("e", "disputed", "2024-06-15")], "2024-07-01", 5 + 15),
    ("earlier not yet collected", [{**EARLIER, "collected_on": D("2024-08-01")}, LATER], [],
     "2024-07-01", 10),
    ("earlier collected by T", [{**EARLIER, "collected_on": D("2024-08-01")}, LATER], [],
     "2024-08-01", 5 + 15),
    # e2 repeats e (7.5); r repeats both but is ×1.5 once: 15, not 22.5
    ("two earlier records: ×1.5 once", [EARLIER, {**EARLIER, "record_id": "e2",
     "valid_from": D("2024-03-10")}, LATER], [], "2024-07-01", 5 + 7.5 + 15),
    ("same day is not earlier", [EARLIER, {**EARLIER, "record_id": "e2", "points": 10.0}], [],
     "2024-07-01", 5 + 10),
    ("unevidenced earlier", [{**EARLIER, "evidence_valid": False}, LATER], [], "2024-07-01", 10),
    ("earlier of another firm", [{**EARLIER, "uscc": F2}, LATER], [], "2024-07-01", 10),
    ("veto record is no earlier violation", [veto("v", valid_from="2024-01-10", category="X"),
     LATER], [], "2024-07-01", 10),
    ("a record's own segments", [{**TWO_SEGMENTS[0], "category": "X"},
     {**TWO_SEGMENTS[1], "category": "X"}], [], "2024-07-01", 10),
]
# fmt: on


@pytest.mark.parametrize(
    ("rows", "statuses", "as_of", "deduction"),
    [case[1:] for case in REPEATS],
    ids=[case[0] for case in REPEATS],
)
def test_repeat_multiplier(
    rows: list[dict], statuses: list[dict], as_of: str, deduction: float
) -> None:
    got = score_of(rows, as_of, statuses)
    assert got["deduction_points"] == pytest.approx(deduction)
    assert got["score"] == pytest.approx(70 - deduction)


# --- outputs: every firm, veto details, reasons -----------------------------------------------


def test_every_directory_firm_gets_a_row_and_outsiders_none() -> None:
    rows = [record("p", uscc=F2), record("q", uscc=OUTSIDER)]
    scores = score_as_of(records_frame(rows), statuses_frame([]), FIRMS, RULES, D("2024-06-01"))
    assert scores.scores.schema == CREDIT_SCORE_SCHEMA
    assert scores.scores.select("uscc", "score", "tier").rows() == [
        (F1, 70.0, "B"),
        (F2, 65.0, "B"),
        (F3, 70.0, "B"),
    ]
    assert scores.scores["rule_set_version"].unique().to_list() == [RULES.version]
    assert scores.reasons["uscc"].to_list() == [F2]


def test_veto_until_is_the_longest_counting_veto() -> None:
    rows = [
        veto("v1", valid_until="2025-01-01"),
        veto("v2", valid_until="2025-09-01"),
        veto("v3", valid_from="2024-06-15", valid_until="2026-01-01"),  # starts after T
    ]
    got = score_of(rows, "2024-06-01")
    assert (got["tier"], got["veto"], got["veto_until"]) == ("D", True, D("2025-09-01"))
    assert got["veto_reason"] == "一票否决：v2"
    later = score_of(rows, "2025-03-01")
    assert (later["veto_until"], later["veto_reason"]) == (D("2026-01-01"), "一票否决：v3")
    after = score_of(rows, "2026-01-01")
    assert (after["tier"], after["veto"], after["veto_until"], after["veto_reason"]) == (
        "B",
        False,
        None,
        None,
    )


def test_reasons_show_signed_points_multiplier_status_and_vetoes() -> None:
    rows = [EARLIER, LATER, veto("v"), bonus("g", 10.0)]
    statuses = [status("r", "disputed", "2024-06-20", "2024-07-10")]
    reasons = reasons_as_of(
        records_frame(rows), statuses_frame(statuses), FIRMS, RULES, D("2024-07-01")
    )
    assert reasons.schema == SCORE_REASON_SCHEMA
    got = reasons.sort("record_id").select(
        "record_id", "polarity", "points", "multiplier", "status", "veto"
    )
    assert got.rows() == [
        ("e", "bad", -5.0, 1.0, "active", False),
        ("g", "good", 10.0, 1.0, "active", False),
        ("r", "bad", -15.0, 1.5, "disputed", False),
        ("v", "bad", 0.0, 1.0, "active", True),
    ]
    assert str(got.filter(pl.col("record_id") == "v")["points"].item()) == "0.0"  # not -0.0


def test_reason_spans_expand_to_the_reasons_of_any_date() -> None:
    rows = [EARLIER, LATER, *TWO_SEGMENTS, veto("v"), bonus("g", 10.0, uscc=F2)]
    statuses = [
        status("e", "revoked", "2024-09-01"),
        status("r", "disputed", "2024-06-20", "2024-07-10"),
    ]
    records, sts = records_frame(rows), statuses_frame(statuses)
    spans = reason_spans(records, sts, FIRMS, RULES)
    dates = [D("2024-03-05"), D("2024-04-06"), D("2024-06-25"), D("2024-07-10"), D("2024-10-01")]
    keys = ["as_of", "uscc", "record_id", "segment"]
    assert_frame_equal(
        expand_reasons(spans, dates).sort(keys),
        pl.concat([reasons_as_of(records, sts, FIRMS, RULES, d) for d in dates]).sort(keys),
    )
    # r is cut where its objection starts and ends and where e's revocation ends the repeat
    r = spans.filter(pl.col("record_id") == "r").select("span_from", "span_until", "multiplier")
    assert r.rows() == [
        (D("2024-06-01"), D("2024-06-20"), 1.5),
        (D("2024-06-20"), D("2024-07-10"), 1.5),
        (D("2024-07-10"), D("2024-09-01"), 1.5),
        (D("2024-09-01"), D("2025-06-01"), 1.0),
    ]


def test_history_limits_reasons_to_the_dates_asked_for() -> None:
    records, sts = records_frame([L2]), statuses_frame([])
    dates = [D("2024-03-31"), D("2024-04-30")]
    assert score_history(records, sts, FIRMS, RULES, dates, reason_dates=()).reasons.is_empty()
    only = score_history(records, sts, FIRMS, RULES, dates, reason_dates=dates[1:]).reasons
    assert only["as_of"].to_list() == [dates[1]]
    with pytest.raises(ValueError, match="among as_of_dates"):
        score_history(records, sts, FIRMS, RULES, dates, reason_dates=[D("2024-05-31")])
    empty = score_history(records, sts, FIRMS, RULES, [])
    assert empty.scores.is_empty() and empty.scores.schema == CREDIT_SCORE_SCHEMA


def test_timeline_starts_at_the_score_as_of_and_follows_expiries() -> None:
    rows = [L2, veto("v", valid_until="2024-09-01"), bonus("g", 10.0, months=36)]
    timeline = score_timeline(
        records_frame(rows), statuses_frame([]), FIRMS, RULES, D("2024-06-01")
    )
    assert_frame_equal(
        timeline.reasons,
        reasons_as_of(records_frame(rows), statuses_frame([]), FIRMS, RULES, D("2024-06-01")),
    )
    steps = timeline.steps.filter(pl.col("uscc") == F1)
    assert steps.select("on", "score", "tier").rows() == [
        (D("2024-06-01"), 75.0, "D"),
        (D("2024-09-01"), 75.0, "B"),  # the veto ends
        (D("2025-03-05"), 80.0, "B"),  # the L2 record ends
        (D("2027-03-05"), 70.0, "B"),  # the bonus ends
    ]


# --- three readings agree: one pass, one date at a time, the spec by brute force ----------------

DAY0 = date(2024, 1, 1)
STOPPING = {"revoked", "corrected", "repaired"}
BREAKING = {"revoked", "corrected"}


def _counts(r: dict, sts: list[dict], as_of: date) -> bool:
    """docs §1, word for word."""
    return (
        r["collected_on"] <= as_of
        and r["valid_from"] <= as_of
        and (r["valid_until"] is None or as_of < r["valid_until"])
        and r["segment_from"] <= as_of
        and (r["segment_until"] is None or as_of < r["segment_until"])
        and not any(
            s["status"] in STOPPING and s["status_from"] <= as_of
            for s in sts
            if s["record_id"] == r["record_id"]
        )
        and (r["polarity"] == "good" or r["evidence_valid"])
    )


def _multiplier(r: dict, rows: list[dict], sts: list[dict], as_of: date) -> float:
    """docs §2: another earlier evidenced bad record of the same firm and category within
    12 months before it, collected and not revoked or corrected as of T."""

    def repeatable(x: dict) -> bool:
        return x["polarity"] == "bad" and not x["veto"] and x["category"] is not None

    if not repeatable(r):
        return 1.0
    for e in rows:
        if (
            repeatable(e)
            and e["evidence_valid"]
            and e["uscc"] == r["uscc"]
            and e["category"] == r["category"]
            and e["valid_from"] < r["valid_from"] < add_months(e["valid_from"], 12)
            and e["collected_on"] <= as_of
            and not any(
                s["status"] in BREAKING and s["status_from"] <= as_of
                for s in sts
                if s["record_id"] == e["record_id"]
            )
        ):
            return RULES.repeat.multiplier
    return 1.0


def _tier(score: float) -> str:
    return next(t.tier for t in RULES.tiers if score >= t.min_score)


def brute_force(
    rows: list[dict], sts: list[dict], dates: Sequence[date]
) -> tuple[list[tuple], list[tuple]]:
    """Scores and reasons of F1…F3 per date, one record at a time."""
    scores, reasons = [], []
    for as_of in sorted(set(dates)):
        for firm in (F1, F2, F3):
            counting = []
            for r in rows:
                if r["uscc"] != firm or not _counts(r, sts, as_of):
                    continue
                m = _multiplier(r, rows, sts, as_of)
                points = r["points"] * m if r["polarity"] == "good" else -r["points"] * m
                disputed = any(
                    s["status"] == "disputed"
                    and s["status_from"] <= as_of
                    and (s["status_until"] is None or as_of < s["status_until"])
                    for s in sts
                    if s["record_id"] == r["record_id"]
                )
                counting.append((r, points + 0.0, m, "disputed" if disputed else "active"))
                reasons.append(
                    (firm, as_of, r["record_id"], r["segment"], round(points, 9), m,
                     "disputed" if disputed else "active", r["veto"])
                )  # fmt: skip
            bonus_sum = round(sum(p for _, p, _, _ in counting if p > 0), 9)
            deduction = round(-sum(p for _, p, _, _ in counting if p < 0), 9)
            s = RULES.score
            score = min(max(s.base + min(bonus_sum, s.bonus_cap) - deduction, s.min), s.max)
            vetoes = sorted(
                (r for r, *_ in counting if r["veto"]),
                key=lambda r: (-r["valid_until"].toordinal(), r["record_id"]),
            )
            scores.append(
                (firm, as_of, score, RULES.veto_tier if vetoes else _tier(score), bool(vetoes),
                 vetoes[0]["veto_reason"] if vetoes else None,
                 vetoes[0]["valid_until"] if vetoes else None,
                 min(bonus_sum, s.bonus_cap), deduction, len(counting))
            )  # fmt: skip
    return scores, reasons


days = st.integers(0, 500).map(lambda n: DAY0 + timedelta(days=n))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[dict], list[dict], list[date]]:
    """A few records of F1, F2 and an outsider over ~16 months, with statuses, segments,
    repeats and vetoes, and as-of dates drawn mostly from their boundaries."""
    rows: list[dict] = []
    for i in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["bad", "bad", "bad", "good", "veto"]))
        start = draw(days)
        base = {
            "uscc": draw(st.sampled_from([F1, F1, F2, OUTSIDER])),
            "valid_from": start,
            "months": draw(st.sampled_from([1, 6, 12])),
            "collected_on": start + timedelta(days=draw(st.sampled_from([0, 0, 5, 60]))),
            "evidence_valid": draw(st.sampled_from([True, True, True, False])),
            "category": draw(st.sampled_from([None, "X", "X", "Y"])),
        }
        points = draw(st.sampled_from([2.0, 5.0, 10.0, 20.0, 0.1, 0.7]))
        if kind == "good":
            rows.append(bonus(f"r{i}", points, **{**base, "category": None}))
        elif kind == "veto":
            rows.append(veto(f"r{i}", **base))
        elif draw(st.booleans()):
            cut = start + timedelta(days=draw(st.integers(1, 90)))
            rows.append(record(f"r{i}", points=points, segment_until=cut, **base))
            rows.append(
                record(f"r{i}", points=10.0, segment=1, segment_from=cut, **{**base, "months": 24})
            )
        else:
            rows.append(record(f"r{i}", points=points, **base))
    ids = sorted({r["record_id"] for r in rows})
    sts = []
    for rid in draw(st.lists(st.sampled_from(ids), max_size=4)) if ids else []:
        since = draw(days)
        kind = draw(st.sampled_from(["disputed", "revoked", "corrected", "repaired", "active"]))
        until = since + timedelta(days=draw(st.integers(1, 40))) if kind == "disputed" else None
        sts.append(status(rid, kind, since, until))
    record_edges = ("valid_from", "valid_until", "collected_on", "segment_from", "segment_until")
    edges = [r[k] for r in rows for k in record_edges if r[k] is not None]
    edges += [add_months(r["valid_from"], 12) for r in rows]  # the repeat window's end
    edges += [s[k] for s in sts for k in ("status_from", "status_until") if s[k] is not None]
    pick = st.sampled_from(edges) | days if edges else days
    dates = draw(st.lists(pick, min_size=1, max_size=5))
    return rows, sts, dates


SCORE_COLUMNS = [
    "uscc", "as_of", "score", "tier", "veto", "veto_reason", "veto_until", "bonus_points",
    "deduction_points", "counting_records",
]  # fmt: skip
REASON_COLUMNS = [
    "uscc", "as_of", "record_id", "segment", "points", "multiplier", "status", "veto",
]  # fmt: skip


def _history(rows: list[dict], sts: list[dict], dates: Sequence[date]) -> Scores:
    return score_history(records_frame(rows), statuses_frame(sts), FIRMS, RULES, dates)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_history_matches_the_spec_read_by_brute_force(scenario: tuple) -> None:
    rows, sts, dates = scenario
    history = _history(rows, sts, dates)
    scores, reasons = brute_force(rows, sts, dates)
    got = history.scores.select(SCORE_COLUMNS).rows()
    assert len(got) == len(scores)
    for mine, spec in zip(got, scores, strict=True):
        assert mine[:2] == spec[:2]
        assert mine[2] == pytest.approx(spec[2], abs=1e-9), (mine, spec)
        assert mine[3:7] == spec[3:7], (mine, spec)
        assert mine[7:9] == pytest.approx(spec[7:9], abs=1e-9)
        assert mine[9] == spec[9]
    got_reasons = history.reasons.select(REASON_COLUMNS).with_columns(pl.col("points").round(9))
    assert sorted(got_reasons.rows()) == sorted(reasons)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_history_equals_one_date_at_a_time(scenario: tuple) -> None:
    rows, sts, dates = scenario
    history = _history(rows, sts, dates)
    singles = [
        score_as_of(records_frame(rows), statuses_frame(sts), FIRMS, RULES, d)
        for d in sorted(set(dates))
    ]
    assert_frame_equal(history.scores, pl.concat([s.scores for s in singles]))
    assert_frame_equal(history.reasons, pl.concat([s.reasons for s in singles]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_scores_add_up_from_their_reasons(scenario: tuple) -> None:
    """score = clamp(base + min(Σ positive, cap) + Σ negative) for every firm and date."""
    rows, sts, dates = scenario
    history = _history(rows, sts, dates)
    s = RULES.score
    sums = history.reasons.group_by("uscc", "as_of").agg(
        positive=pl.col("points").filter(pl.col("points") > 0).sum(),
        negative=pl.col("points").filter(pl.col("points") < 0).sum(),
    )
    joined = history.scores.join(sums, on=["uscc", "as_of"], how="left").fill_null(0.0)
    for score, positive, negative in joined.select("score", "positive", "negative").rows():
        implied = min(max(s.base + min(positive, s.bonus_cap) + negative, s.min), s.max)
        assert score == pytest.approx(implied, abs=1e-9)


@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), min_size=2, max_size=30))
def test_tier_is_monotone_in_score(scores: list[float]) -> None:
    frame = pl.DataFrame({"score": sorted(scores)}).with_columns(
        tier=tier_with_veto_expr(RULES, pl.col("score"), pl.lit(False))
    )
    ranks = [RULES.tier_rank(t) for t in frame["tier"]]
    assert ranks == sorted(ranks, reverse=True)  # a higher score never gets a worse tier
