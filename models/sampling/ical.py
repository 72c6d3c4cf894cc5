"""Each inspector's round schedule as an iCalendar file (RFC 5545).

What belongs here: turning a round's assignments into one calendar per inspector — an
all-day, busy event per inspection, naming the firm, its address, the round and the whole
team — as deterministic bytes, written here line by line: TEXT escaping and 75-octet
folding as RFC 5545 and the `icalendar` library do them, byte for byte (the tests hold the
output to what `icalendar` writes for the same calendar). A national round has ~20k events,
and `icalendar`'s property objects cost ~0.4 ms per event: most of a daily draft.
What does not: deciding dates (`schedule`), writing files.

Every value taken from data goes through `normalise.plain_text` first: ingestion already
makes names one line, but a writer escapes for its format anyway — a CR/LF in a name must
neither crash the writer (icalendar refuses raw line breaks in some properties) nor start a
new property or event (`evil\r\nBEGIN:VEVENT`), and bidi overrides must not reorder what an
inspector reads. The description's own line breaks are ours, escaped as `\\n`.

Determinism: event UIDs are `{round_id}-{uscc}-{inspector_id}@renfang` (stable across
re-draws, so a calendar client updates an event instead of duplicating it) and DTSTAMP is
`stamp`, which the caller derives from the round (not the wall clock), so the same plan gives
byte-identical files.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from models.normalise import plain_text

PRODUCT_ID = "-//renfang//双随机抽查计划//ZH"
LINE_OCTETS = 75
"""RFC 5545: content lines are folded before 75 octets (a continuation starts with a space)."""


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
    team_of = dict(zip(*(teams.get_column(c).to_list() for c in teams.columns), strict=True))
    ids: dict[str, str] = {}  # an inspector id as text, made once

    def id_text(inspector_id: str) -> str:
        if inspector_id not in ids:
            ids[inspector_id] = _text(inspector_id)
        return ids[inspector_id]

    dtstamp = _utc(stamp)
    title = f"{mark}双随机抽查 {_text(round_id)}"
    round_text = _text(round_id)
    events: dict[tuple[object, ...], tuple[str, str, str, str]] = {}  # a firm's lines, made once

    def firm_lines(uscc_value: str, inspector_id: str, name: object, district_value: object,
                   address: object) -> tuple[str, str, str, str]:  # fmt: skip
        """(SUMMARY, DESCRIPTION, LOCATION, USCC as text): the same for every member of the
        firm's team, so made once per firm (a firm missing from the teams: the inspector
        alone)."""
        members = team_of.get(uscc_value, [inspector_id])
        key = (uscc_value, name, district_value, address, tuple(members))
        if key not in events:
            team = "、".join(f"{names.get(m) or id_text(m)}（{id_text(m)}）" for m in members)
            uscc, district = _text(uscc_value), _text(district_value)
            events[key] = (
                _line("SUMMARY", f"{title}：{_text(name) or uscc}"),
                _line(
                    "DESCRIPTION",
                    f"抽查批次 / round: {round_text}\n"
                    f"统一社会信用代码 / USCC: {uscc}\n"
                    f"所属区 / district: {district}\n"
                    f"检查组 / team: {team}",
                ),
                _line("LOCATION", _text(address) or district),
                uscc,
            )
        return events[key]

    columns = ("inspector_id", "uscc", "inspection_date", "name", "district", "address")
    visits = zip(*(rows.get_column(c).to_list() for c in columns), strict=True)
    lines_of: dict[str, list[str]] = {}
    for inspector_id, uscc_value, day, name, district, address in visits:
        lines = lines_of.get(inspector_id)
        if lines is None:
            who = id_text(inspector_id)
            lines = lines_of[inspector_id] = [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                _line("PRODID", PRODUCT_ID),
                "CALSCALE:GREGORIAN",
                # as `icalendar` writes it: not TEXT-escaped (an extension property), one line
                fold(f"X-WR-CALNAME:{title} · {names.get(inspector_id) or who}"),
            ]
        summary, description, location, uscc = firm_lines(
            uscc_value, inspector_id, name, district, address
        )
        # the order `icalendar` writes: its canonical properties, then the rest by name
        lines += [
            "BEGIN:VEVENT",
            summary,
            f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
            f"DTSTAMP:{dtstamp}",
            _line("UID", f"{round_text}-{uscc}-{id_text(inspector_id)}@renfang"),
            description,
            location,
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    return {
        inspector_id: "".join(f"{line}\r\n" for line in [*lines, "END:VCALENDAR"]).encode("utf-8")
        for inspector_id, lines in lines_of.items()
    }


def _text(value: object) -> str:
    """A data value as one line of plain text ('' for null)."""
    return "" if value is None else plain_text(str(value))


def _utc(moment: datetime) -> str:
    """DTSTAMP in UTC (`…Z`; a time without a zone is taken as UTC, as `icalendar` writes
    it; `stamp` is derived from the round, never the wall clock)."""
    if moment.tzinfo is None:
        return moment.strftime("%Y%m%dT%H%M%SZ")
    if moment.utcoffset() != timedelta(0):
        raise ValueError(f"calendar stamp must be in UTC: {moment!r}")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(text: str) -> str:
    r"""RFC 5545 TEXT escaping (3.3.11), in `icalendar`'s order: a literal `\N` and every
    kind of line break become the `\n` escape; backslash, semicolon and comma escaped."""
    return (
        text.replace("\\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _line(name: str, value: str) -> str:
    return fold(f"{name}:{escape_text(value)}")


def fold(line: str) -> str:
    """A content line folded before `LINE_OCTETS` octets, never inside a UTF-8 character,
    and — as `icalendar` does for older clients — never right after a backslash or caret
    (the escape moves to the next line with the character it escapes).

    Each piece is cut at the last character boundary within 74 octets of its start (a
    continuation's leading space not counted), found in the UTF-8 bytes — no loop over
    characters: a national round folds ~400k lines."""
    data = line.encode("utf-8")
    if len(data) < LINE_OCTETS:
        return line
    parts: list[bytes] = []
    start = 0
    while len(data) - start >= LINE_OCTETS:
        end = start + LINE_OCTETS - 1
        while data[end] & 0xC0 == 0x80:  # a UTF-8 continuation byte: not a boundary
            end -= 1
        if data[end - 1] in b"\\^" and end - 1 > start:  # 1-octet characters: carried
            end -= 1
        parts.append(data[start:end])
        start = end
    parts.append(data[start:])
    return b"\r\n ".join(parts).decode("utf-8")
