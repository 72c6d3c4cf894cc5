"""Each inspector's round schedule as an iCalendar file (RFC 5545).

What belongs here: turning a round's assignments into one calendar per inspector — an
all-day, busy event per inspection, naming the firm, its address, the round and the whole
team — as deterministic bytes, written here as text columns: TEXT escaping and 75-octet
folding as RFC 5545 and the `icalendar` library do them, byte for byte (the tests hold the
output to what `icalendar` writes for the same calendar). A national round has ~90k events:
`icalendar`'s property objects cost ~0.4 ms per event, and even plain Python line by line
took ~1.7 s of a daily draft; columns take a fraction of that.
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

import numpy as np
import polars as pl

from models.normalise import CONTROL_PATTERN, plain_text

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

    The events are built as polars columns (a national round has ~90k): values made plain
    text (`_texts`) and TEXT-escaped value by value (`_escaped`, the replacements of
    `escape_text`), lines folded a column at a time (`fold_lines`), each calendar's bytes
    assembled by polars.
    """
    mark = "【草案】" if draft else ""
    names = {i: _text(n) for i, n in inspectors.select("inspector_id", "name").iter_rows()}
    dtstamp = _utc(stamp)
    round_plain = _text(round_id)
    title = f"{mark}双随机抽查 {round_plain}"
    if assignments.is_empty():
        return {}
    # a firm's team as its description names it: every member's name and id, in id order
    members = assignments.get_column("inspector_id").unique().to_list()
    member = {m: f"{names.get(m) or _text(m)}（{_text(m)}）" for m in members}
    teams = (
        assignments.select(
            "uscc",
            "inspector_id",
            label=pl.col("inspector_id").replace_strict(member, return_dtype=pl.Utf8),
        )
        .group_by("uscc")
        .agg(team=pl.col("label").sort_by("inspector_id").str.join("、"))
    )
    rows = (
        assignments.select("uscc", "inspector_id", "inspection_date")
        .join(firms.select("uscc", "name", "district", "address"), on="uscc", how="left")
        .join(teams, on="uscc", how="left")
        .sort("inspector_id", "inspection_date", "uscc")
    )
    # each value as plain text and TEXT-escaped on its own: the values hold no line break
    # (plain text) and the text around them neither ends in a backslash nor starts with N,
    # so no escape spans two parts, and escaping the parts escapes the whole line
    rows = rows.with_columns(
        _escaped(_texts(rows.get_column(c))) for c in ("uscc", "name", "district", "address")
    ).with_columns(team=_escaped(rows.get_column("team")))
    inspector = _escaped(_texts(rows.get_column("inspector_id")))
    line = pl.lit
    uscc, name, district = pl.col("uscc"), pl.col("name"), pl.col("district")
    round_text = escape_text(round_plain)
    summary = line(f"SUMMARY:{escape_text(title)}：") + pl.when(name != "").then(name).otherwise(
        uscc
    )
    description = pl.concat_str(
        line(f"DESCRIPTION:{escape_text(f'抽查批次 / round: {round_plain}')}\\n"
             "统一社会信用代码 / USCC: "), uscc,
        line("\\n所属区 / district: "), district, line("\\n检查组 / team: "), pl.col("team"),
    )  # fmt: skip
    address = pl.col("address")
    location = line("LOCATION:") + pl.when(address != "").then(address).otherwise(district)
    uid = pl.concat_str(line(f"UID:{round_text}-"), uscc, line("-"), inspector, line("@renfang"))
    day = pl.col("inspection_date")
    lines = rows.select(
        "inspector_id",
        summary=summary,
        start=line("DTSTART;VALUE=DATE:") + day.dt.strftime("%Y%m%d"),
        end=line("DTEND;VALUE=DATE:") + day.dt.offset_by("1d").dt.strftime("%Y%m%d"),
        uid=uid,
        description=description,
        location=location,
    )
    lines = lines.with_columns(
        fold_lines(lines.get_column(c)) for c in ("summary", "uid", "description", "location")
    )
    # the order `icalendar` writes: its canonical properties, then the rest by name
    event = pl.concat_str(
        line("BEGIN:VEVENT"), "summary", "start", "end", line(f"DTSTAMP:{dtstamp}"), "uid",
        "description", "location", line("TRANSP:OPAQUE"), line("END:VEVENT\r\n"),
        separator="\r\n",
    )  # fmt: skip
    per_inspector = lines.group_by("inspector_id", maintain_order=True).agg(
        events=event.str.join("")
    )
    product = _line("PRODID", PRODUCT_ID)
    # as `icalendar` writes it: X-WR-CALNAME not TEXT-escaped (an extension property)
    head = {
        i: f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{product}\r\nCALSCALE:GREGORIAN\r\n"
        + fold(f"X-WR-CALNAME:{title} · {names.get(i) or _text(i)}")
        + "\r\n"
        for i in per_inspector.get_column("inspector_id").to_list()
    }
    files = per_inspector.select(
        "inspector_id",
        data=pl.concat_str(
            pl.col("inspector_id").replace_strict(head, return_dtype=pl.Utf8),
            "events",
            line("END:VCALENDAR\r\n"),
        ).cast(pl.Binary),
    )
    return dict(files.iter_rows())


def _escaped(values: pl.Series) -> pl.Series:
    """`escape_text` of every value of a text column (each replacement only where needed)."""
    for old, new in _ESCAPES:
        if values.str.contains(old, literal=True).any():
            values = values.str.replace_all(old, new, literal=True)
    return values


def _texts(values: pl.Series) -> pl.Series:
    """`_text` of every value of a text column: a value without a control character and
    without white space at either end is its own plain text (`plain_text` changes nothing
    else), so only the others go through it, once per distinct value."""
    changed = values.str.contains(_NOT_PLAIN).fill_null(False)
    odd = values.filter(changed).unique().to_list()
    return values.replace({v: _text(v) for v in odd}).fill_null("")


_NOT_PLAIN = f"{CONTROL_PATTERN}|^[\\s\\x1c-\\x1f]|[\\s\\x1c-\\x1f]$"
"""What `plain_text` may change: a control character anywhere (`normalise.CONTROL_PATTERN`),
white space first or last (what Python's `str.strip` strips: Unicode white space and the
separators U+001C–U+001F)."""


_ESCAPES = (
    ("\\N", "\n"),
    ("\\", "\\\\"),
    (";", "\\;"),
    (",", "\\,"),
    ("\r\n", "\\n"),
    ("\n", "\\n"),
    ("\r", "\\n"),
)
"""`escape_text`'s replacements, in its order."""


def fold_lines(lines: pl.Series) -> pl.Series:
    """`fold` of every line of a text column, without a loop over characters: the cuts of
    every line of 75 octets or more are found at once in their UTF-8 bytes (numpy), the
    folds inserted there, and each line decoded from the folded bytes (no per-byte character
    counts: a national round's ~90k descriptions are ~20 MB)."""
    long = (lines.str.len_bytes() >= LINE_OCTETS).fill_null(False)
    if not long.any():
        return lines
    index = np.flatnonzero(long.to_numpy())
    text = lines.gather(index)
    data = np.frombuffer(text.str.join("").cast(pl.Binary).item(), np.uint8)
    sizes = text.str.len_bytes().to_numpy().astype(np.int64)
    ends = np.cumsum(sizes)
    firsts = ends - sizes
    start = firsts.copy()  # where each line's current piece starts
    cuts = []  # per round, where the pieces of the lines still long end
    active = np.arange(index.size)
    while active.size:
        piece = start[active]
        end = piece + LINE_OCTETS - 1
        for _ in range(3):  # a UTF-8 character has at most 3 continuation bytes
            end -= (data[end] & 0xC0) == 0x80
        # an escape's backslash or caret goes to the next line with what it escapes
        end -= ((data[end - 1] == 0x5C) | (data[end - 1] == 0x5E)) & (end - 1 > piece)
        cuts.append(end)
        start[active] = end
        active = active[ends[active] - end >= LINE_OCTETS]
    # every cut lies inside its line: a line moves by the folds inserted before it
    at = np.sort(np.concatenate(cuts))
    folded = np.insert(data, np.repeat(at, len(FOLD)), np.tile(_FOLD_BYTES, at.size)).tobytes()
    begins = firsts + len(FOLD) * np.searchsorted(at, firsts)
    stops = ends + len(FOLD) * np.searchsorted(at, ends)
    pieces = [
        folded[b:e].decode("utf-8") for b, e in zip(begins.tolist(), stops.tolist(), strict=True)
    ]
    return lines.clone().scatter(index, pl.Series(pieces, dtype=pl.Utf8))


FOLD = "\r\n "
"""What ends a folded line's piece: a line break and the continuation's leading space."""
_FOLD_BYTES = np.frombuffer(FOLD.encode("ascii"), np.uint8)


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
    for old, new in _ESCAPES:
        text = text.replace(old, new)
    return text


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
    return FOLD.encode("ascii").join(parts).decode("utf-8")
