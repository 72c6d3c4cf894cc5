"""Each inspector's round schedule as an iCalendar file (RFC 5545).

What belongs here: turning a round's assignments into one calendar per inspector — an
all-day, busy event per inspection, naming the firm, its address, the round and the whole
team — as deterministic bytes (the `icalendar` library does the RFC 5545 escaping and line folding).
What does not: deciding dates (`schedule`), writing files.

Determinism: event UIDs are `{round_id}-{uscc}-{inspector_id}@renfang` (stable across
re-draws, so a calendar client updates an event instead of duplicating it) and DTSTAMP is
`stamp`, which the caller derives from the round (not the wall clock), so the same plan gives
byte-identical files.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
from icalendar import Calendar, Event

PRODUCT_ID = "-//renfang//双随机抽查计划//ZH"


def inspector_calendars(
    assignments: pl.DataFrame,
    firms: pl.DataFrame,
    inspectors: pl.DataFrame,
    *,
    round_id: str,
    stamp: datetime,
    draft: bool = False,
) -> dict[str, bytes]:
    """inspector_id → .ics bytes.

    `assignments`: uscc, inspector_id, inspection_date (one row per firm × inspector);
    `firms`: uscc, name, district, address; `inspectors`: inspector_id, name, unit.
    Events are busy (`TRANSP:OPAQUE`): an inspection day is taken, so calendar clients and
    schedulers do not offer it again. A draft's calendar names itself and every event 【草案】.
    """
    mark = "【草案】" if draft else ""
    names = dict(inspectors.select("inspector_id", "name").iter_rows())
    rows = assignments.join(
        firms.select("uscc", "name", "district", "address"), on="uscc", how="left"
    ).sort("inspector_id", "inspection_date", "uscc")
    teams = assignments.group_by("uscc").agg(pl.col("inspector_id").sort())
    team_of = {uscc: members for uscc, members in teams.iter_rows()}
    calendars: dict[str, bytes] = {}
    for (inspector_id,), visits in rows.partition_by(
        "inspector_id", as_dict=True, maintain_order=True
    ).items():
        calendar = Calendar()
        calendar.add("prodid", PRODUCT_ID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add(
            "x-wr-calname",
            f"{mark}双随机抽查 {round_id} · {names.get(inspector_id) or inspector_id}",
        )
        for visit in visits.iter_rows(named=True):
            team = "、".join(
                f"{names.get(m) or m}（{m}）" for m in team_of.get(visit["uscc"], [inspector_id])
            )
            event = Event()
            event.add("uid", f"{round_id}-{visit['uscc']}-{inspector_id}@renfang")
            event.add("dtstamp", stamp)
            event.add("dtstart", visit["inspection_date"])
            event.add("dtend", visit["inspection_date"] + timedelta(days=1))
            event.add("summary", f"{mark}双随机抽查 {round_id}：{visit['name'] or visit['uscc']}")
            event.add("location", visit["address"] or visit["district"] or "")
            event.add(
                "description",
                f"抽查批次 / round: {round_id}\n"
                f"统一社会信用代码 / USCC: {visit['uscc']}\n"
                f"所属区 / district: {visit['district'] or ''}\n"
                f"检查组 / team: {team}",
            )
            event.add("transp", "OPAQUE")
            calendar.add_component(event)
        calendars[inspector_id] = calendar.to_ical()
    return calendars
