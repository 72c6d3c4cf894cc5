"""The columns the credit steps read from storage are enough: of `credit_records`, those
the engine declares it reads (`models.scoring.RECORD_COLUMNS` for the spans and the tier
paths, `models.engine.STATUS_RECORD_COLUMNS` for the statuses), and of each source table,
those its records are derived from (`models.credit_records.source_columns`). On generated
data with vetoes on grounds, same-fact links, withdrawals and cases, the results are those
of the whole rows."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from generator import generate
from models.credit_records import (
    EVIDENCE_TYPES,
    derive_credit_records,
    in_record_order,
    source_columns,
    source_records,
)
from models.credit_schema import CREDIT_RECORD_SCHEMA
from models.engine import STATUS_RECORD_COLUMNS, moves_statuses, spans_of, statuses_of
from models.rules import default_rule_set
from models.scoring import RECORD_COLUMNS, moves_spans
from models.tier_paths import tier_paths

RULES = default_rule_set()


@pytest.mark.parametrize("seed", [3, 11])
def test_the_declared_record_columns_are_all_the_engine_reads(seed: int) -> None:
    frames = generate(seed, firms=120, years=5, start_year=2021, intensity=3.0)
    records = derive_credit_records(frames, RULES)
    # some records of a withdrawn file: their statuses and spans change
    records = records.with_columns(
        retired_on=pl.when(pl.int_range(pl.len()) % 40 == 0).then(date(2024, 6, 30))
    )
    cases, firms = frames["credit_cases"], frames["firms"]
    assert set(RECORD_COLUMNS) < set(CREDIT_RECORD_SCHEMA)
    assert set(STATUS_RECORD_COLUMNS) < set(CREDIT_RECORD_SCHEMA)
    assert records["grounds"].list.len().sum() and records["same_fact_as"].is_not_null().any()

    statuses = statuses_of(records, cases, RULES)
    assert statuses.height and statuses["status"].n_unique() >= 3
    assert statuses_of(records.select(STATUS_RECORD_COLUMNS), cases, RULES).equals(statuses)

    narrow = records.select(RECORD_COLUMNS)
    spans = spans_of(records, statuses, firms, RULES)
    assert spans.height and spans_of(narrow, statuses, firms, RULES).equals(spans)
    for got, expected in zip(
        tier_paths(narrow, statuses, firms, RULES, date(2025, 12, 31)),
        tier_paths(records, statuses, firms, RULES, date(2025, 12, 31)),
        strict=True,
    ):
        assert got.height and got.equals(expected)


@pytest.mark.parametrize("source", list(EVIDENCE_TYPES))
def test_a_source_read_in_the_columns_its_records_use_gives_the_same_records(source: str) -> None:
    """`source_columns` (polars' projection of the builders' plan) leaves out the texts no
    record uses, and the records of the narrow rows are those of the whole rows."""
    frames = generate(5, firms=120, years=5, start_year=2021, intensity=3.0)
    frame, penalties = frames[source], frames["penalty_decisions"]
    columns = source_columns(source, RULES)
    assert "uscc" in columns and len(columns) < frame.width
    expected = in_record_order(source_records(source, frame, RULES, penalties)).collect()
    narrow = frame.select(c for c in columns if c in frame.columns)  # generated: no optional
    got = in_record_order(source_records(source, narrow, RULES, penalties)).collect()
    assert expected.height and got.equals(expected)  # in record order, as every caller sorts


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_the_spans_read_no_record_row_but_those_that_move_spans(seed: int) -> None:
    """`moves_spans`: the spans of a firm's records without the rows it rejects are those of
    all its rows, so a change of rejected rows alone cannot change a firm's spans
    (`warehouse.credit.update_spans` derives such firms no more). On generated data with
    vetoes on grounds, same-fact links, withdrawals and cases, plus documents collected
    long after they expired (a day's late old documents: the rows it rejects), some of
    them earlier records a repeat looks back to (kept)."""
    frames = generate(seed, firms=120, years=5, start_year=2021, intensity=3.0)
    records = derive_credit_records(frames, RULES)
    late = records.filter(pl.int_range(pl.len()) % 7 == 0).with_columns(
        record_id=pl.col("record_id") + "-late", collected_on=pl.lit(date(2026, 7, 3))
    )
    records = pl.concat([records, late]).with_columns(
        retired_on=pl.when(pl.int_range(pl.len()) % 40 == 0).then(date(2024, 6, 30))
    )
    cases, firms = frames["credit_cases"], frames["firms"]
    statuses = statuses_of(records, cases, RULES)
    moving = records.filter(moves_spans())
    rejected = records.height - moving.height
    assert rejected > 100 and late.filter(moves_spans()).height  # both kinds were there
    spans = spans_of(records, statuses, firms, RULES)
    assert spans.height and spans_of(moving, statuses, firms, RULES).equals(spans)


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_the_statuses_read_no_changed_record_row_but_those_that_move_statuses(seed: int) -> None:
    """`moves_statuses`: the statuses of a firm's records without the changed rows it
    rejects are those with them, so a change of rejected rows alone cannot change a firm's
    statuses (`warehouse.credit.update_statuses` derives such firms no more). On generated
    data with vetoes on grounds, same-fact links, withdrawals and cases; the changed rows
    a third of all, the others naming them (`around`)."""
    frames = generate(seed, firms=120, years=5, start_year=2021, intensity=3.0)
    records = derive_credit_records(frames, RULES).with_columns(
        retired_on=pl.when(pl.int_range(pl.len()) % 40 == 0).then(date(2024, 6, 30))
    )
    cases = frames["credit_cases"]
    changed = records.filter(pl.int_range(pl.len()) % 3 == 0)
    moving = moves_statuses(changed, records, cases)
    rejected = changed.join(moving.select("record_id", "segment").unique(),
                            on=["record_id", "segment"], how="anti")  # fmt: skip
    assert rejected.height > 100 and moving.height > 10  # both kinds were there
    statuses = statuses_of(records, cases, RULES)
    assert statuses.height and statuses["status"].n_unique() >= 4
    without = records.join(rejected.select("record_id", "segment"), on=["record_id", "segment"],
                           how="anti")  # fmt: skip
    assert statuses_of(without, cases, RULES).equals(statuses)
