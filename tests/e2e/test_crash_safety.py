"""Crash safety: `renfang run` killed with SIGKILL in the middle of a write leaves
every table either as it was before the run or as the run would have left it — never mixed —
and a re-run completes with results identical to an uninterrupted run.

The kill lands inside a write on demand: the warehouse's commit failpoint
(`warehouse.connection._commit_failpoint`) holds the N-th commit of the process with its rows
inserted but not committed, the test sees the marker file and sends SIGKILL to the whole
process group. Several N put the crash into ingestion, credit and sampling writes (of the
run's staging copy); the named points `publish` and `spare` (`warehouse.staging._failpoint`)
kill the run at the moment its results are about to be made live.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures.cli import run_fixture
from fixtures.hashes import table_hashes
from fixtures.landing import FIRM_DESIGN, PENALTY_HEADER, PROCESSING_DATE
from fixtures.shared import built_once, copy_of

from pipelines.resources import Warehouse
from warehouse.connection import PROJECT_ROOT

pytestmark = pytest.mark.slow

VOLATILE_COLUMNS = {"run_id", "logged_at", "ingested_at", "created_at", "first_seen", "trained_at",
                    "plan_file", "artefact_file", "hashed_at_ns"}  # fmt: skip
"""Columns that record when, in which run or where (each warehouse here writes its files
beside itself) something happened — not what was computed."""
APPEND_ONLY_TABLES = {"ingestion_log", "warehouse_state", "table_writes", "row_writes"}
"""One row per file and run, the generation counter of publications, and what each statement
that wrote a clean table logged (random tokens, `warehouse.write_log`): they record that runs
happened, not what was computed."""
KILL_AT_COMMITS: tuple[int | str, ...] = (4, 15, 24, "publish", "spare")
"""Commits in ingestion, in the credit layer and near the end, the moment the run's results
are about to be made live (the swap), and the moment after the state being replaced got its
second name as the next run's spare (`warehouse.staging`): the spare is then the live file
itself, which the next run must not write into."""


def cli_run(landing: Path, warehouse: Path, home: Path, failpoint: int | str | None = None,
            marker: Path | None = None) -> subprocess.Popen:  # fmt: skip
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "RENFANG_REPORTS": str(warehouse.parent / "reports"),
    }
    if isinstance(failpoint, str) and marker is not None:  # a named point, e.g. the swap
        env |= {"RENFANG_FAILPOINT_AT": failpoint, "RENFANG_FAILPOINT_MARKER": str(marker)}
    elif failpoint is not None and marker is not None:
        env |= {"RENFANG_FAILPOINT": str(failpoint), "RENFANG_FAILPOINT_MARKER": str(marker)}
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--landing", str(landing),
           "--warehouse", str(warehouse), "--today", PROCESSING_DATE]  # fmt: skip
    return subprocess.Popen(
        cmd, env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def run_to_end(*args: Path) -> None:
    process = cli_run(*args)
    out, _ = process.communicate(timeout=300)
    assert process.returncode == 0, out.decode()[-3000:]


def fingerprints(warehouse: Path) -> dict[str, str]:
    """Table → SHA-256 of its sorted rows without volatile columns."""
    return table_hashes(warehouse, skip=APPEND_ONLY_TABLES, volatile=VOLATILE_COLUMNS)


def test_a_run_killed_mid_write_leaves_old_or_new_tables_and_reruns_identically(
    tmp_path, tmp_path_factory
):
    home = tmp_path / "dagster"
    # the fixture landing folder after `renfang run` (built once per test run), copied
    shared = built_once(tmp_path_factory, "fixture_run", run_fixture)
    before = copy_of(shared, tmp_path / "before") / "warehouse.duckdb"
    landing = before.parent / "landing"
    old = fingerprints(before)

    # New data that changes ingestion, credit and sampling tables alike.
    (landing / "penalty_decisions" / "补录.csv").write_text(
        ",".join(PENALTY_HEADER) + "\n"
        f"沪国动罚〔2025〕9号,{FIRM_DESIGN},上海申防,2025-06-02,其他违反人防法规行为,罚款,"
        "20000,普通,上海市国防动员办公室,有效,2025-06-10\n",
        encoding="utf-8",
    )
    expected = tmp_path / "expected" / "warehouse.duckdb"
    expected.parent.mkdir()
    shutil.copy(before, expected)
    run_to_end(landing, expected, home)
    new = fingerprints(expected)
    changed = {t for t in new if new[t] != old.get(t)}
    assert {"penalty_decisions", "credit_records", "credit_scores"} <= changed

    crashed = tmp_path / "crashed" / "warehouse.duckdb"
    crashed.parent.mkdir()
    shutil.copy(before, crashed)
    for n in KILL_AT_COMMITS:
        marker = tmp_path / f"paused_at_{n}"
        process = cli_run(landing, crashed, home, failpoint=n, marker=marker)
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert process.poll() is None, f"the run ended before commit {n}"
            assert time.monotonic() < deadline, f"commit {n} never reached"
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        state = fingerprints(crashed)
        mixed = {t: h for t, h in state.items() if h not in (old.get(t), new.get(t))}
        assert not mixed, f"killed at commit {n}: tables neither old nor new: {sorted(mixed)}"
        log = Warehouse(path=str(crashed)).read_table("ingestion_log")
        conserved = log.get_column("rows_read") == (
            log.get_column("rows_accepted")
            + log.get_column("rows_quarantined")
            + log.get_column("rows_collapsed")
        )
        assert conserved.all()

    run_to_end(landing, crashed, home)
    assert fingerprints(crashed) == new
