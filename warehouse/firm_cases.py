"""The record of cases firms file online and the centre's decisions on them.

What belongs here: storing a firm's filing (`firm_cases`, with its filing time), its
attached files (bytes under `case_files/` beside the archive, each under a generated name;
`firm_case_files` keeps the name the firm gave), and the centre's decision
(`firm_case_decisions`) — each one transaction on the live warehouse that bumps its
generation, plus an audit-log entry — and reading them back: the centre's queue, one
firm's cases, an attachment of a case, and the online cases as `credit_cases` rows (which
the run's clean `credit_cases` asset merges in, so a decision flows into scores as a landing
file's case does, from its effective date).

These tables hold facts no run can re-derive: runs copy them with the live file and never
write them; `warehouse.migrations` carries them. Every reader that serves a firm takes the
signed-in firm's USCC and filters by it here, on the server.

What does not: the rules of a filing or a decision (`models.firm_cases`), pages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from models.firm_cases import (
    DECISION_SCHEMA,
    FILE_SCHEMA,
    FILING_SCHEMA,
    ONLINE_SOURCE,
    FilingError,
    as_credit_cases,
    check_attachments,
    check_filing,
    decision_of,
    merge_cases,
    next_case_id,
)
from warehouse import audit
from warehouse.archive import archive_root
from warehouse.connection import WarehouseLocation, query, table_exists, utc_now
from warehouse.gate_state import mark_unvalidated
from warehouse.paths import confined
from warehouse.staging import bump_generation
from warehouse.tables import ensure_tables, insert

TABLES = ("firm_cases", "firm_case_files", "firm_case_decisions")
FILES_FOLDER = "case_files"


def case_files_root(warehouse: WarehouseLocation) -> Path:
    """`case_files/` beside the archive (the archive's sibling)."""
    return archive_root(warehouse).parent / FILES_FOLDER


def _read(
    con: duckdb.DuckDBPyConnection,
    name: str,
    schema: pl.Schema,
    sql: str = "",
    params: list[object] | None = None,
) -> pl.DataFrame:
    if not table_exists(con, name):
        return pl.DataFrame(schema=schema)
    return query(con, f'SELECT * FROM "{name}" {sql}', params).cast(schema)


def read_filings(con: duckdb.DuckDBPyConnection, uscc: str | None = None) -> pl.DataFrame:
    """Every online filing (one firm's only, with `uscc`)."""
    if uscc is None:
        return _read(con, "firm_cases", FILING_SCHEMA, "ORDER BY case_id")
    return _read(con, "firm_cases", FILING_SCHEMA, "WHERE uscc = ? ORDER BY case_id", [uscc])


def _of_firm(
    con: duckdb.DuckDBPyConnection, name: str, schema: pl.Schema, uscc: str | None, order: str
) -> pl.DataFrame:
    """A table of rows keyed by case id: all of them, or (with `uscc`) those of that firm's
    own cases only."""
    if uscc is None:
        return _read(con, name, schema, f"ORDER BY {order}")
    if not table_exists(con, "firm_cases"):
        return pl.DataFrame(schema=schema)
    where = "WHERE case_id IN (SELECT case_id FROM firm_cases WHERE uscc = ?)"
    return _read(con, name, schema, f"{where} ORDER BY {order}", [uscc])


def read_decisions(con: duckdb.DuckDBPyConnection, uscc: str | None = None) -> pl.DataFrame:
    return _of_firm(con, "firm_case_decisions", DECISION_SCHEMA, uscc, "decided_at")


def read_files(con: duckdb.DuckDBPyConnection, uscc: str | None = None) -> pl.DataFrame:
    return _of_firm(con, "firm_case_files", FILE_SCHEMA, uscc, "case_id, seq")


def online_credit_cases(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The online cases as clean `credit_cases` rows (merged into the table by each run)."""
    return as_credit_cases(read_filings(con), read_decisions(con))


def merge_online_cases(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Bring the online cases' rows of the clean `credit_cases` up to date (inside the
    caller's transaction, after the landing files' rows were cleaned): a landing row with the
    same case number wins, being the centre's own record of it. Returns the firms whose
    online rows changed, so an incremental run derives them again (`merge_cases` is the
    rule; this applies it to the stored table, rewriting only what differs); the changed
    cases are marked for the quality gate."""
    current = query(con, "SELECT * FROM credit_cases")
    landing = current.filter(pl.col("source_file").ne_missing(ONLINE_SOURCE))
    before = current.filter(pl.col("source_file").eq_missing(ONLINE_SOURCE))
    after = merge_cases(landing, online_credit_cases(con)).filter(
        pl.col("source_file").eq_missing(ONLINE_SOURCE)
    )
    if before.sort("case_id").equals(after.sort("case_id")):
        return set()
    con.execute("DELETE FROM credit_cases WHERE source_file = ?", [ONLINE_SOURCE])
    if not after.is_empty():
        insert(con, "credit_cases", after, current.schema)
    changed = pl.concat([before, after]).unique(keep="none")
    mark_unvalidated(con, "credit_cases", changed.select("case_id"))  # the contract's key
    return set(changed["uscc"].drop_nulls().to_list())


def own_records(con: duckdb.DuckDBPyConnection, uscc: str) -> list[str]:
    """The document numbers of the firm's records (what it may object to or ask to repair)."""
    if not table_exists(con, "credit_records"):
        return []
    rows = con.execute(
        "SELECT DISTINCT evidence_doc_no FROM credit_records WHERE uscc = ? ORDER BY 1", [uscc]
    ).fetchall()
    return [str(r[0]) for r in rows]


def open_cases_of(con: duckdb.DuckDBPyConnection, uscc: str, day: date) -> pl.DataFrame:
    """The firm's objections and repairs open at the end of `day`: filed by then and not
    decided by then (landing cases and online ones, each once)."""
    landing = (
        query(
            con,
            "SELECT case_id, kind, record_doc_no, filed_on, decided_on FROM credit_cases "
            "WHERE uscc = ?",
            [uscc],
        )
        if table_exists(con, "credit_cases")
        else pl.DataFrame(
            schema={
                "case_id": pl.Utf8,
                "kind": pl.Utf8,
                "record_doc_no": pl.Utf8,
                "filed_on": pl.Date,
                "decided_on": pl.Date,
            }
        )
    )
    online = online_credit_cases(con).filter(pl.col("uscc") == uscc)
    online = online.filter(~pl.col("case_id").is_in(landing["case_id"].implode()))
    both = pl.concat([landing, online.select(landing.columns).cast(landing.schema)])
    return both.filter(
        (pl.col("filed_on") <= day)
        & (pl.col("decided_on").is_null() | (pl.col("decided_on") > day))
    ).select("case_id", "kind", "record_doc_no", "filed_on")


def file_case(
    warehouse: WarehouseLocation,
    *,
    uscc: str,
    kind: str,
    record_doc_no: str,
    reason: str,
    materials: Sequence[str],
    attachments: Sequence[tuple[str, bytes]],
    actor: str,
    now: datetime | None = None,
) -> str:
    """Record a firm's filing (status 已提交) with its attached files; returns its case id."""
    at = now or utc_now()
    suffixes = check_attachments(attachments)
    root = case_files_root(warehouse)
    with warehouse.transaction() as con:
        ensure_tables(con, TABLES)
        text, listed = check_filing(kind, record_doc_no, reason, materials, own_records(con, uscc))
        existing = [str(r[0]) for r in con.execute("SELECT case_id FROM firm_cases").fetchall()]
        case_id = next_case_id(existing, at.year)
        files = []
        for seq, ((name, data), suffix) in enumerate(zip(attachments, suffixes, strict=True), 1):
            digest = hashlib.sha256(data).hexdigest()
            stored = f"{seq:02d}-{digest[:16]}{suffix}"  # generated: nothing of the firm's name
            target = confined(root, case_id, stored)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            files.append(
                {
                    "case_id": case_id,
                    "seq": seq,
                    "original_name": name[:200],
                    "stored_name": stored,
                    "size_bytes": len(data),
                    "sha256": digest,
                }
            )
        row = {
            "case_id": case_id,
            "uscc": uscc,
            "kind": kind,
            "record_doc_no": record_doc_no,
            "reason": text,
            "materials": listed,
            "filed_at": at,
            "filed_on": at.date(),
            "filed_by": actor,
        }
        insert(con, "firm_cases", pl.DataFrame([row], schema=FILING_SCHEMA), FILING_SCHEMA)
        insert(con, "firm_case_files", pl.DataFrame(files, schema=FILE_SCHEMA), FILE_SCHEMA)
        bump_generation(con)
    audit.append(
        warehouse.audit_log,
        "firm_case",
        {
            "step": "filed",
            "case_id": case_id,
            "uscc": uscc,
            "kind": kind,
            "record_doc_no": record_doc_no,
            "filed_at": at.isoformat(timespec="seconds"),
            "files": [f["stored_name"] for f in files],
        },
        actor=actor,
    )
    return case_id


def decide_case(
    warehouse: WarehouseLocation,
    *,
    case_id: str,
    outcome: str,
    text: str,
    effective_on: date,
    actor: str,
    now: datetime | None = None,
) -> str:
    """Record the centre's decision on an online case; returns the `credit_cases` decision."""
    at = now or utc_now()
    with warehouse.transaction() as con:
        ensure_tables(con, TABLES)
        found = read_filings(con).filter(pl.col("case_id") == case_id)
        if found.is_empty():
            raise FilingError(f"无此案件 {case_id} / no online case {case_id}")
        case = found.row(0, named=True)
        if not read_decisions(con).filter(pl.col("case_id") == case_id).is_empty():
            raise FilingError(f"案件 {case_id} 已办结 / case {case_id} is already decided")
        if effective_on < case["filed_on"]:
            raise FilingError(
                f"生效日期不能早于申请日期 {case['filed_on']} / the decision cannot take effect "
                f"before the filing day {case['filed_on']}"
            )
        decision, cleaned = decision_of(case["kind"], outcome, text)
        row = {
            "case_id": case_id,
            "outcome": outcome,
            "decision": decision,
            "decision_text": cleaned,
            "effective_on": effective_on,
            "decided_at": at,
            "decided_by": actor,
        }
        insert(
            con, "firm_case_decisions", pl.DataFrame([row], schema=DECISION_SCHEMA), DECISION_SCHEMA
        )
        bump_generation(con)
    audit.append(
        warehouse.audit_log,
        "firm_case",
        {
            "step": "decided",
            "case_id": case_id,
            "uscc": case["uscc"],
            "outcome": outcome,
            "decision": decision,
            "effective_on": str(effective_on),
        },
        actor=actor,
    )
    return decision


def attachment(
    warehouse: WarehouseLocation, case_id: str, seq: int, uscc: str | None
) -> tuple[str, bytes]:
    """(the name the firm gave, the bytes) of one attached file. With `uscc` (a firm signed
    in) only a file of that firm's own case is served; anything else is refused."""
    with warehouse.connect(read_only=True) as con:
        files = read_files(con, uscc).filter(
            (pl.col("case_id") == case_id) & (pl.col("seq") == seq)
        )
    if files.is_empty():
        raise FilingError(f"无此附件 {case_id}/{seq} / no attachment {case_id}/{seq}")
    row = files.row(0, named=True)
    path = confined(case_files_root(warehouse), row["case_id"], row["stored_name"])
    return row["original_name"], path.read_bytes()
