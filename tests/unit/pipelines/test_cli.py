"""The command line as a new user meets it: --version, help that reads (real metavars, whole
sentences), bad options refused before anything runs, progress while a run works, and a
failed step's cause in one line."""

from __future__ import annotations

import io
import re

import dagster as dg
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.cli.progress import Progress, cause_of, failure_lines, one_line, step_failures

COMMANDS = [
    ["run"], ["retrain"], ["score"], ["generate"], ["ui"], ["backtest"], ["draw"], ["verify-draw"],
    ["rounds"], ["export"], ["export", "tier-list"], ["export", "disclosure"],
    ["export", "penalty-feed"], ["listing"], ["listing", "propose"], ["listing", "list"],
    ["objections"], ["report"], ["verify-report"], ["users"], ["users", "add-firm"],
]  # fmt: skip


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert re.match(r"renfang \d+\.\d+\.\d+ \(Python 3\.\d+\.\d+, dagster \d", result.output)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_shows_real_metavars_and_whole_sentences(command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output
    text = result.output
    assert not re.search(r"<(int|bool|str|float|path|file)>", text), text  # no type tags
    assert "{" not in text.split("\n", 1)[0], text  # `PLAN_FILE`, not `{plan_file}`
    assert "..." not in text.split("\n", 1)[1], text  # no sentence cut short
    assert "BetaWarning" not in text


def test_the_command_list_says_each_command_in_a_sentence() -> None:
    listed = invoke("--help").output.split("Commands:", 1)[1]
    entries = re.split(r"\n  (?=\S)", "\n" + listed.strip("\n"))
    for entry in filter(None, (e.strip() for e in entries)):
        assert " ".join(entry.split()).endswith("."), entry


def test_usage_names_a_required_argument_plainly() -> None:
    usage = invoke("verify-draw", "-h").output.splitlines()[0]
    assert usage.endswith("verify-draw [OPTIONS] PLAN_FILE"), usage


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--today", "2025-13-01"],
        ["retrain", "--today", "2025-13-01"],
        ["score", "--as-of", "yesterday"],
        ["draw", "--round", "2027Q1", "--seed", "1", "--today", "31/12/2025"],
        ["export", "tier-list", "--out", "x.xlsx", "--as-of", "2025-02-30"],
        ["generate", "--out", "x", "--firms", "0"],
        ["ui", "--port", "70000"],
        ["report", "--uscc", "91310115MA1FL07778", "--out", "r.pdf", "--as-of", "2025-13-01"],
        ["report", "--uscc", "not-a-uscc", "--out", "r.pdf"],
        ["verify-report", "no-such-file.pdf"],
        ["users", "add-firm", "--uscc", "91310115MA1FL0777X"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_a_bad_option_is_refused_before_anything_runs(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(
        result.exception, SystemExit
    )


# --- progress and failures on a small job --------------------------------------------------


class DomainError(ValueError):
    """Stands for a domain error (e.g. an infeasible assignment)."""


@dg.asset(group_name="raw")
def raw_firms() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 5_000})


@dg.asset(group_name="clean", deps=[raw_firms])
def firms() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"dagster/row_count": 4_990})


@dg.asset(group_name="credit", deps=[firms])
def credit_scores() -> None:
    raise DomainError("抽查批次 2027Q1 无法完成 / round cannot be drawn:\n防护设备: 14 家单位")


def run_small_job(stream: io.StringIO, *, quiet: bool = False):
    defs = dg.Definitions(
        assets=[raw_firms, firms, credit_scores],
        jobs=[dg.define_asset_job("small", selection=dg.AssetSelection.all())],
    )
    groups = {"raw_firms": "raw", "firms": "clean", "credit_scores": "credit"}
    progress = Progress(total=3, groups=groups, stream=stream, quiet=quiet)
    job = defs.resolve_job_def("small").with_logger_defs(progress.logger_defs())
    progress.start()
    result = job.execute_in_process(
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}, "progress": {}}},
    )
    progress.stop()
    return progress, result


def test_progress_says_each_finished_step_with_rows_and_speed() -> None:
    out = io.StringIO()
    progress, result = run_small_job(out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("进度：共 3 步") and "rows per second" in lines[0]
    assert re.match(r"\[1/3\] 读取 +检查对象名录库（原始） +5,000 行 +[\d.]+ 秒", lines[1]), lines
    assert re.match(r"\[2/3\] 清洗 +检查对象名录库 +4,990 行", lines[2]), lines
    assert "行/秒" in lines[1] or lines[1].rstrip().endswith("秒")  # speed once measurable
    assert lines[3].startswith("[3/3] 计分") and "失败 FAILED：抽查批次 2027Q1 无法完成" in lines[3]
    assert "\r" not in out.getvalue()  # plain lines when not a terminal
    assert not result.success and progress.failed


def test_quiet_prints_no_progress() -> None:
    out = io.StringIO()
    run_small_job(out, quiet=True)
    assert out.getvalue() == ""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_status_line_names_the_running_step(monkeypatch) -> None:
    import pipelines.cli.progress as progress_module

    monkeypatch.setattr(progress_module, "TICK_SECONDS", 0.01)

    @dg.asset(group_name="credit")
    def slow() -> None:
        import time

        time.sleep(0.3)

    out = Terminal()
    progress = Progress(total=1, groups={"slow": "credit"}, stream=out)
    job = dg.Definitions(
        assets=[slow], jobs=[dg.define_asset_job("j", selection=dg.AssetSelection.all())]
    ).resolve_job_def("j")
    progress.start()
    job.with_logger_defs(progress.logger_defs()).execute_in_process(
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}, "progress": {}}}
    )
    progress.stop()
    text = out.getvalue()
    assert "  … slow" in text and "\r" in text  # redrawn in place while it ran
    assert re.search(r"\[1/1\] 计分 +slow", text)


def test_a_failed_steps_cause_is_the_domain_message_in_one_line() -> None:
    _, result = run_small_job(io.StringIO())
    [(step, cause)] = step_failures(result)
    assert step == "credit_scores"
    assert cause == "抽查批次 2027Q1 无法完成 / round cannot be drawn: 防护设备: 14 家单位"
    [event] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert cause_of(event) == cause
    lines = failure_lines(result.run_id, step_failures(result), lambda s: "信用得分与等级")
    assert lines[0] == f"失败 failed: 信用得分与等级：{cause}"
    assert lines[1].startswith(f"运行编号 run id: {result.run_id}")


def test_one_line() -> None:
    assert one_line("a\n  b\n\nc ") == "a b c"


@pytest.mark.parametrize("job", ["main", "risk"])
def test_every_step_of_a_job_has_a_chinese_name_and_stage(job: str) -> None:
    """The progress lines name each step by its label: a step without one would show its
    English asset key among the Chinese names."""
    from models.labels import default_labels
    from pipelines.cli.progress import step_groups
    from pipelines.definitions import build_defs

    labels = default_labels()
    _, groups = step_groups(build_defs(), job)
    job_steps = {n.name for n in build_defs().resolve_job_def(job).graph.nodes}
    unnamed = [s for s in sorted(job_steps & set(groups)) if labels.code("table", s) == s]
    unstaged = [g for g in sorted(set(groups.values())) if labels.code("stage", g) == g]
    assert not unnamed, unnamed
    assert not unstaged, unstaged
