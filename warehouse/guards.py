"""What a run may not do silently: remove established firms or rewrite much of a table.

What belongs here: comparing a run's staging copy with the live warehouse before it is made
live — which firms of the directory would disappear, and which share of each clean table's
rows would be removed or changed — and the verdict with the names of what would change.
A run whose staging copy breaks a guard is not published unless the operator accepted the
changes explicitly (`renfang run --accept-changes REASON`, recorded in the audit log).

What does not: the swap itself (`warehouse.staging`), Dagster.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from models.contracts import SOURCE_ORDER, default_contracts
from warehouse import write_log
from warehouse.connection import duckdb_config, sql_path

DEFAULT_MAX_CHANGE_SHARE = 0.5
"""Above this share of a clean table's established rows removed or changed, a run stops."""
MIN_ROWS_FOR_SHARE = 20
"""Tables smaller than this are judged by the firm guard only (a share of 3 rows means little)."""
NAMES_SHOWN = 10


@dataclass(frozen=True)
class GuardReport:
    removed_firms: list[str] = field(default_factory=list)
    changed_shares: dict[str, tuple[int, int]] = field(default_factory=dict)  # changed, of
    max_share: float = DEFAULT_MAX_CHANGE_SHARE

    @property
    def over_share(self) -> dict[str, tuple[int, int]]:
        return {
            t: (n, of)
            for t, (n, of) in self.changed_shares.items()
            if of >= MIN_ROWS_FOR_SHARE and n / of > self.max_share
        }

    @property
    def passed(self) -> bool:
        return not self.removed_firms and not self.over_share

    def message(self) -> str:
        parts = []
        if self.removed_firms:
            shown = "、".join(self.removed_firms[:NAMES_SHOWN])
            more = len(self.removed_firms) - NAMES_SHOWN
            tail = f" 等 {len(self.removed_firms)} 家" if more > 0 else ""
            parts.append(
                f"本次运行将删除已确认的单位 {shown}{tail} / the run would remove "
                f"{len(self.removed_firms)} established firm(s): "
                f"{', '.join(self.removed_firms[:NAMES_SHOWN])}"
            )
        for table, (n, of) in self.over_share.items():
            parts.append(
                f"{table}：{n}/{of} 行将被删除或改变（超过 {self.max_share:.0%}）/ {table}: "
                f"{n} of {of} rows would be removed or changed (over {self.max_share:.0%})"
            )
        if parts:
            parts.append(
                "如确属有意，请使用 --accept-changes 说明原因 / if intended, run again with "
                "--accept-changes REASON"
            )
        return "\n".join(parts)


def max_change_share() -> float:
    value = os.environ.get("RENFANG_MAX_CHANGE_SHARE")
    return float(value) if value else DEFAULT_MAX_CHANGE_SHARE


def compare(live: Path, staging: Path, *, every_row: bool = False) -> GuardReport:
    """What publishing `staging` over `live` would remove or change (nothing for a new
    warehouse). With `every_row`, the rows of the tables the run did not write are compared
    too (the same verdict, slower: what the tests hold the shortcut to)."""
    if not live.exists():
        return GuardReport(max_share=max_change_share())
    contracts = default_contracts()
    con = duckdb.connect(str(staging), read_only=True, config=duckdb_config())
    try:
        con.execute(f"ATTACH '{sql_path(live)}' AS live (READ_ONLY)")
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'live'"
            ).fetchall()
        }
        here = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name <> 'live'"
            ).fetchall()
        }
        # what this run wrote, as DuckDB recorded it (`warehouse.write_log`): a table it did
        # not write is not read; one it wrote is judged from the rows it removed and added
        candidates = [] if every_row else [n for n in SOURCE_ORDER if n in tables]
        unwritten = write_log.unchanged(con, "live", candidates)
        removed: list[str] = []
        if "firms" in tables and "firms" in here and "firms" not in unwritten:
            removed = [
                r[0]
                for r in con.execute(
                    "SELECT uscc FROM live.main.firms EXCEPT SELECT uscc FROM main.firms ORDER BY 1"
                ).fetchall()
            ]
        shares: dict[str, tuple[int, int]] = {}
        for name in SOURCE_ORDER:
            if name not in tables or name not in here or name not in contracts.sources:
                continue
            if name in unwritten:
                shares[name] = (0, unwritten[name])
                continue
            logged = None if every_row else write_log.changed_rows(con, "live", name)
            if logged is not None:  # the hashes of the rows the run removed and added
                [(of,)] = con.execute(f'SELECT count(*) FROM live.main."{name}"').fetchall()
                shares[name] = (logged, int(of))
                continue
            # the columns both copies have (a warehouse written before a column was added
            # keeps its old clean tables until this run replaces them)
            present = {
                (r[0], r[1])
                for r in con.execute(
                    "SELECT database_name, column_name FROM duckdb_columns() WHERE table_name = ?",
                    [name],
                ).fetchall()
            }
            databases = {db for db, _ in present}
            shared = [
                c
                for c in contracts.source(name).column_names
                if all((db, c) in present for db in databases)
            ]
            # rows compared by one 64-bit hash of their columns: the multiset difference of
            # a national table's hashes takes a fraction of the time and memory of whole
            # rows (a collision could hide one changed row in ~10^19, harmless to a share)
            columns = ", ".join(f'"{c}"' for c in shared)
            row = f"hash({columns})"
            [(of,)] = con.execute(f'SELECT count(*) FROM live.main."{name}"').fetchall()
            [(changed,)] = con.execute(
                f'SELECT count(*) FROM (SELECT {row} FROM live.main."{name}" '
                f'EXCEPT ALL SELECT {row} FROM main."{name}")'
            ).fetchall()
            shares[name] = (int(changed), int(of))
        con.execute("DETACH live")
    finally:
        con.close()
    return GuardReport(removed, shares, max_change_share())
