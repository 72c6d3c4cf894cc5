"""Each inspector's round schedule as an iCalendar file (RFC 5545).

What belongs here: turning a round's assignments into one calendar per inspector — an
all-day, busy event per inspection, naming the firm, its address, the round and the whole
team — as deterministic bytes (the `icalendar` library does the RFC 5545 escaping and line folding).
What does not: deciding dates (`schedule`), writing files.

Every value taken from data goes through `normalise.plain_text` first: ingestion already
makes names one line, but a writer escapes for its format anyway — a CR/LF in a name must
neither crash the writer (icalendar refuses raw line breaks in some properties) nor start a
new property or event (`evil\r\nBEGIN:VEVENT`), and bidi overrides must not reorder what an
inspector reads. The description's own line breaks are ours and escaped by the library.

Determinism: event UIDs are `{round_id}-{uscc}-{inspector_id}@renfang` (stable across
re-draws, so a calendar client updates an event instead of duplicating it) and DTSTAMP is
`stamp`, which the caller derives from the round (not the wall clock), so the same plan gives
byte-identical files.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
from icalendar import Calendar, Event

from models.normalise import plain_text

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
    names = {i: _text(n) for i, n in inspectors.select("inspector_id", "name").iter_rows()}
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
        who = _text(inspector_id)
        calendar.add(
            "x-wr-calname",
            f"{mark}双随机抽查 {_text(round_id)} · {names.get(inspector_id) or who}",
        )
        for visit in visits.iter_rows(named=True):
            team = "、".join(
                f"{names.get(m) or _text(m)}（{_text(m)}）"
                for m in team_of.get(visit["uscc"], [inspector_id])
            )
            uscc, district = _text(visit["uscc"]), _text(visit["district"])
            event = Event()
            event.add("uid", f"{_text(round_id)}-{uscc}-{who}@renfang")
            event.add("dtstamp", stamp)
            event.add("dtstart", visit["inspection_date"])
            event.add("dtend", visit["inspection_date"] + timedelta(days=1))
            event.add(
                "summary", f"{mark}双随机抽查 {_text(round_id)}：{_text(visit['name']) or uscc}"
            )
            event.add("location", _text(visit["address"]) or district)
            event.add(
                "description",
                f"抽查批次 / round: {_text(round_id)}\n"
                f"统一社会信用代码 / USCC: {uscc}\n"
                f"所属区 / district: {district}\n"
                f"检查组 / team: {team}",
            )
            event.add("transp", "OPAQUE")
            calendar.add_component(event)
        calendars[inspector_id] = calendar.to_ical()
    return calendars


def _text(value: object) -> str:
    """A data value as one line of plain text ('' for null)."""
    return "" if value is None else plain_text(str(value))
