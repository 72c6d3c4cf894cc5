"""`renfang report` and `renfang verify-report`: a firm's credit report, and checking one.

What belongs here: the two commands' options, checked before anything is read or written
(a USCC that fails GB 32100-2015, a date that is not one, an output path that is not a new
`.pdf` file outside a symlink or folder, a missing CJK font: exit 2, one line in Chinese
then English, no traceback), and their messages. What does not: the report's facts
(`models.credit_report`), the file (`warehouse.report_pdf`), the check
(`warehouse.credit_report`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from stdnum.cn import uscc as stdnum_uscc

from pipelines.cli.export import AsOfOpt
from pipelines.cli.options import WarehouseOpt, existing_warehouse, refuse, refuse_invalid


def check_uscc(value: str) -> str:
    """A USCC option: normalised (upper case, no spaces), checked with its check character."""
    code = "".join(value.split()).upper()
    if not stdnum_uscc.is_valid(code):
        refuse("--uscc", f"“{value}”不是有效的统一社会信用代码",
               f"{value!r} is not a valid unified social credit code")  # fmt: skip
    return code


def _require_font() -> None:
    """Refuse (exit 2) before anything runs when the report's CJK font is missing."""
    from warehouse.report_pdf import ReportFontMissingError, register_font

    try:
        register_font()
    except ReportFontMissingError as exc:
        zh, _, en = str(exc).partition("\n")
        typer.echo(f"{zh} / {en}", err=True)
        raise typer.Exit(code=2) from exc


def report(
    uscc: Annotated[str, typer.Option("--uscc", help="The firm's 统一社会信用代码.")],
    out: Annotated[
        Path,
        typer.Option("--out", metavar="FILE", help="The PDF file to write, e.g. 信用报告.pdf."),
    ],
    as_of: AsOfOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """The firm's credit report (信用报告) as an A4 PDF with its verification code."""
    from warehouse import audit
    from warehouse.credit_report import ReportError, write_report
    from warehouse.paths import PathOutsideRootError, output_file

    code = check_uscc(uscc)
    try:  # checked before the warehouse is opened
        target = output_file(out, ".pdf")
    except PathOutsideRootError as exc:
        refuse_invalid(exc, "--out")
    _require_font()
    wh = existing_warehouse(warehouse)
    try:
        facts, written = write_report(
            wh, code, date.fromisoformat(as_of) if as_of else None, target,
            actor=audit.acting_user(),
        )  # fmt: skip
    except ReportError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    from models.credit_report import verification_code

    typer.echo(
        f"信用报告 / credit report: {facts['uscc']} {facts['name']}  评价日期 / as of "
        f"{facts['as_of']}  得分 / score {facts['score']}  等级 / tier {facts['tier']} "
        f"{facts['risk_class']}\n  → {written}\n  核验码 / verification code: "
        f"{verification_code(facts)}"
    )


def verify_report(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="A credit report PDF written by renfang.")
    ],
    warehouse: WarehouseOpt = None,
) -> None:
    """Check a credit report against the warehouse: VERIFIED (exit 0) or each problem (exit 1)."""
    from warehouse.credit_report import verify_report as check

    if not file.is_file():
        refuse("FILE", f"{file} 不存在或不是文件", f"{file} does not exist or is not a file")
    _require_font()
    wh = existing_warehouse(warehouse)
    result = check(wh, file.read_bytes())
    if result.ok:
        typer.echo(
            f"核验通过 / VERIFIED: {result.uscc} 评价日期 / as of {result.as_of}\n"
            f"  核验码 / verification code: {result.code}"
        )
        return
    typer.echo(
        f"核验未通过 / NOT VERIFIED: {file}" + (f" ({result.uscc}, {result.as_of})"
                                                 if result.uscc else ""),
        err=True,
    )  # fmt: skip
    for zh, en in result.problems:
        typer.echo(f"  - {zh} / {en}", err=True)
    raise typer.Exit(code=1)
