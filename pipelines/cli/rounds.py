"""`renfang draw` and `renfang verify-draw`: run a double-random round, and check one.

What belongs here: the two commands' arguments and output. `draw` executes the Dagster
`round` job (the same assets the UI runs, recorded in the project's instance); `verify-draw`
needs no warehouse and no Dagster — only the plan file and, optionally, input files obtained
elsewhere — because a third party must be able to run it on their own machine.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from pipelines.cli.options import TodayOpt, WarehouseOpt

VerifyInput = Annotated[
    Path | None,
    typer.Option(
        exists=True,
        dir_okay=False,
        metavar="CSV",
        help="A CSV file to use instead of the plan's own copy of this input.",
    ),
]


def draw(
    round_id: Annotated[
        str,
        typer.Option(
            "--round",
            metavar="ID",
            help="The round's id, e.g. 2027Q1, 2027H1 or 2027-03, optionally followed by "
            "-TAG (2027Q1-青浦: an office's own round).",
        ),
    ],
    seed: Annotated[
        int, typer.Option(metavar="N", min=0, help="The published seed, an integer ≥ 0.")
    ],
    params: Annotated[
        Path | None,
        typer.Option(
            "--params",
            exists=True,
            dir_okay=False,
            metavar="FILE",
            help="The round parameters YAML (default: the packaged template, with the dates "
            "the round id names).",
        ),
    ] = None,
    warehouse: WarehouseOpt = None,
    today: TodayOpt = None,
    draft: Annotated[
        bool, typer.Option(help="Store the round as a draft, which may be drawn again.")
    ] = False,
    replace: Annotated[
        bool, typer.Option(help="Supersede a published round with a different plan.")
    ] = False,
    order_by_risk: Annotated[
        bool,
        typer.Option(help="Inspect the riskiest firms first within each stratum and team."),
    ] = False,
    backdate: Annotated[
        bool,
        typer.Option(
            help="Allow a window that starts before the publication date (needs --reason; "
            "recorded in the audit log)."
        ),
    ] = False,
    reason: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Why a back-dated round is published (audit log)."),
    ] = None,
    calendar: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            metavar="FILE",
            help="The official calendar YAML (source, years, days_off, working_days) for years "
            "the holidays package lacks; it is recorded in the plan.",
        ),
    ] = None,
    office: Annotated[
        str | None,
        typer.Option(
            metavar="OFFICE",
            help="The organising office: 市级 (the default) or a district (浦东, 浦东新区 or "
            "310115).",
        ),
    ] = None,
    office_name: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="The office's name on plans, e.g. 青浦区国防动员办公室."),
    ] = None,
    district: Annotated[
        list[str] | None,
        typer.Option(metavar="DISTRICT", help="Draw only firms of this district (repeatable)."),
    ] = None,
    firm_type: Annotated[
        list[str] | None,
        typer.Option(metavar="TYPE", help="Draw only firms of this type (repeatable)."),
    ] = None,
    partner: Annotated[
        list[str] | None,
        typer.Option(
            metavar="DEPARTMENT",
            help="A partner department of a joint round (repeatable): every team includes "
            "one of its inspectors.",
        ),
    ] = None,
    allow_city_inspectors: Annotated[
        bool,
        typer.Option(help="Let a district office's round also draw the city's inspectors."),
    ] = False,
    items: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            metavar="FILE",
            help="The 抽查事项清单 YAML for the record workbooks (default: the packaged list).",
        ),
    ] = None,
) -> None:
    """Draw round ID with SEED from the warehouse, publish it and print its plan file.

    Scope and office: --office (the organising office; a district office draws its own
    district's firms with its own inspectors), --district / --firm-type (repeatable: the
    firms covered), --partner (repeatable: a joint round's partner departments). When the
    rules cannot be met (too few inspectors, too short a window), the cause is printed in
    one line with the run id, and the exit code is 1.
    """
    from pydantic import ValidationError

    from models.sampling.params import RoundRequest
    from pipelines.cli.options import parse_day, refuse, refuse_invalid

    day = parse_day(today, "--today")
    if seed < 0:
        refuse("--seed", "随机种子应为非负整数", "the seed must be an integer ≥ 0")
    try:  # the same model validates the Dagster run config (`RoundConfig`)
        request = RoundRequest(
            round_id=round_id,
            seed=seed,
            params_file=str(params) if params else None,
            publish=not draft,
            replace=replace,
            backdate_reason=reason,
            calendar_file=str(calendar) if calendar else None,
            items_file=str(items) if items else None,
        )
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else "round"
        names = {"round_id": "--round", "params_file": "--params", "seed": "--seed",
                 "calendar_file": "--calendar", "items_file": "--items",
                 "backdate_reason": "--reason"}  # fmt: skip
        refuse_invalid(exc, names.get(field, field))
    options = _round_options(
        round_id, params, day, backdate, reason, draft, calendar, items, office, office_name,
        district, firm_type, partner, allow_city_inspectors, order_by_risk,
    )  # fmt: skip
    request = request.model_copy(update={"overrides": options or None})  # our own YAML

    from pipelines.instance import dagster_home
    from warehouse.connection import Warehouse as Location

    dagster_home(Location(path=str(warehouse) if warehouse else None).live_file)
    import dagster as dg

    from models.labels import default_labels
    from pipelines.cli.progress import failure_lines, step_failures
    from pipelines.cli.summary import drawn_round_id, print_round
    from pipelines.definitions import ROUND_JOB, build_defs, execute_job
    from pipelines.resources import Landing, Warehouse
    from pipelines.run_recovery import cli_run_tags, discard_stale_copies, recover_abandoned_runs
    from pipelines.stopping import RunStoppedError
    from warehouse import audit, staging

    wh = Warehouse(path=str(warehouse) if warehouse else None, staged=True)
    if not wh.live_file.exists():
        refuse("--warehouse", f"数据仓库 {wh.live_file} 不存在：请先运行 `renfang run`",
               f"{wh.live_file} does not exist: run `renfang run` first")  # fmt: skip
    config = request.model_dump()
    defs = build_defs(warehouse=wh, landing=Landing(today=today))
    with dg.DagsterInstance.get() as instance:
        recover_abandoned_runs(instance)
        discard_stale_copies(instance, wh.live_file)
        try:  # SIGTERM / Ctrl-C: the running step finishes, no other starts
            result = execute_job(
                defs,
                ROUND_JOB,
                instance=instance,
                stoppable=True,
                tags=cli_run_tags(wh.live_file),
                run_config={
                    "ops": {"sampling_round": {"config": config}},
                    "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},  # we print
                },
            )
        except RunStoppedError as stopped:
            typer.echo(str(stopped), err=True)
            raise typer.Exit(code=stopped.exit_code) from stopped
    staging.discard(staging.staging_path(wh.live_file, result.run_id))
    if not result.success:
        failures = step_failures(result) or [("sampling_round", "")]
        audit.append(wh.audit_log, "run_failed", {"job": "round", "round_id": round_id,
                     "causes": [f"{step}: {cause}" for step, cause in failures][:5]},
                     run_id=result.run_id)  # fmt: skip
        describe = lambda step: default_labels().code("table", step)  # noqa: E731
        for line in failure_lines(result.run_id, failures, describe):
            typer.echo(line, err=True)
        raise typer.Exit(code=1)
    drawn = drawn_round_id(result) or round_id
    if not draft:
        payload: dict[str, object] = {"round_id": drawn, "seed": seed, "replace": replace}
        if office:
            payload["office"] = office
        if backdate:
            payload |= {"backdate": True, "reason": reason}
        audit.append(wh.audit_log, "round_published", payload, run_id=result.run_id)
    print_round(wh, drawn, typer.echo)


def _round_options(
    round_id: str,
    params: Path | None,
    day: date | None,
    backdate: bool,
    reason: str | None,
    draft: bool,
    calendar: Path | None,
    items: Path | None,
    office: str | None,
    office_name: str | None,
    districts: list[str] | None,
    firm_types: list[str] | None,
    partners: list[str] | None,
    allow_city_inspectors: bool,
    order_by_risk: bool,
) -> str:
    """Check the round's options before anything runs (exit 2, Chinese then English) and return
    them as the job's YAML overrides."""
    import os

    import yaml

    from models.contracts import default_contracts, header_key
    from models.divisions import normalise_district
    from models.sampling.calendar import CalendarError, parse_calendar
    from models.sampling.items import ItemsError, parse_items
    from models.sampling.params import RoundParamsError, parse_round_params, round_window
    from pipelines.cli.options import parse_day, refuse

    today = day or parse_day(os.environ.get("RENFANG_TODAY"), "RENFANG_TODAY") or date.today()
    if backdate and not draft and not (reason or "").strip():
        refuse("--reason", "补录往期批次须用 --reason 说明理由", "--backdate needs --reason TEXT")
    if params is not None:
        try:
            window = parse_round_params(params.read_text(encoding="utf-8"))
        except (RoundParamsError, OSError) as exc:
            refuse("--params", f"参数文件无效：{exc}", f"invalid parameter file: {exc}")
        start = window.window_start
        backdate = backdate or window.backdate
    else:
        named = round_window(round_id)
        if named is None:
            refuse(
                "--round",
                f"“{round_id}”不是季度（2027Q1）、半年（2027H1）或月份（2027-03）批次，"
                "请用 --params 给出日期",
                f"{round_id!r} names no quarter (2027Q1), half year (2027H1) or month "
                "(2027-03); give --params with its dates",
            )
        start = named[0]
    if start < today and not backdate:
        refuse(
            "--round",
            f"检查期间自 {start} 起，早于公布日期 {today}；"
            "补录往期批次请加 --backdate --reason 说明",
            f"the window starts {start}, before the publication date {today}; a back-dated "
            "round needs --backdate --reason TEXT",
        )
    if calendar is not None:
        try:
            parse_calendar(calendar.read_text(encoding="utf-8"))
        except (CalendarError, OSError) as exc:
            refuse("--calendar", f"日历文件无效：{exc}", f"invalid calendar file: {exc}")
    if items is not None:
        try:
            parse_items(items.read_text(encoding="utf-8"))
        except (ItemsError, OSError) as exc:
            refuse("--items", f"抽查事项清单无效：{exc}", f"invalid item list: {exc}")
    for option, values in (("--office", [office] if office else []), ("--district", districts)):
        for value in values or []:
            if normalise_district(value) is None:
                refuse(
                    option,
                    f"“{value}”不是已知的区（全称、简称或行政区划代码）",
                    f"{value!r} is not a known district (name, short name or GB/T 2260 code)",
                )
    types = default_contracts().enum_lookup("firm_type")
    for value in firm_types or []:
        if header_key(value) not in types:
            refuse("--firm-type", f"“{value}”不是单位类型", f"{value!r} is not a firm type")
    if office_name is not None and not (0 < len(office_name.strip()) <= 100):
        refuse("--office-name", "名称应为 1–100 个字符", "the name must be 1–100 characters")
    options: dict[str, object] = {}
    if order_by_risk:
        options["order_by_risk"] = True
    if backdate:
        options["backdate"] = True
    if office:
        options["office"] = office
    if office_name:
        options["office_name"] = office_name.strip()
    if districts or firm_types:
        options["scope"] = {"districts": districts or [], "firm_types": firm_types or []}
    if partners:
        options["partner_departments"] = [p.strip() for p in partners if p.strip()]
    if allow_city_inspectors:
        options["allow_city_inspectors"] = True
    return (
        yaml.safe_dump(options, allow_unicode=True, default_flow_style=True).strip()
        if options
        else ""
    )


def verify_draw(
    plan_file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            metavar="PLAN_FILE",
            help="The plan file (plan.json) of a published round.",
        ),
    ],
    firms: VerifyInput = None,
    inspectors: VerifyInput = None,
    conflicts: VerifyInput = None,
    previous: VerifyInput = None,
) -> None:
    """Re-run a published draw from its plan file and print IDENTICAL or the differences.

    The exit code is 0 when IDENTICAL, 1 when anything differs and 2 when the file is not a
    plan file.
    """
    from models.sampling.plan_file import PlanFileError, verify_plan

    given = {"firms": firms, "inspectors": inspectors, "conflicts": conflicts, "previous": previous}
    replacements = {
        name: path.read_text(encoding="utf-8-sig") for name, path in given.items() if path
    }
    try:
        result = verify_plan(plan_file.read_bytes(), replacements)
    except PlanFileError as exc:
        typer.echo(f"{plan_file}: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"plan file sha256  {result.plan_sha256}")
    if replacements:
        typer.echo(f"inputs from files {', '.join(sorted(replacements))}")
    if result.identical:
        typer.echo("IDENTICAL")
        return
    typer.echo(f"DIFFERENT ({len(result.differences)})")
    for line in result.differences:
        typer.echo(f"  {line}")
    raise typer.Exit(code=1)


def rounds(
    round_id: Annotated[
        str | None,
        typer.Option("--round", metavar="ID", help="Show this round's results by tier."),
    ] = None,
    warehouse: WarehouseOpt = None,
    office: Annotated[
        str | None,
        typer.Option(metavar="OFFICE", help="Show only this office's rounds (市级 or a district)."),
    ] = None,
    deadlines: Annotated[
        bool,
        typer.Option(
            help="List the results whose publication deadline (20 working days after the "
            "inspection) is past or near."
        ),
    ] = False,
    today: TodayOpt = None,
) -> None:
    """List the stored rounds, or one round's results by tier, or the results to publish.

    A round's results are planned vs inspected vs with findings, by tier and for the control
    share; --deadlines lists the results past or near their publication deadline.
    """
    import os

    from models.divisions import normalise_district
    from pipelines.cli.options import parse_day, refuse
    from pipelines.resources import Warehouse
    from warehouse.connection import query, table_exists

    day = parse_day(today, "--today") or parse_day(os.environ.get("RENFANG_TODAY"), "RENFANG_TODAY")
    wanted = None
    if office is not None:
        wanted = normalise_district(office)
        if wanted is None:
            refuse("--office", f"“{office}”不是已知的区或市级", f"{office!r} is not a known office")
    wh = Warehouse(path=str(warehouse) if warehouse else None)
    with wh.connect(read_only=True) as con:
        if not table_exists(con, "sampling_rounds"):
            typer.echo("no rounds yet: `renfang run` drafts one, `renfang draw` publishes one")
            raise typer.Exit(code=2)
        if deadlines:
            _print_deadlines(con, day or date.today(), wanted)
            return
        if round_id is None:
            facts = table_exists(con, "sampling_round_facts")
            listed = query(
                con,
                "SELECT r.round_id, r.status, r.seed, r.window_start, r.window_end, r.pool_size, "
                "r.drawn, r.control, "
                + ("coalesce(f.office, '市级') AS office " if facts else "'市级' AS office ")
                + "FROM sampling_rounds r "
                + ("LEFT JOIN sampling_round_facts f USING (round_id) " if facts else "")
                + "ORDER BY r.window_start, r.round_id",
            )
            if wanted is not None:
                listed = listed.filter(pl.col("office") == wanted)
            typer.echo(f"{'round':14s} {'status':10s} {'office':8s} {'seed':>10s}  {'window':23s} "
                       f"{'eligible':>8s} {'drawn':>6s} {'control':>7s}")  # fmt: skip
            for r in listed.iter_rows(named=True):
                typer.echo(
                    f"{r['round_id']:14s} {r['status']:10s} {r['office']:8s} {r['seed']:>10d}  "
                    f"{r['window_start']} — {r['window_end']} {r['pool_size']:>8,d} "
                    f"{r['drawn']:>6,d} {r['control']:>7,d}"
                )
            return
        results = query(
            con, "SELECT * FROM round_results WHERE round_id = ? ORDER BY is_control, tier",
            [round_id],
        )  # fmt: skip
    if results.is_empty():
        typer.echo(f"round {round_id}: not found (see `renfang rounds`)", err=True)
        raise typer.Exit(code=2)
    typer.echo(f"round {round_id}: planned vs inspected vs findings (抽查结果反馈)")
    typer.echo(f"  {'group':14s} {'planned':>8s} {'inspected':>9s} {'findings':>8s} {'rate':>6s}")
    for r in results.iter_rows(named=True):
        group = f"control {r['tier']}" if r["is_control"] else f"tier {r['tier']}"
        rate = "—" if r["finding_rate"] is None else f"{r['finding_rate']:.0%}"
        typer.echo(
            f"  {group:14s} {r['planned']:>8d} {r['inspected']:>9d} {r['with_findings']:>8d} "
            f"{rate:>6s}"
        )
    totals = results.group_by("is_control").agg(
        pl.col("planned", "inspected", "with_findings").sum()
    )
    for is_control, planned, inspected, found in totals.sort("is_control").iter_rows():
        label = "control total" if is_control else "by-tier total"
        rate = f"{found / inspected:.0%}" if inspected else "—"
        typer.echo(f"  {label:14s} {planned:>8d} {inspected:>9d} {found:>8d} {rate:>6s}")


def _print_deadlines(con, day: date, office: str | None) -> None:
    """The deadline list of every published round (`warehouse.sampling.round_tracking`)."""
    from models.labels import default_labels
    from models.sampling.feedback import deadline_list
    from warehouse.sampling import round_tracking

    labels = default_labels()
    tracking = round_tracking(con, day, office=office)
    late = deadline_list(tracking)
    typer.echo(
        f"publication deadlines as of {day} (20 working days, 企业信息公示暂行条例): "
        f"{late.height} to act on"
    )
    for r in late.iter_rows(named=True):
        typer.echo(
            f"  {r['round_id']:14s} {r['uscc']}  inspected {r['inspected_on'] or '—'} "
            f"(planned {r['planned_date']})  deadline {r['publication_deadline']}  "
            f"{labels.code('deadline_status', r['deadline_status'])} "
            f"{labels.code('deadline_status', r['deadline_status'], 'en').lower()}"
        )
