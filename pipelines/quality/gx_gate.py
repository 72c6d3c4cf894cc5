"""The blocking Great Expectations gate on every clean source table.

What belongs here: turning a source's contract (`models.contracts`) into a GX expectation suite,
running that suite on a clean table with GX's pandas engine, keeping the JSON result per run
and rendering its validation report (`warehouse.quality_docs`: static pages that work offline,
instead of GX's Data Docs site, which loads its scripts and styles from public CDNs), and the
factory of one blocking Dagster asset check per source.
Every expectation is derived from the contract, so a column declared there is checked here
without anyone writing a line for it.

What does not: row-level validation and quarantine of landing rows (`models.row_checks`, which
runs before the clean table exists — this gate catches what slips past it: bugs, schema drift,
an empty firm directory), advisory checks that only warn (drift, timeliness), business rules.

GX is imported lazily (inside functions): the import takes seconds and Dagster loads this
module whenever it loads the definitions. GX 1.x has no polars engine and its SQL engine does
not work on DuckDB, so tables are validated as pandas frames.
"""

import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import dagster as dg
import polars as pl

from models import uscc
from models.contracts import Column, Contracts, Source
from pipelines.resources import Landing, Warehouse
from warehouse.paths import confined
from warehouse.quality_docs import docs_url, page_url, render_reports

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.core.expectation_validation_result import (
        ExpectationValidationResult,
    )
    from great_expectations.data_context import EphemeralDataContext
    from great_expectations.expectations import Expectation

USCC_REGEX = uscc.PATTERN
"""GB 32100-2015 code characters (`models.uscc`): digits and capitals without I, O, S, V, Z."""

LIST_JOINER = "、"
"""List cells are validated joined with the enumeration comma regulators write between items.
GX's in-set check cannot look inside a list, so an enum_list is checked as one string."""

OFFENDING_KEYS_SHOWN = 5

_NS_RANGE = (date(1677, 9, 22), date(2262, 4, 11))
"""Dates pandas can hold as datetime64[ns]."""

_DOMAIN_KWARGS = ("column", "column_A", "column_B", "column_list")
"""Where an expectation names its column(s), in the order reported."""


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
    """The gate's verdict on one clean table, with where the evidence was written."""

    source: str
    success: bool
    row_count: int
    outcomes: tuple[ExpectationOutcome, ...]
    result_path: Path
    docs_page: Path

    @property
    def failures(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.success)


def _gx() -> ModuleType:
    """Import GX on first use; analytics off before the import reads its environment."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations

    return great_expectations


def expectations_for(source: Source, contracts: Contracts, as_of: date) -> list["Expectation"]:
    """The GX suite of one clean table, generated from its contract.

    Dates must lie between the contract's `min_date` and `as_of` (no upper bound for columns
    that `allow_future`, e.g. deadlines); bounds are datetimes because the pandas engine
    cannot compare datetime64 columns with `date` objects.
    """
    _gx()
    import great_expectations.expectations as gxe

    suite: list[Expectation] = [
        gxe.ExpectTableColumnsToMatchSet(column_set=list(source.column_names), exact_match=False),
        gxe.ExpectTableRowCountToBeBetween(min_value=source.min_rows),
    ]
    earliest = datetime.combine(contracts.min_date, time())
    latest = datetime.combine(as_of, time())
    for col in source.columns:
        if col.required:
            suite.append(gxe.ExpectColumnValuesToNotBeNull(column=col.name))
        value_rule = _value_expectation(gxe, col, contracts, earliest, latest)
        if value_rule is not None:
            suite.append(value_rule)
    if len(source.key) == 1:
        suite.append(gxe.ExpectColumnValuesToBeUnique(column=source.key[0]))
    else:
        suite.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(source.key)))
    suite.extend(
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=rule.later,
            column_B=rule.earlier,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )
        for rule in source.date_order
    )
    return suite


def _value_expectation(
    gxe: ModuleType, col: Column, contracts: Contracts, earliest: datetime, latest: datetime
) -> "Expectation | None":
    """What every non-null value of one column must satisfy, by column type."""
    match col.type:
        case "enum":
            return gxe.ExpectColumnValuesToBeInSet(
                column=col.name, value_set=_enum_set(col, contracts)
            )
        case "enum_list":
            item = "|".join(re.escape(v) for v in _enum_set(col, contracts))
            regex = f"^(?:{item})(?:{LIST_JOINER}(?:{item}))*$"
            return gxe.ExpectColumnValuesToMatchRegex(column=col.name, regex=regex)
        case "uscc":
            return gxe.ExpectColumnValuesToMatchRegex(column=col.name, regex=USCC_REGEX)
        case "date":
            upper = None if col.allow_future else latest
            return gxe.ExpectColumnValuesToBeBetween(
                column=col.name, min_value=earliest, max_value=upper
            )
        case "amount" | "integer":
            return gxe.ExpectColumnValuesToBeBetween(column=col.name, min_value=0)
        case "text":
            max_length = contracts.max_length(col)
            return gxe.ExpectColumnValueLengthsToBeBetween(column=col.name, max_value=max_length)
        case "text_list" | "bool":
            return None


def _enum_set(col: Column, contracts: Contracts) -> list[str]:
    assert col.enum is not None  # the contract model guarantees it for enum types
    return list(contracts.enum_values(col.enum))


def validate_table(
    df: pl.DataFrame,
    source: Source,
    contracts: Contracts,
    *,
    as_of: date,
    docs_dir: Path,
    results_dir: Path,
    run_id: str,
) -> GateResult:
    """Run the source's suite on a clean table; keep the JSON result and render its report.

    The JSON result goes to `results_dir/<run_id>/<source>.json`; its report page (listed on
    `docs_dir/index.html`) is what `GateResult.docs_page` names.
    """
    gx = _gx()
    from great_expectations.core.run_identifier import RunIdentifier

    context = _context()
    suite = context.suites.add_or_update(
        gx.ExpectationSuite(
            name=source.name, expectations=expectations_for(source, contracts, as_of)
        )
    )
    batch_definition = (
        context.data_sources.add_pandas("warehouse")
        .add_dataframe_asset(name=source.name)
        .add_batch_definition_whole_dataframe("clean_table")
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=source.name, data=batch_definition, suite=suite)
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
    run = checkpoint.run(
        batch_parameters={"dataframe": _as_pandas(df, source)},
        run_id=RunIdentifier(run_name=run_id),
    )
    ((_, result),) = run.run_results.items()
    result_path = _write_result(result, confined(results_dir, run_id, f"{source.name}.json"))
    return GateResult(
        source=source.name,
        success=bool(result.success),
        row_count=df.height,
        outcomes=tuple(_outcome(r, source) for r in result.results),
        result_path=result_path,
        docs_page=render_reports(docs_dir, results_dir, run_id, source.name, contracts=contracts),
    )


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
    columns: list[str] = []
    for name in _DOMAIN_KWARGS:
        value = config.kwargs.get(name)
        if isinstance(value, list):
            columns.extend(value)
        elif value:
            columns.append(value)
    rows = result.result.get("partial_unexpected_index_list") or []
    return ExpectationOutcome(
        expectation_type=config.type,
        columns=tuple(columns),
        success=bool(result.success),
        unexpected_count=result.result.get("unexpected_count"),
        offending_keys=tuple({k: _plain(row.get(k)) for k in source.key} for row in rows),
        detail=_detail(result),
    )


def _detail(result: "ExpectationValidationResult") -> str | None:
    """GX's error if the expectation could not run, else a table-level observation."""
    info = result.exception_info or {}
    messages = [info.get("exception_message")] + [
        v.get("exception_message") for v in info.values() if isinstance(v, dict)
    ]
    error = next((m for m in messages if m), None)
    if error:
        return f"error: {error}"
    mismatched = result.result.get("details", {}).get("mismatched")
    if mismatched:
        return f"columns: {json.dumps(mismatched, ensure_ascii=False)}"
    if "observed_value" in result.result:
        return f"observed: {result.result['observed_value']}"
    return None


def _plain(value: Any) -> Any:
    """A key value as JSON-friendly Python (pandas hands back Timestamps, NaN and numpy)."""
    from pandas import isna

    if isna(value):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.item() if hasattr(value, "item") else value


def _write_result(result: "ExpectationSuiteValidationResult", path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result.to_json_dict(), ensure_ascii=False, indent=2)
    path.write_text(text, encoding="utf-8")
    return path


def gx_asset_checks(contracts: Contracts) -> list[dg.AssetChecksDefinition]:
    """One blocking `gx_suite` check per source: a failure stops everything downstream."""
    return [_gx_suite_check(source, contracts) for source in contracts.sources.values()]


def _gx_suite_check(source: Source, contracts: Contracts) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=source.name,
        name="gx_suite",
        blocking=True,
        compute_kind="great_expectations",
        description=(
            f"Great Expectations suite generated from the contract of {source.name} "
            f"({source.title_zh}): declared columns, at least {source.min_rows} rows, required "
            "values, enum values, USCC charset, date ranges and order, non-negative amounts, "
            "text lengths, unique keys. Blocking: a failure skips every downstream asset."
        ),
    )
    def gx_suite(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse, landing: Landing
    ) -> dg.AssetCheckResult:
        """Validate the clean table as written; the Data Docs page shows every expectation."""
        gate = validate_table(
            warehouse.read_table(source.name),
            source,
            contracts,
            as_of=landing.processing_date,  # the same "today" ingestion used
            docs_dir=warehouse.reports / "gx_docs",
            results_dir=warehouse.reports / "gx_results",
            run_id=context.run.run_id,
        )
        return dg.AssetCheckResult(
            passed=gate.success,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=_metadata(gate, warehouse.reports / "gx_docs"),
        )

    return gx_suite


def _metadata(gate: GateResult, docs: Path) -> dict[str, dg.MetadataValue]:
    metadata: dict[str, dg.MetadataValue] = {
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
