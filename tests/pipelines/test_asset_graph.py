"""A snapshot of the asset graph: any unreviewed change to it fails here.

Asset keys, groups, kinds, code versions, dependencies, partitions and owners; every check with
whether it blocks; jobs with their selections; schedules and sensors with their targets,
cron and default status. A renamed asset or a lost or weakened check shows up as a diff of
`asset_graph.json`. After a deliberate change, regenerate the snapshot with
`RENFANG_UPDATE_SNAPSHOT=1 pytest tests/pipelines/test_asset_graph.py` and review the diff
in the commit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.definitions import build_defs

SNAPSHOT = Path(__file__).with_name("asset_graph.json")


def describe(defs: dg.Definitions) -> dict[str, Any]:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "code_version": node.code_version,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "partitions": type(node.partitions_def).__name__ if node.partitions_def else None,
            "owners": sorted(node.owners),
        }
    checks = {}
    for check_key in sorted(graph.asset_check_keys, key=str):
        spec = graph.get_check_spec(check_key)
        checks[f"{check_key.asset_key.to_user_string()}:{check_key.name}"] = {
            "blocking": spec.blocking
        }
    jobs = {}
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue
        selected = job.asset_layer.executable_asset_keys if job.asset_layer else set()
        jobs[job.name] = {
            "assets": sorted(k.to_user_string() for k in selected),
            "partitioned": job.partitions_def is not None,
        }
    schedules = {
        s.name: {
            "job": s.job_name,
            "cron": s.cron_schedule,
            "timezone": s.execution_timezone,
            "default_status": s.default_status.value,
        }
        for s in defs.schedules or []
        if isinstance(s, dg.ScheduleDefinition)
    }
    sensors = {
        s.name: {
            "jobs": sorted(j.name for j in s.jobs),
            "interval_seconds": s.minimum_interval_seconds,
            "default_status": s.default_status.value,
        }
        for s in defs.sensors or []
        if isinstance(s, dg.SensorDefinition)
    }
    return {
        "assets": assets,
        "checks": checks,
        "jobs": jobs,
        "schedules": schedules,
        "sensors": sensors,
    }


def test_the_asset_graph_matches_its_reviewed_snapshot() -> None:
    current = describe(build_defs())
    text = json.dumps(current, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if os.environ.get("RENFANG_UPDATE_SNAPSHOT") == "1":
        SNAPSHOT.write_text(text, encoding="utf-8")
    stored = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert current == stored, (
        "the asset graph changed; review it and regenerate the snapshot with "
        "RENFANG_UPDATE_SNAPSHOT=1 (see this module's docstring)"
    )


def test_the_snapshot_notices_a_weakened_check() -> None:
    stored = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    blocking = [name for name, check in stored["checks"].items() if check["blocking"]]
    assert "firms:gx_suite" in blocking and "credit_scores:reasons_add_up" in blocking
    weakened = json.loads(json.dumps(stored))
    weakened["checks"]["firms:gx_suite"]["blocking"] = False
    assert weakened != describe(build_defs())


def test_every_asset_has_an_owner_from_the_owners_file() -> None:
    from pipelines.owners import load_owners

    graph = build_defs().resolve_asset_graph()
    teams = load_owners().groups
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners, key
        assert tuple(node.owners) == teams[node.group_name], key


def test_the_owners_file_is_validated(tmp_path: Path) -> None:
    import pytest

    from pipelines.owners import OwnersError, load_owners

    bad = tmp_path / "owners.yaml"
    bad.write_text("groups:\n  raw: [data intake]\n", encoding="utf-8")
    with pytest.raises(OwnersError, match=r"groups: raw: \['data intake'\] are not"):
        load_owners(bad)
