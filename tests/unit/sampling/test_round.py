"""A whole round: every rule holds on the result, the same inputs and seed give a
byte-identical plan whatever the row order, and any changed input changes its hash."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from models.sampling.assign import AssignmentInfeasibleError
from models.sampling.plan_file import plan_bytes, verify_plan, working_days
from models.sampling.round import draw_round

from .round_data import round_inputs, round_params


def test_every_drawn_firm_gets_a_lawful_team_on_a_working_day() -> None:
    inputs, params = round_inputs(), round_params()
    plan = draw_round(inputs, params)
    drawn = set(plan.draws.get_column("uscc"))
    teams = plan.assignments.group_by("uscc").agg(
        pl.col("inspector_id").n_unique().alias("n"), pl.col("inspection_date").n_unique()
    )
    assert set(teams.get_column("uscc")) == drawn
    assert teams.get_column("n").min() == params.inspectors_per_firm
    assert teams.get_column("inspection_date").max() == 1  # a team visits together
    days = set(working_days(params))
    assert set(plan.assignments.get_column("inspection_date")) <= days
    load = plan.assignments.group_by("inspector_id").len()
    assert load.get_column("len").max() <= params.max_firms_per_inspector
    per_day = plan.assignments.group_by("inspector_id", "inspection_date").len()
    assert per_day.get_column("len").max() <= params.daily_cap_per_team
    fields = dict(inputs.inspectors.select("inspector_id", "fields").iter_rows())
    types = dict(inputs.firms.select("uscc", "firm_type").iter_rows())
    for uscc, inspector in plan.assignments.select("uscc", "inspector_id").iter_rows():
        assert types[uscc] in fields[inspector]
    pairs = set(plan.assignments.select("uscc", "inspector_id").iter_rows())
    assert ("91310000F00000", "INS-000") not in pairs  # recusal in force
    assert ("91310000F00005", "INS-002") not in pairs  # rotation
    inactive = {f"INS-{i:03d}" for i in range(30) if i % 10 == 9}
    assert not inactive & set(plan.assignments.get_column("inspector_id"))


def test_same_inputs_and_seed_give_a_byte_identical_plan_in_any_row_order() -> None:
    inputs, params = round_inputs(), round_params()
    first = plan_bytes(draw_round(inputs, params))
    shuffled = type(inputs)(
        firms=inputs.firms.sample(fraction=1.0, shuffle=True, seed=1),
        inspectors=inputs.inspectors.reverse(),
        conflicts=inputs.conflicts.reverse(),
        previous=inputs.previous,
    )
    assert plan_bytes(draw_round(shuffled, params)) == first
    assert plan_bytes(draw_round(inputs, round_params(seed=1))) != first


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("firms", lambda f: f.with_columns(pl.when(pl.col("uscc") == "91310000F00007")
                                             .then(pl.lit("C")).otherwise("tier").alias("tier"))),
        ("firms", lambda f: f.head(-1)),
        ("inspectors", lambda f: f.with_columns(
            pl.when(pl.col("inspector_id") == "INS-003").then(date(2028, 1, 1))
            .otherwise("certificate_valid_until").alias("certificate_valid_until"))),
        ("conflicts", lambda f: f.head(1)),
        ("previous", lambda f: f.clear()),
    ],
)  # fmt: skip
def test_a_changed_input_changes_its_hash_and_only_its_hash(name: str, change) -> None:
    inputs, params = round_inputs(), round_params()
    before = draw_round(inputs, params).input_hashes
    changed = type(inputs)(**{
        n: change(getattr(inputs, n)) if n == name else getattr(inputs, n)
        for n in ("firms", "inspectors", "conflicts", "previous")
    })  # fmt: skip
    after = draw_round(changed, params).input_hashes
    assert {n for n in before if before[n] != after[n]} == {name}


def test_an_impossible_round_fails_with_the_shortfall() -> None:
    inputs = round_inputs(inspectors=3)
    with pytest.raises(AssignmentInfeasibleError, match="inspector slots"):
        draw_round(inputs, round_params())


def test_ordering_by_risk_gives_each_team_its_dates_riskiest_first() -> None:
    inputs = round_inputs()
    risk = inputs.firms.select(
        "uscc", probability=pl.int_range(pl.len()).cast(pl.Float64) / inputs.firms.height
    )
    plain = draw_round(inputs, round_params())
    ordered = draw_round(type(inputs)(**{**inputs.__dict__, "risk": risk}),
                         round_params(order_by_risk=True))  # fmt: skip
    assert ordered.draws.equals(plain.draws)  # the model never changes who is inspected
    key = ["uscc", "inspector_id", "team"]
    assert ordered.assignments.select(key).sort(key).equals(plain.assignments.select(key).sort(key))
    slots = ["team", "inspection_date"]
    assert sorted(ordered.schedule.select(slots).rows()) == sorted(
        plain.schedule.select(slots).rows()
    )
    probability = dict(risk.iter_rows())
    by_group = ordered.schedule.join(ordered.draws.select("uscc", "stratum"), on="uscc")
    for _, group in by_group.group_by("stratum", "team"):
        dates = group.sort("inspection_date", "uscc")
        risks = [probability[u] for u in dates.get_column("uscc")]
        days = dates.get_column("inspection_date").to_list()
        for i in range(len(risks) - 1):
            assert days[i] == days[i + 1] or risks[i] >= risks[i + 1]
    assert not ordered.schedule.equals(plain.schedule)
    assert verify_plan(plan_bytes(ordered)).identical


def test_sampled_candidates_are_eligible_and_the_full_set_is_the_fallback(monkeypatch) -> None:
    from fixtures.sampling import eligible_pairs

    from models.sampling import round as round_module
    from models.sampling.round import round_rng

    inputs, params = round_inputs(firms=60, inspectors=30), round_params()
    drawn = inputs.firms.select("uscc", "firm_type")
    window = {"window_start": params.window_start, "window_end": params.window_end}
    full = eligible_pairs(drawn, inputs.inspectors, inputs.conflicts, inputs.previous,
                          rotation=True, **window)  # fmt: skip
    rng = round_rng(params, "c")
    sampled = eligible_pairs(drawn, inputs.inspectors, inputs.conflicts, inputs.previous,
                             rotation=True, candidates=2, rng=rng, **window)  # fmt: skip
    assert set(sampled.rows()) < set(full.rows())  # a strict subset of the eligible pairs
    # Two draws per firm cannot staff a team of three; the full set can.
    params = round_params(inspectors_per_firm=3)
    attempts = []
    solve = round_module.assign_inspectors
    monkeypatch.setattr(round_module, "CANDIDATE_STEPS", (1, None))
    monkeypatch.setattr(round_module, "assign_inspectors",
                        lambda *a, **k: attempts.append(a[1].height) or solve(*a, **k))  # fmt: skip
    plan = draw_round(inputs, params)
    teams = plan.assignments.group_by("uscc").len()
    assert teams.get_column("len").min() == params.inspectors_per_firm
    assert set(plan.assignments.select("uscc", "inspector_id").rows()) <= set(full.rows())
    drawn_full = full.join(plan.draws.select("uscc"), on="uscc", how="semi")
    assert attempts == [attempts[0], drawn_full.height] and attempts[0] < drawn_full.height


def test_a_joint_round_puts_an_inspector_of_each_department_in_every_team() -> None:
    """联合抽查: the roster names departments; with a partner department every team holds one
    of the organiser's own inspectors (blank department) and one of the partner's."""
    inputs = round_inputs(firms=60, inspectors=40)
    departments = [
        "市场监管局" if i % 2 == 0 else ("自然资源局" if i % 4 == 1 else None) for i in range(40)
    ]
    roster = inputs.inspectors.with_columns(department=pl.Series(departments, dtype=pl.Utf8))
    joint = type(inputs)(inputs.firms, roster, inputs.conflicts, inputs.previous)
    params = round_params(partner_departments=["市场监管局"], control_share=0.0)
    plan = draw_round(joint, params)
    of = dict(roster.select("inspector_id", "department").iter_rows())
    teams = plan.assignments.group_by("uscc").agg(pl.col("inspector_id"))
    for uscc, members in teams.iter_rows():
        kinds = {of[m] or "" for m in members}
        assert kinds == {"", "市场监管局"}, (uscc, members)  # 自然资源局 is not a partner
    assert verify_plan(plan_bytes(plan)).identical
    with pytest.raises(AssignmentInfeasibleError, match="无合格的 林业局"):
        draw_round(joint, round_params(partner_departments=["林业局"], control_share=0.0))


def test_other_rounds_bookings_keep_every_inspector_within_the_cap() -> None:
    """One calendar: inspections another published round booked count against the cap."""
    inputs, params = round_inputs(), round_params(daily_cap_per_team=1)
    first = draw_round(inputs, params)
    bookings = (
        first.assignments.group_by("inspector_id", "inspection_date")
        .len()
        .select("inspector_id", day="inspection_date", booked="len")
        .cast({"booked": pl.Int64})
    )
    booked = type(inputs)(inputs.firms, inputs.inspectors, inputs.conflicts, inputs.previous,
                          bookings=bookings)  # fmt: skip
    second = draw_round(booked, round_params(daily_cap_per_team=1, round_id="2027Q1-b"))
    both = pl.concat([first.assignments, second.assignments])
    per_day = both.group_by("inspector_id", "inspection_date").agg(pl.col("uscc").n_unique())
    assert per_day.get_column("uscc").max() <= 1
    assert verify_plan(plan_bytes(second)).identical


def test_no_exhaustive_assignment_beyond_the_pair_limit(monkeypatch) -> None:
    """When the sampled candidates cannot be completed, the exhaustive search over every
    eligible pair is refused above `MAX_FULL_PAIRS` — at national scale it held ~10⁸ pairs
    and took the machine down — with the count, the limit and what to change."""
    from models.sampling import round as round_module

    inputs, params = round_inputs(firms=60, inspectors=30), round_params(inspectors_per_firm=3)
    monkeypatch.setattr(round_module, "CANDIDATE_STEPS", (1, None))  # the sample fails
    assert draw_round(inputs, params).assignments.height  # the exhaustive search succeeds
    monkeypatch.setattr(round_module, "MAX_FULL_PAIRS", 10)
    with pytest.raises(AssignmentInfeasibleError, match="max_firms_per_inspector") as refused:
        draw_round(inputs, params)
    [shortfall] = refused.value.shortfalls
    assert shortfall["kind"] == "too_many_pairs" and shortfall["pairs"] > 10
