"""Penalty disclosure (行政处罚信息公示): when each penalty decision is public, and why not.

What belongs here: one row per penalty decision version (a decision restated in a later
file is a new version from that day) saying when it entered the public feed and when it
left it — all dated, so the feed as of any date is reproducible:

- **published** from the day the decision was collected (the feed is published from the
  decision as soon as it is known), checked against the deadline: within
  `disclosure.publish_within_working_days` (7, 双公示) of the decision date — later ones are
  flagged `late`;
- **taken down** at the end of its publication period: the decision's own 公示截止期 when the
  file states one (the national layout does), else the decision date + the rule set's
  `disclosure.period_months` of its severity; a credit repair ends it too;
- **withdrawn** when the decision is revoked or corrected (an objection decided 撤销 / 更正,
  or a later version of the file saying 已撤销, or the file withdrawn): on the day the
  centre knew, checked against `disclosure.withdraw_within_working_days` (3, 处罚法 art. 48)
  of the revocation — later ones are flagged `withdrawal_late`;
- **suspended** while an objection against it is open, when the rule set's
  `objection.blocks` names `publication`.

Decisions not to penalise (不予处罚, 轻微违法免罚) are never published. The public fields are
the national 双公示 ones (`PUBLIC_PENALTY_FIELDS`).

What does not: reading or writing the warehouse, the feed's files (`models.publication`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl

from models.credit_records import conform_source, only_no_penalty, source_records
from models.labels import default_labels
from models.rules import RuleSet
from models.workdays import add_working_days, working_day_calendar

DISCLOSURE_SCHEMA = pl.Schema(
    {
        "doc_no": pl.Utf8(),
        "uscc": pl.Utf8(),
        "version": pl.Utf8(),  # the file's SHA-256 (first 12) of a retired version, else ""
        "firm_name": pl.Utf8(),
        "violation_type": pl.Utf8(),
        "violation": pl.Utf8(),
        "legal_basis": pl.Utf8(),
        "penalty_types": pl.Utf8(),
        "penalty_content": pl.Utf8(),
        "fine_wan": pl.Float64(),
        "decided_on": pl.Date(),
        "authority": pl.Utf8(),
        "severity": pl.Utf8(),
        "publish_due": pl.Date(),
        "published_on": pl.Date(),
        "late": pl.Boolean(),
        "publish_until": pl.Date(),  # last day of the publication period (公示截止日期)
        "ended_on": pl.Date(),  # first day no longer public (null: still public)
        "end_reason": pl.Utf8(),  # a key of FEED_STATES_ZH (expired, revoked, …)
        "revoked_on": pl.Date(),
        "withdraw_due": pl.Date(),
        "withdrawal_late": pl.Boolean(),
        "suspended_from": pl.List(pl.Date()),
        "suspended_until": pl.List(pl.Date()),
        "rule_set_version": pl.Utf8(),
    }
)
"""One row per published penalty decision version (exempt decisions have none)."""

PUBLIC_PENALTY_FIELDS: dict[str, str] = {
    "firm_name": "行政相对人名称",
    "uscc": "统一社会信用代码",
    "doc_no": "行政处罚决定书文号",
    "violation_type": "违法行为类型",
    "violation": "违法事实",
    "legal_basis": "处罚依据",
    "penalty_types": "处罚类别",
    "penalty_content": "处罚内容",
    "fine_wan": "罚款金额（万元）",
    "decided_on": "处罚决定日期",
    "authority": "处罚机关",
    "publish_until": "公示截止日期",
}
"""The national 双公示 fields of the public feed, with their headers, in order."""

FEED_STATES = (
    "public", "suspended", "expired", "repaired", "revoked", "corrected", "withdrawn_file",
    "superseded", "not_yet",
)  # fmt: skip
FEED_STATES_ZH = default_labels().code_map("feed_state", list(FEED_STATES))
"""Each state's Chinese name, from the label catalogue (`feed_state`)."""

_OPEN = date(9999, 12, 31)
_ENDS = {"revoked": "revoked", "corrected": "corrected", "repaired": "repaired"}


def penalty_disclosures(
    current: pl.DataFrame,
    retired: pl.DataFrame | None,
    statuses: pl.DataFrame,
    cases_known: pl.DataFrame,
    rules: RuleSet,
) -> pl.DataFrame:
    """DISCLOSURE_SCHEMA rows for the penalty decisions `current` (clean rows in force) and
    `retired` (rows of withdrawn or superseded files, with `retired_on`).

    `statuses` is `credit_record_status` (revocations, corrections, repairs, disputes of
    the decisions' records); `cases_known` maps `case_id` → `known_on`, the day the centre
    received the case (a revocation is withdrawn from the feed on that day at the earliest).
    """
    versions = [_versions(current, None)]
    if retired is not None and not retired.is_empty():
        versions.append(_versions(retired, pl.col("retired_on")))
    docs = pl.concat(versions, how="vertical_relaxed")
    p = rules.penalties
    in_force = docs.filter(pl.col("retired_on").is_null())
    revoked_now = in_force.filter(pl.col("status").is_in(list(p.ignored_statuses)).fill_null(False))
    docs = docs.with_columns(
        _revoked_later=pl.col("doc_no").is_in(revoked_now["doc_no"].implode()),
        _restated=pl.col("doc_no").is_in(in_force["doc_no"].implode()),
    )
    published = docs.filter(
        ~pl.col("status").is_in(list(p.ignored_statuses)).fill_null(False)
        & ~only_no_penalty(p.no_penalty_types)
    )
    if published.is_empty():
        return pl.DataFrame(schema=DISCLOSURE_SCHEMA)
    severity = (
        source_records("penalty_decisions", published.drop("version", "retired_on"), rules)
        .filter(~pl.col("veto"))
        .select(doc_no="evidence_doc_no", uscc="uscc", severity="severity")
        .unique(["doc_no", "uscc"])
        .collect()
    )
    months = rules.disclosure.period_months
    rows = published.join(severity, on=["doc_no", "uscc"], how="left").with_columns(
        _period_end=pl.col("decided_on").dt.offset_by(
            pl.format("{}mo", pl.col("severity").replace_strict(months, default=12))
        ),
    )
    rows = rows.with_columns(
        publish_until=pl.coalesce("publication_until", pl.col("_period_end").dt.offset_by("-1d")),
        record_id=pl.format("penalty_decisions:{}:{}", "doc_no", "uscc")
        + pl.when(pl.col("version") != "")
        .then(pl.lit("@") + pl.col("version"))
        .otherwise(pl.lit("")),
    )
    rows = _with_status_ends(rows, statuses, cases_known, rules)
    rows = _with_deadlines(rows, rules)
    return (
        rows.select(DISCLOSURE_SCHEMA.names())
        .cast(DISCLOSURE_SCHEMA)
        .sort("decided_on", "doc_no", "version")
    )


def _versions(frame: pl.DataFrame, retired_on: pl.Expr | None) -> pl.DataFrame:
    has_sha = "file_sha256" in frame.columns and retired_on is not None
    docs = conform_source(frame, "penalty_decisions").collect()
    return docs.with_columns(
        version=frame["file_sha256"].str.slice(0, 12) if has_sha else pl.lit(""),
        retired_on=frame["retired_on"] if retired_on is not None else pl.lit(None, dtype=pl.Date),
    )


def _with_status_ends(
    rows: pl.DataFrame, statuses: pl.DataFrame, cases_known: pl.DataFrame, rules: RuleSet
) -> pl.DataFrame:
    """Revocation, correction and repair dates of each version's record, the day the
    centre knew them, and the open-objection intervals."""
    mine = statuses.join(rows.select("record_id"), on="record_id", how="semi")
    known = cases_known.select("case_id", "known_on")
    ends = (
        mine.filter(pl.col("status").is_in(list(_ENDS)))
        .join(known, on="case_id", how="left")
        .with_columns(effective=pl.max_horizontal("status_from", "known_on"))
        .sort("status_from")
        .group_by("record_id", maintain_order=True)
        .first()
        .select("record_id", _status="status", _status_from="status_from", _effective="effective")
    )
    if rules.blocks("publication"):
        disputes = (
            mine.filter(pl.col("status") == "disputed")
            .sort("status_from")
            .group_by("record_id", maintain_order=True)
            .agg(
                suspended_from=pl.col("status_from"),
                suspended_until=pl.col("status_until").fill_null(_OPEN),
            )
        )
    else:
        disputes = pl.DataFrame(
            schema={
                "record_id": pl.Utf8,
                "suspended_from": pl.List(pl.Date),
                "suspended_until": pl.List(pl.Date),
            }
        )
    rows = rows.join(ends, on="record_id", how="left").join(disputes, on="record_id", how="left")
    published = pl.max_horizontal("collected_on", "decided_on")
    expiry = pl.col("publish_until").dt.offset_by("1d")
    revoked = pl.col("_status").is_in(["revoked", "corrected"]).fill_null(False)
    candidates = [
        (pl.lit("expired"), expiry),
        (pl.col("_status"), pl.col("_effective")),
        (
            # a later version saying 已撤销 revokes it; another later version replaces it; a
            # retirement without a later version is the file's withdrawal
            pl.when(pl.col("_revoked_later"))
            .then(pl.lit("revoked"))
            .when(pl.col("_restated"))
            .then(pl.lit("superseded"))
            .otherwise(pl.lit("withdrawn_file")),
            pl.col("retired_on"),
        ),
    ]
    ended = pl.min_horizontal(*(day for _, day in candidates))
    reason = pl.lit(None, dtype=pl.Utf8)
    for name, day in reversed(candidates):
        reason = pl.when(day.is_not_null() & (day == ended)).then(name).otherwise(reason)
    return rows.with_columns(
        published_on=published,
        ended_on=ended,
        end_reason=reason,
        revoked_on=pl.when(revoked).then(pl.col("_status_from")),
        _withdrawn_on=pl.when(revoked).then(pl.col("_effective")),
    )


def _with_deadlines(rows: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    d = rules.disclosure
    days = pl.concat([rows["decided_on"], rows["revoked_on"]]).drop_nulls()
    first, last = days.min(), days.max()
    assert isinstance(first, date) and isinstance(last, date)  # a decision date at least
    calendar = working_day_calendar(first, last + timedelta(days=90))
    rows = add_working_days(
        rows, "decided_on", d.publish_within_working_days, "publish_due", calendar
    )
    rows = add_working_days(
        rows, "revoked_on", d.withdraw_within_working_days, "withdraw_due", calendar
    )
    return rows.with_columns(
        late=(pl.col("published_on") > pl.col("publish_due")).fill_null(False),
        withdrawal_late=(pl.col("_withdrawn_on") > pl.col("withdraw_due")),
        # rounded to the yuan's cents (6 decimals of 万元): polars divides a long column by
        # multiplying with the reciprocal, so 33000 came out as 3.3000000000000003 in a full
        # run and 3.3 in a short one — in the published feed and in the incremental check
        fine_wan=(pl.col("fine_amount") / 10_000).round(6),
        penalty_types=pl.col("penalty_types").list.join("；"),
        penalty_content=pl.coalesce("penalty_content", _content()),
        violation_type=pl.coalesce("violation_type", "violation_category"),
        rule_set_version=pl.lit(rules.version),
    )


def _content() -> pl.Expr:
    """处罚内容 when the file states none: the penalty types, and the fine in yuan."""
    fine = pl.col("fine_amount")
    money = pl.when(fine > 0).then(
        pl.format("，罚款人民币{}元", fine.round(2).cast(pl.Utf8).str.replace(r"\.0$", ""))
    )
    return pl.concat_str(pl.col("penalty_types").list.join("、"), money.fill_null(""))


def feed_as_of(disclosures: pl.DataFrame, day: date) -> pl.DataFrame:
    """Every decision version collected by `day`, with its `state` as of that day
    (`FEED_STATES_ZH`): `public` ones are what the public feed holds that day."""
    known = disclosures.filter(pl.col("published_on") <= day)
    suspended = (
        known.select("doc_no", "version", "suspended_from", "suspended_until")
        .explode("suspended_from", "suspended_until")
        .filter((pl.col("suspended_from") <= day) & (pl.lit(day) < pl.col("suspended_until")))
        .select("doc_no", "version", _suspended=pl.lit(True))
        .unique()
    )
    ended = pl.col("ended_on").is_not_null() & (pl.col("ended_on") <= day)
    return (
        known.join(suspended, on=["doc_no", "version"], how="left")
        .with_columns(
            state=pl.when(ended)
            .then(pl.col("end_reason"))
            .when(pl.col("_suspended").fill_null(False))
            .then(pl.lit("suspended"))
            .otherwise(pl.lit("public")),
            as_of=pl.lit(day),
        )
        .with_columns(
            # a withdrawal's lateness is known once the withdrawal happened
            withdrawal_late=pl.when(ended).then(pl.col("withdrawal_late")),
        )
        .drop("_suspended")
        .sort("decided_on", "doc_no", "version")
    )


def public_penalties(disclosures: pl.DataFrame, day: date) -> pl.DataFrame:
    """The public feed of `day`: the national fields of every decision public that day."""
    feed = feed_as_of(disclosures, day).filter(pl.col("state") == "public")
    return feed.select(list(PUBLIC_PENALTY_FIELDS))


def feed_changes(
    disclosures: pl.DataFrame, before: date | None, day: date, *, now: pl.DataFrame | None = None
) -> dict[str, list[str]]:
    """Decision numbers that entered or left the public feed after `before` up to `day`
    (the audit log's record of what the feed did), by what happened to them. `now`: the
    feed of `day` (`feed_as_of`) when the caller has it already."""
    now = feed_as_of(disclosures, day) if now is None else now
    then = feed_as_of(disclosures, before) if before else now.clear()
    return changes_between(then, now)


def changes_between(then: pl.DataFrame, now: pl.DataFrame) -> dict[str, list[str]]:
    """What `feed_changes` says of two feeds (`feed_as_of`): the decisions public now and
    not then, and the states now of those public then and not now. Set differences by
    anti-joins: a national feed's ~900k numbers as Python sets took ~0.3 s a day."""
    public = pl.col("state") == "public"
    public_now = now.filter(public).select("doc_no").unique()
    public_then = then.filter(public).select("doc_no").unique()
    entered = public_now.join(public_then, on="doc_no", how="anti", nulls_equal=True)
    gone = public_then.join(public_now, on="doc_no", how="anti", nulls_equal=True)
    left = now.join(gone, on="doc_no", how="semi")  # as `is_in`: a missing number matches none
    changes: dict[str, list[str]] = {"published": sorted(entered["doc_no"].to_list())}
    for state in sorted(set(left["state"].to_list())):
        changes[state] = sorted(set(left.filter(pl.col("state") == state)["doc_no"].to_list()))
    return changes


FEED_CHANGES = ("new", "changed", "removed")
"""What a change report says of a row (`report_changes`): a decision version the last report
did not hold, one whose state or dates moved, one the last report held and this one does not
(its file withdrawn before it was ever published, say)."""


def full_report_due(since: date | None, day: date) -> bool:
    """Whether the centre's report of `day` is the whole feed rather than its changes since
    the last report (`since`, of an earlier day): the first report, the first of a calendar
    month, or one whose last report is not earlier (a processing date set back). A month's
    first report plus its daily change reports give the feed of any day of the month without
    a national copy a day (~435 MB at 100,000 firms); the whole feed of any date is also
    `renfang export penalty-feed --as-of`."""
    return since is None or since >= day or (since.year, since.month) != (day.year, day.month)


def report_changes(then: pl.DataFrame, now: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """The rows of `now` (a `feed_as_of`) that differ from `then` (the feed of the last
    report's day) in any of `columns`, and the rows of `then` no longer in `now`, each with
    its `change` (`FEED_CHANGES`) and the compared columns only; a decision version is keyed
    by (doc_no, version). Compared on the report's own columns, so the change report lists
    exactly the rows whose line in the whole report would differ."""
    key = ["doc_no", "version"]
    compared = list(dict.fromkeys([*key, *columns]))
    then, now = then.select(compared), now.select(compared)

    # each line as two 64-bit sums of per-column hashes (each column its own seed, so
    # values swapped between columns do not cancel), its key's and its own, joined as
    # integers: a join on every column took ~1.6 s on a national feed of ~920k rows with
    # nulls equal. A changed line is missed only if both sums of two lines collide (~2^-128)
    def lines(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.select(
            _key=pl.sum_horizontal([pl.col(c).hash(seed=i) for i, c in enumerate(key)]),
            _line=pl.sum_horizontal([pl.col(c).hash(seed=i) for i, c in enumerate(compared)]),
        ).with_row_index("_row")

    lines_then, lines_now = lines(then), lines(now)
    arrived = lines_now.join(lines_then, on=["_key", "_line"], how="anti")
    went = lines_then.join(lines_now, on=["_key", "_line"], how="anti")
    # the rest joins the few lines that differ, not the national feed
    arrived = arrived.join(
        went.select("_key", _was=pl.lit("changed")), on="_key", how="left"
    ).select("_row", change=pl.col("_was").fill_null("new"))
    removed = went.join(arrived.select(_key=lines_now["_key"].gather(arrived["_row"])),
                        on="_key", how="anti")["_row"]  # fmt: skip
    return (
        pl.concat(
            [
                now[arrived["_row"]].with_columns(arrived["change"]),
                then[removed].with_columns(change=pl.lit("removed")),
            ]
        )
        .with_columns(pl.col("change").cast(pl.Enum(FEED_CHANGES)))
        .sort("change", *key)
    )


def late_publications(disclosures: pl.DataFrame, day: date) -> pl.DataFrame:
    """Decisions published after the 7-working-day deadline, and withdrawals after the
    3-working-day one, known by `day`."""
    feed = feed_as_of(disclosures, day)
    return feed.filter(pl.col("late") | pl.col("withdrawal_late").fill_null(False))


def feed_days(disclosures: pl.DataFrame) -> Sequence[date]:
    """Every day on which the public feed changed."""
    days = (
        pl.concat([disclosures["published_on"], disclosures["ended_on"].drop_nulls()])
        .unique()
        .sort()
    )
    return [d for d in days.to_list() if isinstance(d, date)]
