"""Reading a regulator's inspection export as it comes (warehouse.backtest_inputs): the four
outcome shapes give the same outcomes, every named column must exist, unreadable rows are
named with examples, history and evaluation are filtered separately. No model is trained."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from models.contracts import default_contracts
from models.risk.config import default_risk_config
from warehouse.backtest_inputs import (
    BacktestInputError,
    InspectionColumns,
    read_outcomes,
)

CONFIG = default_risk_config()
ROWS = {
    "shop": ["A", "A", "B", "B", "C"],
    "day": ["2024-01-05", "2024-06-01", "2024-02-01", "2024-07-01", "2024-03-03"],
    "officer": ["I1", "I2", "I1", "I1", ""],
    "flag": ["1", "0", "是", "false", "0"],
    "critical": ["2.0", "0.0", "1.0", "0.0", "0.0"],
    "result": ["Fail", "Pass", "FAIL", "Pass w/ Conditions", "Pass"],
    "grade": ["80", "97", "88.5", "95", "99"],
    "kind": ["Canvass", "Canvass", "Complaint", "Canvass", "Canvass"],
}
PROBLEMS = [True, False, True, False, False]


def write(tmp_path: Path, rows: dict[str, list[str]] | None = None, name: str = "x.csv") -> Path:
    path = tmp_path / name
    pl.DataFrame(rows or ROWS).write_csv(path)
    return path


def read(path: Path, **options) -> pl.DataFrame:
    columns = InspectionColumns(entity="shop", date="day", **options)
    return read_outcomes([path], columns, CONFIG, default_contracts()).history


@pytest.mark.parametrize(
    "options",
    [
        {"problem": "flag"},
        {"problem": "critical", "problem_above": 0.0},
        {"problem": "result", "problem_values": ("fail",)},
        {"score": "grade", "problem_below": 90.0},
    ],
    ids=["flag", "count_above", "result_text", "score_below"],
)
def test_every_outcome_shape_reads_the_same_problems(tmp_path, options):
    outcomes = read(write(tmp_path), inspector="officer", **options)
    assert outcomes.sort("entity_id", "inspected_on")["problem"].to_list() == PROBLEMS
    assert outcomes.filter(pl.col("entity_id") == "C")["inspectors"].to_list() == [[]]
    assert outcomes["inspection_id"].to_list() == ["2", "3", "4", "5", "6"]  # file rows


def test_numbers_are_kept_as_scores_oriented_higher_is_better(tmp_path):
    counts = read(write(tmp_path), problem="critical", problem_above=0.0)
    assert counts.sort("inspection_id")["score"].to_list() == [-2.0, 0.0, -1.0, 0.0, 0.0]
    grades = read(write(tmp_path), score="grade", problem_below=90.0)
    assert grades.sort("inspection_id")["score"].to_list() == [80.0, 97.0, 88.5, 95.0, 99.0]


def test_a_named_column_must_exist(tmp_path):
    path = write(tmp_path)
    with pytest.raises(BacktestInputError) as error:
        read(path, problem="flag", inspector="inspector")
    message = str(error.value)
    assert "列 'inspector'（--inspector-col）不存在" in message
    assert "column 'inspector' (--inspector-col) not found" in message
    assert "shop, day, officer, flag" in message  # the columns found
    with pytest.raises(BacktestInputError, match="--evaluate-where"):
        read(path, problem="flag", evaluate_where=(("type", "Canvass", False),))


def test_no_usable_rows_names_the_column_and_shows_values(tmp_path):
    with pytest.raises(BacktestInputError) as error:
        read(write(tmp_path), problem="critical")  # a count read as a flag
    message = str(error.value)
    assert "没有可用的行 / no usable rows" in message
    assert "column 'critical' (--problem-col)" in message and "'2.0'" in message
    assert "--problem-above" in message  # the hint


def test_unreadable_rows_are_skipped_with_a_note(tmp_path):
    rows = {**ROWS, "day": [*ROWS["day"][:4], "2024-13-45"]}
    read_back = read_outcomes(
        [write(tmp_path, rows)],
        InspectionColumns(entity="shop", date="day", problem="flag"),
        CONFIG,
        default_contracts(),
    )
    assert read_back.history.height == 4
    (note,) = read_back.notes
    assert "column 'day' (--date-col): 1 row(s)" in note and "'2024-13-45'" in note


def test_result_texts_outside_both_lists_are_skipped(tmp_path):
    rows = {**ROWS, "result": ["Fail", "Pass", "Out of Business", "Pass", "Pass"]}
    outcomes = read(
        write(tmp_path, rows), problem="result", problem_values=("Fail",), ok_values=("pass",)
    )
    assert outcomes["entity_id"].to_list() == ["A", "A", "B", "C"]


def test_history_and_evaluation_are_filtered_separately(tmp_path):
    read_back = read_outcomes(
        [write(tmp_path)],
        InspectionColumns(
            entity="shop",
            date="day",
            problem="flag",
            evaluate_where=(("kind", "Canvass", False),),
            history_where=(("shop", "C", True),),
            attributes=("kind",),
        ),
        CONFIG,
        default_contracts(),
    )
    assert read_back.history["entity_id"].to_list() == ["A", "A", "B", "B"]  # C left out
    assert read_back.labels is not None
    assert read_back.labels["inspection_id"].to_list() == ["2", "3", "5", "6"]  # no Complaint
    assert read_back.attributes is not None
    kinds = dict(read_back.attributes.iter_rows())
    assert kinds == {"A": "Canvass", "B": "Complaint", "C": "Canvass"}  # first inspection's
