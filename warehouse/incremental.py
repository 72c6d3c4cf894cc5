"""Incremental runs: what each derivation step did last, and what changed since.

A run derives again only what its inputs changed. Every step that can work that way keeps,
inside the warehouse (so the staging copy and the swap keep it consistent with the tables
it describes):

- `derivation_state` — per step: the processing date and the fingerprint (contract, rule
  sets, code version) of its last derivation, and how far it has read the change log. A
  step with no state, another fingerprint, or a run tagged `full` rebuilds everything.
  (The quality gate's `gate:<source>` and the rounds' public lists, `public:<round_id>`
  — `warehouse.round_feedback` — keep their fingerprints there too.)
- `change_log` — the firms whose inputs of the next layer changed, appended by the step
  that changed them (`clean` → `records` → `spans` → `scores`, and `directory` for the
  firms whose directory row changed); a row without a firm means "every firm" (a full
  rebuild). Each consumer reads the entries after its watermark. A clean entry names its
  table (`clean:<table>`): the credit records derive again only the records of the tables
  that changed (those of a firm's other tables stay as stored). A `spans` entry names
  only a firm whose stored spans did change, with `since`: the first as-of date on which
  they did (a span counts from its `span_from`), so the scores of stored dates are derived
  again only for those firms and from that date (a day's new documents count from the
  day: no stored date changes). The spans read only the `records` firms whose changes
  can move a span: each `records` entry is followed by a `records:spans_kept` one naming
  those whose changed record rows the spans do not read (most of a day's: documents that
  expired before they were collected), and the statuses log the firms whose statuses
  changed (`statuses`); the statuses likewise (`records:statuses_kept`).
- `score_dates` — per stored as-of date, the position in the log its scores reflect (a
  date scored by a run with fewer partitions keeps its own watermark).
- `unvalidated_keys` — the key groups of each clean table the quality gate has not yet
  validated (`warehouse.gate_state`).

Exactness rests on one property of the engine: every derived row belongs to one firm and
depends only on that firm's inputs (a key group of a source, for the clean layer). A step
given a set of firms computes exactly the rows a full rebuild would give those firms.

What belongs here: these bookkeeping tables and their reads and writes (the gate's marks
excepted: `warehouse.gate_state`). What does not: deciding what a derived row is (models),
which rows a step re-derives (`warehouse.ingestion`, `warehouse.credit`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from models.contracts import SOURCE_ORDER, Contracts
from models.row_checks import RowRule
from warehouse.catalogue import schema_of
from warehouse.connection import query
from warehouse.tables import ensure_tables, insert

STATE_TABLES = ("derivation_state", "change_log", "score_dates", "unvalidated_keys")
"""Watermarks: they record how a table was derived (or what of it the quality gate has yet to
validate, `warehouse.gate_state`), not what it holds (a full rebuild and an incremental run
leave the same tables but different watermarks)."""

CLEAN_VERSION = "clean-incremental-1"
"""Bumped when the clean layer's code changes what it computes: the next run is full."""

ALL_FIRMS = None
"""A change-log entry without a firm: every firm changed (a full rebuild of the layer)."""

CLEAN = "clean"
"""The layer of firms whose clean rows changed, of a table not named (an entry an older
release wrote, read as: any of its clean tables)."""


def clean_layer(source: str) -> str:
    """The layer of firms whose rows of clean table `source` changed: the credit records
    derive again only the records of the sources that changed (`changed_sources`)."""
    return f"{CLEAN}:{source}"


CLEAN_LAYERS = (CLEAN, *(clean_layer(source) for source in SOURCE_ORDER))
"""Every layer of changed clean rows (`changes_since` of them: the firms, whatever table)."""

SPANS_KEPT = "records:spans_kept"
"""The firms of a `records` entry whose changes leave their spans as they are: no changed
record row the spans read (`models.scoring.moves_spans`), no changed directory row — their
statuses aside, which have a layer of their own (`STATUSES`). The credit records step
writes it right after the `records` entry it qualifies, so the spans skip a firm only if
each of its `records` entries since their watermark has one (an entry of an older release
has none: its firms are derived again)."""

STATUSES = "statuses"
"""The firms whose `credit_record_status` rows changed (null: every firm)."""

STATUSES_KEPT = "records:statuses_kept"
"""The firms of a `records` entry whose changes leave their statuses as they are: no
changed record row the statuses read (`models.engine.moves_statuses`), no changed case.
Written and read as `SPANS_KEPT`, by the statuses."""


@dataclass(frozen=True)
class StepState:
    seq: int
    processing_date: date | None
    fingerprint: str | None


def ensure_state(con: duckdb.DuckDBPyConnection) -> None:
    ensure_tables(con, STATE_TABLES)


def contracts_fingerprint(contracts: Contracts, rules: Sequence[RowRule] = ()) -> str:
    """What a clean step's output depends on besides the raw rows: its code, the contract
    and the cross-field row rules (the official rule sets' fine limits: adopting another
    rule set cleans penalty decisions again in full)."""
    parts = [CLEAN_VERSION, contracts.model_dump_json()]
    for rule in rules:
        parts += [rule.column, rule.code, *map(_expr_text, (rule.when, rule.note_zh, rule.note_en))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _expr_text(value: pl.Expr | str) -> str:
    return value if isinstance(value, str) else value.meta.serialize(format="json")


def read_step(con: duckdb.DuckDBPyConnection, step: str) -> StepState | None:
    """The step's state after its last derivation; None if it never derived here."""
    ensure_state(con)
    rows = con.execute(
        "SELECT seq, processing_date, fingerprint FROM derivation_state WHERE step = ?", [step]
    ).fetchall()
    if not rows:
        return None
    seq, day, fingerprint = rows[0]
    return StepState(int(seq), day, fingerprint)


def write_step(
    con: duckdb.DuckDBPyConnection,
    step: str,
    *,
    seq: int,
    processing_date: date | None,
    fingerprint: str | None,
) -> None:
    ensure_state(con)
    con.execute("DELETE FROM derivation_state WHERE step = ?", [step])
    row = {"step": step, "seq": seq, "processing_date": processing_date,
           "fingerprint": fingerprint}  # fmt: skip
    schema = schema_of("derivation_state")
    insert(con, "derivation_state", pl.DataFrame([row], schema=schema), schema)


LOG_COUNTER = "change_log"
"""The `derivation_state` row holding the last seq handed out (entries are pruned, the
numbering never goes back)."""


def last_seq(con: duckdb.DuckDBPyConnection) -> int:
    ensure_state(con)
    [(seq,)] = con.execute(
        "SELECT greatest((SELECT coalesce(max(seq), 0) FROM change_log), "
        "(SELECT coalesce(max(seq), 0) FROM derivation_state WHERE step = ?))",
        [LOG_COUNTER],
    ).fetchall()
    return int(seq)


def log_changes(
    con: duckdb.DuckDBPyConnection, layer: str, firms: Iterable[str | None] | None
) -> int:
    """Append the firms whose `layer` changed (`None`: every firm), on any date; returns the
    new seq."""
    values = [ALL_FIRMS] if firms is None else sorted({f for f in firms if f is not None})
    dated = pl.DataFrame({"uscc": values, "since": [None] * len(values)}, schema=DATED_SCHEMA)
    return log_dated_changes(con, layer, dated)


DATED_SCHEMA = pl.Schema({"uscc": pl.Utf8(), "since": pl.Date()})
"""Firms with the first as-of date on which their rows changed (null: any date)."""


def log_dated_changes(con: duckdb.DuckDBPyConnection, layer: str, firms: pl.DataFrame) -> int:
    """Append the firms (`DATED_SCHEMA`: each once) whose `layer` changed from `since` on;
    returns the new seq."""
    ensure_state(con)
    seq = last_seq(con) + 1
    if firms.is_empty():
        return seq - 1
    frame = firms.select(seq=pl.lit(seq), layer=pl.lit(layer), uscc="uscc", since="since")
    insert(con, "change_log", frame, schema_of("change_log"))
    write_step(con, LOG_COUNTER, seq=seq, processing_date=None, fingerprint=None)
    return seq


@dataclass(frozen=True)
class Changes:
    """The firms of one layer changed after a watermark (`every`: all of them)."""

    every: bool
    firms: pl.Series
    upto: int  # the highest seq read
    since: pl.DataFrame | None = None  # DATED_SCHEMA of `firms` (None: any date for each)

    @property
    def none(self) -> bool:
        return not self.every and self.firms.is_empty()


def changes_since(con: duckdb.DuckDBPyConnection, layers: Sequence[str], after: int) -> Changes:
    """The firms logged for `layers` after the watermark `after`, each with the earliest
    `since` of its entries (null if one has none)."""
    ensure_state(con)
    upto = last_seq(con)
    rows = query(
        con,
        "SELECT uscc, CASE WHEN count(since) = count(*) THEN min(since) END AS since "
        "FROM change_log WHERE layer IN (SELECT unnest(?::VARCHAR[])) AND seq > ? "
        "GROUP BY uscc ORDER BY uscc",
        [list(layers), after],
    ).cast(DATED_SCHEMA)
    every = bool(rows["uscc"].is_null().any())
    dated = rows.filter(pl.col("uscc").is_not_null())
    return Changes(every, dated["uscc"], upto, dated)


def changed_sources(con: duckdb.DuckDBPyConnection, after: int) -> pl.DataFrame:
    """The firms of the clean layers logged after the watermark `after`, each with the clean
    tables whose rows of it changed (`sources`, a list; null when an entry names no table:
    any of them may have)."""
    ensure_state(con)
    rows = query(
        con,
        "SELECT uscc, CASE WHEN bool_or(layer = ?) THEN NULL "
        "ELSE list_sort(list_distinct(list(substr(layer, ?)))) END AS sources "
        "FROM change_log WHERE layer IN (SELECT unnest(?::VARCHAR[])) AND seq > ? "
        "AND uscc IS NOT NULL GROUP BY uscc ORDER BY uscc",
        [CLEAN, len(CLEAN) + 2, list(CLEAN_LAYERS), after],
    )
    return rows.cast({"uscc": pl.Utf8(), "sources": pl.List(pl.Utf8())})


DATED_GROUPS = 4
"""At most this many groups of firms (`dated_groups`): each costs a scan of the stored rows."""


def dated_groups(
    changes: Changes, days: Sequence[date], most: int = DATED_GROUPS
) -> list[tuple[list[date], pl.Series]]:
    """The changed firms grouped by the dates of `days` they must be derived again on: each
    firm the dates from its `since` on (every date when not known), none when that is after
    the last. At most `most` groups: the earliest are merged (a firm derived again on more
    dates than it needs gets the same rows)."""
    ordered = sorted(set(days))
    since = changes.since
    if since is None:
        since = pl.DataFrame({"uscc": changes.firms}).with_columns(since=pl.lit(None, pl.Date))
    first = pl.Series(ordered, dtype=pl.Date).search_sorted(
        since["since"].fill_null(date.min), side="left"
    )
    firsts = since.select("uscc", first=first).filter(pl.col("first") < len(ordered))
    kept = sorted(set(firsts["first"].to_list()))[-(most - 1) :] if most > 1 else []
    firsts = firsts.with_columns(
        first=pl.when(pl.col("first").is_in(kept)).then("first").otherwise(pl.col("first").min())
    )
    return [
        (ordered[k:], group["uscc"].sort())
        for (k,), group in sorted(firsts.group_by("first"), key=lambda kv: kv[0][0])
    ]


def prune_log(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the entries every consumer has read (each layer's oldest watermark)."""
    ensure_state(con)
    consumers = {
        **{layer: ["credit_records"] for layer in CLEAN_LAYERS},
        "records": ["credit_record_status", "score_reasons", "penalty_disclosures",
                    "tier_paths"],
        SPANS_KEPT: ["score_reasons"],
        STATUSES_KEPT: ["credit_record_status"],
        STATUSES: ["score_reasons"],
        "spans": ["tier_changes"],
        "directory": [],
        "scores": ["tier_changes"],
    }  # fmt: skip
    by_dates = {"spans", "directory"}  # read by the scores of each stored date too
    [(dates_low,)] = con.execute("SELECT min(seq) FROM score_dates").fetchall()
    for layer, steps in consumers.items():
        rows = con.execute(
            "SELECT count(*), min(seq) FROM derivation_state "
            "WHERE step IN (SELECT unnest(?::VARCHAR[]))",
            [steps],
        ).fetchall()
        found, lowest = rows[0]
        if layer in by_dates and dates_low is not None:
            lowest = min(int(lowest), int(dates_low)) if lowest is not None else dates_low
        if found < len(steps) or lowest is None:
            continue
        con.execute("DELETE FROM change_log WHERE layer = ? AND seq <= ?", [layer, lowest])


def firms_frame(firms: pl.Series) -> pl.DataFrame:
    return pl.DataFrame({"uscc": firms.cast(pl.Utf8)})
