"""`renfang export tier-list|disclosure --as-of DATE --out PATH`: the published files on demand.

What belongs here: the export sub-commands' arguments and messages. They run the same
`warehouse.publication` code as the Dagster assets, for any stored scoring date. What does
not: the files' content (models.publication) or their SQL (warehouse.publication).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.help import CONTEXT, Command, Group
from pipelines.cli.options import RulesOpt, WarehouseOpt, refuse_invalid, valid_date

export_app = typer.Typer(
    help="导出 — the association's tier list (XLSX) and the public disclosure feed (CSV).",
    no_args_is_help=True,
    rich_markup_mode=None,
    cls=Group,
    context_settings=CONTEXT,
)

AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="YYYY-MM-DD",
        callback=valid_date,
        help="A scoring date stored in the warehouse (default: the latest scores).",
    ),
]


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not a date YYYY-MM-DD", param_hint="--as-of"
        ) from exc


def _publish(
    as_of: str | None, warehouse: Path | None, rules_file: str | None, write, what: str, out: Path
):
    """Resolve the as-of date and run `write(con, rules, labels, day)` on a read-only
    connection; a publication error (e.g. no scores stored for the date) exits with code 2.
    Every export is recorded in the audit log (what, as of when, where)."""
    from models.labels import default_labels
    from pipelines.resources import Rules, Warehouse
    from warehouse import audit
    from warehouse.publication import PublicationError, resolve_as_of

    wh = Warehouse(path=str(warehouse) if warehouse else None)
    _require(wh.file)
    try:
        with wh.connect(read_only=True) as con:
            day = resolve_as_of(con, _as_of(as_of))
            named = Rules(path=rules_file)
            rules = named.load() if named.explicit else None
            written = write(con, rules, default_labels(), day)
    except PublicationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    audit.append(wh.audit_log, "export", {"what": what, "as_of": str(day), "out": str(out)})
    return day, written


@export_app.command(
    "tier-list", cls=Command, short_help="The association's tier list as an XLSX workbook."
)
def tier_list(
    out: Annotated[
        Path,
        typer.Option(
            "--out", metavar="FILE", help="The XLSX file to write, e.g. 信用等级名单.xlsx."
        ),
    ],
    as_of: AsOfOpt = None,
    warehouse: WarehouseOpt = None,
    rules_file: RulesOpt = None,
) -> None:
    """The association's tier list: cover sheet + one sheet per firm type (Chinese headers)."""
    from warehouse.paths import PathOutsideRootError, output_file
    from warehouse.publication import write_tier_list

    try:  # checked before the warehouse is opened
        out = output_file(out, ".xlsx")
    except PathOutsideRootError as exc:
        refuse_invalid(exc, "--out")
    day, (path, firms) = _publish(
        as_of, warehouse, rules_file,
        lambda con, rules, labels, day: write_tier_list(con, rules, labels, day, out),
        "tier_list", out,
    )  # fmt: skip
    typer.echo(f"tier list as of {day}: {firms:,d} firms → {path}")


@export_app.command(
    "disclosure", cls=Command, short_help="The public disclosure feed as CSV files."
)
def disclosure(
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="The folder to write the CSV files into.")
    ],
    as_of: AsOfOpt = None,
    warehouse: WarehouseOpt = None,
    rules_file: RulesOpt = None,
) -> None:
    """The public feed: firms, tiers, rounds, results, legend, feed_info (public fields only)."""
    from warehouse.paths import PathOutsideRootError, output_folder
    from warehouse.publication import write_disclosure

    try:  # a folder that is empty, new, or holds an earlier feed: nothing else is overwritten
        out = output_folder(out, "feed_info.csv")
    except PathOutsideRootError as exc:
        refuse_invalid(exc, "--out")
    day, rows = _publish(
        as_of, warehouse, rules_file,
        lambda con, rules, labels, day: write_disclosure(
            con, rules, labels, day, out, datetime.now(UTC)
        ),
        "disclosure", out,
    )  # fmt: skip
    files = ", ".join(f"{name}.csv ({n:,d})" for name, n in rows.items())
    typer.echo(f"disclosure feed as of {day} → {out}: {files}")


@export_app.command(
    "penalty-feed",
    cls=Command,
    short_help="The penalty feed (行政处罚信息公示) as of a date, as CSV.",
)
def penalty_feed(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date YYYY-MM-DD [the processing date]")
    ] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """行政处罚信息公示 as of a date: every penalty decision's feed state, late publications
    and late withdrawals flagged (the centre's report; the public file is in `disclosure`)."""
    from pipelines.resources import Warehouse
    from warehouse import audit
    from warehouse.connection import processing_date
    from warehouse.publication import write_penalty_feed

    day = _as_of(as_of) or processing_date()
    wh = Warehouse(path=str(warehouse) if warehouse else None)
    _require(wh.file)
    with wh.connect(read_only=True) as con:
        counts = write_penalty_feed(con, day, out)
    audit.append(wh.audit_log, "export", {"what": "penalty_feed", "as_of": str(day),
                                          "out": str(out)})  # fmt: skip
    shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    typer.echo(f"penalty feed as of {day} → {out}: {shown}")


def _require(path: Path) -> None:
    if not path.exists():
        typer.echo(f"no warehouse at {path}: run `renfang run` first", err=True)
        raise typer.Exit(code=2)
