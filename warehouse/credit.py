"""Reading the credit engine's inputs from the warehouse and storing its outputs.

What belongs here: the SQL that loads clean tables for the engine (`models.engine`), the
writes that replace a set of as-of dates in `credit_scores` and the reason spans inside one
transaction, the register of rule sets that scored (`rule_sets`), and `score_and_store`
(`renfang score`). Shared by the Dagster assets and the CLI, so both store scores the same
way. What does not: any scoring rule or any "which dates" rule (models).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

from models.credit_records import (
    EVIDENCE_TYPES,
    NEVER_RECTIFIED,
    PENALTY_LOOKUP,
    SAME_FACT_SOURCES,
    in_record_order,
    overdue_vetoes,
    source_columns,
    source_records,
    sources_to_derive,
)
from models.credit_schema import RECORD_STATUS_SCHEMA
from models.disclosure import penalty_disclosures
from models.engine import (
    STATUS_RECORD_COLUMNS,
    moves_statuses,
    retired_records,
    score_documents,
    spans_of,
    statuses_of,
)
from models.rules import OfficialRules, RuleSet, RuleSetError, check_identity
from models.scoring import RECORD_COLUMNS, SPAN_SUM_SCHEMA, moves_spans, scores_from_sums
from models.tier_changes import SPAN_COLUMNS, moved_firms, tier_changes_from_spans
from models.tier_paths import (
    FOLLOWING_T,
    RECORD_EVENT_DATES,
    STATUS_EVENT_DATES,
    tier_paths,
)
from warehouse.catalogue import schema_of
from warehouse.connection import WarehouseLocation, query, table_exists, utc_now
from warehouse.incremental import (
    CLEAN_LAYERS,
    DATED_SCHEMA,
    SPANS_KEPT,
    STATUSES,
    STATUSES_KEPT,
    Changes,
    changed_sources,
    changes_since,
    dated_groups,
    last_seq,
    log_changes,
    log_dated_changes,
    prune_log,
    read_step,
    write_step,
)
from warehouse.staging import bump_generation
from warehouse.tables import Rewritten, ensure_tables, insert, rewrite_rows, table_ddl

RECORD_SOURCES = tuple(EVIDENCE_TYPES)
"""The clean tables that yield credit records, in derivation order."""


FIRMS_SQL = "SELECT uscc, name, firm_type, district, status FROM firms"

DOCUMENTS_PER_PART = 500_000
"""Source documents derived at once by `record_parts` (~1 GB of frames at the peak)."""

SCORES_BY_FIRM_INDEX = "credit_scores_by_firm"


@dataclass(frozen=True)
class EngineInputs:
    records: pl.DataFrame
    statuses: pl.DataFrame
    firms: pl.DataFrame


def read_sources(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    return {name: query(con, f'SELECT * FROM "{name}"') for name in RECORD_SOURCES}


def read_retired(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    """The retired rows of each record source (rows of withdrawn or superseded files)."""
    return {
        name: query(con, f'SELECT * FROM "retired_{name}"')
        for name in RECORD_SOURCES
        if table_exists(con, f"retired_{name}")
    }


def record_parts(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> Iterator[pl.DataFrame]:
    """The credit records of the clean tables, one part at a time, each read when the
    previous one has been consumed: the documents and records of all sources at once do not
    fit in memory at national scale.

    A part is one source's documents of one slice of firms (by a hash of the USCC: a firm's
    documents stay together, which the per-firm rules need), at most ~`DOCUMENTS_PER_PART`
    documents, sorted by (uscc, record_id, segment); circulars and correction notices are
    read with the same firms' penalty decisions (one fact, one deduction). The last part is
    the overdue-corrections vetoes, derived from the never-rectified notices of every part
    before it, current and retired (a set may span files). Together the parts hold exactly
    the rows of `derive_credit_records`, in the same order on every run of the same data.
    """
    failed: list[pl.DataFrame] = []  # never-rectified notices: the overdue veto's grounds

    def kept(part: pl.DataFrame) -> pl.DataFrame:
        failed.append(part.filter(pl.col("rule") == NEVER_RECTIFIED))
        return part

    lookup = ", ".join(PENALTY_LOOKUP)
    for name in RECORD_SOURCES:
        [(documents,)] = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()
        slices = max(1, -(-documents // DOCUMENTS_PER_PART))
        columns = _columns(source_columns(name, rules))
        for i in range(slices):
            # the slice as literals: bound as parameters, DuckDB took the modulo of the
            # (unsigned 64-bit) hash in 128-bit integers, 6× slower (17.5 s → 3.4 s to read
            # the slices of a national year's inspection outcomes)
            where = f"WHERE hash(uscc) % {int(slices)} = {int(i)}"
            part = query(con, f'SELECT {columns} FROM "{name}" {where}')
            # the same firms' penalty decisions: the fact a circular or notice may record
            penalties = (
                query(con, f"SELECT {lookup} FROM penalty_decisions {where}")
                if name in SAME_FACT_SOURCES
                else None
            )
            yield kept(in_record_order(source_records(name, part, rules, penalties)).collect())
    retired = read_retired(con)
    if retired:
        penalties = query(con, f"SELECT {lookup} FROM penalty_decisions")
        for name, rows in retired.items():
            yield kept(retired_records(name, rows, rules, penalties))
    yield in_record_order(overdue_vetoes(pl.concat(failed), rules).lazy()).collect()


def read_engine_inputs(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> EngineInputs:
    """Records and statuses derived under `rules` (one official rule set), and the firms."""
    version = [rules.version]
    return EngineInputs(
        records=query(con, "SELECT * FROM credit_records WHERE rule_set_version = ?", version),
        statuses=query(
            con,
            "SELECT * EXCLUDE (rule_set_version) FROM credit_record_status "
            "WHERE rule_set_version = ?",
            version,
        ),
        firms=query(con, FIRMS_SQL),
    )


def with_version(frame: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    return frame.with_columns(rule_set_version=pl.lit(rules.version, dtype=pl.Utf8))


def store_scores(
    con: duckdb.DuckDBPyConnection, scores: pl.DataFrame, dates: Sequence[date]
) -> None:
    """Replace exactly these as-of dates (other dates are history and are kept).

    The index on `uscc` serves one firm's history (the dashboards' firm profile: ~300 ms →
    ~2 ms at 100k firms × 66 dates). It is dropped while rows are replaced and rebuilt after:
    maintaining it row by row makes the write ten times slower (53 s instead of 5 s).
    """
    ensure_tables(con, ["credit_scores"])
    con.execute(f"DROP INDEX IF EXISTS {SCORES_BY_FIRM_INDEX}")
    con.execute(
        "DELETE FROM credit_scores WHERE as_of IN (SELECT unnest(?::DATE[]))", [list(dates)]
    )
    insert(con, "credit_scores", scores, schema_of("credit_scores"))
    con.execute(f"CREATE INDEX {SCORES_BY_FIRM_INDEX} ON credit_scores (uscc)")


def store_reason_spans(con: duckdb.DuckDBPyConnection, spans: pl.DataFrame) -> None:
    """Replace the reason spans and (re)define `score_reasons` over every stored as-of date.

    A reason counts on every as-of date T with span_from ≤ T < span_until: storing the spans
    (about one row per record) instead of one row per record and date keeps a national
    history of 60 month-ends at ~10M rows instead of ~10⁸, and `score_reasons` still reads
    like a table of firm × as-of × record.
    """
    spans_schema = schema_of("score_reason_spans")
    con.execute(table_ddl("score_reason_spans", spans_schema, replace=True))
    insert(con, "score_reason_spans", spans, spans_schema)
    define_reasons_view(con)


def define_reasons_view(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)define `score_reasons`: the stored spans expanded over every stored as-of date."""
    ensure_tables(con, ["credit_scores"])
    columns = ", ".join(
        "s.as_of" if c == "as_of" else f'r."{c}"' for c in schema_of("score_reasons").names()
    )
    con.execute(
        f"""CREATE OR REPLACE VIEW score_reasons AS
        SELECT {columns} FROM credit_scores s
        JOIN score_reason_spans r ON r.uscc = s.uscc AND r.span_from <= s.as_of
         AND (r.span_until IS NULL OR s.as_of < r.span_until)
         AND r.rule_set_version = s.rule_set_version"""
    )


def read_reason_spans(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> pl.DataFrame:
    """The reason spans computed under `rules`."""
    return query(
        con,
        "SELECT * EXCLUDE (rule_set_version) FROM score_reason_spans WHERE rule_set_version = ?",
        [rules.version],
    )


def read_reasons(
    con: duckdb.DuckDBPyConnection, dates: Sequence[date], columns: Sequence[str] = ()
) -> pl.DataFrame:
    """The `score_reasons` rows of `dates`: every column, or only `columns` (the view joins
    each score with its firm's spans, so the columns not asked for are never materialised:
    the reasons check of a national day reads its 1.5M rows in 0.4 s instead of 1.6 s)."""
    wanted = ", ".join(f'"{c}"' for c in columns) or "*"
    return query(
        con,
        f"SELECT {wanted} FROM score_reasons WHERE as_of IN (SELECT unnest(?::DATE[]))",
        [list(dates)],
    )


# --- incremental derivation of the credit layer ----------------------------------------------

CREDIT_DERIVATION_VERSION = "credit-incremental-2"
"""Bumped when this layer's code changes what it computes or what its change log means: the
next run derives it fully. Version 2: the spans log names only firms whose spans changed,
with the first date they changed, and the directory has a layer of its own — entries an
older release left unread would be read with the wrong meaning, so a warehouse written
before derives the credit layer once in full (~100 s at 100k firms)."""

RECORDS_PER_SLICE = 1_000_000
"""Credit records handled at once when a step derives every firm (slices of firms by a hash
of the USCC): the frames of a national table at once do not fit a small server."""
FIRMS_PER_CHUNK = 20_000
"""Changed firms handled at once by an incremental step."""
SCORES_PER_SLICE = 1_000_000
"""Score rows (firms × dates) computed at once when every firm is scored: a full rebuild's
~70 dates in slices, one new day's date of a national directory in one pass."""
BULK_SHARE = 10
"""A write of more than 1/BULK_SHARE of `credit_scores` drops its index and rebuilds it
after; a smaller one (a new day's date) keeps it: rebuilding it costs seconds at 100k firms."""


@dataclass(frozen=True)
class FirmSlice:
    """The firms one pass of a step works on: an SQL condition on `uscc` and its values."""

    condition: str
    params: tuple[object, ...]

    def where(self, column: str = "uscc") -> str:
        return self.condition.replace("uscc", f'"{column}"')


@dataclass(frozen=True)
class CreditUpdate:
    full: bool
    firms: int | None  # firms derived again (None: all of them)
    rows: int  # rows written


def rules_fingerprint(official: OfficialRules, *extra: object) -> str:
    """What a credit step's output depends on besides the clean rows: its code and the
    official rule sets with their start dates."""
    parts = [CREDIT_DERIVATION_VERSION, *map(str, extra)]
    parts += [f"{day}:{r.version}:{r.content_sha256}" for day, r in official.adopted]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def firm_slices(
    con: duckdb.DuckDBPyConnection, changes: Changes | None, *, score_rows: int | None = None
) -> list[FirmSlice]:
    """Every firm in hash slices (`changes` None or `every`) of about `RECORDS_PER_SLICE`
    records, or, when scoring `score_rows` rows (firms × dates), of about `SCORES_PER_SLICE`
    of them; else the changed firms in chunks; no slice when nothing changed."""
    if changes is None or changes.every:
        count = 1
        if score_rows is not None:
            count = -(-score_rows // SCORES_PER_SLICE)
        elif table_exists(con, "credit_records"):
            [(records,)] = con.execute("SELECT count(*) FROM credit_records").fetchall()
            count = -(-int(records) // RECORDS_PER_SLICE)
        return _range_slices(con, max(1, count))
    return firm_chunks(changes.firms)


def firm_chunks(firms: pl.Series) -> list[FirmSlice]:
    """These firms in slices of `FIRMS_PER_CHUNK`."""
    values = firms.to_list()
    return [
        FirmSlice("uscc IN (SELECT unnest(?::VARCHAR[]))", (values[i : i + FIRMS_PER_CHUNK],))
        for i in range(0, len(values), FIRMS_PER_CHUNK)
    ]


def _range_slices(con: duckdb.DuckDBPyConnection, count: int) -> list[FirmSlice]:
    """Every firm in `count` slices of consecutive USCCs, cut at the directory's quantiles.

    Ranges, not a hash: a range is a comparison DuckDB checks against each row group's
    min/max, and a full rebuild writes each step's table slice after slice, so the next
    step's reads of one slice skip the other slices' row groups instead of hashing every
    USCC of a national table once per slice. The open ends take USCCs outside the
    directory, and the first one a null USCC (in some slice, as the hash put it)."""
    bounds: list[str] = []
    if count > 1 and table_exists(con, "firms"):
        fractions = [i / count for i in range(1, count)]
        [(found,)] = con.execute(
            "SELECT quantile_disc(uscc, ?::DOUBLE[]) FROM firms", [fractions]
        ).fetchall()
        bounds = sorted({str(b) for b in found or [] if b is not None})
    if not bounds:
        return [FirmSlice("TRUE", ())]
    slices = [FirmSlice("(uscc IS NULL OR uscc < ?)", (bounds[0],))]
    slices += [FirmSlice("(uscc >= ? AND uscc < ?)", (lo, hi))
               for lo, hi in itertools.pairwise(bounds)]  # fmt: skip
    return [*slices, FirmSlice("uscc >= ?", (bounds[-1],))]


def _select(
    con: duckdb.DuckDBPyConnection, sql: str, part: FirmSlice, params: Sequence[object] = ()
) -> pl.DataFrame:
    """`sql` ending in WHERE-able text (`{where}` placeholder) for one slice of firms."""
    return query(con, sql.replace("{where}", part.where()), [*params, *part.params])


def _columns(names: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _renewed_slices(
    con: duckdb.DuckDBPyConnection, tables: Sequence[str], full: bool, changes: Changes
) -> Iterator[FirmSlice]:
    """The slices of firms a step derives again (when `full`, the tables made anew and every
    firm); the step writes each slice's rows with `_write_slice`."""
    if full:
        for table in tables:
            con.execute(table_ddl(table, schema_of(table), replace=True))
    yield from firm_slices(con, None if full else changes)


def _write_slice(
    con: duckdb.DuckDBPyConnection, table: str, rows: pl.DataFrame, part: FirmSlice, full: bool
) -> None:
    """A slice's derived rows: appended to a table made anew, else written over the slice's
    stored rows where they differ (`rewrite_rows`)."""
    if full:
        insert(con, table, rows, schema_of(table))
    else:
        rewrite_rows(con, table, rows, schema_of(table), where=part.where(), params=part.params)


def _plan(
    con: duckdb.DuckDBPyConnection,
    step: str,
    layers: Sequence[str],
    fingerprint: str,
    *,
    full: bool,
    tables: Sequence[str],
) -> tuple[bool, Changes]:
    """Whether `step` derives everything, and the changes it reads since its last run."""
    state = read_step(con, step)
    changes = changes_since(con, layers, state.seq if state else 0)
    full = (
        full
        or state is None
        or state.fingerprint != fingerprint
        or changes.every
        or not all(table_exists(con, t) for t in tables)
    )
    return full, changes


def update_records(
    con: duckdb.DuckDBPyConnection, official: OfficialRules, *, full: bool = False
) -> CreditUpdate:
    """`credit_records` for the firms whose clean rows changed since the last derivation
    (every firm when `full`, on the first run, or when the official rule sets changed),
    under every official rule set. The status rows of the firms' old records go with them
    (`update_statuses` derives the new ones). Logs the firms for the next steps."""
    step = "credit_records"
    fingerprint = rules_fingerprint(official)
    state = read_step(con, step)
    full, changes = _plan(con, step, CLEAN_LAYERS, fingerprint, full=full,
                          tables=["credit_records", "credit_record_status"])  # fmt: skip
    schema = schema_of("credit_records")
    rows = 0
    if full:
        con.execute(table_ddl("credit_records", schema, replace=True))
        con.execute(table_ddl("credit_record_status", schema_of("credit_record_status"),
                              replace=True))  # fmt: skip
        for _, rules in official.adopted:
            for records in record_parts(con, rules):
                insert(con, "credit_records", records, schema)
                rows += records.height
    else:
        found = changed_sources(con, state.seq if state else 0)
        moved: list[pl.Series] = []  # firms of changed rows the spans read (`moves_spans`)
        restated: list[pl.Series] = []  # … and the statuses (`moves_statuses`)
        for part in _record_parts_changed(found):
            derived = [
                records.select(list(schema)).cast(schema)
                for _, rules in official.adopted
                for records in _records_of(con, rules, part.by_source)
            ]
            records = pl.concat(derived) if derived else pl.DataFrame(schema=schema)
            written = rewrite_rows(con, "credit_records", records, schema, where=part.where,
                                   params=part.params)  # fmt: skip
            _drop_statuses_of_gone(con, written.gone, records)
            changed = pl.concat([written.gone, written.added])
            moved.append(changed.filter(moves_spans())["uscc"])
            cases = _select(con, "SELECT uscc, record_doc_no FROM credit_cases WHERE {where}",
                            part.firms)  # fmt: skip
            around = pl.concat([records, written.gone])  # every row that may name them
            restated.append(moves_statuses(changed, around, cases)["uscc"])
            rows += records.height
    log_changes(con, "records", None if full else changes.firms)
    if not full:
        log_changes(con, SPANS_KEPT, _kept(found, moved, "firms"))
        log_changes(con, STATUSES_KEPT, _kept(found, restated, "firms", "credit_cases"))
    write_step(con, step, seq=changes.upto, processing_date=None, fingerprint=fingerprint)
    return CreditUpdate(full, None if full else changes.firms.len(), rows)


def _kept(found: pl.DataFrame, moved: Sequence[pl.Series], *tables: str) -> pl.Series:
    """The firms of `found` (`changed_sources`) not in `moved`, none of whose changed
    tables is one of `tables` (or unknown: an entry naming no table)."""
    named = pl.col("sources").list.eval(pl.element().is_in(list(tables))).list.any()
    kept = found.filter(pl.col("sources").is_not_null() & ~named)["uscc"]
    if moved:
        kept = kept.filter(~kept.is_in(pl.concat(moved).implode()))
    return kept


@dataclass(frozen=True)
class ChangedRecords:
    """One chunk of changed firms for `update_records`: the firms whose records of each
    source are derived again (`by_source`), and the condition on `credit_records` that
    selects exactly the stored records of those firms and sources (`where`, `params`)."""

    by_source: dict[str, FirmSlice]
    where: str
    params: tuple[object, ...]
    firms: FirmSlice  # every firm of the chunk


def _record_parts_changed(found: pl.DataFrame) -> list[ChangedRecords]:
    """The firms whose clean rows changed (`found`: `changed_sources`), in chunks of
    `FIRMS_PER_CHUNK`, each with the record sources whose records of it may differ
    (`models.credit_records.sources_to_derive` of the tables that changed): a firm with one
    new inspection outcome derives its inspection records again, not its other sources'
    (most of a national day's ~9k firms have one new document). A firm whose cases or
    directory row alone changed derives no record."""
    pairs = [
        (uscc, source)
        for uscc, changed in found.iter_rows()
        for source in sources_to_derive(changed)
    ]
    firms = sorted({uscc for uscc, _ in pairs})
    parts = []
    for i in range(0, len(firms), FIRMS_PER_CHUNK):
        chunk = set(firms[i : i + FIRMS_PER_CHUNK])
        mine = [(uscc, source) for uscc, source in pairs if uscc in chunk]
        by_source = {
            name: FirmSlice("uscc IN (SELECT unnest(?::VARCHAR[]))", (sorted(firms_of),))
            for name in RECORD_SOURCES
            if (firms_of := [uscc for uscc, source in mine if source == name])
        }
        where = (
            "uscc IN (SELECT unnest(?::VARCHAR[])) AND EXISTS (SELECT 1 FROM (SELECT "
            "unnest(?::VARCHAR[]) AS u, unnest(?::VARCHAR[]) AS s) WHERE u = uscc AND s = source)"
        )
        params = (sorted(chunk), [u for u, _ in mine], [s for _, s in mine])
        everyone = FirmSlice("uscc IN (SELECT unnest(?::VARCHAR[]))", (sorted(chunk),))
        parts.append(ChangedRecords(by_source, where, params, everyone))
    return parts


def _drop_statuses_of_gone(
    con: duckdb.DuckDBPyConnection, deleted: pl.DataFrame, records: pl.DataFrame
) -> None:
    """Delete the status rows of the slice's records that are no longer derived: of the
    stored rows `rewrite_rows` deleted (`deleted`; a stored row of a record no longer
    derived cannot have been kept), those whose record is not among the new ones
    (`records`). `update_statuses` rewrites the others' where they differ."""
    keys = ["record_id", "rule_set_version"]
    stored = deleted.select(keys).unique()
    gone = stored.join(records.select(keys), on=keys, how="anti", nulls_equal=True)
    if gone.height:
        con.from_arrow(gone.to_arrow()).query(
            "_gone",
            "DELETE FROM credit_record_status WHERE rowid IN (SELECT s.rowid FROM "
            "credit_record_status s SEMI JOIN _gone USING (record_id, rule_set_version))",
        )


def _records_of(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, by_source: Mapping[str, FirmSlice]
) -> Iterator[pl.DataFrame]:
    """The records of each source of its slice of firms (`by_source`) as `record_parts`
    derives them: their documents in force (circulars and correction notices with the same
    firms' penalty decisions), their retired rows, and with the correction notices the
    overdue-corrections vetoes of the never-rectified ones (all per firm, so a slice of
    firms gives exactly those firms' records of the source)."""
    failed: list[pl.DataFrame] = []
    for name, part in by_source.items():
        penalties = None  # the fact a circular or notice may record: the same firms' decisions
        if name in SAME_FACT_SOURCES:
            lookup = ", ".join(PENALTY_LOOKUP)
            penalties = _select(con, f"SELECT {lookup} FROM penalty_decisions WHERE {{where}}",
                                part)  # fmt: skip
        columns = _columns(source_columns(name, rules))  # not the texts no record uses
        docs = _select(con, f'SELECT {columns} FROM "{name}" WHERE {{where}}', part)
        if docs.height:
            records = in_record_order(source_records(name, docs, rules, penalties)).collect()
            failed.append(records.filter(pl.col("rule") == NEVER_RECTIFIED))
            yield records
        if table_exists(con, f"retired_{name}"):
            retired = _select(con, f'SELECT * FROM "retired_{name}" WHERE {{where}}', part)
            if retired.height:
                records = retired_records(name, retired, rules, penalties)
                failed.append(records.filter(pl.col("rule") == NEVER_RECTIFIED))
                yield records
    # never-rectified notices are correction-notice records, and so are their vetoes
    if failed and "correction_notices" in by_source:
        yield in_record_order(overdue_vetoes(pl.concat(failed), rules).lazy()).collect()


def update_statuses(
    con: duckdb.DuckDBPyConnection, official: OfficialRules, *, full: bool = False
) -> CreditUpdate:
    """`credit_record_status` of the records of the firms `update_records` derived again —
    those whose changed records or cases can change a status (`_may_change`) —, from their
    credit cases and retired files, per official rule set. Logs the firms whose statuses
    did change (for the spans)."""
    step = "credit_record_status"
    fingerprint = rules_fingerprint(official)
    state = read_step(con, step)
    full, changes = _plan(con, step, ["records"], fingerprint, full=full,
                          tables=["credit_records", "credit_record_status"])  # fmt: skip
    if not full:
        changes = _may_change(con, changes, state.seq if state else 0, STATUSES_KEPT)
    schema = schema_of("credit_record_status")
    if full:
        con.execute(table_ddl("credit_record_status", schema, replace=True))
    rows = 0
    changed: list[pl.Series] = []  # firms of the status rows written
    for part in firm_slices(con, None if full else changes):
        cases = _select(con, "SELECT * FROM credit_cases WHERE {where}", part)
        derived, owners = [], []
        for _, rules in official.adopted:
            records = _select(
                con,
                f"SELECT {_columns(STATUS_RECORD_COLUMNS)} FROM credit_records "
                "WHERE rule_set_version = ? AND {where}",
                part,
                [rules.version],
            )
            derived.append(with_version(statuses_of(records, cases, rules), rules))
            owners.append(records.select("record_id", "uscc"))
        statuses = pl.concat([d.select(list(schema)).cast(schema) for d in derived])
        if full:
            insert(con, "credit_record_status", statuses, schema)
        else:  # the rows of records that still exist (`update_records` took the rest)
            where = f"record_id IN (SELECT record_id FROM credit_records WHERE {part.where()})"
            written = rewrite_rows(con, "credit_record_status", statuses, schema, where=where,
                                   params=part.params)  # fmt: skip
            ids = pl.concat([written.gone["record_id"], written.added["record_id"]])
            owner = pl.concat(owners).filter(pl.col("record_id").is_in(ids.implode()))
            changed.append(owner["uscc"])
        rows += statuses.height
    log_changes(con, STATUSES, None if full else (u for firms in changed for u in firms))
    write_step(con, step, seq=changes.upto, processing_date=None, fingerprint=fingerprint)
    return CreditUpdate(full, None if full else changes.firms.len(), rows)


def update_disclosures(
    con: duckdb.DuckDBPyConnection,
    rules: RuleSet | None,
    *,
    full: bool = False,
) -> CreditUpdate:
    """`penalty_disclosures` (`models.disclosure.penalty_disclosures`) under `rules` (the
    official set of the processing date; None: no feed): every decision when `full`, on a
    first run or when the set changed; else the decisions whose firm's records, statuses
    or cases changed, by document number — a number's versions decide each other (a later
    version revokes or replaces an earlier one, whichever firm it names), so every version
    of a touched number is derived again together."""
    step = "penalty_disclosures"
    schema = schema_of("penalty_disclosures")
    fingerprint = rules_fingerprint(
        OfficialRules(()), rules.version if rules else "", rules.content_sha256 if rules else ""
    )
    full, changes = _plan(con, step, ["records"], fingerprint, full=full,
                          tables=["penalty_disclosures"])  # fmt: skip
    retired = table_exists(con, "retired_penalty_decisions")
    stored = not full and table_exists(con, step)
    if full:
        con.execute(table_ddl(step, schema, replace=True))
    rows = 0
    # in full, one pass over every number (slices of firms would derive a number whose
    # versions name two firms twice)
    for part in [FirmSlice("TRUE", ())] if full else firm_slices(con, changes):
        numbers = f"SELECT doc_no FROM penalty_decisions WHERE {part.where()}"
        if retired:
            numbers += f" UNION SELECT doc_no FROM retired_penalty_decisions WHERE {part.where()}"
        if stored:  # a decision that left the clean tables (its firm no longer in the
            # directory, say) is still in the feed until its number is derived again
            numbers += f" UNION SELECT doc_no FROM {step} WHERE {part.where()}"
        params = [*part.params, *(part.params if retired else ()), *(part.params if stored else ())]
        docs = "TRUE" if full else f"doc_no IN ({numbers})"
        params = [] if full else params
        found = (
            _disclosures_of(con, rules, docs, params, retired)
            if rules
            else pl.DataFrame(schema=schema)
        )
        if full:
            insert(con, step, found, schema)
        else:
            rewrite_rows(con, step, found, schema, where=docs, params=params)
        rows += found.height
    write_step(con, step, seq=changes.upto, processing_date=None, fingerprint=fingerprint)
    return CreditUpdate(full, None if full else changes.firms.len(), rows)


def _disclosures_of(
    con: duckdb.DuckDBPyConnection,
    rules: RuleSet,
    docs: str,
    params: Sequence[object],
    retired: bool,
) -> pl.DataFrame:
    """The disclosure rows of the penalty decisions satisfying `docs`, with the statuses of
    penalty records and the day the centre knew each case."""
    current = query(con, f"SELECT * FROM penalty_decisions WHERE {docs}", params)
    old = (
        query(con, f"SELECT * FROM retired_penalty_decisions WHERE {docs}", params)
        if retired
        else None
    )
    statuses = query(
        con,
        "SELECT * EXCLUDE (rule_set_version) FROM credit_record_status "
        "WHERE rule_set_version = ? AND starts_with(record_id, 'penalty_decisions:')",
        [rules.version],
    )
    known = query(
        con,
        "SELECT c.case_id, CAST(min(f.first_seen_at) AS DATE) AS known_on "
        "FROM credit_cases c LEFT JOIN landing_files f ON f.sha256 = c.file_sha256 "
        "GROUP BY c.case_id",
    )
    return penalty_disclosures(current, old, statuses, known, rules)


def _engine_inputs(con: duckdb.DuckDBPyConnection, rules: RuleSet, part: FirmSlice) -> EngineInputs:
    """Records (the columns the spans and the tier paths read: `models.scoring.
    RECORD_COLUMNS`) and statuses under `rules` and the directory firms, of one slice of
    firms."""
    records = _select(
        con,
        f"SELECT {_columns(RECORD_COLUMNS)} FROM credit_records WHERE rule_set_version = ? "
        "AND {where}",
        part,
        [rules.version],
    )
    statuses = _select(
        con,
        "SELECT * EXCLUDE (rule_set_version) FROM credit_record_status "
        "WHERE rule_set_version = ? AND record_id IN (SELECT record_id FROM credit_records "
        "WHERE rule_set_version = ? AND {where})",
        part,
        [rules.version, rules.version],
    )
    firms = _select(con, f"{FIRMS_SQL} WHERE {{where}}", part)
    return EngineInputs(records, statuses, firms)


def update_spans(
    con: duckdb.DuckDBPyConnection, official: OfficialRules, *, full: bool = False
) -> CreditUpdate:
    """`score_reason_spans` of the firms whose records or statuses changed (every firm when
    `full`) — of the records, the rows the spans read (`_may_change`) —, per official
    rule set, and the `score_reasons` view over them. Logs, for the
    scores and the tier changes, the firms whose spans did change, each from the first date
    on which they did (`changed_from`)."""
    step = "score_reasons"
    fingerprint = rules_fingerprint(official)
    state = read_step(con, step)
    full, changes = _plan(con, step, ["records", STATUSES], fingerprint, full=full,
                          tables=["score_reason_spans"])  # fmt: skip
    if not full:
        changes = _may_change(con, changes, state.seq if state else 0, SPANS_KEPT, STATUSES)
    schema = schema_of("score_reason_spans")
    rows = 0
    dated = [pl.DataFrame(schema=DATED_SCHEMA)]
    for part in _renewed_slices(con, ["score_reason_spans"], full, changes):
        derived = []
        for _, rules in official.adopted:
            inputs = _engine_inputs(con, rules, part)
            spans = with_version(spans_of(inputs.records, inputs.statuses, inputs.firms, rules),
                                 rules)  # fmt: skip
            derived.append(spans.select(list(schema)).cast(schema))
        spans = pl.concat(derived)
        if full:
            insert(con, "score_reason_spans", spans, schema)
        else:
            written = rewrite_rows(con, "score_reason_spans", spans, schema,
                                   where=part.where(), params=part.params)  # fmt: skip
            dated.append(changed_from(written))
        rows += spans.height
    define_reasons_view(con)
    if full:
        log_changes(con, "spans", None)
    else:
        log_dated_changes(con, "spans", pl.concat(dated))
    write_step(con, step, seq=changes.upto, processing_date=None, fingerprint=fingerprint)
    return CreditUpdate(full, None if full else changes.firms.len(), rows)


def _may_change(
    con: duckdb.DuckDBPyConnection, changes: Changes, after: int, kept: str, *also: str
) -> Changes:
    """Of the firms logged after the watermark `after` (`changes` of `records` and `also`),
    those a step must derive again: a firm with a `records` entry not qualified by a `kept`
    one (`SPANS_KEPT`, `STATUSES_KEPT`: each run's records step writes at most one of each
    per firm), or logged in a layer of `also`. A national day's ~9k firms with new
    documents are mostly firms whose new documents expired before they were collected, with
    no case, veto or linked fact: ~1k firms remain for the spans, ~1.5k for the statuses."""
    found = query(
        con,
        "SELECT uscc FROM change_log WHERE seq > ? AND uscc IS NOT NULL "
        "AND layer IN (SELECT unnest(?::VARCHAR[])) GROUP BY uscc "
        "HAVING count(*) FILTER (layer = 'records') > count(*) FILTER (layer = ?) "
        "OR bool_or(layer IN (SELECT unnest(?::VARCHAR[]))) ORDER BY uscc",
        [after, ["records", kept, *also], kept, list(also)],
    )
    firms = found["uscc"].cast(pl.Utf8)
    return Changes(every=False, firms=firms, upto=changes.upto)


def changed_from(written: Rewritten) -> pl.DataFrame:
    """The firms of spans deleted or inserted (`DATED_SCHEMA`), each from the earliest
    `span_from` among them: a span counts on T when span_from ≤ T < span_until, so on a date
    before it the firm's counting spans — its score and reasons — are as they were (a day's
    new documents count from the day they were collected)."""
    touched = pl.concat([written.gone.select("uscc", "span_from"),
                         written.added.select("uscc", "span_from")])  # fmt: skip
    earliest = pl.col("span_from").min()
    since = pl.when(pl.col("span_from").is_null().any()).then(None).otherwise(earliest)
    return (
        touched.filter(pl.col("uscc").is_not_null())
        .group_by("uscc")
        .agg(since=since)
        .cast(DATED_SCHEMA)
        .sort("uscc")
    )


@dataclass(frozen=True)
class ScoresUpdate:
    dates: list[date]
    scores: pl.DataFrame  # the rows written (all firms on a new date, changed firms on others)
    firms: int | None  # firms rescored on dates already stored (None: all)


def update_scores(
    con: duckdb.DuckDBPyConnection,
    official: OfficialRules,
    dates: Sequence[date],
    *,
    full: bool = False,
) -> ScoresUpdate:
    """Scores of `dates`: on a date not stored yet (or `full`), every firm of the directory;
    on a stored date, the firms whose spans changed since that date was scored
    (`score_dates`) if they changed on or before it (`changed_from`), and those that entered
    or left the directory (a firm's scores depend on nothing else). Other dates are history
    and are kept. Logs the firms for the tier changes."""
    ensure_tables(con, ["credit_scores", "score_dates"])
    stored = {
        (day, version): int(seq)
        for day, version, seq in con.execute(
            "SELECT as_of, rule_set_version, seq FROM score_dates"
        ).fetchall()
    }
    upto = last_seq(con)
    [(last_stored,)] = con.execute("SELECT max(as_of) FROM credit_scores").fetchall()
    written: list[pl.DataFrame] = []
    every_on: list[date] = []
    changed: set[str] = set()
    rescored: set[str] = set()
    for rules, in_force in official.partition(dates):
        by_watermark: dict[int, list[date]] = {}
        for day in in_force:
            seen = stored.get((day, rules.version))
            if full or seen is None:
                every_on.append(day)
            else:
                by_watermark.setdefault(seen, []).append(day)
        written += _score_all(con, rules, [d for d in every_on if d in in_force])
        for seen, days in by_watermark.items():
            changes = changes_since(con, ["spans", "directory"], seen)
            if changes.every:
                every_on += days
                written += _score_all(con, rules, days)
                continue
            for since_days, firms in dated_groups(changes, days):
                rescored |= set(firms.to_list())
                for part in firm_chunks(firms):
                    scores = _score_part(con, rules, since_days, part)
                    _store_part(con, scores, since_days, part)
                    written.append(scores)
                    changed |= set(scores["uscc"].to_list())
    # dates no run scores again (a past processing date) keep no watermark: were one scored
    # again (a run dated back), every firm would be; month ends stay for the next runs
    con.execute(
        "DELETE FROM score_dates WHERE as_of IN (SELECT unnest(?::DATE[])) "
        "OR as_of <> last_day(as_of)",
        [list(dates)],
    )
    rows = [
        (day, rules.version, upto) for rules, in_force in official.partition(dates)
        for day in in_force
    ]  # fmt: skip
    if rows:
        frame = pl.DataFrame(rows, schema=schema_of("score_dates"), orient="row")
        insert(con, "score_dates", frame, schema_of("score_dates"))
    # dates after every stored one (the next day's) are appended history: the tier changes
    # find them by their own watermark (`update_tier_changes`), so only the firms rescored
    # on earlier dates are logged; anything else scored for every firm changes every firm
    appended = not full and all(last_stored is None or day > last_stored for day in every_on)
    log_changes(con, "scores", None if every_on and not appended else changed)
    scores = pl.concat(written) if written else pl.DataFrame(schema=schema_of("credit_scores"))
    return ScoresUpdate(sorted(set(dates)), scores, None if every_on else len(rescored))


def _score_part(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, days: Sequence[date], part: FirmSlice
) -> pl.DataFrame:
    firms = _select(con, f"{FIRMS_SQL} WHERE {{where}}", part)
    return score_stored_spans(con, rules, days, firms, part)


def score_stored_spans(
    con: duckdb.DuckDBPyConnection,
    rules: RuleSet,
    days: Sequence[date],
    firms: pl.DataFrame,
    part: FirmSlice | None = None,
) -> pl.DataFrame:
    """CREDIT_SCORE_SCHEMA rows of `firms` (the directory, or its slice `part`) on `days`
    from the stored spans under `rules`: the sums in DuckDB (`span_sums`), the tiers in
    polars (`scores_from_sums`). How the pipeline scores, and what `benchmarks/pipeline.py`
    times against a bare aggregate."""
    return scores_from_sums(span_sums(con, rules, days, part), firms, rules, days)


SPAN_SUMS_SQL = """
SELECT uscc, as_of, bonus, deduction, counting_records,
       picked.u AS veto_until, picked.r AS veto_reason
FROM (
  SELECT uscc, {as_of} AS as_of,
         CAST(coalesce(sum(points_micro) FILTER (polarity = 'good'), 0) AS BIGINT) AS bonus,
         CAST(coalesce(sum(-points_micro) FILTER (polarity <> 'good'), 0) AS BIGINT)
           AS deduction,
         count(*) AS counting_records,
         arg_min(struct_pack(u := valid_until, r := veto_reason), veto_rank) AS picked
  FROM score_reason_spans{days}
  WHERE rule_set_version = ? AND {where}
    AND span_from <= {as_of} AND (span_until IS NULL OR span_until > {as_of})
  GROUP BY uscc{by_date})
"""
"""`models.scoring.span_sums` as one DuckDB aggregate over the stored spans: the filter and
sums of an as-of scoring run where the spans are, and only one row per firm and date
reaches polars (`scores_from_sums`).

One scan and one group-by of integers: the sums from the stored whole millionths
(`points_micro`), and the veto reported from the smallest stored `veto_rank` (`arg_min`
skips the spans without one; the struct keeps an open veto's null `valid_until`), never
reading the record ids. One date is a constant in the filter; several are a join with
the list of dates (every date in one scan)."""


def span_sums(
    con: duckdb.DuckDBPyConnection,
    rules: RuleSet,
    days: Sequence[date],
    part: FirmSlice | None = None,
) -> pl.DataFrame:
    """SPAN_SUM_SCHEMA rows of the stored spans under `rules` on `days` (of a slice of
    firms), equal to `models.scoring.span_sums` of the same spans."""
    dates = sorted(set(days))
    where = part.where() if part else "TRUE"
    params: list[object] = [rules.version, *(part.params if part else ())]
    if len(dates) == 1:  # a literal: the scan filters on it, no join
        shape = {"as_of": f"DATE '{dates[0].isoformat()}'", "days": "", "by_date": ""}
    else:
        shape = {"as_of": "d.as_of", "days": ", (SELECT unnest(?::DATE[]) AS as_of) d",
                 "by_date": ", d.as_of"}  # fmt: skip
        params = [dates, *params]
    sql = SPAN_SUMS_SQL.format(where=where, **shape)
    return query(con, sql, params).cast(SPAN_SUM_SCHEMA)


def _score_all(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, days: Sequence[date]
) -> list[pl.DataFrame]:
    """Every firm's scores on `days` (not stored yet, or rebuilt), slice by slice; the
    dates' earlier rows are replaced. The firm index is dropped and rebuilt only around a
    bulk write (`BULK_SHARE`, `store_scores`)."""
    if not days:
        return []
    [(stored,)] = con.execute("SELECT count(*) FROM credit_scores").fetchall()
    [(firms,)] = con.execute("SELECT count(*) FROM firms").fetchall()
    rows = int(firms) * len(days)
    bulk = rows * BULK_SHARE > int(stored)
    if bulk:
        con.execute(f"DROP INDEX IF EXISTS {SCORES_BY_FIRM_INDEX}")
    con.execute("DELETE FROM credit_scores WHERE as_of IN (SELECT unnest(?::DATE[]))", [days])
    parts = []
    for part in firm_slices(con, None, score_rows=rows):
        scores = _score_part(con, rules, days, part)
        insert(con, "credit_scores", scores, schema_of("credit_scores"))
        parts.append(scores)
    con.execute(f"CREATE INDEX IF NOT EXISTS {SCORES_BY_FIRM_INDEX} ON credit_scores (uscc)")
    return parts


def _store_part(
    con: duckdb.DuckDBPyConnection, scores: pl.DataFrame, days: Sequence[date], part: FirmSlice
) -> None:
    """Replace these firms' scores on these dates (a firm that left the directory loses
    them, as a full rebuild of the dates would)."""
    rewrite_rows(
        con,
        "credit_scores",
        scores,
        schema_of("credit_scores"),
        where=f"as_of IN (SELECT unnest(?::DATE[])) AND {part.where()}",
        params=[list(days), *part.params],
    )


def update_tier_changes(
    con: duckdb.DuckDBPyConnection, latest: RuleSet | None, *, full: bool = False
) -> CreditUpdate:
    """`tier_changes` of the firms whose scores or spans changed (every firm when `full`),
    from every stored score and the latest rule set's spans; plus, for every other firm,
    the changes onto the dates stored after the last derivation (its watermark: the latest
    date it covered), read off the scores from the date before them on — a new day's date
    costs two dates of scores, not every firm's history."""
    step = "tier_changes"
    fingerprint = rules_fingerprint(OfficialRules(()), latest.version if latest else "")
    state = read_step(con, step)
    full, changes = _plan(con, step, ["spans", "scores"], fingerprint, full=full,
                          tables=["tier_changes"])  # fmt: skip
    covered = state.processing_date if state else None
    [(last,)] = con.execute("SELECT max(as_of) FROM credit_scores").fetchall()
    # a watermark-less (older) state, or dates gone from under it: derive once in full
    full = full or covered is None or (last is not None and last < covered)
    rows = 0
    for part in _renewed_slices(con, ["tier_changes"], full, changes):
        changed = (
            _tier_changes_of(con, latest, part, None)
            if latest is not None
            else pl.DataFrame(schema=schema_of("tier_changes"))
        )
        _write_slice(con, "tier_changes", changed, part, full)
        rows += changed.height
    if not full and latest is not None and last is not None and covered and last > covered:
        rows += _append_tier_changes(con, latest, covered, changes.firms)
    write_step(con, step, seq=changes.upto, processing_date=last, fingerprint=fingerprint)
    return CreditUpdate(full, None if full else changes.firms.len(), rows)


def _tier_changes_of(
    con: duckdb.DuckDBPyConnection, latest: RuleSet, part: FirmSlice, since: date | None
) -> pl.DataFrame:
    """The tier changes of a slice of firms between their scores from `since` on (all of
    them when None). Only the firms whose tier moved read their spans, and only the columns
    the causes need: most changed firms keep their tier, and the spans' texts are most of
    their width."""
    dated = "" if since is None else "as_of >= ? AND "
    scores = _select(
        con, f"SELECT uscc, as_of, score, tier FROM credit_scores WHERE {dated}{{where}}", part,
        [] if since is None else [since],
    )  # fmt: skip
    moved = moved_firms(scores).to_list()
    columns = ", ".join(SPAN_COLUMNS)
    spans = _select(
        con,
        f"SELECT {columns} FROM score_reason_spans WHERE rule_set_version = ? "
        "AND uscc IN (SELECT unnest(?::VARCHAR[])) AND {where}",
        part,
        [latest.version, moved],
    )
    return tier_changes_from_spans(scores, spans)


def _append_tier_changes(
    con: duckdb.DuckDBPyConnection, latest: RuleSet, covered: date, derived: pl.Series
) -> int:
    """The changes onto the dates after `covered` of every firm not `derived` again in full:
    from the last stored date up to `covered` (the pairs before it are stored and did not
    change) — only the firms whose tier moved on those dates read their spans."""
    [(anchor,)] = con.execute(
        "SELECT max(as_of) FROM credit_scores WHERE as_of <= ?", [covered]
    ).fetchall()
    since = anchor if anchor is not None else covered + timedelta(days=1)
    window = query(
        con, "SELECT uscc, as_of, score, tier FROM credit_scores WHERE as_of >= ?", [since]
    ).filter(~pl.col("uscc").is_in(derived.implode()))
    moved = moved_firms(window).to_list()
    rows = 0
    for i in range(0, len(moved), FIRMS_PER_CHUNK):
        chunk = moved[i : i + FIRMS_PER_CHUNK]
        part = FirmSlice("uscc IN (SELECT unnest(?::VARCHAR[]))", (chunk,))
        changed = _tier_changes_of(con, latest, part, since)
        insert(con, "tier_changes", changed, schema_of("tier_changes"))
        rows += changed.height
    return rows


def update_tier_paths(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, as_of: date, *, full: bool = False
) -> CreditUpdate:
    """`tier_paths` and `repair_options` as of the processing date: of the firms whose
    records, statuses or directory row may have changed (`update_records` logs them), and,
    when the date moved on, of the firms with an event since the date before
    (`models.tier_paths.firms_with_events`); every other firm's rows follow the date in
    place (`_move_on`). Every firm when the rule set changed, the date moved back, or
    `full`."""
    step = "tier_paths"
    fingerprint = rules_fingerprint(OfficialRules(()), rules.version, rules.content_sha256)
    state = read_step(con, step)
    full, changes = _plan(con, step, ["records"], fingerprint, full=full,
                          tables=["tier_paths", "repair_options"])  # fmt: skip
    before = state.processing_date if state else None
    full = full or before is None or before > as_of
    if not full and before is not None and before < as_of:
        moved = event_firms(con, rules, before, as_of)
        firms = pl.concat([changes.firms, moved]).unique().sort()
        changes = Changes(every=False, firms=firms, upto=changes.upto)
        _move_on(con, as_of)  # the rows of the firms derived again go below
    rows = 0
    for part in _renewed_slices(con, ["tier_paths", "repair_options"], full, changes):
        inputs = _engine_inputs(con, rules, part)
        paths, options = tier_paths(inputs.records, inputs.statuses, inputs.firms, rules, as_of)
        _write_slice(con, "tier_paths", paths, part, full)
        _write_slice(con, "repair_options", options, part, full)
        rows += paths.height
    write_step(con, step, seq=changes.upto, processing_date=as_of, fingerprint=fingerprint)
    prune_log(con)
    return CreditUpdate(full, None if full else changes.firms.len(), rows)


def event_firms(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, after: date, upto: date
) -> pl.Series:
    """`models.tier_paths.firms_with_events` of the stored records and statuses under
    `rules`, in DuckDB: a scan of the date columns, only the few firms reach polars."""

    low, high = (f"DATE '{day.isoformat()}'" for day in (after, upto))  # as `span_sums`

    def in_between(columns: Sequence[str]) -> str:
        return " OR ".join(f'("{c}" > {low} AND "{c}" <= {high})' for c in columns)

    sql = f"""
        SELECT uscc FROM credit_records
        WHERE rule_set_version = ? AND ({in_between(RECORD_EVENT_DATES)})
        UNION
        SELECT r.uscc FROM credit_records r
        SEMI JOIN (SELECT record_id FROM credit_record_status
                   WHERE rule_set_version = ? AND ({in_between(STATUS_EVENT_DATES)})) s
          USING (record_id)
        WHERE r.rule_set_version = ?
    """
    return query(con, sql, [rules.version] * 3).get_column("uscc").sort()


def _move_on(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    """Every stored row of `tier_paths` and `repair_options` as of a later date T, for firms
    without events in between: the columns `models.tier_paths.FOLLOWING_T` names get T or
    max(value, T) — `models.tier_paths.moved_on` in one UPDATE per table."""
    for table, columns in FOLLOWING_T.items():
        sets = [f'"{c}" = $as_of' for c in columns.today]
        sets += [f'"{c}" = greatest("{c}", $as_of)' for c in columns.not_before]
        con.execute(f'UPDATE "{table}" SET {", ".join(sets)}', {"as_of": as_of})


class MissingWarehouseError(RuntimeError):
    """The warehouse has no clean tables yet: `renfang run` must ingest first."""


def _score_now(warehouse: WarehouseLocation, rules: RuleSet, as_of: date) -> pl.DataFrame:
    """Scores of every firm as of one date under `rules`, from the clean tables (and the
    retired rows), through the one engine sequence."""
    with warehouse.connect(read_only=True) as con:
        if not table_exists(con, "firms"):
            raise MissingWarehouseError(
                f"{warehouse.file} has no clean tables: run `renfang run` first"
            )
        sources = read_sources(con)
        retired = read_retired(con)
        cases = query(con, "SELECT * FROM credit_cases")
        firms = query(con, FIRMS_SQL)
    return score_documents(sources, cases, firms, rules, [as_of], retired).scores


def official_for(warehouse: WarehouseLocation, as_of: date) -> RuleSet:
    """The official rule set in force on `as_of`; a date before the earliest one is refused
    (nothing official scored it, and no rule may be applied before its adoption)."""
    with warehouse.connect(read_only=True) as con:
        official = official_rules(con)
    rules = official.for_date(as_of)
    if rules is None:
        first = official.earliest
        raise NotOfficialError(
            f"{as_of} 早于最早的正式评价标准生效日 {first} / {as_of} is before the earliest "
            f"official rule set's effective date {first}"
            if first
            else "尚无正式评价标准，请先运行 renfang run / no official rule set yet: run "
            "`renfang run` first"
        )
    return rules


def score_and_store(warehouse: WarehouseLocation, rules: RuleSet, as_of: date) -> int:
    """Official scores of every firm as of one date, stored (the date's other scores are
    replaced, every other date is kept). `rules` must be the official rule set of that date:
    its reason spans are those the last run stored, so `score_reasons` explains the new
    date too."""
    official = official_for(warehouse, as_of)
    if (official.version, official.content_sha256) != (rules.version, rules.content_sha256):
        raise NotOfficialError(
            f"{as_of} 的正式评价标准是 {official.version}，不是 {rules.version}；测算请用 "
            f"--scenario / the official rule set for {as_of} is {official.version}, not "
            f"{rules.version}; try other rules as a scenario (--scenario NAME)"
        )
    scores = _score_now(warehouse, rules, as_of)
    with warehouse.transaction() as con:
        store_scores(con, scores, [as_of])
        # scored outside a run: the next run that scores this date rescores every firm
        if table_exists(con, "score_dates"):
            con.execute("DELETE FROM score_dates WHERE as_of = ?", [as_of])
        bump_generation(con)
    return scores.height


def score_scenario(
    warehouse: WarehouseLocation, rules: RuleSet, as_of: date, name: str, actor: str
) -> pl.DataFrame:
    """A what-if: scores under `rules` stored as scenario `name` (never official); returns
    the firms whose tier moves against the official scores of the date, counted by tier
    pair (from, to, firms)."""
    with warehouse.connect(read_only=True) as con:
        check_identity(rules, known_rule_sets(con))
    scores = _score_now(warehouse, rules, as_of)
    official = _score_now(warehouse, official_for(warehouse, as_of), as_of)
    rows = scores.with_columns(
        scenario=pl.lit(name),
        content_sha256=pl.lit(rules.content_sha256),
        created_at=pl.lit(utc_now(), dtype=pl.Datetime("us")),
        actor=pl.lit(actor),
    )
    schema = schema_of("scenario_scores")
    with warehouse.transaction() as con:
        ensure_tables(con, ["scenario_scores"])
        con.execute("DELETE FROM scenario_scores WHERE scenario = ? AND as_of = ?", [name, as_of])
        insert(con, "scenario_scores", rows, schema)
        bump_generation(con)
    moves = (
        official.select("uscc", from_tier="tier")
        .join(scores.select("uscc", to_tier="tier"), on="uscc")
        .filter(pl.col("from_tier") != pl.col("to_tier"))
    )
    return moves.group_by("from_tier", "to_tier").agg(firms=pl.len()).sort("from_tier", "to_tier")


class NotOfficialError(RuleSetError):
    """A rule set given for official scores is not official (for that date)."""


def known_rule_sets(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """version → content hash of every rule set the warehouse has registered."""
    if not table_exists(con, "rule_sets"):
        return {}
    rows = con.execute("SELECT rule_set_version, content_sha256 FROM rule_sets").fetchall()
    return {str(v): str(h) for v, h in rows}


def register_rule_set(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> None:
    """Keep the content of a rule set that scores are stored under (once per version), so
    any stored score's tier labels and thresholds can be read back; a known version with
    other content is refused (`RuleSetIdentityError`)."""
    ensure_tables(con, ["rule_sets"])
    known = known_rule_sets(con)
    check_identity(rules, known)
    if rules.version in known:
        return
    row = {
        "rule_set_version": rules.version,
        "content_sha256": rules.content_sha256,
        "content": rules.canonical_json(),
        "first_used_at": utc_now(),
    }
    insert(con, "rule_sets", pl.DataFrame([row]), schema_of("rule_sets"))


def official_rules(con: duckdb.DuckDBPyConnection) -> OfficialRules:
    """The official rule sets with their start dates (none in a new warehouse)."""
    if not table_exists(con, "official_rule_sets"):
        return OfficialRules(())
    rows = con.execute(
        "SELECT o.effective_from, r.content FROM official_rule_sets o JOIN rule_sets r "
        "USING (rule_set_version, content_sha256) ORDER BY o.effective_from"
    ).fetchall()
    return OfficialRules(tuple((day, RuleSet.model_validate_json(text)) for day, text in rows))


def adopt_rule_set(
    con: duckdb.DuckDBPyConnection,
    rules: RuleSet,
    effective_from: date,
    *,
    actor: str,
    reason: str,
) -> None:
    """Make `rules` official from `effective_from` (inside the caller's transaction)."""
    if effective_from < rules.effective_from:
        raise RuleSetError(
            f"评价标准 {rules.version} 自 {rules.effective_from} 起才有效，不能自 "
            f"{effective_from} 起采用 / rule set {rules.version} is effective from "
            f"{rules.effective_from}; it cannot be adopted from {effective_from}"
        )
    register_rule_set(con, rules)
    ensure_tables(con, ["official_rule_sets"])
    taken = con.execute(
        "SELECT rule_set_version FROM official_rule_sets WHERE effective_from = ?",
        [effective_from],
    ).fetchall()
    if taken:
        raise RuleSetError(
            f"{effective_from} 起已采用评价标准 {taken[0][0]} / rule set {taken[0][0]} is "
            f"already official from {effective_from}"
        )
    row = {
        "rule_set_version": rules.version,
        "content_sha256": rules.content_sha256,
        "effective_from": effective_from,
        "adopted_at": utc_now(),
        "actor": actor,
        "reason": reason,
    }
    schema = schema_of("official_rule_sets")
    insert(con, "official_rule_sets", pl.DataFrame([row], schema=schema), schema)


def ensure_official(
    con: duckdb.DuckDBPyConnection, configured: RuleSet, *, explicit: bool
) -> OfficialRules:
    """The official rule sets; a new warehouse adopts the configured one from its own
    `effective_from`. A rule set named explicitly (`--rules`, `$RENFANG_RULES`) must be one
    of them: official scores come only from official rules (a what-if is a scenario)."""
    official = official_rules(con)
    if not official.adopted:
        adopt_rule_set(
            con, configured, configured.effective_from, actor="system",
            reason="初次运行采用 / adopted by the first run",
        )  # fmt: skip
        return official_rules(con)
    check_identity(configured, known_rule_sets(con))
    if explicit and all(
        r.version != configured.version or r.content_sha256 != configured.content_sha256
        for _, r in official.adopted
    ):
        raise NotOfficialError(
            f"评价标准 {configured.version} 不是正式标准；请用 `renfang rules adopt` 采用，或用 "
            f"`renfang score --scenario` 测算 / rule set {configured.version} is not official: "
            "adopt it with `renfang rules adopt FILE --from DATE`, or try it as a scenario "
            "(`renfang score --rules FILE --scenario NAME`)"
        )
    return official


def stored_rule_set(con: duckdb.DuckDBPyConnection, version: str) -> RuleSet | None:
    """The rule set scores name as `version` (its latest registered content), if known."""
    if not table_exists(con, "rule_sets"):
        return None
    rows = con.execute(
        "SELECT content FROM rule_sets WHERE rule_set_version = ? "
        "ORDER BY first_used_at DESC LIMIT 1",
        [version],
    ).fetchall()
    return RuleSet.model_validate_json(rows[0][0]) if rows else None


def tier_mix(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """Firms per tier and firm type as of a date (rows: firm types; columns: tiers)."""
    mix = query(
        con,
        "SELECT f.firm_type, s.tier, count(*) AS firms FROM credit_scores s "
        "JOIN firms f USING (uscc) WHERE s.as_of = ? GROUP BY ALL",
        [as_of],
    )
    if mix.is_empty():
        return mix
    return mix.pivot(on="tier", index="firm_type", values="firms", sort_columns=True).fill_null(0)


def firm_records(
    con: duckdb.DuckDBPyConnection, uscc: str, rules: RuleSet
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """One firm's `credit_records`, their statuses and its directory row under `rules`: what
    the engine needs to recompute the firm alone (its veto grounds, its path to the next
    tier)."""
    records = query(
        con,
        "SELECT * FROM credit_records WHERE uscc = ? AND rule_set_version = ?",
        [uscc, rules.version],
    )
    statuses = query(
        con,
        "SELECT * EXCLUDE (rule_set_version) FROM credit_record_status WHERE "
        "rule_set_version = ? AND record_id IN (SELECT unnest(?))",
        [rules.version, records["record_id"].unique().to_list()],
    ).cast(RECORD_STATUS_SCHEMA)
    firms = query(con, FIRMS_SQL + " WHERE uscc = ?", [uscc])
    return records, statuses, firms
