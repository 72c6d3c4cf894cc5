"""The Dagster code location: every asset, check, job and resource, assembled in one place.

`build_defs()` takes resource overrides so tests point the same graph at a temporary
warehouse and a fixture landing folder; `defs` is what `dagster dev` and `renfang run` load.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import nullcontext

import dagster as dg

from models.contracts import Contracts, default_contracts
from pipelines.assets.credit import SCORE_PARTITIONS, credit_assets
from pipelines.assets.ingestion import FULL_REBUILD_TAG, conservation_checks, ingestion_assets
from pipelines.assets.publish import publish_assets, published_warehouse_asset
from pipelines.assets.review import review_assets
from pipelines.assets.risk import retrain_schedule, risk_assets, risk_job
from pipelines.assets.sampling import sampling_assets
from pipelines.automation import landing_sensor, month_end_schedule
from pipelines.memory import MEMORY_HOOKS, survivors_frozen
from pipelines.owners import with_owners
from pipelines.quality.gx_gate import gx_asset_checks
from pipelines.resources import Landing, Rules, Warehouse
from pipelines.stopping import execute_stoppable
from warehouse.connection import one_instance_per_run

MAIN_JOB = "main"
ROUND_JOB = "round"


def build_defs(
    *,
    warehouse: Warehouse | None = None,
    landing: Landing | None = None,
    rules: Rules | None = None,
    contracts: Contracts | None = None,
) -> dg.Definitions:
    """All definitions; pass resources to override the environment-driven defaults."""
    contracts = contracts or default_contracts()
    steps = with_owners(  # every asset carries its group's team (pipelines/owners.yaml)
        [
            *ingestion_assets(contracts),
            *review_assets(contracts),
            *credit_assets(),
            *sampling_assets,
            *risk_assets(),
        ]
    )
    published, *publications = with_owners(
        [published_warehouse_asset([k for a in steps for k in a.keys]), *publish_assets()]
    )
    assets = [*steps, published, *publications]
    checks = [*conservation_checks(contracts), *gx_asset_checks(contracts)]
    main = dg.define_asset_job(
        MAIN_JOB,
        # the daily job: the risk model (group `model`) has its own job, monthly and on demand
        selection=dg.AssetSelection.all() - dg.AssetSelection.groups("model"),
        description="The daily job: ingest the landing folder's new files, validate, derive "
        "credit records and score the firms they touch (month-end partitions; the running "
        "month = the latest scores), draft the next round, publish. Tag "
        f"`{FULL_REBUILD_TAG}=full` rebuilds everything from the archive. The risk model "
        "is not part of it (job `risk`).",
        partitions_def=SCORE_PARTITIONS,
        hooks=MEMORY_HOOKS,
    )
    round_job = dg.define_asset_job(
        ROUND_JOB,
        selection=dg.AssetSelection.assets(*sampling_assets, published),
        description="Draw one double-random round (run config: ops.sampling_round.config "
        "round_id, seed, params_file, publish, replace) from the current warehouse, publish "
        "its plan and refresh the round feedback.",
        hooks=MEMORY_HOOKS,
    )
    risk = risk_job(published)
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[main, round_job, risk],
        schedules=[month_end_schedule(main), retrain_schedule(risk)],
        sensors=[landing_sensor(main)],
        resources=fixed_resources(
            warehouse=warehouse or Warehouse(staged=True),
            landing=landing or Landing(),
            rules=rules or Rules(),
        ),
    )


def fixed_resources(**resources: dg.ConfigurableResource) -> dict[str, dg.ResourceDefinition]:
    """The resources as fixed definitions: their paths come from this process's environment
    (or the caller's code), never from a run's config. Anyone who can launch a run in the
    Dagster UI could otherwise set `resources.warehouse.config.reports_dir` to any folder of
    the server and have the round job write (and replace) folders there; with these, a run
    config naming a resource changes nothing. Each run still gets its own copy with the
    resource's lifecycle (the warehouse's staging copy is made in `setup_for_execution`)."""
    return {key: _fixed(resource) for key, resource in resources.items()}


def _fixed(resource: dg.ConfigurableResource) -> dg.ResourceDefinition:
    @dg.resource(description=type(resource).__doc__)
    def fixed(context: dg.InitResourceContext) -> Iterator[dg.ConfigurableResource]:
        copy = resource.model_copy()  # per run: private state never leaks between runs
        copy.setup_for_execution(context)
        try:
            yield copy
        finally:
            copy.teardown_after_execution(context)

    return fixed


defs = build_defs()


def execute_main(
    defs: dg.Definitions,
    *,
    instance: dg.DagsterInstance | None = None,
    run_config: dict | None = None,
    tags: dict[str, str] | None = None,
    asset_selection: Sequence[dg.AssetKey] | None = None,
    loggers: Mapping[str, dg.LoggerDefinition] | None = None,
    stoppable: bool = False,
    full: bool = False,
) -> dg.ExecuteInProcessResult:
    """Run the main job in this process over every score partition (one single-run backfill:
    all month ends in one pass), as `renfang run` and the tests do; `asset_selection`
    narrows it to some assets (benchmarks); `loggers` replaces the job's loggers (the CLI's
    progress logger; configure them in `run_config`). `stoppable` (the CLI): SIGTERM or
    Ctrl-C stops the run at the next step boundary (`pipelines.stopping`, raises
    `RunStoppedError`). `full` rebuilds every derived table from the archive instead of
    deriving again only what changed."""
    months = SCORE_PARTITIONS.get_partition_keys()
    return execute_job(
        defs,
        MAIN_JOB,
        instance=instance,
        run_config=run_config,
        tags={
            **(tags or {}),
            **({FULL_REBUILD_TAG: "full"} if full else {}),
            "dagster/asset_partition_range_start": months[0],
            "dagster/asset_partition_range_end": months[-1],
        },
        asset_selection=asset_selection,
        loggers=loggers,
        stoppable=stoppable,
        hold_warehouse=not full,
    )


def execute_job(
    defs: dg.Definitions,
    job_name: str,
    *,
    instance: dg.DagsterInstance | None = None,
    run_config: dict | None = None,
    tags: dict[str, str] | None = None,
    asset_selection: Sequence[dg.AssetKey] | None = None,
    loggers: Mapping[str, dg.LoggerDefinition] | None = None,
    stoppable: bool = False,
    hold_warehouse: bool = True,
) -> dg.ExecuteInProcessResult:
    """Run one job of `defs` in this process (`execute_main` for the main job's partitions;
    `renfang retrain` runs the `risk` job this way). `hold_warehouse`: the run's staging copy
    stays open from step to step (`warehouse.connection.one_instance_per_run`) — what a day's
    many small steps gain; a full rebuild's big steps gain nothing and would keep DuckDB's
    cache beside their own frames (a national rebuild peaked 4.2 → 5.3 GB), so it lets go."""
    job = defs.resolve_job_def(job_name)
    if loggers:
        job = job.with_logger_defs(dict(loggers))
    with survivors_frozen(), one_instance_per_run() if hold_warehouse else nullcontext():
        return (execute_stoppable if stoppable else dg.JobDefinition.execute_in_process)(
            job,
            instance=instance,
            asset_selection=asset_selection,
            raise_on_error=False,
            run_config=run_config,
            tags=tags or {},
        )
