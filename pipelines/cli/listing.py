"""`renfang listing …` and `renfang objections`: the 严重失信 procedure and the objection clock.

What belongs here: one command per step of a listing case (propose, notice, statement,
decide, drop, publish, remove) and the lists the centre works from (`listing list`,
`objections`) — arguments validated before anything is written (exit 2, one line Chinese
then English), each step one transaction on the live warehouse plus an audit-log entry
(`warehouse.listing`). What does not: the procedure's rules (`models.listing`), storage.
"""

from __future__ import annotations

from typing import Annotated

import polars as pl
import typer

from models.listing import ListingError, case_overview
from models.objections import STATES_ZH, open_objections
from models.rules import RuleSetError
from pipelines.cli.help import CONTEXT, Command, Group
from pipelines.cli.options import WarehouseOpt, existing_warehouse, parse_day, refuse
from warehouse import audit
from warehouse.connection import processing_date, query, table_exists
from warehouse.credit import NotOfficialError, official_for
from warehouse.listing import propose as open_case
from warehouse.listing import read_cases, read_events, record_step
from warehouse.migrations import upgrade

listing_app = typer.Typer(
    help="严重失信主体名单 — the listing procedure: propose, notice (告知书), statement "
    "(陈述申辩), decision (决定书) or drop, publication, removal.",
    no_args_is_help=True,
    rich_markup_mode=None,
    cls=Group,
    context_settings=CONTEXT,
)

OnOpt = Annotated[
    str | None,
    typer.Option("--on", metavar="YYYY-MM-DD", help="Date of the step [the processing date]"),
]
CaseArg = Annotated[str, typer.Argument(metavar="CASE", help="Case id, e.g. SX2026-001")]


def _refused(exc: Exception) -> None:
    zh, _, en = str(exc).partition(" / ")
    typer.echo(f"{zh} / {en or zh}", err=True)
    raise typer.Exit(code=2) from exc


def _step(case_id: str, step: str, on: str | None, warehouse: object, detail: str | None,
          repair: bool = False) -> None:  # fmt: skip
    day = parse_day(on, "--on") or processing_date()
    wh = existing_warehouse(warehouse)
    upgrade(wh.live_file, wh.audit_log)
    try:
        rules = official_for(wh, day)
        done = record_step(
            wh, case_id=case_id, step=step, on=day, rules=rules, detail=detail,
            actor=audit.acting_user(), repair=repair,
        )  # fmt: skip
    except (ListingError, NotOfficialError, RuleSetError) as exc:
        _refused(exc)
    line = f"{case_id}: {step} {day}"
    if done.doc_no:
        line += f"  {done.doc_no}"
    if done.deadline:
        what = "陈述申辩期限 / statement due" if step == "notice" else "列入至 / listed until"
        line += f"  {what} {done.deadline}"
    if done.document:
        line += f"\n  → {done.document}"
    typer.echo(line)


@listing_app.command(
    "propose",
    cls=Command,
    short_help="Open a listing case, from a veto condition or by the centre.",
)
def propose(
    uscc: Annotated[str, typer.Option("--uscc", help="The firm's 统一社会信用代码")],
    grounds: Annotated[
        str | None,
        typer.Option(
            "--grounds",
            help="The grounds in words (by the centre); without it the case rests on the "
            "veto condition the firm meets on the date",
        ),
    ] = None,
    evidence: Annotated[
        list[str] | None,
        typer.Option("--evidence", help="An evidence document number (repeatable)"),
    ] = None,
    on: OnOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Open a listing case, from a veto condition or by the centre."""
    day = parse_day(on, "--on") or processing_date()
    code = uscc.strip().upper()
    if grounds is not None and not grounds.strip():
        refuse("--grounds", "请写明立案依据", "state the grounds")
    if grounds is not None and not evidence:
        refuse("--evidence", "由监管中心立案须列明依据文书", "a case by the centre needs at "
               "least one evidence document number")  # fmt: skip
    wh = existing_warehouse(warehouse)
    upgrade(wh.live_file, wh.audit_log)
    try:
        rules = official_for(wh, day)
        done = open_case(
            wh, uscc=code, on=day, rules=rules, grounds=grounds.strip() if grounds else None,
            evidence=[e.strip() for e in evidence or [] if e.strip()],
            actor=audit.acting_user(),
        )  # fmt: skip
    except (ListingError, NotOfficialError, RuleSetError) as exc:
        _refused(exc)
    typer.echo(f"立案 / proposed: {done.case_id}  {code}  {day}")


@listing_app.command(
    "notice", cls=Command, short_help="Issue the numbered 告知书 with the 陈述申辩 deadline."
)
def notice(case: CaseArg, on: OnOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Issue the 告知书 (grounds, evidence, the 陈述申辩 deadline) as a numbered document."""
    _step(case, "notice", on, warehouse, None)


@listing_app.command(
    "statement", cls=Command, short_help="Record the firm's statement and defence (陈述申辩)."
)
def statement(
    case: CaseArg,
    text: Annotated[str, typer.Option("--text", help="What the firm stated (or 未提出)")],
    on: OnOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Record the firm's statement and defence (陈述申辩)."""
    if not text.strip():
        refuse("--text", "请记录陈述申辩内容（未提出的写“未提出”）",
               "record the statement (or 未提出 when none was made)")  # fmt: skip
    _step(case, "statement", on, warehouse, text.strip())


@listing_app.command("decide", cls=Command, short_help="Decide to list: issue the numbered 决定书.")
def decide(
    case: CaseArg,
    note: Annotated[str | None, typer.Option("--note", help="A note to the decision")] = None,
    on: OnOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Decide to list: issue the numbered 决定书 with the listing period."""
    _step(case, "decision", on, warehouse, note)


@listing_app.command("drop", cls=Command, short_help="Drop the case (no listing).")
def drop(
    case: CaseArg,
    reason: Annotated[str, typer.Option("--reason", help="Why the case is dropped")],
    on: OnOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Drop the case (no listing)."""
    if not reason.strip():
        refuse("--reason", "请说明撤销立案的理由", "give the reason")
    _step(case, "dropped", on, warehouse, reason.strip())


@listing_app.command(
    "publish", cls=Command, short_help="Publish a decided listing on the public list."
)
def publish(case: CaseArg, on: OnOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Publish a decided listing: from this day the firm is on the public list."""
    _step(case, "published", on, warehouse, None)


@listing_app.command(
    "remove", cls=Command, short_help="Remove a published listing (repair or another ground)."
)
def remove(
    case: CaseArg,
    reason: Annotated[str, typer.Option("--reason", help="Why it is removed")],
    repair: Annotated[
        bool, typer.Option("--repair", help="Removed on credit repair (信用修复)")
    ] = False,
    on: OnOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Remove a published listing (on repair, or another ground; expiry needs no step)."""
    if not reason.strip():
        refuse("--reason", "请说明移出理由", "give the reason")
    _step(case, "removed", on, warehouse, reason.strip(), repair=repair)


@listing_app.command(
    "list", cls=Command, short_help="The listing cases with state, next step and deadline."
)
def list_cases(
    on: OnOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Closed cases too")] = False,
    warehouse: WarehouseOpt = None,
) -> None:
    """The listing cases: state, next step and deadline (open ones first)."""
    day = parse_day(on, "--on") or processing_date()
    wh = existing_warehouse(warehouse)
    with wh.connect(read_only=True) as con:
        overview = case_overview(read_cases(con), read_events(con), day)
    if not all_:
        overview = overview.filter(~pl.col("state").is_in(["dropped", "removed"]))
    if overview.is_empty():
        typer.echo(f"{day} 无办理中的列入案件 / no open listing case on {day}")
        return
    for row in overview.iter_rows(named=True):
        deadline = f"  期限 / due {row['deadline']}" if row["deadline"] else ""
        late = "  已超期 / overdue" if row["overdue"] else ""
        typer.echo(
            f"{row['case_id']}  {row['uscc']}  {row['firm_name']}  {row['state_zh']} / "
            f"{row['state']}{deadline}{late}  下一步 / next: {row['next_step'] or '—'}"
        )


def objections(
    all_: Annotated[bool, typer.Option("--all", help="Decided objections too")] = False,
    warehouse: WarehouseOpt = None,
) -> None:
    """Objections (异议) with their decision deadlines: open and overdue ones first."""
    wh = existing_warehouse(warehouse)
    with wh.connect(read_only=True) as con:
        if not table_exists(con, "objection_deadlines"):
            typer.echo("尚无异议记录，请先运行 renfang run / no objections yet: run `renfang run`")
            return
        found = query(con, "SELECT * FROM objection_deadlines")
    shown = found if all_ else open_objections(found)
    if shown.is_empty():
        typer.echo("无办理中的异议 / no open objection")
        return
    for row in shown.iter_rows(named=True):
        over = f"，超期 {row['days_overdue']} 天" if row["days_overdue"] else ""
        typer.echo(
            f"{row['case_id']}  {row['uscc']}  {row['record_doc_no']}  申请 / filed "
            f"{row['filed_on']}  期限 / due {row['deadline']}  {STATES_ZH[row['state']]}{over} "
            f"/ {row['state']}"
        )
