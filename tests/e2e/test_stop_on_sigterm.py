"""SIGTERM during `renfang run`: the running step finishes, no later step starts, the run is
marked canceled with its pool slot released, and the command exits 143 (128 + SIGTERM).

What stays the same in the warehouse: everything. The steps that finished wrote the run's
staging copy, which a stopped run never publishes and the command removes: the live file is
exactly as before (here, a new warehouse: still absent), and the stop is in the audit log.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from fixtures.landing import PROCESSING_DATE, write_fixture_landing

from warehouse.connection import PROJECT_ROOT

pytestmark = pytest.mark.slow


def test_sigterm_stops_a_run_at_the_next_step_boundary(tmp_path: Path) -> None:
    home = tmp_path / "dagster"
    landing = write_fixture_landing(tmp_path / "landing")
    warehouse = tmp_path / "warehouse.duckdb"
    env = {**os.environ, "DAGSTER_HOME": str(home), "RENFANG_REPORTS": str(tmp_path / "reports")}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", "--landing", str(landing),
         "--warehouse", str(warehouse), "--today", PROCESSING_DATE],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        run_id = _first_step_done(home, process)
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    text = out.decode()
    assert process.returncode == 128 + signal.SIGTERM, text[-3000:]
    assert "SIGTERM received: stopped after the running step" in text
    assert "Traceback" not in text.split("SIGTERM: ")[-1]  # the command's own exit is clean

    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.CANCELED
        started = _steps(instance, run_id, dg.DagsterEventType.STEP_START)
        succeeded = _steps(instance, run_id, dg.DagsterEventType.STEP_SUCCESS)
        assert not _steps(instance, run_id, dg.DagsterEventType.STEP_FAILURE)
        assert started == succeeded  # every step that started ran to its end
        planned = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id).steps
        assert 0 < len(started) < len(planned) / 2, (len(started), len(planned))
        info = instance.event_log_storage.get_concurrency_info("duckdb_writer")
        assert not info.claimed_slots and not info.pending_steps  # the slot is free again
    assert not warehouse.exists(), "a stopped run publishes nothing"
    assert not list(tmp_path.glob(".warehouse.duckdb.staging-*")), "its copy is removed"
    audit = (tmp_path / "warehouse.audit.jsonl").read_text(encoding="utf-8")
    assert '"run_failed"' in audit and "SIGTERM" in audit


def _first_step_done(home: Path, process: subprocess.Popen) -> str:
    """Wait until the CLI's run has finished one step; return its run id. The run's event
    log (a SQLite file per run) is read read-only: opening a `DagsterInstance` here while the
    CLI creates its storage would migrate the same files from two processes at once."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0].decode()[-3000:]
        for log in (home / "history" / "runs").glob("*-*-*-*-*.db"):
            try:
                with sqlite3.connect(f"file:{log}?mode=ro", uri=True) as con:
                    done = con.execute(
                        "SELECT count(*) FROM event_logs WHERE dagster_event_type = 'STEP_SUCCESS'"
                    ).fetchone()[0]
            except sqlite3.Error:  # not created yet
                continue
            if done:
                return log.stem
        time.sleep(0.2)
    raise AssertionError("the run never finished a step")


def _steps(instance: dg.DagsterInstance, run_id: str, kind: dg.DagsterEventType) -> set[str]:
    return {e.step_key for e in instance.all_logs(run_id, of_type=kind) if e.step_key is not None}
