"""Deliberate acts on the record: withdraw a file, adopt rules, back up and restore.

What belongs here: the commands that change official state outside a run — each validated
before it touches anything (exit 2, one line in Chinese and English), carried out in one
transaction on the live warehouse that also bumps its generation (so a run that started
before the act refuses to publish over it), and recorded in the audit log with the acting
user. What does not: what the acts mean for scores (models), how they are stored
(warehouse.archive, warehouse.backup).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from models.rules import RuleSetError, load_rule_set
from pipelines.cli.options import WarehouseOpt, existing_warehouse, parse_day, refuse
from warehouse import audit
from warehouse.archive import (
    ArchiveError,
    FileEvent,
    record_event,
    resolve_received,
)
from warehouse.backup import BackupError, record_folders
from warehouse.backup import backup as store_backup
from warehouse.backup import restore as put_back
from warehouse.connection import Warehouse, processing_date, utc_now
from warehouse.credit import adopt_rule_set, official_rules
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
    wh = existing_warehouse(warehouse)
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
                    recorded_at=utc_now(),
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


rules_app = typer.Typer(
    help="评价标准 — the official rule sets: which apply from when.", no_args_is_help=True
)


@rules_app.command("adopt")
def adopt(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The rule set YAML to adopt")],
    from_: Annotated[
        str,
        typer.Option("--from", metavar="YYYY-MM-DD", help="First as-of date it scores"),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why it is adopted (e.g. 文号)")],
    warehouse: WarehouseOpt = None,
) -> None:
    """Make a rule set official from a date: every as-of date from then on is scored with
    it by the next run; every date before keeps the rule set it was scored with."""
    day = parse_day(from_, "--from")
    assert day is not None  # a required option
    if not file.is_file():
        refuse("FILE", f"{file} 不存在", f"{file} does not exist")
    if not reason.strip():
        refuse("--reason", "请说明采用依据", "give the reason for the adoption")
    wh = existing_warehouse(warehouse)
    upgrade(wh.live_file, wh.audit_log)
    try:
        rules = load_rule_set(file)
        with wh.transaction() as con:
            adopt_rule_set(con, rules, day, actor=audit.acting_user(), reason=reason.strip())
            bump_generation(con)
    except RuleSetError as exc:
        typer.echo(f"rule set: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    audit.append(
        wh.audit_log,
        "rule_adoption",
        {"rule_set_version": rules.version, "content_sha256": rules.content_sha256,
         "effective_from": str(day), "reason": reason.strip(), "file": str(file)},
    )  # fmt: skip
    typer.echo(
        f"评价标准 {rules.version}（{rules.content_sha256[:12]}…）自 {day} 起为正式标准；下次运行"
        f"按其重新评分 / rule set {rules.version} is official from {day}; the next run rescores "
        "from that date"
    )


@rules_app.command("list")
def list_official(warehouse: WarehouseOpt = None) -> None:
    """The official rule sets and the dates from which each applies."""
    wh = existing_warehouse(warehouse)
    with wh.connect(read_only=True) as con:
        official = official_rules(con)
    if not official.adopted:
        typer.echo("尚无正式评价标准 / no official rule set yet")
        return
    for start, rules in official.adopted:
        typer.echo(f"{start}  {rules.version:20s} {rules.content_sha256[:12]}…  {rules.title_zh}")


def backup(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="A new or empty folder")],
    warehouse: WarehouseOpt = None,
) -> None:
    """Write a consistent copy of the record — warehouse, archive of received files,
    published rounds, listing documents, firms' case attachments, audit log — with a
    manifest of hashes. Readers keep working."""
    wh = Warehouse(path=str(warehouse) if warehouse else None)
    try:
        report = store_backup(wh.live_file, record_folders(wh), wh.audit_log, folder)
    except BackupError as exc:
        refuse("DIR", str(exc).split(" / ")[0], str(exc).split(" / ")[-1])
    audit.append(
        wh.audit_log, "backup", {"folder": str(folder), "files": report.files,
                                 "generation": report.generation},
    )  # fmt: skip
    typer.echo(
        f"已备份 {report.files} 个文件（第 {report.generation} 版）→ {folder} / backed up "
        f"{report.files} files (generation {report.generation}) to {folder}"
    )


def restore(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="A folder `renfang backup` wrote")],
    warehouse: WarehouseOpt = None,
) -> None:
    """Bring a backup back after checking its manifest: warehouse and record folders. The
    audit log is kept and records the restore (nothing deletes from it)."""
    wh = Warehouse(path=str(warehouse) if warehouse else None)
    try:
        manifest = put_back(folder, wh.live_file, record_folders(wh))
    except BackupError as exc:
        refuse("DIR", str(exc).split(" / ")[0], str(exc).split(" / ")[-1])
    audit.append(
        wh.audit_log, "restore", {"folder": str(folder), "created_at": manifest["created_at"],
                                  "generation": manifest["generation"]},
    )  # fmt: skip
    typer.echo(f"已从 {folder} 恢复 / restored from {folder} ({manifest['created_at']})")
