"""Recovering from runs that died without saying so (SIGKILL, power loss, OOM killer).

What belongs here: tagging the runs the CLI launches with the host and process that executes
them, and — before the next CLI run starts — marking the runs whose process is gone as failed
and freeing their concurrency slots. Without it a killed run stays STARTED in the instance and
keeps its `duckdb_writer` slot, so every later run would wait for that slot forever. The
warehouse itself needs no repair: each write is one DuckDB transaction, and an uncommitted
one is discarded when the file is next opened. Runs the UI or the daemon launched on this
machine carry no CLI tags; they are recognised by the pid of their run-start event (a `make
ui` stopped mid-run leaves the same stuck slot). What does not: other machines' runs, any
pipeline step.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dagster as dg

from warehouse import staging

PID_TAG = "renfang/pid"
HOST_TAG = "renfang/host"


WAREHOUSE_TAG = "renfang/warehouse"
LANDING_TAG = "renfang/landing"


def cli_run_tags(warehouse: Path | None = None, landing: Path | None = None) -> dict[str, str]:
    """The CLI run's process and host (to recover it if killed) and the warehouse and
    landing folder it works on (shown in the UI beside the run)."""
    tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    if warehouse is not None:
        tags[WAREHOUSE_TAG] = str(warehouse)
    if landing is not None:
        tags[LANDING_TAG] = str(landing)
    return tags


def recover_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail and release every unfinished CLI run of this host whose process no longer exists;
    returns their run ids."""
    unfinished = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]
    records = instance.get_run_records(filters=dg.RunsFilter(statuses=unfinished))
    recovered = []
    for record in records:
        run = record.dagster_run
        host = run.tags.get(HOST_TAG)
        if host is not None and host != socket.gethostname():
            continue  # another machine's run: its own CLI or daemon recovers it
        pid = run.tags.get(PID_TAG) or _worker_pid(instance, run.run_id)
        if pid is None or _alive(int(pid)):
            continue
        instance.report_run_failed(
            run, message=f"进程 {pid} 已不存在（被终止）/ process {pid} is gone (killed)"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovered.append(run.run_id)
    return recovered


def discard_stale_copies(instance: dg.DagsterInstance, live: Path) -> list[Path]:
    """Remove the staging copies of runs that are no longer in progress (a killed run's copy
    is never published; the live warehouse never needed it)."""
    unfinished = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING,
                  dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED]  # fmt: skip
    alive = {r.dagster_run.run_id for r in instance.get_run_records(
        filters=dg.RunsFilter(statuses=unfinished))}  # fmt: skip
    stale = staging.stale_copies(live, alive)
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def _worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The process that executed a run launched by the UI or the daemon (no CLI tags): the
    pid its run-start event was reported from. Those runs share this local instance, so a
    `make ui` stopped mid-run leaves the same stuck slot as a killed CLI run."""
    events = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_START)
    pids = [e.dagster_event.pid for e in events if e.dagster_event and e.dagster_event.pid]
    return pids[0] if pids else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
