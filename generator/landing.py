"""Write the synthetic population as a regulator-style landing folder (docs/contracts.md).

What belongs here: spelling clean values as the text of a file (dates, amounts, enums, lists,
valid-but-unusual USCCs), header spellings, and writing CSV (UTF-8, UTF-8 with BOM, GBK) and
XLSX bytes deterministically; `write_landing` ties generation, layout, defects and writing
together.

What does not: the simulation (`generator.population`), which files exist and their styles
(`generator.layout`), and the deliberate defects (`generator.defects`, which reuses `render`
to spell duplicated rows like their host file).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from generator import defects as _defects
from generator.layout import LARGE_FIRMS, AmountStyle, DateStyle, FileSpec, HeaderStyle, layout
from generator.population import generate
from models.contracts import SOURCE_ORDER, Column, Source, default_contracts

MANIFEST = "_defects.json"

_DATE_FORMATS: dict[str, str] = {
    "iso": "%Y-%m-%d",
    "slash": "%Y/%-m/%-d",
    "zh": "%Y年%-m月%-d日",
    "dot": "%Y.%-m.%-d",
    "excel": "%Y-%m-%d",  # XLSX: written as date cells; a few rows as bare serial numbers
}
_SERIAL_SHARE = 0.04
_USCC_VARIANT_SHARE = 0.015
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass
class LandingFile:
    """One file to write: its clean rows and their rendered cells (canonical column names,
    plus the bookkeeping columns of `generator.defects.MARKERS`)."""

    source: str
    spec: FileSpec
    typed: pl.DataFrame
    cells: pl.DataFrame

    @property
    def path(self) -> str:
        return f"{self.source}/{self.spec.name}"


# ---------------------------------------------------------------- rendering values

_SYNONYMS: dict[str, dict[str, str]] = {
    "procedure": {"普通": "普通程序", "简易": "简易程序"},
}


def _enum_spelling(enum: str, synonyms: bool) -> dict[str, str] | None:
    """Canonical value → how the file writes it; None keeps values as they are.

    Firm types are stored as codes but exported as Chinese (设计, or with `synonyms` the
    longer 设计单位); other enums are Chinese already (with `synonyms`: 普通程序, 简易程序).
    """
    contract = default_contracts()
    if enum == "firm_type":
        pick = 1 if synonyms else 0
        return {code: syn[pick] for code, syn in contract.enums["firm_type"].items()}
    return _SYNONYMS.get(enum) if synonyms else None


def _amount(column: str, style: AmountStyle, choice: pl.Series) -> pl.Expr:
    """15000 · 15,000元 · 1.5万元, or a per-row mix of the three."""
    a = pl.col(column).cast(pl.Int64)
    plain = a.cast(pl.Utf8)
    yuan = (
        pl.when(a.abs() >= 1000)
        .then(pl.format("{},{}元", a // 1000, (a % 1000).cast(pl.Utf8).str.zfill(3)))
        .otherwise(pl.format("{}元", a))
    )
    wan = (
        pl.when((a >= 10_000) & (a % 100 == 0))
        .then(pl.format("{}万元", (a / 10_000).cast(pl.Utf8).str.replace(r"\.0$", "")))
        .otherwise(yuan)
    )
    if style == "mixed":
        pick = pl.lit(choice)
        return pl.when(pick == 0).then(plain).when(pick == 1).then(yuan).otherwise(wan)
    return {"plain": plain, "yuan": yuan, "wan": wan}[style]


def _date(column: str, style: DateStyle, serial: pl.Series) -> pl.Expr:
    """Dates in the file's style; `excel` keeps ISO text (written as date cells) and turns
    a few rows into bare serial numbers."""
    text = pl.col(column).dt.strftime(_DATE_FORMATS[style])
    if style != "excel":
        return text
    days = (pl.col(column) - pl.date(1899, 12, 30)).dt.total_days().cast(pl.Utf8)
    return pl.when(pl.lit(serial)).then(days).otherwise(text)


def _cell(col: Column, spec: FileSpec, serial: pl.Series, choice: pl.Series) -> pl.Expr:
    """The expression spelling one canonical column as text in this file."""
    c = pl.col(col.name)
    if col.type == "date":
        expr = _date(col.name, spec.dates, serial)
    elif col.type == "amount":
        expr = _amount(col.name, spec.amounts, choice)
    elif col.type == "integer":
        expr = c.cast(pl.Utf8)
    elif col.type == "bool":
        expr = pl.when(c).then(pl.lit("是")).otherwise(pl.lit("否"))
    elif col.type in ("enum_list", "text_list"):
        spelling = _enum_spelling(col.enum, spec.synonyms) if col.enum else None
        items = c.list.eval(pl.element().replace(spelling)) if spelling else c
        expr = items.list.join(spec.list_sep)
    elif col.type == "enum":
        spelling = _enum_spelling(col.enum or "", spec.synonyms)
        expr = c.replace(spelling) if spelling else c
    else:
        expr = c
    return pl.when(c.is_not_null()).then(expr).alias(col.name)


def _uscc_variants(cells: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Lower-case or full-width a few USCCs: valid after normalisation, as real exports are."""
    u = rng.random(len(cells))
    lower = pl.lit(pl.Series(u < _USCC_VARIANT_SHARE / 2))
    wide = pl.lit(pl.Series((u >= _USCC_VARIANT_SHARE / 2) & (u < _USCC_VARIANT_SHARE)))
    uscc = pl.col("uscc")
    return cells.with_columns(
        uscc=pl.when(lower)
        .then(uscc.str.to_lowercase())
        .when(wide)
        .then(uscc.str.replace_many(list("0123456789"), list("０１２３４５６７８９")))
        .otherwise(uscc)
    )


def render(
    typed: pl.DataFrame, source: str, spec: FileSpec, rng: np.random.Generator
) -> pl.DataFrame:
    """Spell clean rows as the text cells of `spec` (canonical column names, all Utf8)."""
    contract = default_contracts().source(source)
    n = len(typed)
    serial = pl.Series(rng.random(n) < _SERIAL_SHARE)
    choice = pl.Series(rng.integers(0, 3, n))
    cells = typed.select(
        _cell(col, spec, serial, choice) for col in contract.columns if col.name in typed.columns
    )
    if "uscc" in cells.columns:
        cells = _uscc_variants(cells, rng)
    return cells


def _header(col: Column, style: HeaderStyle) -> str:
    """`zh`: first Chinese alias; `en`: canonical name; `variant`: another alias (or the
    first with half-width brackets, 罚款金额(元)) and a star on required columns — all map to
    the same column after `header_key`."""
    if style == "en" or not col.aliases:
        return col.name
    first = col.aliases[0]
    if style == "zh":
        return first
    if "（" in first or len(col.aliases) == 1:
        name = first.replace("（", "(").replace("）", ")")
    else:
        name = col.aliases[1]
    return f"{name}*" if col.required else name


def _files(frames: dict[str, pl.DataFrame], large: bool, seed: int) -> list[LandingFile]:
    """Lay out and render every source; one seeded stream keeps the spelling reproducible."""
    rng = np.random.default_rng([seed, 1])
    files = []
    for source in SOURCE_ORDER:
        for spec, typed in layout(source, frames[source], large):
            cells = _defects.mark(render(typed, source, spec, rng))
            files.append(LandingFile(source, spec, typed, cells))
    return files


# ---------------------------------------------------------------- writing


def _remark(cells: pl.DataFrame) -> pl.Series:
    """Free-text remarks in an unknown column: mostly empty, as in real ledgers."""
    notes = ["", "", "", "", "已送达", "当场整改", "已缴纳罚款", "见附件"]
    return pl.Series(notes).gather(pl.Series((cells["_rid"] % len(notes)).abs()))


def _output_frame(file: LandingFile, contract: Source) -> pl.DataFrame:
    """Cells in contract order with the file's headers (and its unknown column, if any)."""
    cells = file.cells
    frame = cells.select(
        pl.col(c.name).alias(_header(c, file.spec.headers))
        for c in contract.columns
        if c.name in cells.columns
    )
    if file.spec.remark:
        frame = frame.with_columns(_remark(cells).alias(file.spec.remark))
    return frame


def _write_csv(path: Path, frame: pl.DataFrame, spec: FileSpec) -> None:
    """Title line padded with commas (as Excel saves it), header, rows; UTF-8 streams
    straight from polars, GBK is encoded in memory (small files only)."""
    windows = spec.fmt in ("csv_bom", "csv_gbk")  # exported from Excel on Windows: CRLF
    terminator = "\r\n" if windows else "\n"
    encoding = "gbk" if spec.fmt == "csv_gbk" else "utf-8"
    head = "\ufeff" if spec.fmt == "csv_bom" else ""
    if spec.title:
        head += spec.title + "," * (frame.width - 1) + terminator
    with path.open("wb") as out:
        out.write(head.encode(encoding))
        if encoding == "utf-8":
            frame.write_csv(out, line_terminator=terminator)
        else:
            out.write(frame.write_csv(line_terminator=terminator).encode(encoding))


def _write_cell(
    sheet: Worksheet, row: int, col: int, value: str | None, kind: str, date_fmt: Format
) -> None:
    """Dates as real date cells (bare serials as numbers), numbers as numbers, else text —
    defective values (2023-02-30, -5,000元) stay text, as a hand-edited sheet would have."""
    if value is None:
        return
    if kind == "date" and _ISO_DATE.match(value):
        try:
            sheet.write_datetime(row, col, dt.datetime.fromisoformat(value), date_fmt)
            return
        except ValueError:
            pass
    if kind in ("date", "amount", "integer") and _NUMBER.match(value):
        sheet.write_number(row, col, float(value))
        return
    sheet.write_string(row, col, value)


def _write_xlsx(
    path: Path, frame: pl.DataFrame, kinds: Sequence[str], spec: FileSpec, when: dt.datetime
) -> None:
    """One worksheet; `when` is the fixed creation time that keeps the bytes reproducible."""
    workbook = xlsxwriter.Workbook(str(path))
    workbook.set_properties({"created": when, "author": "renfang generator"})
    bold = workbook.add_format({"bold": True})
    date_fmt = workbook.add_format({"num_format": "yyyy-mm-dd"})
    sheet = workbook.add_worksheet("Sheet1")
    top = 0
    if spec.title:
        title_fmt = workbook.add_format({"bold": True, "align": "center", "font_size": 14})
        if spec.merged_title:
            sheet.merge_range(0, 0, 0, frame.width - 1, spec.title, title_fmt)
        else:
            sheet.write_string(0, 0, spec.title, title_fmt)
        top = 1
    for c, name in enumerate(frame.columns):
        sheet.write_string(top, c, name, bold)
        sheet.set_column(c, c, 16)
    for r, row in enumerate(frame.iter_rows(), start=top + 1):
        for c, value in enumerate(row):
            _write_cell(sheet, r, c, value, kinds[c], date_fmt)
    workbook.close()


def _write(out: Path, file: LandingFile, when: dt.datetime) -> None:
    """Write one file in its format under `out`."""
    contract = default_contracts().source(file.source)
    frame = _output_frame(file, contract)
    path = out / file.path
    if file.spec.fmt == "xlsx":
        kinds = [c.type for c in contract.columns if c.name in file.cells.columns] + (
            ["text"] if file.spec.remark else []
        )
        _write_xlsx(path, frame, kinds, file.spec, when)
    else:
        _write_csv(path, frame, file.spec)


def _clear(out: Path) -> None:
    """Remove files a previous run wrote here, so no stale file is ingested."""
    for source in SOURCE_ORDER:
        folder = out / source
        folder.mkdir(parents=True, exist_ok=True)
        for old in sorted(folder.iterdir()):
            if old.suffix in (".csv", ".xlsx"):
                old.unlink()
    (out / MANIFEST).unlink(missing_ok=True)


def write_landing(
    out: Path,
    *,
    seed: int = 20251231,
    firms: int = 400,
    years: int = 5,
    start_year: int = 2021,
    intensity: float = 1.0,
    defects: bool = True,
) -> dict[str, int]:
    """Generate a population and write it under `out/<source>/`; return data rows per source.

    With `defects`, a few dozen realistic defects are injected and listed in
    `out/_defects.json` (source, file, 1-based physical row, column, kind). The same
    arguments always produce byte-identical files.
    """
    frames = generate(seed, firms=firms, years=years, start_year=start_year, intensity=intensity)
    files = _files(frames, large=firms >= LARGE_FIRMS, seed=seed)
    if defects:
        files = _defects.inject(files, np.random.default_rng([seed, 2]), frames, render)
    out = Path(out)
    _clear(out)
    when = dt.datetime(start_year + years - 1, 12, 31, 18, 0, 0)
    for file in files:
        _write(out, file, when)
    if defects:
        manifest = _defects.manifest(files)
        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        (out / MANIFEST).write_text(text, encoding="utf-8")
    rows = dict.fromkeys(SOURCE_ORDER, 0)
    for file in files:
        rows[file.source] += len(file.cells)
    return rows
