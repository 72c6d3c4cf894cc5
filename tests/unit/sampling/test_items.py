"""The inspection items as data, the record workbook's rows, and the outcome an inspection's
filled-in item rows come back as."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from models.contracts import default_contracts
from models.row_checks import clean_schema
from models.sampling.items import (
    ItemsError,
    default_items,
    merge_outcomes,
    outcomes_from_records,
    parse_items,
    record_rows,
)

OUTCOMES = clean_schema(default_contracts().source("inspection_outcomes"))


def test_the_default_list_covers_the_five_firm_types() -> None:
    items = default_items()
    assert set(items.items) == set(default_contracts().enum_values("firm_type"))
    assert all(len(listed) >= 3 for listed in items.items.values())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: x\nitems: {shipbuilding: []}\n", "unknown firm type"),
        ("version: x\nitems: {design: [{id: A, item: a}, {id: A, item: b}]}\n", "duplicate id"),
        ("version: x\nitems: {design: [{id: A}]}\n", "item"),
    ],
)
def test_a_malformed_list_names_its_problem(text: str, message: str) -> None:
    with pytest.raises(ItemsError, match=message):
        parse_items(text)


def test_one_row_per_firm_and_item_of_its_type() -> None:
    schedule = pl.DataFrame(
        {
            "uscc": ["U1", "U2"],
            "firm_type": ["design", "testing"],
            "inspection_date": [date(2027, 1, 5), date(2027, 1, 6)],
            "team": ["I1、I2", "I1、I2"],
        }
    )
    firms = pl.DataFrame({"uscc": ["U1", "U2"], "name": ["甲", "乙"]})
    rows = record_rows(schedule, firms, default_items(), "2027Q1")
    items = default_items().items
    assert rows.height == len(items["design"]) + len(items["testing"])
    assert set(rows["inspection_id"]) == {"2027Q1-U1", "2027Q1-U2"}
    assert rows["result"].null_count() == rows.height  # to fill in


def _records(rows: list[tuple]) -> pl.DataFrame:
    frame = pl.DataFrame(
        rows,
        schema=["inspection_id", "round_id", "uscc", "item_id", "result", "problem_count",
                "followup_doc_no", "inspected_on"],
        orient="row",
    )  # fmt: skip
    return frame.with_columns(
        inspector_ids=pl.lit(["I1", "I2"]),
        collected_on=pl.lit(date(2027, 2, 1)),
        source_file=pl.lit("inspection_records/组01.xlsx"),
        source_row=pl.int_range(3, 3 + pl.len()).cast(pl.Int64),
        file_sha256=pl.lit("ab"),
    )


def test_an_inspection_comes_back_as_its_worst_item_with_the_problems_summed() -> None:
    day = date(2027, 1, 5)
    records = _records([
        ("R-U1", "R", "U1", "SJ-01", "未发现问题", 0, None, day),
        ("R-U1", "R", "U1", "SJ-02", "发现问题", 2, "沪民防责改字〔2027〕1号", day),
        ("R-U1", "R", "U1", "SJ-03", "未发现问题", 1, None, day),
        ("R-U2", "R", "U2", "SJ-01", None, None, None, None),  # not inspected yet: nothing
        ("R-U3", "R", "U3", "JC-01", "未发现问题", None, None, date(2027, 1, 6)),
    ])  # fmt: skip
    outcomes = outcomes_from_records(records, OUTCOMES)
    assert outcomes.schema == OUTCOMES
    got = outcomes.select("inspection_id", "result", "problem_count", "followup_doc_no").rows()
    assert got == [
        ("R-U1", "发现问题", 3, "沪民防责改字〔2027〕1号"),
        ("R-U3", "未发现问题", None, None),
    ]
    assert outcomes.row(0, named=True)["collected_on"] == date(2027, 2, 1)
    reported = outcomes.filter(pl.col("inspection_id") == "R-U3").with_columns(
        result=pl.lit("拒绝检查")
    )
    merged = merge_outcomes(reported, outcomes)
    assert dict(merged.select("inspection_id", "result").rows()) == {
        "R-U1": "发现问题",
        "R-U3": "拒绝检查",  # reported directly: it wins over the workbook's
    }
