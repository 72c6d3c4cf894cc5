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
* scope: a round draws only from the firms of its districts and firm types
  (`params.scope_districts`, `params.scope.firm_types`); firms outside it are not part of the
  pool and are not counted as excluded (`EligiblePool.in_scope` counts those inside);
* one calendar: a firm drawn in a published round whose window overlaps this round's window is
  not drawn again (`overlapping_round`);
* frequency limits (`params.frequency`), counting reported inspections and the planned
  inspections of the other published rounds (a planned one that has been reported counts
  once): not inspected in the `min_interval_days` before the window opens nor planned inside
  it (`min_interval`); fewer than `max_per_year` inspections in the 365 days before the window
  opens and inside it (`yearly_cap`). Firms of the `exempt_tiers` classes and, with
  `exempt_open_findings`, firms with an open finding (`open_findings`) are never spared;
* the previous round is the round, other than this one, that started last before this
  round's window opens, where a round's start is its planned window start (published plans)
  or its first inspection date (rounds known only from inspection outcomes); its pairs are the
  planned teams plus every inspector the outcomes of that round name, so rotation also holds
  against who really went.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from models.sampling.params import RoundParams

EXCLUSION_SCHEMA = pl.Schema({"uscc": pl.Utf8, "reason": pl.Utf8})
EXCLUSION_REASONS: tuple[str, ...] = (
    "inactive",
    "no_tier",
    "recently_inspected",
    "overlapping_round",
    "min_interval",
    "yearly_cap",
)
"""Why a firm is not drawable, in the order they are checked (labels: `exclusion_reason` in
models/labels.yaml)."""
PLANNED_SCHEMA = pl.Schema(
    {
        "round_id": pl.Utf8,
        "uscc": pl.Utf8,
        "inspection_date": pl.Date,
        "window_start": pl.Date,
        "window_end": pl.Date,
    }
)
"""The drawn firms of the other published rounds, with their planned date and window."""


@dataclass(frozen=True)
class EligiblePool:
    """`pool` (uscc, firm_type, tier, district and the evaluations behind the tier) and the
    excluded firms with their reason; `in_scope` firms of the directory are in the round's
    districts and firm types."""

    pool: pl.DataFrame
    excluded: pl.DataFrame
    in_scope: int = 0

    def excluded_by_reason(self) -> dict[str, int]:
        counts = self.excluded.group_by("reason").len().sort("reason")
        return {reason: int(n) for reason, n in counts.iter_rows()}


def in_scope(firms: pl.DataFrame, params: RoundParams) -> pl.Expr:
    """Whether a firm (district, firm_type) is in the round's scope."""
    expr = pl.lit(True)
    if params.scope_districts:
        expr = expr & pl.col("district").is_in(list(params.scope_districts)).fill_null(False)
    if params.scope.firm_types:
        expr = expr & pl.col("firm_type").is_in(list(params.scope.firm_types)).fill_null(False)
    return expr


def eligible_pool(
    firms: pl.DataFrame,
    tiers: pl.DataFrame,
    inspections: pl.DataFrame,
    params: RoundParams,
    *,
    planned: pl.DataFrame | None = None,
    open_findings: pl.DataFrame | None = None,
) -> EligiblePool:
    """Apply the scope, `params.eligibility`, the one calendar and `params.frequency` to the
    directory.

    `firms`: uscc, firm_type, district, status; `tiers`: uscc, tier (the class as of
    `params.tier_as_of`) and optionally credit_tier, public_grade, rectification_result;
    `inspections`: uscc, inspected_on (and round_id); `planned` (`PLANNED_SCHEMA`): the other
    published rounds' drawn firms; `open_findings`: uscc of firms with an open finding. A firm
    excluded for several reasons is listed under the first of `EXCLUSION_REASONS`.
    """
    planned = planned if planned is not None else pl.DataFrame(schema=PLANNED_SCHEMA)
    open_findings = (
        open_findings if open_findings is not None else pl.DataFrame(schema={"uscc": pl.Utf8})
    )
    firms = firms.filter(in_scope(firms, params))
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
    overlapping = (
        planned.filter(
            (pl.col("round_id") != params.round_id)
            & (pl.col("window_start") <= params.window_end)
            & (pl.col("window_end") >= params.window_start)
        )
        .get_column("uscc")
        .unique()
    )
    history = _history(inspections, planned, params)
    limits = params.frequency
    too_soon = pl.lit(False)
    if limits.min_interval_days is not None:
        since = params.window_start - timedelta(days=limits.min_interval_days)
        soon = history.filter(pl.col("day") >= since).get_column("uscc").unique()
        too_soon = pl.col("uscc").is_in(soon.implode())
    capped = pl.lit(False)
    if limits.max_per_year is not None:
        since = params.window_start - timedelta(days=365)
        counts = history.filter(pl.col("day") >= since).group_by("uscc").len()
        full = counts.filter(pl.col("len") >= limits.max_per_year).get_column("uscc")
        capped = pl.col("uscc").is_in(full.implode())
    exempt = pl.col("tier").is_in(list(limits.exempt_tiers)).fill_null(False)
    if limits.exempt_open_findings:
        exempt = exempt | pl.col("uscc").is_in(open_findings.get_column("uscc").implode())
    evaluations = [c for c in EVALUATION_COLUMNS if c in tiers.columns]
    frame = (
        firms.select("uscc", "firm_type", "district", "status")
        .join(tiers.select("uscc", "tier", *evaluations), on="uscc", how="left")
        .with_columns(
            reason=pl.when(~pl.col("status").is_in(list(rules.active_statuses)).fill_null(True))
            .then(pl.lit("inactive"))
            .when(pl.col("tier").is_null())
            .then(pl.lit("no_tier"))
            .when(recent)
            .then(pl.lit("recently_inspected"))
            .when(pl.col("uscc").is_in(overlapping.implode()))
            .then(pl.lit("overlapping_round"))
            .when(too_soon & ~exempt)
            .then(pl.lit("min_interval"))
            .when(capped & ~exempt)
            .then(pl.lit("yearly_cap"))
        )
    )
    pool = frame.filter(pl.col("reason").is_null()).select(
        "uscc", "firm_type", "tier", "district", *evaluations
    )
    excluded = frame.filter(pl.col("reason").is_not_null()).select(EXCLUSION_SCHEMA.names())
    return EligiblePool(
        pool=pool.sort("uscc"), excluded=excluded.sort("uscc"), in_scope=firms.height
    )


EVALUATION_COLUMNS = ("credit_tier", "public_grade", "rectification_result")


def history_since(params: RoundParams) -> date:
    """The earliest inspection date `eligible_pool` looks at: the longest of the periods
    before the window it counts (`exclude_inspected_within_days`, `min_interval_days`, the
    365 days of `max_per_year`). An inspection reported before it changes the pool only if it
    reports an inspection of a round in `planned` (it accounts for that round's planned one),
    so a caller may pass `eligible_pool` just the inspections on or after it and those of the
    planned rounds — a national history is millions of rows."""
    limits, rules = params.frequency, params.eligibility
    periods = [
        rules.exclude_inspected_within_days,
        limits.min_interval_days,
        365 if limits.max_per_year is not None else None,
    ]
    return params.window_start - timedelta(days=max((d for d in periods if d), default=0))


def _history(inspections: pl.DataFrame, planned: pl.DataFrame, params: RoundParams) -> pl.DataFrame:
    """(uscc, day) of every inspection up to the window's end: reported ones, and the planned
    ones of other published rounds not yet reported in that round (a firm counts once per
    round)."""
    reported = inspections.select(
        pl.col("round_id")
        if "round_id" in inspections.columns
        else pl.lit(None, pl.Utf8).alias("round_id"),
        "uscc",
        day="inspected_on",
    ).cast({"round_id": pl.Utf8})
    pending = planned.filter(pl.col("round_id") != params.round_id).select(
        "round_id", "uscc", day="inspection_date"
    )
    # only the reports of those rounds can match (not the millions of a national history)
    of_rounds = reported.filter(pl.col("round_id").is_in(pending.get_column("round_id").implode()))
    pending = pending.join(of_rounds, on=["round_id", "uscc"], how="anti")
    return (
        pl.concat([reported, pending.cast(reported.schema)])
        .filter(pl.col("day") <= params.window_end)
        .select("uscc", "day")
    )


def previous_round(
    rounds: pl.DataFrame, inspections: pl.DataFrame, params: RoundParams
) -> str | None:
    """The round id rotation compares against (module docstring), or None.

    `rounds`: round_id, window_start of planned rounds; `inspections`: round_id, inspected_on
    (every inspection, or each round's first: all this looks at).
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


def open_findings(
    outcomes: pl.DataFrame, notices: pl.DataFrame, as_of: date, clean_result: str
) -> pl.DataFrame:
    """(uscc) of firms with an open finding as of `as_of`: their latest inspection on or before
    it found a problem (a result other than `clean_result`, or a positive problem count), or a
    correction order issued by then is not complied with by then (no `rectified_on` on or
    before `as_of`).

    `outcomes`: uscc, inspected_on, result, problem_count — every inspection, or only each
    firm's inspections on its latest date on or before `as_of` (all this looks at); `notices`:
    uscc, issued_on, rectified_on (correction notices).

    Several inspections on a firm's latest date that disagree: a problem found by any of
    them is open (taking "the last row" after a sort that does not keep the order of ties
    made the answer depend on the sort's implementation — 1,272 firms of a generated
    national history)."""
    found = (pl.col("result") != clean_result).fill_null(False) | (
        pl.col("problem_count").fill_null(0) > 0
    )
    latest = (
        outcomes.select("uscc", "inspected_on", "result", "problem_count")
        .filter(pl.col("inspected_on") <= as_of)
        .filter(pl.col("inspected_on") == pl.col("inspected_on").max().over("uscc"))
        .group_by("uscc")
        .agg(found=found.any())
        .filter(pl.col("found"))
        .select("uscc")
    )
    pending = notices.filter(
        (pl.col("issued_on") <= as_of)
        & (pl.col("rectified_on").is_null() | (pl.col("rectified_on") > as_of))
    ).select("uscc")
    return pl.concat([latest, pending]).unique().sort("uscc")
