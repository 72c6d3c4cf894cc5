"""A fixture warehouse for the dashboard tests, built once per run by the real pipeline:
the main job on the fixture landing folder (processing date 2025-12-31; it drafts the next
round), then the round job publishes that draft (round 2026Q1, same seed) — so every page,
the public ones included, has rows to show. Two firms carry hostile names: Markdown (a link
and an image that would fetch from elsewhere) and a bare URL — shown as text everywhere.
Each xdist worker reads its own copy (`fixtures.shared`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from fixtures.landing import HOSTILE_NAMES, PROCESSING_DATE, write_fixture_landing
from fixtures.shared import built_once, copy_of

from pipelines.definitions import ROUND_JOB, build_defs, execute_main
from pipelines.resources import Landing, Warehouse

PUBLISHED_ROUND = "2026Q1"
ROUND_SEED = 20251231  # the seed the main job drafted it with


def build_dashboard_warehouse(root: Path) -> None:
    landing = write_fixture_landing(root / "landing", firm_names=HOSTILE_NAMES)
    warehouse = Warehouse(path=str(root / "warehouse.duckdb"), reports_dir=str(root / "reports"))
    defs = build_defs(
        warehouse=warehouse, landing=Landing(path=str(landing), today=PROCESSING_DATE)
    )
    with dg.DagsterInstance.ephemeral() as instance:
        assert execute_main(defs, instance=instance).success
        published = defs.resolve_job_def(ROUND_JOB).execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={
                "ops": {
                    "sampling_round": {
                        "config": {"round_id": PUBLISHED_ROUND, "seed": ROUND_SEED, "publish": True}
                    }
                }
            },
        )
        assert published.success


@pytest.fixture(scope="session")
def dashboard_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This worker's copy of the fixture warehouse (built once for the whole run)."""
    shared = built_once(tmp_path_factory, "dashboards", build_dashboard_warehouse)
    return copy_of(shared, tmp_path_factory.mktemp("dashboards") / "copy") / "warehouse.duckdb"


@pytest.fixture
def use_warehouse(dashboard_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the dashboards (which read the environment at run time) at the fixture, with
    the shipped demo users (allowed by the demo flag only)."""
    monkeypatch.setenv("RENFANG_WAREHOUSE", str(dashboard_warehouse))
    monkeypatch.setenv("RENFANG_DEMO_USERS", "1")
    monkeypatch.delenv("RENFANG_USERS", raising=False)
    monkeypatch.setenv("RENFANG_REPORTS", str(dashboard_warehouse.parent / "reports"))
    monkeypatch.delenv("RENFANG_DOCS_URL", raising=False)
    yield dashboard_warehouse
    assert os.environ["RENFANG_WAREHOUSE"] == str(dashboard_warehouse)
