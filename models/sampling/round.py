"""A whole double-random round as one pure function: `draw_round(inputs, params) -> RoundPlan`.

What belongs here: a round as one pure function of (eligible firm list, inspector list,
round parameters, seed) (docs/sampling.md) — canonical inputs and their hashes, the firm draw,
the inspector assignment, the schedule — in the one order both the warehouse run and a third
party's re-run follow. What does not: how the inputs are gathered (`eligibility`, pipelines),
the plan file (`plan_file`), exports, any I/O.

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

import numpy as np
import polars as pl

from models.risk.ordering import order_within_strata
from models.sampling.assign import (
    Assignment,
    AssignmentInfeasibleError,
    assign_inspectors,
    eligible_pairs,
    type_capacity_shortfalls,
)
from models.sampling.canonical import RoundInputs, sha256_text
from models.sampling.draw import ALGORITHM_VERSION, draw_firms, seed_sequence
from models.sampling.params import RoundParams
from models.sampling.schedule import schedule_inspections

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

    `draws` follows `draw.DRAW_SCHEMA`, `strata` `draw.STRATA_SCHEMA`, `schedule` one row per
    drawn firm (`schedule.SCHEDULE_SCHEMA`), `assignments` `ASSIGNMENT_ROWS_SCHEMA`.
    """

    params: RoundParams
    algorithm_version: str
    inputs: RoundInputs
    input_texts: dict[str, str]
    input_hashes: dict[str, str]
    draws: pl.DataFrame
    strata: pl.DataFrame
    assignments: pl.DataFrame
    schedule: pl.DataFrame


def _riskiest_first(
    schedule: pl.DataFrame, draws: pl.DataFrame, risk: pl.DataFrame
) -> pl.DataFrame:
    """Step 4b (`order_by_risk`): within each stratum and team, the team's dates go to its
    firms riskiest first (`models.risk.ordering`); the firms, teams and the set of dates each
    team works are unchanged, so every scheduling rule still holds."""
    stratified = schedule.join(draws.select("uscc", "stratum"), on="uscc", how="left")
    ordered = order_within_strata(
        stratified,
        risk.select(pl.col("uscc").alias("entity_id"), "probability"),
        group_by=("stratum", "team"),
    )
    return ordered.select(schedule.columns).sort("inspection_date", "team", "uscc")


def round_rng(params: RoundParams, purpose: str) -> np.random.Generator:
    return np.random.Generator(
        np.random.PCG64(seed_sequence(params.seed, params.round_id, purpose))
    )


CANDIDATE_STEPS: tuple[int | None, ...] = (16, 128, None)
"""Candidates per firm tried in turn; the last step is the full eligible set (None), whose
failure is the proof of infeasibility: see `assign_teams`."""


def assign_teams(drawn: pl.DataFrame, inputs: RoundInputs, params: RoundParams) -> Assignment:
    """Step 3: a random lawful assignment of `inspectors_per_firm` inspectors to each drawn
    firm (`drawn`: uscc, firm_type).

    A national roster makes the full set of eligible (firm, inspector) pairs ~10⁸ rows, so the
    max-flow first runs on a random sample of each firm's eligible inspectors (16, then 128
    per firm: `CANDIDATE_STEPS`, from the round's "candidates" stream); every sampled pair is
    eligible, so any assignment found is lawful. Only if the samples cannot be completed does
    it run on the full set, whose failure is the proof of infeasibility the error reports. A
    firm type short of inspectors even before exclusions fails at once, from counts alone.
    """
    type_capacity_shortfalls(
        drawn,
        inputs.inspectors,
        window_end=params.window_end,
        inspectors_per_firm=params.inspectors_per_firm,
        max_firms_per_inspector=params.max_firms_per_inspector,
    )
    sampler = round_rng(params, "candidates")

    def solve(candidates: int | None) -> Assignment:
        pairs = eligible_pairs(
            drawn,
            inputs.inspectors,
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
            rng=round_rng(params, "assign"),
        )

    *samples, full = CANDIDATE_STEPS
    for candidates in samples:
        with contextlib.suppress(AssignmentInfeasibleError):  # a sample may miss a solution
            return solve(candidates)
    return solve(full)


def draw_round(inputs: RoundInputs, params: RoundParams) -> RoundPlan:
    """Draw, assign and schedule round `params.round_id` from `inputs`.

    The inputs are first turned into their canonical text and read back, so the result depends
    only on what the published files say. Raises `DrawError`, `AssignmentInfeasibleError` or
    `ScheduleInfeasibleError` (each naming what is short) — a rule is never relaxed.
    """
    texts = inputs.texts()
    canonical = RoundInputs.from_texts(texts)
    firm_draw = draw_firms(canonical.firms, params)
    drawn = firm_draw.draws.join(
        canonical.firms.select("uscc", "district"), on="uscc", how="left"
    ).select("uscc", "firm_type", "district")
    assignment = assign_teams(drawn, canonical, params)
    schedule = schedule_inspections(
        assignment.assignments,
        drawn,
        window_start=params.window_start,
        window_end=params.window_end,
        daily_cap_per_team=params.daily_cap_per_team,
        rng=round_rng(params, "schedule"),
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
        assignments=assignments,
        schedule=schedule,
    )
