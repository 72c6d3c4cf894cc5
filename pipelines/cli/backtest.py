"""`renfang backtest`: does a risk score predict the next inspection's findings? From files.

What belongs here: the command's options, their validation before anything runs (exit 2 with
a message, Chinese first, no traceback) and its short flow — read the files
(`warehouse.backtest_inputs`), run `models.risk.backtest.run_backtest`, write and print the
report (`warehouse.risk_report`). Registered in `pipelines.cli`. What does not: any figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from models.risk.config import RiskConfig
    from warehouse.backtest_inputs import Filter, FirmColumns, InspectionColumns

HELP = (
    "Point-in-time backtest from an inspection-outcome file: train on what was known by the "
    "cut-off, choose the model by a time-based validation (one-standard-error rule against "
    "the simple baselines), predict whether each entity's next inspection within the horizon "
    "(or every inspection, --unit inspection) finds a problem, and report both scores — firm "
    "risk and the outcome forecast (firm risk + the inspecting team's strictness) — beside "
    "every candidate and baseline: AUC overall and within inspector, bootstrap intervals "
    "against the history-only baseline, calibration, top-k lift, failure rate by tier, "
    "tier-driven vs uniform draws, schedule reordering. Writes backtest.json, summary.txt, "
    "scores.csv and PNG plots to --out."
)


class Unit(StrEnum):
    firm = "firm"
    inspection = "inspection"


def fail(message: str) -> NoReturn:
    typer.echo(f"backtest: {message}", err=True)
    raise typer.Exit(code=2)


def parse_filters(items: list[str] | None, option: str) -> tuple[Filter, ...]:
    """`COL=VALUE` or `COL!=VALUE`, each repeatable (all must hold)."""
    filters = []
    for item in items or []:
        negated = "!=" in item
        column, sep, value = item.partition("!=" if negated else "=")
        if not sep or not column.strip():
            fail(
                f"{option} {item!r}: 应为 列=值 或 列!=值 / expected COLUMN=VALUE or COLUMN!=VALUE"
            )
        filters.append((column.strip(), value, negated))
    return tuple(filters)


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r}: 日期格式应为 YYYY-MM-DD / expected a date YYYY-MM-DD")


def _settings(path: Path | None) -> RiskConfig:
    from models.risk.config import RiskConfigError, default_risk_config, parse_risk_config

    if path is None:
        return default_risk_config()
    if not path.is_file():
        fail(f"--settings {path}: 文件不存在 / no such file")
    try:
        return parse_risk_config(path.read_text(encoding="utf-8"))
    except (RiskConfigError, UnicodeDecodeError) as exc:
        fail(f"--settings {path}: {exc}")


@dataclass(frozen=True)
class OutcomeOptions:
    problem_col: str | None
    score_col: str | None
    problem_above: float | None
    problem_below: float | None
    problem_values: list[str] | None
    ok_values: list[str] | None

    def check(self) -> None:
        """The four outcome shapes, never two at once (exit 2 otherwise)."""
        if self.problem_col and self.score_col:
            fail("--problem-col 与 --score-col 只能给一个 / give --problem-col or --score-col")
        if self.problem_above is not None and self.problem_below is not None:
            fail(
                "--problem-above 与 --problem-below 只能给一个 / give --problem-above or "
                "--problem-below (the direction), not both"
            )
        threshold = self.problem_above is not None or self.problem_below is not None
        if self.problem_values and (threshold or self.score_col):
            fail(
                "--problem-values 用于结果文字列，不能与阈值或 --score-col 同用 / --problem-values "
                "reads a result text: not with a threshold or --score-col"
            )
        if self.ok_values and not self.problem_values:
            fail("--ok-values 需要 --problem-values / --ok-values needs --problem-values")
        if self.score_col and not threshold:
            fail(
                "--score-col 需要 --problem-below 或 --problem-above / --score-col needs "
                "--problem-below (a low score is a problem) or --problem-above"
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
        int | None,
        typer.Option(
            "--horizon",
            min=1,
            help="Label horizon in days [default: the settings' horizon_days, 365]; cut to the "
            "last date in the data, with a warning, if it runs past it",
        ),
    ] = None,
    unit: Annotated[
        Unit,
        typer.Option(
            "--unit",
            help="firm: each entity's first inspection in the window, firm state as of the "
            "cut-off; inspection: every inspection in the window, firm state as of the day "
            "before it",
        ),
    ] = Unit.firm,
    settings: Annotated[
        Path | None,
        typer.Option(
            "--settings",
            help="Risk settings YAML (a copy of models/risk/default_risk.yaml) [default: the "
            "packaged one]",
        ),
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
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Report folder (backtest.json, summary.txt, scores.csv, PNG plots)"
        ),
    ] = Path("backtest_report"),
    id_col: Annotated[
        str | None, typer.Option(help="Entity id column [default: entity_id]")
    ] = None,
    date_col: Annotated[
        str | None, typer.Option(help="Inspection date column [default: inspected_on]")
    ] = None,
    problem_col: Annotated[
        str | None,
        typer.Option(
            help="Outcome column [default: problem]: a flag (1/0, true/false, yes/no, 是/否); "
            "a count or score with --problem-above/--problem-below; a result text with "
            "--problem-values"
        ),
    ] = None,
    problem_above: Annotated[
        float | None,
        typer.Option(help="A value above this is a problem (e.g. a count of violations: 0)"),
    ] = None,
    problem_below: Annotated[
        float | None,
        typer.Option(help="A value below this is a problem (e.g. a sanitation score: 93)"),
    ] = None,
    problem_values: Annotated[
        list[str] | None,
        typer.Option(
            help="Result texts that mean a problem (repeatable; case and spaces ignored); "
            "any other value is none"
        ),
    ] = None,
    ok_values: Annotated[
        list[str] | None,
        typer.Option(
            help="With --problem-values: the texts that mean no problem (repeatable); rows "
            "with any other value are skipped"
        ),
    ] = None,
    score_col: Annotated[
        str | None,
        typer.Option(
            help="Inspection score column (the same as --problem-col with a threshold; the "
            "score also feeds the score features)"
        ),
    ] = None,
    inspector_col: Annotated[
        str | None,
        typer.Option(
            help="Inspector id column (several ids separated by 、,; the first leads) "
            "[default: inspector_id if the file has it; without one, within-inspector figures, "
            "the outcome forecast and the inspector-only baseline are not available]"
        ),
    ] = None,
    inspection_id_col: Annotated[
        str | None,
        typer.Option(
            help="Inspection id column, the id in scores.csv [default: inspection_id if the "
            "file has it, else the file's row number]"
        ),
    ] = None,
    attribute_col: Annotated[
        list[str] | None,
        typer.Option(
            help="An entity attribute carried by the inspection file (e.g. facility type, "
            "ZIP code), taken from each entity's first inspection; a categorical feature "
            "(repeatable)"
        ),
    ] = None,
    history_where: Annotated[
        list[str] | None,
        typer.Option(
            help="Keep only rows with COLUMN=VALUE (or COLUMN!=VALUE) in the history: "
            "features, strictness (repeatable; all must hold)"
        ),
    ] = None,
    evaluate_where: Annotated[
        list[str] | None,
        typer.Option(
            help="Keep only rows with COLUMN=VALUE (or COLUMN!=VALUE) as the inspections "
            "predicted: training labels and the evaluation (repeatable)"
        ),
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(help="COLUMN=VALUE (or !=) for both the history and the evaluation"),
    ] = None,
    firm_id_col: Annotated[
        str | None, typer.Option(help="Entity id column of --firms [default: entity_id]")
    ] = None,
    opened_col: Annotated[
        str | None, typer.Option(help="Opening-date column of --firms [default: opened_on]")
    ] = None,
    rules_file: Annotated[
        str | None, typer.Option("--rules", help="Rule set YAML for --penalties")
    ] = None,
) -> None:
    from pipelines.cli.options import refuse_invalid
    from warehouse.backtest_inputs import FirmColumns, InspectionColumns
    from warehouse.paths import PathOutsideRootError, output_folder

    try:  # an earlier report's folder, an empty one or a new one: nothing else is overwritten
        out = output_folder(out, "backtest.json")
    except PathOutsideRootError as exc:
        refuse_invalid(exc, "--out")
    if (landing is None) == (not inspections):
        fail("请给 --landing 或 --inspections 之一 / give either --landing or --inspections")
    if landing is None and cutoff is None:
        fail("--inspections 需要 --cutoff / --cutoff is required with --inspections")
    day = _date(cutoff, "--cutoff") if cutoff else None
    if today:
        _date(today, "--today")
    outcome = OutcomeOptions(
        problem_col, score_col, problem_above, problem_below, problem_values, ok_values
    )
    outcome.check()
    both = parse_filters(where, "--where")
    columns = InspectionColumns(
        entity=id_col,
        date=date_col,
        problem=problem_col,
        score=score_col,
        problem_above=problem_above,
        problem_below=problem_below,
        problem_values=tuple(problem_values or ()),
        ok_values=tuple(ok_values or ()),
        inspector=inspector_col,
        inspection_id=inspection_id_col,
        attributes=tuple(attribute_col or ()),
        history_where=(*both, *parse_filters(history_where, "--history-where")),
        evaluate_where=(*both, *parse_filters(evaluate_where, "--evaluate-where")),
    )
    firm_columns = FirmColumns(entity=firm_id_col, opened=opened_col)
    generic = [problem_values, ok_values, firms, penalties]
    threshold = problem_above is not None or problem_below is not None
    if landing is not None and (
        columns.explicit() or threshold or any(generic) or firm_columns != FirmColumns()
    ):
        fail(
            "--landing 读取整个落地文件夹，不接受列选项 / --landing reads a whole landing folder: "
            "no column, outcome, filter, --firms or --penalties options"
        )
    config = _settings(settings)
    _run(
        landing=landing,
        today=today,
        inspections=inspections or [],
        firms=firms or [],
        penalties=penalties or [],
        columns=columns,
        firm_columns=firm_columns,
        config=config,
        cutoff=day,
        horizon=horizon or config.horizon_days,
        unit=unit.value,
        rules_file=rules_file,
        out=out,
    )


def _run(
    *,
    landing: Path | None,
    today: str | None,
    inspections: list[Path],
    firms: list[Path],
    penalties: list[Path],
    columns: InspectionColumns,
    firm_columns: FirmColumns,
    config: RiskConfig,
    cutoff: date | None,
    horizon: int,
    unit: str,
    rules_file: str | None,
    out: Path,
) -> None:
    from models.contracts import default_contracts
    from models.risk.backtest import run_backtest
    from models.risk.model import TrainingDataError
    from models.rules import load_rule_set
    from models.sampling.params import default_round_params
    from warehouse.backtest_inputs import BacktestInputError, history_from_landing, read_history
    from warehouse.landing import LandingFolder
    from warehouse.risk_report import summary_text, write_report

    try:
        rules = load_rule_set(rules_file)
        if landing is not None:
            folder = LandingFolder(path=str(landing), today=today)
            history = history_from_landing(folder, config, rules, default_contracts())
            day = cutoff or history.backtest_cutoff(folder.processing_date, horizon)
            end = history.data_end(folder.processing_date)
        else:
            assert cutoff is not None
            day = cutoff
            inputs = read_history(
                inspections,
                firms=firms,
                penalties=penalties,
                inspection_columns=columns,
                firm_columns=firm_columns,
                config=config,
                rules=rules,
                cutoff=day,
                horizon_days=horizon,
            )
            history = inputs.history
            for note in inputs.notes:
                typer.echo(f"backtest: 注意 / note: {note}", err=True)
            end = history.data_end(date.today())
        if end <= day:
            fail(
                f"截止日 {day} 之后没有检查记录（数据止于 {end}）/ no inspection after the "
                f"cut-off {day}: the data end on {end}"
            )
        if day + timedelta(days=horizon) > end:
            cut = (end - day).days
            typer.echo(
                f"backtest: 警告：评估期 {horizon} 天超出数据末日 {end}，缩短为 {cut} 天 / "
                f"warning: the horizon ({horizon} days, to {day + timedelta(days=horizon)}) runs "
                f"past the last date in the data ({end}); cut to {cut} days",
                err=True,
            )
            horizon = cut
        report = run_backtest(
            history,
            day,
            horizon,
            config,
            default_round_params().ratios,
            unit="inspection" if unit == "inspection" else "firm",
        )
    except (BacktestInputError, TrainingDataError, ValueError) as exc:
        fail(str(exc))
    written = write_report(report, out)
    typer.echo(summary_text(report))
    typer.echo(f"\nreport: {out}  ({', '.join(p.name for p in written)})")
