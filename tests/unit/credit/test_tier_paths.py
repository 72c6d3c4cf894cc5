"""Tier paths and repair options (docs §5): hand-worked cases, and on random
record sets the next better tier's date equals a day-by-day scan of the scores that the
records known at T imply (hypothesis); and a later date derives again only the firms with
an event in between, the others' rows moved on (hypothesis)."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from models.credit_schema import REPAIR_OPTION_SCHEMA, TIER_PATH_SCHEMA
from models.scoring import score_as_of, score_history
from models.tier_paths import (
    RECORD_EVENT_DATES,
    STATUS_EVENT_DATES,
    firms_with_events,
    moved_on,
    tier_paths,
)

sys.path.insert(0, str(Path(__file__).parent))

from test_scoring import (
    F1,
    F2,
    FIRMS,
    OUTSIDER,
    RULES,
    D,
    add_months,
    bonus,
    days,
    record,
    records_frame,
    scenarios,
    status,
    statuses_frame,
    veto,
)

T = D("2024-06-01")
TABLES = ("tier_paths", "repair_options")


def paths_and_options(
    rows: list[dict], statuses: list[dict] = (), as_of: date = T
) -> tuple[pl.DataFrame, pl.DataFrame]:
    return tier_paths(records_frame(rows), statuses_frame(statuses), FIRMS, RULES, as_of)


def path_of(paths: pl.DataFrame, uscc: str) -> dict[str, Any]:
    return paths.filter(pl.col("uscc") == uscc).row(0, named=True)


# --- tier paths ---------------------------------------------------------------------------------


def test_veto_expiry_lifts_d_straight_to_the_tier_of_the_score() -> None:
    # 70 − 5 + 10 = 75 under a veto ending 2024-09-01: D, then B (not C) that day.
    rows = [record("p"), veto("v", valid_until="2024-09-01"), bonus("g", 10.0, months=36)]
    paths, _ = paths_and_options(rows)
    assert paths.schema == TIER_PATH_SCHEMA
    assert path_of(paths, F1) == {
        "uscc": F1,
        "as_of": T,
        "score": 75.0,
        "current_tier": "D",
        "next_tier": "B",
        "next_tier_on": D("2024-09-01"),
        "next_tier_score": 75.0,
    }


def test_expiring_bonus_lowers_the_score_on_the_way() -> None:
    # 70 − 10 − 5 + 5 = 60 (C); 2024-09-01 the bonus ends: 55; 2025-03-05 the L2 ends: 60;
    # 2026-03-05 the L3 ends: 70, B.
    rows = [
        record("l3", points=10.0, months=24, uscc=F2),
        record("l2", points=5.0, uscc=F2),
        bonus("g", 5.0, valid_from="2023-09-01", uscc=F2),
    ]
    got = path_of(paths_and_options(rows)[0], F2)
    assert (got["score"], got["current_tier"]) == (60.0, "C")
    assert (got["next_tier"], got["next_tier_on"], got["next_tier_score"]) == (
        "B",
        D("2026-03-05"),
        70.0,
    )


def test_a_later_known_segment_counts_on_the_path() -> None:
    # A correction notice: −2 now (68, B), −10 from 2024-07-01 (60, C): waiting never
    # reaches A; the path shows the next tier up with no date.
    rows = [
        record("c", points=2.0, months=6, segment_until="2024-07-01"),
        record("c", points=10.0, months=24, segment=1, segment_from="2024-07-01"),
    ]
    got = path_of(paths_and_options(rows)[0], F1)
    assert (got["current_tier"], got["next_tier"], got["next_tier_on"]) == ("B", "A", None)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], ("B", "A", None, None)),  # no records: waiting never reaches A
        ([bonus("g", 20.0)], ("A", None, None, None)),  # A has no better tier
        ([record("p", points=30.0)], ("D", "B", D("2025-03-05"), 70.0)),  # 40 → 70
    ],
    ids=["no records", "tier A", "D until the record ends"],
)
def test_next_tier(rows: list[dict], expected: tuple) -> None:
    got = path_of(paths_and_options(rows)[0], F1)
    assert (got["current_tier"], got["next_tier"], got["next_tier_on"], got["next_tier_score"]) == (
        expected
    )


def test_facts_after_t_are_not_assumed() -> None:
    # A repair decided after T and a commendation collected after T are new facts.
    rows = [record("p", points=30.0), bonus("g", 30.0, collected_on="2024-07-01")]
    got = path_of(paths_and_options(rows, [status("p", "repaired", "2024-08-01")])[0], F1)
    assert (got["score"], got["next_tier_on"]) == (40.0, D("2025-03-05"))


# --- repair options -------------------------------------------------------------------------------


def options_of(rows: list[dict], statuses: list[dict] = (), as_of: date = T) -> pl.DataFrame:
    _, options = paths_and_options(rows, statuses, as_of)
    assert options.schema == REPAIR_OPTION_SCHEMA
    return options.select(
        "record_id", "repair_eligible_from", "valid_until", "points_cleared", "tier_if_repaired"
    )


def test_repair_options_minimum_periods_and_tier_without_the_record() -> None:
    # 70 − 5 − 10 = 55 (C) as of 2024-06-01.
    rows = [
        record("l2", points=5.0, valid_from="2024-04-01"),  # 3 months → 2024-07-01
        record("l4", points=10.0, valid_from="2024-01-15", severity="L4", months=36),  # 12
        bonus("g", 5.0, uscc=F2),  # good records cannot be repaired
    ]
    assert options_of(rows).rows() == [
        ("l2", D("2024-07-01"), D("2025-04-01"), 5.0, "C"),  # 60 without it
        ("l4", D("2025-01-15"), D("2027-01-15"), 10.0, "B"),  # 65 without it
    ]


def test_repair_options_for_safety_categories_vetoes_and_past_periods() -> None:
    rows = [
        # safety category: 12 months, from 2023-08-10 → 2024-08-10
        record(
            "s", points=5.0, valid_from="2023-08-10", months=24, category="发生重大质量安全事故"
        ),
        # 3 months long past: eligible from T
        record("old", points=5.0, valid_from="2023-10-01"),
        # a veto record lasting 18 months: eligible after 12, lifts the veto
        veto("v", valid_from="2024-01-01", months=18),
        # a veto record of 12 months expires the day it would become eligible: no option
        veto("v12", valid_from="2024-01-01", months=12),
    ]
    assert options_of(rows).rows() == [
        ("old", T, D("2024-10-01"), 5.0, "D"),
        ("s", D("2024-08-10"), D("2025-08-10"), 5.0, "D"),
        ("v", D("2025-01-01"), D("2025-07-01"), 0.0, "D"),  # v12 still counts as of T
    ]
    without_v12 = options_of([r for r in rows if r["record_id"] != "v12"])
    assert without_v12.filter(pl.col("record_id") == "v")["tier_if_repaired"].item() == "C"


def test_the_minimum_period_is_the_longest_over_the_record_segments() -> None:
    # A correction notice counting as L1 until 2024-07-01 (window to 2024-11-01), then L3.
    rows = [
        record("c", points=2.0, valid_from="2024-05-01", months=6, severity="L1",
               segment_until="2024-07-01"),
        record("c", points=10.0, valid_from="2024-05-01", months=24, severity="L3",
               segment=1, segment_from="2024-07-01"),
    ]  # fmt: skip
    assert options_of(rows)["repair_eligible_from"].to_list() == [D("2024-08-01")]  # 3 months
    # Where L3 needs 12 months, so does the whole record: no repair before the L1 window ends.
    strict = RULES.model_copy(
        update={"repair": RULES.repair.model_copy(update={"severe_severities": ("L3",)})}
    )
    _, options = tier_paths(records_frame(rows), statuses_frame([]), FIRMS, strict, T)
    assert options.is_empty()


def test_a_record_expiring_before_it_could_be_repaired_is_no_option() -> None:
    assert options_of([record("short", months=2, valid_from="2024-05-01")]).is_empty()


def test_the_score_today_is_bit_for_bit_the_score_as_of_t() -> None:
    # 70 − 20 − 10 − 3.2: polars' 33200000 / 1e6 is 33.199999999999996 (a multiplication by
    # the reciprocal), so an uncorrected path gave 36.800000000000004 against 36.8 (CI).
    rows = [record(r, points=p) for r, p in (("a", 20.0), ("b", 10.0), ("c", 3.2))]
    paths, _ = paths_and_options(rows)
    now = score_as_of(records_frame(rows), statuses_frame([]), FIRMS, RULES, T).scores
    assert path_of(paths, F1)["score"] == now.filter(pl.col("uscc") == F1)["score"].item()
    assert path_of(paths, F1)["score"] == 70 - 33.2


# --- on random record sets -----------------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_next_tier_on_is_the_first_better_day_of_a_daily_scan(scenario: tuple) -> None:
    rows, sts, dates = scenario
    as_of = min(dates)
    records, statuses = records_frame(rows), statuses_frame(sts)
    paths, options = tier_paths(records, statuses, FIRMS, RULES, as_of)
    now = score_as_of(records, statuses, FIRMS, RULES, as_of)
    assert paths.select("uscc", "score", tier="current_tier").equals(
        now.scores.select("uscc", "score", "tier")
    )
    # What the records and statuses known at T imply for every later day, one by one.
    known = records.filter(pl.col("collected_on") <= as_of)
    decided = statuses.filter(pl.col("status_from") <= as_of)
    days = [as_of + timedelta(days=n) for n in range(1, 1500)]
    later = score_history(known, decided, FIRMS, RULES, days, reason_dates=())
    rank = RULES.tier_rank
    for path in paths.iter_rows(named=True):
        ahead = later.scores.filter(pl.col("uscc") == path["uscc"])
        better = [
            (row["as_of"], row["tier"], row["score"])
            for row in ahead.iter_rows(named=True)
            if rank(row["tier"]) < rank(path["current_tier"])
        ]
        if better:
            assert (path["next_tier_on"], path["next_tier"], path["next_tier_score"]) == better[0]
        else:
            assert path["next_tier_on"] is None
    # Each option's tier is the one the firm would have as of T with that record repaired
    # (a repaired record still makes later ones repeats: only its own points go).
    for option in options.iter_rows(named=True):
        repaired = pl.concat(
            [statuses, statuses_frame([status(option["record_id"], "repaired", as_of)])]
        )
        alone = score_as_of(records, repaired, FIRMS, RULES, as_of).scores
        assert option["tier_if_repaired"] == (
            alone.filter(pl.col("uscc") == option["uscc"])["tier"].item()
        )


# --- a later processing date ------------------------------------------------------------------

STATUS_KINDS = ["suspended", "same_fact", "suspended", "withdrawn", "grounds_lost", "repaired",
                "revoked", "corrected", "disputed"]  # fmt: skip
"""Record statuses drawn; the gaps twice as often: their end is a date of its own."""


@st.composite
def living_records(draw: st.DrawFn) -> tuple[list[dict], list[dict]]:
    """Records that mostly count (directory firms, evidenced), each of a kind whose dates
    move a path: a bad record, a bonus, a veto, a correction turning L1 then L3, a
    record counting only inside a segment of its window (starting late or early, ending
    before the window does) — known on the day it starts, days after or months before —
    with repeats (one category), and stopping and gap statuses inside their windows."""
    rows: list[dict] = []
    for i in range(draw(st.integers(1, 5))):
        start = draw(days)
        base = {
            "uscc": draw(st.sampled_from([F1, F1, F2, F2, OUTSIDER])),
            "valid_from": start,
            "months": draw(st.sampled_from([1, 6, 12])),
            "collected_on": start + timedelta(days=draw(st.sampled_from([0, 0, 5, -1, -90]))),
            "evidence_valid": draw(st.sampled_from([True, True, True, True, False])),
            "category": draw(st.sampled_from([None, "X", "X"])),
        }
        points = draw(st.sampled_from([2.0, 5.0, 10.0, 20.0, 0.7]))
        kind = draw(st.sampled_from(["bad", "good", "veto", "correction", "inside", "inside"]))
        if kind == "good":
            rows.append(bonus(f"r{i}", points, **{**base, "category": None}))
        elif kind == "veto":
            rows.append(veto(f"r{i}", **base))
        elif kind == "correction":
            cut = start + timedelta(days=draw(st.integers(1, 90)))
            rows.append(record(f"r{i}", points=points, segment_until=cut, **base))
            rows.append(
                record(f"r{i}", points=10.0, segment=1, segment_from=cut, **{**base, "months": 24})
            )
        elif kind == "inside":
            late, early_end = draw(st.integers(-60, 60)), draw(st.integers(61, 200))
            rows.append(record(f"r{i}", points=points, segment_from=start + timedelta(days=late),
                               segment_until=start + timedelta(days=early_end),
                               **{**base, "months": 12}))  # fmt: skip
        else:
            rows.append(record(f"r{i}", points=points, **base))
    statuses = []
    for row in draw(st.lists(st.sampled_from(rows), max_size=3)):
        # mostly while the record counts, where a status changes something
        first = max(row[k] for k in ("valid_from", "segment_from", "collected_on"))
        last = min(row[k] or row["valid_until"] for k in ("valid_until", "segment_until"))
        since = first + timedelta(days=draw(st.integers(0, max(1, (last - first).days))))
        lasting = draw(st.integers(1, 60) | st.none())
        until = None if lasting is None else since + timedelta(days=lasting)
        kind = draw(st.sampled_from(STATUS_KINDS))
        statuses.append(status(row["record_id"], kind, since, until))
    return rows, statuses


@st.composite
def date_moves(draw: st.DrawFn) -> tuple[list[dict], list[dict], list[tuple[date, date]]]:
    """Records (`living_records`) and a few moves d0 < d1, a day to a year apart, each with
    d1 on a date of the records (an event on the last day of the interval, included) or d0
    on it (the first day, excluded).

    The dates are drawn kind by kind (`RECORD_EVENT_DATES`, `STATUS_EVENT_DATES`, and the
    days repairs become possible: 3 and 12 months after `valid_from`), each kind as likely,
    and within a kind the dates no other date of the same row shares: a move then often has
    one event of one kind only, and leaving that kind out is seen."""
    rows, sts = draw(living_records())
    edges: dict[str, list[date]] = {}
    for table, kinds in ((rows, RECORD_EVENT_DATES), (sts, STATUS_EVENT_DATES)):
        for row in table:
            for kind in kinds:
                shared = [row[k] for k in kinds if k != kind]
                if row[kind] is not None and row[kind] not in shared:
                    edges.setdefault(kind, []).append(row[kind])
    edges["repairable"] = [add_months(r["valid_from"], m) for r in rows for m in (3, 12)]
    moves = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(sorted(edges)))
        anchor = draw(st.sampled_from(edges[kind]))
        apart = timedelta(days=draw(st.sampled_from([1, 1, 1, 2, 30, 400])))
        ends = draw(st.booleans())
        moves.append((anchor - apart, anchor) if ends else (anchor, anchor + apart))
    return rows, sts, moves


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(date_moves())
def test_a_later_date_derives_again_only_the_firms_with_events(case: tuple) -> None:
    """As of d1, the firms with an event in (d0, d1] derived again and every other firm's
    rows as of d0 moved on (`moved_on`) are exactly the rows of a derivation as of d1."""
    rows, sts, moves = case
    records, statuses = records_frame(rows), statuses_frame(sts)
    for d0, d1 in moves:
        before = tier_paths(records, statuses, FIRMS, RULES, d0)
        after = tier_paths(records, statuses, FIRMS, RULES, d1)
        events = firms_with_events(records, statuses, d0, d1).implode()
        for table, old, new in zip(TABLES, before, after, strict=True):
            kept = moved_on(old.filter(~pl.col("uscc").is_in(events)), table, d1)
            # a firm's rows depend on its own records only: those derived again are its rows
            got = pl.concat([kept, new.filter(pl.col("uscc").is_in(events))])
            assert_frame_equal(got.sort(got.columns), new.sort(new.columns))


def test_the_moved_columns_are_the_dated_ones() -> None:
    """`moved_on` changes T and the repair date only: max(old, T), never earlier."""
    rows = [record("l4", points=10.0, valid_from="2024-01-15", severity="L4", months=36),
            record("old", points=5.0, valid_from="2023-10-01")]  # fmt: skip
    paths, options = paths_and_options(rows)  # as of 2024-06-01: l4 eligible from 2025-01-15
    later = D("2024-09-01")
    assert moved_on(paths, "tier_paths", later).drop("as_of").equals(paths.drop("as_of"))
    moved = moved_on(options, "repair_options", later)
    assert moved["as_of"].unique().to_list() == [later]
    assert moved.select("record_id", "repair_eligible_from").rows() == [
        ("l4", D("2025-01-15")),
        ("old", later),
    ]
    assert moved.drop("as_of", "repair_eligible_from").equals(
        options.drop("as_of", "repair_eligible_from")
    )
