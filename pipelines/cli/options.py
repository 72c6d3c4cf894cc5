"""Options shared by several `renfang` commands (one spelling, one help text each), and the
checks that refuse a bad value before anything runs (exit code 2, no traceback)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError

from models.identifiers import UnsafeNameError, check_safe_name
from warehouse.connection import DEFAULT_LANDING, DEFAULT_WAREHOUSE, PROJECT_ROOT, Warehouse


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


def refuse(option: str, zh: str, en: str) -> NoReturn:
    """Stop before anything runs: one line, Chinese then English, naming the option; exit 2."""
    typer.echo(f"{option}：{zh} / {option}: {en}", err=True)
    raise typer.Exit(code=2)


def existing_warehouse(path: object) -> Warehouse:
    """The warehouse named by `--warehouse` (or the environment / default), refused when it
    does not exist yet: every command but `renfang run` works on one a run has made."""
    wh = Warehouse(path=str(path) if path else None)
    if not wh.live_file.exists():
        refuse("--warehouse", f"{wh.live_file} 不存在，请先运行 renfang run",
               f"{wh.live_file} does not exist: run `renfang run` first")  # fmt: skip
    return wh


def parse_day(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value as a date (None stays None); anything else is refused."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        refuse(
            option, f"“{value}”不是有效日期，应为 YYYY-MM-DD", f"{value!r} is not a date YYYY-MM-DD"
        )


def check_landing(folder: Path) -> None:
    """Refuse a landing folder that does not exist, is not a folder, or holds no source folder."""
    from models.contracts import SOURCE_ORDER

    if not folder.exists():
        refuse("--landing", f"目录 {folder} 不存在", f"folder {folder} does not exist")
    if not folder.is_dir():
        refuse("--landing", f"{folder} 不是目录", f"{folder} is not a folder")
    if not any((folder / name).is_dir() for name in SOURCE_ORDER):
        refuse(
            "--landing",
            f"{folder} 中没有任何数据来源子目录（如 firms/、penalty_decisions/）",
            f"{folder} holds none of the source folders (firms/, penalty_decisions/, …)",
        )


def check_name(value: str, option: str) -> str:
    """A name that becomes a file or table key (scenarios, …): the one safe-name rule of
    `models.identifiers`, refused here before anything runs."""
    try:
        return check_safe_name(value)
    except UnsafeNameError as exc:
        refuse_invalid(exc, option)


def refuse_invalid(exc: ValidationError | ValueError, option: str) -> NoReturn:
    """`refuse` with a validation error whose messages are `中文\nEnglish` (as
    `models.identifiers` and `warehouse.paths` write them)."""
    messages = (
        [str(e["ctx"]["error"]) if "error" in e.get("ctx", {}) else e["msg"] for e in exc.errors()]
        if isinstance(exc, ValidationError)
        else [str(exc)]
    )
    zh, _, en = messages[0].partition("\n")
    refuse(option, zh, en or zh)
