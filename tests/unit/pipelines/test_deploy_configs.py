"""Every committed Dagster instance file is valid against Dagster's own instance schema and
keeps the rules the warehouse depends on: one DuckDB writer at a time, telemetry off, and a
killed run is never resumed in the middle of a write."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config_schema

from warehouse.connection import PROJECT_ROOT

INSTANCE_FILES = [
    PROJECT_ROOT / "dagster.yaml",
    *sorted((PROJECT_ROOT / "deploy").glob("dagster.*.yaml")),
]


@pytest.mark.parametrize("path", INSTANCE_FILES, ids=lambda p: p.name)
def test_instance_file_is_valid_and_keeps_one_writer(path: Path) -> None:
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = validate_config(dagster_instance_config_schema(), config)
    assert result.success, [e.message for e in result.errors]
    assert config["telemetry"] == {"enabled": False}
    assert config["concurrency"]["pools"] == {"granularity": "op", "default_limit": 1}
    assert config["run_monitoring"]["enabled"] is True
    if path.parent.name == "deploy":
        assert config["run_monitoring"]["max_resume_run_attempts"] == 0


def test_there_are_production_variants() -> None:
    names = {p.name for p in INSTANCE_FILES}
    assert {"dagster.postgres.yaml", "dagster.k8s.yaml", "dagster.celery.yaml"} <= names
    workspace = yaml.safe_load((PROJECT_ROOT / "deploy" / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["module_name"] == "pipelines.definitions"
