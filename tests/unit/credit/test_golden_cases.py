"""Golden cases of the credit engine: source documents in, points, score and tier out.

These cases are the readable specification of docs/credit-engine.md (and docs/rules.md) with the
default rule set (`models/rulesets/default.yaml`): base 70, bonus cap +30, L1 −2 for 6 months,
L2 −5 for 1 year, L3 −10 for 2 years, L4 −20 for 3 years, 国家/省 +10 and 市/协会 +5 for
3 years, 区 and a clean inspection +2 for 1 year, veto 12 months, repeat ×1.5 within 12 months,
repair after 3 months (12 for L4, veto records and safety categories). Tiers: A ≥ 85,
B ≥ 65, C ≥ 45, D below or whenever a veto counts.

Every expectation is computed by hand in the comment next to it, never by the engine. Each
case states, per as-of date and firm, the score, the tier, the veto flag, the signed points of
every counting record (record id → points after the repeat multiplier; a veto record counts
with 0 points) and which of them are `disputed` (all others must be `active`).

Windows are half-open, `[valid_from, valid_from + window)`, with calendar months: a record of
2024-03-05 counting for 6 months counts on 2024-09-04 and not on 2024-09-05. As of T means at
the end of day T: a document dated T counts on T.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

sys.path.insert(0, str(Path(__file__).parent))

from golden_builders import (
    CIR,
    COM,
    F1,
    F2,
    F3,
    INS,
    C,
    P,
    Row,
    cases_table,
    circular,
    com_no,
    commendation,
    cor_no,
    correction,
    d,
    firms_table,
    frames,
    inspection,
    objection,
    pen_no,
    penalty,
    repair,
)

from models.credit_records import derive_credit_records
from models.credit_schema import CREDIT_SCORE_SCHEMA, SCORE_REASON_SCHEMA
from models.engine import statuses_of
from models.rules import default_rule_set
from models.scoring import score_as_of, score_history

BASE = 70.0
CAP = 30.0

# Violation categories (contracts.yaml); ★ = veto category.
STRUCTURE = "擅自改变人防工程主体结构"
SUPERVISION = "监理未履行职责"
INSTALLATION = "防护设备安装不符合要求"
SCOPE = "超越资质范围承接业务"
FALSE_MATERIALS = "提供虚假材料取得资质"  # ★
LENDING = "出借转让资质证书"  # ★
FORGED_REPORTS = "伪造检测报告或生产记录"  # ★
BAD_EQUIPMENT = "生产销售不合格防护设备"  # ★ and a safety category (repair after 12 months)


@dataclass(frozen=True)
class At:
    """What one firm's score must be as of one date."""

    as_of: date
    uscc: str
    score: float
    tier: str
    points: Mapping[str, float]
    veto: bool = False
    disputed: frozenset[str] = frozenset()

    def expected(self) -> dict:
        return {
            "as_of": self.as_of,
            "uscc": self.uscc,
            "score": self.score,
            "tier": self.tier,
            "veto": self.veto,
            "veto_reason_given": self.veto,
            "points": dict(self.points),
            "status": {
                rid: "disputed" if rid in self.disputed else "active" for rid in self.points
            },
            "counting_records": len(self.points),
        }


def at(
    as_of: str,
    uscc: str,
    score: float,
    tier: str,
    points: Mapping[str, float] | None = None,
    *,
    veto: bool = False,
    disputed: tuple[str, ...] = (),
) -> At:
    return At(d(as_of), uscc, score, tier, dict(points or {}), veto, frozenset(disputed))  # type: ignore[arg-type]  # d(str) is never None


@dataclass(frozen=True)
class Case:
    id: str
    rows: tuple[Row, ...]
    checks: tuple[At, ...]
    cases: tuple[dict, ...] = field(default=())

    @property
    def dates(self) -> list[date]:
        return sorted({c.as_of for c in self.checks})

    @property
    def firms(self) -> set[str]:
        return {r.values["uscc"] for r in self.rows} | {c.uscc for c in self.checks}


def case(id_: str, rows: list[Row], *checks: At, cases: tuple[dict, ...] = ()) -> Case:
    return Case(id_, tuple(rows), tuple(checks), cases)


def warning(doc: int, uscc: str, decided_on: str, **kw: object) -> Row:
    """A warning without fine (L1)."""
    return penalty(doc, uscc, decided_on, types=("警告",), **kw)  # type: ignore[arg-type]  # **kw: object; callers pass penalty's keywords


CASES: list[Case] = [
    # ------------------------------------------------------------------ no records, severities
    case(
        "no-records-70-B",
        [penalty(1, F2, "2024-03-05", fine=15_000)],
        # F1 is in the directory and has no record: 70 → B (F2's penalty is not F1's).
        at("2024-06-01", F1, 70, "B"),
        # F2: 70 − 10 (L3, fine 15,000) = 60 → C
        at("2024-06-01", F2, 60, "C", {P(1, F2): -10}),
    ),
    case(
        "L1-warning-only",
        [warning(1, F1, "2024-03-05")],
        # a document dated T counts on T: 70 − 2 (L1, warning without fine) = 68 → B
        at("2024-03-05", F1, 68, "B", {P(1, F1): -2}),
    ),
    case(
        "L1-simple-procedure-warning",
        [warning(1, F1, "2024-03-05", procedure="简易")],
        # 70 − 2 (L1, simple procedure, warning) = 68 → B
        at("2024-04-01", F1, 68, "B", {P(1, F1): -2}),
    ),
    case(
        "L1-no-scoring-penalty-type",
        [penalty(1, F1, "2024-03-05", types=("没收违法所得",))],
        # confiscation only: no L4/L3/L2 trigger → L1 fallback. 70 − 2 = 68 → B
        at("2024-04-01", F1, 68, "B", {P(1, F1): -2}),
    ),
    case(
        "L2-simple-procedure-fine-first-match",
        [penalty(1, F1, "2024-03-05", fine=1_000, procedure="简易")],
        # first match wins: 0 < 1,000 < 10,000 → L2 before the L1 fallback (simple procedure).
        # 70 − 5 = 65 → B
        at("2024-04-01", F1, 65, "B", {P(1, F1): -5}),
    ),
    case(
        "L2-circular-of-criticism-65-is-B",
        [penalty(1, F1, "2024-03-05", types=("通报批评",))],
        # 通报批评 → L2: 70 − 5 = 65 → B (65 is the lowest B)
        at("2024-04-01", F1, 65, "B", {P(1, F1): -5}),
    ),
    case(
        "L2-fine-5000",
        [penalty(1, F1, "2024-03-05", fine=5_000)],
        # 0 < 5,000 < 10,000 → L2: 70 − 5 = 65 → B
        at("2024-04-01", F1, 65, "B", {P(1, F1): -5}),
    ),
    case(
        "L2-fine-9999",
        [penalty(1, F1, "2024-03-05", fine=9_999)],
        # 9,999 < 10,000 → L2: 70 − 5 = 65 → B
        at("2024-04-01", F1, 65, "B", {P(1, F1): -5}),
    ),
    case(
        "L3-fine-10000",
        [penalty(1, F1, "2024-03-05", fine=10_000)],
        # 10,000 ≤ 10,000 ≤ 50,000 → L3: 70 − 10 = 60 → C
        at("2024-04-01", F1, 60, "C", {P(1, F1): -10}),
    ),
    case(
        "L3-fine-50000",
        [penalty(1, F1, "2024-03-05", fine=50_000)],
        # 50,000 is not > 50,000 → L3: 70 − 10 = 60 → C
        at("2024-04-01", F1, 60, "C", {P(1, F1): -10}),
    ),
    case(
        "L4-fine-50001",
        [penalty(1, F1, "2024-03-05", fine=50_001)],
        # 50,001 > 50,000 → L4: 70 − 20 = 50 → C
        at("2024-04-01", F1, 50, "C", {P(1, F1): -20}),
    ),
    case(
        "L4-qualification-downgrade",
        [penalty(1, F1, "2024-03-05", types=("降低资质等级",))],
        # 降低资质等级 → L4: 70 − 20 = 50 → C
        at("2024-04-01", F1, 50, "C", {P(1, F1): -20}),
    ),
    case(
        "L4-licence-suspension-beats-small-fine",
        [penalty(1, F1, "2024-03-05", types=("罚款", "暂扣许可证件"), fine=5_000)],
        # 暂扣许可证件 → L4 (first match, before the L2 fine band): 70 − 20 = 50 → C
        at("2024-04-01", F1, 50, "C", {P(1, F1): -20}),
    ),
    case(
        "L4-licence-revoked-and-practice-restricted",
        [
            penalty(1, F1, "2024-03-05", types=("吊销许可证件",)),
            penalty(2, F2, "2024-03-05", types=("限制从业",)),
        ],
        # 吊销许可证件 → L4: 70 − 20 = 50 → C; 限制从业 → L4: 70 − 20 = 50 → C
        at("2024-04-01", F1, 50, "C", {P(1, F1): -20}),
        at("2024-04-01", F2, 50, "C", {P(2, F2): -20}),
    ),
    case(
        "L1-fine-of-zero",
        [penalty(1, F1, "2024-03-05", fine=0)],
        # 罚款 of 0: not 0 < fine, no other trigger → L1 fallback: 70 − 2 = 68 → B
        at("2024-04-01", F1, 68, "B", {P(1, F1): -2}),
    ),
    # ------------------------------------------------------------------ window boundaries
    case(
        "L1-window-6-months-boundary",
        [warning(1, F1, "2024-03-05")],
        # L1 counts on [2024-03-05, 2024-09-05)
        # last counting day: 70 − 2 = 68 → B
        at("2024-09-04", F1, 68, "B", {P(1, F1): -2}),
        # first day out: 70 → B
        at("2024-09-05", F1, 70, "B"),
    ),
    case(
        "L2-window-1-year-from-leap-day",
        [penalty(1, F1, "2024-02-29", fine=5_000)],
        # L2 counts on [2024-02-29, 2024-02-29 + 12 months = 2025-02-28) (calendar months)
        # last counting day: 70 − 5 = 65 → B
        at("2025-02-27", F1, 65, "B", {P(1, F1): -5}),
        # first day out: 70 → B
        at("2025-02-28", F1, 70, "B"),
    ),
    case(
        "L3-window-2-years-boundary",
        [penalty(1, F1, "2024-03-05", fine=20_000)],
        # L3 counts on [2024-03-05, 2026-03-05): 70 − 10 = 60 → C, then 70 → B
        at("2026-03-04", F1, 60, "C", {P(1, F1): -10}),
        at("2026-03-05", F1, 70, "B"),
    ),
    case(
        "L4-window-3-years-boundary",
        [penalty(1, F1, "2024-03-05", fine=80_000)],
        # L4 counts on [2024-03-05, 2027-03-05): 70 − 20 = 50 → C, then 70 → B
        at("2027-03-04", F1, 50, "C", {P(1, F1): -20}),
        at("2027-03-05", F1, 70, "B"),
    ),
    case(
        "suspension-longer-than-window",
        [
            penalty(
                1,
                F1,
                "2024-03-05",
                types=("责令停产停业",),
                category=STRUCTURE,
                effective_until="2028-03-05",
            )
        ],
        # L4; valid_until = max(2024-03-05 + 36 months = 2027-03-05, 2028-03-05 + 1 day)
        # = 2028-03-06: the 4-year suspension outlasts the 3-year window.
        # 70 − 20 = 50 → C on the plain window's first day out and on the suspension's last day
        at("2027-03-05", F1, 50, "C", {P(1, F1): -20}),
        at("2028-03-05", F1, 50, "C", {P(1, F1): -20}),
        # 2028-03-06: out → 70 → B
        at("2028-03-06", F1, 70, "B"),
    ),
    # ------------------------------------------------------------------ good records, cap
    case(
        "bonus-cap-four-national-commendations",
        [
            commendation(1, F1, "2024-01-10", level="国家"),
            commendation(2, F1, "2024-02-10", level="国家"),
            commendation(3, F1, "2024-03-10", level="国家"),
            commendation(4, F1, "2024-04-10", level="国家"),
        ],
        # 70 + min(10 + 10 + 10 + 10 = 40, cap 30) = 100 → A (reasons keep +10 each, pre-cap)
        at(
            "2024-06-01",
            F1,
            100,
            "A",
            {COM(1, F1): 10, COM(2, F1): 10, COM(3, F1): 10, COM(4, F1): 10},
        ),
    ),
    case(
        "praise-circular-provincial-3-years",
        [circular(1, F1, "2024-05-06", kind="表扬", level="省")],
        # 表扬 at 省: +10 for 36 months, [2024-05-06, 2027-05-06): 70 + 10 = 80 → B
        at("2024-05-06", F1, 80, "B", {CIR(1, F1): 10}),
        at("2027-05-05", F1, 80, "B", {CIR(1, F1): 10}),
        # expired: 70 → B
        at("2027-05-06", F1, 70, "B"),
    ),
    case(
        "association-award-plus-5",
        [commendation(1, F1, "2024-05-06", level="协会")],
        # 协会: +5 for 36 months: 70 + 5 = 75 → B
        at("2024-06-01", F1, 75, "B", {COM(1, F1): 5}),
    ),
    case(
        "district-commendation-expires-after-1-year",
        [commendation(1, F1, "2024-03-05", level="区")],
        # 区: +2 for 12 months, [2024-03-05, 2025-03-05): 70 + 2 = 72 → B
        at("2025-03-04", F1, 72, "B", {COM(1, F1): 2}),
        # expired: 70 → B
        at("2025-03-05", F1, 70, "B"),
    ),
    case(
        "clean-inspection-bonus-1-year",
        [inspection(1, F1, "2024-05-10", result="未发现问题")],
        # 未发现问题: +2 for 12 months, [2024-05-10, 2025-05-10): 70 + 2 = 72 → B
        at("2024-05-10", F1, 72, "B", {INS(1, F1): 2}),
        at("2025-05-09", F1, 72, "B", {INS(1, F1): 2}),
        at("2025-05-10", F1, 70, "B"),
    ),
    case(
        "bonus-cap-applies-before-deductions",
        [
            commendation(1, F1, "2024-01-10", level="国家"),
            commendation(2, F1, "2024-02-10", level="国家"),
            commendation(3, F1, "2024-03-10", level="国家"),
            commendation(4, F1, "2024-04-10", level="国家"),
            penalty(1, F1, "2024-05-01", fine=20_000),
        ],
        # the cap bounds the bonuses, not the net: 70 + min(40, 30) − 10 = 90 → A
        at(
            "2024-06-01",
            F1,
            90,
            "A",
            {COM(1, F1): 10, COM(2, F1): 10, COM(3, F1): 10, COM(4, F1): 10, P(1, F1): -10},
        ),
    ),
    case(
        "praise-circular-district-1-year",
        [circular(1, F1, "2024-03-05", kind="表扬", level="区")],
        # 表扬 at 区: +2 for 12 months, [2024-03-05, 2025-03-05): 72 → B, then 70 → B
        at("2025-03-04", F1, 72, "B", {CIR(1, F1): 2}),
        at("2025-03-05", F1, 70, "B"),
    ),
    # ------------------------------------------------------------------ vetoes
    case(
        "veto-refused-inspection-12-months",
        [inspection(1, F1, "2024-04-01", result="拒绝检查")],
        # 拒绝检查 → veto record (0 points) for 12 months, [2024-04-01, 2025-04-01):
        # score 70 but tier D while it counts
        at("2024-04-01", F1, 70, "D", {INS(1, F1): 0}, veto=True),
        at("2025-03-31", F1, 70, "D", {INS(1, F1): 0}, veto=True),
        # veto over: 70 → B
        at("2025-04-01", F1, 70, "B"),
    ),
    case(
        "veto-category-penalty-12-months",
        [penalty(1, F1, "2024-03-05", fine=30_000, category=FORGED_REPORTS)],
        # L3 −10 for 24 months + veto record (★ category) for 12 months, [2024-03-05, 2025-03-05)
        # last veto day: 70 − 10 = 60, veto → D
        at(
            "2025-03-04",
            F1,
            60,
            "D",
            {P(1, F1): -10, P(1, F1, veto=True): 0},
            veto=True,
        ),
        # veto over, L3 still counts: 60 → C
        at("2025-03-05", F1, 60, "C", {P(1, F1): -10}),
    ),
    case(
        "veto-lasts-as-long-as-the-penalty",
        [
            penalty(
                1,
                F1,
                "2024-03-05",
                types=("罚款", "责令停产停业"),
                fine=30_000,
                category=LENDING,
                effective_until="2025-09-04",
            )
        ],
        # L4 (责令停产停业): −20, valid_until max(2027-03-05, 2025-09-05) = 2027-03-05.
        # veto: valid_until = max(2024-03-05 + 12 months = 2025-03-05, 2025-09-04 + 1 day)
        # = 2025-09-05. 70 − 20 = 50, veto → D past the plain 12 months …
        at(
            "2025-03-05",
            F1,
            50,
            "D",
            {P(1, F1): -20, P(1, F1, veto=True): 0},
            veto=True,
        ),
        at(
            "2025-09-04",
            F1,
            50,
            "D",
            {P(1, F1): -20, P(1, F1, veto=True): 0},
            veto=True,
        ),
        # … until the suspension ends: 50 → C
        at("2025-09-05", F1, 50, "C", {P(1, F1): -20}),
    ),
    case(
        "veto-forces-D-even-at-100",
        [
            commendation(1, F1, "2024-01-10", level="国家"),
            commendation(2, F1, "2024-02-10", level="国家"),
            commendation(3, F1, "2024-03-10", level="国家"),
            commendation(4, F1, "2024-04-10", level="国家"),
            inspection(1, F1, "2024-05-10", result="拒绝检查"),
        ],
        # 70 + min(40, 30) = 100, but the refusal's veto counts → D
        at(
            "2024-06-01",
            F1,
            100,
            "D",
            {COM(1, F1): 10, COM(2, F1): 10, COM(3, F1): 10, COM(4, F1): 10, INS(1, F1): 0},
            veto=True,
        ),
    ),
    # ------------------------------------------------------------------ repeat multiplier
    case(
        "repeat-same-category-within-12-months-45-is-C",
        [
            penalty(1, F1, "2024-01-10", fine=15_000, category=STRUCTURE),
            penalty(2, F1, "2024-09-10", fine=15_000, category=STRUCTURE),
        ],
        # before the repeat: 70 − 10 = 60 → C
        at("2024-09-09", F1, 60, "C", {P(1, F1): -10}),
        # 2nd within 12 months of the 1st, same category: 70 − 10 − 10 × 1.5 = 45 → C
        # (45 is the lowest C)
        at("2024-10-01", F1, 45, "C", {P(1, F1): -10, P(2, F1): -15}),
    ),
    case(
        "repeat-different-categories-no-multiplier",
        [
            penalty(1, F1, "2024-01-10", fine=15_000, category=STRUCTURE),
            penalty(2, F1, "2024-09-10", fine=15_000, category=SUPERVISION),
        ],
        # different categories: 70 − 10 − 10 = 50 → C
        at("2024-10-01", F1, 50, "C", {P(1, F1): -10, P(2, F1): -10}),
    ),
    case(
        "repeat-13-months-apart-no-multiplier",
        [
            penalty(1, F1, "2024-01-10", fine=15_000, category=STRUCTURE),
            penalty(2, F1, "2025-02-10", fine=15_000, category=STRUCTURE),
        ],
        # 12 months before the 2nd = [2024-02-10, 2025-02-10): the 1st (2024-01-10) is outside.
        # The 1st still counts (L3 until 2026-01-10): 70 − 10 − 10 = 50 → C
        at("2025-03-01", F1, 50, "C", {P(1, F1): -10, P(2, F1): -10}),
    ),
    case(
        "repeat-never-compounds",
        [
            penalty(1, F1, "2024-01-10", fine=15_000, category=STRUCTURE),
            penalty(2, F1, "2024-04-10", fine=15_000, category=STRUCTURE),
            penalty(3, F1, "2024-07-10", fine=15_000, category=STRUCTURE),
        ],
        # 70 − 10 − 10 × 1.5 − 10 × 1.5 (not 1.5²) = 30 → D
        at("2024-08-01", F1, 30, "D", {P(1, F1): -10, P(2, F1): -15, P(3, F1): -15}),
    ),
    case(
        "repeat-needs-a-category",
        [
            penalty(1, F1, "2024-01-10", fine=5_000),
            penalty(2, F1, "2024-02-10", fine=5_000),
        ],
        # no violation category on either: no multiplier. 70 − 5 − 5 = 60 → C
        at("2024-03-01", F1, 60, "C", {P(1, F1): -5, P(2, F1): -5}),
    ),
    case(
        "repeat-earlier-record-expired-still-multiplies",
        [
            warning(1, F1, "2024-01-10", category=STRUCTURE),
            penalty(2, F1, "2024-09-10", fine=15_000, category=STRUCTURE),
        ],
        # the warning (L1) counted on [2024-01-10, 2024-07-10) and no longer counts, but it is a
        # same-category record with an earlier valid_from within 12 months, collected and not
        # revoked: the 2nd is a repeat. 70 − 10 × 1.5 = 55 → C
        at("2024-10-01", F1, 55, "C", {P(2, F1): -15}),
    ),
    case(
        "repeat-earlier-record-revoked-drops-multiplier",
        [
            penalty(1, F1, "2024-01-10", fine=15_000, category=STRUCTURE),
            penalty(2, F1, "2024-09-10", fine=15_000, category=STRUCTURE),
        ],
        # objection against the 1st filed 2024-09-15, upheld (撤销) on 2024-10-01
        # the day before: the 1st disputed, still counting: 70 − 10 − 15 = 45 → C
        at(
            "2024-09-30",
            F1,
            45,
            "C",
            {P(1, F1): -10, P(2, F1): -15},
            disputed=(P(1, F1),),
        ),
        # 1st revoked: it stops counting and no longer makes the 2nd a repeat: 70 − 10 = 60 → C
        at("2024-10-01", F1, 60, "C", {P(2, F1): -10}),
        cases=(
            objection("YY1", F1, pen_no(1), "2024-09-15", decided_on="2024-10-01", decision="撤销"),
        ),
    ),
    case(
        "repeat-earlier-record-collected-later",
        [
            penalty(
                1, F1, "2024-01-10", fine=15_000, category=STRUCTURE, collected_on="2024-11-01"
            ),
            penalty(2, F1, "2024-09-10", fine=15_000, category=STRUCTURE),
        ],
        # the 1st is not known before 2024-11-01: it neither counts nor makes the 2nd a repeat.
        # 70 − 10 = 60 → C
        at("2024-10-01", F1, 60, "C", {P(2, F1): -10}),
        # once collected: 70 − 10 − 10 × 1.5 = 45 → C
        at("2024-11-01", F1, 45, "C", {P(1, F1): -10, P(2, F1): -15}),
    ),
    case(
        "repeat-across-sources-correction-then-penalty",
        [
            correction(
                1, F1, "2024-03-05", "2024-04-05", rectified_on="2024-04-01", category=STRUCTURE
            ),
            penalty(1, F1, "2024-06-03", fine=15_000, category=STRUCTURE),
        ],
        # correction L1 −2 (until 2024-09-05); the penalty has the same category 3 months
        # later: 10 × 1.5. 70 − 2 − 15 = 53 → C
        at("2024-06-10", F1, 53, "C", {C(1, F1): -2, P(1, F1): -15}),
    ),
    case(
        "repeat-multiplies-both-segments-of-a-correction",
        [
            penalty(1, F1, "2024-01-10", fine=15_000, category=STRUCTURE),
            correction(1, F1, "2024-05-02", "2024-06-01", category=STRUCTURE),
        ],
        # correction (valid_from 2024-05-02) repeats the penalty's category within 12 months.
        # before its deadline, L1 × 1.5: 70 − 10 − 2 × 1.5 = 57 → C
        at("2024-05-10", F1, 57, "C", {P(1, F1): -10, C(1, F1): -3}),
        # overdue from 2024-06-02, L3 × 1.5: 70 − 10 − 10 × 1.5 = 45 → C
        at("2024-06-02", F1, 45, "C", {P(1, F1): -10, C(1, F1): -15}),
    ),
    # ------------------------------------------------------------------ objections (异议)
    case(
        "objection-upheld-revokes-from-decision",
        [penalty(1, F1, "2024-03-05", fine=20_000)],
        # before the objection: 70 − 10 = 60 → C, active
        at("2024-03-14", F1, 60, "C", {P(1, F1): -10}),
        # filed 2024-03-15: disputed, keeps counting: 60 → C
        at("2024-03-15", F1, 60, "C", {P(1, F1): -10}, disputed=(P(1, F1),)),
        at("2024-04-01", F1, 60, "C", {P(1, F1): -10}, disputed=(P(1, F1),)),
        # decided 撤销 on 2024-04-02: revoked from that day: 70 → B
        at("2024-04-02", F1, 70, "B"),
        cases=(
            objection("YY1", F1, pen_no(1), "2024-03-15", decided_on="2024-04-02", decision="撤销"),
        ),
    ),
    case(
        "objection-rejected-keeps-counting",
        [penalty(1, F1, "2024-03-05", fine=20_000)],
        # disputed until decided: 70 − 10 = 60 → C
        at("2024-04-01", F1, 60, "C", {P(1, F1): -10}, disputed=(P(1, F1),)),
        # 维持 on 2024-04-02: active again, still 60 → C
        at("2024-04-02", F1, 60, "C", {P(1, F1): -10}),
        cases=(
            objection("YY1", F1, pen_no(1), "2024-03-15", decided_on="2024-04-02", decision="维持"),
        ),
    ),
    case(
        "objection-undecided-keeps-counting-disputed",
        [penalty(1, F1, "2024-03-05", fine=20_000)],
        # filed 2024-03-15, never decided: disputed and counting: 70 − 10 = 60 → C
        at("2024-06-01", F1, 60, "C", {P(1, F1): -10}, disputed=(P(1, F1),)),
        cases=(objection("YY1", F1, pen_no(1), "2024-03-15"),),
    ),
    case(
        "objection-corrected-stops-counting",
        [penalty(1, F1, "2024-03-05", fine=20_000)],
        # 更正 on 2024-04-02: this version stops counting: 60 → C before, 70 → B from then
        at("2024-04-01", F1, 60, "C", {P(1, F1): -10}, disputed=(P(1, F1),)),
        at("2024-04-02", F1, 70, "B"),
        cases=(
            objection("YY1", F1, pen_no(1), "2024-03-15", decided_on="2024-04-02", decision="更正"),
        ),
    ),
    case(
        "objection-upheld-revokes-the-veto-too",
        [penalty(1, F1, "2024-03-05", fine=30_000, category=FALSE_MATERIALS)],
        # L3 −10 + veto record; the objection applies to both records of the document.
        # before it was filed: 70 − 10 = 60, veto → D
        at("2024-03-14", F1, 60, "D", {P(1, F1): -10, P(1, F1, veto=True): 0}, veto=True),
        # disputed: the L3 keeps its points, but no veto rests on a disputed record while the
        # objection is open (objection.blocks: veto): 60 → C.
        # [changed by issue 14: before, the veto counted while disputed → D]
        at("2024-04-01", F1, 60, "C", {P(1, F1): -10}, disputed=(P(1, F1),)),
        # 撤销 on 2024-04-02: both revoked: 70 → B
        at("2024-04-02", F1, 70, "B"),
        cases=(
            objection("YY1", F1, pen_no(1), "2024-03-15", decided_on="2024-04-02", decision="撤销"),
        ),
    ),
    case(
        "objection-upheld-the-veto-returns-from-the-decision",
        [penalty(1, F1, "2024-03-05", fine=30_000, category=FALSE_MATERIALS)],
        # open objection: no veto on the disputed record: 60 → C
        at("2024-04-01", F1, 60, "C", {P(1, F1): -10}, disputed=(P(1, F1),)),
        # 维持 on 2024-04-02: the record stands, the veto applies again from that day → D
        at("2024-04-02", F1, 60, "D", {P(1, F1): -10, P(1, F1, veto=True): 0}, veto=True),
        # until its 12 months are over (2025-03-05): 60 → C
        at("2025-03-05", F1, 60, "C", {P(1, F1): -10}),
        cases=(
            objection("YY1", F1, pen_no(1), "2024-03-15", decided_on="2024-04-02", decision="维持"),
        ),
    ),
    case(
        "objection-against-a-good-record-ignored",
        [commendation(1, F1, "2024-03-05", level="国家")],
        # good records cannot be objected (not_applicable): 70 + 10 = 80 → B, active
        at("2024-05-01", F1, 80, "B", {COM(1, F1): 10}),
        cases=(
            objection("YY1", F1, com_no(1), "2024-04-01", decided_on="2024-04-10", decision="撤销"),
        ),
    ),
    case(
        "objection-upheld-on-an-overdue-correction",
        [correction(1, F1, "2024-03-05", "2024-04-05")],
        # overdue (L3) from 2024-04-06: 70 − 10 = 60 → C
        at("2024-04-09", F1, 60, "C", {C(1, F1): -10}),
        # objection filed 2024-04-10: disputed, still counting
        at("2024-04-20", F1, 60, "C", {C(1, F1): -10}, disputed=(C(1, F1),)),
        # 撤销 on 2024-04-25: the notice stops counting: 70 → B
        at("2024-04-25", F1, 70, "B"),
        cases=(
            objection("YY1", F1, cor_no(1), "2024-04-10", decided_on="2024-04-25", decision="撤销"),
        ),
    ),
    # ------------------------------------------------------------------ repair (信用修复)
    case(
        "repair-approved-after-3-month-minimum",
        [penalty(1, F1, "2024-03-05", fine=20_000)],
        # L3, filed 2024-06-05 = valid_from + 3 months (≥ minimum), 准予修复 on 2024-06-20
        # pending: 70 − 10 = 60 → C
        at("2024-06-19", F1, 60, "C", {P(1, F1): -10}),
        # repaired from the decision: 70 → B
        at("2024-06-20", F1, 70, "B"),
        cases=(
            repair(
                "XF1", F1, pen_no(1), "2024-06-05", decided_on="2024-06-20", decision="准予修复"
            ),
        ),
    ),
    case(
        "repair-filed-before-3-month-minimum-refused",
        [penalty(1, F1, "2024-03-05", fine=20_000)],
        # filed 2024-06-04 < 2024-06-05 (minimum not met): refused whatever was decided,
        # keeps counting: 70 − 10 = 60 → C
        at("2024-06-20", F1, 60, "C", {P(1, F1): -10}),
        at("2024-12-01", F1, 60, "C", {P(1, F1): -10}),
        cases=(
            repair(
                "XF1", F1, pen_no(1), "2024-06-04", decided_on="2024-06-20", decision="准予修复"
            ),
        ),
    ),
    case(
        "repair-not-granted-keeps-counting",
        [penalty(1, F1, "2024-03-05", fine=20_000)],
        # 不予修复: keeps counting: 70 − 10 = 60 → C
        at("2024-08-01", F1, 60, "C", {P(1, F1): -10}),
        cases=(
            repair(
                "XF1", F1, pen_no(1), "2024-07-01", decided_on="2024-07-15", decision="不予修复"
            ),
        ),
    ),
    case(
        "repair-L4-needs-12-months",
        [
            penalty(1, F1, "2024-03-05", fine=60_000),
            penalty(2, F2, "2024-03-05", fine=60_000),
        ],
        # F1: L4 repair filed 2024-09-05 (6 months < 12): refused: 70 − 20 = 50 → C
        at("2024-10-01", F1, 50, "C", {P(1, F1): -20}),
        at("2025-03-20", F1, 50, "C", {P(1, F1): -20}),
        # F2: filed 2025-03-05 = valid_from + 12 months, 准予修复 on 2025-03-20
        at("2025-03-19", F2, 50, "C", {P(2, F2): -20}),
        at("2025-03-20", F2, 70, "B"),
        cases=(
            repair(
                "XF1", F1, pen_no(1), "2024-09-05", decided_on="2024-09-20", decision="准予修复"
            ),
            repair(
                "XF2", F2, pen_no(2), "2025-03-05", decided_on="2025-03-20", decision="准予修复"
            ),
        ),
    ),
    case(
        "repair-veto-record-needs-12-months",
        [penalty(1, F1, "2024-03-05", fine=20_000, category=FORGED_REPORTS)],
        # L3 (category not a safety one: minimum 3 months) + veto record (minimum 12 months).
        # repair filed 2024-09-05, 准予修复 on 2024-09-20.
        # before: 70 − 10 = 60, veto → D
        at(
            "2024-09-19",
            F1,
            60,
            "D",
            {P(1, F1): -10, P(1, F1, veto=True): 0},
            veto=True,
        ),
        # L3 repaired (filed ≥ 2024-06-05); veto repair refused (filed < 2025-03-05):
        # 70, veto still counts → D
        at("2024-09-20", F1, 70, "D", {P(1, F1, veto=True): 0}, veto=True),
        # veto expired on 2025-03-05: 70 → B
        at("2025-03-05", F1, 70, "B"),
        cases=(
            repair(
                "XF1", F1, pen_no(1), "2024-09-05", decided_on="2024-09-20", decision="准予修复"
            ),
        ),
    ),
    case(
        "repair-safety-category-needs-12-months",
        [penalty(1, F1, "2024-03-05", fine=20_000, category=BAD_EQUIPMENT)],
        # L3 of a safety category (minimum 12 months) + veto record (12 months): a repair filed
        # 2024-09-05 is refused for both: 70 − 10 = 60, veto → D
        at(
            "2024-10-01",
            F1,
            60,
            "D",
            {P(1, F1): -10, P(1, F1, veto=True): 0},
            veto=True,
        ),
        # veto expired on 2025-03-05, L3 still counts (until 2026-03-05): 60 → C
        at("2025-03-05", F1, 60, "C", {P(1, F1): -10}),
        cases=(
            repair(
                "XF1", F1, pen_no(1), "2024-09-05", decided_on="2024-09-20", decision="准予修复"
            ),
        ),
    ),
    # ------------------------------------------------------------------ correction notices
    case(
        "correction-rectified-on-time-L1-6-months",
        [correction(1, F1, "2024-03-05", "2024-04-05", rectified_on="2024-04-01", review="合格")],
        # L1 from 2024-03-05 for 6 months, [2024-03-05, 2024-09-05): 70 − 2 = 68 → B
        at("2024-03-05", F1, 68, "B", {C(1, F1): -2}),
        at("2024-04-10", F1, 68, "B", {C(1, F1): -2}),
        at("2024-09-04", F1, 68, "B", {C(1, F1): -2}),
        # gone after 6 months: 70 → B
        at("2024-09-05", F1, 70, "B"),
    ),
    case(
        "correction-rectified-late-L3-from-deadline",
        [correction(1, F1, "2024-03-05", "2024-04-05", rectified_on="2024-04-20")],
        # up to the deadline: L1: 70 − 2 = 68 → B
        at("2024-04-05", F1, 68, "B", {C(1, F1): -2}),
        # late → L3 from deadline + 1 day = 2024-04-06: 70 − 10 = 60 → C
        at("2024-04-06", F1, 60, "C", {C(1, F1): -10}),
        # still overdue, rectification (2024-04-20) not yet known: 60 → C
        at("2024-04-10", F1, 60, "C", {C(1, F1): -10}),
        # rectified (late) → 24-month window from issued_on: [2024-03-05, 2026-03-05)
        at("2026-03-04", F1, 60, "C", {C(1, F1): -10}),
        at("2026-03-05", F1, 70, "B"),
    ),
    case(
        "correction-review-failed-L3-from-deadline",
        [correction(1, F1, "2024-03-05", "2024-04-05", rectified_on="2024-04-01", review="不合格")],
        # reviewed 不合格: L1 until the deadline (68 → B), L3 from 2024-04-06 (60 → C)
        at("2024-04-05", F1, 68, "B", {C(1, F1): -2}),
        at("2024-04-06", F1, 60, "C", {C(1, F1): -10}),
        # it was rectified (not 逾期未改): plain 24-month window, [2024-03-05, 2026-03-05)
        at("2026-03-04", F1, 60, "C", {C(1, F1): -10}),
        at("2026-03-05", F1, 70, "B"),
    ),
    case(
        "correction-open-around-its-deadline",
        [correction(1, F1, "2024-03-05", "2024-04-05")],
        # no rectification; before/at the deadline: L1: 70 − 2 = 68 → B
        at("2024-03-20", F1, 68, "B", {C(1, F1): -2}),
        at("2024-04-05", F1, 68, "B", {C(1, F1): -2}),
        # the day after the deadline: overdue → L3: 70 − 10 = 60 → C
        at("2024-04-06", F1, 60, "C", {C(1, F1): -10}),
    ),
    case(
        "correction-never-rectified-36-month-window",
        [correction(1, F1, "2024-03-05", "2024-04-05")],
        # never rectified: the L3 window grows by 50%: 24 × 1.5 = 36 months from issued_on,
        # [2024-03-05, 2027-03-05). Past the plain 24 months: still 70 − 10 = 60 → C
        at("2026-03-05", F1, 60, "C", {C(1, F1): -10}),
        at("2027-03-04", F1, 60, "C", {C(1, F1): -10}),
        # out: 70 → B
        at("2027-03-05", F1, 70, "B"),
    ),
    case(
        "correction-overdue-review-36-month-window",
        [
            correction(
                1, F1, "2024-03-05", "2024-04-05", rectified_on="2024-05-20", review="逾期未改"
            )
        ],
        # reviewed 逾期未改 counts as never rectified: L3 from 2024-04-06 for 36 months
        # from issued_on, [2024-03-05, 2027-03-05): 60 → C, then 70 → B
        at("2024-04-06", F1, 60, "C", {C(1, F1): -10}),
        at("2027-03-04", F1, 60, "C", {C(1, F1): -10}),
        at("2027-03-05", F1, 70, "B"),
    ),
    case(
        "two-never-rectified-corrections-within-12-months-veto",
        [
            correction(1, F1, "2024-01-10", "2024-02-10", category=INSTALLATION),
            correction(2, F1, "2024-06-03", "2024-07-03", category=SUPERVISION),
        ],
        # 1st: L3 from 2024-02-11 (36 months from 2024-01-10); 2nd: L1 until its deadline.
        # 70 − 10 − 2 = 58 → C, no veto yet
        at("2024-07-03", F1, 58, "C", {C(1, F1): -10, C(2, F1): -2}),
        # 2nd never rectified: L3 from 2024-07-04 (within 12 months of 2024-02-11) → veto
        # record on the 2nd, [2024-07-04, 2025-07-04). 70 − 10 − 10 = 50, veto → D
        at(
            "2024-07-04",
            F1,
            50,
            "D",
            {C(1, F1): -10, C(2, F1): -10, C(2, F1, veto=True): 0},
            veto=True,
        ),
        at(
            "2025-07-03",
            F1,
            50,
            "D",
            {C(1, F1): -10, C(2, F1): -10, C(2, F1, veto=True): 0},
            veto=True,
        ),
        # veto over; both L3 still count (36 months): 50 → C
        at("2025-07-04", F1, 50, "C", {C(1, F1): -10, C(2, F1): -10}),
    ),
    case(
        "revoking-the-first-of-two-overdue-notices-lifts-the-veto-from-that-day",
        [
            correction(1, F1, "2024-01-10", "2024-02-10", category=INSTALLATION),
            correction(2, F1, "2024-06-03", "2024-07-03", category=SUPERVISION),
        ],
        # the veto (on the 2nd notice's number) rests on both notices. Before the objection:
        # 70 − 10 − 10 = 50, veto → D
        at(
            "2024-07-31",
            F1,
            50,
            "D",
            {C(1, F1): -10, C(2, F1): -10, C(2, F1, veto=True): 0},
            veto=True,
        ),
        # objection against the 1st filed 2024-08-01: it keeps its points, but the veto cannot
        # rest on it while open, and the 2nd alone is not a set: 50 → C
        at("2024-08-05", F1, 50, "C", {C(1, F1): -10, C(2, F1): -10}, disputed=(C(1, F1),)),
        # 撤销 on 2024-08-20: the 1st stops counting and the veto is lifted from that day
        # (before issue 14 the veto rode on the 2nd notice alone and stayed): 70 − 10 = 60 → C
        at("2024-08-20", F1, 60, "C", {C(2, F1): -10}),
        at("2025-01-01", F1, 60, "C", {C(2, F1): -10}),
        cases=(
            objection("YY1", F1, cor_no(1), "2024-08-01", decided_on="2024-08-20", decision="撤销"),
        ),
    ),
    case(
        "revoking-one-of-three-overdue-notices-keeps-the-veto-the-others-make",
        [
            correction(1, F1, "2024-01-10", "2024-02-10", category=INSTALLATION),
            correction(2, F1, "2024-06-03", "2024-07-03", category=SUPERVISION),
            correction(3, F1, "2024-08-01", "2024-09-01", category=STRUCTURE),
        ],
        # failures 2024-02-11, 2024-07-04, 2024-09-02: vetoes on the 2nd (set 1+2) and on the
        # 3rd (any two of 1, 2, 3). 70 − 30 = 40, veto → D
        at(
            "2024-09-19",
            F1,
            40,
            "D",
            {
                C(1, F1): -10,
                C(2, F1): -10,
                C(3, F1): -10,
                C(2, F1, veto=True): 0,
                C(3, F1, veto=True): 0,
            },
            veto=True,
        ),
        # the 1st disputed from 2024-09-20: the 2nd's veto is suspended (it needs the 1st),
        # the 3rd's stands on the 2nd and the 3rd: 40 → D
        at(
            "2024-09-25",
            F1,
            40,
            "D",
            {C(1, F1): -10, C(2, F1): -10, C(3, F1): -10, C(3, F1, veto=True): 0},
            veto=True,
            disputed=(C(1, F1),),
        ),
        # the 1st revoked on 2024-10-01: 70 − 20 = 50, the 3rd's veto still → D
        at(
            "2024-10-01",
            F1,
            50,
            "D",
            {C(2, F1): -10, C(3, F1): -10, C(3, F1, veto=True): 0},
            veto=True,
        ),
        cases=(
            objection("YY1", F1, cor_no(1), "2024-09-20", decided_on="2024-10-01", decision="撤销"),
        ),
    ),
    case(
        "never-rectified-plus-rectified-late-no-veto",
        [
            correction(1, F1, "2024-01-10", "2024-02-10", category=INSTALLATION),
            correction(
                2, F1, "2024-06-03", "2024-07-03", rectified_on="2024-07-20", category=SUPERVISION
            ),
        ],
        # only the 1st was never rectified (the 2nd was rectified late): no veto.
        # 70 − 10 − 10 = 50 → C
        at("2024-08-01", F1, 50, "C", {C(1, F1): -10, C(2, F1): -10}),
    ),
    case(
        "two-never-rectified-corrections-over-12-months-apart-no-veto",
        [
            correction(1, F1, "2024-01-10", "2024-02-10", category=INSTALLATION),
            correction(2, F1, "2025-03-01", "2025-04-01", category=SUPERVISION),
        ],
        # failures on 2024-02-11 and 2025-04-02: more than 12 months apart, no veto.
        # 1st L3 until 2027-01-10. 70 − 10 − 10 = 50 → C
        at("2025-05-01", F1, 50, "C", {C(1, F1): -10, C(2, F1): -10}),
    ),
    # ------------------------------------------------------------------ circulars
    case(
        "criticism-circular-naming-two-firms",
        [
            circular(1, F1, "2024-05-06", kind="批评"),
            circular(1, F2, "2024-05-06", kind="批评"),
        ],
        # one 批评 circular naming F1 and F2: each gets L2: 70 − 5 = 65 → B
        at("2024-06-01", F1, 65, "B", {CIR(1, F1): -5}),
        at("2024-06-01", F2, 65, "B", {CIR(1, F2): -5}),
        # F3, not named: 70 → B
        at("2024-06-01", F3, 70, "B"),
    ),
    # ------------------------------------------------------------------ one fact, one deduction
    case(
        "a-penalty-and-the-circular-announcing-it-deduct-once",
        [
            penalty(1, F1, "2024-03-05", types=("警告", "通报批评"), collected_on="2024-04-01"),
            circular(1, F1, "2024-03-20", kind="批评"),
        ],
        # the circular is known first: it deducts: 70 − 5 = 65 → B
        at("2024-03-25", F1, 65, "B", {CIR(1, F1): -5}),
        # the decision (通报批评 → L2) is collected on 2024-04-01; the circular, issued within
        # 30 days of it, announces the same fact (same_fact.circulars): one deduction, 65 → B
        at("2024-04-01", F1, 65, "B", {P(1, F1): -5}),
        at("2025-03-04", F1, 65, "B", {P(1, F1): -5}),
    ),
    case(
        "a-circular-citing-the-decision-deducts-once",
        [
            penalty(1, F1, "2024-03-05", fine=20_000),
            circular(1, F1, "2024-06-01", kind="批评", cites=pen_no(1)),
        ],
        # L3 −10; the circular names the decision (by_citation): 60 → C
        at("2024-07-01", F1, 60, "C", {P(1, F1): -10}),
    ),
    case(
        "a-circular-about-something-else-deducts-on-its-own",
        [
            penalty(1, F1, "2024-03-05", fine=20_000),
            circular(1, F1, "2024-03-15", kind="批评"),
        ],
        # the decision has no 通报批评 and the circular cites nothing: 70 − 10 − 5 = 55 → C
        at("2024-04-01", F1, 55, "C", {P(1, F1): -10, CIR(1, F1): -5}),
    ),
    case(
        "revoking-the-decision-lets-the-circular-count-from-that-day",
        [
            penalty(1, F1, "2024-03-05", types=("通报批评",)),
            circular(1, F1, "2024-03-20", kind="批评"),
        ],
        at("2024-04-01", F1, 65, "B", {P(1, F1): -5}),
        # the decision revoked on 2024-05-10: the circular is a fact of its own again: 65 → B
        at("2024-05-10", F1, 65, "B", {CIR(1, F1): -5}),
        cases=(
            objection("YY1", F1, pen_no(1), "2024-05-01", decided_on="2024-05-10", decision="撤销"),
        ),
    ),
    case(
        "the-correction-ordered-with-the-decision-adds-nothing-failing-it-does",
        [
            penalty(1, F1, "2024-03-05", fine=15_000, category=SCOPE),
            correction(1, F1, "2024-03-05", "2024-04-05", category=SCOPE),
            correction(
                2, F1, "2024-03-05", "2024-04-05", category=SCOPE, rectified_on="2024-03-30"
            ),
        ],
        # both orders are issued with the decision for its violation (same day, same
        # category: same_fact.correction_notices): no L1 of their own: 70 − 10 = 60 → C
        at("2024-04-01", F1, 60, "C", {P(1, F1): -10}),
        # the 1st is never rectified: failing the order is a fact of its own (L3 from
        # 2024-04-06): 60 − 10 = 50 → C; the 2nd was met on time and adds nothing
        at("2024-04-06", F1, 50, "C", {P(1, F1): -10, C(1, F1): -10}),
    ),
    case(
        "decisions-not-to-penalise-yield-nothing",
        [
            penalty(1, F1, "2024-03-05", types=("不予处罚",)),
            penalty(2, F1, "2024-04-05", types=("轻微违法免罚",)),
        ],
        # 处罚法 art. 33: no record (penalties.no_penalty_severity null): 70 → B
        at("2024-05-01", F1, 70, "B"),
    ),
    # ------------------------------------------------------------------ intake and evidence
    case(
        "collected-after-as-of",
        [penalty(1, F1, "2024-03-05", fine=20_000, collected_on="2024-04-20")],
        # not in the credit system before 2024-04-20: 70 → B
        at("2024-04-19", F1, 70, "B"),
        # collected: 70 − 10 = 60 → C
        at("2024-04-20", F1, 60, "C", {P(1, F1): -10}),
    ),
    case(
        "collected-after-its-window-never-counts",
        [warning(1, F1, "2024-01-10", collected_on="2024-08-01")],
        # window [2024-01-10, 2024-07-10); collected 2024-08-01: never both known and valid.
        at("2024-07-09", F1, 70, "B"),
        at("2024-08-01", F1, 70, "B"),
    ),
    case(
        "penalty-status-revoked-nothing",
        [penalty(1, F1, "2024-03-05", fine=20_000, status="已撤销")],
        # 已撤销 → no record: 70 → B
        at("2024-04-01", F1, 70, "B"),
    ),
    case(
        "penalty-under-administrative-review-counts",
        [penalty(1, F1, "2024-03-05", fine=20_000, status="复议中")],
        # only 已撤销 is ignored: L3: 70 − 10 = 60 → C
        at("2024-04-01", F1, 60, "C", {P(1, F1): -10}),
    ),
    case(
        "malformed-doc-no-not-counted",
        [penalty("人防罚字12号", F1, "2024-03-05", fine=20_000)],
        # no year in brackets: not an official number → evidence_valid false → not counted: 70 → B
        at("2024-04-01", F1, 70, "B"),
    ),
    case(
        "inspection-not-found-L2",
        [inspection(1, F1, "2024-05-10", result="查无下落")],
        # 查无下落 → L2 for 12 months: 70 − 5 = 65 → B; gone on 2025-05-10: 70 → B
        at("2024-05-10", F1, 65, "B", {INS(1, F1): -5}),
        at("2025-05-10", F1, 70, "B"),
    ),
    case(
        "inspection-problem-found-carried-by-its-correction",
        [
            inspection(1, F1, "2024-03-05", result="发现问题", followup_doc_no=cor_no(1)),
            correction(1, F1, "2024-03-05", "2024-04-05", rectified_on="2024-03-30"),
        ],
        # 发现问题 itself → nothing; its correction, rectified on time → L1: 70 − 2 = 68 → B
        at("2024-04-10", F1, 68, "B", {C(1, F1): -2}),
    ),
    case(
        "inspection-case-opened-carried-by-its-penalty",
        [
            inspection(1, F1, "2024-05-10", result="立案查处", followup_doc_no=pen_no(1)),
            penalty(1, F1, "2024-06-01", fine=20_000),
        ],
        # 立案查处 itself → nothing: 70 → B
        at("2024-05-20", F1, 70, "B"),
        # its penalty decision → L3: 70 − 10 = 60 → C
        at("2024-06-01", F1, 60, "C", {P(1, F1): -10}),
    ),
    # ------------------------------------------------------------------ tier thresholds, clamp
    case(
        "tier-85-is-A",
        [
            commendation(1, F1, "2024-01-15", level="国家"),
            commendation(2, F1, "2024-02-15", level="市"),
        ],
        # 70 + 10 + 5 = 85 → A
        at("2024-06-01", F1, 85, "A", {COM(1, F1): 10, COM(2, F1): 5}),
    ),
    case(
        "tier-84.5-is-B",
        [
            commendation(1, F1, "2024-01-15", level="国家"),
            commendation(2, F1, "2024-01-15", level="省"),
            commendation(3, F1, "2024-01-15", level="市"),
            commendation(4, F1, "2024-01-15", level="区"),
            penalty(1, F1, "2024-02-01", fine=5_000, category=SCOPE),
            penalty(2, F1, "2024-05-01", fine=5_000, category=SCOPE),
        ],
        # 70 + (10 + 10 + 5 + 2 = 27) − 5 − 5 × 1.5 (repeat) = 84.5 → B
        at(
            "2024-06-01",
            F1,
            84.5,
            "B",
            {
                COM(1, F1): 10,
                COM(2, F1): 10,
                COM(3, F1): 5,
                COM(4, F1): 2,
                P(1, F1): -5,
                P(2, F1): -7.5,
            },
        ),
    ),
    case(
        "tier-64.5-is-C",
        [
            commendation(1, F1, "2024-01-15", level="市"),
            commendation(2, F1, "2024-01-15", level="区"),
            penalty(1, F1, "2024-02-01", fine=5_000, category=SCOPE),
            penalty(2, F1, "2024-05-01", fine=5_000, category=SCOPE),
        ],
        # 70 + 5 + 2 − 5 − 5 × 1.5 = 64.5 → C
        at(
            "2024-06-01",
            F1,
            64.5,
            "C",
            {COM(1, F1): 5, COM(2, F1): 2, P(1, F1): -5, P(2, F1): -7.5},
        ),
    ),
    case(
        "tier-44.5-is-D",
        [
            inspection(1, F1, "2024-05-15", result="未发现问题"),
            penalty(1, F1, "2024-02-01", fine=5_000, category=SCOPE),
            penalty(2, F1, "2024-05-01", fine=5_000, category=SCOPE),
            penalty(3, F1, "2024-03-01", fine=20_000),
            penalty(4, F1, "2024-04-01", fine=5_000),
        ],
        # 70 + 2 − 5 − 5 × 1.5 − 10 − 5 = 44.5 → D (no veto)
        at(
            "2024-06-01",
            F1,
            44.5,
            "D",
            {INS(1, F1): 2, P(1, F1): -5, P(2, F1): -7.5, P(3, F1): -10, P(4, F1): -5},
        ),
    ),
    case(
        "clamp-at-0",
        [
            penalty(1, F1, "2024-01-10", fine=60_000),
            penalty(2, F1, "2024-02-10", fine=60_000),
            penalty(3, F1, "2024-03-10", fine=60_000),
            penalty(4, F1, "2024-04-10", fine=60_000),
        ],
        # four L4 without category (no multiplier): 70 − 80 = −10 → clamped to 0 → D
        at(
            "2024-06-01",
            F1,
            0,
            "D",
            {P(1, F1): -20, P(2, F1): -20, P(3, F1): -20, P(4, F1): -20},
        ),
    ),
]


# --- running the engine -----------------------------------------------------------------------

CASES_BY_ID = {c.id: c for c in CASES}


@cache
def _engine(case_id: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """records, statuses and firms of one case (derived once per test session)."""
    c = CASES_BY_ID[case_id]
    rules = default_rule_set()
    records = derive_credit_records(frames(c.rows), rules)
    statuses = statuses_of(records, cases_table(c.cases), rules)
    return records, statuses, firms_table(c.firms)


@cache
def _scores(case_id: str, as_of: date):
    records, statuses, firms = _engine(case_id)
    return score_as_of(records, statuses, firms, default_rule_set(), as_of)


def _observed(check: At, case_id: str) -> dict:
    result = _scores(case_id, check.as_of)
    rows = result.scores.filter(pl.col("uscc") == check.uscc).to_dicts()
    assert len(rows) == 1, f"{case_id}: {len(rows)} score rows for {check.uscc} {check.as_of}"
    row = rows[0]
    reasons = result.reasons.filter(pl.col("uscc") == check.uscc).to_dicts()
    points = {r["record_id"]: round(r["points"], 6) for r in reasons}
    assert len(points) == len(reasons), f"{case_id}: a record counts twice: {reasons}"
    return {
        "as_of": row["as_of"],
        "uscc": row["uscc"],
        "score": round(row["score"], 6),
        "tier": row["tier"],
        "veto": row["veto"],
        "veto_reason_given": row["veto_reason"] is not None,
        "points": points,
        "status": {r["record_id"]: r["status"] for r in reasons},
        "counting_records": row["counting_records"],
    }


ids = [c.id for c in CASES]


def test_cases_are_well_formed() -> None:
    assert len(CASES) >= 30
    assert len(set(ids)) == len(ids), "duplicate case ids"


@pytest.mark.parametrize("golden", CASES, ids=ids)
def test_golden_case(golden: Case) -> None:
    expected = [check.expected() for check in golden.checks]
    actual = [_observed(check, golden.id) for check in golden.checks]
    assert actual == expected


@pytest.mark.parametrize("golden", CASES, ids=ids)
def test_scores_and_reasons_schemas(golden: Case) -> None:
    result = _scores(golden.id, golden.dates[0])
    assert result.scores.schema == CREDIT_SCORE_SCHEMA
    assert result.reasons.schema == SCORE_REASON_SCHEMA
    # one score per firm of the directory
    assert sorted(result.scores["uscc"].to_list()) == sorted(golden.firms)
    assert set(result.scores["rule_set_version"].to_list()) == {default_rule_set().version}


@pytest.mark.parametrize("golden", CASES, ids=ids)
def test_bonus_and_deduction_totals(golden: Case) -> None:
    """`bonus_points` is after the cap, `deduction_points` after the multipliers."""
    for check in golden.checks:
        row = (
            _scores(golden.id, check.as_of)
            .scores.filter(pl.col("uscc") == check.uscc)
            .row(0, named=True)
        )
        bonus = sum(p for p in check.points.values() if p > 0)
        deduction = -sum(p for p in check.points.values() if p < 0)
        assert row["bonus_points"] == pytest.approx(min(bonus, CAP)), check
        assert abs(row["deduction_points"]) == pytest.approx(deduction), check


@pytest.mark.parametrize("golden", CASES, ids=ids)
def test_reasons_invariant(golden: Case) -> None:
    """score == clamp(70 + min(Σ positive reason points, 30) + Σ negative, 0, 100)."""
    for as_of in golden.dates:
        result = _scores(golden.id, as_of)
        for uscc in golden.firms:
            score = result.scores.filter(pl.col("uscc") == uscc)["score"].item()
            points = result.reasons.filter(pl.col("uscc") == uscc)["points"].to_list()
            positive = sum(p for p in points if p > 0)
            negative = sum(p for p in points if p < 0)
            expected = min(max(BASE + min(positive, CAP) + negative, 0.0), 100.0)
            assert score == pytest.approx(expected), (as_of, uscc, points)


@pytest.mark.parametrize("golden", CASES, ids=ids)
def test_history_equals_as_of(golden: Case) -> None:
    records, statuses, firms = _engine(golden.id)
    history = score_history(records, statuses, firms, default_rule_set(), golden.dates)
    singles = [_scores(golden.id, as_of) for as_of in golden.dates]
    score_keys = ["uscc", "as_of"]
    reason_keys = ["uscc", "as_of", "record_id", "segment"]
    assert_frame_equal(
        history.scores.sort(score_keys),
        pl.concat([s.scores for s in singles]).sort(score_keys),
    )
    assert_frame_equal(
        history.reasons.sort(reason_keys),
        pl.concat([s.reasons for s in singles]).sort(reason_keys),
    )
