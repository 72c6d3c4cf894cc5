"""Files people open: ONE writer for every workbook, and CSV that Excel opens correctly.

What belongs here: `write_workbook`, which every XLSX the product hands out goes through (the
association's tier list, the review report, a round's plan and public list, the dashboard
download), laid out as a Chinese office expects:

- a title row and a line with the as-of date and the issuer above the header;
- 序号 as the first column, the header frozen and filtered (autofilter);
- headers and coded values as words from the label catalogue (models/labels.yaml), never
  codes; 是/否 for flags;
- numbers as numbers with the catalogue's format (scores 0.0, points +0.0, rates 0.0%,
  counts #,##0, dates yyyy-mm-dd);
- column widths that count a Chinese character as two (as Excel and WPS draw it);
- A4 print setup: landscape when wide, fit to one page wide, title and header repeated on
  every page, page numbers in the footer;
- a notes sheet (说明) as readable rows — parameter, value, meaning — with wrapped text;
- for a form sent out and read back (a round's inspection record workbooks): the columns to
  fill in highlighted, with drop-downs and range checks (`Sheet.to_fill`, `validations`);
- strings always written as strings (no conversion to formulas, numbers or links), and every
  text cell a spreadsheet would execute (starting with = + - @, a tab or a CR) escaped with a
  leading apostrophe (formula injection);
- written atomically (a reader never sees half a file).

Also `write_csv` (UTF-8 with BOM, the same escaping) and `readable` (a frame with Chinese
headers and labels, for CSV files people open). What does not: deciding the content
(models), where reports live (resources).
"""

from __future__ import annotations

import codecs
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from models.labels import ColumnFormat, Labels, default_labels, display_width
from warehouse.xlsx_rows import write_rows

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

NUMBER_FORMATS: dict[ColumnFormat, str] = {
    "score": "0.0",
    "points": "+0.0;-0.0;0.0",
    "rate": "0.0%",
    "count": "#,##0",
    "number": "0.00",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    "text": "@",
}
"""Excel number formats by the catalogue's column format."""

WIDE_CHARS = (
    r"\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60"
    r"\uFFE0-\uFFE6"
)
"""Characters drawn two columns wide (CJK, Hangul, full-width forms): all of them encoded in
three UTF-8 bytes."""
SAMPLE_TEXT = {"score": "100.0", "points": "+10.0", "rate": "100.0%", "count": "999,999"}
SERIAL_NUMBER = "序号"
MIN_WIDTH, MAX_WIDTH = 6, 50
"""Column widths in characters (a CJK character counts two); longer text wraps."""
WIDE_PAGE = 110
"""Total width (characters) from which a sheet prints landscape."""
A4 = 9
TITLE_ROWS = 2
FILL_COLOUR = "#FFF2CC"
"""The background of the cells a person fills in (a form's columns `Sheet.to_fill`)."""
"""The title row and the as-of/issuer line; the header is the row after them."""


@dataclass(frozen=True)
class Sheet:
    """One sheet: a frame with canonical column names (the catalogue labels them)."""

    name: str
    frame: pl.DataFrame
    title: str | None = None
    """The sheet's title row; the workbook's title when None."""
    numbered: bool = True
    """A 序号 column first."""
    notes: bool = False
    """A notes sheet (说明): text wraps, no 序号, no filter."""
    codes: Mapping[str, str] = field(default_factory=dict)
    """Column → code kind where it differs from the catalogue's default (e.g. a round's
    `status`)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Column → header where it differs from the catalogue."""
    to_fill: frozenset[str] = frozenset()
    """Columns a person fills in (a form sent out and read back): highlighted."""
    validations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Column → an Excel data validation over its data cells (xlsxwriter's options: a
    drop-down list, a whole number, a date range), so a form is filled in as it will be read."""


@dataclass(frozen=True)
class Workbook:
    title: str
    sheets: Sequence[Sheet]
    as_of: date | None = None
    issuer: str | None = None
    """The body issuing the file; `$RENFANG_ISSUER`, else the catalogue's default."""


def issuer(labels: Labels | None = None) -> str:
    """Who issues the files: `$RENFANG_ISSUER` (a jurisdiction's centre), else the
    catalogue's default."""
    return os.environ.get("RENFANG_ISSUER") or (labels or default_labels()).issuer.zh


def escape_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix `'` to text cells a spreadsheet would treat as a formula (CSV/XLSX injection)."""
    text_columns = [c for c, t in frame.schema.items() if t == pl.Utf8]
    pattern = "^[" + "".join("\\" + p if p in "-+" else p for p in FORMULA_PREFIXES) + "]"
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(pattern))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text_columns
    )


def with_headers(frame: pl.DataFrame, headers: Mapping[str, str]) -> pl.DataFrame:
    """Rename canonical columns to user-facing headers (unknown columns keep their name)."""
    return frame.rename({c: headers[c] for c in frame.columns if c in headers})


def readable(
    frame: pl.DataFrame,
    codes: Mapping[str, str] | None = None,
    labels: Labels | None = None,
) -> pl.DataFrame:
    """A frame as people read it (a CSV to open in Excel): coded values and flags as
    Chinese words, Chinese headers from the catalogue."""
    labels = labels or default_labels()
    out = labels.labelled(_flatten(frame), "zh", codes)
    return out.rename(labels.headers(out.columns, "zh"))


def write_workbook(book: Workbook, path: Path, labels: Labels | None = None) -> Path:
    """Write the workbook, atomically; see the module docstring for the layout."""
    labels = labels or default_labels()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".xlsx", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        import xlsxwriter  # lazy: only exports need it

        options = {
            "strings_to_formulas": False,  # text is text: never a formula …
            "strings_to_numbers": False,  # … a number …
            "strings_to_urls": False,  # … or a link (and no 65,530-link limit)
            "constant_memory": True,  # rows are streamed: a national list stays small
        }
        with xlsxwriter.Workbook(str(tmp_path), options) as workbook:
            styles = _Styles(workbook)
            used: set[str] = set()
            for sheet in book.sheets:
                name = _sheet_name(sheet.name, used)
                _write_sheet(workbook.add_worksheet(name), sheet, book, labels, styles)
        tmp_path.chmod(0o644)  # NamedTemporaryFile is private (0600); a report is shared
        tmp_path.replace(path)
    finally:
        tmp_path.unlink(missing_ok=True)
    return path


def write_csv(frame: pl.DataFrame, path: Path, *, first_line: str | None = None) -> Path:
    """UTF-8 with BOM, so Excel shows the Chinese headers; written atomically. `first_line`
    (e.g. a draft's `草案 — 未公布`) goes above the header; without it the file starts with
    the header, as programs expect. The bytes are `csv_bytes`', streamed by polars into the
    file rather than built as one Python string first (a national penalty feed: ~1 s less)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.with_suffix(path.suffix + ".tmp")
    with tmp_path.open("wb") as out:
        out.write(codecs.BOM_UTF8)
        if first_line is not None:
            out.write(f"{first_line}\n".encode())
        escape_formulas(_flatten(frame)).write_csv(out)
    tmp_path.replace(path)
    return path


def csv_bytes(frame: pl.DataFrame, *, first_line: str | None = None) -> bytes:
    """What `write_csv` writes for `frame` (a caller can compare it with a file first)."""
    body = escape_formulas(_flatten(frame)).write_csv()
    head = "" if first_line is None else f"{first_line}\n"
    return (head + body).encode("utf-8-sig")


def write_csv_bytes(data: bytes, path: Path) -> Path:
    """`csv_bytes`' output to `path`, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.with_suffix(path.suffix + ".tmp")
    tmp_path.write_bytes(data)
    tmp_path.replace(path)
    return path


# --- layout ----------------------------------------------------------------------------------


class _Styles:
    """The workbook's cell formats, made once (xlsxwriter formats belong to a workbook)."""

    def __init__(self, workbook: Any) -> None:
        font = {"font_name": "等线", "font_size": 10.5}
        self.title = workbook.add_format({**font, "bold": True, "font_size": 14})
        self.subtitle = workbook.add_format({**font, "font_color": "#595959"})
        self.header = workbook.add_format(
            {**font, "bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
             "valign": "vcenter", "align": "center"}
        )  # fmt: skip
        self.cells: dict[tuple[str, bool, bool], Any] = {}
        self._workbook = workbook
        self._font = font

    def cell(self, kind: ColumnFormat, wrap: bool = False, fill: bool = False) -> Any:
        key = (kind, wrap, fill)
        if key not in self.cells:
            spec: dict[str, Any] = {**self._font, "border": 1, "valign": "top"}
            spec["num_format"] = NUMBER_FORMATS[kind]
            if wrap:
                spec["text_wrap"] = True
            if fill:
                spec["bg_color"] = FILL_COLOUR
            self.cells[key] = self._workbook.add_format(spec)
        return self.cells[key]


def _sheet_name(name: str, used: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "Sheet"
    candidate, n = clean, 2
    while candidate in used:
        suffix = f"({n})"
        candidate, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(candidate)
    return candidate


def _write_sheet(ws: Any, sheet: Sheet, book: Workbook, labels: Labels, styles: _Styles) -> None:
    frame = labels.labelled(_flatten(sheet.frame), "zh", sheet.codes)
    frame = escape_formulas(frame)
    columns = list(frame.columns)
    kinds = {c: _kind(c, frame.schema[c], labels) for c in columns}
    headers = [sheet.headers.get(c) or labels.column(c, "zh") for c in columns]
    numbered = sheet.numbered and not sheet.notes
    if numbered:
        headers = [SERIAL_NUMBER, *headers]
    widths = [_width(SERIAL_NUMBER, frame.height)] if numbered else []
    widths += [
        _column_width(frame, c, h, kinds[c], sheet.notes)
        for c, h in zip(columns, headers[int(numbered) :], strict=True)
    ]
    last = len(headers) - 1
    wrap = {c: sheet.notes or _needs_wrap(frame, c, kinds[c]) for c in columns}

    # the title, then the as-of date and the issuer, then the header
    parts = [f"数据截至：{book.as_of.isoformat()}"] if book.as_of else []
    parts.append(f"发布单位：{book.issuer or issuer(labels)}")
    for r, (text, style) in enumerate(
        ((sheet.title or book.title, styles.title), ("　".join(parts), styles.subtitle))
    ):
        if last > 0:
            ws.merge_range(r, 0, r, last, text, style)
        else:
            ws.write_string(r, 0, text, style)
    ws.set_row(0, 24)
    header_row = TITLE_ROWS
    ws.write_row(header_row, 0, headers, styles.header)
    for j, width in enumerate(widths):
        ws.set_column(j, j, width)

    formats = {c: styles.cell(kinds[c], wrap[c], c in sheet.to_fill) for c in columns}
    serial = styles.cell("count")
    # column by column when it can (the same XML: `warehouse.xlsx_rows`), else cell by cell
    if not write_rows(ws, frame, header_row + 1, serial if numbered else None,
                      [formats[c] for c in columns]):  # fmt: skip
        for i, row in enumerate(frame.iter_rows()):
            r = header_row + 1 + i
            if numbered:
                ws.write_number(r, 0, i + 1, serial)
            for j, (name, value) in enumerate(zip(columns, row, strict=True), start=int(numbered)):
                _write_cell(ws, r, j, value, formats[name])

    for name, rule in sheet.validations.items():
        j = columns.index(name) + int(numbered)
        ws.data_validation(header_row + 1, j, header_row + max(frame.height, 1), j, dict(rule))
    ws.freeze_panes(header_row + 1, 0)
    if not sheet.notes and frame.height:
        ws.autofilter(header_row, 0, header_row + frame.height, last)
    ws.set_paper(A4)
    if sum(widths) > WIDE_PAGE:
        ws.set_landscape()
    ws.repeat_rows(0, header_row)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.center_horizontally()


def _write_cell(ws: Any, r: int, c: int, value: object, fmt: Any) -> None:
    if value is None:
        ws.write_blank(r, c, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(r, c, "是" if value else "否", fmt)
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            ws.write_blank(r, c, None, fmt)
        else:
            ws.write_number(r, c, value, fmt)
    elif isinstance(value, datetime):
        ws.write_datetime(r, c, value, fmt)
    elif isinstance(value, date):
        ws.write_datetime(r, c, datetime(value.year, value.month, value.day), fmt)
    else:
        ws.write_string(r, c, str(value), fmt)


def _kind(name: str, dtype: pl.DataType, labels: Labels) -> ColumnFormat:
    """The cell format: the catalogue's for numbers and dates; text for text."""
    declared = labels.column_format(name)
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype.is_numeric():
        if declared in ("score", "points", "rate", "count", "number"):
            return declared
        return "count" if dtype.is_integer() else "number"
    return "text"


def _column_width(
    frame: pl.DataFrame, name: str, header: str, kind: ColumnFormat, notes: bool
) -> float:
    """Wide enough for the header and (nearly) every value, a CJK character counting two."""
    if kind in SAMPLE_TEXT:
        content = display_width(SAMPLE_TEXT[kind])
    elif kind == "date":
        content = 10
    elif kind == "datetime":
        content = 16
    else:
        content = _text_width(frame.get_column(name))
    limit = 80 if notes else MAX_WIDTH
    return float(min(max(display_width(header), content, MIN_WIDTH) + 2, limit))


def _width(header: str, rows: int) -> float:
    return float(max(display_width(header), len(f"{rows:,d}")) + 2)


def _text_width(values: pl.Series) -> int:
    """The 98th percentile display width of a text column (one odd long cell wraps instead
    of widening the whole column)."""
    text = values.cast(pl.Utf8).drop_nulls()
    if text.is_empty():
        return 0
    chars = text.str.len_chars()
    if text.str.contains(f"[^\\x00-\\x7f{WIDE_CHARS}]").any():
        wide = text.str.count_matches(f"[{WIDE_CHARS}]")
    else:  # ASCII (1 byte) and wide characters (3 bytes) only: the bytes count the wide ones
        wide = (text.str.len_bytes() - chars) // 2
    widths = chars + wide
    return int(widths.quantile(0.98, interpolation="higher") or 0)


def _needs_wrap(frame: pl.DataFrame, name: str, kind: ColumnFormat) -> bool:
    if kind != "text":
        return False
    text = frame.get_column(name).cast(pl.Utf8).drop_nulls()
    longest = text.str.len_chars().max()
    return isinstance(longest, int) and longest * 2 > MAX_WIDTH


def _flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists become `a、b` text: spreadsheets have no list cells."""
    return frame.with_columns(
        pl.col(c).cast(pl.List(pl.Utf8)).list.join("、")
        for c, t in frame.schema.items()
        if isinstance(t, pl.List)
    )
