"""Raw and clean layers: one `raw_<source>` and one `<source>` asset per contract source.

What belongs here: wiring `warehouse.landing` (read files) and `models.row_checks` (type, check,
de-duplicate) into assets that write the warehouse, one transaction per asset: the raw table
and the landing registry; then the clean table, that source's quarantine rows and its
ingestion-log rows. Plus the conservation check (read = accepted + quarantined + collapsed).

What does not: any rule about values (models), GX suites (pipelines.quality).
"""

from collections import Counter

import dagster as dg
import polars as pl

from models.contracts import SOURCE_ORDER, Contracts, Source
from models.row_checks import QUARANTINE_SCHEMA, clean_schema
from pipelines.resources import Landing, Warehouse
from warehouse.catalogue import (
    INGESTION_LOG_SCHEMA,
    LANDING_FILES_SCHEMA,
    LANDING_SCAN_SCHEMA,
    raw_schema,
)
from warehouse.connection import query
from warehouse.ingestion import clean_raw, log_rows, raw_rows, registry_rows, scan_rows
from warehouse.landing import scan_file, source_files
from warehouse.tables import (
    append,
    ensure_bookkeeping,
    replace_slice,
    replace_table,
)

WRITER_POOL = "duckdb_writer"
"""Every asset that writes the warehouse takes a slot of this pool (limit 1 in dagster.yaml)."""


def ingestion_assets(contracts: Contracts) -> list[dg.AssetsDefinition]:
    """The raw and clean asset of every source the contract declares."""
    assets: list[dg.AssetsDefinition] = []
    for name in SOURCE_ORDER:
        if name in contracts.sources:
            source = contracts.source(name)
            assets += [_raw_asset(source, contracts), _clean_asset(source, contracts)]
    return assets


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
        files = source_files(landing.folder, source.name)
        if not files:
            context.log.warning(
                f"{source.name}: no files under {landing.folder / source.name}; "
                "the table will be empty"
            )
        scanned = [scan_file(p, landing.folder, source, contracts) for p in files]
        for f in scanned:
            if f.status != "ok":
                context.log.warning(f"{f.file}: {f.status} ({f.problem or ''} {f.detail or ''})")
        now = landing.clock()
        with warehouse.transaction() as con:
            ensure_bookkeeping(con)
            known = query(
                con,
                "SELECT sha256, first_seen_at FROM landing_files WHERE source = ?",
                [source.name],
            )
            first_seen = dict(zip(known["sha256"], known["first_seen_at"], strict=True))
            new = [f for f in scanned if f.sha256 not in first_seen]
            first_seen |= {f.sha256: now for f in new}
            append(con, "landing_files", registry_rows(new, now), LANDING_FILES_SCHEMA)
            replace_slice(
                con,
                "landing_scan",
                scan_rows(scanned, first_seen),
                LANDING_SCAN_SCHEMA,
                where_column="source",
                value=source.name,
            )
            rows = raw_rows(scanned, first_seen, source)
            replace_table(con, f"raw_{source.name}", rows, raw_schema(source))
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows.height,
                "files": len(scanned),
                "files_by_status": dict(Counter(f.status for f in scanned)),
                "landing_folder": dg.MetadataValue.path(str(landing.folder / source.name)),
            }
        )

    return raw


def _clean_asset(source: Source, contracts: Contracts) -> dg.AssetsDefinition:
    references = [r.source for r in source.references]

    @dg.asset(
        name=source.name,
        group_name="clean",
        kinds={"duckdb", "polars"},
        pool=WRITER_POOL,
        deps=[f"raw_{source.name}", *references],
        description=(
            f"{source.title_zh}: the clean, typed table (one row per key `{', '.join(source.key)}`"
            "). Values normalised (full-width → half-width, dates, amounts, enums); rejected "
            "rows go to `quarantine` with file, row, column, value and reason; identical "
            "duplicates collapse (`duplicate_count`), conflicting ones are quarantined."
        ),
    )
    def clean(
        context: dg.AssetExecutionContext, landing: Landing, warehouse: Warehouse
    ) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            raw = query(con, f'SELECT * FROM "raw_{source.name}"')
            scan = query(con, "SELECT * FROM landing_scan WHERE source = ?", [source.name])
            known_keys = {
                ref: query(con, f'SELECT "{contracts.source(ref).key[0]}" AS k FROM "{ref}"')["k"]
                for ref in references
            }
        result = clean_raw(raw, source, contracts, landing, known_keys, scan)
        log = log_rows(context.run.run_id, scan, result.file_counts)
        with warehouse.transaction() as con:
            ensure_bookkeeping(con)
            replace_table(con, source.name, result.accepted, clean_schema(source))
            replace_slice(
                con,
                "quarantine",
                result.quarantine,
                QUARANTINE_SCHEMA,
                where_column="source",
                value=source.name,
            )
            append(con, "ingestion_log", log, INGESTION_LOG_SCHEMA)
        reasons = result.quarantine["reason_code"].value_counts(sort=True)
        totals = result.file_counts.select(pl.exclude("source_file").sum()).row(0, named=True)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": result.accepted.height,
                **{k: int(v) for k, v in totals.items()},
                "quarantine_by_reason": {r["reason_code"]: r["count"] for r in reasons.to_dicts()},
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
