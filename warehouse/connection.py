"""Where the warehouse is, and how to open it: connections, transactions, reads.

What belongs here: the location of the DuckDB file and of the reports beside it (explicit
values, else environment variables read at *call* time, else the project defaults), the
single-writer connection discipline (explicit SQL, one transaction per write, no extension
auto-install, read-only readers that retry while a writer holds the file, a run's staging
copy held open as one instance from step to step), the polars hand-off (`query`),
`table_exists`, and the commit failpoint used by the crash-safety test.

What does not: any table's schema (`warehouse.catalogue`), any SQL about a particular table
(the other `warehouse` modules), Dagster (the `pipelines.resources` wrappers add it).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse.duckdb"
DEFAULT_LANDING = PROJECT_ROOT / "data" / "sample" / "landing"
DEFAULT_MEMORY_LIMIT = "2GB"
"""DuckDB's memory per connection unless `memory_limit` or `$RENFANG_DUCKDB_MEMORY` says
otherwise: uncapped, DuckDB takes up to 80% of RAM for its cache and insert scratch while
the polars frames of the same process need it too (a national run then peaks far above a
small server's memory); capped, it spills to disk. 2 GB keeps a national full rebuild's
DuckDB share small at no measured cost in time (README, Performance)."""


def utc_now() -> datetime:
    """Now as the warehouse stores times: UTC without a zone (DuckDB `TIMESTAMP`), so that
    times written by runs, acts and the audit log on any server compare as they are."""
    return datetime.now(UTC).replace(tzinfo=None)


def resolve_path(explicit: str | None, env_var: str, default: Path) -> Path:
    """`explicit`, else `$env_var`, else `default`; user-expanded and absolute."""
    value = explicit or os.environ.get(env_var) or str(default)
    return Path(value).expanduser().resolve()


class WarehouseLocation:
    """Mixin: the file, reports folder and connections of a warehouse described by the
    attributes `path`, `reports_dir` and `memory_limit` (each None = environment/default).

    Shared by the Dagster-free `Warehouse` below and the `pipelines.resources.Warehouse`
    resource, so both open the file the same way.
    """

    path: str | None
    reports_dir: str | None
    memory_limit: str | None

    @property
    def live_file(self) -> Path:
        """The live warehouse: `path`, else `$RENFANG_WAREHOUSE`, else `data/warehouse.duckdb`.
        Readers open only this file."""
        return resolve_path(self.path, "RENFANG_WAREHOUSE", DEFAULT_WAREHOUSE)

    @property
    def file(self) -> Path:
        """The file this object reads and writes: the live one (a Dagster run's resource
        points at the run's staging copy instead, see `pipelines.resources`)."""
        return self.live_file

    @property
    def reports(self) -> Path:
        """`reports_dir`, else `$RENFANG_REPORTS`, else `reports/` beside the warehouse."""
        return resolve_path(self.reports_dir, "RENFANG_REPORTS", self.live_file.parent / "reports")

    @property
    def audit_log(self) -> Path:
        """The append-only audit log beside the live warehouse (`warehouse.audit`)."""
        return self.live_file.with_name(f"{self.live_file.stem}.audit.jsonl")

    @contextmanager
    def connect(
        self, read_only: bool = False, retries: int = 20
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection. Read-only callers retry while a writer holds the file lock.
        A file a run holds (`hold`) gives a new connection to the held instance, writable
        whatever was asked (one instance cannot be opened both ways in one process).

        `memory_limit` (else `$RENFANG_DUCKDB_MEMORY`, e.g. `4GB`, else
        `DEFAULT_MEMORY_LIMIT`) caps DuckDB's own memory in the connection — its buffer cache
        and the scratch of big inserts — so that the polars frames of the same process have
        room; beyond it DuckDB spills to disk.
        """
        self.file.parent.mkdir(parents=True, exist_ok=True)
        held = _held.get(self.file)
        if held is not None:  # the run's own copy, open all run long: same instance, writable
            read_only, config = False, held[1]
        else:
            config = duckdb_config(self.memory_limit)
        attempt = 0
        while True:
            try:
                con = duckdb.connect(str(self.file), read_only=read_only, config=config)
                break
            except duckdb.IOException:
                attempt += 1
                if attempt > retries:
                    raise
                time.sleep(0.1 * attempt)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write = one transaction: everything inside commits together or not at all."""
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            _commit_failpoint()
            con.execute("COMMIT")

    def table_exists(self, name: str) -> bool:
        with self.connect(read_only=self.file.exists()) as con:
            return table_exists(con, name)

    def read_table(self, name: str, where: str = "") -> pl.DataFrame:
        """The whole table (or a filtered part) as polars; an absent table is an error.
        Read-only: a reader never takes the single writer's lock (it retries while held)."""
        with self.connect(read_only=True) as con:
            return query(con, f'SELECT * FROM "{name}" {where}')


_Config = dict[str, str | bool | int | float | list[str]]


def duckdb_config(limit: str | None = None) -> _Config:
    """How every writer of the project opens a DuckDB file: no extension installed or loaded
    behind its back, DuckDB's memory capped (`memory_limit`)."""
    return {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "memory_limit": memory_limit(limit),
    }


_held: dict[Path, tuple[duckdb.DuckDBPyConnection, _Config]] = {}
_holding = False


@contextmanager
def one_instance_per_run() -> Iterator[None]:
    """While this is entered, a run in this process (the in-process executor: the CLI, the
    benchmarks, the tests) keeps its staging copy open from the first step to the swap
    (`hold`), and every `connect` to it is a new connection to that same DuckDB instance.

    Why: opening the file and closing it again around each of a run's ~65 steps cost more
    than many of the steps did (a national day: ~7 s of 50 spent opening the file, reading
    its catalogue and folding the step's WAL back in on close). Closing the last connection
    of an instance checkpoints; with the instance held, DuckDB checkpoints when its WAL
    grows past its threshold and once when the run lets go. Not entered, nothing is held:
    the Dagster UI runs steps in separate processes, which must not hold the file between
    steps."""
    global _holding
    before = _holding
    _holding = True
    try:
        yield
    finally:
        _holding = before
        if not before:
            for file in list(_held):
                release(file)


def holding() -> bool:
    """Whether this process holds a warehouse open between steps now."""
    return bool(_held)


def hold(file: Path, limit: str | None = None) -> None:
    """Keep `file` open (one writable DuckDB instance) until `release`, when a run is
    holding (`one_instance_per_run`); otherwise nothing."""
    if _holding and file not in _held:
        config = duckdb_config(limit)
        _held[file] = (duckdb.connect(str(file), config=config), config)


def release(file: Path) -> None:
    """Close the held instance of `file` (its WAL is folded into the file on close), before
    anything opens it otherwise (the guards, the swap) or removes it."""
    held = _held.pop(file, None)
    if held is not None:
        held[0].close()


@dataclass(frozen=True)
class Warehouse(WarehouseLocation):
    """A warehouse outside Dagster (the dashboards, benchmarks, tests).

    Every field None means: the environment variable, else the project default, read at
    each use — never cached at import.
    """

    path: str | None = None
    reports_dir: str | None = None
    memory_limit: str | None = None


_commits = 0


def _commit_failpoint() -> None:
    """Fault injection for the crash-safety test, inert unless both variables are set.

    With `RENFANG_FAILPOINT=N` and `RENFANG_FAILPOINT_MARKER=<path>`, the N-th commit of this
    process stops with its writes pending, creates the marker file and waits; the test then
    kills the process with SIGKILL — a crash at the worst moment, on demand instead of by luck.
    """
    global _commits
    target, marker = os.environ.get("RENFANG_FAILPOINT"), os.environ.get("RENFANG_FAILPOINT_MARKER")
    if not target or not marker:
        return
    _commits += 1
    if _commits == int(target):
        Path(marker).write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(600)


def processing_date(explicit: str | None = None) -> date:
    """The processing date: `explicit`, else `$RENFANG_TODAY`, else today."""
    value = explicit or os.environ.get("RENFANG_TODAY")
    return date.fromisoformat(value) if value else date.today()


def memory_limit(explicit: str | None = None) -> str:
    """DuckDB's memory cap: `explicit`, else `$RENFANG_DUCKDB_MEMORY`, else the default."""
    return explicit or os.environ.get("RENFANG_DUCKDB_MEMORY") or DEFAULT_MEMORY_LIMIT


def query(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | None = None
) -> pl.DataFrame:
    """Run SQL and hand the result to polars through Arrow (DuckDB 2.x has no `.pl()`), in
    one chunk: DuckDB hands over a batch per row group, and polars 2 keeps them apart unless
    told, so every later gather, join or sort of the frame walked chunks (a national day's
    reason spans: 5.0 s → 3.7 s, the credit layer 17.4 s → 15.5 s)."""
    relation = con.sql(sql, params=list(params)) if params else con.sql(sql)
    frame = pl.from_arrow(relation.to_arrow_table(), rechunk=True)
    assert isinstance(frame, pl.DataFrame)  # an Arrow *table* always becomes a DataFrame
    return frame


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The columns a table of the open database has (empty when it does not exist)."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
    ).fetchall()
    return {str(r[0]) for r in rows}


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether a table or view of that name exists in the open database."""
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()  # fetchall: DuckDB 2.x refuses new work while a result is half-fetched
    return bool(rows and rows[0][0])


def sql_path(path: Path) -> str:
    """`path` as the text of an SQL string literal (ATTACH '…'): quotes doubled."""
    return str(path).replace("'", "''")
