"""Stopping a CLI run on SIGTERM (or Ctrl-C) at the next step boundary, not in a write.

What belongs here: running a job in this process so that a stop request lets the running
step finish (its write commits or rolls back as one transaction) and then starts no other
step: the run is marked canceled in the instance, its pool slots are released, and the
command exits non-zero. A second signal stops at once (the warehouse is still safe: an
uncommitted transaction is discarded, and the next CLI run repairs the instance,
`pipelines.run_recovery`). What does not: what a run computes, keeping the live warehouse
unchanged by a partial run (that is write–audit–publish's job).

How: Dagster's own handling turns SIGTERM into an interrupt raised inside whatever step is
running, and only in the main thread. So the job runs in a worker thread (where Dagster
installs no handlers), the main thread owns SIGTERM/SIGINT and only sets a flag, and a hook
on every step — run by the executor after the step's events, before the next step is
chosen — reports the run as canceling and interrupts it there.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

import dagster as dg

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class RunStoppedError(Exception):
    """The run was stopped at a step boundary by a signal; `exit_code` is 128 + signal."""

    def __init__(self, signum: int, result: dg.ExecuteInProcessResult | None) -> None:
        self.signum = signum
        self.result = result
        self.exit_code = 128 + signum
        name = signal.Signals(signum).name
        super().__init__(
            f"收到 {name}：当前步骤完成后已停止，后续步骤未运行，本次运行记为已取消\n"
            f"{name} received: stopped after the running step; no later step ran and the run "
            "is marked canceled"
        )


def execute_stoppable(job: dg.JobDefinition, **kwargs: Any) -> dg.ExecuteInProcessResult:
    """`job.execute_in_process(**kwargs)`, stopped at the next step boundary on SIGTERM or
    SIGINT (then `RunStoppedError` is raised). Outside the main thread (e.g. under a test
    runner's worker thread) signals cannot be caught: the job just runs."""
    if threading.current_thread() is not threading.main_thread():
        return job.execute_in_process(**kwargs)
    requested: list[int] = []

    def stop_at_boundary(context: Any, events: Any) -> dg.HookExecutionResult:
        if requested:
            instance, run_id = context.instance, context.run_id
            run = instance.get_run_by_id(run_id)
            if run is not None:
                instance.report_run_canceling(run, message=str(RunStoppedError(requested[0], None)))
            raise dg.DagsterExecutionInterruptedError()  # Dagster's own way to stop a plan
        return dg.HookExecutionResult(hook_name="stop_at_step_boundary", is_skipped=False)

    hook = dg.HookDefinition(name="stop_at_step_boundary", hook_fn=stop_at_boundary)
    stoppable = job.with_hooks({hook})
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = stoppable.execute_in_process(**kwargs)
        except BaseException as exc:  # handed to the main thread, raised there
            outcome["error"] = exc

    def on_signal(signum: int, frame: object) -> None:
        if requested:  # a second signal: stop now
            print(f"{signal.Signals(signum).name}: stopping now", file=sys.stderr, flush=True)
            os._exit(128 + signum)
        requested.append(signum)
        print(
            f"{signal.Signals(signum).name}: 当前步骤完成后停止 / stopping after the running step "
            "(send it again to stop now)",
            file=sys.stderr,
            flush=True,
        )

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    worker = threading.Thread(target=work, name="renfang-run", daemon=True)
    try:
        worker.start()
        while worker.is_alive():
            worker.join(0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if "error" in outcome and not (requested and _interrupted(outcome["error"])):
        raise outcome["error"]
    result = outcome.get("result")
    if requested and not (result is not None and result.success):
        raise RunStoppedError(requested[0], result)
    assert result is not None
    return result


def _interrupted(exc: BaseException) -> bool:
    return isinstance(exc, dg.DagsterExecutionInterruptedError | KeyboardInterrupt)
