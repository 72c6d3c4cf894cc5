"""One as-of scoring in DuckDB (`warehouse.credit.span_sums`) gives the scores of the
polars path (`models.scoring.scores_from_spans`) on realistic generated data, for every
firm and for a slice of firms."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from generator import generate
from models.credit_records import derive_credit_records
from models.record_status import record_status_history
from models.rules import default_rule_set
from models.scoring import reason_spans, scores_from_spans, scores_from_sums
from warehouse.catalogue import schema_of
from warehouse.credit import FirmSlice, span_sums
from warehouse.tables import insert, table_ddl

DATES = [date(2022, 6, 30), date(2023, 12, 31), date(2024, 2, 29), date(2025, 12, 31)]


@pytest.mark.parametrize("seed", [1, 2])
def test_span_sums_in_duckdb_score_as_polars_does(seed: int) -> None:
    rules = default_rule_set()
    frames = generate(seed, firms=150, years=5, start_year=2021, intensity=3.0)
    records = derive_credit_records(frames, rules)
    statuses = record_status_history(records, frames["credit_cases"], rules)
    firms = frames["firms"]
    spans = reason_spans(records, statuses, firms, rules)
    expected = scores_from_spans(spans, firms, rules, DATES)
    con = duckdb.connect()
    schema = schema_of("score_reason_spans")
    con.execute(table_ddl("score_reason_spans", schema, replace=True))
    stored = spans.with_columns(rule_set_version=pl.lit(rules.version))
    insert(con, "score_reason_spans", stored, schema)

    got = scores_from_sums(span_sums(con, rules, DATES), firms, rules, DATES)
    assert expected["veto"].any() and expected["tier"].n_unique() >= 3
    assert got.equals(expected)

    some = sorted(firms["uscc"].to_list())[::3]
    part = FirmSlice("uscc IN (SELECT unnest(?::VARCHAR[]))", (some,))
    mine = firms.filter(firms["uscc"].is_in(some))
    sliced = scores_from_sums(span_sums(con, rules, DATES, part), mine, rules, DATES)
    assert sliced.equals(expected.filter(expected["uscc"].is_in(some)))
