"""Benchmark: a double-random round at national scale (prints figures; asserts nothing).

A 100k-firm eligible pool (five firm types, 16 districts, a tier mix with ~10k firms drawn by
tier), 500 inspectors covering two or three types each with a few recusals, a previous round
for rotation. Times, best of `--repeat`:
  draw        the tier-stratified draw + control share (`draw_firms`)
  assignment  eligible pairs + max-flow assignment (`eligible_codes`, `assign_inspectors`)
  schedule    working-day dates under the daily cap (`schedule_inspections`)
  round       the whole `draw_round` (canonical inputs and hashes included)
  plan file   `plan_bytes` and a third party's `verify_plan`
Target: draw + assignment < 5 s.

    .venv/bin/python benchmarks/draw.py [--firms 100000] [--inspectors 500]
"""

from __future__ import annotations

import argparse
import os
import platform
from datetime import date

import numpy as np
import polars as pl
from timing import timed  # benchmarks/ is on sys.path when a script runs

from models.sampling.calendar import working_days
from models.sampling.canonical import RoundInputs
from models.sampling.draw import draw_firms, round_rng
from models.sampling.params import default_round_params
from models.sampling.plan_file import plan_bytes, verify_plan
from models.sampling.round import assign_teams, draw_round
from models.sampling.schedule import schedule_inspections

TYPES = ("design", "supervision", "protective_equipment", "drawing_review", "testing")
TYPE_SHARE = (0.30, 0.32, 0.26, 0.06, 0.06)
TIER_SHARE = {"A": 0.20, "B": 0.72, "C": 0.06, "D": 0.02}


def directory(firms: int, inspectors: int, seed: int = 1) -> RoundInputs:
    rng = np.random.default_rng(seed)
    pool = pl.DataFrame(
        {
            "uscc": [f"91310000{i:010d}" for i in range(firms)],
            "firm_type": rng.choice(TYPES, firms, p=TYPE_SHARE),
            "tier": rng.choice(list(TIER_SHARE), firms, p=list(TIER_SHARE.values())),
            "district": rng.choice([f"区{i:02d}" for i in range(16)], firms),
        }
    )
    fields = [
        sorted(set(rng.choice(TYPES, int(rng.integers(2, 4)), p=TYPE_SHARE)))
        for _ in range(inspectors)
    ]
    roster = pl.DataFrame(
        {
            "inspector_id": [f"INS-{i:04d}" for i in range(inspectors)],
            "fields": fields,
            "certificate_valid_until": [date(2028, 12, 31)] * inspectors,
            "active": [True] * inspectors,
        }
    )
    conflicts = pl.DataFrame(
        {
            "inspector_id": rng.choice(roster["inspector_id"].to_list(), 2000),
            "uscc": rng.choice(pool["uscc"].to_list(), 2000),
            "valid_from": [date(2020, 1, 1)] * 2000,
            "valid_until": [None] * 2000,
        },
        schema_overrides={"valid_until": pl.Date},
    )
    previous = pl.DataFrame(
        {
            "uscc": rng.choice(pool["uscc"].to_list(), 20_000),
            "inspector_id": rng.choice(roster["inspector_id"].to_list(), 20_000),
        }
    ).unique()
    return RoundInputs(pool, roster, conflicts, previous)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--inspectors", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    inputs = directory(args.firms, args.inspectors)
    params = default_round_params(
        round_id="2027Q1",
        seed=20270101,
        tier_as_of=date(2026, 12, 31),
        window_start=date(2027, 1, 1),
        window_end=date(2027, 3, 31),
        max_firms_per_inspector=80,
    )
    canonical = RoundInputs.from_texts(inputs.texts())
    print(f"pool {canonical.firms.height:,d} firms, {canonical.inspectors.height} inspectors")

    firm_draw, t_draw = timed("draw", draw_firms, canonical.firms, params, repeat=args.repeat)
    draws = firm_draw.draws
    tiered = int((~draws["is_control"]).sum())
    print(f"    drawn {tiered:,d} by tier + {draws.height - tiered:,d} control")
    drawn = draws.join(canonical.firms.select("uscc", "district"), on="uscc")

    def assignment():
        return assign_teams(drawn, canonical, params)

    assigned, t_assign = timed("assignment (pairs + max-flow)", assignment, repeat=args.repeat)
    print(f"    {assigned.assignments.height:,d} assignments")
    timed(
        "schedule",
        schedule_inspections,
        assigned.assignments,
        drawn,
        days=list(working_days(params.window_start, params.window_end).days),
        daily_cap_per_team=params.daily_cap_per_team,
        rng=round_rng(params, "schedule"),
    )
    plan, _ = timed("whole round (draw_round)", draw_round, inputs, params)
    data, _ = timed("plan file (plan_bytes)", plan_bytes, plan)
    result, _ = timed("third-party verify (verify_plan)", verify_plan, data)
    print(f"    plan file {len(data) / 1e6:.1f} MB, verify: "
          f"{'IDENTICAL' if result.identical else result.differences[:3]}")  # fmt: skip
    total = t_draw + t_assign
    verdict = "met" if total < 5 else "MISSED"
    print(f"draw + assignment = {total:.2f} s (target < 5 s: {verdict})")


if __name__ == "__main__":
    main()
