"""Small builders for the golden credit cases: clean source rows from only the fields that matter.

Every builder returns a `Row` (the source table it belongs to and one clean row as a dict);
the fields a case does not mention get a plausible filler, and `collected_on` defaults to the
document's own date (decided / issued / awarded / inspected), i.e. collected the same day.
`frames` turns rows into the clean tables (`models.row_checks.clean_schema`) that the credit
engine reads, with an empty table for every source the case does not use.

Record ids follow docs §2: `<source>:<doc_no or inspection_id>:<uscc>`, with
`:veto` for a veto record derived from the same document.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from models.contracts import default_contracts
from models.row_checks import clean_schema

# Three firms of the directory (valid GB 32100 check digits).
F1 = "91310000MA1FL0001R"
F2 = "91310000MA1FL0002W"
F3 = "91310000MA1FL00030"

SOURCES = (
    "penalty_decisions",
    "correction_notices",
    "circulars",
    "commendations",
    "inspection_outcomes",
)

DateLike = date | str | None


def d(value: DateLike) -> date | None:
    """`"2024-03-05"` → date(2024, 3, 5); dates and None pass through."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


@dataclass(frozen=True)
class Row:
    """One clean row of `source`."""

    source: str
    values: dict


# --- document numbers (official shape, so `evidence_valid` is true) --------------------------


def _doc(kind: str, doc: int | str) -> str:
    return doc if isinstance(doc, str) else f"沪国动{kind}〔2024〕{doc}号"


def pen_no(doc: int | str) -> str:
    """Penalty decision number: 1 → 沪国动罚〔2024〕1号 (a str is used as given)."""
    return _doc("罚", doc)


def cor_no(doc: int | str) -> str:
    """Correction notice number: 1 → 沪国动改〔2024〕1号."""
    return _doc("改", doc)


def cir_no(doc: int | str) -> str:
    """Circular number: 1 → 沪国动通〔2024〕1号."""
    return _doc("通", doc)


def com_no(doc: int | str) -> str:
    """Commendation number: 1 → 沪国动表〔2024〕1号."""
    return _doc("表", doc)


def ins_id(doc: int | str) -> str:
    """Inspection id: 1 → JC2024-0001."""
    return doc if isinstance(doc, str) else f"JC2024-{doc:04d}"


# --- record ids -------------------------------------------------------------------------------


def _rid(source: str, key: str, uscc: str, veto: bool) -> str:
    return f"{source}:{key}:{uscc}" + (":veto" if veto else "")


def P(doc: int | str, uscc: str, *, veto: bool = False) -> str:  # noqa: N802
    """Record id of penalty decision `doc` for `uscc` (its veto record with `veto=True`)."""
    return _rid("penalty_decisions", pen_no(doc), uscc, veto)


def C(doc: int | str, uscc: str, *, veto: bool = False) -> str:  # noqa: N802
    """Record id of correction notice `doc` for `uscc`."""
    return _rid("correction_notices", cor_no(doc), uscc, veto)


def CIR(doc: int | str, uscc: str) -> str:  # noqa: N802
    """Record id of circular `doc` for `uscc`."""
    return _rid("circulars", cir_no(doc), uscc, False)


def COM(doc: int | str, uscc: str) -> str:  # noqa: N802
    """Record id of commendation `doc` for `uscc`."""
    return _rid("commendations", com_no(doc), uscc, False)


def INS(doc: int | str, uscc: str) -> str:  # noqa: N802
    """Record id of inspection `doc` for `uscc`."""
    return _rid("inspection_outcomes", ins_id(doc), uscc, False)


# --- source rows ------------------------------------------------------------------------------

_DEFAULT_FINE = object()


def penalty(
    doc: int | str,
    uscc: str,
    decided_on: DateLike,
    *,
    types: Sequence[str] = ("罚款",),
    fine: float | object | None = _DEFAULT_FINE,
    category: str | None = None,
    status: str = "有效",
    procedure: str = "普通",
    effective_until: DateLike = None,
    collected_on: DateLike = None,
) -> Row:
    """A penalty decision. `fine` defaults to 15,000 when `types` has 罚款, else to none.

    `category` (violation_category) defaults to none, so that several penalties of one case
    never trigger the repeat multiplier unless the case says so.
    """
    if fine is _DEFAULT_FINE:
        fine = 15_000.0 if "罚款" in types else None
    return Row(
        "penalty_decisions",
        {
            "doc_no": pen_no(doc),
            "uscc": uscc,
            "firm_name": "某人防工程公司",
            "decided_on": d(decided_on),
            "violation_category": category,
            "violation": "违法事实（略）",
            "legal_basis": "《中华人民共和国人民防空法》第四十九条",
            "penalty_types": list(types),
            "fine_amount": None if fine is None else float(fine),  # type: ignore[arg-type]  # the sentinel (object) was replaced above
            "procedure": procedure,
            "effective_until": d(effective_until),
            "authority": "上海市民防办公室",
            "status": status,
            "collected_on": d(collected_on) or d(decided_on),
        },
    )


def correction(
    doc: int | str,
    uscc: str,
    issued_on: DateLike,
    deadline: DateLike,
    *,
    rectified_on: DateLike = None,
    review: str | None = None,
    category: str | None = None,
    collected_on: DateLike = None,
    cites: str | None = None,
) -> Row:
    """A correction notice (责令改正通知书); never rectified unless `rectified_on` is given;
    `cites` is the penalty decision number it names."""
    return Row(
        "correction_notices",
        {
            "doc_no": cor_no(doc),
            "uscc": uscc,
            "firm_name": "某人防工程公司",
            "issued_on": d(issued_on),
            "deadline": d(deadline),
            "problem": "问题描述（略）",
            "problem_category": category,
            "rectified_on": d(rectified_on),
            "review_result": review,
            "authority": "上海市民防办公室",
            "penalty_doc_no": cites,
            "collected_on": d(collected_on) or d(issued_on),
        },
    )


def circular(
    doc: int | str,
    uscc: str,
    issued_on: DateLike,
    *,
    kind: str = "批评",
    level: str | None = "市",
    collected_on: DateLike = None,
    cites: str | None = None,
) -> Row:
    """One firm's row of a circular (通报); a circular naming n firms is n rows; `cites` is
    the penalty decision number it names."""
    return Row(
        "circulars",
        {
            "doc_no": cir_no(doc),
            "uscc": uscc,
            "firm_name": "某人防工程公司",
            "issued_on": d(issued_on),
            "kind": kind,
            "level": level,
            "summary": "通报事由（略）",
            "authority": "上海市民防办公室",
            "penalty_doc_no": cites,
            "collected_on": d(collected_on) or d(issued_on),
        },
    )


def commendation(
    doc: int | str,
    uscc: str,
    awarded_on: DateLike,
    *,
    level: str = "国家",
    collected_on: DateLike = None,
) -> Row:
    """A commendation or award (表彰)."""
    return Row(
        "commendations",
        {
            "doc_no": com_no(doc),
            "uscc": uscc,
            "awarded_on": d(awarded_on),
            "level": level,
            "title": "人防工程优质奖",
            "authority": "上海市民防办公室",
            "collected_on": d(collected_on) or d(awarded_on),
        },
    )


def inspection(
    doc: int | str,
    uscc: str,
    inspected_on: DateLike,
    *,
    result: str = "未发现问题",
    followup_doc_no: str | None = None,
    collected_on: DateLike = None,
) -> Row:
    """An inspection outcome of a random-inspection round."""
    return Row(
        "inspection_outcomes",
        {
            "inspection_id": ins_id(doc),
            "round_id": "R2024-01",
            "uscc": uscc,
            "inspected_on": d(inspected_on),
            "inspector_ids": ["I001", "I002"],
            "result": result,
            "problem_count": 0 if result == "未发现问题" else 1,
            "followup_doc_no": followup_doc_no,
            "collected_on": d(collected_on) or d(inspected_on),
        },
    )


def credit_case(
    case_id: str,
    uscc: str,
    kind: str,
    record_doc_no: str,
    filed_on: DateLike,
    *,
    decided_on: DateLike = None,
    decision: str | None = None,
) -> dict:
    """A credit case (异议 objection or 信用修复 repair) about document `record_doc_no`."""
    return {
        "case_id": case_id,
        "uscc": uscc,
        "kind": kind,
        "record_doc_no": record_doc_no,
        "filed_on": d(filed_on),
        "decided_on": d(decided_on),
        "decision": decision,
        "note": None,
    }


def objection(
    case_id: str, uscc: str, record_doc_no: str, filed_on: DateLike, **decided: object
) -> dict:
    """异议: `decided_on=…, decision=维持|撤销|更正`, or undecided."""
    return credit_case(case_id, uscc, "异议", record_doc_no, filed_on, **decided)  # type: ignore[arg-type]  # **decided: object; callers pass credit_case's keywords


def repair(
    case_id: str, uscc: str, record_doc_no: str, filed_on: DateLike, **decided: object
) -> dict:
    """信用修复: `decided_on=…, decision=准予修复|不予修复`, or undecided."""
    return credit_case(case_id, uscc, "信用修复", record_doc_no, filed_on, **decided)  # type: ignore[arg-type]  # **decided: object; callers pass credit_case's keywords


def firm(uscc: str) -> dict:
    """A firm of the directory (a design institute, status 正常)."""
    return {
        "uscc": uscc,
        "name": f"上海某人防设计院{uscc[-4:]}",
        "firm_type": "design",
        "district": "静安",
        "qualification": "甲级",
        "established_on": date(2010, 1, 1),
        "listed_on": date(2020, 1, 1),
        "status": "正常",
        "legal_rep": "张三",
        "address": "上海市静安区某路1号",
        "contact": "李四",
        "phone": "021-00000000",
    }


# --- clean tables -----------------------------------------------------------------------------


def _table(name: str, rows: Iterable[dict]) -> pl.DataFrame:
    schema = clean_schema(default_contracts().source(name))
    filled = [
        {
            **{column: None for column in schema},
            **row,
            "source_file": f"golden/{name}.csv",
            "source_row": i + 2,
            "duplicate_count": 1,
        }
        for i, row in enumerate(rows)
    ]
    return pl.DataFrame(filled, schema=schema)


def frames(rows: Iterable[Row]) -> dict[str, pl.DataFrame]:
    """The five clean source tables holding `rows` (empty tables for unused sources)."""
    rows = list(rows)
    unknown = {r.source for r in rows} - set(SOURCES)
    assert not unknown, f"not a credit source: {unknown}"
    return {name: _table(name, (r.values for r in rows if r.source == name)) for name in SOURCES}


def cases_table(cases: Iterable[dict]) -> pl.DataFrame:
    """The clean `credit_cases` table."""
    return _table("credit_cases", cases)


def firms_table(usccs: Iterable[str]) -> pl.DataFrame:
    """The clean `firms` directory holding these firms."""
    return _table("firms", (firm(u) for u in sorted(set(usccs))))
