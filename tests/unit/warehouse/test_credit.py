"""One as-of scoring in DuckDB (`warehouse.credit.span_sums`) gives the scores of the
polars path (`models.scoring.scores_from_spans`, what `models.engine.scores_of` runs): on
realistic generated data, for every firm and for a slice of firms, and on random stored
spans built to hit the corners (ties in `valid_until`, open vetoes, zero points, half
millionths, several rule sets, dates on span boundaries). The v6 migration gives stored
spans the scoring columns `reason_spans` gives new ones."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import generate
from models.credit_records import derive_credit_records
from models.record_status import record_status_history
from models.rules import default_rule_set
from models.scoring import (
    REASON_SPAN_SCHEMA,
    reason_spans,
    scores_from_spans,
    scores_from_sums,
    with_scoring_columns,
)
from warehouse.catalogue import schema_of, versioned
from warehouse.credit import FirmSlice, changed_from, span_sums
from warehouse.migrations import MIGRATIONS
from warehouse.tables import insert, rewrite_rows, table_ddl

DATES = [date(2022, 6, 30), date(2023, 12, 31), date(2024, 2, 29), date(2025, 12, 31)]
RULES = default_rule_set()
SCORING_COLUMNS = ["points_micro", "veto_rank"]


def stored(spans: pl.DataFrame, version: str = RULES.version) -> duckdb.DuckDBPyConnection:
    """A warehouse holding `spans` (REASON_SPAN_SCHEMA) as the spans of rule set `version`."""
    con = duckdb.connect()
    schema = schema_of("score_reason_spans")
    con.execute(table_ddl("score_reason_spans", schema, replace=True))
    insert(con, "score_reason_spans", spans.with_columns(rule_set_version=pl.lit(version)), schema)
    return con


@pytest.mark.parametrize("seed", [1, 2])
def test_span_sums_in_duckdb_score_as_polars_does(seed: int) -> None:
    frames = generate(seed, firms=150, years=5, start_year=2021, intensity=3.0)
    records = derive_credit_records(frames, RULES)
    statuses = record_status_history(records, frames["credit_cases"], RULES)
    firms = frames["firms"]
    spans = reason_spans(records, statuses, firms, RULES)
    expected = scores_from_spans(spans, firms, RULES, DATES)
    con = stored(spans)

    got = scores_from_sums(span_sums(con, RULES, DATES), firms, RULES, DATES)
    assert expected["veto"].any() and expected["tier"].n_unique() >= 3
    assert got.equals(expected)
    for day in DATES:  # one date: the scan filters on it instead of joining a list of dates
        alone = scores_from_sums(span_sums(con, RULES, [day]), firms, RULES, [day])
        assert alone.equals(expected.filter(pl.col("as_of") == day))

    some = sorted(firms["uscc"].to_list())[::3]
    part = FirmSlice("uscc IN (SELECT unnest(?::VARCHAR[]))", (some,))
    mine = firms.filter(firms["uscc"].is_in(some))
    sliced = scores_from_sums(span_sums(con, RULES, DATES, part), mine, RULES, DATES)
    assert sliced.equals(expected.filter(expected["uscc"].is_in(some)))


# --- random stored spans ------------------------------------------------------------------

DAY0 = date(2024, 1, 1)
FIRMS = pl.DataFrame({"uscc": ["F1", "F2", "F3"]})  # F3 has no spans; F9 is no directory firm
UNTILS = [DAY0 + timedelta(days=n) for n in (90, 180, 180, 400)]
"""`valid_until` of the records: few values, so vetoes of one firm often tie on it."""
IDS = ["10", "9", "A", "a", "é", "r"]
"""Record id prefixes whose byte order is not their numeric or case-blind order."""
POINTS = [0.1, 0.7, 2.0, 5.0, 1 / 3, 2.5e-6, 3.5e-6, 5e-7]
"""Before the multiplier; the small ones land on half millionths (rounded half to even)."""
days = st.integers(0, 500).map(lambda n: DAY0 + timedelta(days=n))


@st.composite
def spans_and_dates(draw: st.DrawFn) -> tuple[pl.DataFrame, list[date]]:
    """Spans as stored (without the scoring columns): a few records of F1, F2 and an
    outsider — good, bad and veto, open or not — each in one to three pieces, and as-of
    dates drawn mostly from the pieces' ends."""
    rows: list[dict[str, object]] = []
    for i in range(draw(st.integers(0, 10))):
        veto = draw(st.sampled_from([False, False, True]))
        good = not veto and draw(st.booleans())
        points = 0.0 if veto else draw(st.sampled_from(POINTS))
        record = {
            "uscc": draw(st.sampled_from(["F1", "F1", "F1", "F2", "F9"])),
            "record_id": f"{draw(st.sampled_from(IDS))}{i}",
            "polarity": "good" if good else "bad",
            "veto": veto,
            "valid_until": draw(st.none() | st.sampled_from(UNTILS)),
            "veto_reason": draw(st.sampled_from(["拒绝检查", "两次逾期未整改"])) if veto else None,
        }
        for segment in range(draw(st.integers(1, 3))):
            start = draw(days)
            length = draw(st.none() | st.integers(1, 300))
            multiplier = draw(st.sampled_from([1.0, 1.0, 1.5]))
            rows.append(
                record
                | {
                    "segment": segment,
                    # a zero-point veto gets 0.0, not -0.0 (as `reason_spans` gives it)
                    "points": points * multiplier if good or veto else -points * multiplier,
                    "multiplier": multiplier,
                    "span_from": start,
                    "span_until": None if length is None else start + timedelta(days=length),
                }
            )
    edges = [r[k] for r in rows for k in ("span_from", "span_until") if r[k] is not None]
    pick = st.sampled_from(edges) | days if edges else days
    dates = draw(st.lists(pick, min_size=1, max_size=4))
    schema = {c: t for c, t in REASON_SPAN_SCHEMA.items() if c not in SCORING_COLUMNS}
    spans = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
    return spans.sort("uscc", "record_id", "segment", "span_from"), dates


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spans_and_dates())
def test_random_spans_score_the_same_in_duckdb_and_polars(case: tuple) -> None:
    """Every date at once and each date alone; another rule set's spans (other points and
    vetoes) stored beside them change nothing."""
    raw, dates = case
    spans = with_scoring_columns(raw).select(REASON_SPAN_SCHEMA.names())
    expected = scores_from_spans(spans, FIRMS, RULES, dates)
    con = stored(spans)
    other = spans.with_columns(pl.col("points_micro") + 1, veto_rank=pl.lit(1, pl.Int32))
    insert(con, "score_reason_spans", other.with_columns(rule_set_version=pl.lit("other")),
           schema_of("score_reason_spans"))  # fmt: skip

    got = scores_from_sums(span_sums(con, RULES, dates), FIRMS, RULES, dates)
    assert got.equals(expected)
    for day in set(dates):
        alone = scores_from_sums(span_sums(con, RULES, [day]), FIRMS, RULES, [day])
        assert alone.equals(expected.filter(pl.col("as_of") == day))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spans_and_dates(), spans_and_dates())
def test_the_v6_migration_computes_the_scoring_columns_as_the_engine_does(
    case: tuple, second: tuple
) -> None:
    """Stored spans of two rule sets, in the layout of version 5, get the `points_micro`
    and `veto_rank` that `with_scoring_columns` gives (ranks per rule set and firm)."""
    frames = {RULES.version: case[0], "other": second[0]}
    old = {c: t for c, t in versioned(REASON_SPAN_SCHEMA).items() if c not in SCORING_COLUMNS}
    con = duckdb.connect()
    con.execute(table_ddl("score_reason_spans", pl.Schema(old), replace=True))
    for version, raw in frames.items():
        insert(con, "score_reason_spans", raw.with_columns(rule_set_version=pl.lit(version)),
               pl.Schema(old))  # fmt: skip

    MIGRATIONS[6](con)

    for version, raw in frames.items():
        rows = con.sql(
            "SELECT * EXCLUDE (rule_set_version) FROM score_reason_spans "
            "WHERE rule_set_version = ? ORDER BY uscc, record_id, segment, span_from",
            params=[version],
        ).to_arrow_table()
        got = pl.from_arrow(rows)
        assert isinstance(got, pl.DataFrame)
        expected = with_scoring_columns(raw).select(REASON_SPAN_SCHEMA.names())
        assert got.cast(REASON_SPAN_SCHEMA).equals(expected.cast(REASON_SPAN_SCHEMA))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spans_and_dates(), spans_and_dates(), st.data())
def test_a_firm_scores_as_before_on_the_dates_before_its_spans_changed(
    case: tuple, other: tuple, data: st.DataObject
) -> None:
    """Stored spans rewritten with some of them dropped and others added: on every date
    before the first one `changed_from` logs for a firm (on every date, for a firm it does
    not log), the firm's score is the one of the old spans — what lets the scores of
    stored dates be derived again only from that date (`update_scores`)."""
    old_raw, dates = case
    kept = data.draw(st.lists(st.booleans(), min_size=old_raw.height, max_size=old_raw.height))
    new_raw = pl.concat([old_raw.filter(pl.Series(kept, dtype=pl.Boolean)), other[0]])
    order = ["uscc", "record_id", "segment", "span_from"]
    old, new = (
        with_scoring_columns(raw.sort(order)).select(REASON_SPAN_SCHEMA.names())
        for raw in (old_raw, new_raw)
    )
    con = stored(old)
    schema = schema_of("score_reason_spans")
    written = rewrite_rows(con, "score_reason_spans",
                           new.with_columns(rule_set_version=pl.lit(RULES.version)), schema,
                           where="TRUE")  # fmt: skip
    since = changed_from(written)
    assert since["uscc"].is_unique().all()

    days = sorted({*dates, *other[1], *since["since"].drop_nulls().to_list()})
    before = scores_from_spans(old, FIRMS, RULES, days)
    after = scores_from_spans(new, FIRMS, RULES, days)
    keys = ["uscc", "as_of"]
    compared = before.join(after, on=keys, suffix="_new").join(since, on="uscc", how="left")
    unchanged = compared.filter(
        pl.col("uscc").is_in(since["uscc"].implode()).not_()
        | (pl.col("since").is_not_null() & (pl.col("as_of") < pl.col("since")))
    )
    for column in (c for c in before.columns if c not in keys):
        assert unchanged[column].eq_missing(unchanged[f"{column}_new"]).all(), column
