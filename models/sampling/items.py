"""The inspection items (抽查事项清单) and the inspection record workbook's rows and results.

What belongs here: the list of items to check per firm type as validated data (the packaged
default `inspection_items.yaml`, or a centre's own list); the rows of a round's inspection
record workbook — one per drawn firm × item of its type, with the round, the planned date, the
team and a stable inspection id; and turning the filled-in rows, once ingested
(`inspection_records`), back into one inspection outcome per firm (`outcomes_from_records`)
that joins the inspection outcomes every other part of the product reads. What does not:
writing the workbook (warehouse.round_exports), reading landing files (ingestion).

An inspection's outcome, from its item rows: its date is the date written (the earliest, if
rows differ); its result is the worst result of its items, in the contract's order of
`inspection_result` (未发现问题 is clean; 发现问题, 立案查处, 拒绝检查, 查无下落 each worse than
the one before); its problem count is the sum; its follow-up document is the first given. An
inspection counts as done only when a date and at least one item result are written; rows of
an inspection not done yet are kept as item rows and produce no outcome.
"""

from __future__ import annotations

from functools import cache

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from models.contracts import default_contracts
from models.yaml_data import load_yaml_mapping, packaged_text, validate_model


class ItemsError(ValueError):
    """The item list is malformed; the message names the field."""


class Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=32)
    item: str = Field(min_length=1)
    basis: str = ""
    method: str = ""


class InspectionItems(BaseModel):
    """`items`: firm type code → its items, in order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1)
    items: dict[str, tuple[Item, ...]]


def parse_items(text: str) -> InspectionItems:
    data = load_yaml_mapping(text, ItemsError, "inspection items", "version, items")
    parsed = validate_model(InspectionItems, data, ItemsError, "inspection items")
    types = set(default_contracts().enum_values("firm_type"))
    unknown = sorted(set(parsed.items) - types)
    if unknown:
        raise ItemsError(f"invalid inspection items: items: unknown firm type(s) {unknown}")
    for firm_type, items in parsed.items.items():
        ids = [i.id for i in items]
        if len(set(ids)) != len(ids):
            raise ItemsError(f"invalid inspection items: items.{firm_type}: duplicate id")
    return parsed


@cache
def default_items() -> InspectionItems:
    """The packaged default list (`models/sampling/inspection_items.yaml`)."""
    return parse_items(packaged_text("sampling", "inspection_items.yaml"))


ITEM_FRAME_SCHEMA = pl.Schema(
    {"firm_type": pl.Utf8, "item_id": pl.Utf8, "item": pl.Utf8, "legal_basis": pl.Utf8,
     "method": pl.Utf8, "item_order": pl.Int64}
)  # fmt: skip


def items_frame(items: InspectionItems) -> pl.DataFrame:
    return pl.DataFrame(
        [
            (firm_type, i.id, i.item, i.basis, i.method, n)
            for firm_type, listed in items.items.items()
            for n, i in enumerate(listed)
        ],
        schema=ITEM_FRAME_SCHEMA,
        orient="row",
    )


def inspection_id(round_id: str, uscc: str) -> str:
    """The id of a drawn firm's inspection in a round (stable across re-exports)."""
    return f"{round_id}-{uscc}"


RECORD_ROW_SCHEMA = pl.Schema(
    {
        "inspection_id": pl.Utf8,
        "round_id": pl.Utf8,
        "uscc": pl.Utf8,
        "firm_name": pl.Utf8,
        "planned_date": pl.Date,
        "inspector_ids": pl.Utf8,
        "item_id": pl.Utf8,
        "item": pl.Utf8,
        "legal_basis": pl.Utf8,
        "method": pl.Utf8,
        "result": pl.Utf8,
        "problem_count": pl.Int64,
        "followup_doc_no": pl.Utf8,
        "inspected_on": pl.Date,
        "team": pl.Utf8,
    }
)


def record_rows(
    schedule: pl.DataFrame, firms: pl.DataFrame, items: InspectionItems, round_id: str
) -> pl.DataFrame:
    """One row per drawn firm × item of its type (a firm type without items gets one row with
    item `—`), blank result columns to fill in. `schedule`: uscc, inspection_date, team, and
    firm_type; `firms`: uscc, name."""
    listed = items_frame(items)
    rows = (
        schedule.select("uscc", "firm_type", planned_date="inspection_date", team="team")
        .join(firms.select("uscc", firm_name="name"), on="uscc", how="left")
        .join(listed, on="firm_type", how="left")
        .with_columns(
            pl.col("item_id").fill_null("—"),
            pl.col("item").fill_null("（本类单位无清单事项，按检查方案检查）"),
            pl.col("item_order").fill_null(0),
            inspection_id=pl.lit(f"{round_id}-") + pl.col("uscc"),
            round_id=pl.lit(round_id),
            inspector_ids=pl.col("team"),
            result=pl.lit(None, dtype=pl.Utf8),
            problem_count=pl.lit(None, dtype=pl.Int64),
            followup_doc_no=pl.lit(None, dtype=pl.Utf8),
            inspected_on=pl.lit(None, dtype=pl.Date),
        )
        .sort("team", "planned_date", "uscc", "item_order")
    )
    return rows.select(RECORD_ROW_SCHEMA.names()).cast(RECORD_ROW_SCHEMA)


def result_order() -> list[str]:
    """`inspection_result` values, clean first, each worse than the one before."""
    return list(default_contracts().enum_values("inspection_result"))


def outcomes_from_records(records: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """One inspection outcome per inspection done (module docstring), in `schema` (the clean
    `inspection_outcomes` schema; its lineage columns point at the first item row)."""
    order = {r: i for i, r in enumerate(result_order())}
    done = (
        records.filter(pl.col("inspected_on").is_not_null() & pl.col("result").is_not_null())
        .with_columns(rank=pl.col("result").replace_strict(order, default=0, return_dtype=pl.Int64))
        .sort("inspection_id", "source_file", "source_row", nulls_last=True)
    )
    if done.is_empty():
        return pl.DataFrame(schema=schema)
    by_rank = {i: r for r, i in order.items()}
    outcomes = done.group_by("inspection_id", maintain_order=True).agg(
        pl.col("round_id").first(),
        pl.col("uscc").first(),
        pl.col("inspected_on").min(),
        pl.col("inspector_ids").drop_nulls().first(),
        pl.col("rank").max().alias("worst"),
        pl.when(pl.col("problem_count").is_not_null().any())
        .then(pl.col("problem_count").sum())
        .alias("problem_count"),
        pl.col("followup_doc_no").drop_nulls().first(),
        pl.col("collected_on").min(),
        pl.col("source_file").first(),
        pl.col("source_row").first(),
        pl.lit(1, dtype=pl.Int64).alias("duplicate_count"),
        pl.col("file_sha256").first(),
    )
    outcomes = outcomes.with_columns(
        result=pl.col("worst").replace_strict(by_rank, return_dtype=pl.Utf8)
    )
    for column, dtype in schema.items():
        if column not in outcomes.columns:
            outcomes = outcomes.with_columns(pl.lit(None, dtype=dtype).alias(column))
    return outcomes.select(schema.names()).cast(schema).sort("inspection_id")


def merge_outcomes(reported: pl.DataFrame, derived: pl.DataFrame) -> pl.DataFrame:
    """The clean inspection outcomes plus those derived from record workbooks; an outcome
    reported directly (same inspection id) takes precedence over a derived one."""
    extra = derived.join(reported.select("inspection_id"), on="inspection_id", how="anti")
    if extra.is_empty():
        return reported
    return pl.concat([reported, extra.select(reported.columns).cast(reported.schema)]).sort(
        "inspection_id"
    )
