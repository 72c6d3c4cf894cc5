"""Deliberate acts on the record: `renfang withdraw`, `renfang backup`, `renfang restore`.

What belongs here: the commands that change official state outside a run — each validated
before it touches anything (exit 2, one line in Chinese and English), carried out in one
transaction on the live warehouse that also bumps its generation (so a run that started
before the act refuses to publish over it), and recorded in the audit log with the acting
user. What does not: what the acts mean for scores (models), how they are stored
(warehouse.archive, warehouse.backup).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from pipelines.cli.options import WarehouseOpt, parse_day, refuse
from warehouse import audit
from warehouse.archive import ArchiveError, FileEvent, record_event, resolve_received
from warehouse.connection import Warehouse, processing_date
from warehouse.migrations import upgrade
from warehouse.staging import bump_generation


def withdraw(
    target: Annotated[
        str,
        typer.Argument(
            metavar="FILE_OR_SHA256",
            help="A copy of the received file, or its SHA-256 (or a unique prefix of 8+ "
            "hexadecimal characters)",
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why the file is withdrawn")],
    on: Annotated[
        str | None,
        typer.Option(
            "--on",
            metavar="YYYY-MM-DD",
            help="The day from which its records no longer count [the processing date]",
        ),
    ] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Withdraw a received file: its records count for as-of dates before the withdrawal
    date, never after. Takes effect in scores with the next run."""
    day = parse_day(on, "--on") or processing_date()
    if not reason.strip():
        refuse("--reason", "请说明撤回原因", "give the reason for the withdrawal")
    wh = Warehouse(path=str(warehouse) if warehouse else None)
    if not wh.live_file.exists():
        refuse("--warehouse", f"{wh.live_file} 不存在", f"{wh.live_file} does not exist")
    upgrade(wh.live_file, wh.audit_log)
    try:
        with wh.transaction() as con:
            source, sha, file = resolve_received(con, target)
            record_event(
                con,
                FileEvent(
                    source=source,
                    sha256=sha,
                    event="withdrawn",
                    effective_on=day,
                    recorded_at=datetime.now(UTC).replace(tzinfo=None),
                    actor=audit.acting_user(),
                    reason=reason.strip(),
                    file=file,
                ),
            )
            bump_generation(con)
    except ArchiveError as exc:
        refuse("FILE_OR_SHA256", str(exc).split(" / ")[0], str(exc).split(" / ")[-1])
    audit.append(
        wh.audit_log,
        "withdrawal",
        {"source": source, "sha256": sha, "file": file, "effective_on": str(day), "reason": reason},
    )
    typer.echo(
        f"已撤回 {file}（{sha[:12]}…），自 {day} 起不再计入；下次运行生效 / withdrawn "
        f"{file} ({sha[:12]}…) from {day}; takes effect with the next run"
    )
