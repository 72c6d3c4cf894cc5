"""`renfang draw` and `renfang verify-draw`: run a double-random round, and check one.

What belongs here: the two commands' arguments and output. `draw` executes the Dagster
`round` job (the same assets the UI runs, recorded in the project's instance); `verify-draw`
needs no warehouse and no Dagster — only the plan file and, optionally, input files obtained
elsewhere — because a third party must be able to run it on their own machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

VerifyInput = Annotated[
    Path | None,
    typer.Option(exists=True, dir_okay=False, help="CSV to use instead of the plan's copy"),
]


def draw(
    round_id: Annotated[str, typer.Option("--round", help="Round id, e.g. 2027Q1")],
    seed: Annotated[int, typer.Option(help="The published seed (an integer ≥ 0)")],
    params: Annotated[
        Path | None,
        typer.Option(
            "--params",
            exists=True,
            dir_okay=False,
            help="Round parameters YAML (default: the packaged template; dates from the "
            "round id: 2027Q1, 2027H1 or 2027-03)",
        ),
    ] = None,
    warehouse: Annotated[
        Path | None, typer.Option("--warehouse", help="DuckDB warehouse file")
    ] = None,
    today: Annotated[
        str | None, typer.Option(help="Processing date YYYY-MM-DD [env RENFANG_TODAY]")
    ] = None,
    draft: Annotated[bool, typer.Option(help="Store as a draft (freely redrawable)")] = False,
    replace: Annotated[
        bool, typer.Option(help="Supersede a published round with a different plan")
    ] = False,
) -> None:
    """Draw round ID with SEED from the warehouse, publish it, print its plan file."""
    from pipelines.cli import dagster_home

    dagster_home()
    import dagster as dg

    from pipelines.definitions import ROUND_JOB, build_defs
    from pipelines.resources import Landing, Warehouse
    from pipelines.summary import drawn_round_id, failure_messages, print_round

    wh = Warehouse(path=str(warehouse) if warehouse else None)
    if not wh.file.exists():
        typer.echo(f"{wh.file} does not exist: run `renfang run` first", err=True)
        raise typer.Exit(code=2)
    config = {
        "round_id": round_id,
        "seed": seed,
        "params_file": str(params) if params else None,
        "publish": not draft,
        "replace": replace,
    }
    defs = build_defs(warehouse=wh, landing=Landing(today=today))
    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def(ROUND_JOB).execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={
                "ops": {"sampling_round": {"config": config}},
                "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},  # we print
            },
        )
    if not result.success:
        for message in failure_messages(result) or ["the round job failed (see the Dagster UI)"]:
            typer.echo(message, err=True)
        raise typer.Exit(code=1)
    print_round(wh, drawn_round_id(result) or round_id, typer.echo)


def verify_draw(
    plan_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="plan.json")],
    firms: VerifyInput = None,
    inspectors: VerifyInput = None,
    conflicts: VerifyInput = None,
    previous: VerifyInput = None,
) -> None:
    """Re-run a published draw from its plan file; print IDENTICAL or the differences.

    Exit code 0 when IDENTICAL, 1 when anything differs, 2 when the file is not a plan.
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
