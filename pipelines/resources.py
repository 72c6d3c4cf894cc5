"""Dagster resources: where the warehouse and the landing folder are, and how to touch them.

What belongs here: `ConfigurableResource`s whose fields default to environment variables read
at *run* time (never at import), the single-writer DuckDB connection discipline (explicit
SQL, one transaction per asset write, no extension auto-install), and polars hand-off helpers.
What does not: any business rule, table schema or SQL about a particular table.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
import duckdb
import polars as pl

if TYPE_CHECKING:
    from models.rules import RuleSet

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = PROJECT_ROOT / "data" / "warehouse.duckdb"
DEFAULT_LANDING = PROJECT_ROOT / "data" / "sample" / "landing"


def _resolve(explicit: str | None, env_var: str, default: Path) -> Path:
    value = explicit or os.environ.get(env_var) or str(default)
    return Path(value).expanduser().resolve()


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file (one writer at a time; readers use short read-only sessions).

    `path` defaults to `$RENFANG_WAREHOUSE`, else `data/warehouse.duckdb`. Reports and GX Data
    Docs are written next to it (`reports/`, `gx_docs/`) unless `reports_dir` is set
    (`$RENFANG_REPORTS`).

    `memory_limit` (`$RENFANG_DUCKDB_MEMORY`, e.g. `4GB`) caps DuckDB's own memory in each
    connection — its buffer cache and the scratch of big inserts — so that the polars frames
    of the same process have room; beyond it DuckDB spills to `<warehouse>.tmp/`. Unset,
    DuckDB takes up to 80% of RAM.
    """

    path: str | None = None
    reports_dir: str | None = None
    memory_limit: str | None = None

    @property
    def file(self) -> Path:
        return _resolve(self.path, "RENFANG_WAREHOUSE", DEFAULT_WAREHOUSE)

    @property
    def reports(self) -> Path:
        return _resolve(self.reports_dir, "RENFANG_REPORTS", self.file.parent / "reports")

    @contextmanager
    def connect(
        self, read_only: bool = False, retries: int = 20
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection. Read-only callers retry while a writer holds the file lock."""
        self.file.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, object] = {
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        memory_limit = self.memory_limit or os.environ.get("RENFANG_DUCKDB_MEMORY")
        if memory_limit:
            config["memory_limit"] = memory_limit
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
        with self.connect() as con:
            return _table_exists(con, name)

    def read_table(self, name: str, where: str = "") -> pl.DataFrame:
        """The whole table (or a filtered part) as polars; an absent table is an error.
        Read-only: a reader never takes the single writer's lock (it retries while held)."""
        with self.connect(read_only=True) as con:
            return query(con, f'SELECT * FROM "{name}" {where}')


class Landing(dg.ConfigurableResource):
    """The landing folder: one sub-folder per source (firms/, penalty_decisions/, ...).

    `path` defaults to `$RENFANG_LANDING`, else the bundled sample `data/sample/landing`.
    `today` (YYYY-MM-DD, default `$RENFANG_TODAY`, else the real date) is the processing date
    that bounds "no future dates"; fixing it makes a run reproducible on another day.
    """

    path: str | None = None
    today: str | None = None

    @property
    def folder(self) -> Path:
        return _resolve(self.path, "RENFANG_LANDING", DEFAULT_LANDING)

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
        return datetime.combine(self.processing_date, clock_time()) if fixed else now


class Rules(dg.ConfigurableResource):
    """The credit rule set: a YAML file (`path`, default `$RENFANG_RULES`), else the packaged
    default (`models/rulesets/default.yaml`). Loaded and validated at run time, so a bad file
    fails the run with a message naming the field."""

    path: str | None = None

    def load(self) -> RuleSet:
        from pipelines.credit_store import load_rule_set

        return load_rule_set(self.path or os.environ.get("RENFANG_RULES"))


_commits = 0


def _commit_failpoint() -> None:
    """Fault injection for the crash-safety test (issue 7), inert unless both variables are set.

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


def query(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
) -> pl.DataFrame:
    """Run SQL and hand the result to polars through Arrow (DuckDB 2.x has no `.pl()`)."""
    relation = con.sql(sql, params=params) if params else con.sql(sql)
    return pl.from_arrow(relation.to_arrow_table())  # type: ignore[return-value]


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()  # fetchall: DuckDB 2.x refuses new work while a result is half-fetched
    return bool(rows and rows[0][0])
