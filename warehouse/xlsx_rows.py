"""A sheet's data rows written column by column instead of one call per cell.

What belongs here: `write_rows`, which puts a frame's rows into an xlsxwriter worksheet
opened in `constant_memory` mode as the very XML xlsxwriter itself writes for the same cells
— the `<row>` element, each cell's reference, format index and type; inline strings with
xlsxwriter's escaping (`_xHHHH_` for control characters, `&amp;` `&lt;` `&gt;`,
`xml:space="preserve"` around leading or trailing white space); numbers as `%.16G`, dates as
Excel serial numbers; a null, NaN or ±∞ as a blank cell keeping its format — built with
polars column expressions: a national round's plan (93k rows × 21 columns) in well under a
second instead of ~10 s of per-cell calls. Only `warehouse.exports` calls it. What does not:
a sheet's layout (titles, widths, filters: `warehouse.exports`) or what goes in a cell (the
caller's frame, already labelled and escaped against formula injection).

It writes into xlsxwriter's row buffer and keeps xlsxwriter's bookkeeping (dimensions, the
last row written, format indices numbered on first use) as its own writes would. The rows
go in as UTF-8 bytes that polars writes into the buffer's file (no ~100 MB Python string),
and when the workbook closes they are copied into the sheet's XML as bytes (xlsxwriter's
own copy decodes and re-encodes them through text handles). Whenever a
frame holds something this path does not render exactly as xlsxwriter does — a type it does
not cover, a text longer than xlsxwriter keeps whole, a text xlsxwriter would take for a
rich string — or the worksheet is not in `constant_memory` mode or has rows of their own
height, it writes nothing and returns False: the caller then writes cell by cell.
`tests/unit/warehouse/test_xlsx_rows.py` compares every part of the workbook, byte for
byte, with xlsxwriter's own output of the same cells.
"""

from __future__ import annotations

import math
import os
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

TEXT_LIMIT = 32767 // 2
"""Characters up to which xlsxwriter never truncates a text (its `xls_strmax` check)."""
_CONTROL = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20))]
"""Control characters xlsxwriter writes as `_xHHHH_` (tab and line feed are kept)."""
_NUMBER, _TEXT, _BARE_TEXT = "number", "text", "bare text"
"""What a cell's content is: a number (`<v>…</v>`), a text that starts with its own `>` or
` xml:space="preserve">` (`<t…</t>`), or a bare text (`<t>…</t>`)."""
SLICE_ROWS = 10_000
"""Rows rendered and written at a time."""


def write_rows(
    ws: Any, frame: pl.DataFrame, first_row: int, serial: Any | None, formats: list[Any]
) -> bool:
    """Write `frame`'s rows from sheet row `first_row` (0-based) on, each preceded by its
    serial number (1, 2, …) in format `serial` when given, column j in `formats[j]` — the
    XML `warehouse.exports._write_cell`'s calls would give, cell for cell. False, and nothing
    written, when the frame or the worksheet is outside what this path renders exactly."""
    from xlsxwriter.utility import xl_col_to_name  # lazy, as in `warehouse.exports`

    numbered = serial is not None
    last_row = first_row + frame.height - 1
    last_col = frame.width - 1 + int(numbered)
    if (
        frame.height < 2  # a sheet's last row is written when the workbook closes (below)
        or not getattr(ws, "constant_memory", False)
        or first_row <= ws.previous_row
        or last_row >= ws.xls_rowmax
        or last_col >= ws.xls_colmax
        or ws.default_row_height != ws.original_row_height
        or ws.excel_version != 2007
        or os.linesep != "\n"  # text handles would write a cell's line feed as CR LF
        or any(first_row <= r <= last_row for r in (*ws.row_info, *ws.comments))
    ):
        return False
    rendered = [cell_contents(frame.get_column(c)) for c in frame.columns]
    contents = [content for content in rendered if content is not None]
    if len(contents) < len(rendered):
        return False
    if numbered:
        serials = pl.int_range(1, frame.height + 1, eager=True).cast(pl.Utf8)
        contents.insert(0, (serials, _NUMBER))
    # xlsxwriter writes a row when the next one starts (a sheet's last row when the workbook
    # closes, after every sheet: a one-row frame is left to it): the header row above goes
    # first, and the formats get their indices in the order the first row's cells use them
    ws._write_single_row(first_row)
    styles = [serial, *formats] if serial is not None else formats
    indices = [style._get_xf_index() for style in styles]
    number = pl.col("_row")
    cells = []
    for col, ((_, kind), xf) in enumerate(zip(contents, indices, strict=True)):
        ref, name = f'<c r="{xl_col_to_name(col)}', f"_{col}"
        opening = {
            _NUMBER: f'" s="{xf}"><v>',
            _TEXT: f'" s="{xf}" t="inlineStr"><is><t',
            _BARE_TEXT: f'" s="{xf}" t="inlineStr"><is><t>',
        }[kind]
        closing = "</v></c>" if kind == _NUMBER else "</t></is></c>"
        filled = pl.concat_str(pl.lit(ref), number, pl.lit(opening), pl.col(name), pl.lit(closing))
        if contents[col][0].null_count():
            blank = pl.concat_str(pl.lit(ref), number, pl.lit(f'" s="{xf}"/>'))
            filled = pl.when(pl.col(name).is_null()).then(blank).otherwise(filled)
        cells.append(filled)
    table = pl.DataFrame(
        [
            pl.int_range(first_row + 1, last_row + 2, eager=True).cast(pl.Utf8).alias("_row"),
            *(values.alias(f"_{col}") for col, (values, _) in enumerate(contents)),
        ]
    )
    row = pl.concat_str(pl.lit('<row r="'), number, pl.lit('">'), *cells, pl.lit("</row>"))
    # the rows' UTF-8 straight from polars into the file under xlsxwriter's text handle
    # (flushed first): no ~100 MB Python string, encoded once; a slice of rows at a time, so
    # the memory of one slice's XML serves the next
    ws.fh.flush()
    for start in range(0, table.height, SLICE_ROWS):
        table.slice(start, SLICE_ROWS).select(row).write_csv(
            ws.fh.buffer, include_header=False, quote_style="never", line_terminator=""
        )
    ws.fh.buffer.flush()
    ws._check_dimensions(last_row, last_col)
    ws.previous_row = last_row
    _copy_rows_as_bytes(ws)
    return True


def _copy_rows_as_bytes(ws: Any) -> None:
    """When the workbook closes, xlsxwriter copies a `constant_memory` sheet's rows from their
    temporary file into the sheet's XML through text handles (decoded, then encoded again);
    this sheet's are copied as bytes instead — the same bytes, the same steps around them."""
    original = ws._write_optimized_sheet_data

    def copy() -> None:
        if ws.dim_rowmin is None:  # never here: rows were written (xlsxwriter's own path)
            original()
            return
        ws._xml_start_tag("sheetData")
        ws.row_data_fh.flush()
        ws.fh.flush()
        stored = Path(ws.row_data_filename)
        with stored.open("rb") as rows:
            shutil.copyfileobj(rows, ws.fh.buffer, 1 << 20)
        ws.row_data_fh.close()
        stored.unlink()
        ws._xml_end_tag("sheetData")

    ws._write_optimized_sheet_data = copy


def cell_contents(column: pl.Series) -> tuple[pl.Series, str] | None:
    """(what goes inside each cell's element, "number" or "text") — null for a blank cell —
    or None when the column holds what this path does not render as xlsxwriter does."""
    dtype = column.dtype
    if dtype == pl.Utf8:
        return _text(column)
    if dtype == pl.Boolean:  # as `_write_cell` writes a flag
        return _text(column.replace_strict({True: "是", False: "否"}, return_dtype=pl.Utf8))
    if dtype == pl.Null:
        return pl.Series([None] * column.len(), dtype=pl.Utf8), _NUMBER
    if dtype.is_integer() and _within(column, 10**16):
        return column.cast(pl.Utf8), _NUMBER  # `%.16G` of a whole number below 10¹⁶
    if dtype.is_integer() or dtype.is_float():
        return pl.Series([_number(v) for v in column.to_list()], dtype=pl.Utf8), _NUMBER
    if dtype == pl.Date or (isinstance(dtype, pl.Datetime) and dtype.time_zone is None):
        serial = {v: _number(v) for v in column.unique().to_list() if v is not None}
        return column.replace_strict(serial, default=None, return_dtype=pl.Utf8), _NUMBER
    return None


def _within(column: pl.Series, bound: int) -> bool:
    """Whether every value of an integer column lies strictly between -bound and bound."""
    low, high = column.min(), column.max()
    return low is None or bool(-bound < low and high < bound)  # type: ignore[operator]  # polars stubs: min() may be any scalar


def _number(value: Any) -> str | None:
    """A number, date or datetime as xlsxwriter writes it (an Excel serial number for dates,
    then `%.16G`); None (a blank cell) for None, NaN and ±∞, as `_write_cell` does."""
    from xlsxwriter.utility import _datetime_to_excel_datetime

    if value is None:
        return None
    if isinstance(value, datetime):
        value = _datetime_to_excel_datetime(value, False, False)
    elif isinstance(value, date):
        midnight = datetime(value.year, value.month, value.day)
        value = _datetime_to_excel_datetime(midnight, False, False)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return f"{value:.16G}"


def _most(lengths: pl.Series) -> int:
    """The largest of a column of lengths (0 when empty or all null)."""
    top = lengths.max()
    return top if isinstance(top, int) else 0


def _text(column: pl.Series) -> tuple[pl.Series, str] | None:
    """The escaped text (`_BARE_TEXT`), or `>text` / ` xml:space="preserve">text` (`_TEXT`)
    when some value has white space at either end, escaped as xlsxwriter escapes an inline
    string (control characters, then white space at either end, then `&`, `<`, `>`)."""
    too_long = _most(column.str.len_bytes()) > TEXT_LIMIT  # bytes ≥ characters: a quick bound
    if too_long and _most(column.str.len_chars()) > TEXT_LIMIT:
        return None  # xlsxwriter may truncate it
    if (column.str.starts_with("<r>") & column.str.ends_with("</r>")).any():
        return None  # xlsxwriter writes it as rich-string XML, unescaped
    # each rewrite only where the column holds what it rewrites (most hold none of it)
    text = column
    if text.str.contains(r"_x[0-9a-fA-F]{4}_").any():
        text = text.str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F${1}")
    if text.str.contains("[\x00-\x08\x0b-\x1f\ufffe\uffff]").any():
        for char in (*_CONTROL, "\ufffe", "\uffff"):
            text = text.str.replace_all(char, f"_x{ord(char):04X}_", literal=True)
    # Python's `\s` (xlsxwriter's regex) is Unicode white space and U+001C–U+001F
    preserve = text.str.contains(r"^[\s\x1c-\x1f]|[\s\x1c-\x1f]$")
    escaped = text
    if escaped.str.contains("[&<>]").any():
        escaped = (
            escaped.str.replace_all("&", "&amp;", literal=True)
            .str.replace_all("<", "&lt;", literal=True)
            .str.replace_all(">", "&gt;", literal=True)
        )
    if not preserve.any():  # nothing to preserve: one opening for every cell
        return escaped.alias(column.name), _BARE_TEXT
    cells = pl.DataFrame({"text": escaped, "preserve": preserve})
    return cells.select(
        pl.when(pl.col("preserve"))
        .then(pl.lit(' xml:space="preserve">') + pl.col("text"))
        .otherwise(pl.lit(">") + pl.col("text"))
    ).to_series().alias(column.name), _TEXT
