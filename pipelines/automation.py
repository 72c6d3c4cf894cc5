"""When things run by themselves: the month-end scoring schedule and the landing sensor.

What belongs here: deciding *when* to run which job for which partition. What does not: what
the runs compute (assets), or any rule.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import dagster as dg

from models.contracts import SOURCE_ORDER
from models.periods import previous_month
from pipelines.resources import Landing, Warehouse
from pipelines.run_recovery import LANDING_TAG, WAREHOUSE_TAG
from warehouse.ingestion import landing_unchanged
from warehouse.landing import source_files

MONTH_END_SCHEDULE = "score_month_end"
LANDING_SENSOR = "landing_files_changed"


def month_end_schedule(
    job: dg.JobDefinition | dg.UnresolvedAssetJobDefinition,
) -> dg.ScheduleDefinition:
    """On the 1st of each month at 02:00 (Asia/Shanghai), run the main job for the month that
    just ended: re-ingest, rescore, and store that month's final month-end scores."""

    @dg.schedule(
        name=MONTH_END_SCHEDULE,
        job=job,
        cron_schedule="0 2 1 * *",
        execution_timezone="Asia/Shanghai",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        now = context.scheduled_execution_time or datetime.now()
        month = previous_month(now.date()).isoformat()
        return dg.RunRequest(run_key=f"month-end-{month}", partition_key=month)

    return schedule


def landing_sensor(job: dg.JobDefinition | dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    """Every minute, fingerprint the landing folder (paths, sizes, modification times); when a
    file is new or changed against what the warehouse already received, run the main job."""

    @dg.sensor(
        name=LANDING_SENSOR,
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def sensor(
        context: dg.SensorEvaluationContext, landing: Landing, warehouse: Warehouse
    ) -> dg.SensorResult:
        fingerprint = landing_fingerprint(landing)
        if fingerprint == context.cursor:
            return dg.SensorResult(skip_reason="landing folder unchanged")
        if landing_unchanged(warehouse.live_file, landing.folder):
            # the first tick after a completed run, or files only removed: nothing to do
            return dg.SensorResult(
                skip_reason="every landing file is already received unchanged",
                cursor=fingerprint,
            )
        month = datetime.now().date().replace(day=1).isoformat()
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=f"landing-{fingerprint}",
                    partition_key=month,
                    tags={
                        WAREHOUSE_TAG: str(warehouse.live_file),
                        LANDING_TAG: str(landing.folder),
                    },
                )
            ],
            cursor=fingerprint,
        )

    return sensor


def landing_fingerprint(landing: Landing) -> str:
    """A hash of every landing file's path, size and modification time (cheap: no reads)."""
    digest = hashlib.sha256()
    for source in SOURCE_ORDER:
        for path in source_files(landing.folder, source):
            stat = path.stat()
            digest.update(
                f"{path.relative_to(landing.folder)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode()
            )
    return digest.hexdigest()[:16]
