"""The pages' pure query functions on the fixture warehouse, checked against plain SQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from fixtures.landing import FIRM_DESIGN, FIRM_EQUIPMENT

from dashboards.queries import firm, overview, public, quality, rounds, validation
from pipelines.resources import Warehouse

LATEST = date(2025, 12, 31)


@pytest.fixture(scope="module")
def con(dashboard_warehouse: Path):
    with Warehouse(path=str(dashboard_warehouse)).connect(read_only=True) as connection:
        yield connection


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchall()[0][0]


def test_tier_mix_counts_every_scored_firm_once_and_filters_narrow_it(con):
    mix = overview.tier_mix(con, overview.Scope())
    assert mix["firms"].sum() == scalar(
        con,
        "SELECT count(*) FROM credit_scores WHERE as_of = (SELECT max(as_of) FROM credit_scores)",
    )
    design = overview.tier_mix(con, overview.Scope(firm_types=("design",)))
    assert set(design["firm_type"]) == {"design"}
    assert design["firms"].sum() == scalar(
        con, "SELECT count(*) FROM firms WHERE firm_type='design'"
    )
    assert overview.tier_mix(con, overview.Scope(districts=("nowhere",))).is_empty()


def test_the_trend_has_one_point_per_month_end(con):
    trend = overview.tier_trend(con, overview.Scope(as_of=LATEST))
    months = trend["as_of"].unique().sort()
    assert months[-1] == LATEST and len(months) == 60  # 2021-01 … 2025-12
    assert trend.select("as_of", "firms").group_by("as_of").sum()["firms"].unique().to_list() == [5]


def test_movers_are_the_tier_changes_into_the_date_with_their_documents(con):
    moved = overview.movers(con, overview.Scope(as_of=LATEST))
    expected = scalar(con, f"SELECT count(*) FROM tier_changes WHERE to_as_of = DATE '{LATEST}'")
    assert moved.height == expected
    assert moved.filter(moved["documents"].is_null()).is_empty()


def test_a_firm_is_found_by_name_or_uscc_prefix(con):
    assert firm.search_firms(con, firm.Search(FIRM_DESIGN[:8].lower()))["uscc"].to_list()
    by_name = firm.search_firms(con, firm.Search("申防"))
    assert by_name["uscc"].to_list() == [FIRM_DESIGN]
    assert firm.search_firms(con, firm.Search("  ")).is_empty()


def test_the_reasons_add_up_to_the_firms_score(con):
    f = firm.Firm(FIRM_EQUIPMENT)
    card = firm.firm_card(con, f).row(0, named=True)
    reasons = firm.reasons(con, f)
    assert card["counting_records"] == reasons.height
    bonus = min(reasons.filter(reasons["points"] > 0)["points"].sum(), 30)
    assert card["score"] == pytest.approx(
        max(0, min(100, 70 + bonus + reasons.filter(reasons["points"] < 0)["points"].sum()))
    )
    assert reasons["evidence_doc_no"].null_count() == 0
    history = firm.score_history(con, f)
    assert history.height == 60 and history["as_of"].is_sorted()


def test_round_queries_read_the_published_round(con):
    listed = rounds.rounds(con)
    assert listed["round_id"].to_list() == ["2026Q1"]
    r = rounds.Round("2026Q1")
    drawn = scalar(con, "SELECT count(*) FROM sampling_draws WHERE round_id = '2026Q1'")
    assert rounds.assignments(con, r).height == drawn
    by_class = scalar(
        con, "SELECT count(*) FROM sampling_draws WHERE round_id = '2026Q1' AND NOT is_control"
    )
    assert rounds.strata(con, r)["n_drawn"].sum() == by_class  # controls are on top
    probabilities = dict(rounds.tiers(con, r).select("tier", "probability").iter_rows())
    assert probabilities and all(0 < p <= 1 for p in probabilities.values())
    assert listed.row(0, named=True)["office"] == "市级"
    assert rounds.findings(con, r)["planned"].sum() == drawn
    progress = rounds.progress(con, r)
    assert progress["planned"].max() == drawn and progress["inspected"].max() == 0


def test_public_queries_hold_no_inspector_or_control_columns(con):
    results = public.published_results(con)
    assert set(results.columns) == {
        "round_id", "uscc", "result", "inspected_on", "name", "firm_type"
    }  # fmt: skip
    assert public.published_rounds(con)["round_id"].to_list() == ["2026Q1"]
    listing = public.tier_list(con, public.Listing(LATEST))
    assert listing.height == 5
    assert public.published_dates(con)["as_of"][0] == LATEST


def test_quality_queries_match_the_quarantine_and_the_gx_results(con, dashboard_warehouse):
    assert quality.quarantine_by_reason(con)["rows"].sum() == scalar(
        con, "SELECT count(*) FROM quarantine"
    )
    files = quality.latest_files(con)
    assert (
        files["rows_read"]
        == files["rows_accepted"] + files["rows_quarantined"] + files["rows_collapsed"]
    ).all()
    totals = quality.review_totals(con)
    assert totals["source"][-1] == "全部"
    reports = dashboard_warehouse.parent / "reports"
    gx = quality.gx_results(con, quality.Reports(reports))
    assert gx.height == 12 and gx["success"].all()
    # served over http: by default where `renfang ui` serves them, else $RENFANG_DOCS_URL's
    assert all(url.startswith("http://127.0.0.1:3001/validations/") for url in gx["docs_page"])
    served = quality.gx_results(con, quality.Reports(reports, docs_url="http://docs:8080/"))
    run = gx["run_id"][0]
    assert served["docs_page"][0] == f"http://docs:8080/validations/{run}/{gx['source'][0]}.html"


def test_without_a_trained_model_the_validation_queries_are_empty(con):
    # five fixture firms are too few to train on: the risk tables exist but hold no model
    assert validation.model_version(con).is_empty()
    assert validation.headline(con).is_empty() and validation.tier_failure(con).is_empty()


CODED = [  # (table, column, code kind): every stored value must have a label
    ("score_reasons", "rule", "rule"),
    ("score_reasons", "status", "record_status"),
    ("score_reasons", "polarity", "polarity"),
    ("credit_record_status", "status", "record_status"),
    ("quarantine", "reason_code", "reason_code"),
    ("quarantine", "source", "table"),
    ("ingestion_log", "status", "file_status"),
    ("ingestion_log", "format", "file_format"),
    ("ingestion_log", "encoding", "encoding"),
    ("sampling_rounds", "status", "round_status"),
    ("firms", "firm_type", "firm_types"),
]
TERMS = [  # stored Chinese terms: each needs its English
    ("score_reasons", "evidence_type"),
    ("score_reasons", "category"),
    ("credit_cases", "kind"),
    ("credit_cases", "decision"),
    ("firms", "status"),
]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_code_the_warehouse_holds_has_a_label(con, lang):
    from models.labels import default_labels

    labels = default_labels()
    for table, column, kind in CODED:
        values = [
            r[0] for r in con.execute(f'SELECT DISTINCT "{column}" FROM "{table}"').fetchall()
        ]
        for value in filter(None, values):
            assert labels.code(kind, value, lang) != value, (table, column, value)
    if lang == "en":
        for table, column in TERMS:
            sql = f'SELECT DISTINCT "{column}" FROM "{table}"'
            for (value,) in con.execute(sql).fetchall():
                if value:
                    assert labels.term(value, "en") != value, (table, column, value)
