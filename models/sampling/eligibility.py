"""Who may be drawn in a round, and which previous round rotation looks at (docs/sampling.md).

What belongs here: turning the firm directory, the tiers as of the round's `tier_as_of` and
the inspection history into the eligible pool a draw starts from, with every excluded firm
and its reason; and choosing the previous round and its (firm, inspector) pairs for the
rotation rule. What does not: the draw, the assignment, reading the warehouse.

Choices, stated once:
* a firm is eligible when its status is one of `eligibility.active_statuses` or unknown (a
  directory without a status column lists firms under supervision; a missing status is no
  evidence of deregistration, and excluding such firms would spare them forever), it has a tier
  as of `tier_as_of` (a firm listed later has none and waits for the next round), and — when
  `exclude_inspected_within_days` is N — it was not inspected in the N days before the
  window opens;
* the previous round is the round, other than this one, that started last before this
  round's window opens, where a round's start is its planned window start (published plans)
  or its first inspection date (rounds known only from inspection outcomes); its pairs are the
  planned teams plus every inspector the outcomes of that round name, so rotation also holds
  against who really went.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from models.sampling.params import RoundParams

EXCLUSION_SCHEMA = pl.Schema({"uscc": pl.Utf8, "reason": pl.Utf8})
EXCLUSION_REASONS = {
    "inactive": "状态非正常 / not in business",
    "no_tier": "评价基准日无信用等级 / no tier as of tier_as_of",
    "recently_inspected": "近期已检查 / inspected within the exclusion period",
}


@dataclass(frozen=True)
class EligiblePool:
    """`pool` (uscc, firm_type, tier, district) and the excluded firms with their reason."""

    pool: pl.DataFrame
    excluded: pl.DataFrame


def eligible_pool(
    firms: pl.DataFrame,
    tiers: pl.DataFrame,
    inspections: pl.DataFrame,
    params: RoundParams,
) -> EligiblePool:
    """Apply `params.eligibility` to the directory.

    `firms`: uscc, firm_type, district, status; `tiers`: uscc, tier as of `params.tier_as_of`;
    `inspections`: uscc, inspected_on. A firm excluded for several reasons is listed under
    the first of inactive, no tier, recently inspected.
    """
    rules = params.eligibility
    recent = pl.lit(False)
    if rules.exclude_inspected_within_days is not None:
        since = params.window_start - timedelta(days=rules.exclude_inspected_within_days)
        recently = (
            inspections.filter(
                (pl.col("inspected_on") >= since) & (pl.col("inspected_on") < params.window_start)
            )
            .get_column("uscc")
            .unique()
        )
        recent = pl.col("uscc").is_in(recently.implode())
    frame = (
        firms.select("uscc", "firm_type", "district", "status")
        .join(tiers.select("uscc", "tier"), on="uscc", how="left")
        .with_columns(
            reason=pl.when(~pl.col("status").is_in(list(rules.active_statuses)).fill_null(True))
            .then(pl.lit("inactive"))
            .when(pl.col("tier").is_null())
            .then(pl.lit("no_tier"))
            .when(recent)
            .then(pl.lit("recently_inspected"))
        )
    )
    pool = frame.filter(pl.col("reason").is_null()).select("uscc", "firm_type", "tier", "district")
    excluded = frame.filter(pl.col("reason").is_not_null()).select(EXCLUSION_SCHEMA.names())
    return EligiblePool(pool=pool.sort("uscc"), excluded=excluded.sort("uscc"))


def previous_round(
    rounds: pl.DataFrame, inspections: pl.DataFrame, params: RoundParams
) -> str | None:
    """The round id rotation compares against (module docstring), or None.

    `rounds`: round_id, window_start of planned rounds; `inspections`: round_id, inspected_on.
    """
    planned = rounds.select("round_id", start=pl.col("window_start"))
    reported = (
        inspections.drop_nulls("round_id")
        .group_by("round_id")
        .agg(start=pl.col("inspected_on").min())
        .join(planned, on="round_id", how="anti")
    )
    earlier = (
        pl.concat([planned, reported])
        .filter((pl.col("round_id") != params.round_id) & (pl.col("start") < params.window_start))
        .sort("start", "round_id")
    )
    return earlier.get_column("round_id")[-1] if earlier.height else None


def previous_pairs(
    round_id: str | None, assignments: pl.DataFrame, inspections: pl.DataFrame
) -> pl.DataFrame:
    """(uscc, inspector_id) of round `round_id`: planned teams and reported inspectors.

    `assignments`: round_id, uscc, inspector_id; `inspections`: round_id, uscc, inspector_ids.
    """
    schema = pl.Schema({"uscc": pl.Utf8, "inspector_id": pl.Utf8})
    if round_id is None:
        return pl.DataFrame(schema=schema)
    planned = assignments.filter(pl.col("round_id") == round_id).select(*schema)
    reported = (
        inspections.filter(pl.col("round_id") == round_id)
        .select("uscc", inspector_id="inspector_ids")
        .explode("inspector_id")
        .drop_nulls()
    )
    return pl.concat([planned.cast(schema), reported.cast(schema)]).unique().sort(*schema)
