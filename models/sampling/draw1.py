"""Algorithm `draw-1`, frozen: plans published before `draw-2` still verify with it.

What belongs here: the firm draw, the schedule and the plan document exactly as release
`draw-1` made them — stratum sizes n = ceil(pool × ratio), at least one per stratum, raised by
Adams' divisor method to the overall floor; the greedy day-filling that groups a team's
firms by district; the plan with the four inputs of that release. `plan_file.verify_plan`
calls `plan_document_v1` for a plan whose `algorithm_version` is `draw-1`. Nothing here may
change: a changed byte would make an announced plan fail verification. What does not: new
rounds (they are drawn by `round.draw_round`, algorithm `draw-2`), any I/O.

The steps are documented in docs/sampling.md (section "Algorithm draw-1"); the assignment
step is shared with `draw-2` (`round.assign_teams` with the version's streams), whose
behaviour without partner departments, bookings or per-inspector capacities is unchanged.
"""

from __future__ import annotations

import heapq
import math
from datetime import date
from fractions import Fraction
from typing import Any

import numpy as np
import polars as pl

from models.risk.ordering import order_within_strata
from models.sampling.canonical import INPUT_SCHEMAS_V1, RoundInputs, sha256_text
from models.sampling.draw import (
    STRATA_SCHEMA,
    assemble_draws,
    canonical_pool,
    check_ratios,
    round_rng,
)
from models.sampling.params import RoundParams
from models.sampling.schedule import (
    SCHEDULE_SCHEMA,
    check_capacity,
    dated,
    team_frame,
    unplaceable,
)
from models.workdays import working_day_calendar

VERSION = "draw-1"
PLAN_FORMAT_V1 = "renfang-round-plan/1"
PARAMETER_FIELDS_V1: tuple[str, ...] = (
    "round_id",
    "tier_as_of",
    "window_start",
    "window_end",
    "ratios",
    "overall_floor",
    "strata",
    "eligibility",
    "inspectors_per_firm",
    "max_firms_per_inspector",
    "rotation",
    "control_share",
    "seed",
    "daily_cap_per_team",
    "order_by_risk",
)
"""The parameters a `draw-1` plan records, in its order (later fields did not exist)."""


def stratum_sizes(pools: list[int], ratios: list[float], overall_floor: float) -> list[int]:
    """Firms to draw per stratum: ceil(pool × ratio), at least 1, raised to the floor."""
    weights = [n * Fraction(repr(r)) for n, r in zip(pools, ratios, strict=True)]
    sizes = [min(n, max(1, math.ceil(w))) for n, w in zip(pools, weights, strict=True)]
    target = math.ceil(Fraction(repr(overall_floor)) * sum(pools))
    heap = [(Fraction(sizes[i]) / weights[i], i) for i in range(len(sizes)) if sizes[i] < pools[i]]
    heapq.heapify(heap)
    total = sum(sizes)
    while total < target:
        _, i = heapq.heappop(heap)
        sizes[i] += 1
        total += 1
        if sizes[i] < pools[i]:
            heapq.heappush(heap, (Fraction(sizes[i]) / weights[i], i))
    return sizes


def draw_firms_v1(pool: pl.DataFrame, params: RoundParams) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(draws, strata) of `draw-1`: the smallest uniform numbers per stratum win."""
    firms = canonical_pool(pool)
    keys = list(params.strata)
    total = firms.height
    check_ratios(firms, params)
    strata = (
        firms.group_by(keys)
        .agg(pl.len().cast(pl.Int64).alias("pool"))
        .sort(keys)
        .with_columns(pl.concat_str([pl.col(k) for k in keys], separator="/").alias("stratum"))
    )
    if "firm_type" not in keys:
        strata = strata.with_columns(pl.lit(None, dtype=pl.Utf8).alias("firm_type"))
    pools = strata.get_column("pool").to_list()
    ratios = [params.ratios[t] for t in strata.get_column("tier").to_list()]
    sizes = stratum_sizes(pools, ratios, params.overall_floor)
    strata = strata.with_columns(
        pl.Series("ratio", ratios, dtype=pl.Float64),
        pl.Series("n_required", sizes, dtype=pl.Int64),
    )
    rng = round_rng(params, None, VERSION)
    u_draw = rng.random(total)
    u_control = rng.random(total)
    ranked = (
        firms.with_columns(
            pl.Series("u_draw", u_draw, dtype=pl.Float64),
            pl.Series("u_control", u_control, dtype=pl.Float64),
        )
        .join(strata.select([*keys, "stratum", "n_required"]), on=keys, how="left")
        .with_columns(
            (pl.col("u_draw").rank("ordinal").over(keys) <= pl.col("n_required")).alias("drawn")
        )
    )
    tiered = ranked.filter(pl.col("drawn")).sort([*keys, "u_draw"])
    rest = ranked.filter(~pl.col("drawn"))
    n_control = min(math.ceil(Fraction(repr(params.control_share)) * total), rest.height)
    control = rest.sort("u_control").head(n_control)
    draws = assemble_draws(tiered, control, params.round_id)
    drawn_counts = tiered.group_by(keys).agg(pl.len().cast(pl.Int64).alias("n_drawn"))
    strata = (
        strata.join(drawn_counts, on=keys, how="left", nulls_equal=True)
        .with_columns(pl.col("n_drawn").fill_null(0))
        .select(STRATA_SCHEMA.names())
        .cast(STRATA_SCHEMA)
    )
    return draws, strata


def schedule_v1(
    assignments: pl.DataFrame,
    firms: pl.DataFrame,
    *,
    window_start: date,
    window_end: date,
    daily_cap_per_team: int,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """`draw-1`'s greedy day-filling: busiest team first, a team's firms by district on the
    earliest day from its last used day on where every member is below the cap."""
    calendar = working_day_calendar(window_start, window_end)
    days: list[date] = calendar.filter("is_working_day").get_column("day").to_list()
    teams, visits = team_frame(assignments, firms)
    if teams.height == 0:
        return pl.DataFrame(schema=SCHEDULE_SCHEMA)
    check_capacity(
        visits.select(
            "inspector_id", capacity=pl.lit(len(days) * daily_cap_per_team), needed="len"
        ),
        len(days),
        daily_cap_per_team,
    )
    team_order = (
        teams.group_by("team")
        .agg(pl.col("inspector_id").first().alias("members"), pl.len().alias("firms"))
        .sort("team")
    )
    busiest = (
        team_order.select("team", inspector_id="members")
        .explode("inspector_id")
        .join(visits, on="inspector_id")
        .group_by("team")
        .agg(busiest=pl.col("len").max())
    )
    team_order = (
        team_order.join(busiest, on="team")
        .sort("team")
        .with_columns(tie=pl.Series(rng.permutation(team_order.height)))
        .sort(["busiest", "firms", "tie"], descending=[True, True, False])
    )
    firms_of = (
        teams.with_columns(tie=pl.Series(rng.permutation(teams.height)))
        .sort(["district", "tie"], nulls_last=True)
        .partition_by("team", as_dict=True, include_key=False, maintain_order=True)
    )
    load: dict[str, np.ndarray] = {}
    dates: dict[str, date] = {}
    for team, members in team_order.select("team", "members").iter_rows():
        for inspector in members:
            load.setdefault(inspector, np.zeros(len(days), np.int64))
        member_load = [load[m] for m in members]
        firm_ids = firms_of[(team,)].get_column("uscc").to_list()
        pointer = 0
        for uscc in firm_ids:
            team_load = np.max(np.stack(member_load), axis=0)
            free = np.flatnonzero(team_load < daily_cap_per_team)
            if free.size == 0:
                raise unplaceable(uscc, team, members, load, daily_cap_per_team, len(days))
            later = free[free >= pointer]
            pointer = int(later[0] if later.size else free[0])
            for member in member_load:
                member[pointer] += 1
            dates[uscc] = days[pointer]
    return dated(teams, dates)


def plan_document_v1(texts: dict[str, str], params: RoundParams) -> dict[str, Any]:
    """Re-run a `draw-1` plan from its input texts and return its document (the bytes the
    release that made it wrote, given the same inputs)."""
    from models.sampling.round import assign_teams  # the shared step; imported late (cycle)

    canonical = RoundInputs.from_texts(texts, INPUT_SCHEMAS_V1)
    draws, strata = draw_firms_v1(canonical.firms, params)
    drawn = draws.join(canonical.firms.select("uscc", "district"), on="uscc", how="left").select(
        "uscc", "firm_type", "district"
    )
    assignment = assign_teams(drawn, canonical, params, version=VERSION)
    schedule = schedule_v1(
        assignment.assignments,
        drawn,
        window_start=params.window_start,
        window_end=params.window_end,
        daily_cap_per_team=params.daily_cap_per_team,
        rng=round_rng(params, "schedule", VERSION),
    )
    if params.order_by_risk:
        stratified = schedule.join(draws.select("uscc", "stratum"), on="uscc", how="left")
        schedule = (
            order_within_strata(
                stratified,
                canonical.risk.select(pl.col("uscc").alias("entity_id"), "probability"),
                group_by=("stratum", "team"),
            )
            .select(schedule.columns)
            .sort("inspection_date", "team", "uscc")
        )
    calendar = working_day_calendar(params.window_start, params.window_end)
    days = calendar.filter("is_working_day").get_column("day").to_list()
    dumped = params.model_dump(mode="json")
    teams = assignment.assignments.group_by("uscc").agg(pl.col("inspector_id").sort().alias("team"))
    scheduled = (
        schedule.select("uscc", "inspection_date", "district")
        .join(teams, on="uscc", how="left")
        .sort("inspection_date", "uscc")
    )
    return {
        "format": PLAN_FORMAT_V1,
        "round_id": params.round_id,
        "seed": params.seed,
        "algorithm_version": VERSION,
        "parameters": {k: dumped[k] for k in PARAMETER_FIELDS_V1},
        "calendar": {
            "source": "holidays (China, statutory holidays and 调休 make-up working days)",
            "working_days": [d.isoformat() for d in days],
        },
        "inputs": {
            name: {
                "sha256": sha256_text(texts[name]),
                "rows": getattr(canonical, name).height,
                "csv": texts[name],
            }
            for name in INPUT_SCHEMAS_V1
        },
        "outputs": {
            "strata": records(strata),
            "draws": records(draws.drop("round_id")),
            "schedule": records(scheduled),
        },
    }


def records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows as dicts, dates (and datetimes) as ISO text. Date columns are formatted in
    polars (`YYYY-MM-DD`, as `date.isoformat`) and the rows converted at once; a frame with
    another kind of time value goes row by row."""
    temporal = [c for c, t in frame.schema.items() if t.is_temporal()]
    if all(frame.schema[c] == pl.Date for c in temporal):
        return frame.with_columns(pl.col(temporal).dt.strftime("%Y-%m-%d")).to_dicts()
    return [
        {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}
        for row in frame.iter_rows(named=True)
    ]
