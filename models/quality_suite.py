"""The quality gate's suite as data: what each clean table must satisfy, from its contract.

Each expectation is a GX expectation type and its keyword arguments (`ExpectationSpec`), so
the gate (`pipelines.quality.gx_gate`) builds GX's objects from them one to one — but knowing
the suite needs no GX: its fingerprint (what a row's verdict depends on) is computed from
these specs in microseconds, where building GX's objects first costs the ~2 s import of GX.
The verdicts that depend on the whole table (its columns, row count and key uniqueness) are
here too, judged from facts counted in the warehouse and written in GX's result shape, so a
validation that needs no GX at all (no rows changed) reads like one GX ran.

Every expectation is derived from the contract, so a column declared there is checked
without anyone writing a line for it. What does not belong here: GX, running it, reading the
warehouse (`warehouse.gate_state` counts the facts), the reports (`warehouse.quality_docs`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from models import uscc
from models.contracts import Column, Contracts, Source

USCC_REGEX = uscc.PATTERN
"""GB 32100-2015 code characters (`models.uscc`): digits and capitals without I, O, S, V, Z."""

LIST_JOINER = "、"
"""List cells are validated joined with the enumeration comma regulators write between items.
GX's in-set check cannot look inside a list, so an enum_list is checked as one string."""

COLUMNS = "expect_table_columns_to_match_set"
ROW_COUNT = "expect_table_row_count_to_be_between"
UNIQUE = "expect_column_values_to_be_unique"
COMPOUND_UNIQUE = "expect_compound_columns_to_be_unique"
NOT_NULL = "expect_column_values_to_not_be_null"

WHOLE_TABLE_TYPES = (ROW_COUNT, UNIQUE, COMPOUND_UNIQUE)
"""The expectations whose verdict depends on rows other than the one checked: judged on the
whole table (`warehouse.gate_state.table_facts`) when GX sees only the changed rows."""

TABLE_TYPES = (COLUMNS, *WHOLE_TABLE_TYPES)
"""The expectations that can change verdict without a row being written (a withdrawal deletes
rows, a migration adds columns): what a validation with no changed rows still judges. Every
other expectation is about one row."""

_DOMAIN_KWARGS = ("column", "column_A", "column_B", "column_list")
"""Where an expectation names its column(s), in the order reported."""


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation of a suite: GX's expectation type and the arguments it is built with
    (dates as datetimes: GX's pandas engine cannot compare datetime64 columns with dates)."""

    type: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def columns(self) -> tuple[str, ...]:
        return columns_of(self.kwargs)

    def configuration(self) -> dict[str, Any]:
        """The expectation as GX's `configuration.to_json_dict()` writes it (the gate's
        fingerprints were computed from that; `tests/unit/quality` holds the two equal)."""
        kwargs = {k: _json_value(v) for k, v in self.kwargs.items()}
        return {"type": self.type, "kwargs": kwargs, "meta": {}, "severity": "critical"}


def suite(source: Source, contracts: Contracts, as_of: date) -> list[ExpectationSpec]:
    """The suite of one clean table, generated from its contract.

    Dates must lie between the contract's `min_date` and `as_of` (no upper bound for columns
    that `allow_future`, e.g. deadlines). Lower bounds of numbers are floats, as GX stores
    them.
    """
    specs = [
        ExpectationSpec(COLUMNS, {"column_set": list(source.column_names), "exact_match": False}),
        ExpectationSpec(ROW_COUNT, {"min_value": source.min_rows}),
    ]
    earliest = datetime.combine(contracts.min_date, time())
    latest = datetime.combine(as_of, time())
    for col in source.columns:
        if col.required:
            specs.append(ExpectationSpec(NOT_NULL, {"column": col.name}))
        value_rule = _value_expectation(col, contracts, earliest, latest)
        if value_rule is not None:
            specs.append(value_rule)
    if len(source.key) == 1:
        specs.append(ExpectationSpec(UNIQUE, {"column": source.key[0]}))
    else:
        specs.append(ExpectationSpec(COMPOUND_UNIQUE, {"column_list": list(source.key)}))
    specs.extend(
        ExpectationSpec(
            "expect_column_pair_values_a_to_be_greater_than_b",
            {
                "column_A": rule.later,
                "column_B": rule.earlier,
                "or_equal": True,
                "ignore_row_if": "either_value_is_missing",
            },
        )
        for rule in source.date_order
    )
    return specs


def _value_expectation(
    col: Column, contracts: Contracts, earliest: datetime, latest: datetime
) -> ExpectationSpec | None:
    """What every non-null value of one column must satisfy, by column type."""
    match col.type:
        case "enum":
            value_set = _enum_set(col, contracts)
            return ExpectationSpec(
                "expect_column_values_to_be_in_set", {"column": col.name, "value_set": value_set}
            )
        case "enum_list":
            item = "|".join(re.escape(v) for v in _enum_set(col, contracts))
            regex = f"^(?:{item})(?:{LIST_JOINER}(?:{item}))*$"
            return ExpectationSpec(
                "expect_column_values_to_match_regex", {"column": col.name, "regex": regex}
            )
        case "uscc":
            return ExpectationSpec(
                "expect_column_values_to_match_regex", {"column": col.name, "regex": USCC_REGEX}
            )
        case "date":
            bounds: dict[str, Any] = {"column": col.name, "min_value": earliest}
            if not col.allow_future:
                bounds["max_value"] = latest
            return ExpectationSpec("expect_column_values_to_be_between", bounds)
        case "amount" | "integer":
            return ExpectationSpec(
                "expect_column_values_to_be_between", {"column": col.name, "min_value": 0.0}
            )
        case "text":
            max_length = contracts.max_length(col)
            return ExpectationSpec(
                "expect_column_value_lengths_to_be_between",
                {"column": col.name, "max_value": max_length},
            )
        case "text_list" | "bool":
            return None


def _enum_set(col: Column, contracts: Contracts) -> list[str]:
    assert col.enum is not None  # the contract model guarantees it for enum types
    return list(contracts.enum_values(col.enum))


def configurations_json(specs: Sequence[ExpectationSpec]) -> str:
    """The suite's configurations as one canonical text (what its fingerprint hashes)."""
    return json.dumps([s.configuration() for s in specs], sort_keys=True, default=str)


def columns_of(kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    """The column(s) an expectation names, in the order reported."""
    columns: list[str] = []
    for name in _DOMAIN_KWARGS:
        value = kwargs.get(name)
        if isinstance(value, list | tuple):
            columns.extend(value)
        elif value:
            columns.append(value)
    return tuple(columns)


def _json_value(value: Any) -> Any:
    """An argument as GX's JSON has it: datetimes in ISO form, lists as lists."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


# --- verdicts on the whole table -------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """A whole-table expectation's outcome, in GX's result shape (`result` as GX writes it
    under that expectation's result)."""

    success: bool
    result: dict[str, Any]


def columns_verdict(spec: ExpectationSpec, present: Sequence[str]) -> Verdict:
    """The table has the contract's columns (others may follow: `exact_match` false), as GX
    reports it: every column observed, the mismatched ones named."""
    expected, actual = set(spec.kwargs["column_set"]), set(present)
    missing, unexpected = sorted(expected - actual), sorted(actual - expected)
    result: dict[str, Any] = {"observed_value": sorted(actual)}
    if missing or unexpected:
        mismatched = {"unexpected": unexpected, "missing": missing}
        result["details"] = {"mismatched": {k: v for k, v in mismatched.items() if v}}
    success = not missing and not (spec.kwargs.get("exact_match") and unexpected)
    return Verdict(success, result)


def row_count_verdict(spec: ExpectationSpec, rows: int) -> Verdict:
    low, high = spec.kwargs.get("min_value"), spec.kwargs.get("max_value")
    success = (low is None or rows >= low) and (high is None or rows <= high)
    return Verdict(success, {"observed_value": rows})


def uniqueness_verdict(
    key: Sequence[str], rows: int, duplicate_rows: int, duplicate_keys: Sequence[Mapping[str, Any]]
) -> Verdict:
    """No two rows share their key (the rows sharing one counted, some of their keys shown)."""
    return Verdict(
        duplicate_rows == 0,
        {
            "element_count": rows,
            "unexpected_count": duplicate_rows,
            "unexpected_percent": 100 * duplicate_rows / rows if rows else 0.0,
            "unexpected_index_column_names": list(key),
            "partial_unexpected_index_list": [dict(k) for k in duplicate_keys],
        },
    )
