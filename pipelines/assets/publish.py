"""Publish layer: the association's tier list (XLSX) and the public disclosure feed (CSV).

What belongs here: two assets that read the latest scores (and published rounds) with a
read-only connection and write the files under the reports folder through
`warehouse.publication`, the same code `renfang export` runs. What does not: the files'
content (models.publication) or any SQL (warehouse.publication).
"""

from datetime import UTC, datetime

import dagster as dg

from models.labels import default_labels
from pipelines.resources import Rules, Warehouse
from warehouse.paths import confined
from warehouse.publication import (
    DISCLOSURE_FOLDER,
    TIER_LIST_FILE,
    resolve_as_of,
    write_disclosure,
    write_tier_list,
)

PUBLISH_DEPS = ["credit_scores", "firms", "sampling_rounds", "round_outcomes"]


@dg.asset(
    group_name="publish",
    kinds={"duckdb", "excel"},
    deps=PUBLISH_DEPS,
)
def association_tier_list(warehouse: Warehouse, rules: Rules) -> dg.MaterializeResult:
    """The industry association's tier list as of the latest scores: a cover sheet (as-of
    date, rule-set version, tier definitions) and one sheet per firm type with Chinese
    headers, frozen header row and fitted widths; every cell safe from formula injection.
    Written to `<reports>/tier_list_<as_of>.xlsx`."""
    with warehouse.connect(read_only=True) as con:
        as_of = resolve_as_of(con, None)
        path = confined(warehouse.reports, TIER_LIST_FILE.format(as_of=as_of))
        path, firms = write_tier_list(con, rules.load(), default_labels(), as_of, path)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": firms,
            "as_of": str(as_of),
            "xlsx": dg.MetadataValue.path(str(path)),
        }
    )


@dg.asset(
    group_name="publish",
    kinds={"duckdb", "csv"},
    deps=PUBLISH_DEPS,
)
def disclosure_feed(warehouse: Warehouse, rules: Rules) -> dg.MaterializeResult:
    """The public disclosure feed (一公开) as of the latest scores, in the spirit of the LIVES
    open standard: firms, tiers, rounds, results, legend and feed_info CSV files holding
    public fields only (no contacts, scores, reasons, inspectors or control flags), and only
    published rounds. Written to `<reports>/disclosure_<as_of>/`."""
    with warehouse.connect(read_only=True) as con:
        as_of = resolve_as_of(con, None)
        folder = confined(warehouse.reports, DISCLOSURE_FOLDER.format(as_of=as_of))
        rows = write_disclosure(
            con, rules.load(), default_labels(), as_of, folder, datetime.now(UTC)
        )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows["tiers"],
            "as_of": str(as_of),
            "rows_per_file": rows,
            "folder": dg.MetadataValue.path(str(folder)),
        }
    )


def publish_assets() -> list[dg.AssetsDefinition]:
    return [association_tier_list, disclosure_feed]
