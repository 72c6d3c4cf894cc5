"""The annual review (评议) report asset: evidence coverage and intake delay of bad records.

What belongs here: reading the three evidence sources and their unevidenced quarantine rows
from the warehouse, calling `models.review`, storing `review_report` and writing the XLSX/CSV
report. What does not: the review's rules (models.review, models.workdays).
"""

from datetime import date

import dagster as dg
import polars as pl

from models.contracts import Contracts
from models.review import SOURCES, evidence_columns, review_evidence, review_report
from models.workdays import working_day_calendar
from pipelines.assets.ingestion import WRITER_POOL
from pipelines.resources import Landing, Warehouse
from warehouse.catalogue import schema_of
from warehouse.connection import query
from warehouse.exports import Sheet, Workbook, readable, write_csv, write_workbook
from warehouse.paths import confined
from warehouse.tables import replace_table

REPORT_NAME = "review_report"
REPORT_FILE = "评议报告"
"""`<reports>/评议报告.xlsx` and `.csv`: named in Chinese like every file people open."""
REPORT_TITLE = "人防行业信用信息归集评议报告"


def review_assets(contracts: Contracts) -> list[dg.AssetsDefinition]:
    @dg.asset(
        name=REPORT_NAME,
        group_name="publish",
        kinds={"duckdb", "polars", "excel"},
        pool=WRITER_POOL,
        deps=list(SOURCES),
        description=(
            "Annual review (评议) of bad-record intake: for penalty decisions, correction "
            "notices and criticism circulars, the share with a valid document number and the "
            "intake delay (collected_on − decision date) in China's official working days, "
            "flagged above 7 and 20, by authority and decision month. Rows quarantined for a "
            "missing document number count as records without evidence. Also written to "
            "`<reports>/评议报告.xlsx` and `.csv`."
        ),
    )
    def review(
        context: dg.AssetExecutionContext, warehouse: Warehouse, landing: Landing
    ) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            accepted = {
                name: query(
                    con,
                    "SELECT "
                    + ", ".join(f'"{c}"' for c in evidence_columns(name, contracts))
                    + f' FROM "{name}"',
                )
                for name in SOURCES
            }
            unevidenced = {
                name: query(
                    con,
                    f'SELECT r.* FROM "raw_{name}" r JOIN quarantine q '
                    "ON q.source = ? AND q.file = r.source_file AND q.row_number = r.source_row "
                    "AND q.reason_code = 'missing_required' AND q.column = 'doc_no'",
                    [name],
                )
                for name in SOURCES
            }
        evidence = review_evidence(accepted, unevidenced, contracts)
        report = review_report(evidence, _calendar_for(evidence))
        with warehouse.transaction() as con:
            replace_table(con, REPORT_NAME, report, schema_of(REPORT_NAME))
        book = Workbook(
            title=REPORT_TITLE,
            as_of=landing.processing_date,
            sheets=[Sheet("评议报告", report), _layouts_sheet(warehouse, contracts)],
        )
        xlsx = write_workbook(book, confined(warehouse.reports, f"{REPORT_FILE}.xlsx"))
        csv = write_csv(readable(report), confined(warehouse.reports, f"{REPORT_FILE}.csv"))
        total = report.filter(pl.col("source") == "全部").row(0, named=True)
        context.log.info(f"review report written to {xlsx}")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": report.height,
                "records": total["records"],
                "valid_doc_no_share": total["valid_doc_no_share"],
                "over_7_wd": total["over_7_wd"],
                "over_20_wd": total["over_20_wd"],
                "xlsx": dg.MetadataValue.path(str(xlsx)),
                "csv": dg.MetadataValue.path(str(csv)),
            }
        )

    return [review]


LAYOUT_SHEET = "文件读取格式"


def _layouts_sheet(warehouse: Warehouse, contracts: Contracts) -> Sheet:
    """Each received file of the three evidence sources with the layout it was read as
    (the project's own, or a declared one such as the national 双公示 penalty layout)."""
    with warehouse.connect() as con:
        files = query(
            con,
            "SELECT source, file, layout, status, first_seen_at FROM landing_files "
            "WHERE source IN (SELECT unnest(?)) ORDER BY source, file, first_seen_at",
            [list(SOURCES)],
        )
    frame = files.select(
        "source",
        "file",
        pl.struct("source", "layout")
        .map_elements(
            lambda r: contracts.layout_title(r["source"], r["layout"]), return_dtype=pl.Utf8
        )
        .alias("layout"),
        "status",
        pl.col("first_seen_at").dt.date().alias("first_seen_on"),
    )
    return Sheet(LAYOUT_SHEET, frame, codes={"status": "file_status"})


def _calendar_for(evidence: pl.DataFrame) -> pl.DataFrame:
    """A working-day calendar covering every date in the evidence (review_report insists)."""
    dates = pl.concat([evidence["decided_on"], evidence["collected_on"]]).cast(pl.Date)
    first, last = dates.min(), dates.max()  # not a Python list of millions of dates
    if isinstance(first, date) and isinstance(last, date):
        return working_day_calendar(first, last)
    return working_day_calendar(date.today(), date.today())
