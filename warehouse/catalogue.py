"""The catalogue of every warehouse table: its name, layer, schema and meaning, declared once.

What belongs here: one `Table` entry per table or view the product writes — bookkeeping,
raw and clean tables generated from the input contract, and every derived table with the
schema its producer declares (domain schemas live beside the models that fill them; the
storage-only schemas of the landing registry, the ingestion log and the round register are
declared here). DDL is generated from these entries; the checks, the dashboards' table
lists and the tests read them. Groups are the asset layers (raw → clean → credit → sampling
→ publish, plus model and bookkeeping).

What does not: SQL about a table's rows (the other `warehouse` modules), Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import polars as pl

from models.conflicts import OPEN_CONFLICT_SCHEMA
from models.contracts import SOURCE_ORDER, Contracts, Source, default_contracts
from models.credit_records import EVIDENCE_TYPES
from models.credit_schema import (
    CREDIT_RECORD_SCHEMA,
    CREDIT_SCORE_SCHEMA,
    RECORD_STATUS_SCHEMA,
    REPAIR_OPTION_SCHEMA,
    SCORE_REASON_SCHEMA,
    TIER_CHANGE_SCHEMA,
    TIER_PATH_SCHEMA,
)
from models.disclosure import DISCLOSURE_SCHEMA
from models.firm_cases import DECISION_SCHEMA as FIRM_DECISION_SCHEMA
from models.firm_cases import FILE_SCHEMA as FIRM_FILE_SCHEMA
from models.firm_cases import FILING_SCHEMA as FIRM_FILING_SCHEMA
from models.listing import LISTING_CASE_SCHEMA, LISTING_EVENT_SCHEMA
from models.objections import OBJECTION_DEADLINE_SCHEMA
from models.review import REVIEW_REPORT_SCHEMA
from models.risk.tables import (
    BACKTEST_METRIC_SCHEMA,
    CALIBRATION_SCHEMA,
    DRAW_SCHEMA,
    INSPECTOR_EFFECT_SCHEMA,
    LIFT_SCHEMA,
    MODEL_VERSION_SCHEMA,
    RISK_PSI_SCHEMA,
    RISK_SCORE_SCHEMA,
    TIER_FAILURE_SCHEMA,
)
from models.row_checks import FILE_COUNT_SCHEMA, QUARANTINE_SCHEMA, clean_schema
from models.sampling.draw import DRAW_SCHEMA as SAMPLING_DRAW_SCHEMA
from models.sampling.draw import STRATA_SCHEMA, TIER_PROBABILITY_SCHEMA
from models.sampling.feedback import ROUND_OUTCOME_SCHEMA, ROUND_RESULT_SCHEMA
from models.sampling.round import ASSIGNMENT_ROWS_SCHEMA
from models.scoring import REASON_SPAN_SCHEMA

GROUPS = ("bookkeeping", "raw", "clean", "credit", "publish", "sampling", "model")
"""The layers, in the order data flows through them (bookkeeping first: every run uses it)."""


@dataclass(frozen=True)
class Table:
    """One table (or view) of the warehouse.

    `schema` None means the columns are decided at run time by a declared specification
    (`risk_features`: one column per feature of the risk settings); `view` marks a view
    over other tables (never written directly).
    """

    name: str
    group: str
    schema: pl.Schema | None
    description: str
    view: bool = False


LANDING_SCAN_SCHEMA = pl.Schema(
    {
        "source": pl.Utf8(),
        "file": pl.Utf8(),
        "sha256": pl.Utf8(),
        "size_bytes": pl.Int64(),
        "format": pl.Utf8(),
        "encoding": pl.Utf8(),
        "header_row": pl.Int64(),
        "status": pl.Utf8(),
        "problem": pl.Utf8(),
        "detail": pl.Utf8(),
        "layout": pl.Utf8(),  # the declared layout its header matched (`Source.layout_of`)
        "first_seen_at": pl.Datetime("us"),
    }
)
"""What the latest run found in each landing file (replaced per source on each run)."""

LANDING_FILES_SCHEMA = pl.Schema(
    {
        **LANDING_SCAN_SCHEMA,
        "run_id": pl.Utf8(),
        "archive_path": pl.Utf8(),
    }
)
"""Every file content ever received, by SHA-256: how it was read when it first arrived, the
run that took it, and where its bytes are kept in the archive (`warehouse.archive`).
`first_seen_at` defaults `collected_on` and dates quarantine rows, so rebuilding from the
archive reproduces the same tables."""

LANDING_PATHS_SCHEMA = pl.Schema(
    {
        "source": pl.Utf8(),
        "file": pl.Utf8(),
        "sha256": pl.Utf8(),
        "seen_at": pl.Datetime("us"),
        "size_bytes": pl.Int64(),
        "mtime_ns": pl.Int64(),
        "ctime_ns": pl.Int64(),
        "inode": pl.Int64(),
        "hashed_at_ns": pl.Int64(),
    }
)
"""The content last seen at each landing path (with its size and modification time, so the
landing sensor can tell "nothing changed" without reading a byte): a path whose content
changes supersedes it. `ctime_ns`, `inode` and `hashed_at_ns` (wall clock when its SHA-256
was computed) let a run reuse the hash of a file untouched since (`warehouse.ingestion`'s
`known_hash`) instead of reading the whole landing folder every day."""

FILE_EVENTS_SCHEMA = pl.Schema(
    {
        "source": pl.Utf8(),
        "sha256": pl.Utf8(),
        "event": pl.Utf8(),  # superseded | withdrawn | reinstated
        "effective_on": pl.Date(),
        "recorded_at": pl.Datetime("us"),
        "actor": pl.Utf8(),
        "reason": pl.Utf8(),
        "replaced_by": pl.Utf8(),
        "file": pl.Utf8(),
        "run_id": pl.Utf8(),
    }
)
"""Dated acts on received files (append-only): a file stays in force until one of them."""

INGESTION_LOG_SCHEMA = pl.Schema(
    {
        "run_id": pl.Utf8(),
        "logged_at": pl.Datetime("us"),
        **{k: v for k, v in LANDING_SCAN_SCHEMA.items() if k != "first_seen_at"},
        **{k: v for k, v in FILE_COUNT_SCHEMA.items() if k != "source_file"},
    }
)
"""One row per file and run (appended): read = accepted + quarantined + collapsed."""

RULE_SETS_SCHEMA = pl.Schema(
    {
        "rule_set_version": pl.Utf8(),
        "content_sha256": pl.Utf8(),
        "content": pl.Utf8(),
        "first_used_at": pl.Datetime("us"),
    }
)
"""Every rule set that scored something, with its YAML: what a score's `rule_set_version`
meant (tier labels, thresholds) is read from here, never from the packaged default."""

OFFICIAL_RULE_SETS_SCHEMA = pl.Schema(
    {
        "rule_set_version": pl.Utf8(),
        "content_sha256": pl.Utf8(),
        "effective_from": pl.Date(),
        "adopted_at": pl.Datetime("us"),
        "actor": pl.Utf8(),
        "reason": pl.Utf8(),
    }
)
"""Which rule sets are official and from when (`models.rules.OfficialRules`): each as-of
date is scored by the one in force on it."""

SCENARIO_SCORES_SCHEMA = pl.Schema(
    {
        "scenario": pl.Utf8(),
        **{k: v for k, v in CREDIT_SCORE_SCHEMA.items()},
        "content_sha256": pl.Utf8(),
        "created_at": pl.Datetime("us"),
        "actor": pl.Utf8(),
    }
)
"""What-if scores under another rule set (`renfang score --scenario`): never read by an
export, a public page or a round."""

WAREHOUSE_STATE_SCHEMA = pl.Schema(
    {
        "schema_version": pl.Int64(),
        "generation": pl.Int64(),
        "published_at": pl.Datetime("us"),
        "published_run_id": pl.Utf8(),
    }
)
"""One row: the layout version (migrations), how many changes the live state has seen, and
the last run made live (`warehouse.staging`)."""

RAW_INDEX_SCHEMA = pl.Schema(
    {
        "source": pl.Utf8(),
        "file_sha256": pl.Utf8(),
        "source_row": pl.Int64(),
        "row_key": pl.Utf8(),  # the typed key as text: rows sharing it are one key group
        "uscc": pl.Utf8(),  # the firm the row names (typed), if the source names one
        "inspector_id": pl.Utf8(),
        "first_date": pl.Date(),  # earliest / latest given date that may not be in the future
        "last_date": pl.Date(),
        "cells_cleaned": pl.Int64(),
    }
)
"""One row per raw row, written when its file is received: which key group and firm it
belongs to and which processing dates could change its verdict — how an incremental run
finds the rows a new file, an act or a new date touches (`warehouse.ingestion`)."""

COLLAPSED_ROWS_SCHEMA = pl.Schema(
    {"source": pl.Utf8(), "file": pl.Utf8(), "source_row": pl.Int64(), "row_key": pl.Utf8()}
)
"""Rows of the files in force collapsed into an identical accepted row (the log's counts)."""

DERIVED_FILES_SCHEMA = pl.Schema(
    {
        "source": pl.Utf8(),
        "file_sha256": pl.Utf8(),
        "signature": pl.Utf8(),  # its status as the clean layer saw it (supersession)
        "current": pl.Boolean(),  # in force on that processing date
    }
)
"""The received files as each clean table was last derived from them."""

DERIVED_REFS_SCHEMA = pl.Schema({"source": pl.Utf8(), "ref": pl.Utf8(), "key": pl.Utf8()})
"""The referenced keys (firms, inspectors) each clean table was last checked against."""

DERIVATION_STATE_SCHEMA = pl.Schema(
    {
        "step": pl.Utf8(),
        "seq": pl.Int64(),
        "processing_date": pl.Date(),
        "fingerprint": pl.Utf8(),
    }
)
"""Per derivation step: its last processing date, fingerprint and change-log watermark."""

CHANGE_LOG_SCHEMA = pl.Schema(
    {"seq": pl.Int64(), "layer": pl.Utf8(), "uscc": pl.Utf8(), "since": pl.Date()}
)
"""Firms whose inputs of a layer changed (null: every firm), for the next layer's step; with
`since`, the first as-of date on which they changed (null: any date)."""

UNVALIDATED_KEYS_SCHEMA = pl.Schema({"source": pl.Utf8(), "row_key": pl.Utf8()})
"""Key groups of each clean table written since the quality gate last passed it (the key as
text; null: the whole table), for incremental validation (`warehouse.gate_state`)."""

TABLE_WRITES_SCHEMA = pl.Schema({"table_name": pl.Utf8(), "token": pl.Utf8()})
"""One random token per statement that wrote a clean table, added by the table's triggers
(`warehouse.write_log`): a table with the same tokens in two files was not written since."""

ROW_WRITES_SCHEMA = pl.Schema({"table_name": pl.Utf8(), "sign": pl.Utf8(), "row_hash": pl.UInt64()})
"""The hash of every row a statement removed (`-`) from or added (`+`) to a clean table since
the run's staging copy was made, added by the table's triggers (`warehouse.write_log`)."""

SCORE_DATES_SCHEMA = pl.Schema(
    {"as_of": pl.Date(), "rule_set_version": pl.Utf8(), "seq": pl.Int64()}
)
"""Per stored as-of date: the change-log position its scores reflect."""

SAMPLING_ROUNDS_SCHEMA = pl.Schema(
    {
        "round_id": pl.Utf8(),
        "status": pl.Utf8(),  # draft | published
        "seed": pl.Int64(),
        "algorithm_version": pl.Utf8(),
        "parameters": pl.Utf8(),  # the RoundParams as JSON
        "tier_as_of": pl.Date(),
        "window_start": pl.Date(),
        "window_end": pl.Date(),
        "previous_round_id": pl.Utf8(),
        "firms_sha256": pl.Utf8(),
        "inspectors_sha256": pl.Utf8(),
        "conflicts_sha256": pl.Utf8(),
        "previous_sha256": pl.Utf8(),
        "plan_sha256": pl.Utf8(),
        "plan_file": pl.Utf8(),
        "pool_size": pl.Int64(),
        "excluded": pl.Int64(),
        "drawn": pl.Int64(),
        "control": pl.Int64(),
        "created_at": pl.Datetime("us"),
    }
)
"""One row per round: seed, parameters, input hashes and sizes (the register of draws)."""

SAMPLING_STRATA_SCHEMA = pl.Schema({"round_id": pl.Utf8(), **STRATA_SCHEMA})
SAMPLING_TIERS_SCHEMA = pl.Schema({"round_id": pl.Utf8(), **TIER_PROBABILITY_SCHEMA})

SAMPLING_ROUND_FACTS_SCHEMA = pl.Schema(
    {
        "round_id": pl.Utf8(),
        "office": pl.Utf8(),  # 市级 or the district
        "office_code": pl.Utf8(),  # GB/T 2260
        "office_name": pl.Utf8(),
        "scope_districts": pl.List(pl.Utf8()),
        "scope_firm_types": pl.List(pl.Utf8()),
        "partner_departments": pl.List(pl.Utf8()),
        "published_on": pl.Date(),
        "backdated": pl.Boolean(),
        "backdate_reason": pl.Utf8(),
        "calendar_source": pl.Utf8(),
        "calendar_notes": pl.Utf8(),  # e.g. 2027 年放假安排尚未发布，按周末估算 …
        "first_inspection_day": pl.Date(),
        "in_scope": pl.Int64(),
        "excluded_by_reason": pl.Utf8(),  # JSON {reason: count}
        "monotone": pl.Boolean(),  # effective probabilities never fall from tier to tier
    }
)
"""One row per round (drawn with `draw-2`): its office and scope, joint departments, the
publication date and back-dating, the calendar's source and notes, exclusions by reason.
Kept beside `sampling_rounds` so older warehouses need no migration."""

RAW_LINEAGE = pl.Schema(
    {
        "source_file": pl.Utf8(),
        "source_row": pl.Int64(),
        "file_sha256": pl.Utf8(),
        "file_first_seen": pl.Datetime("us"),
        "read_problem": pl.Utf8(),
        "read_detail": pl.Utf8(),
        "raw_row": pl.Utf8(),
    }
)

COLUMN_COMPRESSION = {"raw_row": "zstd"}
"""Columns stored with a compression chosen here rather than by DuckDB. `raw_row`, the row as
received as JSON (read only to show a quarantined row), is long and different in every row,
which DuckDB's own dictionary and FSST methods hardly shrink: ZSTD keeps it in about a sixth
of the space and writes it in less time (a national raw correction-notice table 650 MB →
250 MB). A smaller warehouse file is also a faster staging copy on every run."""


RETIRED_SOURCES = tuple(EVIDENCE_TYPES)
"""The sources whose retired rows are kept typed: their records count for dates before the
retirement (`models.supersession`)."""


def retired_schema(source: Source) -> pl.Schema:
    """A clean table's schema plus the date from which the row no longer counts."""
    return pl.Schema(dict(clean_schema(source)) | {"retired_on": pl.Date()})


def versioned(schema: pl.Schema) -> pl.Schema:
    """A derived table stored once per official rule set: its schema plus the version."""
    return pl.Schema(dict(schema) | {"rule_set_version": pl.Utf8()})


def raw_schema(source: Source) -> pl.Schema:
    """Raw tables keep every row as received: text cells under canonical names + lineage."""
    return pl.Schema(dict(RAW_LINEAGE) | dict.fromkeys(source.column_names, pl.Utf8()))


_DERIVED: tuple[Table, ...] = (
    Table("landing_files", "bookkeeping", LANDING_FILES_SCHEMA, "Every file content ever "
          "received, by SHA-256: first seen, how it was read, where it is archived."),
    Table("landing_paths", "bookkeeping", LANDING_PATHS_SCHEMA, "The content last seen at "
          "each landing path (a changed file supersedes its earlier version)."),
    Table("file_events", "bookkeeping", FILE_EVENTS_SCHEMA, "Dated acts on received files: "
          "superseded, withdrawn, reinstated (append-only)."),
    Table("landing_scan", "bookkeeping", LANDING_SCAN_SCHEMA, "What the latest run found in "
          "each landing file (format, encoding, header row, status)."),
    Table("ingestion_log", "bookkeeping", INGESTION_LOG_SCHEMA, "One row per file and run: "
          "read = accepted + quarantined + collapsed."),
    Table("quarantine", "bookkeeping", QUARANTINE_SCHEMA, "Every rejected input row with its "
          "file, row, column, value and reason."),
    Table("raw_index", "bookkeeping", RAW_INDEX_SCHEMA, "Per raw row: its key group, firm "
          "and dates, for incremental runs."),
    Table("collapsed_rows", "bookkeeping", COLLAPSED_ROWS_SCHEMA, "Rows collapsed into an "
          "identical accepted row, per file in force."),
    Table("derived_files", "bookkeeping", DERIVED_FILES_SCHEMA, "The received files and "
          "their status as each clean table was last derived."),
    Table("derived_refs", "bookkeeping", DERIVED_REFS_SCHEMA, "The firm and inspector keys "
          "each clean table was last checked against."),
    Table("derivation_state", "bookkeeping", DERIVATION_STATE_SCHEMA, "Per derivation step: "
          "last processing date, fingerprint and change-log watermark."),
    Table("change_log", "bookkeeping", CHANGE_LOG_SCHEMA, "Firms whose inputs changed, layer "
          "by layer, for incremental runs."),
    Table("unvalidated_keys", "bookkeeping", UNVALIDATED_KEYS_SCHEMA, "Key groups of each "
          "clean table written since the quality gate last passed it (null: the whole table)."),
    Table("table_writes", "bookkeeping", TABLE_WRITES_SCHEMA, "One token per statement "
          "that wrote a clean table (its triggers add it): what the guard need not compare."),
    Table("row_writes", "bookkeeping", ROW_WRITES_SCHEMA, "The hash of every row removed "
          "from or added to a clean table since the run's copy was made (its triggers add "
          "them): what the guard compares instead of whole tables."),
    Table("score_dates", "bookkeeping", SCORE_DATES_SCHEMA, "Per scored as-of date: the "
          "change-log position its scores reflect."),
    Table("rule_sets", "bookkeeping", RULE_SETS_SCHEMA, "Every rule set that scored, with "
          "its content: what each score's rule_set_version means."),
    Table("official_rule_sets", "bookkeeping", OFFICIAL_RULE_SETS_SCHEMA, "Which rule sets "
          "are official and from which date (adoptions are deliberate, audited acts)."),
    Table("scenario_scores", "credit", SCENARIO_SCORES_SCHEMA, "What-if scores under "
          "another rule set, by scenario name; never official."),
    Table("warehouse_state", "bookkeeping", WAREHOUSE_STATE_SCHEMA, "Schema version, "
          "generation and the last publication of the live warehouse."),
    Table("open_conflicts", "clean", OPEN_CONFLICT_SCHEMA, "Facts to resolve: keys restated "
          "with other content, cases or follow-ups naming no known document, unknown "
          "inspectors."),
    Table("credit_records", "credit", CREDIT_RECORD_SCHEMA, "One row per scored fact "
          "(segment) with severity, points, window and evidence document."),
    Table("credit_record_status", "credit", versioned(RECORD_STATUS_SCHEMA), "Status history "
          "of records from objections, repairs and withdrawn files, per rule set."),
    Table("score_reason_spans", "credit", versioned(REASON_SPAN_SCHEMA), "Every record "
          "piece that moves a score, with the span of as-of dates in which it counts, per "
          "rule set."),
    Table("credit_scores", "credit", CREDIT_SCORE_SCHEMA, "Score, tier and veto of every firm "
          "at every as-of date, with the rule set that scored it."),
    Table("score_reasons", "credit", versioned(SCORE_REASON_SCHEMA), "View: firm × as-of × "
          "record with its points (the spans expanded over the stored dates).", view=True),
    Table("tier_changes", "credit", TIER_CHANGE_SCHEMA, "Firms whose tier changed between "
          "consecutive as-of dates, with the records behind the change."),
    Table("tier_paths", "credit", TIER_PATH_SCHEMA, "Each firm's next better tier and when it "
          "is reached if nothing new happens."),
    Table("repair_options", "credit", REPAIR_OPTION_SCHEMA, "Bad records a credit repair "
          "could clear sooner, and the tier without them."),
    Table("objection_deadlines", "credit", OBJECTION_DEADLINE_SCHEMA, "Every objection with "
          "its decision deadline from the rule set and its state (open, overdue, decided, "
          "decided late) as of the processing date."),
    Table("penalty_disclosures", "publish", DISCLOSURE_SCHEMA, "行政处罚信息公示: every "
          "published penalty decision version with the day it was published (late ones "
          "flagged), taken down or withdrawn, and why: the feed of any date is reproducible."),
    Table("listing_cases", "bookkeeping", LISTING_CASE_SCHEMA, "严重失信主体名单 cases "
          "entered by the centre (firm, basis, grounds, evidence documents): carried by "
          "migrations, never rebuilt."),
    Table("listing_events", "bookkeeping", LISTING_EVENT_SCHEMA, "Every dated step of every "
          "listing case (notice, statement, decision, publication, removal) with its "
          "document number and deadline; append-only, carried by migrations."),
    Table("firm_cases", "bookkeeping", FIRM_FILING_SCHEMA, "Objections and repair "
          "applications firms filed online (网上申请): the record, reason, materials and filing "
          "time; carried by migrations, never rebuilt."),
    Table("firm_case_files", "bookkeeping", FIRM_FILE_SCHEMA, "The files attached to each "
          "online filing: the name the firm gave, the generated name under case_files/, size "
          "and SHA-256."),
    Table("firm_case_decisions", "bookkeeping", FIRM_DECISION_SCHEMA, "The centre's decision "
          "on each online filing (accept, reject, correct), its text and effective date; "
          "merged into credit_cases by every run."),
    Table("review_report", "publish", REVIEW_REPORT_SCHEMA, "Annual review (评议): evidence "
          "and intake delay of bad records by authority and month."),
    Table("sampling_rounds", "sampling", SAMPLING_ROUNDS_SCHEMA, "One row per round: seed, "
          "parameters, input hashes, sizes, status."),
    Table("sampling_strata", "sampling", SAMPLING_STRATA_SCHEMA, "Per round and stratum: "
          "pool, ratio, required and drawn."),
    Table("sampling_draws", "sampling", SAMPLING_DRAW_SCHEMA, "Drawn firms of every round, "
          "with tier, stratum, order and control flag."),
    Table("sampling_assignments", "sampling", ASSIGNMENT_ROWS_SCHEMA, "Inspectors and dates "
          "of every drawn firm."),
    Table("sampling_round_facts", "sampling", SAMPLING_ROUND_FACTS_SCHEMA, "Per round: "
          "office, scope, departments, publication, calendar notes, exclusions by reason."),
    Table("sampling_tiers", "sampling", SAMPLING_TIERS_SCHEMA, "Per round and tier: ratio, "
          "pool, effective inclusion probability, expected and drawn."),
    Table("round_outcomes", "sampling", ROUND_OUTCOME_SCHEMA, "One row per drawn firm with "
          "its first reported outcome in that round."),
    Table("round_results", "sampling", ROUND_RESULT_SCHEMA, "Planned vs inspected vs "
          "findings per round × tier × control flag."),
    Table("risk_features", "model", None, "Point-in-time features of every firm at each "
          "monitored date (one column per feature of the risk settings)."),
    Table("risk_backtest_metrics", "model", BACKTEST_METRIC_SCHEMA, "The backtest's figures "
          "per scorer and scope."),
    Table("risk_lift_curve", "model", LIFT_SCHEMA, "Share of problems found by share "
          "inspected, per scorer."),
    Table("risk_calibration", "model", CALIBRATION_SCHEMA, "Predicted vs observed rate per "
          "bin, per scorer."),
    Table("risk_tier_failure", "model", TIER_FAILURE_SCHEMA, "Failure rate of the next "
          "inspection by tier and risk band."),
    Table("risk_draw_comparison", "model", DRAW_SCHEMA, "Expected hits at the same budget: "
          "uniform, tier-driven, model-driven."),
    Table("risk_inspector_effects", "model", INSPECTOR_EFFECT_SCHEMA, "Each inspector's "
          "pooled finding rate and strictness."),
    Table("risk_model_versions", "model", MODEL_VERSION_SCHEMA, "Every trained model "
          "artefact with its training data and settings."),
    Table("risk_scores", "model", RISK_SCORE_SCHEMA, "Each firm's predicted risk at every "
          "monitored date, with its band and credit tier."),
    Table("risk_psi", "model", RISK_PSI_SCHEMA, "Population stability of scores and features "
          "month over month."),
)  # fmt: skip


def _catalogue(contracts: Contracts) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for name in SOURCE_ORDER:
        if name not in contracts.sources:
            continue
        source = contracts.source(name)
        tables[f"raw_{name}"] = Table(
            f"raw_{name}", "raw", raw_schema(source),
            f"{source.title_zh}: every row of every landing file as received (text cells).",
        )  # fmt: skip
        tables[name] = Table(
            name, "clean", clean_schema(source),
            f"{source.title_zh}: the clean, typed table (key {', '.join(source.key)}).",
        )  # fmt: skip
        if name in RETIRED_SOURCES:
            tables[f"retired_{name}"] = Table(
                f"retired_{name}", "clean", retired_schema(source),
                f"{source.title_zh}: rows of withdrawn or superseded files, with the date "
                "from which they no longer count.",
            )  # fmt: skip
    for table in _DERIVED:
        tables[table.name] = table
    return tables


@cache
def _default_catalogue() -> dict[str, Table]:
    return _catalogue(default_contracts())


def catalogue(contracts: Contracts | None = None) -> dict[str, Table]:
    """Every table of the warehouse by name (raw and clean tables from `contracts`, by
    default the packaged contract)."""
    return _default_catalogue() if contracts is None else _catalogue(contracts)


def table(name: str) -> Table:
    """The catalogue entry of one table; an unknown name is an error (not a silent guess)."""
    try:
        return catalogue()[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a warehouse table (see warehouse.catalogue)") from None


def schema_of(name: str) -> pl.Schema:
    """The declared schema of a table with a fixed schema."""
    declared = table(name).schema
    if declared is None:
        raise ValueError(f"{name} has no fixed schema: its columns are decided at run time")
    return declared


def tables_in(group: str) -> tuple[str, ...]:
    """The names of a layer's tables, in catalogue order."""
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}; one of {GROUPS}")
    return tuple(t.name for t in catalogue().values() if t.group == group)


SAMPLING_TABLES = (
    "sampling_rounds",
    "sampling_strata",
    "sampling_draws",
    "sampling_assignments",
    "sampling_round_facts",
    "sampling_tiers",
)
"""The tables a round writes (one slice per round id); `round_outcomes` and
`round_results` are the feedback derived from them."""

BACKTEST_TABLES = (
    "risk_backtest_metrics",
    "risk_lift_curve",
    "risk_calibration",
    "risk_tier_failure",
    "risk_draw_comparison",
    "risk_inspector_effects",
)
"""The tables one backtest report fills (replaced together)."""
