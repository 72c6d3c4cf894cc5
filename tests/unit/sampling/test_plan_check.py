"""The round's blocking check in a process of its own (`pipelines.plan_check`): the same
verdict as `verify_plan` here, a tampered plan named, and the check never skipped — a
process that cannot start or gives no verdict is replaced by a verification here."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from models.sampling.plan_file import plan_bytes, verify_plan
from models.sampling.round import draw_round
from pipelines.plan_check import PlanCheck

from .round_data import round_inputs, round_params


@pytest.fixture(scope="module")
def plan() -> bytes:
    return plan_bytes(draw_round(round_inputs(), round_params()))


def _tampered(plan: bytes) -> bytes:
    document = json.loads(plan)
    document["outputs"]["draws"][0]["tier"] = "Z"
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def test_the_other_process_gives_the_verdict_of_verify_plan(plan: bytes) -> None:
    for data in (plan, _tampered(plan)):
        check = PlanCheck()
        check.submit(data)
        assert check._process is not None  # it really ran elsewhere
        assert check.result() == verify_plan(data)
        check.cancel()
        assert check._process.returncode == 0
    assert not verify_plan(_tampered(plan)).identical


def test_a_process_handed_the_inputs_first_gives_the_verdict_of_verify_plan(plan: bytes) -> None:
    """The process re-draws from the parameters and inputs while the step draws; the file is
    still judged by its own content: a tampered file, or a file of other inputs than those
    handed over, gets exactly `verify_plan`'s verdict."""
    params, inputs = round_params(), round_inputs()
    other = params.model_copy(update={"seed": params.seed + 1})
    for given, data in [
        (params, plan),
        (params, _tampered(plan)),
        (other, plan),  # the re-run ahead is of another round: the file is re-run in full
    ]:
        check = PlanCheck()
        check.start(given.model_dump(mode="json"), inputs.texts())
        check.submit(data)
        assert check.result() == verify_plan(data)
        check.cancel()
        assert check._process is not None and check._process.returncode == 0


def test_a_process_that_gives_no_verdict_is_replaced_by_a_verification_here(
    plan: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = subprocess.Popen

    def broken(args: list[str], **kwargs: object) -> subprocess.Popen[bytes]:
        return real(["python3", "-c", "import sys; sys.exit(3)"], **kwargs)  # type: ignore[call-overload]  # kwargs as Popen got them

    monkeypatch.setattr(subprocess, "Popen", broken)
    check = PlanCheck()
    check.submit(_tampered(plan))
    assert check.result() == verify_plan(_tampered(plan))

    def missing(*args: object, **kwargs: object) -> None:
        raise OSError("no process")

    monkeypatch.setattr(subprocess, "Popen", missing)
    check = PlanCheck()
    check.submit(plan)
    assert check.result().identical
    check.cancel()


def test_a_check_never_handed_a_plan_is_stopped() -> None:
    check = PlanCheck()
    check.cancel()
    assert check._process is not None and check._process.returncode is not None


def test_the_verdict_must_be_about_the_published_file(plan: bytes, tmp_path: Path) -> None:
    """The check verified the bytes the step wrote; the file published must be those bytes."""
    from pipelines.assets.sampling import _plan_check

    published = tmp_path / "plan.json"
    published.write_bytes(plan)
    assert _plan_check(published, verify_plan(plan)).passed
    published.write_bytes(_tampered(plan))
    result = _plan_check(published, verify_plan(plan))
    assert not result.passed
    differences = str(result.metadata["differences"])
    assert hashlib.sha256(_tampered(plan)).hexdigest() in differences
    assert "公布的计划文件与复核的文件不一致" in differences
