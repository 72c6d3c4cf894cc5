"""Options shared by several `renfang` commands (one spelling, one help text each)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from warehouse.connection import DEFAULT_LANDING, DEFAULT_WAREHOUSE, PROJECT_ROOT

LandingOpt = Annotated[
    Path | None,
    typer.Option(
        "--landing",
        help=f"Landing folder, one sub-folder per source [env RENFANG_LANDING; default "
        f"{DEFAULT_LANDING.relative_to(PROJECT_ROOT)}]",
    ),
]
RulesOpt = Annotated[
    str | None,
    typer.Option("--rules", help="Rule set YAML [env RENFANG_RULES; default the packaged one]"),
]
WarehouseOpt = Annotated[
    Path | None,
    typer.Option(
        "--warehouse",
        help=f"DuckDB warehouse file [env RENFANG_WAREHOUSE; default "
        f"{DEFAULT_WAREHOUSE.relative_to(PROJECT_ROOT)}]",
    ),
]
