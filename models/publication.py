"""What the industry association and the public receive: the tier list and the disclosure feed.

What belongs here: shaping already-scored tiers, round results, the decided 严重失信 listings
and the penalty feed into (a) the association's tier list — a cover sheet (parameter, value,
meaning: as-of date, rule-set version, tier definitions) and one sheet per firm type, in
canonical columns the workbook writer labels from the catalogue — and (b) the public
disclosure feed in the spirit of the LIVES open standard (firms, tiers, rounds, results,
serious_dishonesty, penalties, legend, feed_info), holding public fields only. Who receives
which tiers, fields and lists is the rule set's (`publication.audiences`): by default the
association all tiers with scores, the public the A list and the legally decided lists. A
tier label is always the published one (`RuleSet.public_label`): a score never calls a firm
严重失信 — only a decided, unexpired listing does.
Pure: frames in, frames out. What does not: reading the warehouse or writing files
(warehouse.publication), formula escaping (warehouse.exports, applied to every written cell).
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from models.disclosure import PUBLIC_PENALTY_FIELDS
from models.labels import Labels
from models.listing import LISTING_SCHEMA
from models.rules import Audience, RuleSet

TIER_LIST_INPUT = pl.Schema(
    {
        "uscc": pl.Utf8,
        "name": pl.Utf8,
        "firm_type": pl.Utf8,
        "district": pl.Utf8,
        "qualification": pl.Utf8,
        "score": pl.Float64,
        "tier": pl.Utf8,
        "veto": pl.Boolean,
    }
)
"""One row per firm of the directory with its score as of the list's date."""

TIER_LIST_COLUMNS = (
    "uscc",
    "name",
    "district",
    "qualification",
    "score",
    "tier",
    "tier_label",
    "veto",
    "listed",
)
"""Every column a tier list can have, in order (headers from the label catalogue); an
audience gets the identity and tier columns, the extra fields its rule set names
(`qualification`, `score`, `veto`) and, when it receives the legal list, whether the firm
is listed."""

IDENTITY_COLUMNS = ("uscc", "name", "district", "tier", "tier_label")


def audience_columns(audience: Audience) -> list[str]:
    """The tier-list columns an audience receives, in `TIER_LIST_COLUMNS` order."""
    wanted = {*IDENTITY_COLUMNS, *audience.fields}
    if "serious_dishonesty" in audience.lists:
        wanted.add("listed")
    return [c for c in TIER_LIST_COLUMNS if c in wanted]


NOTES_COLUMNS = ("parameter", "value", "meaning")
"""A notes sheet (说明, 封面): one readable row per fact."""

TIER_LIST_TITLE = "人防行业从业单位信用等级名单"
COVER_SHEET = "封面"

PUBLIC_FIELDS: dict[str, tuple[str, ...]] = {
    "firms": ("uscc", "name", "firm_type", "district"),
    "tiers": ("uscc", "as_of", "tier", "rule_set_version"),
    "rounds": (
        "round_id",
        "tier_as_of",
        "window_start",
        "window_end",
        "seed",
        "algorithm_version",
        "plan_sha256",
        "pool_size",
        "drawn",
    ),
    "results": ("round_id", "uscc", "result"),
    "serious_dishonesty": (
        "uscc",
        "firm_name",
        "list_name",
        "decision_doc_no",
        "decided_on",
        "published_on",
        "listed_until",
        "grounds",
    ),
    "penalties": tuple(PUBLIC_PENALTY_FIELDS.values()),
    "legend": ("field", "code", "label_zh", "label_en"),
    "feed_info": ("key", "value"),
}
"""Every column the public feed may hold, per file (`tiers` also the extra fields the rule
set gives the public audience, none by default). Contacts, addresses, legal
representatives, reasons, inspectors and the control share are never published: the public
sees the tiers its audience receives (by default the A list), the published round results
(一公开), the decided 严重失信 listings in force and the penalty decisions in their
publication period (双公示, the national fields), nothing more."""

ROUND_INPUT = pl.Schema(
    {
        "round_id": pl.Utf8,
        "tier_as_of": pl.Date,
        "window_start": pl.Date,
        "window_end": pl.Date,
        "seed": pl.Int64,
        "algorithm_version": pl.Utf8,
        "plan_sha256": pl.Utf8,
        "pool_size": pl.Int64,
        "drawn": pl.Int64,
    }
)
"""Published rounds as the feed shows them (the plan's seed and hash let anyone re-run it)."""

RESULT_INPUT = pl.Schema({"round_id": pl.Utf8, "uscc": pl.Utf8, "result": pl.Utf8})
"""One row per drawn firm of a published round; the result is null until reported. Like the
round's own public list (公示, warehouse.round_exports): no date, tier, control flag or
inspector."""

PENDING_RESULT = "待检查"

LIST_NAME = "serious_dishonesty"
"""The code of the 严重失信主体名单 in the feed (its labels come from the rule set)."""
"""Shown for a drawn firm whose inspection is not reported yet (the round's 公示 says the same)."""


def tier_definitions(rules: RuleSet) -> pl.DataFrame:
    """One row per tier, best first: letter, published labels, score band (the veto sends a
    firm to the veto tier whatever its score)."""
    rows = []
    upper: float | None = None
    for t in rules.tiers:
        band = f"≥ {t.min_score:g}" if upper is None else f"{t.min_score:g} – < {upper:g}"
        if t.tier == rules.veto_tier:
            band += "，或一票否决 / or veto"
        rows.append(
            {
                "tier": t.tier,
                "label_zh": rules.public_label(t.tier, "zh"),
                "label_en": rules.public_label(t.tier, "en"),
                "band": band,
            }
        )
        upper = t.min_score
    return pl.DataFrame(rows)


RISK_CLASS_NOTE = (
    "信用等级是监管部门内部使用的信用风险分类，用于确定抽查比例和频次，不是失信认定；"
    "列入严重失信主体名单须经告知、陈述申辩、决定等法定程序，另行公示。"
)
"""Said wherever tiers are published: a tier is a risk class, not a listing."""


def tier_list_sheets(
    firms: pl.DataFrame,
    rules: RuleSet,
    as_of: date,
    labels: Labels,
    *,
    audience: str = "association",
    listed: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """An audience's workbook (default the association's): a cover sheet (parameter, value,
    meaning), then one sheet per firm type (in the labels' order, named by its label), firms
    of the audience's tiers ordered best tier first, then by score and name. Columns are
    canonical (`audience_columns`); the workbook writer gives them their Chinese headers.
    `listed`: the decided listings in force (LISTING_SCHEMA), shown by their decision number
    for an audience that receives the legal list."""
    seen = rules.publication.audiences[audience]
    firms = firms.select(list(TIER_LIST_INPUT)).cast(TIER_LIST_INPUT)
    firms = firms.filter(pl.col("tier").is_in(list(seen.tiers)))
    decisions = (listed if listed is not None else pl.DataFrame(schema=LISTING_SCHEMA)).select(
        "uscc", _decision="decision_doc_no"
    )
    tier_label = {t.tier: rules.public_label(t.tier) for t in rules.tiers}
    ordered = (
        firms.join(decisions.unique("uscc"), on="uscc", how="left")
        .with_columns(
            tier_label=pl.col("tier").replace_strict(tier_label, default=None),
            listed=pl.when(pl.col("_decision").is_not_null())
            .then(pl.format("是（{}）", "_decision"))
            .otherwise(pl.lit("否")),
            _rank=rules.tier_rank_expr(pl.col("tier")),
        )
        .sort(["_rank", "score", "name"], descending=[False, True, False])
    )
    definitions = tier_definitions(rules).filter(pl.col("tier").is_in(list(seen.tiers)))
    cover_rows = [
        ("名单", f"{TIER_LIST_TITLE}（{as_of.isoformat()}）", "封面之后每类单位一张工作表"),
        ("截至日期", as_of.isoformat(), "等级按此日的信用得分评定"),
        ("评价标准版本", rules.version, "得分与等级所依据的评价标准的版本"),
        ("评价标准", rules.title_zh, ""),
        ("单位总数", f"{firms.height:,d}", "名单所列单位数"),
        *(
            (
                f"{r['tier']} 级 {r['label_zh']}",
                f"信用得分 {r['band'].replace(' / or veto', '')}",
                "等级定义",
            )
            for r in definitions.iter_rows(named=True)
        ),
        ("排序", "按等级、得分、单位名称", "等级高者在前，同等级得分高者在前"),
        ("说明", "信用等级是信用风险分类，不是失信认定", RISK_CLASS_NOTE),
    ]
    sheets = {COVER_SHEET: pl.DataFrame(cover_rows, schema=list(NOTES_COLUMNS), orient="row")}
    columns = audience_columns(seen)
    for code in [*labels.firm_types, *sorted(set(firms["firm_type"]) - set(labels.firm_types))]:
        part = ordered.filter(pl.col("firm_type") == code)
        if part.is_empty():
            continue
        sheets[labels.firm_type(code)] = part.select(columns)
    return sheets


def disclosure_feed(
    tiers: pl.DataFrame,
    rounds: pl.DataFrame,
    results: pl.DataFrame,
    *,
    rules: RuleSet,
    labels: Labels,
    as_of: date,
    generated_at: datetime,
    listings: pl.DataFrame | None = None,
    penalties: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """The public feed, one frame per CSV file, each restricted to `PUBLIC_FIELDS`.

    `tiers` holds firm fields and tiers as of `as_of` (only the public audience's tiers are
    published); `rounds` and `results` must already be restricted to published rounds (the
    caller reads only those); `listings` are the decided 严重失信 listings in force on
    `as_of` (LISTING_SCHEMA), `penalties` the penalty decisions public that day
    (`models.disclosure.public_penalties`) — each published when the audience receives it.
    """
    public = rules.publication.audiences["public"]
    shown = tiers.filter(pl.col("tier").is_in(list(public.tiers)))
    listings = listings if listings is not None else pl.DataFrame(schema=LISTING_SCHEMA)
    if "serious_dishonesty" not in public.lists:
        listings = listings.clear()
    penalties = penalties if penalties is not None else pl.DataFrame()
    if "penalties" not in public.lists or penalties.is_empty():
        penalty_rows = pl.DataFrame(schema=dict.fromkeys(PUBLIC_FIELDS["penalties"], pl.Utf8))
    else:
        penalty_rows = penalties.rename(PUBLIC_PENALTY_FIELDS).select(PUBLIC_FIELDS["penalties"])
    named = pl.concat(
        [shown["uscc"], results["uscc"], listings["uscc"]]
        + ([penalties["uscc"]] if "uscc" in penalties.columns else [])
    ).unique()
    extra = [f for f in public.fields if f in tiers.columns]
    feed = {
        "firms": tiers.filter(pl.col("uscc").is_in(named.implode()))
        .select(PUBLIC_FIELDS["firms"])
        .sort("uscc"),
        "tiers": shown.with_columns(as_of=pl.lit(as_of), rule_set_version=pl.lit(rules.version))
        .select(*PUBLIC_FIELDS["tiers"], *extra)
        .sort("uscc"),
        "rounds": rounds.select(PUBLIC_FIELDS["rounds"]).sort("round_id"),
        "results": results.with_columns(pl.col("result").fill_null(PENDING_RESULT))
        .select(PUBLIC_FIELDS["results"])
        .sort(["round_id", "uscc"]),
        "serious_dishonesty": listings.with_columns(list_name=pl.lit(LIST_NAME))
        .select(PUBLIC_FIELDS["serious_dishonesty"])
        .sort("uscc"),
        "penalties": penalty_rows,
        "legend": legend(rules, labels),
    }
    info = [
        ("feed_version", as_of.isoformat()),
        ("as_of", as_of.isoformat()),
        ("rule_set_version", rules.version),
        ("generated_at", generated_at.isoformat(timespec="seconds")),
        ("language", "zh-CN"),
        *((f"rows.{name}", str(frame.height)) for name, frame in feed.items()),
    ]
    feed["feed_info"] = pl.DataFrame(info, schema=list(PUBLIC_FIELDS["feed_info"]), orient="row")
    return feed


def legend(rules: RuleSet, labels: Labels) -> pl.DataFrame:
    """What every coded value in the feed means, in Chinese and English."""
    rows = [
        ("tier", t.tier, rules.public_label(t.tier, "zh"), rules.public_label(t.tier, "en"))
        for t in rules.tiers
    ]
    rows.append(
        ("list_name", LIST_NAME, rules.listing.name_zh, rules.listing.name_en),
    )
    rows += [("firm_type", c, lb.zh, lb.en) for c, lb in labels.firm_types.items()]
    rows += [("result", c, lb.zh, lb.en) for c, lb in labels.inspection_results.items()]
    return pl.DataFrame(rows, schema=list(PUBLIC_FIELDS["legend"]), orient="row")
