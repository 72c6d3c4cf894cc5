"""Files people open: XLSX and CSV with Chinese headers, safe from formula injection.

What belongs here: writing a frame to an XLSX sheet (frozen header row, sensible widths) and
to a CSV that Excel opens correctly (UTF-8 with BOM), with every text cell that a spreadsheet
would execute (starting with = + - @, or a tab/CR) escaped by a leading apostrophe, and
every string written as a string (never turned into a hyperlink, formula or number).
What does not: deciding the content (models) or where reports live (resources).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

import polars as pl

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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


def write_xlsx(sheets: Mapping[str, pl.DataFrame], path: Path) -> Path:
    """Write one sheet per frame, atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".xlsx", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        import xlsxwriter  # lazy: only exports need it

        # strings stay strings: no live hyperlinks from URL-like text, no formulas, no numbers
        options = {"strings_to_urls": False, "strings_to_formulas": False,
                   "strings_to_numbers": False}  # fmt: skip
        with xlsxwriter.Workbook(str(tmp_path), options) as book:
            for name, frame in sheets.items():
                safe = escape_formulas(_flatten(frame))
                safe.write_excel(
                    workbook=book,
                    worksheet=name[:31],
                    autofit=True,
                    freeze_panes=(1, 0),
                    header_format={"bold": True, "bg_color": "#DDEBF7"},
                )
        tmp_path.chmod(0o644)  # NamedTemporaryFile is private (0600); a report is shared
        tmp_path.replace(path)
    finally:
        tmp_path.unlink(missing_ok=True)
    return path


def write_csv(frame: pl.DataFrame, path: Path) -> Path:
    """UTF-8 with BOM, so Excel shows the Chinese headers; written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.with_suffix(path.suffix + ".tmp")
    escape_formulas(_flatten(frame)).write_csv(tmp_path, include_bom=True)
    tmp_path.replace(path)
    return path


def _flatten(frame: pl.DataFrame) -> pl.DataFrame:
    """Lists become `a、b` text: spreadsheets have no list cells."""
    return frame.with_columns(
        pl.col(c).list.join("、") for c, t in frame.schema.items() if isinstance(t, pl.List)
    )
