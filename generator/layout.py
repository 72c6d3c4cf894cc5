"""Which landing files exist and how each is spelled.

What belongs here: `FileSpec` (format, encoding, header language, date/amount style, title
row, extra column) and the layouts: the bundled sample splits each source by year, authority,
kind or firm type across a deliberate mix of CSV UTF-8, UTF-8 with BOM, GBK and XLSX, the way
different offices export; populations of LARGE_FIRMS or more are written as plain UTF-8 CSV
chunks for speed.

What does not: turning values into text or bytes (`generator.landing`) and defects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import polars as pl

from generator.vocabulary import CITY_AUTHORITY

Format = Literal["csv_utf8", "csv_bom", "csv_gbk", "xlsx"]
HeaderStyle = Literal["zh", "en", "variant"]
DateStyle = Literal["iso", "slash", "zh", "dot", "excel"]
AmountStyle = Literal["plain", "yuan", "wan", "mixed"]

LARGE_FIRMS = 20_000
CHUNK_ROWS = 1_000_000
CHUNK_BYTES = 100 * 2**20
"""A large landing's files stay about this size, half the ingestion's default 200 MiB file
limit: wide sources such as penalty decisions reach ~370 bytes a row, so a million rows
would be a file the warehouse refuses — and a benchmark that silently measured less."""


@dataclass(frozen=True)
class FileSpec:
    """How one landing file is spelled."""

    name: str
    fmt: Format
    headers: HeaderStyle = "zh"
    dates: DateStyle = "iso"  # `excel`: XLSX date cells, a few rows as bare serial numbers
    amounts: AmountStyle = "plain"
    title: str | None = None
    merged_title: bool = False
    list_sep: str = "、"
    synonyms: bool = False  # spell firm types and procedures with longer contract synonyms
    remark: str | None = None  # an unknown trailing column (e.g. 备注), kept raw downstream

    @property
    def header_rows(self) -> int:
        """Rows above the first record: the optional title and the header."""
        return 2 if self.title else 1


Parts = list[tuple[FileSpec, pl.DataFrame]]


def _yearly(frame: pl.DataFrame, date: str, stem: str, styles: list[FileSpec]) -> Parts:
    """One file per year; the year's style rotates through `styles` ({year} in the title)."""
    parts = []
    years = frame[date].dt.year().unique().sort().to_list()
    for i, year in enumerate(years):
        style = styles[i % len(styles)]
        ext = "xlsx" if style.fmt == "xlsx" else "csv"
        title = style.title.format(year=year) if style.title else None
        spec = replace(style, name=f"{stem}_{year}.{ext}", title=title)
        parts.append((spec, frame.filter(pl.col(date).dt.year() == year)))
    return parts


def _split(frame: pl.DataFrame, parts: list[tuple[FileSpec, pl.Expr]]) -> Parts:
    return [(spec, frame.filter(condition)) for spec, condition in parts]


def _firms(frame: pl.DataFrame) -> Parts:
    """By firm type, as the directory is kept by different sections."""
    kind = pl.col("firm_type")
    design = FileSpec(
        "检查对象名录库_设计监理.xlsx",
        "xlsx",
        dates="excel",
        title="上海市人防行业检查对象名录库（设计、监理单位）",
        merged_title=True,
        synonyms=True,
    )
    equipment = FileSpec("检查对象名录库_防护设备.csv", "csv_bom", dates="slash")
    others = FileSpec("检查对象名录库_审图检测.csv", "csv_gbk", "variant", dates="zh")
    return _split(
        frame,
        [
            (design, kind.is_in(["design", "supervision"])),
            (equipment, kind == "protective_equipment"),
            (others, kind.is_in(["drawing_review", "testing"])),
        ],
    )


def _inspectors(frame: pl.DataFrame) -> Parts:
    title = "执法检查人员名录库"
    return [(FileSpec(f"{title}.xlsx", "xlsx", dates="excel", title=title), frame)]


def _inspector_conflicts(frame: pl.DataFrame) -> Parts:
    return [(FileSpec("回避名单.csv", "csv_gbk"), frame)]


def _penalty_decisions(frame: pl.DataFrame) -> Parts:
    """By year, each year exported by a different tool."""
    title = "{year}年度行政处罚决定汇总表"
    styles = [
        FileSpec("", "csv_gbk", dates="zh", amounts="yuan", title=title),
        FileSpec("", "xlsx", dates="excel", synonyms=True),
        FileSpec("", "csv_utf8", "en"),
        FileSpec("", "csv_bom", "variant", "slash", "mixed", title, remark="备注"),
        FileSpec("", "xlsx", dates="excel", amounts="wan", title=title, merged_title=True),
    ]
    return _yearly(frame, "decided_on", "行政处罚决定", styles)


def _correction_notices(frame: pl.DataFrame) -> Parts:
    """By authority: the city office's ledger and the districts' export."""
    city = pl.col("authority") == CITY_AUTHORITY
    ledger = FileSpec(
        "责令改正通知书_市级.xlsx", "xlsx", dates="excel", title="责令改正通知书台账（市级）"
    )
    districts = FileSpec("责令改正通知书_区级.csv", "csv_bom", dates="slash")
    return _split(frame, [(ledger, city), (districts, ~city)])


def _circulars(frame: pl.DataFrame) -> Parts:
    praise = pl.col("kind") == "表扬"
    return _split(
        frame,
        [
            (FileSpec("通报批评.csv", "csv_gbk", dates="zh"), ~praise),
            (FileSpec("通报表扬.xlsx", "xlsx", dates="excel"), praise),
        ],
    )


def _inspection_outcomes(frame: pl.DataFrame) -> Parts:
    styles = [
        FileSpec("", "csv_utf8"),
        FileSpec("", "csv_bom", dates="slash", list_sep=","),
        FileSpec("", "xlsx", dates="excel", title="{year}年度双随机抽查结果"),
        FileSpec("", "csv_gbk", "variant", "dot"),
        FileSpec("", "csv_utf8", "en"),
    ]
    return _yearly(frame, "inspected_on", "双随机抽查结果", styles)


def _commendations(frame: pl.DataFrame) -> Parts:
    title = "人防行业表彰奖励名单"
    return [(FileSpec("表彰奖励名单.csv", "csv_utf8", "variant", "dot", title=title), frame)]


def _credit_cases(frame: pl.DataFrame) -> Parts:
    title = "异议与信用修复台账"
    return [(FileSpec(f"{title}.xlsx", "xlsx", dates="excel", title=title), frame)]


SAMPLE_LAYOUT: dict[str, Callable[[pl.DataFrame], Parts]] = {
    "firms": _firms,
    "inspectors": _inspectors,
    "inspector_conflicts": _inspector_conflicts,
    "penalty_decisions": _penalty_decisions,
    "correction_notices": _correction_notices,
    "circulars": _circulars,
    "inspection_outcomes": _inspection_outcomes,
    "commendations": _commendations,
    "credit_cases": _credit_cases,
}


def large_layout(source: str, frame: pl.DataFrame) -> Parts:
    """Plain UTF-8 CSV chunks of at most CHUNK_ROWS records and about CHUNK_BYTES (a row's
    size estimated from the frame in memory, with a margin for dates and lists spelt out),
    Chinese headers, ISO dates."""
    per_row = max(1, 5 * int(frame.estimated_size()) // (4 * max(1, len(frame))))
    rows = max(1, min(CHUNK_ROWS, CHUNK_BYTES // per_row))
    chunks = max(1, -(-len(frame) // rows))
    return [
        (FileSpec(f"{source}_{i + 1:03d}.csv", "csv_utf8"), frame.slice(i * rows, rows))
        for i in range(chunks)
    ]


def layout(source: str, frame: pl.DataFrame, large: bool) -> Parts:
    """The files of one source, with the clean rows each holds (empty parts dropped)."""
    parts = large_layout(source, frame) if large else SAMPLE_LAYOUT[source](frame)
    return [(spec, rows) for spec, rows in parts if len(rows)]
