"""Inspection dates for a double-random round.

What belongs here: giving every assigned firm one inspection date inside the round's window —
official working days only (the calendar of `models.workdays`, with 调休), no inspector above
the daily cap, the firms of one team grouped by district — reproducibly from the round's RNG,
and failing with a message that names the inspectors short of days. What does not: choosing
the firms (`draw`) or their inspectors (`assign`), round parameters (`params`), iCalendar or
XLSX exports, or any I/O.

The daily cap, defined once: an inspector takes part in at most `daily_cap_per_team` inspections
per day, counted across every team they belong to. A firm's team is all of its assigned
inspectors, who visit it together, so an inspection books every member of the team for that
day. "No inspector double-booked" therefore means: nobody's count on any day exceeds the cap.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import polars as pl

from models.workdays import working_day_calendar

SCHEDULE_SCHEMA = pl.Schema(
    {"uscc": pl.Utf8, "inspection_date": pl.Date, "team": pl.Utf8, "district": pl.Utf8}
)
TEAM_SEPARATOR = "、"  # the list separator of the landing files (docs/contracts.md)
_MAX_LISTED = 10  # the message stays readable; `.shortfalls` keeps every entry


class ScheduleInfeasibleError(ValueError):
    """The window cannot hold the round under the daily cap; `.shortfalls` says where.

    Each shortfall is a dict with a `kind`: `inspector` (the inspector has more visits than
    working days × cap — no schedule exists) or `firm` (the greedy day-filling found no day for
    the firm although every inspector passed the first check; see `schedule_inspections`).
    """

    def __init__(self, message: str, shortfalls: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.shortfalls = shortfalls


def schedule_inspections(
    assignments: pl.DataFrame,
    firms: pl.DataFrame,
    *,
    window_start: date,
    window_end: date,
    daily_cap_per_team: int,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """One working day in [window_start, window_end] per assigned firm, within the daily cap.

    `assignments` is `Assignment.assignments` (uscc, inspector_id); `firms` needs uscc and
    district (a firm missing from it, or with a null district, is scheduled with a null
    district, after the team's other firms). Returns uscc, inspection_date, team (the firm's
    inspector ids, sorted, joined with 、) and district, sorted by (inspection_date, team, uscc).

    First the necessary condition is checked for every inspector: visits ≤ working days × cap.
    If it fails, no schedule exists and the error names each inspector and the shortfall.

    Then a greedy day-filling, honestly NOT guaranteed to succeed whenever that condition holds:
    with overlapping teams the problem contains graph colouring (three inspectors in teams AB,
    BC and CA with cap 1 need three days although each has only two visits), so no simple
    condition decides it. Teams are handled most-loaded inspector first; within a team, firms
    are sorted by district then a seeded random order and put on the earliest day, from the
    team's last used day onwards, where every member is below the cap — so one district's firms
    fill consecutive slots — wrapping to earlier days only if later ones are full. If a firm
    still finds no day, the round fails with a message naming the firm, its team and the
    inspectors already at the cap; a rule is never relaxed. When teams do not overlap (each
    inspector in one team) the greedy always succeeds once the first check passes.

    Randomness: teams and firms are put in canonical (sorted) order before `rng` permutes them,
    so the same inputs and the same generator state always give the same schedule.
    """
    if daily_cap_per_team < 1:
        raise ValueError("daily_cap_per_team must be at least 1")
    calendar = working_day_calendar(window_start, window_end)
    days: list[date] = calendar.filter("is_working_day").get_column("day").to_list()

    teams = (
        assignments.select("uscc", "inspector_id")
        .unique()
        .group_by("uscc")
        .agg(pl.col("inspector_id").sort())
        .join(firms.select("uscc", "district").unique("uscc", keep="first"), on="uscc", how="left")
        .with_columns(team=pl.col("inspector_id").list.join(TEAM_SEPARATOR))
        .sort("uscc")
    )
    if teams.height == 0:
        return pl.DataFrame(schema=SCHEDULE_SCHEMA)
    visits = assignments.select("uscc", "inspector_id").unique().group_by("inspector_id").len()
    _check_capacity(visits, len(days), daily_cap_per_team)

    # Hardest teams first: the busier a team's busiest inspector, the fewer free days it has.
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
                raise _unplaceable(uscc, team, members, load, daily_cap_per_team, len(days))
            later = free[free >= pointer]
            pointer = int(later[0] if later.size else free[0])
            for member in member_load:
                member[pointer] += 1
            dates[uscc] = days[pointer]

    return (
        teams.with_columns(
            inspection_date=pl.col("uscc").replace_strict(dates, return_dtype=pl.Date)
        )
        .select(list(SCHEDULE_SCHEMA))
        .cast(SCHEDULE_SCHEMA)
        .sort("inspection_date", "team", "uscc")
    )


def _check_capacity(visits: pl.DataFrame, working_days: int, cap: int) -> None:
    """Raise if any inspector has more visits than the window can hold at the daily cap.

    `visits` is (inspector_id, len): the firms each inspector is assigned to.
    """
    short = visits.filter(pl.col("len") > working_days * cap).sort("inspector_id")
    if short.height == 0:
        return
    shortfalls = [
        {
            "kind": "inspector",
            "inspector_id": inspector,
            "visits": visits,
            "working_days": working_days,
            "daily_cap": cap,
            "capacity": working_days * cap,
        }
        for inspector, visits in short.iter_rows()
    ]
    lines = [
        f"检查人员 {s['inspector_id']} 需检查 {s['visits']} 家单位，"
        f"窗口内 {working_days} 个工作日 × 每日上限 {cap} = {s['capacity']} / "
        f"inspector {s['inspector_id']} needs {s['visits']} visits, "
        f"{working_days} working days × daily cap {cap} = {s['capacity']}"
        for s in shortfalls[:_MAX_LISTED]
    ]
    if len(shortfalls) > _MAX_LISTED:
        more = len(shortfalls) - _MAX_LISTED
        lines.append(f"另有 {more} 名检查人员 / and {more} more inspectors")
    raise ScheduleInfeasibleError("\n".join(lines), shortfalls)


def _unplaceable(
    uscc: str,
    team: str,
    members: list[str],
    load: dict[str, np.ndarray],
    cap: int,
    working_days: int,
) -> ScheduleInfeasibleError:
    """The error when the greedy finds no day for a firm: who is full, and that it is greedy."""
    full = sorted({m for m in members if (load[m] >= cap).any()})
    message = (
        f"单位 {uscc}（检查组 {team}）在窗口内 {working_days} 个工作日中无可排日期："
        f"每个工作日均有组员达到每日上限 {cap}（{TEAM_SEPARATOR.join(full)}）；"
        "各检查人员总量未超上限，但交叉分组下贪心排期失败 / "
        f"firm {uscc} (team {team}) fits on none of the {working_days} working days: on each "
        f"one a member is at the daily cap {cap} ({', '.join(full)}); every inspector's total "
        "fits the window, but the greedy schedule failed on overlapping teams"
    )
    shortfall = {
        "kind": "firm",
        "uscc": uscc,
        "team": team,
        "working_days": working_days,
        "daily_cap": cap,
        "inspectors_at_cap": full,
    }
    return ScheduleInfeasibleError(message, [shortfall])
