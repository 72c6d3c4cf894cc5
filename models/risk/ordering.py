"""Risk ordering of a round's inspection dates inside each tier stratum.

What belongs here: `order_within_strata`, which keeps a drawn round exactly as drawn — the
same firms, the same inspectors, the same set of (team, date) slots — and only changes which
firm of a stratum (and team) takes which of those dates, riskiest first. The model never
replaces the random draw: a firm that was not drawn cannot enter, none can leave.
What does not: the draw or the inspector assignment (models.sampling).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def order_within_strata(
    plan: pl.DataFrame,
    risk: pl.DataFrame,
    *,
    group_by: Sequence[str] = ("round_id", "stratum", "team"),
    firm: str = "uscc",
    date_column: str = "inspection_date",
) -> pl.DataFrame:
    """The plan with each firm's `date_column` replaced by the date its risk rank earns.

    `plan` may hold several rows per firm (one per assigned inspector, as in
    `sampling_assignments`); they move together. Within each group (the columns of
    `group_by` present in `plan`), the group's firm dates are sorted and handed out by
    `risk.probability` descending; firms without a risk score go last, ties keep the firm id
    order, so the result is deterministic. The original date is kept in `planned_date`.
    """
    keys = [c for c in group_by if c in plan.columns]
    firms = plan.select(*keys, firm, date_column).unique(maintain_order=True)
    if firms.select(*keys, firm).is_duplicated().any():
        raise ValueError(f"a firm has several {date_column} values within one group of {keys}")
    ranked = (
        firms.join(risk.select(pl.col("entity_id").alias(firm), "probability"), on=firm, how="left")
        .with_columns(pl.col("probability").fill_null(-1.0))
        .sort([*keys, "probability", firm], descending=[*([False] * len(keys)), True, False])
        .with_columns(_rank=pl.int_range(pl.len()).over(keys) if keys else pl.int_range(pl.len()))
    )
    slots = (
        firms.sort([*keys, date_column])
        .with_columns(_rank=pl.int_range(pl.len()).over(keys) if keys else pl.int_range(pl.len()))
        .select(*keys, "_rank", pl.col(date_column).alias("_new_date"))
    )
    moved = ranked.join(slots, on=[*keys, "_rank"], how="left").select(*keys, firm, "_new_date")
    return (
        plan.join(moved, on=[*keys, firm], how="left")
        .with_columns(pl.col(date_column).alias("planned_date"))
        .with_columns(pl.col("_new_date").alias(date_column))
        .drop("_new_date")
    )
