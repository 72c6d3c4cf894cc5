"""`renfang run`, `score`, `generate` and `ui`: the main job, one scoring, sample data, servers.

What belongs here: these commands' arguments, validating them, and handing over to the
Dagster definitions (run), the warehouse (score), the generator or the servers. What does
not: any pipeline step — `renfang run` executes the same asset job the UI shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from models.rules import RuleSetError
from pipelines.cli.options import LandingOpt, RulesOpt, WarehouseOpt
from pipelines.cli.summary import print_tier_mix
from pipelines.instance import dagster_home
from pipelines.run_recovery import cli_run_tags, recover_abandoned_runs
from warehouse.credit import MissingWarehouseError


def run(
    landing: LandingOpt = None,
    warehouse: WarehouseOpt = None,
    today: Annotated[
        str | None,
        typer.Option(help="Processing date YYYY-MM-DD bounding future dates [env RENFANG_TODAY]"),
    ] = None,
    rules_file: RulesOpt = None,
) -> None:
    """Run the main job: ingest, validate, derive records, score every month end, publish."""
    dagster_home()
    import dagster as dg

    from pipelines.cli.options import refuse
    from pipelines.definitions import build_defs, execute_main
    from pipelines.resources import Landing, Rules, Warehouse
    from pipelines.stopping import RunStoppedError
    from warehouse.landing import max_file_bytes

    wh = Warehouse(path=str(warehouse) if warehouse else None)
    ld = Landing(path=str(landing) if landing else None, today=today)
    typer.echo(f"landing:   {ld.folder}")
    typer.echo(f"warehouse: {wh.file}")
    rules = Rules(path=rules_file)
    try:  # fail before any run starts; the UI path reports the same error from the asset
        rules.load()
    except (RuleSetError, OSError) as exc:
        typer.echo(f"rule set: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    try:
        max_file_bytes()
    except ValueError as exc:
        zh, _, en = str(exc).partition("\n")
        refuse(zh, en)
    defs = build_defs(warehouse=wh, landing=ld, rules=rules)
    with dg.DagsterInstance.get() as instance:
        for run_id in recover_abandoned_runs(instance):
            typer.echo(f"marked abandoned run {run_id} as failed and released its slot")
        try:  # SIGTERM / Ctrl-C: the running step finishes, no other starts
            result = execute_main(
                defs,
                instance=instance,
                tags=cli_run_tags(),
                # step-level detail lives in the UI; the terminal gets warnings and the summary
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
                stoppable=True,
            )
        except RunStoppedError as stopped:
            typer.echo(str(stopped), err=True)
            raise typer.Exit(code=stopped.exit_code) from stopped
    from pipelines.cli.summary import print_run_summary

    print_run_summary(result, wh, echo=typer.echo)
    if not result.success:
        raise typer.Exit(code=1)


def score(
    as_of: Annotated[str, typer.Option("--as-of", help="As-of date YYYY-MM-DD")],
    warehouse: WarehouseOpt = None,
    rules_file: RulesOpt = None,
) -> None:
    """Score every firm as of a date (point-in-time), store it, print the tier mix."""
    from datetime import date

    from pipelines.resources import Rules, Warehouse
    from warehouse.credit import score_and_store, tier_mix

    wh = Warehouse(path=str(warehouse) if warehouse else None)
    day = date.fromisoformat(as_of)
    rule_set = Rules(path=rules_file).load()
    try:
        stored = score_and_store(wh, rule_set, day)
    except MissingWarehouseError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"scored {stored:,d} firms as of {day} with rule set {rule_set.version}")
    with wh.connect(read_only=True) as con:
        print_tier_mix(tier_mix(con, day), day, typer.echo)


def generate(
    out: Annotated[Path, typer.Option(help="Landing folder to write (created; must be empty)")],
    firms: Annotated[int, typer.Option(help="Number of firms")] = 400,
    years: Annotated[int, typer.Option(help="Years of history")] = 5,
    start_year: Annotated[int, typer.Option(help="First year of history")] = 2021,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files)")] = 20251231,
    intensity: Annotated[float, typer.Option(help="Scale of per-firm record rates")] = 1.0,
    defects: Annotated[bool, typer.Option(help="Inject realistic defects")] = True,
) -> None:
    """Write a synthetic landing folder (the bundled sample, or large sets for benchmarks)."""
    from generator import write_landing

    if out.exists() and any(out.iterdir()):
        typer.echo(f"{out} is not empty; refusing to mix generated sets", err=True)
        raise typer.Exit(code=2)
    counts = write_landing(
        out,
        seed=seed,
        firms=firms,
        years=years,
        start_year=start_year,
        intensity=intensity,
        defects=defects,
    )
    for source, n in counts.items():
        typer.echo(f"{source:22s} {n:>12,d}")
    typer.echo(f"{'total':22s} {sum(counts.values()):>12,d}  → {out}")


def ui(
    port: Annotated[int, typer.Option(help="Dagster UI port")] = 3000,
    dashboard_port: Annotated[int, typer.Option(help="Dashboards (Streamlit) port")] = 8501,
    docs_port: Annotated[int, typer.Option(help="Data Docs (read-only) port")] = 3001,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Allow the shipped demo users (passwords in the README) when RENFANG_USERS is "
            "not set [env RENFANG_DEMO_USERS=1]; a local trial only",
        ),
    ] = False,
) -> None:
    """Start the Dagster UI, the dashboards and the Data Docs site on 127.0.0.1 with the
    project's instance (Ctrl-C stops them). Needs RENFANG_USERS, or --demo for a trial."""
    import os

    from dashboards.auth import DEMO_FLAG, AccessConfigError, load_users, users_source
    from pipelines.cli.options import refuse
    from pipelines.serve import serve

    if demo:
        os.environ[DEMO_FLAG] = "1"  # the dashboards' process inherits it
    try:  # refuse before any server starts
        users_file, is_demo = users_source()
        load_users(users_file)
    except (AccessConfigError, OSError) as exc:
        zh, _, en = str(exc).partition("\n")
        refuse(zh, en or zh)
    if is_demo:
        typer.echo("演示模式：内置演示用户（密码见 README）/ demo mode: the shipped demo users")
    home = dagster_home()
    typer.echo(f"DAGSTER_HOME={home}")
    raise typer.Exit(serve(port, dashboard_port, docs_port, typer.echo))
