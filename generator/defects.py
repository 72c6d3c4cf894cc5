"""Deliberate, documented defects in a landing folder — what ingestion must quarantine.

What belongs here: the defect plan (which kinds, in which sources, how many), picking victim
rows and corrupting or duplicating them the way real exports go wrong, and the manifest
listing each defect with its file and physical row (1-based, counting title and header rows,
as a spreadsheet user sees it). Tests and the ingestion quality gate compare quarantine
against this manifest. Duplicates carry `duplicate_of` (the row they repeat): an identical
repeat is expected to be collapsed rather than quarantined, and a conflicting one to
quarantine both rows.

What does not: file layout and value spelling (`generator.landing`, whose `render` is passed
in to spell duplicated rows like their host file) and the simulation itself.

Victims are chosen so that one defect does not cascade into others: firm-directory defects
hit firms no record refers to, and blanked document numbers are never referenced elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from generator.uscc import ALPHABET, make_usccs
from models.contracts import SOURCE_ORDER

if TYPE_CHECKING:
    from generator.landing import LandingFile
    from generator.layout import FileSpec

MARKERS = ("_rid", "_defect", "_column", "_origin")
"""Bookkeeping columns of rendered cells: row id in the clean rows (-1 for inserted copies),
the defect kind and column, and for copies the `file#row id` they repeat."""

Renderer = Callable[[pl.DataFrame, str, "FileSpec", np.random.Generator], pl.DataFrame]


@dataclass(frozen=True)
class Planned:
    """`count` defects of `kind` in `source`, on `column` where the kind needs one."""

    source: str
    kind: str
    count: int
    column: str | None = None
    value: str | None = None  # the invalid value, for invalid_enum
    where: pl.Expr | None = None  # victims must satisfy this (on the clean rows)
    cross_file: bool = False  # duplicate_identical: copy into another file of the source


_HAS_FINE = pl.col("fine_amount").is_not_null()

PLAN: tuple[Planned, ...] = (
    Planned("firms", "invalid_uscc", 1, "uscc"),
    Planned("penalty_decisions", "invalid_uscc", 2, "uscc"),
    Planned("correction_notices", "invalid_uscc", 1, "uscc"),
    Planned("inspection_outcomes", "invalid_uscc", 1, "uscc"),
    Planned("penalty_decisions", "unknown_firm", 1, "uscc"),
    Planned("correction_notices", "unknown_firm", 1, "uscc"),
    Planned("inspection_outcomes", "unknown_firm", 1, "uscc"),
    Planned("circulars", "unknown_firm", 1, "uscc"),
    Planned("commendations", "unknown_firm", 1, "uscc"),
    Planned("firms", "invalid_date", 1, "established_on"),
    Planned("penalty_decisions", "invalid_date", 1, "decided_on"),
    Planned("correction_notices", "invalid_date", 1, "issued_on"),
    Planned("inspection_outcomes", "invalid_date", 1, "inspected_on"),
    Planned("credit_cases", "invalid_date", 1, "filed_on"),
    Planned("penalty_decisions", "duplicate_identical", 1),
    Planned("correction_notices", "duplicate_identical", 1),
    Planned("inspection_outcomes", "duplicate_identical", 1),
    Planned("penalty_decisions", "duplicate_identical", 1, cross_file=True),
    Planned("inspection_outcomes", "duplicate_identical", 1, cross_file=True),
    Planned("circulars", "duplicate_identical", 1, cross_file=True),
    Planned("penalty_decisions", "duplicate_conflict", 2, "fine_amount", where=_HAS_FINE),
    Planned("correction_notices", "duplicate_conflict", 1, "deadline"),
    Planned("inspection_outcomes", "duplicate_conflict", 1, "result"),
    Planned("penalty_decisions", "missing_required", 1, "doc_no"),
    Planned("penalty_decisions", "missing_required", 1, "decided_on"),
    Planned("correction_notices", "missing_required", 1, "doc_no"),
    Planned("correction_notices", "missing_required", 1, "issued_on"),
    Planned("inspection_outcomes", "missing_required", 1, "inspected_on"),
    Planned("credit_cases", "missing_required", 1, "filed_on"),
    Planned("correction_notices", "deadline_before_issue", 3, "deadline"),
    Planned("penalty_decisions", "negative_amount", 3, "fine_amount", where=_HAS_FINE),
    Planned("penalty_decisions", "invalid_enum", 2, "penalty_types", "罚金"),
    Planned("inspection_outcomes", "invalid_enum", 1, "result", "基本合格"),
    Planned("firms", "invalid_enum", 1, "firm_type", "施工"),
    Planned("circulars", "invalid_enum", 1, "kind", "警示"),
    Planned("penalty_decisions", "future_date", 1, "decided_on"),
    Planned("inspection_outcomes", "future_date", 1, "inspected_on"),
    Planned("commendations", "future_date", 1, "awarded_on"),
)
FUTURE_YEAR = 2031


def _spell_date(day: dt.date, style: str) -> str:
    """A date spelled like the file's other dates (XLSX files take ISO text)."""
    y, m, d = day.year, day.month, day.day
    return {
        "slash": f"{y}/{m}/{d}",
        "zh": f"{y}年{m}月{d}日",
        "dot": f"{y}.{m}.{d}",
    }.get(style, day.isoformat())


def _impossible_date(year: int, style: str) -> str:
    """A date that cannot exist, spelled like the file's other dates."""
    return {
        "zh": f"{year}年13月45日",
        "slash": f"{year}/2/30",
        "dot": f"{year}.2.30",
    }.get(style, f"{year}-02-30")


def _negative(amount: float, style: str) -> str:
    """A negative fine spelled like the file's amounts."""
    return f"-{int(amount)}" if style == "plain" else f"-{int(amount):,}元"


@dataclass
class _Injector:
    """Applies the plan to the files, keeping each victim row used by one defect only."""

    files: list[LandingFile]
    rng: np.random.Generator
    render: Renderer
    protected: dict[str, pl.Expr]
    known: set[str]

    def __post_init__(self) -> None:
        self.used: set[tuple[str, int]] = set()
        self.allowed_rows: dict[str, np.ndarray] = {}

    def _allowed(self, file: LandingFile) -> np.ndarray:
        """Rows of the file that may be hit at all (see `_protected`), computed once."""
        if file.path not in self.allowed_rows:
            rule = self.protected.get(file.source, pl.lit(True))
            self.allowed_rows[file.path] = file.typed.with_columns(_ok=rule)["_ok"].to_numpy()
        return self.allowed_rows[file.path]

    def _candidates(self, plan: Planned) -> list[tuple[LandingFile, np.ndarray]]:
        """Row ids of each file of the source that may be hit by `plan`."""
        out = []
        for file in (f for f in self.files if f.source == plan.source):
            mask = self._allowed(file)
            if plan.where is not None:
                mask = mask & file.typed.select(plan.where).to_series().to_numpy()
            out.append((file, np.flatnonzero(mask)))
        return out

    def _pick(
        self, candidates: list[tuple[LandingFile, np.ndarray]]
    ) -> tuple[LandingFile, int] | None:
        """A random row (file, row id) among the candidates not hit yet, if any."""
        free = [
            ids[~np.isin(ids, [rid for path, rid in self.used if path == file.path])]
            for file, ids in candidates
        ]
        k = int(self.rng.integers(max(1, sum(len(ids) for ids in free))))
        for (file, _), ids in zip(candidates, free, strict=True):
            if k < len(ids):
                rid = int(ids[k])
                self.used.add((file.path, rid))
                return file, rid
            k -= len(ids)
        return None

    def _set(self, file: LandingFile, rid: int, column: str, value: str | None, kind: str) -> None:
        """Overwrite one cell (None blanks it) and mark the row with the defect."""
        hit = pl.col("_rid") == rid
        file.cells = file.cells.with_columns(
            pl.when(hit).then(pl.lit(value, dtype=pl.Utf8)).otherwise(pl.col(column)).alias(column),
            _defect=pl.when(hit).then(pl.lit(kind)).otherwise(pl.col("_defect")),
            _column=pl.when(hit).then(pl.lit(column)).otherwise(pl.col("_column")),
        )

    def _insert(
        self,
        host: LandingFile,
        row: pl.DataFrame,
        origin: tuple[LandingFile, int],
        plan: Planned,
    ) -> None:
        """Insert a rendered copy of `origin` (file, row id) into `host`: a few rows after
        the original when it is the same file, anywhere otherwise."""
        cells = host.cells
        source_file, rid = origin
        if source_file is host:
            at = _position(cells, rid)
            position = min(len(cells), at + 1 + int(self.rng.integers(0, 4)))
        else:
            position = int(self.rng.integers(0, len(cells) + 1))
        marked = row.with_columns(
            _rid=pl.lit(-1, dtype=pl.Int64),
            _defect=pl.lit(plan.kind),
            _column=pl.lit(plan.column if plan.kind == "duplicate_conflict" else None, pl.Utf8),
            _origin=pl.lit(f"{source_file.path}#{rid}"),
        ).select(cells.columns)
        host.cells = pl.concat([cells.head(position), marked, cells.slice(position)])

    def _fresh_uscc(self) -> str:
        """A valid USCC of no firm in the directory (an export from another register)."""
        while True:
            number = self.rng.integers(0, 10**8, 1)
            code = make_usccs(np.array([310101]), number, np.zeros(1, dtype=bool))[0]
            if code not in self.known:
                self.known.add(code)
                return code

    def apply(self, plan: Planned) -> None:
        """Inject `plan.count` defects (fewer if the source runs out of eligible rows)."""
        candidates = self._candidates(plan)
        for _ in range(plan.count):
            picked = self._pick(candidates)
            if picked is None:
                return
            file, rid = picked
            if plan.kind in ("duplicate_identical", "duplicate_conflict"):
                self._duplicate(plan, file, rid)
            else:
                self._corrupt(plan, file, rid)

    def _corrupt(self, plan: Planned, file: LandingFile, rid: int) -> None:
        """Overwrite one cell of a victim row with the defective value of `plan.kind`."""
        row = file.typed.row(rid, named=True)
        column, style = plan.column or "", file.spec.dates
        if plan.kind == "invalid_uscc":
            code = row["uscc"]
            wrong = ALPHABET[(ALPHABET.index(code[-1]) + 1 + int(self.rng.integers(30))) % 31]
            value: str | None = code[:-1] + wrong
        elif plan.kind == "unknown_firm":
            value = self._fresh_uscc()
        elif plan.kind == "invalid_date":
            value = _impossible_date(row[column].year, style)
        elif plan.kind == "future_date":
            value = _spell_date(row[column].replace(year=FUTURE_YEAR, day=1), style)
        elif plan.kind == "deadline_before_issue":
            early = row["issued_on"] - dt.timedelta(days=int(self.rng.integers(5, 30)))
            value = _spell_date(early, style)
        elif plan.kind == "negative_amount":
            value = _negative(row[column], file.spec.amounts)
        elif plan.kind == "invalid_enum":
            value = plan.value
        else:  # missing_required
            value = None
        self._set(file, rid, column, value, plan.kind)

    def _duplicate(self, plan: Planned, file: LandingFile, rid: int) -> None:
        """Repeat a record: byte-identical in its own file, re-spelled in another file, or
        with the same key but other content (duplicate_conflict)."""
        typed = file.typed.slice(rid, 1)
        if plan.kind == "duplicate_conflict":
            typed = typed.with_columns(_conflicting(plan.column or ""))
            rendered = self.render(typed, file.source, file.spec, self.rng)
            self._insert(file, rendered, (file, rid), plan)
            return
        others = [f for f in self.files if f.source == file.source and f is not file]
        if plan.cross_file and others:
            host = others[int(self.rng.integers(len(others)))]
            rendered = self.render(typed, file.source, host.spec, self.rng)
            self._insert(host, rendered, (file, rid), plan)
            return
        copy = file.cells.filter(pl.col("_rid") == rid).drop(MARKERS)
        self._insert(file, copy, (file, rid), plan)


def _conflicting(column: str) -> pl.Expr:
    """Same key, different content: another fine, deadline or inspection result."""
    if column == "fine_amount":
        # another fine the law allows (人民防空法 art. 49: at most 50,000 yuan): a copy above
        # the limit would be quarantined for that, not as a conflicting duplicate
        fine = pl.col("fine_amount")
        return pl.when(fine + 5_000 <= 50_000).then(fine + 5_000).otherwise(fine - 5_000)
    if column == "deadline":
        return pl.col("deadline") + pl.duration(days=15)
    return (
        pl.when(pl.col("result") == "未发现问题")
        .then(pl.lit("发现问题"))
        .otherwise(pl.lit("未发现问题"))
        .alias("result")
    )


def _protected(frames: dict[str, pl.DataFrame]) -> dict[str, pl.Expr]:
    """Victim filters that stop a defect from cascading: directory defects only on firms
    without records; blanked document numbers only where nothing refers to them."""
    used = pl.concat(
        [frames[s].select("uscc") for s in SOURCE_ORDER if s not in ("firms", "inspectors")]
    )["uscc"]
    referenced = pl.concat(
        [
            frames["inspection_outcomes"]["followup_doc_no"].drop_nulls(),
            frames["credit_cases"]["record_doc_no"],
        ]
    )
    unreferenced = ~pl.col("doc_no").is_in(referenced.implode())
    return {
        "firms": ~pl.col("uscc").is_in(used.implode()),
        "penalty_decisions": unreferenced,
        "correction_notices": unreferenced,
    }


def mark(cells: pl.DataFrame) -> pl.DataFrame:
    """Add the bookkeeping columns (`MARKERS`) to freshly rendered cells."""
    return cells.with_columns(
        _rid=pl.int_range(pl.len(), dtype=pl.Int64),
        _defect=pl.lit(None, dtype=pl.Utf8),
        _column=pl.lit(None, dtype=pl.Utf8),
        _origin=pl.lit(None, dtype=pl.Utf8),
    )


def inject(
    files: list[LandingFile],
    rng: np.random.Generator,
    frames: dict[str, pl.DataFrame],
    render: Renderer,
) -> list[LandingFile]:
    """Apply `PLAN` to the files in place (victims drawn with `rng`) and return them."""
    known = set(frames["firms"]["uscc"].to_list())
    injector = _Injector(files, rng, render, _protected(frames), known)
    for plan in PLAN:
        injector.apply(plan)
    return files


def _position(cells: pl.DataFrame, rid: int) -> int:
    """Current 0-based position of the original row `rid` (insertions shift rows)."""
    return int(cells.select(pl.arg_where(pl.col("_rid") == rid)).item())


def manifest(files: list[LandingFile]) -> list[dict[str, object]]:
    """Every injected defect: source, file, physical row (title and header counted), kind,
    the corrupted column, and for duplicates the row they repeat (`duplicate_of`)."""
    by_path = {f.path: f for f in files}

    def physical(file: LandingFile, position: int) -> int:
        return file.spec.header_rows + position + 1

    entries = []
    for file in files:
        marked = file.cells.with_row_index("_i").filter(pl.col("_defect").is_not_null())
        for i, kind, column, origin in marked.select(
            "_i", "_defect", "_column", "_origin"
        ).iter_rows():
            entry: dict[str, object] = {
                "source": file.source,
                "file": file.path,
                "row_number": physical(file, i),
                "column": column,
                "kind": kind,
            }
            if origin:
                path, rid = origin.rsplit("#", 1)
                original = by_path[path]
                entry["duplicate_of"] = {
                    "file": path,
                    "row_number": physical(original, _position(original.cells, int(rid))),
                }
            entries.append(entry)
    # keyed by object: the entries are dict[str, object], their sources the str names here
    order: dict[object, int] = {s: i for i, s in enumerate(SOURCE_ORDER)}
    return sorted(entries, key=lambda e: (order[e["source"]], e["file"], e["row_number"]))
