"""Reading regulators' landing files as they come: CSV in any common encoding, or XLSX.

What belongs here: finding the files of a source folder, detecting encodings (UTF-8, UTF-8
with BOM, UTF-16 with BOM, GBK/GB18030), recognising the header row below any title rows,
mapping Chinese or English headers to canonical columns (via the contract), and producing
raw text rows with their spreadsheet row numbers and the row as received (JSON). Problems
found while reading a row are attached to it (`read_problem`); a file refused whole
(unsupported, unreadable, above the size limit, no header, a required column missing) keeps
no rows and carries its reason in the scan. Nothing is raised: one broken file must not
stop the others.

Bounded memory: the size limit (`max_file_bytes`, `$RENFANG_MAX_FILE_MB`, default 200) is
checked before a file is opened; a CSV's header is looked for in its first 4 MiB, and the
file is read whole only once a header with every required column was found; an XLSX may
not unpack to more than 8 × the limit. A rejected file's hash is computed in chunks.

Workbooks as offices make them: the data is read from the first worksheet with a recognised
header (a first sheet of notes, 填表说明, is passed over), and a cell merged over several data
rows (a firm type or district typed once for a block of firms) is filled down into every row
it covers. Both are said in the file's `detail` (ingestion log), which names the sheet read.

Also where the landing folder is and which day it is processed on (`LandingLocation`,
shared by the Dagster resource and the CLI).

What does not: typing or judging values (models.row_checks), the tables (other modules).
"""

from __future__ import annotations

import codecs
import csv
import gc
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TypedDict, cast

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

CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""C0 control characters other than tab and line breaks: many of them mean binary content."""

HEADER_SEARCH_ROWS = 20
"""Title rows (e.g. `2024年度行政处罚决定汇总表`) sit above the header; look this far down."""

HEADER_PROBE_BYTES = 4 * 2**20
"""How much of a CSV is decoded to find its header: a file whose first 4 MiB hold no header
is rejected without reading the rest."""

MAX_FILE_MB_ENV = "RENFANG_MAX_FILE_MB"
MAX_FILE_MB_DEFAULT = 200
"""Per-file size limit (MiB) unless `$RENFANG_MAX_FILE_MB` says otherwise (`max_file_bytes`)."""

XLSX_UNPACKED_FACTOR = 8
"""An XLSX may unpack to at most this many times the size limit (a zip bomb is refused)."""

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
    detail: str | None  # "中文 / English": the problem, or notes on how the file was read
    rows: pl.DataFrame = field(repr=False)
    sheet: str | None = None  # the worksheet read (XLSX)
    layout: str | None = None  # the declared layout its header matched (`Source.layout_of`)


class _FileMeta(TypedDict):
    """What every `ScannedFile` says of its file, however it was read."""

    source: str
    file: str
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class SheetGrid:
    """The worksheet of a workbook that holds the data, as text cells from cell A1."""

    name: str
    position: int  # 1-based, in workbook order
    grid: list[list[str | None]]
    merged: list[tuple[tuple[int, int], tuple[int, int]]]  # 0-based (row, column) corners
    skipped: tuple[str, ...] = ()  # sheets before it without a recognised header


def bilingual(zh: str, en: str) -> str:
    """A note for the ingestion log: Chinese first, then English (`zh / en`)."""
    return f"{zh} / {en}"


class UnreadableFileError(Exception):
    """`detail` (Chinese) goes into each rejected row's reason; the ingestion log gets
    `detail` and `detail_en`."""

    def __init__(self, code: str, detail: str, detail_en: str | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.detail_en = detail_en


def source_files(landing: Path, source: str) -> list[Path]:
    """Every data file under `<landing>/<source>/`, sorted; lock and hidden files skipped."""
    folder = landing / source
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "~$"))
    )


def max_file_bytes() -> int:
    """The per-file size limit in bytes: `$RENFANG_MAX_FILE_MB` megabytes (MiB), default
    200 — the one place it is set. A file above it is rejected before a byte of it is parsed
    (`file_too_large`); raise it for a province's yearly export, never remove it."""
    raw = os.environ.get(MAX_FILE_MB_ENV, "").strip()
    if not raw:
        return MAX_FILE_MB_DEFAULT * 2**20
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = -1.0
    if not 0 < megabytes < 2**20:
        raise ValueError(
            f"{MAX_FILE_MB_ENV}={raw!r} 不是有效的兆字节数（正数，如 200）\n"
            f"{MAX_FILE_MB_ENV}={raw!r} is not a size in megabytes (a positive number, e.g. 200)"
        )
    return int(megabytes * 2**20)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a file becomes rows: a workbook
    becomes millions of cell objects (lists and strings, no cycles), and every collection
    their allocation triggers would walk every object of the process — in a Dagster run,
    a great many."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def scan_file(
    path: Path, landing: Path, source: Source, contracts: Contracts, max_bytes: int | None = None
) -> ScannedFile:
    """Read one file into raw rows; every failure becomes a status, never an exception
    (`_scan_file`), with the garbage collector paused (`_gc_paused`)."""
    with _gc_paused():
        return _scan_file(path, landing, source, contracts, max_bytes)


def _scan_file(
    path: Path, landing: Path, source: Source, contracts: Contracts, max_bytes: int | None = None
) -> ScannedFile:
    """Read one file into raw rows; every failure becomes a status, never an exception.

    Bounded: a file above `max_bytes` (default `max_file_bytes()`) is rejected unread; a CSV
    is decoded and searched for its header in its first `HEADER_PROBE_BYTES` only, and read
    whole only once a header with every required column was found. A rejected or unreadable
    file keeps no rows (`rows` is empty): the scan records it with its reason, and the clean
    step turns that record into one whole-file quarantine entry. A workbook is read from its
    first sheet with a recognised header, merged data cells filled down (`detail` says so).
    """
    limit = max_file_bytes() if max_bytes is None else max_bytes
    rel = path.relative_to(landing).as_posix()
    size = path.stat().st_size
    fmt = _format(path)
    lookup = contracts.header_lookup(source.name)

    def meta(data: bytes | None = None) -> _FileMeta:
        digest = hashlib.sha256(data).hexdigest() if data is not None else _sha256_of(path)
        return {"source": source.name, "file": rel, "sha256": digest, "size_bytes": size}

    if fmt == "other":
        error = UnreadableFileError(
            "unsupported_format",
            f"扩展名 {path.suffix or '（无）'}",
            f"extension {path.suffix or '(none)'}",
        )
        return _unreadable(meta(), fmt, error)
    if size > limit:
        detail = bilingual(
            f"文件 {size / 2**20:.1f} MB，超过上限 {limit / 2**20:g} MB（{MAX_FILE_MB_ENV}）",
            f"file is {size / 2**20:.1f} MB, above the {limit / 2**20:g} MB limit "
            f"({MAX_FILE_MB_ENV})",
        )
        return _rejected(meta(), fmt, None, None, "file_too_large", detail)

    sheet: SheetGrid | None = None
    if fmt == "csv":
        with path.open("rb") as stream:
            head = stream.read(HEADER_PROBE_BYTES + 1)
        whole = len(head) <= HEADER_PROBE_BYTES
        data: bytes | None = head if whole else None
        try:
            text, encoding = decode_text(head) if whole else _decode_head(head)
        except UnreadableFileError as exc:
            return _unreadable(meta(data), fmt, exc)
        if whole and not text.strip():
            return _empty(meta(data), fmt, encoding)
        top: Sequence[Sequence[str | None]] = _csv_head(text if whole else _whole_lines(text))
        grid: Sequence[Sequence[str | None]] | None = None
    else:  # xlsx: compressed, so read whole (bounded by the size and the unpacked-size limit)
        data = path.read_bytes()
        encoding = None
        try:
            sheet = _xlsx_sheet(data, lookup, limit * XLSX_UNPACKED_FACTOR)
        except UnreadableFileError as exc:
            return _unreadable(meta(data), fmt, exc)
        grid = sheet.grid
        if not any(any(c is not None for c in row) for row in grid):
            return _empty(meta(data), fmt, encoding, sheet.name)
        top = grid[:HEADER_SEARCH_ROWS]

    header_index = find_header(top, lookup)
    notes: list[tuple[str, str]] = []
    if sheet is not None:
        notes.append(_sheet_note(sheet))
        if header_index is not None:
            grid, filled = fill_merged_down(sheet.grid, sheet.merged, header_index)
            if filled:
                notes.append(_merged_note(filled, sheet.grid[header_index]))
    sheet_name = sheet.name if sheet else None
    if header_index is None:
        why = _detail(
            (f"前{HEADER_SEARCH_ROWS}行中没有可识别的列名",
             f"no recognisable header row in the first {HEADER_SEARCH_ROWS} rows"),
            *notes,
        )  # fmt: skip
        return _rejected(meta(data), fmt, encoding, None, "no_header", why, sheet_name)
    missing = _missing_columns(top[header_index], lookup, source)
    if missing:
        labels = "、".join(column_label(source, c) for c in missing)
        why = _detail(
            (f"缺少必填列：{labels}", f"missing required column(s): {', '.join(missing)}"),
            *notes,
        )
        return _rejected(
            meta(data), fmt, encoding, header_index + 1, "missing_column", why, sheet_name
        )

    if grid is None:  # a CSV with its header found: now (and only now) read it whole
        if data is None:
            data = path.read_bytes()
            try:
                text, encoding = decode_text(data)
            except UnreadableFileError as exc:
                return _unreadable(meta(data), fmt, exc)
        header, body, ragged = _csv_body(text, header_index, _utf8_of(data, encoding))
    else:
        header, body, ragged = _grid_body(grid, header_index)
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
    return ScannedFile(
        **meta(data),
        format=fmt,
        encoding=encoding,
        header_row=header_index + 1,
        status="ok",
        problem=None,
        detail=_detail(*notes),
        rows=rows,
        sheet=sheet_name,
        layout=layout,
    )


def _sha256_of(path: Path) -> str:
    """The file's SHA-256, read in chunks (a rejected file is never held in memory)."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _column_target(label: str, lookup: dict[str, str]) -> str | None:
    """The canonical column a header cell names: as written, or without a unit at its end
    (`罚款金额（万元）` names the fine, like `罚款金额`)."""
    key = header_key(label)
    target = lookup.get(key)
    if target is None and AMOUNT_UNIT.search(key):
        target = lookup.get(AMOUNT_UNIT.sub("", key))
    return target


def _missing_columns(
    header: Sequence[str | None], lookup: dict[str, str], source: Source
) -> list[str]:
    """Required columns the header row does not name (aliases resolved as `_map_rows` does)."""
    named = {_column_target(str(c).strip(), lookup) for c in header if c is not None}
    return [c for c in source.required_columns if c not in named]


def _decode_head(head: bytes) -> tuple[str, str]:
    """The first bytes of a large CSV decoded as `decode_text` would the whole file, except
    that a character cut at the end is left out instead of failing the decode."""
    boms = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
            (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip
    candidates = [enc for bom, enc in boms if head.startswith(bom)][:1]
    if not candidates:
        if b"\x00" in head[:65536]:
            raise UnreadableFileError("unreadable_file", "含有二进制内容（NUL 字节），不是文本文件")
        candidates = ["utf-8", "gbk", "gb18030"]
    for encoding in candidates:
        try:
            decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
            return _check_text(decoder.decode(head, final=False)), encoding
        except UnicodeDecodeError:
            continue
    raise UnreadableFileError("unreadable_file", "编码无法识别（已尝试 UTF-8、GBK、GB18030）")


def _whole_lines(text: str) -> str:
    """`text` up to its last line break: the cut last line of a probe is never a header."""
    end = max(text.rfind("\n"), text.rfind("\r"))
    return text[: end + 1] if end >= 0 else ""


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
                raise UnreadableFileError(
                    "unreadable_file", f"{encoding} 解码失败：{exc}", f"{encoding} does not decode"
                ) from exc
    if b"\x00" in data[:65536]:
        raise UnreadableFileError(
            "unreadable_file",
            "含有二进制内容（零字节），不是文本文件",
            "binary content (NUL bytes)",
        )
    for encoding in ("utf-8", "gbk", "gb18030"):
        try:
            return _check_text(data.decode(encoding)), encoding
        except UnicodeDecodeError:
            continue
    raise UnreadableFileError(
        "unreadable_file",
        "编码无法识别（已尝试 UTF-8、GBK、GB18030）",
        "unknown encoding (tried UTF-8, GBK, GB18030)",
    )


def _check_text(text: str) -> str:
    """Reject decodable-but-binary content: too many control characters for a CSV."""
    sample = text[:65536]
    controls = len(CONTROL_CHARACTERS.findall(sample))
    if sample and controls / len(sample) > 0.01:
        raise UnreadableFileError(
            "unreadable_file", "含有大量控制字符，不是文本表格", "control characters: not a table"
        )
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


def _utf8_of(data: bytes | None, encoding: str | None) -> bytes | None:
    """The bytes of a file decoded as UTF-8 as they were read (BOM left out): the same as
    its text encoded again, without the copy (~0.15 s a 90 MB file); None for another
    encoding."""
    if data is None or encoding not in ("utf-8", "utf-8-sig"):
        return None
    return data[len(codecs.BOM_UTF8) :] if encoding == "utf-8-sig" else data


def _csv_body(
    text: str, header_index: int, utf8: bytes | None = None
) -> tuple[list[str | None], pl.DataFrame, set[int]]:
    """Header cells and body columns (column_1..n, text) of a CSV, read by polars for speed
    (from `utf8`, the text's UTF-8 bytes, when the caller has them).

    A row with more cells than the header makes polars refuse the file; then the csv module
    reads it and such rows are reported as `ragged_row` instead of being truncated silently.
    """
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8") if utf8 is None else utf8),
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
    lengths = set(map(len, body_rows))
    if len(lengths) == 1:  # a rectangular grid (as calamine reads it): built column by column
        columns = list(zip(*body_rows, strict=True))
        ragged = {
            header_index + 2 + i
            for column in columns[width:]
            for i, c in enumerate(column)
            if c is not None
        }
        frame = pl.DataFrame(
            [
                pl.Series(f"column_{j + 1}", columns[j] if j < len(columns) else
                          [None] * len(body_rows), dtype=pl.Utf8)
                for j in range(width)
            ]
        )  # fmt: skip
        return header, frame, ragged
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
        target = _column_target(label, lookup)
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


def _xlsx_sheet(data: bytes, lookup: dict[str, str], max_unpacked: int) -> SheetGrid:
    """The worksheet holding the data: the first visible one with a recognised header among
    its first rows (an office's workbook often opens with a sheet of notes), else the first.
    Dates become ISO text; whole floats lose `.0`.

    Read with calamine (Rust): openpyxl needs ~90 µs a row, which made XLSX exports the
    slowest part of ingesting a national year (10M rows) by an order of magnitude. calamine
    returns a merged area's value in its top-left cell only; the areas are listed by
    `merged_cell_ranges` (0-based corners), which `fill_merged_down` uses.
    """
    from python_calamine import CalamineError, CalamineWorkbook, SheetVisibleEnum  # lazy

    try:  # an XLSX is a zip: one that unpacks to too much is refused before calamine inflates it
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFileError(
            "unreadable_file", f"不是有效的 XLSX 文件：{exc}", f"not a valid XLSX file: {exc}"
        ) from exc
    if unpacked > max_unpacked:
        raise UnreadableFileError(
            "unreadable_file",
            f"解压后 {unpacked / 2**20:.0f} MB，超过上限 {max_unpacked / 2**20:.0f} MB",
            f"unpacks to {unpacked / 2**20:.0f} MB, above {max_unpacked / 2**20:.0f} MB",
        )
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        visible = [
            i
            for i, meta in enumerate(book.sheets_metadata)
            if meta.visible == SheetVisibleEnum.Visible
        ] or list(range(len(book.sheet_names)))
        if not visible:
            raise IndexError("the workbook has no worksheet")
        skipped: list[str] = []
        for index in visible:
            sheet = book.get_sheet_by_index(index)
            head = sheet.to_python(skip_empty_area=False, nrows=HEADER_SEARCH_ROWS)
            if find_header([[_cell_text(v) for v in row] for row in head], lookup) is not None:
                break
            skipped.append(book.sheet_names[index])
        else:
            index, skipped = visible[0], []
            sheet = book.get_sheet_by_index(index)
        rows = sheet.to_python(skip_empty_area=False)
        merged = sheet.merged_cell_ranges or []
    except (CalamineError, ValueError, OSError, IndexError) as exc:
        raise UnreadableFileError(
            "unreadable_file", f"不是有效的 XLSX 文件：{exc}", f"not a valid XLSX file: {exc}"
        ) from exc
    return SheetGrid(
        name=book.sheet_names[index],
        position=index + 1,
        grid=[list(map(_cell_text, row)) for row in rows],
        merged=list(merged),
        skipped=tuple(skipped),
    )


def fill_merged_down(
    grid: Sequence[Sequence[str | None]],
    merged: Sequence[tuple[tuple[int, int], tuple[int, int]]],
    header_index: int,
) -> tuple[list[list[str | None]], list[tuple[int, int, int]]]:
    """The grid with every cell merged over several data rows (below the header) filled
    down from the area's top-left value, in the area's first column — the column its header
    names. Returns the grid and each area filled as (column, first row, last row), 1-based
    spreadsheet numbers. Areas in the title and header rows are left as they are."""
    # rows are copied when a cell of theirs is filled, not all of them: the grid passed in
    # stays as it was, and a workbook without merged data cells costs no copy
    out = cast(list[list[str | None]], list(grid))
    copied: set[int] = set()
    filled: list[tuple[int, int, int]] = []
    for (top, left), (bottom, _right) in sorted(merged):
        if top <= header_index or bottom <= top or top >= len(out):
            continue
        value = out[top][left] if left < len(out[top]) else None
        if value is None:
            continue
        for r in range(top + 1, min(bottom, len(out) - 1) + 1):
            if left < len(out[r]) and out[r][left] is None:
                if r not in copied:
                    out[r] = list(out[r])
                    copied.add(r)
                out[r][left] = value
        filled.append((left + 1, top + 1, bottom + 1))
    return out, filled


def _sheet_note(sheet: SheetGrid) -> tuple[str, str]:
    if sheet.skipped:
        names = "、".join(f"「{n}」" for n in sheet.skipped)
        return (
            f"读取工作表「{sheet.name}」（第 {sheet.position} 张；"
            f"{names}没有可识别的表头，未读取）",
            f"read sheet '{sheet.name}' (sheet {sheet.position}; "
            f"{', '.join(sheet.skipped)} without a recognised header, not read)",
        )
    return f"读取工作表「{sheet.name}」", f"read sheet '{sheet.name}'"


def _merged_note(
    filled: list[tuple[int, int, int]], header: Sequence[str | None]
) -> tuple[str, str]:
    """Which merged areas were filled down, per column header (at most five areas each)."""
    by_column: dict[int, list[tuple[int, int]]] = {}
    for column, first, last in sorted(filled):
        by_column.setdefault(column, []).append((first, last))

    def name(column: int) -> str:
        cell = header[column - 1] if column - 1 < len(header) else None
        return str(cell).strip() if cell else f"第{column}列"

    zh_parts, en_parts = [], []
    for column, spans in by_column.items():
        shown = spans[:5]
        more = len(spans) - len(shown)
        zh_parts.append(
            f"「{name(column)}」第 {'、'.join(f'{a}–{b}' for a, b in shown)} 行"
            + (f"等 {len(spans)} 处" if more else "")
        )
        en_parts.append(
            f"'{name(column)}' rows {', '.join(f'{a}-{b}' for a, b in shown)}"
            + (f" ({len(spans)} areas)" if more else "")
        )
    return (
        f"合并单元格已向下填充：{'，'.join(zh_parts)}",
        f"merged cells filled down: {'; '.join(en_parts)}",
    )


def _detail(*notes: tuple[str, str]) -> str | None:
    """Notes joined for the log, Chinese first: `zh1；zh2 / en1; en2`."""
    if not notes:
        return None
    return bilingual("；".join(zh for zh, _ in notes), "; ".join(en for _, en in notes))


def _cell_text(value: object) -> str | None:
    """A cell as text: dates as ISO, whole floats without `.0`, blank text as None.

    Called once per cell of a workbook (millions), so the common cases come first and are
    told apart by exact type: text, then empty cells, then numbers."""
    kind = type(value)
    if kind is str:
        text = cast(str, value)
        return text if text and not text.isspace() else None  # = `text.strip()` non-empty
    if value is None:
        return None
    if kind is float:
        number = cast(float, value)
        return str(int(number)) if number.is_integer() else str(number)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if text.strip() else None


def _empty(
    meta: _FileMeta, fmt: str, encoding: str | None, sheet: str | None = None
) -> ScannedFile:
    return ScannedFile(
        **meta,
        format=fmt,
        encoding=encoding,
        header_row=None,
        status="empty",
        problem=None,
        detail=bilingual("文件没有数据行", "file has no rows"),
        rows=pl.DataFrame(),
        sheet=sheet,
    )


def _unreadable(meta: _FileMeta, fmt: str, exc: UnreadableFileError) -> ScannedFile:
    """A file that cannot be read: recorded with its reason, no rows kept."""
    return ScannedFile(
        **meta,
        format=fmt,
        encoding=None,
        header_row=None,
        status="unreadable",
        problem=exc.code,
        detail=bilingual(exc.detail, exc.detail_en) if exc.detail_en else exc.detail,
        rows=pl.DataFrame(),
    )


def _rejected(
    meta: _FileMeta,
    fmt: str,
    encoding: str | None,
    header_row: int | None,
    problem: str,
    detail: str | None,
    sheet: str | None = None,
) -> ScannedFile:
    """A readable file refused whole: recorded with its reason, none of its rows kept."""
    return ScannedFile(
        **meta,
        format=fmt,
        encoding=encoding,
        header_row=header_row,
        status="rejected",
        problem=problem,
        detail=detail,
        rows=pl.DataFrame(),
        sheet=sheet,
    )
