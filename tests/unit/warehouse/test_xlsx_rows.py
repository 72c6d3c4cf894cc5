"""The column-by-column rows (`warehouse.xlsx_rows`) are byte for byte what xlsxwriter writes
cell by cell: every part of the workbook compared, on hostile frames of every type the
exports hold, and the frames it declines are written cell by cell as before."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import warehouse.exports as exports
from warehouse import xlsx_rows
from warehouse.exports import Sheet, Workbook, write_workbook

CREATED = "docProps/core.xml"
"""The one part that differs between two writes: the creation time."""


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist() if n != CREATED}


def _both(book: Workbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    """(column by column, cell by cell) of the same workbook."""
    fast = write_workbook(book, tmp_path / "fast.xlsx")
    with monkeypatch.context() as patch:
        patch.setattr(exports, "write_rows", lambda *args: False)
        slow = write_workbook(book, tmp_path / "slow.xlsx")
    return _parts(fast), _parts(slow)


HOSTILE_TEXT = [
    "",
    " leading",
    "trailing ",
    "\u3000全角空格",
    "tab\t",
    "\tlead",
    "line\nbreak",
    "ends with\n",
    "cr\r\nlf",
    "\x1c file separator",
    "nul\x00char\x1f",
    "_x0041_ literal escape _X00ff_ _x12_",
    "a & b < c > d \" e ' f",
    "x > y",
    "R&D",
    "a<b",
    "_x0041_ only",
    "bell\x07",
    "<r>rich?</r>",
    "<r>not rich",
    "\ufffe\uffff",
    "'=1+1",
    "上海申防人防工程设计研究院有限公司",
    "emoji 🙂 and \u202e bidi",
    "\u00a0nbsp",
    "\x85next line",
]


def _frame(draw: st.DrawFn, rows: int) -> pl.DataFrame:
    text = st.one_of(st.none(), st.sampled_from(HOSTILE_TEXT), st.text(max_size=12))
    ints = st.one_of(st.none(), st.integers(-(10**18), 10**18), st.integers(-5, 5))
    floats = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True),
                       st.sampled_from([0.1 + 0.2, -0.0, 1e-7, 1e16, 123456789.125]))  # fmt: skip
    dates = st.one_of(
        st.none(),
        st.dates(date(1899, 12, 1), date(2100, 1, 1)),
        st.sampled_from([date(1900, 1, 1), date(1900, 2, 28), date(1900, 3, 1)]),
    )
    stamps = st.one_of(st.none(), st.datetimes(datetime(1900, 1, 1), datetime(2100, 1, 1)))
    columns: dict[str, tuple[st.SearchStrategy[Any], pl.DataType]] = {
        "name": (text, pl.Utf8()),
        "uscc": (text, pl.Utf8()),
        "records": (ints, pl.Int64()),
        "score": (floats, pl.Float64()),
        "as_of": (dates, pl.Date()),
        "logged_at": (stamps, pl.Datetime("us")),
        "veto": (st.one_of(st.none(), st.booleans()), pl.Boolean()),
        "tier": (st.one_of(st.none(), st.sampled_from(["A", "B", "C", "D", "=X"])), pl.Utf8()),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(columns)), min_size=1, max_size=6, unique=True))
    return pl.DataFrame(
        {c: pl.Series(c, [draw(columns[c][0]) for _ in range(rows)], dtype=columns[c][1])
         for c in chosen}
    )  # fmt: skip


@st.composite
def _books(draw: st.DrawFn) -> Workbook:
    sheets = []
    for n in range(draw(st.integers(1, 3))):
        frame = _frame(draw, draw(st.integers(0, 12)))
        notes = draw(st.booleans())
        to_fill = frozenset(draw(st.lists(st.sampled_from(frame.columns), max_size=2)))
        sheets.append(
            Sheet(f"表{n}", frame, notes=notes, numbered=draw(st.booleans()), to_fill=to_fill)
        )
    as_of = draw(st.none() | st.dates())
    return Workbook(title="测试", sheets=sheets, as_of=as_of, issuer="某中心")


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(book=_books())
def test_column_by_column_is_byte_for_byte_what_xlsxwriter_writes_cell_by_cell(
    book: Workbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = _both(book, tmp_path, monkeypatch)
    assert fast.keys() == slow.keys()
    for name in fast:
        assert fast[name] == slow[name], name


def test_a_round_plan_sized_sheet_with_validations_and_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = 3_000
    frame = pl.DataFrame(
        {
            "round_id": ["2027Q1"] * rows,
            "inspection_date": [date(2027, 1, 4 + i % 20) for i in range(rows)],
            "uscc": [f"9131{i:014d}" for i in range(rows)],
            "is_control": [i % 7 == 0 for i in range(rows)],
            "draw_order": list(range(rows)),
            "team": [["SH-1", "SH-2"] if i % 2 else None for i in range(rows)],
            "result": [None] * rows,
        }
    )
    choices = {"result": {"validate": "list", "source": ["合格", "不合格"]}}
    sheet = Sheet("检查安排", frame, to_fill=frozenset({"result"}), validations=choices)
    monkeypatch.setattr(xlsx_rows, "SLICE_ROWS", 701)  # rows written a slice at a time
    notes = Sheet("说明", pl.DataFrame({"parameter": ["a"], "value": ["b"]}), notes=True)
    fast, slow = _both(Workbook(title="计划", sheets=[notes, sheet]), tmp_path, monkeypatch)
    assert fast == slow


def test_frames_it_declines_are_written_cell_by_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decimals (xlsxwriter gets their text), a text xlsxwriter would truncate, one it would
    take for a rich string, a single row (written when the workbook closes): `write_rows`
    declines, and the workbook is still written."""
    calls: list[bool] = []
    original = xlsx_rows.write_rows

    def spy(*args: Any) -> bool:
        calls.append(original(*args))
        return calls[-1]

    monkeypatch.setattr(exports, "write_rows", spy)
    frames = [
        pl.DataFrame({"amount": [Decimal("1.50"), Decimal("2")]}),
        pl.DataFrame({"name": ["长" * 20_000, "短"]}),
        pl.DataFrame({"name": ["<r><t>x</t></r>", "y"]}),
        pl.DataFrame({"name": ["one row only"]}),
        pl.DataFrame({"name": ["ok", "ok"]}),
    ]
    for n, frame in enumerate(frames):
        path = write_workbook(Workbook(title="t", sheets=[Sheet("s", frame)]), tmp_path / f"{n}.x")
        assert zipfile.is_zipfile(path)
    assert calls == [False, False, False, False, True]
