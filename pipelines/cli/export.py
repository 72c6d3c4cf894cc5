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

from pipelines.cli.options import refuse_invalid

export_app = typer.Typer(
    help="导出 — the association's tier list (XLSX) and the public disclosure feed (CSV).",
    no_args_is_help=True,
)

AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Scoring date YYYY-MM-DD (stored in credit_scores) [latest]"),
]
WarehouseOpt = Annotated[
    Path | None, typer.Option("--warehouse", help="DuckDB warehouse [env RENFANG_WAREHOUSE]")
]
RulesOpt = Annotated[str | None, typer.Option("--rules", help="Rule set YAML [env RENFANG_RULES]")]


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not a date YYYY-MM-DD", param_hint="--as-of"
        ) from exc


def _publish(as_of: str | None, warehouse: Path | None, rules_file: str | None, write):
    """Resolve the as-of date and run `write(con, rules, labels, day)` on a read-only
    connection; a publication error (e.g. no scores stored for the date) exits with code 2."""
    from models.labels import default_labels
    from pipelines.resources import Rules, Warehouse
    from warehouse.publication import PublicationError, resolve_as_of

    wh = Warehouse(path=str(warehouse) if warehouse else None)
    _require(wh.file)
    try:
        with wh.connect(read_only=True) as con:
            day = resolve_as_of(con, _as_of(as_of))
            return day, write(con, Rules(path=rules_file).load(), default_labels(), day)
    except PublicationError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc


@export_app.command("tier-list")
def tier_list(
    out: Annotated[Path, typer.Option("--out", help="XLSX file to write")],
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
    )  # fmt: skip
    typer.echo(f"tier list as of {day}: {firms:,d} firms → {path}")


@export_app.command("disclosure")
def disclosure(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the CSV files into")],
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
    )  # fmt: skip
    files = ", ".join(f"{name}.csv ({n:,d})" for name, n in rows.items())
    typer.echo(f"disclosure feed as of {day} → {out}: {files}")


def _require(path: Path) -> None:
    if not path.exists():
        typer.echo(f"no warehouse at {path}: run `renfang run` first", err=True)
        raise typer.Exit(code=2)
