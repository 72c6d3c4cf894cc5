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
from pipelines.cli.options import (
    LandingOpt,
    QuietOpt,
    RulesOpt,
    TodayOpt,
    WarehouseOpt,
    check_landing,
    check_name,
    existing_warehouse,
    parse_day,
    refuse,
    valid_date,
)
from pipelines.cli.summary import print_tier_mix
from pipelines.instance import dagster_home
from pipelines.run_recovery import cli_run_tags, discard_stale_copies, recover_abandoned_runs
from warehouse import audit, staging
from warehouse.credit import (
    MissingWarehouseError,
    official_for,
    score_and_store,
    score_scenario,
    tier_mix,
)
from warehouse.migrations import upgrade


def run(
    landing: LandingOpt = None,
    warehouse: WarehouseOpt = None,
    today: TodayOpt = None,
    rules_file: RulesOpt = None,
    accept_changes: Annotated[
        str | None,
        typer.Option(
            "--accept-changes",
            metavar="REASON",
            help="Publish although established firms would be removed or a large share of a "
            "table would change; the reason is recorded in the audit log.",
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Rebuild every derived table from the archive of received files, instead of "
            "deriving again only what the new files, withdrawals and the date changed.",
        ),
    ] = False,
    quiet: QuietOpt = False,
) -> None:
    """Run the main (daily) job: receive the landing folder's new files, validate, derive
    again what they change, score, draft the next round, publish. The risk model has its
    own job: `renfang retrain`.

    While it works, one line per finished step says what was made, how many rows and how
    fast (on stderr; a status line on a terminal; nothing with --quiet). A failed step is
    named with its cause in one line and the run id of the full log; the exit code is 1, and
    the live warehouse is then unchanged.
    """
    from pipelines.definitions import MAIN_JOB

    _run_job(MAIN_JOB, landing, warehouse, today, rules_file, accept_changes, quiet, full=full)


def retrain(
    landing: LandingOpt = None,
    warehouse: WarehouseOpt = None,
    today: TodayOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Run the risk model's job now (it also runs monthly by its schedule): features, the
    backtest, the model trained to the data end, risk scores and PSI, published like a run.
    The daily `renfang run` does not train the model."""
    from pipelines.assets.risk import RISK_JOB

    _run_job(RISK_JOB, landing, warehouse, today, None, None, quiet, full=False)


def _run_job(
    job_name: str,
    landing: Path | None,
    warehouse: Path | None,
    today: str | None,
    rules_file: str | None,
    accept_changes: str | None,
    quiet: bool,
    *,
    full: bool,
) -> None:
    """Validate the options, run one job staged (write, audit, publish) with progress lines,
    print the summary; exit 1 (live warehouse unchanged) if anything failed."""
    parse_day(today, "--today")
    from pipelines.stopping import RunStoppedError
    from warehouse.landing import max_file_bytes

    try:
        max_file_bytes()
    except ValueError as exc:
        zh, _, en = str(exc).partition("\n")
        refuse("RENFANG_MAX_FILE_MB", zh, en)
    from pipelines.resources import Landing, Rules, Warehouse

    wh = Warehouse(
        path=str(warehouse) if warehouse else None, staged=True, accept_changes=accept_changes
    )
    ld = Landing(path=str(landing) if landing else None, today=today)
    check_landing(ld.folder)
    dagster_home(wh.live_file)
    import dagster as dg

    from pipelines.cli.progress import Progress, failure_lines, step_failures, step_groups
    from pipelines.definitions import MAIN_JOB, build_defs, execute_job, execute_main

    typer.echo(f"landing:   {ld.folder}")
    typer.echo(f"warehouse: {wh.live_file}")
    rules = Rules(path=rules_file)
    try:  # fail before any run starts; the UI path reports the same error from the asset
        rules.load()
    except (RuleSetError, OSError) as exc:
        typer.echo(f"rule set: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    defs = build_defs(warehouse=wh, landing=ld, rules=rules)
    total, groups = step_groups(defs, job_name)
    progress = Progress(total=total, groups=groups, quiet=quiet)
    with dg.DagsterInstance.get() as instance:
        for run_id in recover_abandoned_runs(instance):
            typer.echo(f"marked abandoned run {run_id} as failed and released its slot")
        discard_stale_copies(instance, wh.live_file)
        progress.start()
        tags = cli_run_tags(wh.live_file, ld.folder)
        # step-level detail lives in the UI; the terminal gets warnings, the progress lines
        # and the summary
        config = {"loggers": {"console": {"config": {"log_level": "WARNING"}}, "progress": {}}}
        try:  # SIGTERM / Ctrl-C: the running step finishes, no other starts
            if job_name == MAIN_JOB:
                result = execute_main(defs, instance=instance, tags=tags, run_config=config,
                                      loggers=progress.logger_defs(), stoppable=True,
                                      full=full)  # fmt: skip
            else:
                result = execute_job(defs, job_name, instance=instance, tags=tags,
                                     run_config=config, loggers=progress.logger_defs(),
                                     stoppable=True)  # fmt: skip
        except RunStoppedError as stopped:
            if stopped.result is not None:  # the stopped run's copy is never published
                staging.discard(staging.staging_path(wh.live_file, stopped.result.run_id))
            audit.append(wh.audit_log, "run_failed", {"landing": str(ld.folder),
                         "causes": [str(stopped).splitlines()[-1]]})  # fmt: skip
            typer.echo(str(stopped), err=True)
            raise typer.Exit(code=stopped.exit_code) from stopped
        finally:
            progress.stop()
    from pipelines.cli.summary import print_run_summary

    failures = step_failures(result) if not result.success else []
    if not result.success:
        audit.append(
            wh.audit_log,
            "run_failed",
            {"landing": str(ld.folder),
             "causes": [f"{step}: {cause}" for step, cause in failures][:5]},
            run_id=result.run_id,
        )  # fmt: skip
    copy = staging.staging_path(wh.live_file, result.run_id)
    loaded = rules.load()
    if result.success or not copy.exists():
        print_run_summary(result, Warehouse(path=str(wh.live_file)), echo=typer.echo,
                          rules=loaded)  # fmt: skip
    else:  # what the failed run found, from its copy; the live warehouse is unchanged
        print_run_summary(result, Warehouse(path=str(copy)), echo=typer.echo, rules=loaded)
        typer.echo(
            "正式库未改变（本次运行未发布）/ the live warehouse is unchanged (not published)"
        )
    staging.discard(copy)
    if not result.success:
        describe = lambda step: " · ".join(progress.describe(step))  # noqa: E731
        for line in failure_lines(result.run_id, failures, describe):
            typer.echo(line, err=True)
        raise typer.Exit(code=1)


def score(
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of",
            metavar="YYYY-MM-DD",
            callback=valid_date,
            help="The as-of date: only what was known by then counts.",
        ),
    ],
    warehouse: WarehouseOpt = None,
    rules_file: RulesOpt = None,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            metavar="NAME",
            help="Store the scores as this what-if scenario (never official) and print which "
            "firms change tier against the official scores; needs --rules",
        ),
    ] = None,
) -> None:
    """Score every firm as of a date (point-in-time) with the official rule set of that date
    and store it; or, with --scenario, try another rule set without touching official data."""
    day = parse_day(as_of, "--as-of")
    assert day is not None  # a required option
    if scenario is not None:
        check_name(scenario, "--scenario")
        if rules_file is None:
            refuse("--rules", "测算需要指定评价标准文件", "a scenario needs a rule set file")
    from pipelines.resources import Rules

    wh = existing_warehouse(warehouse)
    upgrade(wh.live_file, wh.audit_log)
    named = Rules(path=rules_file)
    try:
        rule_set = named.load() if named.explicit else official_for(wh, day)
        if scenario is not None:
            moves = score_scenario(wh, rule_set, day, scenario, audit.acting_user())
        else:
            stored = score_and_store(wh, rule_set, day)
    except (RuleSetError, OSError) as exc:
        typer.echo(f"rule set: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    except MissingWarehouseError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from exc
    if scenario is not None:
        audit.append(wh.audit_log, "scenario", {"scenario": scenario, "as_of": str(day),
                     "rule_set_version": rule_set.version, "content_sha256":
                     rule_set.content_sha256, "tier_moves": moves.to_dicts()})  # fmt: skip
        typer.echo(
            f"测算 {scenario}（评价标准 {rule_set.version}，{day}）：与正式结果相比 "
            f"{int(moves['firms'].sum()) if moves.height else 0} 家单位等级变化 / scenario "
            f"{scenario} ({rule_set.version}, {day}): tier moves against the official scores"
        )
        for row in moves.iter_rows(named=True):
            typer.echo(f"  {row['from_tier']} → {row['to_tier']}  {row['firms']:>6,d}")
        return
    audit.append(wh.audit_log, "score", {"as_of": str(day), "rule_set_version": rule_set.version,
                 "firms": stored})  # fmt: skip
    typer.echo(f"scored {stored:,d} firms as of {day} with rule set {rule_set.version}")
    with wh.connect(read_only=True) as con:
        print_tier_mix(tier_mix(con, day), day, typer.echo, rule_set)


def generate(
    out: Annotated[
        Path,
        typer.Option(metavar="DIR", help="The landing folder to write (created; must be empty)."),
    ],
    firms: Annotated[int, typer.Option(metavar="N", min=1, help="How many firms.")] = 400,
    years: Annotated[int, typer.Option(metavar="N", min=1, help="Years of history.")] = 5,
    start_year: Annotated[
        int, typer.Option(metavar="YEAR", help="The first year of history.")
    ] = 2021,
    seed: Annotated[
        int, typer.Option(metavar="N", help="The random seed: the same seed writes the same files.")
    ] = 20251231,
    intensity: Annotated[
        float, typer.Option(metavar="X", min=0, help="A scale for every firm's record rates.")
    ] = 1.0,
    defects: Annotated[
        bool, typer.Option(help="Inject realistic defects, as regulators' exports have them.")
    ] = True,
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
    port: Annotated[
        int, typer.Option(metavar="PORT", min=1, max=65535, help="The Dagster UI's port.")
    ] = 3000,
    dashboard_port: Annotated[
        int, typer.Option(metavar="PORT", min=1, max=65535, help="The dashboards' port.")
    ] = 8501,
    docs_port: Annotated[
        int,
        typer.Option(
            metavar="PORT",
            min=1,
            max=65535,
            help="The port of the validation reports (Data Docs, read-only).",
        ),
    ] = 3001,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Allow the shipped demo users (passwords in the README) when RENFANG_USERS is "
            "not set [env RENFANG_DEMO_USERS=1]; a local trial only.",
        ),
    ] = False,
) -> None:
    """Start the Dagster UI, the dashboards and the Data Docs site on 127.0.0.1 with the
    warehouse's instance (Ctrl-C stops them). Needs RENFANG_USERS, or --demo for a trial."""
    import os

    from dashboards.auth import DEMO_FLAG, AccessConfigError, load_users, users_source
    from pipelines.serve import serve
    from warehouse.connection import Warehouse

    if demo:
        os.environ[DEMO_FLAG] = "1"  # the dashboards' process inherits it
    try:  # refuse before any server starts
        users_file, is_demo = users_source()
        load_users(users_file)
    except (AccessConfigError, OSError) as exc:
        zh, _, en = str(exc).partition("\n")
        refuse("RENFANG_USERS", zh, en or zh)
    if is_demo:
        typer.echo("演示模式：内置演示用户（密码见 README）/ demo mode: the shipped demo users")
    home = dagster_home(Warehouse().live_file)
    typer.echo(f"DAGSTER_HOME={home}")
    raise typer.Exit(serve(port, dashboard_port, docs_port, typer.echo))
