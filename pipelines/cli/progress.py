"""What a long command says while it works, and what it says when a step fails.

What belongs here: `Progress`, a Dagster logger that turns the run's own events (step
started, asset materialized with its row count, check evaluated, step succeeded or failed)
into one line per finished step — stage, what it made (by its label), rows, seconds, rows per
second — on stderr, so a 5,000-firm run is never a minute of silence; on a terminal a status
line also names the step running and its time so far. Plain lines when not a terminal (logs,
CI), nothing with `--quiet`. And `failure_lines`: a failed run's cause in one line per step
(the domain error's own message, Chinese first, not Dagster's wrapper) and the run id for the
full log. What does not: the summary after the run (pipelines.cli.summary).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

import dagster as dg

from models.labels import default_labels, display_width, pad

ROWS_KEYS = ("dagster/row_count", "row_count", "rows_read")
"""Where a step's metadata says how many rows it handled."""
CHECK_SUFFIXES = ("_gx_suite", "_rows_conserved")
TICK_SECONDS = 1.0
MIN_ROWS_FOR_SPEED = 100
"""Below this, rows per second says nothing (a model step writes one row in seconds)."""
NAME_WIDTH = 34


@dataclass
class _Step:
    started: float
    rows: int | None = None


@dataclass
class Progress:
    """Progress of one run, written to `stream` as steps finish.

    `total` is the number of steps planned (for `[ 3/58]`); `groups` maps a step key to its
    asset group (the stage). On a terminal (`stream.isatty()`), a ticker redraws the running
    step's line once a second; otherwise only finished steps are written, one plain line each.
    """

    total: int
    groups: dict[str, str]
    stream: IO[str] = field(default_factory=lambda: sys.stderr)
    quiet: bool = False
    done: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    _steps: dict[str, _Step] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _status: str = ""
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def tty(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())

    # --- Dagster plumbing -----------------------------------------------------------------

    def logger_defs(self) -> dict[str, dg.LoggerDefinition]:
        """The job's loggers: Dagster's console logger and this one (`progress`)."""
        handler = _Handler(self)

        @dg.logger(config_schema={}, description="renfang run: one line per finished step")
        def progress(_: dg.InitLoggerContext) -> logging.Logger:
            logger = logging.Logger("renfang.progress", level=logging.DEBUG)
            logger.addHandler(handler)
            return logger

        return {**dg.default_loggers(), "progress": progress}

    def start(self) -> None:
        if self.quiet:
            return
        self._write_line(
            f"进度：共 {self.total} 步（阶段 · 名称 · 行数 · 用时 · 每秒行数）/ "
            f"progress: {self.total} steps (stage · name · rows · seconds · rows per second)"
        )
        if self.tty:
            threading.Thread(target=self._tick, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._clear_status()

    def event(self, event: dg.DagsterEvent) -> None:
        step = event.step_key
        if step is None:
            return
        now = time.monotonic()
        kind = event.event_type_value
        if kind == "STEP_START":
            self._steps[step] = _Step(started=now)
        elif kind in ("ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION"):
            rows = _rows(event)
            state = self._steps.setdefault(step, _Step(started=now))
            if rows is not None:
                state.rows = max(state.rows or 0, rows)
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            state = self._steps.pop(step, _Step(started=now))
            self.done += 1
            cause = cause_of(event) if kind == "STEP_FAILURE" else None
            if cause is not None:
                self.failed.append((step, cause))
            if not self.quiet:
                self._write_line(self._line(step, state, now - state.started, kind, cause))

    # --- lines ----------------------------------------------------------------------------

    def _line(self, step: str, state: _Step, seconds: float, kind: str, cause: str | None) -> str:
        stage, name = self.describe(step)
        count = f"[{self.done:>{len(str(self.total))}}/{self.total}]"
        head = f"{count} {pad(stage, 4)} {pad(name, NAME_WIDTH)}"
        if kind == "STEP_FAILURE":
            return f"{head} 失败 FAILED：{cause or ''}"
        if kind == "STEP_SKIPPED":
            return f"{head} 跳过 skipped"
        rows = f"{state.rows:>11,d} 行" if state.rows is not None else " " * 13
        speed = ""
        if state.rows and state.rows >= MIN_ROWS_FOR_SPEED and seconds >= 0.05:
            speed = f"{state.rows / seconds:>11,.0f} 行/秒"
        return f"{head} {rows} {seconds:>7.1f} 秒 {speed}".rstrip()

    def describe(self, step: str) -> tuple[str, str]:
        """(stage, name) of a step in words: `清洗`, `行政处罚决定书`."""
        labels = default_labels()
        for suffix in CHECK_SUFFIXES:
            if step.endswith(suffix):
                source = labels.code("table", step.removesuffix(suffix))
                check = labels.code("check", suffix.removeprefix("_"))
                return labels.code("stage", "checks"), f"{source}：{check}"
        group = self.groups.get(step, "")
        return labels.code("stage", group), labels.code("table", step)

    def _tick(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            with self._lock:
                running = sorted(self._steps.items(), key=lambda item: item[1].started)
                if not running:
                    continue
                step, state = running[0]
                _, name = self.describe(step)
                text = f"  … {name} {time.monotonic() - state.started:.0f} 秒"
                if len(running) > 1:
                    text += f"（另有 {len(running) - 1} 步）"
                self._clear_status()
                self.stream.write(text)
                self.stream.flush()
                self._status = text

    def _write_line(self, text: str) -> None:
        with self._lock:
            self._clear_status()
            self.stream.write(text + "\n")
            self.stream.flush()

    def _clear_status(self) -> None:
        if self._status:
            self.stream.write("\r" + " " * display_width(self._status) + "\r")
            self._status = ""


class _Handler(logging.Handler):
    """Hands every Dagster event of the run to `Progress`."""

    def __init__(self, progress: Progress) -> None:
        super().__init__(level=logging.DEBUG)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        meta: Any = getattr(record, "dagster_meta", None)
        event = meta.get("dagster_event") if isinstance(meta, dict) else None
        if event is not None:
            self.progress.event(event)


def _rows(event: dg.DagsterEvent) -> int | None:
    data: Any = event.event_specific_data
    metadata = None
    if event.event_type_value == "ASSET_MATERIALIZATION":
        metadata = data.materialization.metadata if data else None
    elif event.event_type_value == "ASSET_CHECK_EVALUATION":
        metadata = data.metadata if data else None
    for key in ROWS_KEYS:
        value = (metadata or {}).get(key)
        raw = getattr(value, "value", value)
        if isinstance(raw, int):
            return raw
    return None


# --- failures --------------------------------------------------------------------------------


def cause_of(event: dg.DagsterEvent) -> str:
    """A failed step's cause in one line: a `dg.Failure`'s description, else the innermost
    error's own message (the domain error, not Dagster's `…StepExecutionError` wrapper)."""
    data: Any = event.step_failure_data
    if data is None:
        return event.message or ""
    user = data.user_failure_data
    if user is not None and user.description:
        return one_line(user.description)
    error = data.error
    while error is not None and error.cause is not None:
        error = error.cause
    if error is None:
        return ""
    # "package.module.AssignmentError: message" → "message"
    message = re.sub(rf"^[\w.]*{re.escape(error.cls_name or '')}:\s*", "", error.message.strip())
    return one_line(message or error.cls_name or "")


def one_line(text: str) -> str:
    """Lines of a message joined: `抽查批次 2027Q1 无法完成 / …: 防护设备 …`."""
    return " ".join(part.strip() for part in text.strip().splitlines() if part.strip())


def failure_lines(
    run_id: str, failures: Iterable[tuple[str, str]], describe: Callable[[str], str]
) -> list[str]:
    """What the terminal says about a failed run: each failed step's cause, then where the
    full log is."""
    lines = [f"失败 failed: {describe(step)}：{cause}" for step, cause in failures]
    lines.append(
        f"运行编号 run id: {run_id}（完整日志见 Dagster 界面 `renfang ui` → Runs / "
        "full log in the Dagster UI, `renfang ui` → Runs）"
    )
    return lines


def step_failures(result: dg.ExecuteInProcessResult) -> list[tuple[str, str]]:
    """(step key, cause) of every failed step of a finished run."""
    return [
        (event.step_key or "", cause_of(event))
        for event in result.all_events
        if event.event_type_value == "STEP_FAILURE"
    ]


def step_groups(defs: dg.Definitions, job_name: str) -> tuple[int, dict[str, str]]:
    """The number of steps a run of the job has, and each asset step's group (its stage)."""
    groups = {}
    for asset in defs.assets or []:
        if isinstance(asset, dg.AssetsDefinition) and asset.is_executable:
            spec = next(iter(asset.specs))
            groups[asset.node_def.name] = spec.group_name or ""
    return len(defs.resolve_job_def(job_name).graph.nodes), groups
