"""Cases a firm files online (异议 objections, 信用修复 repair applications) and their decisions.

What belongs here: the rules of a filing — which kinds, against which record (one of the
firm's own), a reason, the list of materials, attached files of the allowed types and sizes
(checked by their first bytes, not their names) — the case number, the centre's decision
(accept, reject or correct, with a text and the date it takes effect) as the `credit_cases`
decision it means, and the online cases as `credit_cases` rows, so a decision flows into
scores exactly as a landing file's case does. Also the centre's queue: each filing with its
deadline, counted from the filing day under the rule set's objection clock.

Why a firm's filing is a fact of its own (not a landing row): the 20-day clock starts when
the firm asked, which only the firm's own filing can prove; it is kept with its filing
time, carried like the listing procedure's tables and never rebuilt by a run.

What does not: storage, the files' bytes (`warehouse.firm_cases`), pages (`dashboards`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from models.normalise import plain_text
from models.objections import objection_deadlines
from models.record_status import OBJECTION, REPAIR, REPAIR_APPROVED, REPAIR_REFUSED
from models.rules import RuleSet

KINDS = (OBJECTION, REPAIR)
ONLINE_SOURCE = "网上申请"
"""The lineage (`source_file`) of an online case's row in the clean `credit_cases`."""
CASE_PREFIX = "WS"
"""Online case numbers: `WS<year>-<nnnn>` (网上申请), never those of a landing file."""
SUBMITTED = "已提交"
DECIDED = "已办结"
OUTCOMES = ("accept", "reject", "correct")
DECISIONS: dict[str, dict[str, str]] = {
    OBJECTION: {"accept": "撤销", "reject": "维持", "correct": "更正"},
    REPAIR: {"accept": REPAIR_APPROVED, "reject": REPAIR_REFUSED},
}
"""(kind, outcome) → the `credit_cases.decision` it is: an objection accepted revokes the
record, rejected keeps it, corrected corrects it; a repair accepted is granted."""

MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TEXT = 2000
FILE_TYPES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF-",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
}
"""Allowed attachments by suffix, with the first bytes each must start with."""

FILING_SCHEMA = pl.Schema(
    {
        "case_id": pl.Utf8(),
        "uscc": pl.Utf8(),
        "kind": pl.Utf8(),
        "record_doc_no": pl.Utf8(),
        "reason": pl.Utf8(),
        "materials": pl.List(pl.Utf8()),
        "filed_at": pl.Datetime("us"),
        "filed_on": pl.Date(),
        "filed_by": pl.Utf8(),
    }
)
FILE_SCHEMA = pl.Schema(
    {
        "case_id": pl.Utf8(),
        "seq": pl.Int64(),
        "original_name": pl.Utf8(),
        "stored_name": pl.Utf8(),
        "size_bytes": pl.Int64(),
        "sha256": pl.Utf8(),
    }
)
DECISION_SCHEMA = pl.Schema(
    {
        "case_id": pl.Utf8(),
        "outcome": pl.Utf8(),
        "decision": pl.Utf8(),
        "decision_text": pl.Utf8(),
        "effective_on": pl.Date(),
        "decided_at": pl.Datetime("us"),
        "decided_by": pl.Utf8(),
    }
)


class FilingError(ValueError):
    """A filing or decision that cannot be accepted (message: Chinese / English)."""


def check_filing(
    kind: str, record_doc_no: str, reason: str, materials: Sequence[str], own_records: Sequence[str]
) -> tuple[str, list[str]]:
    """The cleaned reason and list of materials; `FilingError` for a bad filing. The record
    must be one of the firm's own (`own_records`: its documents' numbers)."""
    if kind not in KINDS:
        raise FilingError(f"申请类型须为 {'、'.join(KINDS)} / the kind must be one of {KINDS}")
    if record_doc_no not in set(own_records):
        raise FilingError(
            f"{record_doc_no!r} 不是本单位的信用记录 / {record_doc_no!r} is not one of the "
            "firm's records"
        )
    text = plain_text(reason).strip()
    if not text:
        raise FilingError("请填写申请理由 / state the reason")
    if len(text) > MAX_TEXT:
        raise FilingError(
            f"申请理由最长 {MAX_TEXT} 字 / the reason is limited to {MAX_TEXT} characters"
        )
    listed = [plain_text(m).strip() for m in materials]
    return text, [m[:200] for m in listed if m]


def check_attachments(files: Sequence[tuple[str, bytes]]) -> list[str]:
    """The suffix each file is stored with; `FilingError` for too many, too large, empty or
    not of an allowed type (by its first bytes)."""
    if len(files) > MAX_FILES:
        raise FilingError(f"附件最多 {MAX_FILES} 个 / at most {MAX_FILES} attachments")
    suffixes = []
    for name, data in files:
        shown = plain_text(name)[:80]
        suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if suffix not in FILE_TYPES:
            raise FilingError(
                f"附件 {shown} 的类型不允许（仅 PDF、PNG、JPG） / attachment {shown}: only PDF, "
                "PNG and JPG files are accepted"
            )
        if not data or len(data) > MAX_FILE_BYTES:
            raise FilingError(
                f"附件 {shown} 为空或超过 {MAX_FILE_BYTES // 1024 // 1024} MB / attachment "
                f"{shown} is empty or larger than {MAX_FILE_BYTES // 1024 // 1024} MB"
            )
        if not data.startswith(FILE_TYPES[suffix]):
            raise FilingError(
                f"附件 {shown} 的内容不是 {suffix[1:].upper()} 文件 / attachment {shown} is not "
                f"a {suffix[1:].upper()} file"
            )
        suffixes.append(".jpg" if suffix == ".jpeg" else suffix)
    return suffixes


def decision_of(kind: str, outcome: str, text: str) -> tuple[str, str]:
    """(the `credit_cases` decision, the cleaned decision text); `FilingError` when the
    outcome does not apply to the kind (a repair is not corrected) or no text is given."""
    decision = DECISIONS.get(kind, {}).get(outcome)
    if decision is None:
        raise FilingError(
            f"{kind}不能作出该决定（{outcome}） / a {kind} case cannot be decided {outcome!r}"
        )
    cleaned = plain_text(text).strip()
    if not cleaned:
        raise FilingError("请填写决定理由 / write the decision text")
    return decision, cleaned[:MAX_TEXT]


def next_case_id(existing: Sequence[str], year: int) -> str:
    prefix = f"{CASE_PREFIX}{year}-"
    numbers = [int(c.removeprefix(prefix)) for c in existing if c.startswith(prefix)]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


def as_credit_cases(filings: pl.DataFrame, decisions: pl.DataFrame) -> pl.DataFrame:
    """The online cases as clean `credit_cases` rows: filed on the filing day, decided on
    the decision's effective day (lineage `source_file` = 网上申请)."""
    latest = decisions.sort("decided_at").unique("case_id", keep="last")
    return filings.join(latest, on="case_id", how="left").select(
        "case_id",
        "uscc",
        "kind",
        "record_doc_no",
        "filed_on",
        decided_on=pl.col("effective_on"),
        decision=pl.col("decision"),
        note=pl.col("decision_text"),
        source_file=pl.lit(ONLINE_SOURCE),
        source_row=pl.lit(None, dtype=pl.Int64),
        duplicate_count=pl.lit(1, dtype=pl.Int64),
        file_sha256=pl.lit(None, dtype=pl.Utf8),
    )


def merge_cases(landing: pl.DataFrame, online: pl.DataFrame) -> pl.DataFrame:
    """The clean `credit_cases`: a landing file's rows, then the online cases (a landing row
    with the same case number wins: it is the centre's own record of it)."""
    online = online.filter(~pl.col("case_id").is_in(landing["case_id"].implode()))
    return pl.concat([landing, online.select(landing.columns).cast(landing.schema)])


def case_queue(
    filings: pl.DataFrame,
    decisions: pl.DataFrame,
    adopted: Sequence[tuple[date, RuleSet]],
    as_of: date,
) -> pl.DataFrame:
    """Every online case with its status (已提交 / 已办结), its decision and its deadline:
    `objection.decision_days` from the filing day under the rule set in force then (repair
    applications follow the same clock), and the state of that clock as of `as_of`."""
    cases = as_credit_cases(filings, decisions)
    clock = objection_deadlines(cases.with_columns(kind=pl.lit(OBJECTION)), adopted, as_of)
    latest = decisions.sort("decided_at").unique("case_id", keep="last")
    return (
        filings.join(latest, on="case_id", how="left")
        .join(
            clock.select("case_id", "deadline", "state", "days_overdue"), on="case_id", how="left"
        )
        .with_columns(
            status=pl.when(pl.col("decision").is_null())
            .then(pl.lit(SUBMITTED))
            .otherwise(pl.lit(DECIDED))
        )
        .sort(pl.col("decision").is_not_null(), "deadline", "case_id")
    )
