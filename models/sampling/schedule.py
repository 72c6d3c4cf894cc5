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

from dataclasses import dataclass
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
    free = max(cap, 0) * len(days)  # an inspector the other rounds did not book
    return {
        i: int(np.clip(cap - booked[i], 0, None).sum()) if i in booked else free
        for i in sorted(set(inspectors))
    }


@dataclass(frozen=True)
class ScheduleSetup:
    """What the greedy starts from: the teams, each inspector's visits, the members, their
    spare capacity (free slots minus visits) and the other rounds' bookings."""

    teams: pl.DataFrame
    visits: pl.DataFrame
    members: list[str]
    spare: dict[str, int]
    bookings: pl.DataFrame


def schedule_setup(
    assignments: pl.DataFrame,
    firms: pl.DataFrame,
    days: list[date],
    daily_cap_per_team: int,
    bookings: pl.DataFrame | None,
) -> ScheduleSetup | None:
    """The teams and capacities of a schedule, after the necessary check (visits ≤ free
    slots for every inspector, else `check_capacity` raises naming each shortfall); None when
    nothing is assigned."""
    if daily_cap_per_team < 1:
        raise ValueError("daily_cap_per_team must be at least 1")
    bookings = bookings if bookings is not None else _no_bookings()
    teams, visits = team_frame(assignments, firms)
    if teams.height == 0:
        return None
    members = visits.get_column("inspector_id").to_list()
    slots = free_slots(members, days, daily_cap_per_team, bookings)
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
    return ScheduleSetup(teams, visits, members, spare, bookings)


def team_units(
    firm_ids: list[str],
    districts: list[str | None],
    daily_cap_per_team: int,
    n_days: int,
    rng: np.random.Generator,
) -> list[tuple[str, list[str]]]:
    """A team's firms as units to place: per district (a firm without one is a place of its
    own), in a seeded random order, in chunks of ceil(firms / days) capped by the daily cap."""
    per_day = max(1, min(daily_cap_per_team, -(-len(firm_ids) // n_days)))
    shuffled = rng.permutation(len(firm_ids))
    by_place: dict[str, list[str]] = {}
    for i in shuffled:
        place = districts[i] if districts[i] is not None else f"\x00{firm_ids[i]}"
        by_place.setdefault(place, []).append(firm_ids[i])
    return [
        (place, chunk[j : j + per_day])
        for place, chunk in sorted(by_place.items())
        for j in range(0, len(chunk), per_day)
    ]


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
    setup = schedule_setup(assignments, firms, days, daily_cap_per_team, bookings)
    if setup is None:
        return pl.DataFrame(schema=SCHEDULE_SCHEMA)
    teams, spare = setup.teams, setup.spare
    n_days = len(days)
    team_rows = (
        teams.group_by("team", maintain_order=True)
        .agg(pl.col("inspector_id").first().alias("members"), pl.col("uscc"), pl.col("district"))
        .sort("team")
    )
    team_rows = team_rows.with_columns(
        tightest=pl.col("members")
        .list.eval(pl.element().replace_strict(spare, return_dtype=pl.Int64))
        .list.min(),
        tie=pl.Series(rng.permutation(team_rows.height)),
    ).sort("tightest", "tie")
    state = _Calendar(
        setup.members, n_days, booked_load(setup.bookings, days), daily_cap_per_team,
        teams.height, _largest(team_rows.get_column("members").list.len()),
    )  # fmt: skip
    # per team, as flat columns (a national round: ~45k teams, nearly all of one firm): its
    # size, its members' calendar rows and, for a team of one firm, the firm and its place
    first_district = pl.col("district").list.first()
    flat = team_rows.select(
        size=pl.col("uscc").list.len(),
        rows=pl.col("members").list.eval(
            pl.element().replace_strict(state.row, return_dtype=pl.Int64)
        ),
        uscc=pl.col("uscc").list.first(),
        place=pl.when(first_district.is_null())
        .then(pl.lit("\x00") + pl.col("uscc").list.first())
        .otherwise(first_district),
    )
    sizes, rows_of, usccs, places = (flat.get_column(c).to_list() for c in flat.columns)
    day_of: dict[str, int] = {}
    t, n_teams = 0, len(sizes)
    while t < n_teams:
        if sizes[t] == 1:
            # a run of one-firm teams: one unit each, whose draws (`team_units`' permutation
            # of one firm draws nothing; then the unit's ties) are the run's ties drawn at once
            end = t
            while end < n_teams and sizes[end] == 1:
                end += 1
            ranks = _tie_ranks(rng.random((end - t, n_days)))
            for i, rank in enumerate(ranks, t):
                code = state.place_code(places[i])
                day = state.single_day(rows_of[i], code, rank)
                if day < 0:
                    label, members = team_rows.row(i)[:2]
                    raise unplaceable(usccs[i], label, members, state.loads(members),
                                      daily_cap_per_team, n_days)  # fmt: skip
                state.book(rows_of[i], code, 1, day)
                day_of[usccs[i]] = day
            t = end
            continue
        label, members, firm_ids, districts = team_rows.row(t)[:4]
        units = team_units(firm_ids, districts, daily_cap_per_team, n_days, rng)
        day_of |= _place_team(state, label, members, units, rng)
        t += 1

    return dated(teams, {uscc: days[day] for uscc, day in day_of.items()})


def _largest(values: pl.Series) -> int:
    """The largest of a column of counts (0 when empty)."""
    top = values.max()
    return top if isinstance(top, int) else 0


def _place_team(
    state: _Calendar,
    label: str,
    members: list[str],
    units: list[tuple[str, list[str]]],
    rng: np.random.Generator,
) -> dict[str, int]:
    """The days of a team's firms, unit by unit (`_Team.best_day`), booked."""
    cap, n_days = state.cap, state.n_days
    team = _Team(state, members, sum(len(unit) for _, unit in units), state.total)
    day_of: dict[str, int] = {}
    for place, unit in units:
        ties = rng.random(n_days)
        code = state.place_code(place)
        day = team.best_day(code, len(unit), ties, cap)
        if day >= 0:
            team.book(code, len(unit), day)
            day_of.update(dict.fromkeys(unit, day))
            continue
        for uscc in unit:  # the unit fits nowhere whole: firm by firm
            day = team.best_day(code, 1, ties, cap)
            if day < 0:
                raise unplaceable(uscc, label, members, state.loads(members), cap, n_days)
            team.book(code, 1, day)
            day_of[uscc] = day
    return day_of


def _tie_ranks(ties: np.ndarray) -> np.ndarray:
    """Each row's random ties as ranks 0 … days-1 (equal draws ranked by day, as `argmin`
    picks the first of equal values), so that a tie can be part of an integer key."""
    order = ties.argsort(axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(ties.shape[1]), axis=1)
    return ranks


class _Calendar:
    """The schedule's state per inspector and day: inspections booked (the other rounds'
    included), and where the inspector is that day — `NOWHERE`, at one place (its code) or
    `SEVERAL` places (a conflict for any place) — plus the round's inspections per day.

    For a one-firm unit (`single_day`), the same preferences as one integer per inspector and
    day, kept up to date by `book`: `key` is BLOCKED if the inspector is at the cap (no firm
    more fits) plus PLACED if it inspects anywhere that day, so that adding the round's load
    (`round_key`, times the days) and a tie's rank orders the days by (conflicts, round load,
    tie) and marks a day on which a member is full; `at_place` lists, per inspector and
    place, the days on which it is at that place only (there a booking of that place is no
    conflict: PLACED is taken off again). Loads and places are Python lists (read and
    written one day at a time), the keys arrays (added up over every day)."""

    NOWHERE, SEVERAL = -1, -2

    def __init__(
        self,
        inspectors: list[str],
        n_days: int,
        booked: dict[str, np.ndarray],
        cap: int,
        total: int,
        widest: int,
    ) -> None:
        self.row = {m: r for r, m in enumerate(inspectors)}
        none = np.zeros(n_days, np.int64)
        self.load: list[list[int]] = [booked.get(m, none).tolist() for m in inspectors]
        self.at: list[list[int]] = [[self.NOWHERE] * n_days for _ in inspectors]
        self.round_load = np.zeros(n_days, np.int64)
        self.codes: dict[str, int] = {}
        self.cap = cap
        self.n_days = n_days
        self.total = total
        # a day's (conflicts, round load, tie) stays below PLACED × (members + 1): BLOCKED
        self.placed = (total + 1) * n_days
        self.blocked = self.placed * (widest + 1)
        self.key = [
            np.where(booked.get(m, none) >= cap, self.blocked, 0).astype(np.int64)
            for m in inspectors
        ]
        self.round_key = np.zeros(n_days, np.int64)
        self.at_place: list[dict[int, list[int]]] = [{} for _ in inspectors]

    def place_code(self, place: str) -> int:
        return self.codes.setdefault(place, len(self.codes))

    def loads(self, members: list[str]) -> dict[str, np.ndarray]:
        return {m: np.array(self.load[self.row[m]], np.int64) for m in members}

    def loads_of(self, rows: list[int]) -> np.ndarray:
        """rows × days: what each of the inspectors `rows` has booked."""
        return np.array([self.load[r] for r in rows], np.int64).reshape(len(rows), self.n_days)

    def places_of(self, rows: list[int]) -> np.ndarray:
        """rows × days: where each of the inspectors `rows` is."""
        return np.array([self.at[r] for r in rows], np.int64).reshape(len(rows), self.n_days)

    def single_day(self, rows: list[int], code: int, rank: np.ndarray) -> int:
        """The preferred day for one firm of place `code` by the inspectors `rows`, its ties
        ranked `rank` (-1: none fits) — `_Team.best_day` for a team of one firm."""
        key = self.round_key + rank
        placed = self.placed
        for r in rows:
            key += self.key[r]
            for d in self.at_place[r].get(code, ()):
                key[d] -= placed
        day = int(key.argmin())
        return day if key[day] < self.blocked else -1

    def book(self, rows: list[int], code: int, k: int, day: int) -> None:
        """k firms of place `code` on `day` by the inspectors `rows`."""
        cap = self.cap
        for r in rows:
            loads, places = self.load[r], self.at[r]
            before = loads[day]
            loads[day] = before + k
            added = self.blocked if before < cap <= before + k else 0
            was = places[day]
            if was == self.NOWHERE:
                places[day] = code
                added += self.placed
                self.at_place[r].setdefault(code, []).append(day)
            elif was != code and was != self.SEVERAL:
                places[day] = self.SEVERAL
                self.at_place[r][was].remove(day)
            if added:
                self.key[r][day] += added
        self.round_load[day] += k
        self.round_key[day] += k * self.n_days


class _Team:
    """One team's choice of days: preferences (1)–(4) of `schedule_inspections` as one
    integer per day, (conflicts, round load, own load) in that order, then the random ties.

    The teams are placed one after the other, so while a team is placed only its own
    bookings change what its members have booked: the members' highest load per day and
    the (round load, own load) part are updated in place at the day booked instead of being
    recomputed over every member and day for each unit; and a booking of place p never
    changes the conflicts with p (a member is then at p, or was already elsewhere), so those
    are computed once per place."""

    _NONE = np.iinfo(np.int64).max

    def __init__(self, state: _Calendar, members: list[str], n_firms: int, total: int) -> None:
        self.state = state
        self.rows = [state.row[m] for m in members]
        self.highest = state.loads_of(self.rows).max(axis=0)
        # the round has at most `total` firms a day and the team `n_firms`: each part of the
        # key stays below one step of the part before it
        self.scale = n_firms + 1
        self.step = (total + 1) * self.scale
        self.loads = state.round_load * self.scale  # + own load, 0 so far
        self.code = -1
        self.conflicts = self.loads

    def best_day(self, code: int, k: int, ties: np.ndarray, cap: int) -> int:
        """The preferred day for k firms of place `code` (-1: none fits)."""
        if code != self.code:
            at = self.state.places_of(self.rows)
            elsewhere = (at != _Calendar.NOWHERE) & (at != code)
            self.conflicts = elsewhere.sum(axis=0, dtype=np.int64) * self.step
            self.code = code
        key = np.where(self.highest <= cap - k, self.conflicts + self.loads, self._NONE)
        best = key.min()
        if best == self._NONE:
            return -1
        days = np.flatnonzero(key == best)
        return int(days[0] if days.size == 1 else days[ties[days].argmin()])

    def book(self, code: int, k: int, day: int) -> None:
        self.state.book(self.rows, code, k, day)
        self.highest[day] += k
        self.loads[day] += k * self.scale + k


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
