"""Options shared by several `renfang` commands (one spelling, one help text each), and the
checks that refuse a bad value before anything runs (exit code 2, no traceback)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from warehouse.connection import DEFAULT_LANDING, DEFAULT_WAREHOUSE, PROJECT_ROOT


def valid_date(value: str | None) -> str | None:
    """A YYYY-MM-DD option, checked when the command line is read."""
    if value is None:
        return None
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} 不是日期 YYYY-MM-DD / is not a date YYYY-MM-DD"
        ) from exc
    return value


LandingOpt = Annotated[
    Path | None,
    typer.Option(
        "--landing",
        metavar="DIR",
        help="The landing folder, one sub-folder per source (env RENFANG_LANDING; default "
        f"{DEFAULT_LANDING.relative_to(PROJECT_ROOT)}).",
    ),
]
RulesOpt = Annotated[
    str | None,
    typer.Option(
        "--rules",
        metavar="FILE",
        help="The rule set YAML (env RENFANG_RULES; default the packaged rule set).",
    ),
]
WarehouseOpt = Annotated[
    Path | None,
    typer.Option(
        "--warehouse",
        metavar="FILE",
        help="The DuckDB warehouse file (env RENFANG_WAREHOUSE; default "
        f"{DEFAULT_WAREHOUSE.relative_to(PROJECT_ROOT)}).",
    ),
]
TodayOpt = Annotated[
    str | None,
    typer.Option(
        "--today",
        metavar="YYYY-MM-DD",
        callback=valid_date,
        help="The processing date: nothing after it is accepted (env RENFANG_TODAY; default "
        "today).",
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Print no progress while the run works; the summary is still printed.",
    ),
]
