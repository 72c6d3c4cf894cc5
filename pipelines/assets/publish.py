"""Publish layer: the run made live, then the association's tier list and the public feed.

What belongs here: `published_warehouse`, the last step of every job, which runs the guards
and swaps the run's staging copy in (write, audit, publish: `warehouse.staging`); and two
assets that read the live scores (and published rounds) and write the files under the
reports folder through `warehouse.publication`, the same code `renfang export` runs — after
the swap, so a file never shows what was not made live. What does not: the files' content
(models.publication) or any SQL (warehouse.publication).
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg

from models.disclosure import changes_between, feed_as_of, full_report_due
from models.labels import default_labels
from pipelines.assets.ingestion import WRITER_POOL, full_rebuild
from pipelines.resources import Landing, Rules, Warehouse
from warehouse import audit, connection, guards, staging
from warehouse.feed_reports import keep_report, last_report
from warehouse.paths import confined
from warehouse.publication import (
    DISCLOSURE_FOLDER,
    FEED_REPORT_COLUMNS,
    PENALTY_FEED_CHANGES_FILE,
    PENALTY_FEED_FILE,
    TIER_LIST_FILE,
    feed_counts,
    read_disclosures,
    resolve_as_of,
    write_disclosure,
    write_feed_report,
    write_penalty_feed_changes,
    write_tier_list,
)

PUBLISHED = "published_warehouse"
PUBLISH_DEPS = [PUBLISHED]


def published_warehouse_asset(upstream: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The asset that makes a run live; it depends on every other asset of the graph, so a
    failed step or blocking check anywhere skips it and the live file stays as it was."""

    @dg.asset(
        name=PUBLISHED,
        group_name="publish",
        kinds={"duckdb"},
        pool=WRITER_POOL,
        deps=list(upstream),
    )
    def published(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        """The run's staging copy of the warehouse made live in one atomic swap, after every
        step and blocking check of the run passed and the guards found no established firm
        removed and no table changed beyond the allowed share (else the run stops, naming
        what would change). Recorded in the audit log."""
        staged = warehouse.staging_file
        if staged is None:
            return dg.MaterializeResult(metadata={"mode": "direct (not staged)"})
        connection.release(staged)  # the run's instance closes: the file is whole on disk
        report = guards.compare(warehouse.live_file, staged)
        if not report.passed and not warehouse.accept_changes:
            audit.append(
                warehouse.audit_log,
                "run_refused",
                {"reason": report.message()},
                run_id=context.run.run_id,
            )
            raise dg.Failure(report.message())
        generation = staging.publish(warehouse.live_file, staged, context.run.run_id)
        audit.append(
            warehouse.audit_log,
            "run_published",
            {
                "generation": generation,
                "accepted_changes": warehouse.accept_changes,
                "removed_firms": report.removed_firms[:50],
                "changed_rows": {t: n for t, (n, _) in report.changed_shares.items() if n},
            },
            run_id=context.run.run_id,
        )
        return dg.MaterializeResult(
            metadata={
                "generation": generation,
                "removed_firms": len(report.removed_firms),
                "changed_rows": {t: n for t, (n, _) in report.changed_shares.items()},
            }
        )

    return published


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
        named = rules.load() if rules.explicit else None
        path, firms = write_tier_list(con, named, default_labels(), as_of, path)
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
        named = rules.load() if rules.explicit else None
        rows = write_disclosure(con, named, default_labels(), as_of, folder, datetime.now(UTC))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows["tiers"],
            "as_of": str(as_of),
            "rows_per_file": rows,
            "folder": dg.MetadataValue.path(str(folder)),
        }
    )


@dg.asset(
    group_name="publish",
    kinds={"duckdb", "csv"},
    deps=PUBLISH_DEPS,
)
def penalty_feed(
    context: dg.AssetExecutionContext, warehouse: Warehouse, landing: Landing
) -> dg.MaterializeResult:
    """行政处罚信息公示 as of the processing date: the centre's report of every penalty
    decision's feed state (public, suspended, expired, revoked and withdrawn …) with late
    publications and late withdrawals flagged. The month's first report (and a `--full`
    run's) is the whole feed, `<reports>/penalty_feed_<as_of>.csv`; the other days' is what
    changed since the last report of an earlier day, compared with what that report held
    (`warehouse.feed_reports`), `<reports>/penalty_feed_changes_<as_of>.csv`
    (`models.disclosure.full_report_due`). What entered or left the public feed since that
    report is appended to the audit log."""
    as_of = landing.processing_date
    with warehouse.connect(read_only=True) as con:
        disclosures = read_disclosures(con)  # read once: ~0.7 s at national scale
    feed = feed_as_of(disclosures, as_of)
    shown = feed.select(FEED_REPORT_COLUMNS)
    last = last_report(warehouse.reports, as_of, shown.schema)  # held, not derived again
    since, then = last if last else (None, shown.clear())
    whole = full_rebuild(context) or full_report_due(since, as_of)
    counts = feed_counts(feed)
    if whole:
        path = confined(warehouse.reports, PENALTY_FEED_FILE.format(as_of=as_of))
        rows = write_feed_report(feed, path)
    else:
        path = confined(warehouse.reports, PENALTY_FEED_CHANGES_FILE.format(as_of=as_of))
        rows = write_penalty_feed_changes(then, feed, since, path, default_labels())
    keep_report(warehouse.reports, as_of, shown, since)
    audit.append(
        warehouse.audit_log,
        "penalty_feed",
        {"as_of": str(as_of), "since": str(since) if since else None, "file": str(path),
         "report": "whole_feed" if whole else "feed_changes", "report_rows": rows,
         "counts": counts, "changes": changes_between(then, feed)},
    )  # fmt: skip
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "as_of": str(as_of),
            "report": "whole feed" if whole else f"changes since {since}",
            "by_state": counts,
            "csv": dg.MetadataValue.path(str(path)),
        }
    )


def publish_assets() -> list[dg.AssetsDefinition]:
    return [association_tier_list, disclosure_feed, penalty_feed]
