"""Inspector calendars read back with the icalendar parser: one all-day event per visit."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from models.sampling.ical import fold, fold_lines, inspector_calendars

ASSIGNMENTS = pl.DataFrame(
    {
        "uscc": ["U1", "U1", "U2"],
        "inspector_id": ["I1", "I2", "I1"],
        "inspection_date": [date(2027, 1, 4), date(2027, 1, 4), date(2027, 1, 5)],
    }
)
FIRMS = pl.DataFrame(
    {
        "uscc": ["U1", "U2"],
        "name": ["上海某人防工程设计有限公司，分公司; 测试", "上海某监理公司"],
        "district": ["黄浦区", "徐汇区"],
        "address": ["上海市黄浦区某路1号", None],
    }
)
PEOPLE = pl.DataFrame({"inspector_id": ["I1", "I2"], "name": ["张伟", "李娜"]})
STAMP = datetime(2026, 12, 31, tzinfo=UTC)


def test_each_inspector_gets_their_visits_as_all_day_events() -> None:
    calendars = inspector_calendars(ASSIGNMENTS, FIRMS, PEOPLE, round_id="2027Q1", stamp=STAMP)
    assert set(calendars) == {"I1", "I2"}
    events = Calendar.from_ical(calendars["I1"]).walk("VEVENT")
    assert [e.decoded("dtstart") for e in events] == [date(2027, 1, 4), date(2027, 1, 5)]
    first = events[0]
    assert str(first["summary"]) == "双随机抽查 2027Q1：上海某人防工程设计有限公司，分公司; 测试"
    assert str(first["uid"]) == "2027Q1-U1-I1@renfang"
    assert "张伟（I1）、李娜（I2）" in str(first["description"])
    assert str(events[1]["location"]) == "徐汇区"  # no address: the district


def test_the_same_plan_gives_the_same_bytes() -> None:
    once = inspector_calendars(ASSIGNMENTS, FIRMS, PEOPLE, round_id="2027Q1", stamp=STAMP)
    again = inspector_calendars(
        ASSIGNMENTS.reverse(), FIRMS, PEOPLE, round_id="2027Q1", stamp=STAMP
    )
    assert once == again


def test_line_breaks_and_bidi_overrides_in_names_stay_inside_one_property() -> None:
    """Names that did not pass through ingestion (or a future source): the writer escapes
    anyway — no crash, no injected event or property, no reordering characters."""
    firms = FIRMS.with_columns(
        name=pl.Series(["evil\r\nBEGIN:VEVENT\r\nSUMMARY:injected", "\u202e上海\u202c某\tB"]),
        address=pl.Series(["某路\r\n1号", None]),
    )
    people = PEOPLE.with_columns(name=pl.Series(["张伟\r\nEND:VCALENDAR", "李\x00娜"]))
    calendars = inspector_calendars(ASSIGNMENTS, firms, people, round_id="2027Q1", stamp=STAMP)
    text = calendars["I1"].decode("utf-8")
    lines = text.split("\r\n")
    assert lines.count("BEGIN:VEVENT") == 2 and lines.count("END:VCALENDAR") == 1
    assert "\u202e" not in text and "\x00" not in text
    events = Calendar.from_ical(calendars["I1"]).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == [
        "双随机抽查 2027Q1：evil BEGIN:VEVENT SUMMARY:injected",
        "双随机抽查 2027Q1：上海某 B",
    ]
    assert str(events[0]["location"]) == "某路 1号"
    assert "张伟 END:VCALENDAR（I1）、李娜（I2）" in str(events[0]["description"])


def _written_by_icalendar(calendar_bytes: bytes) -> bytes:
    """The same calendar as the `icalendar` library writes it: every property as our writer
    meant it (parsed back), serialised by the library the writer replaced for speed."""
    from icalendar import Event

    parsed = Calendar.from_ical(calendar_bytes)
    again = Calendar()
    for name in ("prodid", "version", "calscale", "x-wr-calname"):
        again.add(name, str(parsed[name]))
    for event in parsed.walk("VEVENT"):
        copy = Event()
        copy.add("uid", str(event["uid"]))
        copy.add("dtstamp", event.decoded("dtstamp"))
        copy.add("dtstart", event.decoded("dtstart"))
        copy.add("dtend", event.decoded("dtend"))
        for name in ("summary", "location", "description", "transp"):
            copy.add(name, str(event[name]))
        again.add_component(copy)
    return again.to_ical()


_TEXT = st.text(
    alphabet=st.sampled_from(
        list("aZ09 ;,:\\^\"'\t\r\nN") + list("上海某人防【】（），") + ["\u202e", "é", "𠀀"]
    ),
    max_size=120,
)


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(_TEXT, min_size=2, max_size=2),
    people=st.lists(_TEXT, min_size=2, max_size=2),
    address=_TEXT,
    round_id=st.sampled_from(["2027Q1", "2026Q4-联合"]),
    draft=st.booleans(),
)
def test_the_bytes_are_what_icalendar_writes(names, people, address, round_id, draft) -> None:
    """Escaping (backslash, semicolon, comma, line breaks), 75-octet folding without
    splitting a character or an escape, property order: byte for byte `icalendar`'s."""
    firms = FIRMS.with_columns(name=pl.Series(names), address=pl.Series([address, None]))
    persons = PEOPLE.with_columns(name=pl.Series(people))
    calendars = inspector_calendars(
        ASSIGNMENTS, firms, persons, round_id=round_id, stamp=STAMP, draft=draft
    )
    for data in calendars.values():
        assert data == _written_by_icalendar(data)
        assert all(len(line) <= 75 for line in data.split(b"\r\n"))


def _fold_by_character(line: str) -> str:
    """The folding as `icalendar` writes it (its `foldline`, deprecated there): character by
    character, an escape's backslash or caret carried to the next line."""
    parts: list[str] = []
    current: list[str] = []
    octets = 0
    for char in line:
        size = len(char.encode("utf-8"))
        if current and octets + size >= 75:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                parts.append("".join(current))
                current, octets = [carried], len(carried.encode("utf-8"))
            else:
                parts.append("".join(current))
                current, octets = [], 0
        current.append(char)
        octets += size
    if current:
        parts.append("".join(current))
    return "\r\n ".join(parts)


@settings(max_examples=500, deadline=None)
@given(
    st.text(
        alphabet=st.one_of(
            st.sampled_from(list("a\\^ ;,é中【🙂𠀀\t")),
            st.characters(exclude_categories=["Cs"], exclude_characters="\n"),
        ),
        max_size=400,
    )
)
@example("a" * 73 + "\\n" + "b" * 80)  # an escape at the fold: carried
@example("a" * 74 + "^^" + "b" * 80)
@example("\\" + "中" * 40)
@example("a" * 72 + "🙂" + "b")  # a 4-octet character does not fit the first line
def test_folding_is_icalendars_for_any_line(line: str) -> None:
    """`fold` cuts the UTF-8 bytes instead of walking the characters: the same pieces as
    `icalendar`'s folding, escapes carried to the next line included."""
    assert fold(line) == _fold_by_character(line)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet=st.sampled_from(list("a\\^ ;é中【🙂𠀀")), max_size=300),
            st.text(max_size=200).filter(lambda t: "\n" not in t and "\r" not in t),
        ),
        max_size=12,
    )
)
@example(["a" * 73 + "\\n" + "b" * 80, "x", None, "中" * 100, "a" * 72 + "🙂" + "b"])
def test_folding_a_column_is_fold_line_by_line(lines: list[str | None]) -> None:
    """`fold_lines` finds the cuts of every line at once: the same lines as `fold`."""
    folded = fold_lines(pl.Series(lines, dtype=pl.Utf8)).to_list()
    assert folded == [None if line is None else fold(line) for line in lines]
