"""Recovering from runs that died without saying so (SIGKILL, power loss, OOM killer).

What belongs here: tagging the runs the CLI launches with the host and process that executes
them, and — before the next CLI run starts — marking the runs whose process is gone as failed
and freeing their concurrency slots. Without it a killed run stays STARTED in the instance and
keeps its `duckdb_writer` slot, so every later run would wait for that slot forever. The
warehouse itself needs no repair: each write is one DuckDB transaction, and an uncommitted
one is discarded when the file is next opened. What does not: runs launched by the UI's
daemon (its run monitoring handles those), any pipeline step.
"""

from __future__ import annotations

import os
import socket

import dagster as dg

PID_TAG = "renfang/pid"
HOST_TAG = "renfang/host"


def cli_run_tags() -> dict[str, str]:
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def recover_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail and release every unfinished CLI run of this host whose process no longer exists;
    returns their run ids."""
    unfinished = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]
    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=unfinished, tags={HOST_TAG: socket.gethostname()})
    )
    recovered = []
    for record in records:
        run = record.dagster_run
        pid = run.tags.get(PID_TAG)
        if pid is None or _alive(int(pid)):
            continue
        instance.report_run_failed(
            run, message=f"进程 {pid} 已不存在（被终止）/ process {pid} is gone (killed)"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovered.append(run.run_id)
    return recovered


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
