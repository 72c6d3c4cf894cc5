"""Concurrency: the dashboard keeps answering — no exception, no error shown, over a
few hundred page requests — while the real pipeline (`renfang run`, the whole main job in
another process) rewrites the warehouse underneath it.

Every request is a full page run through Streamlit's AppTest as the manager, cycling through
all seven pages, reading the warehouse through the dashboards' own read path (short
read-only connections with retry). Requests are counted only while a run is writing; when a
run finishes, the next one starts (re-running is idempotent), until enough requests have
been served.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.landing import PROCESSING_DATE, write_fixture_landing
from streamlit.testing.v1 import AppTest

from dashboards.auth import User
from warehouse.connection import PROJECT_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::UserWarning")]

APP = PROJECT_ROOT / "dashboards" / "streamlit_app.py"
PAGES = ("overview", "firm_profile", "rounds", "data_quality", "validation", "tier_list",
         "round_results")  # fmt: skip
REQUESTS_DURING_WRITES = 200


def start_run(landing: Path, warehouse: Path, home: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--landing", str(landing),
           "--warehouse", str(warehouse), "--today", PROCESSING_DATE]  # fmt: skip
    env = {**os.environ, "DAGSTER_HOME": str(home),
           "RENFANG_REPORTS": str(warehouse.parent / "reports")}  # fmt: skip
    return subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)  # fmt: skip


def test_the_dashboard_keeps_answering_while_the_pipeline_writes(
    dashboard_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(dashboard_warehouse, warehouse)
    shutil.copytree(dashboard_warehouse.parent / "reports", tmp_path / "reports")
    monkeypatch.setenv("RENFANG_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("RENFANG_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("RENFANG_DEMO_USERS", "1")  # the shipped users, for a test
    landing = write_fixture_landing(tmp_path / "landing")

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["user"] = User(username="manager", name="manager", role="manager")
    at.session_state["lang"] = "zh"
    at.run()

    served, runs, problems = 0, 0, []
    wal = warehouse.with_name(warehouse.name + ".wal")
    untouched = (warehouse.stat().st_mtime_ns, wal.exists())
    writer = start_run(landing, warehouse, tmp_path / "dagster")
    deadline = time.monotonic() + 420
    while served < REQUESTS_DURING_WRITES:
        assert time.monotonic() < deadline, f"only {served} requests served in time"
        if writer.poll() is not None:
            out = writer.stdout.read().decode() if writer.stdout else ""
            assert writer.returncode == 0, out[-3000:]
            runs += 1
            writer = start_run(landing, warehouse, tmp_path / "dagster")
            continue
        writing = (warehouse.stat().st_mtime_ns, wal.exists()) != untouched
        page = PAGES[served % len(PAGES)]
        at.switch_page(f"views/{page}.py").run()
        if at.exception or at.error:
            problems.append((page, [e.value for e in [*at.exception, *at.error]]))
        served += writing  # only requests once the run has begun to write count
        time.sleep(0.02)
    out, _ = writer.communicate(timeout=300)
    assert writer.returncode == 0, out.decode()[-3000:]
    assert not problems, problems[:5]
    assert served == REQUESTS_DURING_WRITES
