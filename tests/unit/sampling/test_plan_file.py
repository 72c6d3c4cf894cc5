"""The plan file: deterministic bytes, IDENTICAL on re-run, and every kind of tampering found
and named — an edited output, an edited input, an input swapped together with its hash, a
published input file that differs, a re-formatted file, a foreign algorithm version; a plan
of the previous algorithm (draw-1) still verifies; a supplied calendar is recorded and
reproduced; the effective probability of each tier is printed."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.sampling.canonical import canonical_text
from models.sampling.draw1 import records
from models.sampling.plan_file import (
    PlanFileError,
    _dump,
    _Rows,
    plan_bytes,
    rerun_plan,
    verify_plan,
)
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


def test_a_rerun_made_ahead_gives_the_verdict_of_the_full_rerun(plan: bytes) -> None:
    """`rerun_plan` of the round's parameters and inputs, computed before the file exists: the
    untouched file is IDENTICAL without a second draw; any other file — edited, or a rerun of
    other parameters — is judged by its own re-run, as without it."""
    params, texts = round_params(), round_inputs().texts()
    ahead = rerun_plan(params.model_dump(mode="json"), texts)
    assert ahead == plan  # the very bytes of the file
    other = rerun_plan(params.model_copy(update={"seed": 1}).model_dump(mode="json"), texts)
    assert other is not None and other != plan

    def swap(document: dict) -> None:
        document["outputs"]["draws"][0]["tier"] = "Z"

    tampered = _edit(plan, swap)
    for data in (plan, tampered):
        for rerun in (ahead, other):
            assert verify_plan(data, rerun=rerun) == verify_plan(data)
    assert not verify_plan(tampered, rerun=ahead).identical
    broken = dict(texts, firms="not,a\ncanonical,file\n")
    assert rerun_plan(params.model_dump(mode="json"), broken) is None


def test_the_document_holds_what_a_third_party_needs(plan: bytes) -> None:
    document = json.loads(plan)
    assert document["seed"] == 20270101 and document["algorithm_version"] == "draw-2"
    assert set(document["inputs"]) == {
        "firms", "inspectors", "conflicts", "previous", "risk", "bookings"
    }  # fmt: skip
    assert document["calendar"]["working_days"][0] == "2027-01-04"  # 1–3 Jan: New Year
    # holidays 0.109 has no 2027 notice: the plan says the calendar is an estimate
    assert document["calendar"]["estimated_years"] == [2027]
    assert document["calendar"]["notes"][0].startswith("2027 年放假安排尚未发布，按周末估算")
    tiers = {t["tier"]: t for t in document["tiers"]}
    assert {t: tiers[t]["probability"] for t in tiers} == {"A": 0.03, "B": 0.1, "C": 0.3,
                                                           "D": 1.0}  # fmt: skip
    assert document["office"] == {"office": "市级", "code": None, "name": "市级（全市）"}
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


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "plans"


def test_a_plan_of_the_previous_algorithm_still_verifies() -> None:
    """Plans published with draw-1 (made by that release, kept as a fixture) re-run to
    IDENTICAL with the draw-1 steps this release keeps; a tampered one is still caught."""
    data = (FIXTURES / "draw-1_2027Q1.json").read_bytes()
    assert json.loads(data)["algorithm_version"] == "draw-1"
    result = verify_plan(data)
    assert result.identical, result.differences

    def move(document: dict) -> None:
        document["outputs"]["schedule"][0]["inspection_date"] = "2027-03-31"

    assert not verify_plan(_edit(data, move)).identical


CALENDAR = {
    "source": "国务院办公厅关于2027年部分节假日安排的通知（示例）",
    "years": [2027],
    "days_off": ["2027-01-01", "2027-01-04", "2027-02-08", "2027-02-09"],
    "working_days": ["2027-01-09", "2027-02-20"],
}


def test_a_supplied_calendar_takes_precedence_is_recorded_and_reproduced() -> None:
    params = round_params(calendar=CALENDAR)
    plan = draw_round(round_inputs(), params)
    data = plan_bytes(plan)
    document = json.loads(data)
    days = document["calendar"]["working_days"]
    assert "2027-01-04" not in days and "2027-01-09" in days and "2027-02-20" in days
    assert document["calendar"]["supplied_years"] == [2027]
    assert document["calendar"]["estimated_years"] == [] and document["calendar"]["notes"] == []
    assert document["parameters"]["calendar"]["source"].startswith("国务院办公厅")
    dates = {s["inspection_date"] for s in document["outputs"]["schedule"]}
    assert dates <= set(days) and "2027-01-04" not in dates
    result = verify_plan(data)  # the re-run uses the recorded calendar, not the package
    assert result.identical, result.differences
    assert (
        document["calendar"]["working_days"]
        != json.loads(plan_bytes(draw_round(round_inputs(), round_params())))["calendar"][
            "working_days"
        ]
    )


def test_the_first_inspection_waits_for_the_notice_period() -> None:
    params = round_params(published_on=date(2026, 12, 30), notice_working_days=5)
    document = json.loads(plan_bytes(draw_round(round_inputs(), params)))
    # 2026-12-30 + 5 working days (31 Dec; 1–3 Jan holiday; 4, 5, 6, 7 Jan) = 2027-01-07
    assert document["calendar"]["first_inspection_day"] == "2027-01-07"
    assert min(s["inspection_date"] for s in document["outputs"]["schedule"]) >= "2027-01-07"


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.sampled_from(["2026-10-08", "上海\n市", '"\\', "\x00\x1f\u2028", ""]),
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
        st.dictionaries(st.one_of(st.integers(), st.none()), inner, max_size=2),  # json's
    ),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(document=st.dictionaries(st.text(max_size=6), _DOCUMENTS, max_size=5))
def test_the_plan_text_is_what_json_writes(document: dict) -> None:
    """The plan is written by a walk faster than `json`'s indenting encoder: byte for byte
    `json.dumps(..., ensure_ascii=False, indent=1)` and a newline, whatever it holds (what
    the walk does not cover — NaN, a key that is not text — handed back to `json`)."""
    expected = (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    assert _dump(document) == expected


@settings(max_examples=100, deadline=None)
@given(
    days=st.lists(st.one_of(st.none(), st.dates()), min_size=1, max_size=5),
    stamp=st.one_of(st.none(), st.datetimes()),
    with_stamp=st.booleans(),
)
def test_records_give_dates_as_iso_text(
    days: list[date | None], stamp: datetime | None, with_stamp: bool
) -> None:
    """A plan's rows: dates as `date.isoformat` text (formatted in polars for speed), any
    other value as it was; a datetime column is written the same way row by row."""
    frame = pl.DataFrame(
        {
            "day": pl.Series(days, dtype=pl.Date),
            "n": list(range(len(days))),
            "team": [["a", "b"]] * len(days),
            **(
                {"at": pl.Series([stamp] * len(days), dtype=pl.Datetime("us"))}
                if with_stamp
                else {}
            ),
        }
    )
    expected = [
        {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}
        for row in frame.iter_rows(named=True)
    ]
    assert records(frame) == expected


_CELL_TEXT = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.sampled_from(['"', "\\", "\\u0041", "a\nb\tc\x00\x1f\x7f", "上海", "\u2028", ""]),
)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            _CELL_TEXT,
            st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
            st.one_of(st.none(), st.booleans()),
            st.one_of(st.none(), st.dates()),
            st.one_of(st.none(), st.lists(_CELL_TEXT, max_size=3)),
            st.one_of(st.none(), st.floats(allow_nan=False)),
        ),
        max_size=6,
    ),
    with_float=st.booleans(),
    inside_list=st.booleans(),
)
def test_tables_are_written_as_json_writes_their_records(
    rows: list[tuple], with_float: bool, inside_list: bool
) -> None:
    """A plan's tables are rendered column by column (`_Rows`): the text `json` writes for
    their records, escapes, nulls, empty lists and nesting included (a table with a float
    column is written row by row)."""
    frame = pl.DataFrame(
        rows,
        schema={"uscc": pl.Utf8, "n": pl.Int64, "flag": pl.Boolean, "day": pl.Date,
                "team": pl.List(pl.Utf8), "ratio": pl.Float64},
        orient="row",
    )  # fmt: skip
    if not with_float:
        frame = frame.drop("ratio")
    table = [_Rows(frame)] if inside_list else _Rows(frame)
    document = {"format": "x", "outputs": {"draws": table, "empty": []}, "n": 1}
    expected_table = [records(frame)] if inside_list else records(frame)
    expected = {"format": "x", "outputs": {"draws": expected_table, "empty": []}, "n": 1}
    text = (json.dumps(expected, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    assert _dump(document) == text
