"""The schedule as it was written before its state became arrays of inspectors × days (a
loop over every member and open day per unit): the reference the faster one must equal,
date for date and error for error (`test_schedule.py`). Not used by the product."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from models.sampling.schedule import (
    SCHEDULE_SCHEMA,
    booked_load,
    dated,
    schedule_setup,
    team_units,
    unplaceable,
)


def reference_schedule(
    assignments: pl.DataFrame,
    firms: pl.DataFrame,
    *,
    days: list[date],
    daily_cap_per_team: int,
    rng: np.random.Generator,
    bookings: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`models.sampling.schedule.schedule_inspections` before its state became arrays."""
    setup = schedule_setup(assignments, firms, days, daily_cap_per_team, bookings)
    if setup is None:
        return pl.DataFrame(schema=SCHEDULE_SCHEMA)
    teams, members_all, spare = setup.teams, setup.members, setup.spare
    n_days = len(days)
    booked = booked_load(setup.bookings, days)
    load = {i: booked.get(i, np.zeros(n_days, np.int64)).copy() for i in members_all}
    district_of: dict[str, dict[int, set[str]]] = {i: {} for i in members_all}
    round_load = np.zeros(n_days, np.int64)
    team_load: dict[str, np.ndarray] = {}
    dates: dict[str, date] = {}

    def best_day(members: list[str], team: str, place: str, k: int, ties: np.ndarray) -> int:
        """The preferred day for k firms of `place` by `members` (-1: none fits)."""
        member_load = np.stack([load[m] for m in members])
        open_days = np.flatnonzero(member_load.max(axis=0) + k <= daily_cap_per_team)
        if open_days.size == 0:
            return -1
        conflicts = np.array(
            [
                sum(1 for m in members if district_of[m].get(int(d), {place}) - {place})
                for d in open_days
            ],
            dtype=np.int64,
        )
        own = team_load.setdefault(team, np.zeros(n_days, np.int64))
        order = np.lexsort((ties[open_days], own[open_days], round_load[open_days], conflicts))
        return int(open_days[order[0]])

    def book(firm_ids: list[str], members: list[str], team: str, place: str, day: int) -> None:
        for m in members:
            load[m][day] += len(firm_ids)
            district_of[m].setdefault(day, set()).add(place)
        team_load[team][day] += len(firm_ids)
        round_load[day] += len(firm_ids)
        for uscc in firm_ids:
            dates[uscc] = days[day]

    team_rows = (
        teams.group_by("team", maintain_order=True)
        .agg(pl.col("inspector_id").first().alias("members"), pl.col("uscc"), pl.col("district"))
        .sort("team")
    )
    tightest = [min(spare[m] for m in members) for members in team_rows.get_column("members")]
    team_rows = team_rows.with_columns(
        tightest=pl.Series(tightest, dtype=pl.Int64),
        tie=pl.Series(rng.permutation(team_rows.height)),
    ).sort("tightest", "tie")
    for team, members, firm_ids, districts in team_rows.select(
        "team", "members", "uscc", "district"
    ).iter_rows():
        units = team_units(firm_ids, districts, daily_cap_per_team, n_days, rng)
        for place, unit in units:
            ties = rng.random(n_days)
            day = best_day(members, team, place, len(unit), ties)
            if day >= 0:
                book(unit, members, team, place, day)
                continue
            for uscc in unit:  # the unit fits nowhere whole: firm by firm
                day = best_day(members, team, place, 1, ties)
                if day < 0:
                    raise unplaceable(uscc, team, members, load, daily_cap_per_team, n_days)
                book([uscc], members, team, place, day)

    return dated(teams, dates)
