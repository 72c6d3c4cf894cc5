"""Options shared by several `renfang` commands (one spelling, one help text each)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError

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


def refuse(zh: str, en: str) -> NoReturn:
    """Stop before anything runs: exit code 2, the reason in Chinese, then in English."""
    typer.echo(zh, err=True)
    typer.echo(en, err=True)
    raise typer.Exit(code=2)


def refuse_invalid(exc: ValidationError | ValueError, option: str) -> NoReturn:
    """`refuse` with a validation error whose messages are `中文\nEnglish` (as
    `models.identifiers` and `warehouse.paths` write them), prefixed by the option."""
    messages = (
        [str(e["ctx"]["error"]) if "error" in e.get("ctx", {}) else e["msg"] for e in exc.errors()]
        if isinstance(exc, ValidationError)
        else [str(exc)]
    )
    zh, _, en = messages[0].partition("\n")
    refuse(f"{option}：{zh}", f"{option}: {en or zh}")
