"""The blocking Great Expectations gate on every clean source table.

What belongs here: turning a source's contract (`models.contracts`) into a GX expectation suite,
running that suite on a clean table with GX's pandas engine, keeping the JSON result per run
and rendering its validation report (`warehouse.quality_docs`: static pages that work offline,
instead of GX's Data Docs site, which loads its scripts and styles from public CDNs), and the
factory of one blocking Dagster asset check per source.
Every expectation is derived from the contract, so a column declared there is checked here
without anyone writing a line for it.

Incremental validation: in an incremental run the gate gives GX only the rows written since
the table last passed (`warehouse.gate_state` keeps the marks), with the same suite but for
the two expectations about the whole table — at least `min_rows` rows, unique keys — which
are judged on the whole table in DuckDB and reported in the same result, marked as such.
Every other expectation is about one row, and the rows not given to GX passed it before
under the same suite (or one stricter by an earlier processing date), so the verdict is the
full validation's. The whole table goes to GX in a `--full` run, when the suite changed, the
processing date went back, nothing passed before or the clean step rebuilt the table.
When no row was written since the last pass (a source that received nothing today, or only
lost rows to a withdrawal), GX is not run — nor imported: what can change without a row being
written (the table's columns, row count, key uniqueness) is judged in DuckDB, with the same
blocking verdict, and the row-level expectations stand as they passed (`validate_unchanged`).

What does not: row-level validation and quarantine of landing rows (`models.row_checks`, which
runs before the clean table exists — this gate catches what slips past it: bugs, schema drift,
an empty firm directory), advisory checks that only warn (drift, timeliness), business rules.

GX is imported lazily (inside functions), and only to validate rows: the import takes ~2 s
and Dagster loads this module whenever it loads the definitions. The suite itself is data
(`models.quality_suite`), so its fingerprint needs no GX. GX 1.x has no polars engine and its
SQL engine does not work on DuckDB, so tables are validated as pandas frames.
"""

import hashlib
import importlib.metadata
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import dagster as dg
import polars as pl

from models.contracts import Contracts, Source
from models.quality_suite import (
    COLUMNS,
    LIST_JOINER,
    ROW_COUNT,
    TABLE_TYPES,
    WHOLE_TABLE_TYPES,
    ExpectationSpec,
    Verdict,
    columns_of,
    columns_verdict,
    configurations_json,
    row_count_verdict,
    suite,
    uniqueness_verdict,
)
from pipelines.assets.ingestion import WRITER_POOL, full_rebuild
from pipelines.quality.gx_import import gx as _gx
from pipelines.resources import Landing, Warehouse
from warehouse import gate_state
from warehouse.connection import WarehouseLocation, query, table_columns
from warehouse.gate_state import TableFacts
from warehouse.paths import confined
from warehouse.quality_docs import (
    NO_NEW_ROWS,
    SCOPE_KEY,
    UNCHANGED,
    WHOLE_TABLE,
    docs_url,
    page_url,
    render_reports,
    scope_text,
)

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )
    from great_expectations.data_context import EphemeralDataContext
    from great_expectations.expectations import Expectation

OFFENDING_KEYS_SHOWN = 5

_NS_RANGE = (date(1677, 9, 22), date(2262, 4, 11))
"""Dates pandas can hold as datetime64[ns]."""

GATE_VERSION = "gate-1"
"""Bumped when the gate's code changes a verdict (how a frame is converted, a pattern): the
next validation of every table is a full one (`suite_fingerprint`)."""


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict, reduced to what an operator acts on.

    `unexpected_count` is None for table-level expectations (row count, columns) and when the
    expectation could not run (`detail` then holds GX's error, e.g. a missing column).
    `offending_keys` holds the key columns of up to five offending rows, so a failure can be
    traced to records, not just to bad values.
    """

    expectation_type: str
    columns: tuple[str, ...]
    success: bool
    unexpected_count: int | None
    offending_keys: tuple[dict[str, Any], ...]
    detail: str | None


@dataclass(frozen=True)
class GateResult:
    """The gate's verdict on one clean table, with where the evidence was written.

    `row_count` is the whole table's; `rows_validated` how many of them GX checked (all of
    them unless `mode` is incremental); `reason` why the scope is what it is
    (`warehouse.quality_docs.REASONS`; None when the caller just validated a frame).
    """

    source: str
    success: bool
    row_count: int
    rows_validated: int
    mode: str  # full | incremental
    reason: str | None
    outcomes: tuple[ExpectationOutcome, ...]
    result_path: Path
    docs_page: Path

    @property
    def failures(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.success)


def expectations_for(source: Source, contracts: Contracts, as_of: date) -> list["Expectation"]:
    """The GX suite of one clean table: its contract's suite (`models.quality_suite.suite`)
    as GX's expectation objects, one for each spec, in its order."""
    _gx()
    import great_expectations.expectations as gxe

    return [_expectation(gxe, spec) for spec in suite(source, contracts, as_of)]


def _expectation(gxe: ModuleType, spec: ExpectationSpec) -> "Expectation":
    """GX's expectation of a spec: the class named after its type, built with its arguments."""
    cls = getattr(gxe, "".join(word.capitalize() for word in spec.type.split("_")))
    expectation: Expectation = cls(**dict(spec.kwargs))
    assert expectation.expectation_type == spec.type, (spec.type, expectation.expectation_type)
    return expectation


def suite_fingerprint(source: Source, contracts: Contracts) -> str:
    """What a row's verdict depends on besides the processing date: the suite (columns,
    enums, lengths, `min_date` …), the gate's code and GX's version. The date's bound is left
    out — rows that passed stay valid when it moves forward (`warehouse.gate_state.plan`
    compares the dates).

    Computed from the suite as data and GX's installed version, without importing GX: the
    same text GX's expectation configurations give (`tests/unit/quality/test_gx_gate.py`
    holds the two equal, so no change to the suite can slip past the fingerprint)."""
    specs = suite(source, contracts, date.max)
    parts = [GATE_VERSION, _gx_version(), configurations_json(specs)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@cache
def _gx_version() -> str:
    """The installed GX's version, read from its package metadata (no import)."""
    return importlib.metadata.version("great_expectations")


def validate_table(
    df: pl.DataFrame,
    source: Source,
    contracts: Contracts,
    *,
    as_of: date,
    docs_dir: Path,
    results_dir: Path,
    run_id: str,
    whole_table: TableFacts | None = None,
    reason: str | None = None,
) -> GateResult:
    """Run the source's suite on a clean table; keep the JSON result and render its report.

    With `whole_table`, `df` holds only the rows changed since the table last passed: GX
    checks them against the suite without its whole-table expectations (`WHOLE_TABLE_TYPES`),
    whose outcomes come from `whole_table` — the whole table's row count and duplicate keys,
    counted in DuckDB — and are marked as such in the result. The result's meta says which
    rows were validated (`SCOPE_KEY`).

    The JSON result goes to `results_dir/<run_id>/<source>.json`; its report page (listed on
    `docs_dir/index.html`) is what `GateResult.docs_page` names.
    """
    gx = _gx()
    from great_expectations.core.run_identifier import RunIdentifier

    context = _context()
    specs = suite(source, contracts, as_of)
    if whole_table is not None:  # those judged on the whole table are not GX's to check
        given = [s for s in specs if s.type not in WHOLE_TABLE_TYPES]
    else:
        given = specs
    import great_expectations.expectations as gxe

    gx_suite = context.suites.add_or_update(
        gx.ExpectationSuite(name=source.name, expectations=[_expectation(gxe, s) for s in given])
    )
    batch_definition = (
        context.data_sources.add_pandas("warehouse")
        .add_dataframe_asset(name=source.name)
        .add_batch_definition_whole_dataframe("clean_table")
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=source.name, data=batch_definition, suite=gx_suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"{source.name}_gate",
            validation_definitions=[definition],
            result_format={
                "result_format": "SUMMARY",
                "partial_unexpected_count": OFFENDING_KEYS_SHOWN,
                "unexpected_index_column_names": list(source.key),
                "return_unexpected_index_query": False,
            },
        )
    )
    try:
        run = checkpoint.run(
            batch_parameters={"dataframe": _as_pandas(df, source)},
            run_id=RunIdentifier(run_name=run_id),
        )
    finally:
        # GX keeps the last context in a module-level project manager and its data source
        # keeps the batch (the whole table as pandas): without this, every later step of
        # the run started with the last validated table still in memory (1-2 GB at 100k).
        context.delete_datasource("warehouse")
    ((_, result),) = run.run_results.items()
    if whole_table is not None:
        judged = [_whole_table_result(s, _judge(s, whole_table, source)) for s in specs
                  if s.type in WHOLE_TABLE_TYPES]  # fmt: skip
        _merge(result, judged, specs)
    mode = "full" if whole_table is None else "incremental"
    row_count = df.height if whole_table is None else whole_table.rows
    scope = {"mode": mode, "reason": reason, "rows_validated": df.height, "table_rows": row_count}
    result_path = _write_result(result, scope, confined(results_dir, run_id, f"{source.name}.json"))
    return GateResult(
        source=source.name,
        success=bool(result.success),
        row_count=row_count,
        rows_validated=df.height,
        mode=mode,
        reason=reason,
        outcomes=tuple(_outcome(r, source) for r in result.results),
        result_path=result_path,
        docs_page=render_reports(docs_dir, results_dir, run_id, source.name, contracts=contracts),
    )


def _judge(spec: ExpectationSpec, facts: TableFacts, source: Source) -> Verdict:
    """A whole-table expectation's verdict from the facts counted in DuckDB."""
    if spec.type == COLUMNS:
        return columns_verdict(spec, facts.columns)
    if spec.type == ROW_COUNT:
        return row_count_verdict(spec, facts.rows)
    return uniqueness_verdict(source.key, facts.rows, facts.duplicate_rows, facts.duplicate_keys)


def validate_unchanged(
    source: Source,
    contracts: Contracts,
    facts: TableFacts,
    *,
    as_of: date,
    docs_dir: Path,
    results_dir: Path,
    run_id: str,
) -> GateResult:
    """The incremental validation of a table no row was written to since it last passed (a
    source that received nothing, or only lost rows to a withdrawal): no rows for GX, so GX
    is not run — nor imported.

    What can change without a row being written is judged on the whole table from `facts`
    (counted in DuckDB): its columns, its row count against the contract's minimum and the
    uniqueness of its keys (`models.quality_suite.TABLE_TYPES`) — a failure blocks the run as
    GX's would. Every other expectation is about one row, and every row passed it before
    under the same suite (`warehouse.gate_state.plan`): it is listed as passed, marked as
    not run (`UNCHANGED`). The result is written in GX's shape, with the whole suite in its
    order, so the report, the dashboard and the check's metadata read it like any other."""
    specs = suite(source, contracts, as_of)
    items, outcomes = [], []
    for spec in specs:
        if spec.type in TABLE_TYPES:
            verdict, meta = _judge(spec, facts, source), {WHOLE_TABLE: True}
        else:
            verdict, meta = Verdict(success=True, result={}), {UNCHANGED: True}
        items.append({
            "success": verdict.success,
            "expectation_config": spec.configuration(),
            "result": verdict.result,
            "meta": meta,
            "exception_info": dict(_NO_EXCEPTION),
        })  # fmt: skip
        outcomes.append(
            _outcome_of(spec.type, spec.kwargs, verdict.success, verdict.result, None, source)
        )
    passed = sum(1 for o in outcomes if o.success)
    now = datetime.now(UTC).isoformat()
    scope = {"mode": "incremental", "reason": NO_NEW_ROWS, "rows_validated": 0,
             "table_rows": facts.rows}  # fmt: skip
    data = {
        "success": passed == len(outcomes),
        "results": items,
        "suite_name": source.name,
        "suite_parameters": {},
        "statistics": _statistics(passed, len(outcomes)),
        "meta": {
            "great_expectations_version": None,  # not run
            "run_id": {"run_name": run_id, "run_time": now},
            "validation_time": now,
            SCOPE_KEY: scope,
        },
        "id": None,
    }
    result_path = _write_json(data, confined(results_dir, run_id, f"{source.name}.json"))
    return GateResult(
        source=source.name,
        success=passed == len(outcomes),
        row_count=facts.rows,
        rows_validated=0,
        mode="incremental",
        reason=NO_NEW_ROWS,
        outcomes=tuple(outcomes),
        result_path=result_path,
        docs_page=render_reports(docs_dir, results_dir, run_id, source.name, contracts=contracts),
    )


def _whole_table_result(spec: ExpectationSpec, verdict: Verdict) -> "ExpectationValidationResult":
    """A whole-table verdict in GX's shape (so the result file, the report and the check's
    metadata read it like any other)."""
    import great_expectations.expectations as gxe
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )

    return ExpectationValidationResult(
        success=verdict.success,
        expectation_config=_expectation(gxe, spec).configuration,
        result=verdict.result,
        meta={WHOLE_TABLE: True},
        exception_info=dict(_NO_EXCEPTION),
    )


_NO_EXCEPTION = {"raised_exception": False, "exception_traceback": None, "exception_message": None}


def _merge(
    result: "ExpectationSuiteValidationResult",
    judged: list["ExpectationValidationResult"],
    specs: list[ExpectationSpec],
) -> None:
    """Add the whole-table outcomes to GX's result, every outcome in the suite's order, and
    count them in its verdict and statistics."""

    def position(item: "ExpectationValidationResult") -> int:
        config = item.expectation_config
        assert config is not None, "GX always attaches the expectation to its validation result"
        return order.get((config.type, columns_of(config.kwargs)), len(order))

    # a suite has one expectation of a kind per column (or column pair, or table)
    order = {(s.type, s.columns): i for i, s in enumerate(specs)}
    merged = sorted([*result.results, *judged], key=position)
    passed = sum(1 for r in merged if r.success)
    result.results = merged
    result.success = passed == len(merged)
    result.statistics = _statistics(passed, len(merged))


def _statistics(passed: int, evaluated: int) -> dict[str, Any]:
    return {
        "evaluated_expectations": evaluated,
        "successful_expectations": passed,
        "unsuccessful_expectations": evaluated - passed,
        "success_percent": 100 * passed / evaluated if evaluated else None,
    }


def _context() -> "EphemeralDataContext":
    """An ephemeral context: suites, results and checkpoints in memory (each validation's
    JSON result is kept on disk by the gate itself, and its report rendered from it)."""
    gx = _gx()
    from great_expectations.data_context.types.base import DataContextConfig, ProgressBarsConfig

    def in_memory(class_name: str) -> dict[str, Any]:
        return {"class_name": class_name, "store_backend": {"class_name": "InMemoryStoreBackend"}}

    config = DataContextConfig(
        expectations_store_name="expectations_store",
        validation_results_store_name="validation_results_store",
        checkpoint_store_name="checkpoint_store",
        stores={
            "expectations_store": in_memory("ExpectationsStore"),
            "validation_results_store": in_memory("ValidationResultsStore"),
            "checkpoint_store": in_memory("CheckpointStore"),
            "validation_definition_store": in_memory("ValidationDefinitionStore"),
        },
        data_docs_sites={},
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _as_pandas(df: pl.DataFrame, source: Source) -> "pd.DataFrame":
    """The frame GX validates, in the dtypes its pandas engine compares without a Python loop.

    List columns become joined strings: a null item becomes an empty string (so the regex
    rejects it), an empty list becomes null (so only a required column rejects it). Dates
    become datetime64[ns] and integers int64, the only dtypes GX's range check vectorises
    (others take a per-value `map`, 10× slower on a million rows). Dates outside the ns range
    (1677–2262, e.g. 9999-12-31 for "no expiry") are clipped to its ends, which keeps every
    verdict: `min_date` and `as_of` lie well inside it.
    """
    conversions: list[pl.Expr] = []
    for col in source.columns:
        dtype = df.schema.get(col.name)
        expr = pl.col(col.name)
        if col.type in ("enum_list", "text_list") and isinstance(dtype, pl.List):
            items = expr.list.eval(pl.element().fill_null("")).list.join(LIST_JOINER)
            conversions.append(pl.when(expr.list.len() > 0).then(items).alias(col.name))
        elif col.type == "date" and dtype == pl.Date:
            clipped = expr.clip(_NS_RANGE[0], _NS_RANGE[1])
            conversions.append(clipped.cast(pl.Datetime("ns")))
        elif col.type == "integer" and dtype is not None and dtype.is_integer():
            conversions.append(expr.cast(pl.Int64))
    return df.with_columns(conversions).to_pandas()


def _outcome(result: "ExpectationValidationResult", source: Source) -> ExpectationOutcome:
    config = result.expectation_config
    assert config is not None, "GX always attaches the expectation to its validation result"
    return _outcome_of(
        config.type, config.kwargs, bool(result.success), result.result, result.exception_info,
        source,
    )  # fmt: skip


def _outcome_of(
    kind: str,
    kwargs: Mapping[str, Any],
    success: bool,
    result: Mapping[str, Any],
    exception_info: Mapping[str, Any] | None,
    source: Source,
) -> ExpectationOutcome:
    rows = result.get("partial_unexpected_index_list") or []
    return ExpectationOutcome(
        expectation_type=kind,
        columns=columns_of(kwargs),
        success=success,
        unexpected_count=result.get("unexpected_count"),
        offending_keys=tuple({k: _plain(row.get(k)) for k in source.key} for row in rows),
        detail=_detail(result, exception_info),
    )


def _detail(result: Mapping[str, Any], exception_info: Mapping[str, Any] | None) -> str | None:
    """GX's error if the expectation could not run, else a table-level observation."""
    info = exception_info or {}
    messages = [info.get("exception_message")] + [
        v.get("exception_message") for v in info.values() if isinstance(v, dict)
    ]
    error = next((m for m in messages if m), None)
    if error:
        return f"error: {error}"
    mismatched = result.get("details", {}).get("mismatched")
    if mismatched:
        return f"columns: {json.dumps(mismatched, ensure_ascii=False)}"
    if "observed_value" in result:
        return f"observed: {result['observed_value']}"
    return None


def _plain(value: Any) -> Any:
    """A key value as JSON-friendly Python (pandas hands back Timestamps, NaN and numpy;
    DuckDB plain values, which need no pandas)."""
    if value is None or type(value) in (str, int, date):
        return value
    from pandas import isna

    if isna(value):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.item() if hasattr(value, "item") else value


def _write_result(
    result: "ExpectationSuiteValidationResult", scope: dict[str, Any], path: Path
) -> Path:
    """GX's result as JSON, its meta saying which rows were validated (`SCOPE_KEY`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = result.to_json_dict()
    meta = data.get("meta")
    data["meta"] = {**(meta if isinstance(meta, dict) else {}), SCOPE_KEY: scope}
    return _write_json(data, path)


def _write_json(data: Mapping[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, indent=2, default=_json_default)
    path.write_text(text, encoding="utf-8")
    return path


def _json_default(value: Any) -> Any:
    """Dates (of keys counted in DuckDB) in ISO form, as GX writes them."""
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {value!r}")


def gate_source(
    warehouse: WarehouseLocation,
    source: Source,
    contracts: Contracts,
    *,
    as_of: date,
    run_id: str,
    full_run: bool,
) -> GateResult:
    """The gate of one clean table as a run applies it: the whole table or only its rows
    written since it last passed (`warehouse.gate_state.plan`); a pass clears the marks the
    validation covered and records the suite and date it passed with. Reads and writes
    `warehouse` in two short transactions, GX runs between them — or in one when no row was
    written since the last pass (`validate_unchanged`: no GX)."""
    fingerprint = suite_fingerprint(source, contracts)
    docs_dir, results_dir = warehouse.reports / "gx_docs", warehouse.reports / "gx_results"
    with warehouse.transaction() as con:
        scope = gate_state.plan(con, source.name, fingerprint, as_of, full_run=full_run)
        if scope.full:
            # the contract's columns only (the suite checks nothing else; a national table's
            # lineage columns cost a GB in pandas); one it lacks is left for GX to report
            present = table_columns(con, source.name)
            columns = [f'"{c}"' for c in source.column_names if c in present] or ["*"]
            rows = query(con, f'SELECT {", ".join(columns)} FROM "{source.name}"')
            whole = None
        else:
            rows = gate_state.unvalidated_rows(con, source.name, source.key)
            whole = gate_state.table_facts(con, source.name, source.key, OFFENDING_KEYS_SHOWN)
            if rows.is_empty():  # judged at once, in the same transaction
                gate = validate_unchanged(
                    source, contracts, whole,
                    as_of=as_of, docs_dir=docs_dir, results_dir=results_dir, run_id=run_id,
                )  # fmt: skip
                if gate.success:
                    gate_state.passed(con, source.name, scope, fingerprint=fingerprint, as_of=as_of)
                return gate
    gate = validate_table(
        rows, source, contracts,
        as_of=as_of, docs_dir=docs_dir, results_dir=results_dir, run_id=run_id,
        whole_table=whole, reason=scope.reason,
    )  # fmt: skip
    if gate.success:
        with warehouse.transaction() as con:
            gate_state.passed(con, source.name, scope, fingerprint=fingerprint, as_of=as_of)
    return gate


def gx_asset_checks(contracts: Contracts) -> list[dg.AssetChecksDefinition]:
    """One blocking `gx_suite` check per source: a failure stops everything downstream."""
    return [_gx_suite_check(source, contracts) for source in contracts.sources.values()]


def _gx_suite_check(source: Source, contracts: Contracts) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=source.name,
        name="gx_suite",
        blocking=True,
        compute_kind="great_expectations",
        pool=WRITER_POOL,  # a pass clears the table's marks in the warehouse
        description=(
            f"Great Expectations suite generated from the contract of {source.name} "
            f"({source.title_zh}): declared columns, at least {source.min_rows} rows, required "
            "values, enum values, USCC charset, date ranges and order, non-negative amounts, "
            "text lengths, unique keys. Incremental runs give GX only the rows changed since "
            "the last pass (row count and key uniqueness judged on the whole table); a table "
            "no row was written to is judged on the whole table alone (columns, row count, "
            "unique keys), without GX. "
            "Blocking: a failure skips every downstream asset."
        ),
    )
    def gx_suite(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse, landing: Landing
    ) -> dg.AssetCheckResult:
        """Validate the clean table as written; the Data Docs page shows every expectation."""
        gate = gate_source(
            warehouse,
            source,
            contracts,
            as_of=landing.processing_date,  # the same "today" ingestion used
            run_id=context.run.run_id,
            full_run=full_rebuild(context),
        )
        return dg.AssetCheckResult(
            passed=gate.success,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=_metadata(gate, warehouse.reports / "gx_docs"),
        )

    return gx_suite


def _metadata(gate: GateResult, docs: Path) -> dict[str, dg.MetadataValue]:
    metadata: dict[str, dg.MetadataValue] = {
        "validation_mode": dg.MetadataValue.text(gate.mode),
        "validation_scope": dg.MetadataValue.text(
            scope_text(gate.mode, gate.reason, gate.rows_validated, gate.row_count, gate.success)
        ),
        "rows_validated": dg.MetadataValue.int(gate.rows_validated),
        "row_count": dg.MetadataValue.int(gate.row_count),
        "expectations": dg.MetadataValue.int(len(gate.outcomes)),
        "failed_expectations": dg.MetadataValue.int(len(gate.failures)),
        # over http through the docs server (`renfang ui`): a browser does not open file://
        # links from the Dagster UI
        "data_docs": dg.MetadataValue.url(page_url(docs, gate.docs_page, docs_url())),
        "data_docs_file": dg.MetadataValue.path(str(gate.docs_page)),
        "validation_result": dg.MetadataValue.path(str(gate.result_path)),
    }
    if gate.failures:
        metadata["failures"] = dg.MetadataValue.md(_failure_table(gate.failures))
    return metadata


def _failure_table(failures: tuple[ExpectationOutcome, ...]) -> str:
    lines = [
        "| expectation | columns | unexpected | offending keys / detail |",
        "|---|---|---|---|",
    ]
    for f in failures:
        keys = "; ".join(", ".join(f"{k}={v}" for k, v in row.items()) for row in f.offending_keys)
        evidence = " · ".join(part for part in (keys, f.detail) if part).replace("|", "\\|")
        count = "" if f.unexpected_count is None else str(f.unexpected_count)
        lines.append(f"| {f.expectation_type} | {', '.join(f.columns)} | {count} | {evidence} |")
    return "\n".join(lines)
