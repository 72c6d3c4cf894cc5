"""Reading regulators' landing files as they come: CSV in any common encoding, or XLSX.

What belongs here: finding the files of a source folder, detecting encodings (UTF-8, UTF-8
with BOM, UTF-16 with BOM, GBK/GB18030), recognising the header row below any title rows,
mapping Chinese or English headers to canonical columns (via the contract), and producing
raw text rows with their spreadsheet row numbers and the row as received (JSON). Problems
found while reading are attached to rows (`read_problem`), never raised: one broken file must
not stop the others.

Also where the landing folder is and which day it is processed on (`LandingLocation`,
shared by the Dagster resource and the CLI).

What does not: typing or judging values (models.row_checks), the tables (other modules).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TypedDict

import polars as pl

from models.contracts import Contracts, Source, header_key
from models.row_checks import column_label
from warehouse.connection import DEFAULT_LANDING, processing_date, resolve_path

# The csv module refuses fields above 128 KiB by raising, which would stop the whole file;
# an oversized cell must instead reach the contract's `max_length` check and quarantine its
# row (value_too_long). 2**31 - 1 is the largest limit every platform's C long accepts.
csv.field_size_limit(2**31 - 1)

AMOUNT_UNIT = re.compile(r"\((万元|元)\)$")
"""A unit at the end of a header (after `header_key`'s NFKC folding: （万元） → (万元))."""

HEADER_SEARCH_ROWS = 20
"""Title rows (e.g. `2024年度行政处罚决定汇总表`) sit above the header; look this far down."""

CSV_SUFFIXES = (".csv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")


class LandingLocation:
    """Mixin: the landing folder and processing date described by the attributes `path` and
    `today` (each None = environment/default, read at each use)."""

    path: str | None
    today: str | None

    @property
    def folder(self) -> Path:
        """`path`, else `$RENFANG_LANDING`, else the bundled sample `data/sample/landing`."""
        return resolve_path(self.path, "RENFANG_LANDING", DEFAULT_LANDING)

    @property
    def processing_date(self) -> date:
        return processing_date(self.today)

    def clock(self) -> datetime:
        """Now, on the processing date's clock: a run dated 2025-12-31 sees files that day.

        File first-seen times default `collected_on`; taking them from the same clock keeps
        "collected after the processing date" impossible by construction.
        """
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        fixed = self.today or os.environ.get("RENFANG_TODAY")
        return datetime.combine(self.processing_date, time()) if fixed else now


@dataclass(frozen=True)
class LandingFolder(LandingLocation):
    """A landing folder outside Dagster (CLI checks, backtests, tests)."""

    path: str | None = None
    today: str | None = None


@dataclass(frozen=True)
class ScannedFile:
    """One landing file: what it is, how it was read, and its raw rows."""

    source: str
    file: str
    sha256: str
    size_bytes: int
    format: str
    encoding: str | None
    header_row: int | None
    status: str  # ok | rejected | unreadable | empty
    problem: str | None
    detail: str | None
    rows: pl.DataFrame = field(repr=False)
    layout: str | None = None  # the declared layout its header matched (`Source.layout_of`)


class _FileMeta(TypedDict):
    """What every `ScannedFile` says of its file, however it was read."""

    source: str
    file: str
    sha256: str
    size_bytes: int


class UnreadableFileError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def source_files(landing: Path, source: str) -> list[Path]:
    """Every data file under `<landing>/<source>/`, sorted; lock and hidden files skipped."""
    folder = landing / source
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "~$"))
    )


def scan_file(
    path: Path, landing: Path, source: Source, contracts: Contracts, data: bytes | None = None
) -> ScannedFile:
    """Read one file into raw rows; every failure becomes a status, never an exception.
    `data` is the file's content when the caller has read it already (to hash it)."""
    data = path.read_bytes() if data is None else data
    rel = path.relative_to(landing).as_posix()
    meta: _FileMeta = {
        "source": source.name,
        "file": rel,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size_bytes": len(data),
    }
    fmt = _format(path)
    try:
        if fmt == "csv":
            text, encoding = decode_text(data)
            grid: Sequence[Sequence[str | None]] | None = None
            if not text.strip():
                return _empty(meta, fmt, encoding)
        elif fmt == "xlsx":
            encoding = None
            text = ""
            grid = _xlsx_rows(data)
            if not any(any(c is not None for c in row) for row in grid):
                return _empty(meta, fmt, encoding)
        else:
            raise UnreadableFileError("unsupported_format", f"扩展名 {path.suffix or '（无）'}")
    except UnreadableFileError as exc:
        return _unreadable(meta, fmt, exc)

    head = grid[:HEADER_SEARCH_ROWS] if grid is not None else _csv_head(text)
    lookup = contracts.header_lookup(source.name)
    header_index = find_header(head, lookup)
    if header_index is None:
        rows = _positional_rows(grid if grid is not None else list(csv.reader(io.StringIO(text))))
        rows = rows.with_columns(
            read_problem=pl.lit("no_header"),
            read_detail=pl.lit(f"前{HEADER_SEARCH_ROWS}行中没有可识别的列名"),
        )
        return ScannedFile(
            **meta,
            format=fmt,
            encoding=encoding,
            header_row=None,
            status="rejected",
            problem="no_header",
            detail="no recognisable header row",
            rows=rows,
        )

    header, body, ragged = (
        _grid_body(grid, header_index) if grid is not None else _csv_body(text, header_index)
    )
    layout = source.layout_of(header).name
    rows = _map_rows(header, body, header_index, lookup, source)
    if ragged:
        rows = rows.with_columns(
            read_problem=pl.when(pl.col("source_row").is_in(list(ragged)))
            .then(pl.lit("ragged_row"))
            .otherwise(None),
            read_detail=pl.when(pl.col("source_row").is_in(list(ragged)))
            .then(pl.lit(f"表头共{len(header)}列"))
            .otherwise(None),
        )
    missing = [c for c in source.required_columns if c not in rows.columns]
    if missing:
        labels = "、".join(column_label(source, c) for c in missing)
        rows = rows.with_columns(
            read_problem=pl.lit("missing_column"), read_detail=pl.lit(f"缺少 {labels}")
        )
        return ScannedFile(
            **meta,
            format=fmt,
            encoding=encoding,
            header_row=header_index + 1,
            status="rejected",
            problem="missing_column",
            detail=f"missing required column(s): {', '.join(missing)}",
            rows=rows,
            layout=layout,
        )
    return ScannedFile(
        **meta,
        format=fmt,
        encoding=encoding,
        header_row=header_index + 1,
        status="ok",
        problem=None,
        detail=None,
        rows=rows,
        layout=layout,
    )


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: BOMs first, then strict UTF-8, then GBK and its superset GB18030.

    Strict decoding matters: GBK bytes are rarely valid UTF-8, so the first strict success
    is the right one; lenient decoding would silently turn names into mojibake.
    """
    boms = (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    )
    for bom, encoding in boms:
        if data.startswith(bom):
            try:
                return _check_text(data.decode(encoding)), encoding
            except UnicodeDecodeError as exc:
                raise UnreadableFileError("unreadable_file", f"{encoding} 解码失败：{exc}") from exc
    if b"\x00" in data[:65536]:
        raise UnreadableFileError("unreadable_file", "含有二进制内容（NUL 字节），不是文本文件")
    for encoding in ("utf-8", "gbk", "gb18030"):
        try:
            return _check_text(data.decode(encoding)), encoding
        except UnicodeDecodeError:
            continue
    raise UnreadableFileError("unreadable_file", "编码无法识别（已尝试 UTF-8、GBK、GB18030）")


def _check_text(text: str) -> str:
    """Reject decodable-but-binary content: too many control characters for a CSV."""
    sample = text[:65536]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    if sample and controls / len(sample) > 0.01:
        raise UnreadableFileError("unreadable_file", "含有大量控制字符，不是文本表格")
    return text


def find_header(rows: Sequence[Sequence[str | None]], lookup: dict[str, str]) -> int | None:
    """Index of the header row: the first with ≥ 2 recognised column names, or whose every
    non-empty cell is recognised (a one-column file)."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = [header_key(c) for c in row if c is not None and str(c).strip()]
        known = sum(1 for c in cells if c in lookup)
        if known >= 2 or (known >= 1 and known == len(cells)):
            return index
    return None


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in XLSX_SUFFIXES:
        return "xlsx"
    return "other"


def _csv_head(text: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text))
    head: list[list[str]] = []
    for row in reader:
        head.append(row)
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    return head


def _csv_body(text: str, header_index: int) -> tuple[list[str | None], pl.DataFrame, set[int]]:
    """Header cells and body columns (column_1..n, text) of a CSV, read by polars for speed.

    A row with more cells than the header makes polars refuse the file; then the csv module
    reads it and such rows are reported as `ragged_row` instead of being truncated silently.
    """
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            has_header=False,
            skip_rows=header_index,
            infer_schema=False,
            raise_if_empty=False,
        )
    except pl.exceptions.ComputeError:
        return _python_csv_body(text, header_index)
    if frame.is_empty():
        return [], frame, set()
    frame.columns = [f"column_{j + 1}" for j in range(frame.width)]
    header = list(frame.row(0))
    return header, frame.slice(1), set()


def _python_csv_body(
    text: str, header_index: int
) -> tuple[list[str | None], pl.DataFrame, set[int]]:
    rows = list(csv.reader(io.StringIO(text)))[header_index:]
    header: list[str | None] = list(rows[0])
    width = len(header)
    ragged = {header_index + 2 + i for i, row in enumerate(rows[1:]) if len(row) > width}
    body = [(list(r) + [None] * width)[:width] for r in rows[1:]]
    return header, _frame_from_rows(body, width), ragged


def _grid_body(
    grid: Sequence[Sequence[str | None]], header_index: int
) -> tuple[list[str | None], pl.DataFrame, set[int]]:
    # the reader pads every row to the sheet's widest row: the header ends at its last named cell
    cells = list(grid[header_index])
    width = max((j + 1 for j, c in enumerate(cells) if c is not None), default=0)
    header = cells[:width]
    body_rows = grid[header_index + 1 :]
    ragged = {
        header_index + 2 + i
        for i, row in enumerate(body_rows)
        if any(c is not None for c in row[width:])
    }
    body = [(list(r) + [None] * width)[:width] for r in body_rows]
    return header, _frame_from_rows(body, width), ragged


def _frame_from_rows(rows: list[list[str | None]], width: int) -> pl.DataFrame:
    columns = [f"column_{j + 1}" for j in range(width)]
    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.Utf8), orient="row")


def _map_rows(
    header: Sequence[str | None],
    body: pl.DataFrame,
    header_index: int,
    lookup: dict[str, str],
    source: Source,
) -> pl.DataFrame:
    """Body columns → canonical names (first match wins; the rest stay in `raw_row` only).

    A header naming a unit (`罚款金额（万元）`) is matched with or without it, and a bare
    number under a 万元 header is written with its unit (`1.5` → `1.5万元`), so the amount
    parser converts it to yuan; the row as received keeps the cell as it was."""
    names: list[str] = []
    canonical: dict[str, str] = {}
    in_wan: set[str] = set()
    for j, cell in enumerate(header):
        label = str(cell).strip() if cell is not None and str(cell).strip() else f"列{j + 1}"
        while label in names:
            label = f"{label}#2"
        names.append(label)
        unit = AMOUNT_UNIT.search(header_key(label))
        target = lookup.get(header_key(label))
        if target is None and unit:
            target = lookup.get(AMOUNT_UNIT.sub("", header_key(label)))
        if target and target not in canonical.values():
            canonical[f"column_{j + 1}"] = target
            if unit and unit.group(1) == "万元" and source.column(target).type == "amount":
                in_wan.add(f"column_{j + 1}")
    body = body.select(pl.all().cast(pl.Utf8))
    bare = r"^\s*[-+]?[0-9][0-9,]*(\.[0-9]+)?\s*$"

    def value_of(column: str) -> pl.Expr:
        if column not in in_wan:
            return pl.col(column)
        return (
            pl.when(pl.col(column).str.contains(bare))
            .then(pl.col(column) + "万元")
            .otherwise(pl.col(column))
        )

    raw_json = (
        pl.struct(
            [pl.col(f"column_{j + 1}").alias(n) for j, n in enumerate(names)]
        ).struct.json_encode()
        if names
        else pl.lit("{}")
    )
    first_row = header_index + 2
    return body.select(
        source_row=pl.int_range(first_row, first_row + pl.len(), dtype=pl.Int64),
        read_problem=pl.lit(None, dtype=pl.Utf8),
        read_detail=pl.lit(None, dtype=pl.Utf8),
        raw_row=raw_json,
        **{target: value_of(col) for col, target in canonical.items()},
    ).filter(
        # rows with no value at all (trailing blank lines, formatting-only Excel rows)
        pl.any_horizontal(pl.col(list(canonical.values())).is_not_null())
        if canonical
        else pl.lit(value=True)
    )


def _positional_rows(rows: Sequence[Sequence[str | None]]) -> pl.DataFrame:
    width = max((len(r) for r in rows), default=0)
    body = [(list(r) + [None] * width)[:width] for r in rows]
    frame = _frame_from_rows(body, width)
    names = [f"列{j + 1}" for j in range(width)]
    return frame.select(
        source_row=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        raw_row=pl.struct(
            [pl.col(f"column_{j + 1}").alias(n) for j, n in enumerate(names)]
        ).struct.json_encode()
        if names
        else pl.lit("{}"),
    ).filter(pl.col("raw_row") != "{}")


def _xlsx_rows(data: bytes) -> list[list[str | None]]:
    """The first worksheet as text cells. Dates become ISO text; whole floats lose `.0`.

    Read with calamine (Rust): openpyxl needs ~90 µs a row, which made XLSX exports the
    slowest part of ingesting a national year (10M rows) by an order of magnitude.
    """
    from python_calamine import CalamineError, CalamineWorkbook  # lazy: only for .xlsx

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError, IndexError) as exc:
        raise UnreadableFileError("unreadable_file", f"不是有效的 XLSX 文件：{exc}") from exc
    return [[_cell_text(v) for v in row] for row in rows]


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if text.strip() else None


def _empty(meta: _FileMeta, fmt: str, encoding: str | None) -> ScannedFile:
    return ScannedFile(
        **meta,
        format=fmt,
        encoding=encoding,
        header_row=None,
        status="empty",
        problem=None,
        detail="file has no rows",
        rows=pl.DataFrame(),
    )


def _unreadable(meta: _FileMeta, fmt: str, exc: UnreadableFileError) -> ScannedFile:
    rows = pl.DataFrame(
        {
            "source_row": [None],
            "read_problem": [exc.code],
            "read_detail": [exc.detail],
            "raw_row": [json.dumps({"file": meta["file"]}, ensure_ascii=False)],
        },
        schema={
            "source_row": pl.Int64,
            "read_problem": pl.Utf8,
            "read_detail": pl.Utf8,
            "raw_row": pl.Utf8,
        },
    )
    return ScannedFile(
        **meta,
        format=fmt,
        encoding=None,
        header_row=None,
        status="unreadable",
        problem=exc.code,
        detail=exc.detail,
        rows=rows,
    )
