"""The plan file: deterministic bytes, IDENTICAL on re-run, and every kind of tampering found
and named — an edited output, an edited input, an input swapped together with its hash, a
published input file that differs, a re-formatted file, a foreign algorithm version."""

from __future__ import annotations

import json

import pytest

from models.sampling.canonical import canonical_text
from models.sampling.plan_file import PlanFileError, plan_bytes, verify_plan
from models.sampling.round import draw_round

from .round_data import round_inputs, round_params


@pytest.fixture(scope="module")
def plan() -> bytes:
    return plan_bytes(draw_round(round_inputs(), round_params()))


def _edit(data: bytes, edit) -> bytes:
    document = json.loads(data)
    edit(document)
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def test_an_untouched_plan_is_identical(plan: bytes) -> None:
    result = verify_plan(plan)
    assert result.identical, result.differences
    assert result.recomputed_sha256 == result.plan_sha256


def test_the_document_holds_what_a_third_party_needs(plan: bytes) -> None:
    document = json.loads(plan)
    assert document["seed"] == 20270101 and document["algorithm_version"] == "draw-1"
    assert set(document["inputs"]) == {"firms", "inspectors", "conflicts", "previous", "risk"}
    assert document["calendar"]["working_days"][0] == "2027-01-04"  # 1–3 Jan: New Year
    assert {"strata", "draws", "schedule"} <= document["outputs"].keys()
    assert "name" not in document["inputs"]["inspectors"]["csv"].splitlines()[0]


def test_a_drawn_firm_swapped_in_the_outputs_is_named(plan: bytes) -> None:
    def swap(document: dict) -> None:
        document["outputs"]["draws"][0]["uscc"] = "91310000FAKE000"

    result = verify_plan(_edit(plan, swap))
    assert not result.identical
    assert any("91310000FAKE000 is in the plan but not in the re-run" in d
               for d in result.differences)  # fmt: skip


def test_a_moved_inspection_date_is_named(plan: bytes) -> None:
    def move(document: dict) -> None:
        document["outputs"]["schedule"][0]["inspection_date"] = "2027-03-31"

    result = verify_plan(_edit(plan, move))
    assert any("inspection_date" in d for d in result.differences)


def test_an_edited_input_breaks_its_recorded_hash(plan: bytes) -> None:
    def drop_firm(document: dict) -> None:
        lines = document["inputs"]["firms"]["csv"].splitlines(keepends=True)
        document["inputs"]["firms"]["csv"] = "".join(lines[:-1])

    result = verify_plan(_edit(plan, drop_firm))
    assert any(d.startswith("inputs.firms:") for d in result.differences)


def test_an_input_swapped_with_its_hash_still_changes_the_outputs(plan: bytes) -> None:
    from models.sampling.canonical import sha256_text

    def retier(document: dict) -> None:
        text = document["inputs"]["firms"]["csv"].replace(",A,", ",D,")
        document["inputs"]["firms"].update(csv=text, sha256=sha256_text(text))

    result = verify_plan(_edit(plan, retier))
    assert not result.identical
    assert any(d.startswith("outputs.") for d in result.differences)
    assert result.plan_sha256 != verify_plan(plan).plan_sha256  # the published hash differs


def test_a_published_input_file_that_differs_is_named(plan: bytes) -> None:
    inputs = round_inputs()
    same = canonical_text("firms", inputs.firms.reverse())
    assert verify_plan(plan, {"firms": same}).identical
    other = canonical_text("inspectors", inputs.inspectors.head(-1))
    result = verify_plan(plan, {"inspectors": other})
    assert any(d.startswith("inputs.inspectors: the given file hashes") for d in result.differences)


def test_a_reformatted_file_is_not_identical(plan: bytes) -> None:
    reformatted = json.dumps(json.loads(plan), ensure_ascii=True).encode()
    result = verify_plan(reformatted)
    assert result.differences == [
        "file: same content but different bytes (re-formatted or edited outside the parts "
        "compared) / 内容一致但文件字节不同"
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "not a plan file"),
        (b'{"format": "other"}', "expected format"),
    ],
)
def test_a_file_that_is_not_a_plan_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(PlanFileError, match=message):
        verify_plan(data)


def test_a_plan_of_another_algorithm_version_is_refused(plan: bytes) -> None:
    def bump(document: dict) -> None:
        document["algorithm_version"] = "draw-9"

    with pytest.raises(PlanFileError, match="draw-9"):
        verify_plan(_edit(plan, bump))
