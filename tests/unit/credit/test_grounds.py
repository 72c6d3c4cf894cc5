"""Derived statuses: a veto follows the records it rests on, one fact is deducted once, and
each derived row names the document it rests on (the firm's record shows the link)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))

from golden_builders import (
    F1,
    Row,
    cases_table,
    cir_no,
    circular,
    cor_no,
    correction,
    frames,
    objection,
    pen_no,
    penalty,
)

from models.credit_records import derive_credit_records, overdue_vetoes
from models.engine import retired_records, statuses_of
from models.rules import default_rule_set

RULES = default_rule_set()
VETO = f"correction_notices:{cor_no(2)}:{F1}:veto"


def _statuses(rows: list[Row], cases: Sequence[dict] = ()) -> tuple[pl.DataFrame, pl.DataFrame]:
    records = derive_credit_records(frames(rows), RULES)
    return records, statuses_of(records, cases_table(cases), RULES)


NOTICES = [
    correction(1, F1, "2024-01-10", "2024-02-10"),
    correction(2, F1, "2024-06-03", "2024-07-03"),
]


def test_the_overdue_veto_rests_on_every_notice_of_its_set():
    records, _ = _statuses(NOTICES)
    veto = records.filter(pl.col("record_id") == VETO).row(0, named=True)
    assert veto["grounds"] == sorted(
        [f"correction_notices:{cor_no(1)}:{F1}", f"correction_notices:{cor_no(2)}:{F1}"]
    )
    assert veto["grounds_needed"] == 2
    assert (veto["valid_from"], veto["collected_on"]) == (date(2024, 7, 4), date(2024, 6, 3))


def test_revoking_a_ground_lifts_the_veto_and_names_it():
    _, statuses = _statuses(
        NOTICES,
        [objection("Y1", F1, cor_no(1), "2024-08-01", decided_on="2024-08-20", decision="撤销")],
    )
    derived = statuses.filter(pl.col("record_id") == VETO).select(
        "status", "status_from", "status_until", "ground_doc_no"
    )
    assert derived.rows() == [
        ("suspended", date(2024, 8, 1), date(2024, 8, 20), cor_no(1)),
        ("grounds_lost", date(2024, 8, 20), None, cor_no(1)),
    ]


def test_a_veto_across_files_counts_until_the_withdrawn_notice_is_withdrawn():
    """The first notice's file is withdrawn on 2024-09-01: the set spans two files; the veto
    holds before that day and lapses on it."""
    first = frames([NOTICES[0]])["correction_notices"].with_columns(
        file_sha256=pl.lit("cd" * 32), retired_on=pl.lit(date(2024, 9, 1))
    )
    current = derive_credit_records(frames([NOTICES[1]]), RULES)
    retired = retired_records("correction_notices", first, RULES)
    records = pl.concat([current, retired])
    records = pl.concat([records, overdue_vetoes(records, RULES)])
    statuses = statuses_of(records, cases_table(()), RULES)
    lost = statuses.filter((pl.col("record_id") == VETO) & (pl.col("status") == "grounds_lost"))
    assert lost.select("status_from", "ground_doc_no").rows() == [(date(2024, 9, 1), cor_no(1))]


def test_a_same_fact_document_defers_to_the_decision_and_says_so():
    _, statuses = _statuses(
        [
            penalty(1, F1, "2024-03-05", types=("通报批评",), collected_on="2024-03-06"),
            circular(1, F1, "2024-03-20"),
        ]
    )
    link = statuses.filter(pl.col("record_id") == f"circulars:{cir_no(1)}:{F1}")
    assert link.select("status", "status_from", "status_until", "ground_doc_no").rows() == [
        ("same_fact", date(2024, 3, 6), None, pen_no(1))
    ]
    assert "同一事实" in link["reason"][0]


def test_without_the_switch_an_open_objection_does_not_suspend_the_veto():
    data = RULES.model_dump(mode="json")
    data["version"] = "no-blocks"
    data["objection"]["blocks"] = []
    rules = type(RULES).model_validate(data)
    records = derive_credit_records(
        frames([penalty(1, F1, "2024-03-05", fine=30_000, category="提供虚假材料取得资质")]), rules
    )
    statuses = statuses_of(
        records, cases_table([objection("Y1", F1, pen_no(1), "2024-03-15")]), rules
    )
    assert "suspended" not in statuses["status"].to_list()
    assert "disputed" in statuses["status"].to_list()
