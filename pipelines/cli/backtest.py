"""`renfang backtest`: does a risk score predict the next inspection's findings? From files.

What belongs here: the command's options and its short flow — read the files
(`warehouse.backtest_inputs`), run `models.risk.backtest.run_backtest`, write and print the report
(`warehouse.risk_report`). Registered in `pipelines.cli`. What does not: any figure.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

HELP = (
    "Point-in-time backtest from an inspection-outcome file: train on what was known by the "
    "cut-off, predict whether each entity's next inspection within the horizon finds a "
    "problem, and report AUC (overall and within inspector), calibration, top-k lift, "
    "failure rate by tier, tier-driven vs uniform draws, schedule reordering and baselines."
)


def backtest(
    inspections: Annotated[
        list[Path] | None,
        typer.Option(
            "--inspections",
            help="Inspection-outcome CSV (generic columns, see --id-col …) or the project's "
            "inspection_outcomes export (CSV/XLSX, Chinese headers); a folder = every file in "
            "it; repeatable",
        ),
    ] = None,
    cutoff: Annotated[
        str | None,
        typer.Option(
            "--cutoff",
            help="Cut-off date YYYY-MM-DD [with --landing: one horizon before the data end, "
            "as the model assets do]",
        ),
    ] = None,
    landing: Annotated[
        Path | None,
        typer.Option(
            "--landing",
            help="A whole landing folder (one sub-folder per source): read and scored exactly "
            "as `renfang run` does, objections and repairs included (instead of --inspections, "
            "--firms, --penalties)",
        ),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option(help="With --landing: the processing date YYYY-MM-DD [env RENFANG_TODAY]"),
    ] = None,
    horizon: Annotated[
        int | None, typer.Option("--horizon", help="Label horizon in days [default 365]")
    ] = None,
    firms: Annotated[
        list[Path] | None,
        typer.Option(
            "--firms",
            help="Entity file: id, opening date, other columns categorical; or the project's "
            "firm directory (CSV/XLSX); a folder = every file in it; repeatable",
        ),
    ] = None,
    penalties: Annotated[
        list[Path] | None,
        typer.Option(
            "--penalties",
            help="Penalty decisions (the project's format; a folder = every file in it; "
            "repeatable): adds credit records, point-in-time credit scores and tiers",
        ),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Report folder (JSON, summary, PNG)")] = Path(
        "backtest_report"
    ),
    id_col: Annotated[str, typer.Option(help="Entity id column")] = "entity_id",
    date_col: Annotated[str, typer.Option(help="Inspection date column")] = "inspected_on",
    problem_col: Annotated[
        str, typer.Option(help="Problem-found flag column (1/0, true/false, 是/否)")
    ] = "problem",
    score_col: Annotated[
        str | None, typer.Option(help="Inspection score column (instead of a flag)")
    ] = None,
    problem_below: Annotated[
        float | None, typer.Option(help="With --score-col: a score below this is a problem")
    ] = None,
    inspector_col: Annotated[
        str, typer.Option(help="Inspector id column (optional in the file)")
    ] = "inspector_id",
    where: Annotated[
        list[str] | None,
        typer.Option(help="Keep only rows with COLUMN=VALUE (repeatable)"),
    ] = None,
    firm_id_col: Annotated[str, typer.Option(help="Entity id column of --firms")] = "entity_id",
    opened_col: Annotated[str, typer.Option(help="Opening-date column of --firms")] = "opened_on",
    rules_file: Annotated[
        str | None, typer.Option("--rules", help="Rule set YAML for --penalties")
    ] = None,
) -> None:
    from models.contracts import default_contracts
    from models.risk.backtest import run_backtest
    from models.risk.config import default_risk_config
    from models.risk.model import TrainingDataError
    from models.rules import load_rule_set
    from models.sampling.params import default_round_params
    from pipelines.cli.options import refuse_invalid
    from warehouse.backtest_inputs import (
        BacktestInputError,
        FirmColumns,
        InspectionColumns,
        history_from_landing,
        read_history,
    )
    from warehouse.landing import LandingFolder
    from warehouse.paths import PathOutsideRootError, output_folder
    from warehouse.risk_report import summary_text, write_report

    try:  # an earlier report's folder, an empty one or a new one: nothing else is overwritten
        out = output_folder(out, "backtest.json")
    except PathOutsideRootError as exc:
        refuse_invalid(exc, "--out")
    config = default_risk_config()
    days = horizon or config.horizon_days
    if (landing is None) == (not inspections):
        raise typer.BadParameter("give either --landing or --inspections (not both)")
    if landing is None and cutoff is None:
        raise typer.BadParameter("--cutoff is required with --inspections", param_hint="--cutoff")
    pairs = []
    for item in where or []:
        column, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--where {item!r}: expected COLUMN=VALUE")
        pairs.append((column, value))
    columns = InspectionColumns(
        entity=id_col,
        date=date_col,
        problem=problem_col,
        score=score_col,
        problem_below=problem_below,
        inspector=inspector_col,
        where=tuple(pairs),
    )
    try:
        rules = load_rule_set(rules_file)
        if landing is not None:
            folder = LandingFolder(path=str(landing), today=today)
            history = history_from_landing(folder, config, rules, default_contracts())
            day = (
                date.fromisoformat(cutoff)
                if cutoff
                else history.backtest_cutoff(folder.processing_date, days)
            )
        else:
            assert cutoff is not None and inspections
            day = date.fromisoformat(cutoff)
            history = read_history(
                inspections,
                firms=firms or [],
                penalties=penalties or [],
                inspection_columns=columns,
                firm_columns=FirmColumns(entity=firm_id_col, opened=opened_col),
                config=config,
                rules=rules,
                cutoff=day,
                horizon_days=days,
            )
        report = run_backtest(history, day, days, config, default_round_params().ratios)
    except (BacktestInputError, TrainingDataError, ValueError) as exc:
        typer.echo(f"backtest: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    written = write_report(report, out)
    typer.echo(summary_text(report))
    typer.echo(f"\nreport: {out}  ({', '.join(p.name for p in written)})")
