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

Tracking (`inspection_tracking`, as of a day): each drawn firm is planned (date not passed),
done (an outcome reported) or overdue (its planned date passed without a result); each result
must be made public within `PUBLICATION_WORKING_DAYS` working days of the inspection ([S]
《企业信息公示暂行条例》第六条、第七条: 自产生之日起20个工作日内予以公示). A result is public
from the day the product first listed it in a published round's public list — the day it was
received (`collected_on`), or the round's publication if later; the deadline list names every
result published late, and every inspection whose deadline is past or within
`DEADLINE_WARNING_DAYS` working days without a public result.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from models.sampling.calendar import SuppliedCalendar, add_working_days_expr, day_flags

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
        "collected_on": pl.Date,
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
    if "collected_on" not in outcomes.columns:
        outcomes = outcomes.with_columns(pl.lit(None, dtype=pl.Date).alias("collected_on"))
    first = (
        outcomes.drop_nulls("round_id")
        .sort("inspected_on", "inspection_id", nulls_last=True)
        .unique(["round_id", "uscc"], keep="first", maintain_order=True)
        .select(
            "round_id",
            "uscc",
            "inspection_id",
            "inspected_on",
            "result",
            "problem_count",
            "collected_on",
        )
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


PUBLICATION_WORKING_DAYS = 20
"""[S] 《企业信息公示暂行条例》: results are public within 20 working days of the inspection."""
DEADLINE_WARNING_DAYS = 5
"""[P] Results (or inspections) whose deadline is this near are listed before it passes."""

TRACKING_SCHEMA = pl.Schema(
    {
        "round_id": pl.Utf8,
        "uscc": pl.Utf8,
        "tier": pl.Utf8,
        "is_control": pl.Boolean,
        "planned_date": pl.Date,
        "inspected_on": pl.Date,
        "result": pl.Utf8,
        "status": pl.Utf8,  # planned | done | overdue
        "publication_deadline": pl.Date,
        "public_on": pl.Date,
        "deadline_status": pl.Utf8,  # on_time | late | due | past_due | pending
        "working_days_left": pl.Int64,
    }
)
INSPECTION_STATUSES: tuple[str, ...] = ("planned", "done", "overdue")
DEADLINE_STATUSES: tuple[str, ...] = ("on_time", "late", "due", "past_due", "pending")
"""Codes of `status` and `deadline_status` (labels: `inspection_status`, `deadline_status` in
models/labels.yaml)."""


def inspection_tracking(
    outcomes: pl.DataFrame,
    published_on: dict[str, object],
    today: date,
    supplied: SuppliedCalendar | None = None,
) -> pl.DataFrame:
    """Each drawn firm's status and publication deadline as of `today` (module docstring).

    `outcomes`: `round_outcomes` rows; `published_on`: round_id → the day the round was
    published (None for a draft: nothing of it is public). The deadline of a firm not yet
    reported is counted from its planned date, so an inspection done but not reported shows
    before its result is late.
    """
    if outcomes.is_empty():
        return pl.DataFrame(schema=TRACKING_SCHEMA)
    base = outcomes.with_columns(
        status=pl.when(pl.col("inspection_id").is_not_null())
        .then(pl.lit("done"))
        .when(pl.col("planned_date") < today)
        .then(pl.lit("overdue"))
        .otherwise(pl.lit("planned")),
        clock=pl.coalesce("inspected_on", "planned_date"),
        round_public=pl.col("round_id").replace_strict(
            published_on, default=None, return_dtype=pl.Date
        ),
    )
    base = add_working_days_expr(base, "clock", PUBLICATION_WORKING_DAYS, "publication_deadline",
                                 supplied)  # fmt: skip
    today_frame = pl.DataFrame({"day": [today]})
    near = add_working_days_expr(today_frame, "day", DEADLINE_WARNING_DAYS, "near", supplied)
    warn_until = near.get_column("near")[0]
    public_on = pl.when(
        pl.col("result").is_not_null() & pl.col("round_public").is_not_null()
    ).then(pl.max_horizontal(pl.col("collected_on").fill_null(pl.col("round_public")),
                             pl.col("round_public")))  # fmt: skip
    tracked = base.with_columns(public_on=public_on).with_columns(
        deadline_status=pl.when(pl.col("public_on").is_not_null())
        .then(
            pl.when(pl.col("public_on") > pl.col("publication_deadline"))
            .then(pl.lit("late"))
            .otherwise(pl.lit("on_time"))
        )
        .when(pl.col("publication_deadline") < today)
        .then(pl.lit("past_due"))
        .when(pl.col("publication_deadline") <= warn_until)
        .then(pl.lit("due"))
        .otherwise(pl.lit("pending")),
    )
    calendar = day_flags(min(today, *_dates(tracked)), max(today, *_dates(tracked)), supplied)
    index = calendar.with_columns(i=pl.col("is_working_day").cast(pl.Int64).cum_sum())
    today_index = index.filter(pl.col("day") == today).get_column("i")[0]
    tracked = tracked.join(
        index.select(publication_deadline="day", deadline_index="i"),
        on="publication_deadline",
        how="left",
    ).with_columns(working_days_left=pl.col("deadline_index") - today_index)
    return (
        tracked.select(TRACKING_SCHEMA.names())
        .cast(TRACKING_SCHEMA)
        .sort("round_id", "planned_date", "uscc")
    )


def _dates(frame: pl.DataFrame) -> list[date]:
    values = frame.select(
        pl.min_horizontal(pl.col("publication_deadline").min(), pl.col("clock").min()).alias("a"),
        pl.max_horizontal(pl.col("publication_deadline").max(), pl.col("clock").max()).alias("b"),
    ).row(0)
    return [v for v in values if isinstance(v, date)]


def deadline_list(tracking: pl.DataFrame) -> pl.DataFrame:
    """The results to act on: made public late, deadline passed or near without a public
    result."""
    return tracking.filter(pl.col("deadline_status").is_in(["late", "past_due", "due"])).sort(
        "publication_deadline", "round_id", "uscc"
    )
