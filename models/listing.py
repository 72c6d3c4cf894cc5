"""The 严重失信主体名单 as a procedure, never a score (国办发〔2020〕49号).

What belongs here: the steps of a listing case and the rules between them, the documents
the centre issues, and what the list holds on any date — pure functions of the dated
steps the centre recorded (`listing_cases`, `listing_events`):

1. **proposed** — from a veto condition the firm meets (its grounds are the veto's evidence
   documents) or by the centre (grounds named);
2. **notice** (告知书, numbered `<notice_prefix>〔year〕n号`): the grounds, the evidence
   document numbers and the deadline for the firm's statement and defence (陈述申辩):
   `listing.statement_working_days` official working days after the notice;
3. **statement** — what the firm said (or that it said nothing by the deadline);
4. **decision** (决定书, numbered `<decision_prefix>〔year〕n号`) listing the firm for
   `listing.months`, taken after the statement or once its deadline has passed — or
   **dropped**, with the reason;
5. **published** — from that day the firm is on the public list as 严重失信主体;
6. **removed** — on repair (no earlier than `listing.repair_min_months` after listing) or
   any other ground the centre records; a listing also ends by itself at the end of its
   period (expiry needs no step).

A step out of order, dated before the one before it, a decision before the statement
deadline without a statement, or a step resting on a record under an open objection (when
`objection.blocks` names `listing`) is refused with the reason in Chinese and English.
Only a decided, published, unexpired and unremoved listing is ever shown as 严重失信.

What does not: storing steps or writing documents (`warehouse.listing`), the commands.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from models.rules import RuleSet

LISTING_CASE_SCHEMA = pl.Schema(
    {
        "case_id": pl.Utf8(),
        "uscc": pl.Utf8(),
        "firm_name": pl.Utf8(),
        "basis": pl.Utf8(),  # veto | centre
        "grounds": pl.Utf8(),  # the grounds in words
        "evidence_doc_nos": pl.List(pl.Utf8()),
        "proposed_on": pl.Date(),
        "rule_set_version": pl.Utf8(),
        "actor": pl.Utf8(),
        "recorded_at": pl.Datetime("us"),
    }
)
"""One row per listing case (centre-entered: carried by migrations, never rebuilt)."""

LISTING_EVENT_SCHEMA = pl.Schema(
    {
        "case_id": pl.Utf8(),
        "seq": pl.Int64(),
        "step": pl.Utf8(),
        "step_on": pl.Date(),
        "doc_no": pl.Utf8(),
        "deadline": pl.Date(),  # notice: statement deadline; decision: last day listed
        "detail": pl.Utf8(),
        "document": pl.Utf8(),  # the generated document's file, relative to the reports
        "actor": pl.Utf8(),
        "recorded_at": pl.Datetime("us"),
    }
)
"""Every dated step of every case, append-only (centre-entered: carried by migrations)."""

STEPS: dict[str, tuple[str, str]] = {
    "proposed": ("立案", "proposed"),
    "notice": ("已告知", "notice issued"),
    "statement": ("已陈述申辩", "statement recorded"),
    "decision": ("已决定列入", "decided"),
    "dropped": ("已撤销立案", "dropped"),
    "published": ("已公示", "published"),
    "removed": ("已移出", "removed"),
}
"""Steps with their Chinese and English names (also a case's state after that step)."""

ALLOWED_AFTER: dict[str, tuple[str, ...]] = {
    "notice": ("proposed",),
    "statement": ("notice",),
    "decision": ("notice", "statement"),
    "dropped": ("proposed", "notice", "statement"),
    "published": ("decision",),
    "removed": ("published",),
}
"""Which state each step may follow."""

LISTED_AS_ZH = "严重失信主体"


class ListingError(ValueError):
    """A step that the procedure does not allow; the message is `中文 / English`."""


@dataclass(frozen=True)
class CaseState:
    case_id: str
    state: str
    last_on: date
    statement_deadline: date | None
    notice_doc_no: str | None
    decision_doc_no: str | None
    decided_on: date | None
    listed_until: date | None
    published_on: date | None
    removed_on: date | None


def case_state(case_id: str, events: pl.DataFrame) -> CaseState:
    """A case's state from its steps (the latest step is its state)."""
    mine = events.filter(pl.col("case_id") == case_id).sort("seq")
    if mine.is_empty():
        raise ListingError(f"无此案件 {case_id} / no listing case {case_id}")
    rows = mine.to_dicts()
    by_step = {r["step"]: r for r in rows}
    notice = by_step.get("notice")
    decision = by_step.get("decision")
    return CaseState(
        case_id=case_id,
        state=rows[-1]["step"],
        last_on=rows[-1]["step_on"],
        statement_deadline=notice["deadline"] if notice else None,
        notice_doc_no=notice["doc_no"] if notice else None,
        decision_doc_no=decision["doc_no"] if decision else None,
        decided_on=decision["step_on"] if decision else None,
        listed_until=decision["deadline"] if decision else None,
        published_on=by_step["published"]["step_on"] if "published" in by_step else None,
        removed_on=by_step["removed"]["step_on"] if "removed" in by_step else None,
    )


def check_step(
    state: CaseState,
    step: str,
    on: date,
    *,
    rules: RuleSet,
    disputed: Sequence[str] = (),
    repair: bool = False,
) -> None:
    """Refuse a step the procedure does not allow at `on` (`disputed`: evidence documents
    of the case under an open objection on that day; `repair`: a removal on repair)."""
    if step not in ALLOWED_AFTER:
        raise ListingError(f"未知步骤 {step} / unknown step {step}")
    if state.state not in ALLOWED_AFTER[step]:
        now_zh, now_en = STEPS[state.state]
        step_zh, step_en = STEPS[step]
        raise ListingError(
            f"案件 {state.case_id} 当前为“{now_zh}”，不能{step_zh} / case {state.case_id} is "
            f"{now_en}: it cannot be {step_en} now"
        )
    if on < state.last_on:
        raise ListingError(
            f"日期 {on} 早于上一步骤（{state.last_on}） / {on} is before the previous step "
            f"({state.last_on})"
        )
    if step == "decision" and state.state == "notice":
        deadline = state.statement_deadline
        if deadline is not None and on <= deadline:
            raise ListingError(
                f"陈述申辩期限至 {deadline}，期限届满前未记录陈述申辩不能作出决定 / the "
                f"statement deadline is {deadline}: without a recorded statement no decision "
                "before it has passed"
            )
    if step == "removed" and repair and state.published_on is not None:
        earliest = repair_possible_from(state.published_on, rules)
        if on < earliest:
            raise ListingError(
                f"公示满 {rules.listing.repair_min_months} 个月（{earliest}）前不能因信用修复移出 "
                f"/ a repair cannot remove a listing before {earliest} "
                f"({rules.listing.repair_min_months} months after publication)"
            )
    if step in ("decision", "published") and disputed and rules.blocks("listing"):
        docs = "、".join(disputed)
        raise ListingError(
            f"所依据的记录异议未决（{docs}），不能作出列入决定或公示 / a record it rests on is "
            f"disputed ({docs}): no listing decision or publication while the objection is open"
        )


def check_proposal(disputed: Sequence[str], evidence: Sequence[str], rules: RuleSet) -> None:
    """A case needs evidence documents, none of them under an open objection."""
    if not evidence:
        raise ListingError(
            "未列明依据文书，不能立案 / no evidence document named: a listing case needs its "
            "grounds"
        )
    if disputed and rules.blocks("listing"):
        docs = "、".join(disputed)
        raise ListingError(
            f"所依据的记录异议未决（{docs}），不能立案 / a record it rests on is disputed "
            f"({docs}): no listing case while the objection is open"
        )


def _docs(value: object) -> list[str]:
    """A list cell's values as text (a missing list is empty)."""
    return [str(v) for v in value] if isinstance(value, list) else []


_NUMBER = re.compile(r"〔(\d{4})〕(\d+)号$")


def next_doc_no(existing: Sequence[str | None], prefix: str, year: int) -> str:
    """The next number of a document series: `<prefix>〔year〕n号`, n one above the largest
    number of that year among `existing`."""
    used = [
        int(m.group(2))
        for doc in existing
        if doc and doc.startswith(prefix) and (m := _NUMBER.search(doc)) and int(m.group(1)) == year
    ]
    return f"{prefix}〔{year}〕{max(used, default=0) + 1}号"


def listed_until(decided_on: date, rules: RuleSet) -> date:
    """The last day a listing decided on `decided_on` stays on the list."""
    ends = pl.select(pl.lit(decided_on).dt.offset_by(f"{rules.listing.months}mo")).item()
    assert isinstance(ends, date)
    return date.fromordinal(ends.toordinal() - 1)


def repair_possible_from(published_on: date, rules: RuleSet) -> date:
    value = pl.select(pl.lit(published_on).dt.offset_by(f"{rules.listing.repair_min_months}mo"))
    found = value.item()
    assert isinstance(found, date)
    return found


def notice_text(
    case: dict[str, object], doc_no: str, on: date, deadline: date, rules: RuleSet
) -> str:
    """The 告知书: who, on what grounds and evidence, the right to state a case and by when."""
    evidence = "、".join(_docs(case["evidence_doc_nos"]))
    name = rules.listing.name_zh
    return "\n".join(
        [
            f"{name}列入事先告知书",
            doc_no,
            "",
            f"{case['firm_name']}（统一社会信用代码：{case['uscc']}）：",
            "",
            f"经查，你单位存在下列情形：{case['grounds']}。",
            f"依据文书：{evidence}。",
            f"依据《国务院办公厅关于进一步完善失信约束制度构建诚信建设长效机制的指导意见》"
            f"（国办发〔2020〕49号），本机关拟将你单位列入{name}，列入期限"
            f"{rules.listing.months}个月。",
            f"你单位有权进行陈述和申辩。请于 {deadline} 前（含当日）提交书面陈述申辩意见；"
            "逾期未提出的，视为放弃陈述申辩权利。",
            "",
            f"告知日期：{on}",
            f"案件编号：{case['case_id']}",
            "",
            "---",
            f"Notice of intended listing in the {rules.listing.name_en} ({doc_no}) to "
            f"{case['uscc']}: grounds as above, evidence {evidence}; statement and defence "
            f"due by {deadline}.",
        ]
    )


def decision_text(
    case: dict[str, object],
    doc_no: str,
    on: date,
    until: date,
    statement: str | None,
    rules: RuleSet,
) -> str:
    """The 决定书: the decision to list, its grounds, the statement considered, the period."""
    evidence = "、".join(_docs(case["evidence_doc_nos"]))
    name = rules.listing.name_zh
    heard = statement or "你单位在规定期限内未提出陈述申辩意见"
    return "\n".join(
        [
            f"{name}列入决定书",
            doc_no,
            "",
            f"{case['firm_name']}（统一社会信用代码：{case['uscc']}）：",
            "",
            f"经查，你单位存在下列情形：{case['grounds']}。依据文书：{evidence}。",
            f"陈述申辩情况：{heard}。",
            f"本机关决定将你单位列入{name}，列入期间自 {on} 至 {until}。期满自动移出；"
            "符合信用修复条件的，可申请提前移出。",
            "如不服本决定，可依法申请行政复议或者提起行政诉讼。",
            "",
            f"决定日期：{on}",
            f"案件编号：{case['case_id']}",
            "",
            "---",
            f"Decision {doc_no}: {case['uscc']} is listed in the {rules.listing.name_en} from "
            f"{on} to {until}.",
        ]
    )


LISTING_SCHEMA = pl.Schema(
    {
        "case_id": pl.Utf8(),
        "uscc": pl.Utf8(),
        "firm_name": pl.Utf8(),
        "decision_doc_no": pl.Utf8(),
        "decided_on": pl.Date(),
        "published_on": pl.Date(),
        "listed_until": pl.Date(),
        "grounds": pl.Utf8(),
    }
)
"""A listing as published: the decided, published, unexpired, unremoved cases of a day."""


def listings_as_of(cases: pl.DataFrame, events: pl.DataFrame, day: date) -> pl.DataFrame:
    """The 严重失信主体名单 as it stood at the end of `day`: every case decided and
    published by then, not removed by then, and with `day` inside its period."""
    if cases.is_empty() or events.is_empty():
        return pl.DataFrame(schema=LISTING_SCHEMA)
    known = events.filter(pl.col("step_on") <= day)

    def step(name: str, **columns: pl.Expr) -> pl.DataFrame:
        return (
            known.filter(pl.col("step") == name)
            .sort("seq")
            .group_by("case_id", maintain_order=True)
            .last()
            .select("case_id", **columns)
        )

    decided = step(
        "decision", decision_doc_no=pl.col("doc_no"), decided_on=pl.col("step_on"),
        listed_until=pl.col("deadline"),
    )  # fmt: skip
    published = step("published", published_on=pl.col("step_on"))
    removed = step("removed", removed_on=pl.col("step_on"))
    return (
        cases.join(decided, on="case_id")
        .join(published, on="case_id")
        .join(removed, on="case_id", how="left")
        .filter(pl.col("removed_on").is_null() & (pl.col("listed_until") >= day))
        .select(LISTING_SCHEMA.names())
        .cast(LISTING_SCHEMA)
        .sort("published_on", "case_id")
    )


CASE_OVERVIEW_SCHEMA = pl.Schema(
    {
        "case_id": pl.Utf8(),
        "uscc": pl.Utf8(),
        "firm_name": pl.Utf8(),
        "basis": pl.Utf8(),
        "state": pl.Utf8(),
        "state_zh": pl.Utf8(),
        "last_on": pl.Date(),
        "next_step": pl.Utf8(),
        "deadline": pl.Date(),
        "overdue": pl.Boolean(),
        "evidence_doc_nos": pl.Utf8(),
    }
)

NEXT_STEP_ZH = {
    "proposed": "制发告知书",
    "notice": "记录陈述申辩，或期满后作出决定",
    "statement": "作出决定或撤销立案",
    "decision": "公示",
    "published": "期满移出或信用修复移出",
}


def case_overview(cases: pl.DataFrame, events: pl.DataFrame, day: date) -> pl.DataFrame:
    """Every case with its state as of `day`, its next step and the deadline that applies
    (statement deadline after a notice; end of the listing once published). Open cases
    (not dropped, not removed, not expired) first, most urgent first."""
    rows = []
    for case in cases.to_dicts():
        mine = events.filter((pl.col("case_id") == case["case_id"]) & (pl.col("step_on") <= day))
        if mine.is_empty():
            continue
        state = case_state(str(case["case_id"]), mine)
        deadline = None
        if state.state == "notice":
            deadline = state.statement_deadline
        elif state.state in ("decision", "published"):
            deadline = state.listed_until
        expired = state.state == "published" and deadline is not None and deadline < day
        shown = "removed" if expired else state.state
        rows.append(
            {
                "case_id": case["case_id"],
                "uscc": case["uscc"],
                "firm_name": case["firm_name"],
                "basis": case["basis"],
                "state": shown,
                "state_zh": "期满移出" if expired else STEPS[shown][0],
                "last_on": state.last_on,
                "next_step": NEXT_STEP_ZH.get(shown),
                "deadline": deadline,
                "overdue": bool(state.state == "notice" and deadline and deadline < day),
                "evidence_doc_nos": "、".join(_docs(case["evidence_doc_nos"])),
            }
        )
    frame = pl.DataFrame(rows, schema=CASE_OVERVIEW_SCHEMA)
    closed = pl.col("state").is_in(["dropped", "removed"])
    return frame.sort([closed, pl.col("deadline")], nulls_last=True)
