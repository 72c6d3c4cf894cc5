"""The 严重失信主体名单 procedure's record: listing cases and their dated steps.

What belongs here: storing each step the centre takes (`listing_cases`, `listing_events`) in
one transaction on the live warehouse that also bumps its generation, writing the documents
the steps issue (告知书, 决定书) under `<reports>/listings/<case>/`, appending each step to
the audit log, and reading the cases and the list of any date back. The procedure's rules
(order of steps, deadlines, numbering, what the list holds) are `models.listing`'s.

These tables hold facts the centre enters and no run can re-derive: runs copy them along
with the live file and never write them; a future layout change must carry them forward in
`warehouse.migrations`.

What does not: Dagster, the commands' arguments (`pipelines.cli.listing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from models.engine import scores_of, spans_of
from models.listing import (
    LISTING_CASE_SCHEMA,
    LISTING_EVENT_SCHEMA,
    LISTING_SCHEMA,
    ListingError,
    case_state,
    check_proposal,
    check_step,
    decision_text,
    listed_until,
    listings_as_of,
    next_doc_no,
    notice_text,
)
from models.rules import RuleSet
from models.scoring import expand_reasons
from models.workdays import add_working_days, working_day_calendar
from warehouse import audit
from warehouse.catalogue import schema_of
from warehouse.connection import WarehouseLocation, query, table_exists, utc_now
from warehouse.credit import firm_records, official_rules
from warehouse.staging import bump_generation
from warehouse.tables import ensure_tables, insert

TABLES = ("listing_cases", "listing_events")
DOCUMENTS = "listings"
"""Folder under the reports where each case's documents are written."""


def read_cases(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    if not table_exists(con, "listing_cases"):
        return pl.DataFrame(schema=LISTING_CASE_SCHEMA)
    return query(con, "SELECT * FROM listing_cases ORDER BY case_id").cast(LISTING_CASE_SCHEMA)


def read_events(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    if not table_exists(con, "listing_events"):
        return pl.DataFrame(schema=LISTING_EVENT_SCHEMA)
    return query(con, "SELECT * FROM listing_events ORDER BY case_id, seq").cast(
        LISTING_EVENT_SCHEMA
    )


def listings_on(con: duckdb.DuckDBPyConnection, day: date) -> pl.DataFrame:
    """The 严重失信主体名单 as it stood at the end of `day` (LISTING_SCHEMA)."""
    if not table_exists(con, "listing_events"):
        return pl.DataFrame(schema=LISTING_SCHEMA)
    return listings_as_of(read_cases(con), read_events(con), day)


def disputed_documents(
    con: duckdb.DuckDBPyConnection, uscc: str, documents: list[str], day: date
) -> list[str]:
    """Those of the firm's `documents` under an objection open on `day`."""
    if not documents or not table_exists(con, "credit_cases"):
        return []
    rows = con.execute(
        "SELECT DISTINCT record_doc_no FROM credit_cases WHERE kind = '异议' AND uscc = ? "
        "AND record_doc_no IN (SELECT unnest(?)) AND filed_on <= ? "
        "AND (decided_on IS NULL OR decided_on > ?) ORDER BY 1",
        [uscc, documents, day, day],
    ).fetchall()
    return [str(r[0]) for r in rows]


def veto_grounds(con: duckdb.DuckDBPyConnection, uscc: str, day: date) -> tuple[str, list[str]]:
    """The veto condition a firm meets on `day` (its counting veto records, with what they
    rest on): the grounds in words and the evidence document numbers. Empty when none."""
    rules = official_rules(con).for_date(day)
    if rules is None or not table_exists(con, "credit_records"):
        return "", []
    records, statuses, firms = firm_records(con, uscc, rules)
    spans = spans_of(records, statuses, firms, rules)
    vetoes = expand_reasons(spans, [day]).filter(pl.col("veto"))
    if vetoes.is_empty():
        return "", []
    if scores_of(spans, firms, rules, [day])["veto"].sum() == 0:
        return "", []
    counted = records.filter(pl.col("record_id").is_in(vetoes["record_id"].implode()))
    ground_ids = counted["grounds"].explode().drop_nulls().unique()
    docs = records.filter(pl.col("record_id").is_in(ground_ids.implode()))["evidence_doc_no"]
    reasons = sorted(set(counted["veto_reason"].drop_nulls().to_list()))
    documents = sorted(set(docs.to_list()) | set(counted["evidence_doc_no"].to_list()))
    return "；".join(reasons), documents


@dataclass(frozen=True)
class Step:
    case_id: str
    step: str
    on: date
    doc_no: str | None
    deadline: date | None
    document: Path | None


def propose(
    warehouse: WarehouseLocation,
    *,
    uscc: str,
    on: date,
    rules: RuleSet,
    grounds: str | None,
    evidence: list[str],
    actor: str,
) -> Step:
    """Open a listing case: from the firm's veto condition on `on` (no `grounds` given), or
    by the centre (grounds and evidence documents named)."""
    with warehouse.transaction() as con:
        ensure_tables(con, TABLES)
        firm = con.execute("SELECT name FROM firms WHERE uscc = ?", [uscc]).fetchall()
        if not firm:
            raise ListingError(f"名录中无此单位 {uscc} / {uscc} is not in the firm directory")
        basis = "centre"
        if grounds is None:
            grounds, found = veto_grounds(con, uscc, on)
            if not found:
                raise ListingError(
                    f"{uscc} 于 {on} 不满足一票否决情形；请写明立案依据（--grounds、--evidence） "
                    f"/ {uscc} meets no veto condition on {on}: name the grounds "
                    "(--grounds, --evidence)"
                )
            evidence = sorted(set(evidence) | set(found))
            basis = "veto"
        check_proposal(disputed_documents(con, uscc, evidence, on), evidence, rules)
        [(count,)] = con.execute(
            "SELECT count(*) FROM listing_cases WHERE year(proposed_on) = ?", [on.year]
        ).fetchall()
        case_id = f"SX{on.year}-{int(count) + 1:03d}"
        row = {
            "case_id": case_id, "uscc": uscc, "firm_name": firm[0][0], "basis": basis,
            "grounds": grounds, "evidence_doc_nos": evidence, "proposed_on": on,
            "rule_set_version": rules.version, "actor": actor, "recorded_at": utc_now(),
        }  # fmt: skip
        insert(con, "listing_cases", pl.DataFrame([row]), schema_of("listing_cases"))
        _append(con, case_id, "proposed", on, None, None, grounds, None, actor)
        bump_generation(con)
    step = Step(case_id, "proposed", on, None, None, None)
    _audit(warehouse, step, {"uscc": uscc, "basis": basis, "evidence": evidence}, actor)
    return step


def record_step(
    warehouse: WarehouseLocation,
    *,
    case_id: str,
    step: str,
    on: date,
    rules: RuleSet,
    detail: str | None,
    actor: str,
    repair: bool = False,
) -> Step:
    """Record one step of a case (notice, statement, decision, dropped, published, removed),
    issuing its document where it has one."""
    with warehouse.transaction() as con:
        ensure_tables(con, TABLES)
        cases = read_cases(con).filter(pl.col("case_id") == case_id)
        if cases.is_empty():
            raise ListingError(f"无此案件 {case_id} / no listing case {case_id}")
        case = cases.row(0, named=True)
        events = read_events(con)
        state = case_state(case_id, events)
        evidence = [str(d) for d in case["evidence_doc_nos"] or []]
        disputed = disputed_documents(con, case["uscc"], evidence, on)
        check_step(state, step, on, rules=rules, disputed=disputed, repair=repair)
        doc_no: str | None = None
        deadline: date | None = None
        text: str | None = None
        used = events["doc_no"].to_list()
        if step == "notice":
            doc_no = next_doc_no(used, rules.listing.notice_prefix, on.year)
            deadline = _working_days_after(on, rules.listing.statement_working_days)
            text = notice_text(case, doc_no, on, deadline, rules)
        elif step == "decision":
            doc_no = next_doc_no(used, rules.listing.decision_prefix, on.year)
            deadline = listed_until(on, rules)
            statement = events.filter(
                (pl.col("case_id") == case_id) & (pl.col("step") == "statement")
            )["detail"].to_list()
            text = decision_text(case, doc_no, on, deadline, statement[-1] if statement else None,
                                 rules)  # fmt: skip
        document = None
        if text is not None and doc_no is not None:
            document = warehouse.reports / DOCUMENTS / case_id / f"{doc_no}.txt"
            document.parent.mkdir(parents=True, exist_ok=True)
            document.write_text(text + "\n", encoding="utf-8")
        relative = str(document.relative_to(warehouse.reports)) if document else None
        _append(con, case_id, step, on, doc_no, deadline, detail, relative, actor)
        bump_generation(con)
    result = Step(case_id, step, on, doc_no, deadline, document)
    _audit(warehouse, result, {"detail": detail, "repair": repair}, actor)
    return result


def _working_days_after(day: date, n: int) -> date:
    calendar = working_day_calendar(day, day + timedelta(days=3 * n + 60))
    frame = add_working_days(pl.DataFrame({"day": [day]}), "day", n, "due", calendar)
    due = frame["due"][0]
    assert isinstance(due, date)  # the calendar covers it
    return due


def _append(
    con: duckdb.DuckDBPyConnection,
    case_id: str,
    step: str,
    on: date,
    doc_no: str | None,
    deadline: date | None,
    detail: str | None,
    document: str | None,
    actor: str,
) -> None:
    [(seq,)] = con.execute(
        "SELECT coalesce(max(seq), 0) + 1 FROM listing_events WHERE case_id = ?", [case_id]
    ).fetchall()
    row = {
        "case_id": case_id, "seq": seq, "step": step, "step_on": on, "doc_no": doc_no,
        "deadline": deadline, "detail": detail, "document": document, "actor": actor,
        "recorded_at": utc_now(),
    }  # fmt: skip
    schema = schema_of("listing_events")
    insert(con, "listing_events", pl.DataFrame([row], schema=schema), schema)


def _audit(warehouse: WarehouseLocation, step: Step, extra: dict[str, object], actor: str) -> None:
    audit.append(
        warehouse.audit_log,
        "listing",
        {
            "case_id": step.case_id,
            "step": step.step,
            "on": str(step.on),
            "doc_no": step.doc_no,
            "deadline": str(step.deadline) if step.deadline else None,
            "document": str(step.document) if step.document else None,
            **extra,
        },
        actor=actor,
    )
