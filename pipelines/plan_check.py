"""The round's blocking check (`plan_reproduces`) re-run in a process of its own, while the
round's files are written.

What belongs here: starting `models.sampling.plan_file.verify_plan` on a plan file's bytes
in a separate Python process — a re-run from nothing but the file, as a third party's
`renfang verify-draw` is — and collecting its verdict; the process's entry point
(`python -m pipelines.plan_check`: plan bytes on stdin, the verdict as JSON on stdout). What
does not: the verification itself (models), the Dagster check result (the asset).

Why a process: the re-run draws the whole round again (~3 s at 100k firms, mostly Python),
and the step meanwhile writes the round's workbook, CSV and ~3,600 calendar files; in one
process the two would take turns on one core. If the process cannot be started or dies
without a verdict, the check runs here instead — it is never skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import asdict

from models.sampling.plan_file import Verification, verify_plan


class PlanCheck:
    """`verify_plan(document)` running in another process from construction on; `result()`
    waits for it (or, if that process failed, verifies here)."""

    def __init__(self, document: bytes) -> None:
        self._document = document
        self._verdict: Verification | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._cancelled = threading.Event()
        self._thread = threading.Thread(target=self._run, name="plan-check", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        path = os.pathsep.join(p for p in sys.path if p)  # the modules this process runs
        if self._cancelled.is_set():
            return
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "pipelines.plan_check"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C stops the run at the step boundary, not this
                env={**os.environ, "PYTHONPATH": path},
            )
            out, _ = self._process.communicate(self._document)
            if self._process.returncode == 0:
                self._verdict = Verification(**json.loads(out))
        except (OSError, ValueError, TypeError):
            self._verdict = None  # verified here by `result`

    def result(self) -> Verification:
        self._thread.join()
        return self._verdict if self._verdict is not None else verify_plan(self._document)

    def cancel(self) -> None:
        """Stop the other process (the step failed before it needed the verdict)."""
        self._cancelled.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
        self._thread.join()


def main() -> None:
    verdict = verify_plan(sys.stdin.buffer.read())
    sys.stdout.write(json.dumps(asdict(verdict), ensure_ascii=False))


if __name__ == "__main__":
    main()
