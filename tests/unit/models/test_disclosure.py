"""行政处罚信息公示 from ten-row frames: published from the decision, late ones flagged,
taken down at the end of the period, withdrawn on revocation (late ones flagged), suspended
while disputed, decisions not to penalise never published; the feed of any date reproducible."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.contracts import default_contracts
from models.credit_schema import RECORD_STATUS_SCHEMA
from models.disclosure import (
    DISCLOSURE_SCHEMA,
    PUBLIC_PENALTY_FIELDS,
    changes_between,
    feed_as_of,
    feed_changes,
    full_report_due,
    penalty_disclosures,
    public_penalties,
    report_changes,
)
from models.row_checks import clean_schema
from models.rules import default_rule_set

U1 = "91310115MA1FL07778"
U2 = "91310101MA1AB1777K"
RULES = default_rule_set()


def _penalties(*rows: dict[str, object]) -> pl.DataFrame:
    schema = clean_schema(default_contracts().source("penalty_decisions"))
    base: dict[str, object] = {c: None for c in schema}
    return pl.DataFrame([base | {"status": "有效", "penalty_types": ["罚款"]} | r for r in rows],
                        schema=schema)  # fmt: skip


def _status(record: str, status: str, start: date, end: date | None = None, case: str = "C1"):
    return {
        "record_id": record, "status": status, "status_from": start, "status_until": end,
        "case_id": case, "reason": None, "ground_doc_no": None,
    }  # fmt: skip


def _disclosures(
    penalties: pl.DataFrame, statuses: list[dict[str, object]] = (), known: date | None = None
) -> pl.DataFrame:
    frame = pl.DataFrame(list(statuses), schema=RECORD_STATUS_SCHEMA)
    cases = pl.DataFrame({"case_id": ["C1"], "known_on": [known]}, schema={
        "case_id": pl.Utf8, "known_on": pl.Date})  # fmt: skip
    return penalty_disclosures(penalties, None, frame, cases, RULES)


def test_published_from_collection_late_ones_flagged_taken_down_by_severity():
    found = _disclosures(
        _penalties(
            # Fri 2025-03-07 + 7 working days = Tue 2025-03-18; collected in time
            {"doc_no": "A", "uscc": U1, "decided_on": date(2025, 3, 7), "fine_amount": 5000.0,
             "collected_on": date(2025, 3, 18)},
            # collected a day after its deadline: late; L3 (fine 20,000) → 12 months
            {"doc_no": "B", "uscc": U2, "decided_on": date(2025, 3, 7), "fine_amount": 20000.0,
             "collected_on": date(2025, 3, 19)},
            # a decision not to penalise: never published
            {"doc_no": "C", "uscc": U2, "decided_on": date(2025, 3, 7),
             "penalty_types": ["不予处罚"], "collected_on": date(2025, 3, 8)},
        )
    )  # fmt: skip
    assert found.schema == DISCLOSURE_SCHEMA
    rows = {r["doc_no"]: r for r in found.to_dicts()}
    assert set(rows) == {"A", "B"}
    assert (rows["A"]["publish_due"], rows["A"]["late"]) == (date(2025, 3, 18), False)
    assert rows["B"]["late"] is True
    # L2 for 6 months: public until 2025-09-06, down from 2025-09-07
    assert (rows["A"]["publish_until"], rows["A"]["ended_on"]) == (
        date(2025, 9, 6), date(2025, 9, 7),
    )  # fmt: skip
    assert rows["B"]["publish_until"] == date(2026, 3, 6)
    assert rows["A"]["fine_wan"] == 0.5 and rows["A"]["end_reason"] == "expired"


def test_the_decisions_own_publication_end_is_honoured():
    found = _disclosures(
        _penalties({"doc_no": "A", "uscc": U1, "decided_on": date(2025, 3, 7),
                    "fine_amount": 5000.0, "collected_on": date(2025, 3, 8),
                    "publication_until": date(2025, 6, 30)})
    )  # fmt: skip
    assert found.row(0, named=True)["ended_on"] == date(2025, 7, 1)


def test_a_revocation_withdraws_it_late_ones_flagged_and_the_feed_of_each_date_stays():
    penalties = _penalties(
        {"doc_no": "A", "uscc": U1, "decided_on": date(2025, 3, 7), "fine_amount": 20000.0,
         "collected_on": date(2025, 3, 8)},
    )  # fmt: skip
    record = f"penalty_decisions:A:{U1}"
    disputed = _status(record, "disputed", date(2025, 4, 1), date(2025, 4, 10))
    revoked = _status(record, "revoked", date(2025, 4, 10))
    # known on the day of the revocation: withdrawn in time
    on_time = _disclosures(penalties, [disputed, revoked], known=date(2025, 4, 10))
    assert on_time.row(0, named=True)["withdrawal_late"] is False
    # known a month later: withdrawn then, flagged late (due 2025-04-15)
    late = _disclosures(penalties, [disputed, revoked], known=date(2025, 5, 12))
    row = late.row(0, named=True)
    assert (row["revoked_on"], row["withdraw_due"], row["ended_on"]) == (
        date(2025, 4, 10), date(2025, 4, 15), date(2025, 5, 12),
    )  # fmt: skip
    assert row["withdrawal_late"] is True and row["end_reason"] == "revoked"
    states = {
        day: feed_as_of(late, day).row(0, named=True)["state"]
        for day in (date(2025, 3, 31), date(2025, 4, 5), date(2025, 4, 30), date(2025, 6, 1))
    }
    assert states == {
        date(2025, 3, 31): "public",
        date(2025, 4, 5): "suspended",  # an open objection: not published meanwhile
        date(2025, 4, 30): "public",  # still shown: the centre did not know yet
        date(2025, 6, 1): "revoked",
    }
    assert feed_as_of(late, date(2025, 3, 1)).is_empty()  # not collected yet
    assert public_penalties(late, date(2025, 3, 31)).columns == list(PUBLIC_PENALTY_FIELDS)
    assert public_penalties(late, date(2025, 6, 1)).is_empty()
    changes = feed_changes(late, date(2025, 3, 31), date(2025, 6, 1))
    assert changes == {"published": [], "revoked": ["A"]}


def test_a_later_version_saying_revoked_withdraws_the_earlier_one():
    earlier = _penalties({"doc_no": "A", "uscc": U1, "decided_on": date(2025, 3, 7),
                          "fine_amount": 5000.0, "collected_on": date(2025, 3, 8)})  # fmt: skip
    retired = earlier.with_columns(
        file_sha256=pl.lit("ab" * 32), retired_on=pl.lit(date(2025, 5, 1))
    )
    current = earlier.with_columns(status=pl.lit("已撤销"), collected_on=pl.lit(date(2025, 5, 1)))
    frame = pl.DataFrame(schema=RECORD_STATUS_SCHEMA)
    cases = pl.DataFrame(schema={"case_id": pl.Utf8, "known_on": pl.Date})
    found = penalty_disclosures(current, retired, frame, cases, RULES)
    assert found.height == 1
    row = found.row(0, named=True)
    assert (row["version"], row["ended_on"], row["end_reason"]) == (
        "abababababab", date(2025, 5, 1), "revoked",
    )  # fmt: skip


def test_fines_in_wan_are_the_decimal_amount_whatever_the_column_length():
    """万元 = 元 / 10 000 to the cent: 33 000 元 reads 3.3, not 3.3000000000000003 (a long
    column's division by the reciprocal), in a whole feed and in one decision alike."""
    rows = [
        {"doc_no": f"D{i}", "uscc": U1, "decided_on": date(2025, 3, 7), "fine_amount": 33000.0,
         "collected_on": date(2025, 3, 10)}
        for i in range(2000)
    ]  # fmt: skip
    for penalties in (_penalties(*rows), _penalties(rows[0])):
        assert set(_disclosures(penalties)["fine_wan"].to_list()) == {3.3}


@settings(max_examples=200, deadline=None)
@given(
    then=st.lists(st.tuples(st.sampled_from(["A", "B", "C", "D", None]),
                            st.sampled_from(["public", "suspended", "revoked", "expired"]))),
    now=st.lists(st.tuples(st.sampled_from(["A", "B", "C", "D", None]),
                           st.sampled_from(["public", "suspended", "revoked", "withdrawn"]))),
)  # fmt: skip
def test_the_feeds_changes_are_the_set_differences_of_its_public_numbers(then, now):
    """`changes_between` by anti-joins says what the set differences said: decision numbers
    (several versions each, a missing number too) public now and not then, and the states
    now of those public then and not now."""
    a = pl.DataFrame(then, schema={"doc_no": pl.Utf8, "state": pl.Utf8}, orient="row")
    b = pl.DataFrame(now, schema={"doc_no": pl.Utf8, "state": pl.Utf8}, orient="row")
    public_now = set(b.filter(pl.col("state") == "public")["doc_no"].to_list())
    public_then = set(a.filter(pl.col("state") == "public")["doc_no"].to_list())
    left = b.filter(pl.col("doc_no").is_in(list(public_then - public_now)))
    try:
        expected = {"published": sorted(public_now - public_then)}
        for state in sorted(set(left["state"].to_list())):
            expected[state] = sorted(set(left.filter(pl.col("state") == state)["doc_no"].to_list()))
    except TypeError:  # a missing number beside others cannot be sorted: same either way
        with pytest.raises(TypeError):
            changes_between(a, b)
        return
    assert changes_between(a, b) == expected


def test_the_whole_report_is_due_first_then_each_month_and_when_the_date_goes_back():
    day = date(2026, 7, 9)
    assert full_report_due(None, day)  # the first report
    assert not full_report_due(date(2026, 7, 8), day)  # the day before: its changes
    assert not full_report_due(date(2026, 7, 1), day)
    assert full_report_due(date(2026, 6, 30), date(2026, 7, 1))  # a new month
    assert full_report_due(date(2025, 7, 8), day)  # a year apart, the same month
    assert full_report_due(day, day) and full_report_due(date(2026, 7, 10), day)


def test_a_change_report_holds_new_moved_and_removed_versions_only():
    penalties = _penalties(
        {"doc_no": "A", "uscc": U1, "decided_on": date(2025, 3, 7), "fine_amount": 20000.0,
         "collected_on": date(2025, 3, 8)},
        {"doc_no": "B", "uscc": U2, "decided_on": date(2025, 3, 3), "fine_amount": 1000.0,
         "collected_on": date(2025, 3, 4)},
        {"doc_no": "C", "uscc": U2, "decided_on": date(2025, 4, 2), "fine_amount": 1000.0,
         "collected_on": date(2025, 4, 3)},
    )  # fmt: skip
    disputed = _status(f"penalty_decisions:A:{U1}", "disputed", date(2025, 4, 1))
    found = _disclosures(penalties, [disputed])
    columns = ["state", "ended_on", "withdrawal_late", "published_on"]
    then, now = feed_as_of(found, date(2025, 3, 31)), feed_as_of(found, date(2025, 4, 5))
    changes = report_changes(then, now, columns)
    assert changes.select("doc_no", pl.col("change").cast(pl.Utf8), "state").rows() == [
        ("C", "new", "public"),  # collected after the last report
        ("A", "changed", "suspended"),  # an objection opened: suspended
    ]  # B, public on both days, is not in it
    assert changes.columns == ["doc_no", "version", *columns, "change"]
    gone = report_changes(now, then, columns)  # the other way round: C was never there
    assert gone.filter(pl.col("doc_no") == "C")["change"].cast(pl.Utf8).to_list() == ["removed"]
    assert report_changes(now, now, columns).is_empty()


_FEED_ROW = st.tuples(
    st.sampled_from(["A", "B", "C", None]),  # doc_no
    st.sampled_from(["", "v1"]),  # version
    st.sampled_from(["public", "suspended", "revoked"]),  # state
    st.sampled_from([None, date(2025, 5, 1), date(2025, 6, 1)]),  # ended_on
)


@settings(max_examples=200, deadline=None)
@given(then=st.lists(_FEED_ROW, max_size=8), now=st.lists(_FEED_ROW, max_size=8))
def test_the_last_report_with_the_change_report_applied_is_this_report(then, now):
    """Whatever two feeds (one row per decision version, a missing number included): the
    rows of `then` minus those the change report removes or replaces, plus its new and
    changed rows, are exactly the rows of `now`; so a month's whole report and its daily
    change reports give every day's report."""
    schema = {"doc_no": pl.Utf8, "version": pl.Utf8, "state": pl.Utf8, "ended_on": pl.Date}
    key = ["doc_no", "version"]

    def frame(rows):
        return pl.DataFrame(rows, schema=schema, orient="row").unique(key, keep="first")

    a, b = frame(then), frame(now)
    changes = report_changes(a, b, ["state", "ended_on"])
    kept = a.join(changes.select(key), on=key, how="anti", nulls_equal=True)
    applied = pl.concat([kept, changes.filter(pl.col("change") != "removed").drop("change")])
    assert sorted(applied.rows(), key=str) == sorted(b.rows(), key=str)
    assert changes.select(key).is_duplicated().sum() == 0
