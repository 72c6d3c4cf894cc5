"""The round's blocking check (`plan_reproduces`) re-run in a process of its own, while the
round is drawn and its files are written.

What belongs here: starting `models.sampling.plan_file.verify_plan` on a plan file's bytes
in a separate Python process — a re-run from nothing but the file, as a third party's
`renfang verify-draw` is — and collecting its verdict; the process's entry point
(`python -m pipelines.plan_check`: on stdin, optionally the round's parameters and canonical
inputs, then the plan bytes, each a message `<kind> <length>\n<bytes>`; the verdict as JSON
on stdout). What does not: the verification itself (models), the Dagster check result (the
asset).

Why a process: the re-run draws the whole round again (~1.5 s at 100k firms, mostly Python);
in one process it would take turns on one core with the step's own draw and files. The
process is handed the parameters and inputs as soon as they are gathered (`start`) and
re-draws while the step draws (`models.sampling.plan_file.rerun_plan`); the plan file, when
it comes, is IDENTICAL if it is byte for byte that re-run, and is otherwise verified from its
own content in full — the verdict `verify_plan` gives the file either way. If the process
cannot be started or dies without a verdict, the check runs here instead — it is never
skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import asdict
from typing import Any, BinaryIO

from models.sampling.plan_file import Verification, rerun_plan, verify_plan


class PlanCheck:
    """A verifier process, started ahead so that it loads its modules while the step gathers;
    `start` hands it the round's parameters and inputs (it re-draws while the step draws),
    `submit` a plan file's bytes, `result` waits for its verdict (or, if the process could not
    be started or gave none, verifies here); `cancel` stops it (always called when the step
    ends: a no-op once the verdict is in)."""

    def __init__(self) -> None:
        self._document: bytes | None = None
        self._verdict: Verification | None = None
        self._thread: threading.Thread | None = None
        self._sending: threading.Thread | None = None
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

    def start(self, parameters: dict[str, Any], texts: dict[str, str]) -> None:
        """Hand the process the round's parameters (`RoundParams.model_dump(mode="json")`) and
        canonical inputs (`RoundInputs.texts()`) before the plan exists; at most once, before
        `submit`. The pipe is written by a thread (the process may still be loading)."""
        if self._process is None or self._sending is not None or self._document is not None:
            return
        payload = json.dumps({"parameters": parameters, "inputs": texts}, ensure_ascii=False)
        message = _message(INPUTS, payload.encode("utf-8"))
        self._sending = threading.Thread(
            target=self._send, args=(message,), name="plan-check-inputs", daemon=True
        )
        self._sending.start()

    def _send(self, message: bytes) -> None:
        process = self._process
        if process is None or process.stdin is None:
            return
        try:
            process.stdin.write(message)
            process.stdin.flush()
        except (OSError, ValueError):  # the process died (its verdict will be missing)
            pass

    def submit(self, document: bytes) -> None:
        """Verify `document` (once): the process reads it while the caller goes on."""
        self._document = document
        self._thread = threading.Thread(target=self._communicate, name="plan-check", daemon=True)
        self._thread.start()

    def _communicate(self) -> None:
        if self._process is None or self._document is None:
            return
        if self._sending is not None:
            self._sending.join()
        try:
            out, _ = self._process.communicate(_message(PLAN, self._document))
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
        if self._sending is not None:
            self._sending.join()
        if self._thread is not None:
            self._thread.join()
        else:
            process.communicate()  # reaped, its pipes closed


INPUTS, PLAN = b"inputs", b"plan"
"""The kinds of message on the process's stdin: the round's parameters and inputs
(optional, first), the plan file's bytes."""


def _message(kind: bytes, data: bytes) -> bytes:
    return kind + b" %d\n" % len(data) + data


def _read_message(stream: BinaryIO) -> tuple[bytes, bytes]:
    kind, size = stream.readline().split()
    data = stream.read(int(size))
    if len(data) != int(size):
        raise EOFError(f"{kind!r}: {len(data)} of {int(size)} bytes")
    return kind, data


def main() -> None:
    stdin = sys.stdin.buffer
    kind, data = _read_message(stdin)
    rerun = None
    if kind == INPUTS:  # re-draw now, while the step draws; then the plan file
        given = json.loads(data)
        rerun = rerun_plan(given["parameters"], given["inputs"])
        kind, data = _read_message(stdin)
    if kind != PLAN:
        raise ValueError(f"expected the plan file, not {kind!r}")
    verdict = verify_plan(data, rerun=rerun)
    sys.stdout.write(json.dumps(asdict(verdict), ensure_ascii=False))


if __name__ == "__main__":
    main()
