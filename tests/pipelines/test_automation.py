"""The month-end schedule and the landing sensor decide the right runs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.automation import LANDING_SENSOR, MONTH_END_SCHEDULE
from pipelines.definitions import build_defs
from pipelines.resources import Landing, Warehouse


def defs_for(landing: Path, tmp_path: Path) -> dg.Definitions:
    return build_defs(
        warehouse=Warehouse(path=str(tmp_path / "w.duckdb")), landing=Landing(path=str(landing))
    )


def test_the_schedule_scores_the_month_that_just_ended(fixture_landing, tmp_path):
    defs = defs_for(fixture_landing, tmp_path)
    schedule = defs.resolve_schedule_def(MONTH_END_SCHEDULE)
    assert schedule.cron_schedule == "0 2 1 * *"
    when = datetime(2026, 12, 1, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    context = dg.build_schedule_context(
        scheduled_execution_time=when, repository_def=defs.get_repository_def()
    )
    request = schedule.evaluate_tick(context).run_requests[0]
    assert request.partition_key == "2026-11-01"


def test_the_sensor_runs_once_per_change_of_the_landing_folder(fixture_landing, tmp_path):
    defs = defs_for(fixture_landing, tmp_path)
    sensor = defs.resolve_sensor_def(LANDING_SENSOR)
    resources = {
        "landing": Landing(path=str(fixture_landing)),
        "warehouse": Warehouse(path=str(tmp_path / "w.duckdb")),  # nothing received yet
    }

    first = sensor(dg.build_sensor_context(cursor=None, resources=resources))
    assert len(first.run_requests) == 1
    unchanged = sensor(dg.build_sensor_context(cursor=first.cursor, resources=resources))
    assert not unchanged.run_requests

    (fixture_landing / "commendations").mkdir()
    (fixture_landing / "commendations" / "新.csv").write_text("表彰文号,统一社会信用代码\n")
    changed = sensor(dg.build_sensor_context(cursor=first.cursor, resources=resources))
    assert len(changed.run_requests) == 1
    assert changed.cursor != first.cursor
