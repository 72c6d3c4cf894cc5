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
    """A verifier process, started ahead so that it loads its modules while the step gathers
    and draws; `submit` hands it a plan file's bytes, `result` waits for its verdict (or, if
    the process could not be started or gave none, verifies here); `cancel` stops it (always
    called when the step ends: a no-op once the verdict is in)."""

    def __init__(self) -> None:
        self._document: bytes | None = None
        self._verdict: Verification | None = None
        self._thread: threading.Thread | None = None
        path = os.pathsep.join(p for p in sys.path if p)  # the modules this process runs
        try:
            self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-m", "pipelines.plan_check"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C stops the run at the step boundary, not this
                env={**os.environ, "PYTHONPATH": path},
            )
        except OSError:
            self._process = None

    def submit(self, document: bytes) -> None:
        """Verify `document` (once): the process reads it while the caller goes on."""
        self._document = document
        self._thread = threading.Thread(target=self._communicate, name="plan-check", daemon=True)
        self._thread.start()

    def _communicate(self) -> None:
        if self._process is None or self._document is None:
            return
        try:
            out, _ = self._process.communicate(self._document)
            if self._process.returncode == 0:
                self._verdict = Verification(**json.loads(out))
        except (OSError, ValueError, TypeError):
            self._verdict = None  # verified here by `result`

    def result(self) -> Verification:
        if self._document is None:
            raise RuntimeError("PlanCheck.result before submit")
        if self._thread is not None:
            self._thread.join()
        return self._verdict if self._verdict is not None else verify_plan(self._document)

    def cancel(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        if self._thread is not None:
            self._thread.join()
        else:
            process.communicate()  # reaped, its pipes closed


def main() -> None:
    verdict = verify_plan(sys.stdin.buffer.read())
    sys.stdout.write(json.dumps(asdict(verdict), ensure_ascii=False))


if __name__ == "__main__":
    main()
