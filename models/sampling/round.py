"""A whole double-random round as one pure function: `draw_round(inputs, params) -> RoundPlan`.

What belongs here: a round as one pure function of (eligible firm list, inspector list,
bookings of the other published rounds, round parameters, seed) (docs/sampling.md) —
canonical inputs and their hashes, the firm draw, the working days (with the notice period),
the inspector assignment, the schedule — in the one order both the warehouse run and a third
party's re-run follow. What does not: how the inputs are gathered (`eligibility`,
`warehouse.sampling`), the plan file (`plan_file`), exports, any I/O.

With `order_by_risk`, the schedule's dates are then re-dealt within each stratum and team,
riskiest firm first, from the published `risk` input: the model orders, it never
chooses who is inspected.

Random streams: the draw uses the round's stream (`draw.seed_sequence(seed, round_id)`); the
assignment's candidate sample, the assignment and the schedule each their own (`purpose`
"candidates", "assign" and "schedule"), so changing one step never moves another's numbers.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date

import polars as pl

from models.risk.ordering import order_within_strata
from models.sampling.assign import (
    Assignment,
    AssignmentInfeasibleError,
    assign_inspectors,
    eligible_codes,
    qualified_types,
    type_capacity_shortfalls,
)
from models.sampling.calendar import WorkingDays, add_working_days, working_days
from models.sampling.canonical import RoundInputs, sha256_text
from models.sampling.draw import ALGORITHM_VERSION, draw_firms, round_rng
from models.sampling.params import RoundParams
from models.sampling.schedule import ScheduleInfeasibleError, free_slots, schedule_inspections

ASSIGNMENT_ROWS_SCHEMA = pl.Schema(
    {
        "round_id": pl.Utf8,
        "uscc": pl.Utf8,
        "inspector_id": pl.Utf8,
        "inspection_date": pl.Date,
        "team": pl.Utf8,
    }
)
"""`sampling_assignments`: one row per (firm, inspector), with the firm's date and team."""


@dataclass(frozen=True)
class RoundPlan:
    """A computed round: its canonical inputs and their hashes, and everything drawn.

    `draws` follows `draw.DRAW_SCHEMA`, `strata` `draw.STRATA_SCHEMA`, `tiers`
    `draw.TIER_PROBABILITY_SCHEMA`, `schedule` one row per drawn firm
    (`schedule.SCHEDULE_SCHEMA`), `assignments` `ASSIGNMENT_ROWS_SCHEMA`; `calendar` the
    window's working days and their source, `first_day` the earliest inspection day allowed
    (the notice period after publication).
    """

    params: RoundParams
    algorithm_version: str
    inputs: RoundInputs
    input_texts: dict[str, str]
    input_hashes: dict[str, str]
    draws: pl.DataFrame
    strata: pl.DataFrame
    tiers: pl.DataFrame
    expected: dict[str, float]
    assignments: pl.DataFrame
    schedule: pl.DataFrame
    calendar: WorkingDays
    first_day: date


def _riskiest_first(
    schedule: pl.DataFrame, draws: pl.DataFrame, risk: pl.DataFrame
) -> pl.DataFrame:
    """Step 4b (`order_by_risk`): within each stratum and team, the team's dates go to its
    firms riskiest first (`models.risk.ordering`); the firms, teams and the set of dates each
    team works are unchanged, so the cap and the bookings still hold."""
    stratified = schedule.join(draws.select("uscc", "stratum"), on="uscc", how="left")
    ordered = order_within_strata(
        stratified,
        risk.select(pl.col("uscc").alias("entity_id"), "probability"),
        group_by=("stratum", "team"),
    )
    return ordered.select(schedule.columns).sort("inspection_date", "team", "uscc")


CANDIDATE_STEPS: tuple[int | None, ...] = (16, 128, None)
"""Candidates per firm tried in turn; the last step is the full eligible set (None), whose
failure is the proof of infeasibility: see `assign_teams`."""


def round_inspectors(inputs: RoundInputs, params: RoundParams) -> pl.DataFrame:
    """The roster the round may use: every inspector of the input, except — in a joint round —
    those of departments that are neither the organiser's (blank) nor a partner."""
    if not params.partner_departments or "department" not in inputs.inspectors.columns:
        return inputs.inspectors
    allowed = ["", *params.partner_departments]
    return inputs.inspectors.filter(pl.col("department").fill_null("").is_in(allowed))


def assign_teams(
    drawn: pl.DataFrame,
    inputs: RoundInputs,
    params: RoundParams,
    *,
    version: str = ALGORITHM_VERSION,
    inspector_caps: dict[str, int] | None = None,
) -> Assignment:
    """Step 3: a random lawful assignment of `inspectors_per_firm` inspectors to each drawn
    firm (`drawn`: uscc, firm_type).

    A national roster makes the full set of eligible (firm, inspector) pairs ~10⁸ rows, so the
    max-flow first runs on a random sample of each firm's eligible inspectors (16, then 128
    per firm: `CANDIDATE_STEPS`, from the round's "candidates" stream); every sampled pair is
    eligible, so any assignment found is lawful. Only if the samples cannot be completed does
    it run on the full set, whose failure is the proof of infeasibility the error reports. A
    firm type short of inspectors even before exclusions fails at once, from counts alone.
    `inspector_caps` (draw-2) lowers each inspector's cap to the free slots the window leaves;
    a joint round (`partner_departments`) puts one inspector of each department in every team.
    """
    roster = round_inspectors(inputs, params) if version == ALGORITHM_VERSION else inputs.inspectors
    type_capacity_shortfalls(
        drawn,
        roster,
        window_end=params.window_end,
        inspectors_per_firm=params.inspectors_per_firm,
        max_firms_per_inspector=params.max_firms_per_inspector,
    )
    sampler = round_rng(params, "candidates", version)
    departments: dict[str, str] = {}
    required: tuple[str, ...] = ()
    if version == ALGORITHM_VERSION and params.partner_departments:
        departments = {
            i: (d or "") for i, d in roster.select("inspector_id", "department").iter_rows()
        }
        required = ("", *params.partner_departments)

    def solve(candidates: int | None) -> Assignment:
        pairs = eligible_codes(
            drawn,
            roster,
            inputs.conflicts,
            inputs.previous,
            window_start=params.window_start,
            window_end=params.window_end,
            rotation=params.rotation,
            candidates=candidates,
            rng=sampler,
        )
        return assign_inspectors(
            drawn,
            pairs,
            inspectors_per_firm=params.inspectors_per_firm,
            max_firms_per_inspector=params.max_firms_per_inspector,
            rng=round_rng(params, "assign", version),
            inspector_caps=inspector_caps,
            departments=departments,
            required_departments=required,
        )

    *samples, full = CANDIDATE_STEPS
    for candidates in samples:
        with contextlib.suppress(AssignmentInfeasibleError):  # a sample may miss a solution
            return solve(candidates)
    every = _pair_count(drawn, roster, params.window_end)
    if every > MAX_FULL_PAIRS:
        # the exhaustive attempt would hold every pair and its flow graph in memory: at a
        # national scale ~10⁸ pairs took a 24 GB machine down — refuse instead, and say why
        raise AssignmentInfeasibleError(
            f"抽样候选中找不到满足全部规则的分配，而全部候选组合有 {every:,} 个，超过上限 "
            f"{MAX_FULL_PAIRS:,}，无法逐一验证：请提高每人检查单位上限"
            f"（max_firms_per_inspector，现为 {params.max_firms_per_inspector}）或减少抽取数量 / "
            f"no assignment found among the sampled candidates, and the {every:,} eligible "
            f"(firm, inspector) pairs exceed the {MAX_FULL_PAIRS:,} an exhaustive search may "
            "hold: raise max_firms_per_inspector "
            f"(now {params.max_firms_per_inspector}) or draw fewer firms",
            [{"kind": "too_many_pairs", "pairs": every, "limit": MAX_FULL_PAIRS}],
        )
    return solve(full)


MAX_FULL_PAIRS = 5_000_000
"""Eligible (firm, inspector) pairs above which the exhaustive assignment is not attempted
(its pairs and flow graph would not fit a small server); the sampled steps still are."""


def _pair_count(drawn: pl.DataFrame, roster: pl.DataFrame, window_end: date) -> int:
    """An upper bound of the eligible pairs, from counts alone: per firm type, its drawn
    firms times its qualified inspectors (before recusals and rotation)."""
    firms = drawn.group_by("firm_type").agg(firms=pl.len())
    people = qualified_types(roster, window_end).group_by("firm_type").agg(people=pl.len())
    joined = firms.join(people, on="firm_type").select(pl.col("firms") * pl.col("people"))
    return int(joined.to_series().sum() or 0)


def first_inspection_day(params: RoundParams) -> date:
    """The earliest inspection day: `notice_working_days` working days after publication
    (never before the window opens); a back-dated round, or one without a publication date,
    may start with its window."""
    if params.backdate or params.published_on is None:
        return params.window_start
    notice = add_working_days(params.published_on, params.notice_working_days, params.calendar)
    return max(params.window_start, notice)


def draw_round(
    inputs: RoundInputs, params: RoundParams, texts: dict[str, str] | None = None
) -> RoundPlan:
    """Draw, assign and schedule round `params.round_id` from `inputs` (algorithm `draw-2`).

    The inputs are first turned into their canonical text (`texts`: `inputs.texts()`, when
    the caller made them already) and read back, so the result depends only on what the
    published files say. Raises `DrawError`, `AssignmentInfeasibleError` or
    `ScheduleInfeasibleError` (each naming what is short) — a rule is never relaxed.
    """
    texts = inputs.texts() if texts is None else texts
    canonical = RoundInputs.from_texts(texts)
    firm_draw = draw_firms(canonical.firms, params)
    drawn = firm_draw.draws.join(
        canonical.firms.select("uscc", "district"), on="uscc", how="left"
    ).select("uscc", "firm_type", "district")
    calendar = working_days(params.window_start, params.window_end, params.calendar)
    first_day = first_inspection_day(params)
    days = [d for d in calendar.days if d >= first_day]
    first_day = days[0] if days else first_day
    if not days and drawn.height:
        raise ScheduleInfeasibleError(
            f"检查期间 {params.window_start} — {params.window_end} 内，公布后 "
            f"{params.notice_working_days} 个工作日（{first_day} 起）已无工作日 / no working day "
            f"is left in the window after the notice period (from {first_day})",
            [{"kind": "window", "first_day": first_day.isoformat()}],
        )
    roster = round_inspectors(canonical, params)
    caps = free_slots(
        roster.get_column("inspector_id").to_list(),
        days,
        params.daily_cap_per_team,
        canonical.bookings,
    )
    assignment = assign_teams(drawn, canonical, params, inspector_caps=caps)
    schedule = schedule_inspections(
        assignment.assignments,
        drawn,
        days=days,
        daily_cap_per_team=params.daily_cap_per_team,
        rng=round_rng(params, "schedule"),
        bookings=canonical.bookings,
    )
    if params.order_by_risk:
        schedule = _riskiest_first(schedule, firm_draw.draws, canonical.risk)
    assignments = (
        assignment.assignments.join(
            schedule.select("uscc", "inspection_date", "team"), on="uscc", how="left"
        )
        .with_columns(pl.lit(params.round_id, dtype=pl.Utf8).alias("round_id"))
        .select(ASSIGNMENT_ROWS_SCHEMA.names())
        .cast(ASSIGNMENT_ROWS_SCHEMA)
        .sort("inspection_date", "team", "uscc", "inspector_id")
    )
    return RoundPlan(
        params=params,
        algorithm_version=ALGORITHM_VERSION,
        inputs=canonical,
        input_texts=texts,
        input_hashes={name: sha256_text(text) for name, text in texts.items()},
        draws=firm_draw.draws,
        strata=firm_draw.strata,
        tiers=firm_draw.tiers,
        expected=firm_draw.expected,
        assignments=assignments,
        schedule=schedule,
        calendar=calendar,
        first_day=first_day,
    )
