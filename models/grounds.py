"""Deductions that rest on their ground: vetoes on the records they need, one fact once.

What belongs here: the status rows that follow from the relations between records rather
than from a case about one document (docs §4, "Derived statuses"):

- **A veto rests on its grounds** (`grounds`, `grounds_needed` of `credit_records`): a
  penalty's veto on the penalty decision, a refused inspection's veto on the inspection, the
  overdue-corrections veto on every never-rectified notice of its window. It holds while
  `grounds_needed` of them stand — collected, and not revoked, corrected or withdrawn. When
  one is revoked, corrected or withdrawn and the others no longer make up the set, the veto
  lapses from that day for good (`grounds_lost`); while a ground is disputed and the rule set
  says an open objection blocks a veto (`objection.blocks`), the disputed record cannot carry
  it: the veto is `suspended` for as long as the others do not make up the set.
- **One fact, one deduction** (`same_fact_as`): a circular or correction order recording the
  fact of a penalty decision does not count while that decision stands (`same_fact`, from
  the decision's collection until it is revoked, corrected or withdrawn — a repaired
  decision still stands for this: the fact happened).

Each row names the document it rests on (`ground_doc_no`), so the firm's record shows the
link. Every date is the date of the act it follows from, so scores before it are unchanged.

What does not: statuses from objection and repair cases (`record_status`), counting
(`scoring`, which reads `grounds_lost` as a stop and `suspended` / `same_fact` as gaps).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from models.credit_schema import RECORD_STATUS_SCHEMA
from models.rules import RuleSet

BREAKING: tuple[str, ...] = ("revoked", "corrected", "withdrawn")
"""A ground broken by one of these no longer stands (a repaired record still does: the
violation happened, it only stopped counting — as for the repeat multiplier)."""
OWN_STOPS: tuple[str, ...] = ("revoked", "corrected", "repaired", "withdrawn")

GROUNDS_LOST = "grounds_lost"
SUSPENDED = "suspended"
SAME_FACT = "same_fact"

_OPEN = date(9999, 12, 31)


@dataclass(frozen=True)
class _Ground:
    doc: str
    collected: date | None  # None: never stands (not collected, or unevidenced)
    broken: date  # _OPEN when never
    disputes: tuple[tuple[date, date], ...]

    def stands(self, day: date, *, disputes: bool) -> bool:
        if self.collected is None or not (self.collected <= day < self.broken):
            return False
        return not (disputes and any(f <= day < u for f, u in self.disputes))


def derived_statuses(records: pl.DataFrame, statuses: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Status rows (RECORD_STATUS_SCHEMA) that follow from grounds and same-fact links,
    given the case and withdrawal statuses `statuses`."""
    parts = [ground_statuses(records, statuses, rules), same_fact_statuses(records, statuses)]
    return pl.concat(parts).sort("record_id", "status_from", "status")


def ground_statuses(records: pl.DataFrame, statuses: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """`suspended` and `grounds_lost` rows of veto records whose grounds are disputed or
    broken (only vetoes with such an event are examined: a handful at national scale)."""
    empty = pl.DataFrame(schema=RECORD_STATUS_SCHEMA)
    if "grounds" not in records.columns:
        return empty
    vetoes = (
        records.filter(pl.col("grounds").is_not_null())
        .group_by("record_id")
        .agg(
            pl.col("grounds").first(),
            pl.col("grounds_needed").first(),
            pl.col("collected_on").min(),
        )
    )
    if vetoes.is_empty():
        return empty
    blocking = rules.blocks("veto")
    events = statuses.filter(
        pl.col("status").is_in(BREAKING) | (pl.lit(blocking) & (pl.col("status") == "disputed"))
    )
    touched = set(events["record_id"].to_list())
    affected = vetoes.filter(
        pl.col("grounds").list.eval(pl.element().is_in(list(touched))).list.any()
    )
    if affected.is_empty():
        return empty
    ids = set(affected["grounds"].explode().to_list())
    info = (
        records.filter(pl.col("record_id").is_in(list(ids)))
        .group_by("record_id")
        .agg(
            pl.col("evidence_doc_no").first(),
            pl.col("collected_on").min(),
            pl.col("evidence_valid").fill_null(False).any(),
        )
    )
    broken = dict(
        events.filter(pl.col("status").is_in(BREAKING))
        .group_by("record_id")
        .agg(pl.col("status_from").min())
        .iter_rows()
    )
    disputes: dict[str, list[tuple[date, date]]] = {}
    for rid, start, end in (
        events.filter(pl.col("status") == "disputed")
        .select("record_id", "status_from", "status_until")
        .iter_rows()
    ):
        disputes.setdefault(rid, []).append((start, end or _OPEN))
    grounds = {
        rid: _Ground(
            doc=doc,
            collected=collected if valid else None,
            broken=broken.get(rid, _OPEN),
            disputes=tuple(disputes.get(rid, ())),
        )
        for rid, doc, collected, valid in info.iter_rows()
    }
    own_stop = dict(
        statuses.filter(pl.col("status").is_in(OWN_STOPS))
        .group_by("record_id")
        .agg(pl.col("status_from").min())
        .iter_rows()
    )
    rows: list[dict[str, object]] = []
    for veto_id, ground_ids, needed, start in affected.iter_rows():
        if start is None:
            continue
        mine = [grounds[g] for g in ground_ids if g in grounds]
        rows += _veto_rows(veto_id, mine, int(needed), start, own_stop.get(veto_id), blocking)
    return pl.DataFrame(rows, schema=RECORD_STATUS_SCHEMA) if rows else empty


def _veto_rows(
    veto_id: str,
    grounds: list[_Ground],
    needed: int,
    start: date,
    own_stop: date | None,
    blocking: bool,
) -> list[dict[str, object]]:
    """Walk the dates on which a ground changes and emit the veto's gaps and its end."""
    marks = {start}
    for g in grounds:
        for day in (g.collected, g.broken, *(d for pair in g.disputes for d in pair)):
            if day is not None and start < day < _OPEN:
                marks.add(day)
    days = sorted(marks)

    def standing(day: date, disputes: bool) -> list[_Ground]:
        return [g for g in grounds if g.stands(day, disputes=disputes)]

    holds = [len(standing(day, blocking)) >= needed for day in days]
    # from `lost_from` on, the grounds (disputes aside) never again make up the set
    lost_from: date | None = None
    for day in reversed(days):
        if len(standing(day, False)) >= needed:
            break
        lost_from = day
    rows: list[dict[str, object]] = []
    i = 0
    while i < len(days):
        if holds[i]:
            i += 1
            continue
        j = i
        while j < len(days) and not holds[j]:
            j += 1
        run_from = days[i]
        run_until = days[j] if j < len(days) else None
        if lost_from is not None and run_until is None:
            if run_from < lost_from:
                rows.append(_suspended(veto_id, run_from, lost_from, grounds))
            if own_stop is None or own_stop > lost_from:
                rows.append(_lost(veto_id, lost_from, grounds))
        else:
            rows.append(_suspended(veto_id, run_from, run_until, grounds))
        i = j
    return rows


def _row(
    veto_id: str, status: str, start: date, end: date | None, reason: str, doc: str | None
) -> dict[str, object]:
    return {
        "record_id": veto_id,
        "status": status,
        "status_from": start,
        "status_until": end,
        "case_id": None,
        "reason": reason,
        "ground_doc_no": doc,
    }


def _suspended(
    veto_id: str, start: date, end: date | None, grounds: list[_Ground]
) -> dict[str, object]:
    disputed = [g.doc for g in grounds if g.stands(start, disputes=False)]
    disputed = [g.doc for g in grounds if g.doc in disputed and not g.stands(start, disputes=True)]
    docs = "、".join(disputed)
    return _row(
        veto_id,
        SUSPENDED,
        start,
        end,
        f"所依据的记录异议未决（{docs}），一票否决暂不适用 / a record it rests on is disputed "
        f"({docs}): the veto does not apply meanwhile",
        disputed[0] if disputed else None,
    )


def _lost(veto_id: str, start: date, grounds: list[_Ground]) -> dict[str, object]:
    gone = [g.doc for g in grounds if g.broken <= start]
    docs = "、".join(gone)
    return _row(
        veto_id,
        GROUNDS_LOST,
        start,
        None,
        f"所依据的记录已撤销、更正或撤回（{docs}），一票否决自该日起解除 / a record it rests "
        f"on was revoked, corrected or withdrawn ({docs}): the veto is lifted from that day",
        gone[0] if gone else None,
    )


def same_fact_statuses(records: pl.DataFrame, statuses: pl.DataFrame) -> pl.DataFrame:
    """`same_fact` rows: a linked document does not count while the penalty decision it
    records stands (from the decision's collection until it is revoked, corrected or
    withdrawn; the union over the decision's versions)."""
    empty = pl.DataFrame(schema=RECORD_STATUS_SCHEMA)
    if "same_fact_as" not in records.columns:
        return empty
    # only the linked segments defer (a correction order's own L1; failing it later is a
    # fact of its own): the gap ends where the last linked segment ends
    linked = (
        records.filter(pl.col("same_fact_as").is_not_null())
        .group_by("record_id")
        .agg(
            target=pl.col("same_fact_as").first(),
            limit=pl.when(pl.col("segment_until").is_null().any())
            .then(pl.lit(_OPEN))
            .otherwise(pl.col("segment_until").max()),
        )
    )
    if linked.is_empty():
        return empty
    base = pl.col("record_id").str.replace(r"@.*$", "")
    versions = (
        records.filter(
            base.is_in(linked["target"].unique().implode())
            & ~pl.col("veto").fill_null(False)
            & pl.col("evidence_valid").fill_null(False)
        )
        .group_by("record_id")
        .agg(pl.col("evidence_doc_no").first(), pl.col("collected_on").min())
        .with_columns(target=base)
        .join(
            statuses.filter(pl.col("status").is_in(BREAKING))
            .group_by("record_id")
            .agg(broken=pl.col("status_from").min()),
            on="record_id",
            how="left",
        )
        .with_columns(pl.col("broken").fill_null(_OPEN))
        .filter(pl.col("collected_on").is_not_null() & (pl.col("collected_on") < pl.col("broken")))
    )
    pairs = (
        linked.join(versions.drop("record_id"), on="target")
        .with_columns(broken=pl.min_horizontal("broken", "limit"))
        .filter(pl.col("collected_on") < pl.col("broken"))
        .sort("record_id", "collected_on")
        .with_columns(
            reach=pl.col("broken").cum_max().shift(1).over("record_id"),
        )
        .with_columns(
            group=(pl.col("reach").is_null() | (pl.col("collected_on") > pl.col("reach")))
            .cum_sum()
            .over("record_id")
        )
        .group_by("record_id", "group")
        .agg(
            pl.col("evidence_doc_no").first(),
            status_from=pl.col("collected_on").min(),
            until=pl.col("broken").max(),
        )
    )
    doc = pl.col("evidence_doc_no")
    return (
        pairs.select(
            "record_id",
            status=pl.lit(SAME_FACT),
            status_from="status_from",
            status_until=pl.when(pl.col("until") < _OPEN).then(pl.col("until")),
            case_id=pl.lit(None, dtype=pl.Utf8),
            reason=pl.format(
                "与行政处罚决定书{}为同一事实，不重复扣分 / the same fact as penalty decision {}: "
                "no second deduction",
                doc,
                doc,
            ),
            ground_doc_no=doc,
        )
        .cast(RECORD_STATUS_SCHEMA)
        .sort("record_id", "status_from")
    )
