"""Inspection dates for a double-random round (docs/sampling.md#scheduling).

What belongs here: giving every assigned firm one inspection date among the round's working
days — official working days only (`calendar`), no inspector above the daily cap counting the
other published rounds' bookings (one calendar), spread over the window (the cap is a
ceiling, not a target), one district per team and day where the roster allows — reproducibly
from the round's RNG, and failing with a message that names the inspectors short of days.
What does not: choosing the firms (`draw`) or their inspectors (`assign`), the calendar
itself (`calendar`), round parameters (`params`), iCalendar or XLSX exports, or any I/O.

The daily cap, defined once: an inspector takes part in at most `daily_cap_per_team` inspections
per day, counted across every team they belong to and every published round (`bookings`). A
firm's team is all of its assigned inspectors, who visit it together, so an inspection books
every member of the team for that day.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import polars as pl

SCHEDULE_SCHEMA = pl.Schema(
    {"uscc": pl.Utf8, "inspection_date": pl.Date, "team": pl.Utf8, "district": pl.Utf8}
)
TEAM_SEPARATOR = "、"  # the list separator of the landing files (docs/contracts.md)
_MAX_LISTED = 10  # the message stays readable; `.shortfalls` keeps every entry


class ScheduleInfeasibleError(ValueError):
    """The window cannot hold the round under the daily cap; `.shortfalls` says where.

    Each shortfall is a dict with a `kind`: `inspector` (the inspector has more visits than
    the free slots of the window — working days × cap, less the other rounds' bookings — so
    no schedule exists) or `firm` (the greedy found no day for the firm although every
    inspector passed the first check; see `schedule_inspections`).
    """

    def __init__(self, message: str, shortfalls: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.shortfalls = shortfalls


def booked_load(bookings: pl.DataFrame, days: list[date]) -> dict[str, np.ndarray]:
    """inspector_id → inspections already booked on each of `days` by other rounds.

    `bookings`: inspector_id, day, booked (one row per inspector and day)."""
    index = {d: i for i, d in enumerate(days)}
    load: dict[str, np.ndarray] = {}
    for inspector, day, booked in bookings.select("inspector_id", "day", "booked").iter_rows():
        if day in index and booked:
            load.setdefault(inspector, np.zeros(len(days), np.int64))[index[day]] += booked
    return load


def free_slots(
    inspectors: list[str], days: list[date], cap: int, bookings: pl.DataFrame
) -> dict[str, int]:
    """Inspections each inspector can still take on `days` under the cap: Σ (cap − booked)⁺."""
    booked = booked_load(bookings, days)
    zero = np.zeros(len(days), np.int64)
    return {
        i: int(np.clip(cap - booked.get(i, zero), 0, None).sum()) for i in sorted(set(inspectors))
    }


def schedule_inspections(
    assignments: pl.DataFrame,
    firms: pl.DataFrame,
    *,
    days: list[date],
    daily_cap_per_team: int,
    rng: np.random.Generator,
    bookings: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One of `days` per assigned firm, within the daily cap, spread over the window.

    `assignments` is `Assignment.assignments` (uscc, inspector_id); `firms` needs uscc and
    district (a firm missing from it, or with a null district, counts as a district of its
    own); `days` are the round's working days on which inspections may fall (the window's,
    from the end of the notice period on); `bookings` the other published rounds' inspections
    per inspector and day. Returns uscc, inspection_date, team (the firm's inspector ids,
    sorted, joined with 、) and district, sorted by (inspection_date, team, uscc).

    First the necessary condition is checked for every inspector: visits ≤ free slots
    (working days × cap, less the bookings). If it fails, no schedule exists and the error
    names each inspector and the shortfall.

    Then the firms are placed in units: a team's firms of one district, in chunks of g =
    ceil(team's firms / working days) (1 whenever the window has a day per firm, so a team
    does one inspection a day; more only when it must), teams tightest first (the least spare
    capacity among its members: free slots minus visits; ties in a seeded random order). Each
    unit gets the day that is, in order of preference: (1) a day on which no member of its
    team inspects in another district; (2) the day with the fewest inspections of the round so
    far — this spreads the round over the window, so the cap is a ceiling and not a target;
    (3) a day on which its team does least; (4) a seeded random choice. Only days on which
    every member stays within the cap (bookings included) are considered; a unit that fits on
    no day is placed firm by firm the same way. The greedy is NOT guaranteed to succeed
    whenever the first check passes (with overlapping teams the problem contains graph
    colouring); when a firm finds no day, the round fails naming the firm, its team and the
    inspectors at the cap — a rule is never relaxed.

    Randomness: firms and days are put in canonical (sorted) order before `rng` draws, so the
    same inputs and the same generator state always give the same schedule.
    """
    if daily_cap_per_team < 1:
        raise ValueError("daily_cap_per_team must be at least 1")
    bookings = bookings if bookings is not None else _no_bookings()
    teams, visits = team_frame(assignments, firms)
    if teams.height == 0:
        return pl.DataFrame(schema=SCHEDULE_SCHEMA)
    members_all = visits.get_column("inspector_id").to_list()
    slots = free_slots(members_all, days, daily_cap_per_team, bookings)
    check_capacity(
        visits.select(
            "inspector_id",
            capacity=pl.col("inspector_id").replace_strict(slots, return_dtype=pl.Int64),
            needed="len",
        ),
        len(days),
        daily_cap_per_team,
    )
    spare = {i: slots[i] - n for i, n in visits.select("inspector_id", "len").iter_rows()}

    n_days = len(days)
    booked = booked_load(bookings, days)
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
        per_day = max(1, min(daily_cap_per_team, -(-len(firm_ids) // n_days)))
        shuffled = rng.permutation(len(firm_ids))
        by_place: dict[str, list[str]] = {}
        for i in shuffled:
            place = districts[i] if districts[i] is not None else f"\x00{firm_ids[i]}"
            by_place.setdefault(place, []).append(firm_ids[i])
        units = [
            (place, chunk[j : j + per_day])
            for place, chunk in sorted(by_place.items())
            for j in range(0, len(chunk), per_day)
        ]
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


def team_frame(assignments: pl.DataFrame, firms: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(teams, visits): one row per firm (uscc, its inspector_id list sorted, district, team
    label), sorted by USCC; and (inspector_id, len) the firms each inspector visits."""
    teams = (
        assignments.select("uscc", "inspector_id")
        .unique()
        .group_by("uscc")
        .agg(pl.col("inspector_id").sort())
        .join(firms.select("uscc", "district").unique("uscc", keep="first"), on="uscc", how="left")
        .with_columns(team=pl.col("inspector_id").list.join(TEAM_SEPARATOR))
        .sort("uscc")
    )
    visits = assignments.select("uscc", "inspector_id").unique().group_by("inspector_id").len()
    return teams, visits


def dated(teams: pl.DataFrame, dates: dict[str, date]) -> pl.DataFrame:
    """The schedule (`SCHEDULE_SCHEMA`) of `team_frame`'s teams with each firm's date."""
    return (
        teams.with_columns(
            inspection_date=pl.col("uscc").replace_strict(dates, return_dtype=pl.Date)
        )
        .select(list(SCHEDULE_SCHEMA))
        .cast(SCHEDULE_SCHEMA)
        .sort("inspection_date", "team", "uscc")
    )


def _no_bookings() -> pl.DataFrame:
    return pl.DataFrame(schema={"inspector_id": pl.Utf8, "day": pl.Date, "booked": pl.Int64})


def check_capacity(needs: pl.DataFrame, working_days: int, cap: int) -> None:
    """Raise if any inspector has more visits than the window can hold at the daily cap.

    `needs`: inspector_id, capacity (free slots in the window), needed (visits assigned).
    """
    short = needs.filter(pl.col("needed") > pl.col("capacity")).sort("inspector_id")
    if short.height == 0:
        return
    shortfalls = [
        {
            "kind": "inspector",
            "inspector_id": inspector,
            "visits": needed,
            "working_days": working_days,
            "daily_cap": cap,
            "capacity": capacity,
        }
        for inspector, capacity, needed in short.select(
            "inspector_id", "capacity", "needed"
        ).iter_rows()
    ]
    lines = []
    for s in shortfalls[:_MAX_LISTED]:
        booked = working_days * cap - s["capacity"]
        zh_booked = f"，其他批次已占用 {booked}" if booked > 0 else ""
        en_booked = f", {booked} booked by other rounds" if booked > 0 else ""
        lines.append(
            f"检查人员 {s['inspector_id']} 需检查 {s['visits']} 家单位，"
            f"窗口内 {working_days} 个工作日 × 每日上限 {cap}{zh_booked}，可用 {s['capacity']} / "
            f"inspector {s['inspector_id']} needs {s['visits']} visits, "
            f"{working_days} working days × daily cap {cap}{en_booked}: {s['capacity']} free"
        )
    if len(shortfalls) > _MAX_LISTED:
        more = len(shortfalls) - _MAX_LISTED
        lines.append(f"另有 {more} 名检查人员 / and {more} more inspectors")
    raise ScheduleInfeasibleError("\n".join(lines), shortfalls)


def unplaceable(
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
