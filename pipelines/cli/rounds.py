"""`renfang draw` and `renfang verify-draw`: run a double-random round, and check one.

What belongs here: the two commands' arguments and output. `draw` executes the Dagster
`round` job (the same assets the UI runs, recorded in the project's instance); `verify-draw`
needs no warehouse and no Dagster — only the plan file and, optionally, input files obtained
elsewhere — because a third party must be able to run it on their own machine.
"""

from __future__ import annotations

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
            "--round", metavar="ID", help="The round's id, e.g. 2027Q1, 2027H1 or 2027-03."
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
) -> None:
    """Draw round ID with SEED from the warehouse, publish it and print its plan file.

    When the rules cannot be met (too few inspectors, too short a window), the cause is
    printed in one line with the run id, and the exit code is 1.
    """
    from pydantic import ValidationError

    from models.sampling.params import RoundRequest
    from pipelines.cli.options import parse_day, refuse, refuse_invalid

    parse_day(today, "--today")
    if seed < 0:
        refuse("--seed", "随机种子应为非负整数", "the seed must be an integer ≥ 0")
    try:  # the same model validates the Dagster run config (`RoundConfig`)
        request = RoundRequest(
            round_id=round_id,
            seed=seed,
            params_file=str(params) if params else None,
            publish=not draft,
            replace=replace,
            overrides="{order_by_risk: true}" if order_by_risk else None,
        )
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else "round"
        options = {"round_id": "--round", "params_file": "--params", "seed": "--seed"}
        refuse_invalid(exc, options.get(field, field))

    from pipelines.instance import dagster_home
    from warehouse.connection import Warehouse as Location

    dagster_home(Location(path=str(warehouse) if warehouse else None).live_file)
    import dagster as dg

    from models.labels import default_labels
    from pipelines.cli.progress import failure_lines, step_failures
    from pipelines.cli.summary import drawn_round_id, print_round
    from pipelines.definitions import ROUND_JOB, build_defs
    from pipelines.resources import Landing, Warehouse
    from pipelines.run_recovery import cli_run_tags, discard_stale_copies, recover_abandoned_runs
    from pipelines.stopping import RunStoppedError, execute_stoppable
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
            result = execute_stoppable(
                defs.resolve_job_def(ROUND_JOB),
                instance=instance,
                raise_on_error=False,
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
        audit.append(wh.audit_log, "round_published", {"round_id": drawn, "seed": seed,
                     "replace": replace}, run_id=result.run_id)  # fmt: skip
    print_round(wh, drawn, typer.echo)


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
) -> None:
    """List the stored rounds, or one round's results by tier.

    A round's results are planned vs inspected vs with findings, by tier and for the control
    share.
    """
    from pipelines.resources import Warehouse
    from warehouse.connection import query, table_exists

    wh = Warehouse(path=str(warehouse) if warehouse else None)
    with wh.connect(read_only=True) as con:
        if not table_exists(con, "sampling_rounds"):
            typer.echo("no rounds yet: `renfang run` drafts one, `renfang draw` publishes one")
            raise typer.Exit(code=2)
        if round_id is None:
            listed = query(
                con,
                "SELECT round_id, status, seed, window_start, window_end, pool_size, drawn, "
                "control FROM sampling_rounds ORDER BY window_start, round_id",
            )
            typer.echo(f"{'round':10s} {'status':10s} {'seed':>10s}  {'window':23s} "
                       f"{'eligible':>8s} {'drawn':>6s} {'control':>7s}")  # fmt: skip
            for r in listed.iter_rows(named=True):
                typer.echo(
                    f"{r['round_id']:10s} {r['status']:10s} {r['seed']:>10d}  "
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
