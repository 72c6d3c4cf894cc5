"""Raw and clean layers: one `raw_<source>` and one `<source>` asset per contract source.

What belongs here: wiring `warehouse.ingestion` into assets, one transaction per asset: the
raw asset receives the landing folder's new file contents into the archive, the registry and
the raw table; the clean asset rebuilds the clean table from every received file in force
(and the retired rows of record sources), that source's quarantine rows and its ingestion-log
rows. Plus the conservation check (read = accepted + quarantined + collapsed).

What does not: any rule about values (models), GX suites (pipelines.quality).
"""

from collections import Counter

import dagster as dg
import polars as pl

from models.conflicts import open_conflicts
from models.contracts import SOURCE_ORDER, Contracts, Source
from pipelines.quality.gx_import import preload as preload_gx
from pipelines.resources import Landing, Rules, Warehouse
from warehouse.archive import archive_root
from warehouse.catalogue import INGESTION_LOG_SCHEMA, schema_of
from warehouse.conflicts import conflict_inputs
from warehouse.connection import query
from warehouse.firm_cases import merge_online_cases
from warehouse.incremental import clean_layer, log_changes
from warehouse.ingestion import log_rows, receive, row_rules_of, update_clean
from warehouse.record_outcomes import merge_record_outcomes
from warehouse.tables import append, ensure_bookkeeping, replace_table

WRITER_POOL = "duckdb_writer"
"""Every asset that writes the warehouse takes a slot of this pool (limit 1 in dagster.yaml)."""
FULL_REBUILD_TAG = "renfang/rebuild"
"""Run tag: `full` rebuilds every derived table from the archive (`renfang run --full`);
without it a run derives again only what new files, acts and the date changed."""


def full_rebuild(
    context: dg.AssetExecutionContext | dg.OpExecutionContext | dg.AssetCheckExecutionContext,
) -> bool:
    """Whether this run rebuilds everything from the archive (`FULL_REBUILD_TAG`); the
    quality gate then validates every table whole."""
    return context.run.tags.get(FULL_REBUILD_TAG) == "full"


def ingestion_assets(contracts: Contracts) -> list[dg.AssetsDefinition]:
    """The raw and clean asset of every source the contract declares."""
    assets: list[dg.AssetsDefinition] = []
    for name in SOURCE_ORDER:
        if name in contracts.sources:
            source = contracts.source(name)
            assets += [_raw_asset(source, contracts), _clean_asset(source, contracts)]
    return [*assets, conflicts_asset(contracts)]


def conflicts_asset(contracts: Contracts) -> dg.AssetsDefinition:
    """The open conflicts of every clean table (`models.conflicts`)."""
    sources = [name for name in SOURCE_ORDER if name in contracts.sources]

    @dg.asset(
        name="open_conflicts",
        group_name="clean",
        kinds={"duckdb", "polars"},
        pool=WRITER_POOL,
        deps=sources,
    )
    def open_conflicts_asset(warehouse: Warehouse) -> dg.MaterializeResult:
        """Facts the centre must resolve instead of the product guessing: a key restated with
        other content (the established version stays in force), a credit case naming a
        document the firm does not have, an inspection outcome whose follow-up document or
        inspector names nothing known. Listed in the run summary and on the data-quality
        page until a correction file or an explicit act removes the cause."""
        with warehouse.connect() as con:
            conflicts = open_conflicts(*conflict_inputs(con))
        with warehouse.transaction() as con:
            replace_table(con, "open_conflicts", conflicts, schema_of("open_conflicts"))
        by_kind = conflicts.group_by("kind").len().sort("kind")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": conflicts.height,
                "by_kind": dict(zip(by_kind["kind"], by_kind["len"], strict=True)),
            }
        )

    return open_conflicts_asset


def conservation_checks(contracts: Contracts) -> list[dg.AssetChecksDefinition]:
    """Blocking check per clean table: this run's log conserves every row of every file."""
    return [_conservation_check(name) for name in SOURCE_ORDER if name in contracts.sources]


def _raw_asset(source: Source, contracts: Contracts) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"raw_{source.name}",
        group_name="raw",
        kinds={"duckdb", "polars"},
        pool=WRITER_POOL,
        description=(
            f"Every row of every file under `<landing>/{source.name}/` ({source.title_zh}) as "
            "received: encoding detected, title rows skipped, headers mapped to canonical "
            "names, cells kept as text, the original row as JSON. Unreadable files and files "
            "without their required columns are recorded with the reason, never skipped."
        ),
    )
    def raw(
        context: dg.AssetExecutionContext, landing: Landing, warehouse: Warehouse
    ) -> dg.MaterializeResult:
        if not landing.folder.is_dir():
            raise dg.Failure(f"收件目录不存在 / the landing folder {landing.folder} does not exist")
        with warehouse.transaction() as con:
            ensure_bookkeeping(con)
            received = receive(
                con, landing, source, contracts, archive_root(warehouse), context.run.run_id,
                rehash=full_rebuild(context),
            )  # fmt: skip
        if received.new_rows:
            preload_gx()  # the gate will validate these rows with GX
        if not received.found:
            context.log.warning(
                f"{source.name}: no files under {landing.folder / source.name}; the clean "
                "table is rebuilt from the files received earlier"
            )
        for f in received.scanned:
            if f.status != "ok":
                context.log.warning(f"{f.file}: {f.status} ({f.problem or ''} {f.detail or ''})")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": received.new_rows,
                "files_in_folder": received.found,
                "new_files": len(received.scanned),
                "new_files_by_status": dict(Counter(f.status for f in received.scanned)),
                "superseded": received.superseded,
                "landing_folder": dg.MetadataValue.path(str(landing.folder / source.name)),
            }
        )

    return raw


DERIVED_FROM = {"inspection_outcomes": "inspection_records"}
"""Clean tables that also take rows derived from another source: the inspection outcomes of
filled-in inspection record workbooks (`models.sampling.items.outcomes_from_records`)."""


def _clean_asset(source: Source, contracts: Contracts) -> dg.AssetsDefinition:
    references = [r.source for r in source.references]
    derived_from = [DERIVED_FROM[source.name]] if source.name in DERIVED_FROM else []

    @dg.asset(
        name=source.name,
        group_name="clean",
        kinds={"duckdb", "polars"},
        pool=WRITER_POOL,
        deps=[f"raw_{source.name}", *references, *derived_from],
        description=(
            f"{source.title_zh}: the clean, typed table (one row per key `{', '.join(source.key)}`"
            "). Values normalised (full-width → half-width, dates, amounts, enums); rejected "
            "rows go to `quarantine` with file, row, column, value and reason; identical "
            "duplicates collapse (`duplicate_count`), conflicting ones are quarantined."
        ),
    )
    def clean(
        context: dg.AssetExecutionContext, landing: Landing, warehouse: Warehouse, rules: Rules
    ) -> dg.MaterializeResult:
        with warehouse.transaction() as con:
            ensure_bookkeeping(con)
            row_rules = row_rules_of(con, source, rules.load())
            update = update_clean(
                con, source, contracts, landing, row_rules, full=full_rebuild(context)
            )
            if source.name == "credit_cases":  # and the cases firms filed online
                log_changes(con, clean_layer("credit_cases"), merge_online_cases(con))
            if derived_from:  # and the outcomes of filled-in record workbooks
                log_changes(con, clean_layer(source.name), merge_record_outcomes(con))
            log = log_rows(context.run.run_id, update.files, update.counts)
            append(con, "ingestion_log", log, INGESTION_LOG_SCHEMA)
        totals = update.counts.select(pl.exclude("source_file").sum()).row(0, named=True)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": update.current_rows,
                "mode": "full" if update.full else "incremental",
                "rows_cleaned_again": update.rederived,
                "retired_rows": update.retired_rows,
                **{k: int(v or 0) for k, v in totals.items()},
                "quarantine_by_reason": update.quarantine_by_reason,
            }
        )

    return clean


def _conservation_check(name: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=name,
        name="rows_conserved",
        blocking=True,
        description="For every file in this run: rows read = accepted + quarantined + collapsed.",
    )
    def check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            log = query(
                con,
                "SELECT file, rows_read, rows_accepted, rows_quarantined, rows_collapsed "
                "FROM ingestion_log WHERE run_id = ? AND source = ?",
                [context.run.run_id, name],
            )
        broken = log.filter(
            pl.col("rows_read")
            != pl.col("rows_accepted") + pl.col("rows_quarantined") + pl.col("rows_collapsed")
        )
        return dg.AssetCheckResult(
            passed=broken.is_empty(),
            metadata={
                "files": log.height,
                "rows_read": int(log["rows_read"].sum()),
                "files_not_conserved": broken.height,
                "examples": broken.head(5)["file"].to_list(),
            },
        )

    return check
