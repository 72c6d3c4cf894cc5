"""Feedback of a round: which planned inspections were done and what they found (step 7).

What belongs here: joining the inspection outcomes that name a round (`round_id`) back to its
draw, one row per drawn firm, and the round summary — planned vs inspected vs with findings,
by tier and for the control share, the figures that tell whether worse tiers really are
riskier. What does not: scoring the outcomes (they are credit records like any other and
feed the next scoring run through `credit_records`), writing files.

Choices: a firm inspected more than once in a round counts with its first inspection; an
outcome "finds a problem" when its result is anything but the clean result (发现问题, 立案查处,
拒绝检查 and 查无下落 are all adverse — the rule set penalises each) or it counts problems;
outcomes naming a round for a firm the round did not draw are counted as unplanned.
"""

from __future__ import annotations

import polars as pl

ROUND_OUTCOME_SCHEMA = pl.Schema(
    {
        "round_id": pl.Utf8,
        "uscc": pl.Utf8,
        "tier": pl.Utf8,
        "is_control": pl.Boolean,
        "planned_date": pl.Date,
        "inspection_id": pl.Utf8,
        "inspected_on": pl.Date,
        "result": pl.Utf8,
        "problem_count": pl.Int64,
        "found_problem": pl.Boolean,
    }
)
ROUND_RESULT_SCHEMA = pl.Schema(
    {
        "round_id": pl.Utf8,
        "tier": pl.Utf8,
        "is_control": pl.Boolean,
        "planned": pl.Int64,
        "inspected": pl.Int64,
        "with_findings": pl.Int64,
        "finding_rate": pl.Float64,
    }
)


def round_outcomes(
    draws: pl.DataFrame, schedule: pl.DataFrame, outcomes: pl.DataFrame, clean_result: str
) -> pl.DataFrame:
    """One row per drawn firm of every round, with its first reported outcome in that round.

    `draws`: sampling_draws; `schedule`: round_id, uscc, inspection_date (one or more rows per
    firm); `outcomes`: inspection_outcomes (round_id, uscc, inspection_id, inspected_on,
    result, problem_count).
    """
    planned = schedule.group_by("round_id", "uscc").agg(
        pl.col("inspection_date").min().alias("planned_date")
    )
    first = (
        outcomes.drop_nulls("round_id")
        .sort("inspected_on", "inspection_id", nulls_last=True)
        .unique(["round_id", "uscc"], keep="first", maintain_order=True)
        .select("round_id", "uscc", "inspection_id", "inspected_on", "result", "problem_count")
    )
    return (
        draws.select("round_id", "uscc", "tier", "is_control")
        .join(planned, on=["round_id", "uscc"], how="left")
        .join(first, on=["round_id", "uscc"], how="left")
        .with_columns(
            found_problem=pl.when(pl.col("inspection_id").is_null())
            .then(None)
            .otherwise(
                (pl.col("result") != clean_result).fill_null(False)
                | (pl.col("problem_count").fill_null(0) > 0)
            )
        )
        .select(ROUND_OUTCOME_SCHEMA.names())
        .cast(ROUND_OUTCOME_SCHEMA)
        .sort("round_id", "uscc")
    )


def round_results(outcomes: pl.DataFrame) -> pl.DataFrame:
    """Planned, inspected and with-findings counts per round × tier × control flag."""
    return (
        outcomes.group_by("round_id", "tier", "is_control")
        .agg(
            pl.len().alias("planned"),
            pl.col("inspection_id").is_not_null().sum().alias("inspected"),
            pl.col("found_problem").fill_null(False).sum().alias("with_findings"),
        )
        .with_columns(
            finding_rate=pl.when(pl.col("inspected") > 0).then(
                pl.col("with_findings") / pl.col("inspected")
            )
        )
        .select(ROUND_RESULT_SCHEMA.names())
        .cast(ROUND_RESULT_SCHEMA)
        .sort("round_id", "is_control", "tier")
    )


def unplanned_outcomes(draws: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    """Outcomes naming a planned round for a firm that round did not draw."""
    rounds = draws.select("round_id").unique()
    return (
        outcomes.join(rounds, on="round_id", how="semi")
        .join(draws.select("round_id", "uscc"), on=["round_id", "uscc"], how="anti")
        .sort("round_id", "uscc")
    )
