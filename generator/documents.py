"""The documents a regulator issues about firms: correction notices, penalty decisions,
circulars, commendations, and the objections and repair requests filed against them.

What belongs here: turning inspection outcomes and per-firm risk into documents with real
numbering series (沪国动罚〔2024〕12号, 沪民防改〔2023〕第57号, 沪民防罚决字[2021]第8号), legal
bases and fines within the statutory bands, rectification histories, multi-firm circulars and
awards, and credit cases. Facts after the export date (the period's last day) stay unknown.
What does not: firms, inspectors and inspections (`generator.world`), assembling the contract
frames (`generator.population`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from generator import vocabulary as vocab
from generator.columns import (
    choose,
    collection_delay,
    concat,
    dates,
    pick_within,
    sequence,
    where,
    words,
    workdays_after,
    years_of,
    zfill,
)
from generator.world import CASE, PROBLEM, REFUSED, World

# Penalty shapes, lightest first: warning only; warning/fine < 10,000 under the local
# regulation; circular of criticism; fine in the art. 48/49 band; fine + confiscation;
# fine + downgrade/suspension.
_W, _WS, _C, _F, _FC, _S = range(6)
_CLASS_WEIGHTS = np.array([0.22, 0.20, 0.08, 0.35, 0.08, 0.07])
_HEAVY = np.array([False, False, False, True, True, True])
_PENALTY_COMBOS: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("警告",),),
    (("警告", "罚款"), ("罚款",)),
    (("通报批评",), ("警告", "通报批评")),
    (("罚款",), ("警告", "罚款")),
    (("罚款", "没收违法所得"), ("警告", "罚款", "没收违法所得")),
    (("罚款", "降低资质等级"), ("罚款", "暂扣许可证件"), ("罚款", "责令停产停业")),
)
_PENALTY_STATUS = ("有效", "已撤销", "复议中", "诉讼中")

# Authority index space shared by every document kind (see `_authorities`).
_NATIONAL, _PROVINCIAL, _CITY, _FIRST_DISTRICT = 0, 1, 2, 3
_FIRST_ASSOCIATION = _FIRST_DISTRICT + len(vocab.DISTRICTS)
_LEVELS = ("国家", "省", "市", "区", "协会")


def _authorities(kind: str) -> tuple[list[str], list[str]]:
    """(names, document-number heads) over the shared authority index space.

    Index: 0 national, 1 provincial, 2 the city office, 3.. the 16 district offices, then the
    two associations. Heads follow the real series: 沪国动罚 / 浦国动罚 for penalties,
    沪民防改 / 浦民防责改字 for correction notices, 沪国动通 for circulars, 沪民防协 for awards.
    """
    districts = [vocab.district_authority(d.name) for d in vocab.DISTRICTS]
    associations = [a for a, _ in vocab.ASSOCIATIONS]
    provincial = (
        vocab.PROVINCIAL_AWARD_AUTHORITY if kind == "award" else vocab.PROVINCIAL_CIRCULAR_AUTHORITY
    )
    names = [vocab.NATIONAL_AUTHORITY, provincial, vocab.CITY_AUTHORITY, *districts, *associations]
    suffix = {
        "penalty": "国动罚",
        "penalty_old": "民防罚决字",
        "notice": "民防责改字",
        "circular": "国动通",
        "award": "国动",
    }[kind]
    city_head = "沪民防改" if kind == "notice" else f"沪{suffix}"
    top = {"award": ["国人防", "沪府"], "circular": ["国人防通", "沪国动委通"]}.get(
        kind, ["国人防", "沪国动委"]
    )
    heads = [*top, city_head, *(f"{d.head}{suffix}" for d in vocab.DISTRICTS)]
    heads += [h for _, h in vocab.ASSOCIATIONS]
    return names, heads


def _doc_numbers(
    series: np.ndarray,
    heads: Sequence[str],
    day: np.ndarray,
    square: np.ndarray,
    ordinal: np.ndarray,
) -> pl.Series:
    """Number documents 1, 2, … per series (index into `heads`) and year in date order, and
    spell them as 沪国动罚〔2024〕12号, 沪民防改〔2023〕第57号 or 沪民防罚决字[2021]第8号."""
    year = years_of(day)
    seq = sequence(series * 10_000 + year, day)
    sq = pl.lit(pl.Series(square))
    return pl.select(
        pl.concat_str(
            pl.lit(words(heads, series)),
            pl.when(sq).then(pl.lit("[")).otherwise(pl.lit("〔")),
            pl.lit(pl.Series(year).cast(pl.Utf8)),
            pl.when(sq).then(pl.lit("]")).otherwise(pl.lit("〕")),
            pl.when(pl.lit(pl.Series(ordinal))).then(pl.lit("第")).otherwise(pl.lit("")),
            pl.lit(pl.Series(seq).cast(pl.Utf8)),
            pl.lit("号"),
        )
    ).to_series()


def _local_authority(
    rng: np.random.Generator, world: World, firm: np.ndarray, p_city: float
) -> np.ndarray:
    """The city office with probability p_city, else the firm's district office."""
    return np.where(rng.random(len(firm)) < p_city, _CITY, _FIRST_DISTRICT + world.district[firm])


def _projects(rng: np.random.Generator, world: World, firm: np.ndarray) -> pl.Series:
    """The construction project a document is about (district + road + kind)."""
    n = len(firm)
    return concat(
        words([d.name for d in vocab.DISTRICTS], world.district[firm]),
        words(vocab.ROADS, rng.integers(0, len(vocab.ROADS), n)),
        words(vocab.PROJECT_KINDS, rng.integers(0, len(vocab.PROJECT_KINDS), n)),
    )


def _categories(world: World, firm: np.ndarray, day: np.ndarray, veto: bool) -> np.ndarray:
    """Violation category per record, by firm type; veto (★) categories only when allowed,
    and then more likely for riskier firms."""
    weights = np.asarray(vocab.CATEGORY_WEIGHTS, dtype=float)[world.firm_type[firm]]
    is_veto = np.array([c in vocab.VETO_CATEGORIES for c in vocab.VIOLATION_CATEGORIES])
    factor = 0.25 * np.minimum(world.risk_on(firm, day), 4.0)[:, None] if veto else 0.0
    weights = np.where(is_veto, weights * factor, weights)
    return choose(world.rng, weights)


def _rectification(
    world: World, firm: np.ndarray, issued: np.ndarray, deadline: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(rectified_on, review_result) per notice: riskier firms rectify late or never.

    rectified_on is -1 when unknown (never, or after the export date); the review is unknown
    until it has happened.
    """
    rng, n = world.rng, len(firm)
    risk = world.risk_on(firm, issued)
    p_never = np.clip(0.03 * risk, 0, 0.4)
    u = rng.random(n)
    never = u < p_never
    late = ~never & (u < p_never + np.clip(0.10 * risk, 0, 0.5))
    rectified = np.where(
        late,
        deadline + rng.integers(1, 61, n),
        issued + np.floor(rng.uniform(0.2, 1.0, n) * (deadline - issued)).astype(np.int64),
    )
    failed = rng.random(n) < 0.05
    known = ~never & (rectified <= world.end)
    unknown = np.array(None, dtype=object)  # a bare None, as np.where stores it; stubs take no None
    review = np.where(
        never,
        np.where(deadline + 10 <= world.end, "逾期未改", unknown),
        np.where(known, np.where(failed, "不合格", "合格"), unknown),
    )
    return np.where(known, rectified, -1), review


def issue_notices(world: World, inspections: pl.DataFrame) -> pl.DataFrame:
    """Correction notices: most inspections that found problems, plus daily supervision.

    Riskier firms rectify later or never; facts after the export date are left unknown.
    """
    rng = world.rng
    found = inspections.filter(
        (pl.col("_result") == PROBLEM) & pl.lit(pl.Series(rng.random(len(inspections)) < 0.92))
    )
    extra_firm, extra_day = world.yearly_events(0.10 * world.risk)
    firm = np.concatenate([found["_firm"].to_numpy(), extra_firm])
    source = np.concatenate([found["inspection_id"].to_numpy(), np.full(len(extra_firm), None)])
    issued = np.concatenate(
        [workdays_after(found["_day"].to_numpy(), rng.integers(0, 8, len(found))), extra_day]
    )
    keep = issued <= world.end
    firm, source, issued, n = firm[keep], source[keep], issued[keep], int(keep.sum())

    deadline = issued + rng.choice([15, 20, 30, 45, 60], n)
    rectified, review = _rectification(world, firm, issued, deadline)
    category = _categories(world, firm, issued, veto=False)
    authority = _local_authority(rng, world, firm, 0.4)
    names, heads = _authorities("notice")
    city = authority == _CITY
    return pl.DataFrame(
        {
            "doc_no": _doc_numbers(authority, heads, issued, np.zeros(n, bool), city),
            "issued_on": dates(issued),
            "deadline": dates(deadline),
            "problem": concat(
                _projects(rng, world, firm),
                "：",
                words([vocab.CATEGORY_FACTS[c] for c in vocab.VIOLATION_CATEGORIES], category),
            ),
            "problem_category": words(vocab.VIOLATION_CATEGORIES, category),
            "rectified_on": dates(rectified, rectified >= 0),
            "review_result": pl.Series(review, dtype=pl.Utf8),
            "authority": words(names, authority),
            "collected_on": dates(workdays_after(issued, collection_delay(rng, n))),
            "_firm": firm,
            "_day": issued,
            "_deadline": deadline,
            "_inspection": pl.Series(source, dtype=pl.Utf8),
            "_category": category,
        }
    )


def _penalty_classes(
    world: World, firm: np.ndarray, day: np.ndarray, category: np.ndarray
) -> np.ndarray:
    """Penalty shape per decision: heavier for riskier firms, veto categories never light,
    refusing inspection punished by a fine or a circular of criticism."""
    risk = world.risk_on(firm, day)
    weights = _CLASS_WEIGHTS * np.where(_HEAVY, np.sqrt(risk)[:, None], 1 / np.sqrt(risk)[:, None])
    veto = np.isin(category, [vocab.VIOLATION_CATEGORIES.index(c) for c in vocab.VETO_CATEGORIES])
    weights[veto] *= np.array([0, 0, 0, 1, 1, 3])
    refusal = category == vocab.VIOLATION_CATEGORIES.index(vocab.REFUSAL_CATEGORY)
    weights[refusal] = np.array([0, 0, 0.3, 0.7, 0, 0])
    return choose(world.rng, weights)


def _fines(rng: np.random.Generator, cls: np.ndarray, category: np.ndarray) -> np.ndarray:
    """Fine in yuan (NaN = none) within the Civil Air Defence Law bands (docs/rules.md).

    Art. 49: units 10,000–50,000; art. 48 (basement not built to plan): up to 100,000;
    minor cases under the local regulation: 1,000–9,000.
    """
    n = len(cls)
    basement = category == vocab.VIOLATION_CATEGORIES.index(vocab.BASEMENT_CATEGORY)
    art49 = np.where(
        cls == _S, 30_000 + 5_000 * rng.integers(0, 5, n), 10_000 + 1_000 * rng.integers(0, 41, n)
    )
    heavy = np.where(basement, 20_000 + 5_000 * rng.integers(0, 17, n), art49)
    small = 1_000 + 500 * rng.integers(0, 17, n)
    fined = np.isin(cls, [_F, _FC, _S])
    return np.where(cls == _WS, small, np.where(fined, heavy, np.nan)).astype(float)


def _penalty_cases(
    world: World, inspections: pl.DataFrame, notices: pl.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(firm, decided_on, inspection id or None, category) of every decision made by the
    export date: cases opened at inspections, refusals, ignored notices, complaints."""
    rng = world.rng
    opened = inspections.filter(
        (pl.col("_result") == CASE)
        | ((pl.col("_result") == REFUSED) & pl.lit(pl.Series(rng.random(len(inspections)) < 0.8)))
    )
    ignored = notices.filter(
        (pl.col("review_result") == "逾期未改") & pl.lit(pl.Series(rng.random(len(notices)) < 0.5))
    )
    extra_firm, extra_day = world.yearly_events(0.035 * world.risk)
    firm = np.concatenate([opened["_firm"].to_numpy(), ignored["_firm"].to_numpy(), extra_firm])
    decided = np.concatenate(
        [
            workdays_after(opened["_day"].to_numpy(), rng.integers(15, 65, len(opened))),
            workdays_after(ignored["_deadline"].to_numpy(), rng.integers(15, 65, len(ignored))),
            extra_day,
        ]
    )
    others = len(ignored) + len(extra_firm)
    source = np.concatenate([opened["inspection_id"].to_numpy(), np.full(others, None)])
    refusal = vocab.VIOLATION_CATEGORIES.index(vocab.REFUSAL_CATEGORY)
    preset = np.concatenate(
        [
            np.where(opened["_result"].to_numpy() == REFUSED, refusal, -1),
            ignored["_category"].to_numpy(),
            np.full(len(extra_firm), -1),
        ]
    )
    keep = decided <= world.end
    firm, decided, source, preset = firm[keep], decided[keep], source[keep], preset[keep]
    category = np.where(preset >= 0, preset, _categories(world, firm, decided, veto=True))
    return firm, decided, source, category


def decide_penalties(
    world: World, inspections: pl.DataFrame, notices: pl.DataFrame
) -> pl.DataFrame:
    """Penalty decisions: cases opened at inspections, refusals, ignored correction notices,
    and complaints; decisions after the export date are still pending and left out."""
    rng = world.rng
    firm, decided, source, category = _penalty_cases(world, inspections, notices)
    n = len(firm)
    cls = _penalty_classes(world, firm, decided, category)
    fine = _fines(rng, cls, category)
    combos, combo = pick_within(rng, _PENALTY_COMBOS, cls)
    simple = ((cls == _W) & (rng.random(n) < 0.7)) | ((cls == _WS) & (fine <= 3_000))
    effective = decided + rng.choice([90, 180, 365], n)
    authority = _local_authority(rng, world, firm, 0.45)
    old_style = rng.random(n) < 0.08
    names, heads = _authorities("penalty")
    _, old_heads = _authorities("penalty_old")
    series = authority + np.where(old_style, len(heads), 0)
    basis = [vocab.CATEGORY_BASIS[c] for c in vocab.VIOLATION_CATEGORIES]
    facts = [vocab.CATEGORY_FACTS[c] for c in vocab.VIOLATION_CATEGORIES]
    return pl.DataFrame(
        {
            "doc_no": _doc_numbers(series, heads + old_heads, decided, old_style, old_style),
            "decided_on": dates(decided),
            "violation_category": words(vocab.VIOLATION_CATEGORIES, category),
            "violation": concat(
                "经查，当事人在", _projects(rng, world, firm), "中", words(facts, category), "。"
            ),
            "legal_basis": where(cls == _WS, vocab.LOCAL_BASIS, words(basis, category)),
            "penalty_types": pl.Series([list(c) for c in combos], dtype=pl.List(pl.Utf8)).gather(
                combo
            ),
            "fine_amount": pl.Series(fine).fill_nan(None),
            "procedure": pl.Series(np.where(simple, "简易", "普通")),
            "effective_until": dates(effective, cls == _S),
            "authority": words(names, authority),
            "status": words(_PENALTY_STATUS, rng.choice(4, n, p=[0.92, 0.02, 0.035, 0.025])),
            "collected_on": dates(workdays_after(decided, collection_delay(rng, n))),
            "_firm": firm,
            "_day": decided,
            "_inspection": pl.Series(source, dtype=pl.Utf8),
            "_class": cls,
            "_category": category,
        }
    )


def _multi_firm_documents(
    rng: np.random.Generator, rows: pl.DataFrame, kind: str, p_new: float
) -> pl.DataFrame:
    """Merge consecutive rows of one series and year into documents that name several firms.

    `rows` needs `_firm`, `_day`, `_authority` and `_series` (same series ⇒ same authority).
    Returns them with `doc_no`, `authority`, the document's date in `_day` (its latest row, so
    a circular never predates the facts it reports) and one row per (document, firm): the
    (doc_no, uscc) key of circulars and commendations.
    """
    series, day = rows["_series"].to_numpy(), rows["_day"].to_numpy()
    year = years_of(day)
    order = np.lexsort((day, year, series))
    s, y = series[order], year[order]
    new = rng.random(len(s)) < p_new
    new[:1] = True
    new[1:] |= (s[1:] != s[:-1]) | (y[1:] != y[:-1])
    doc = np.empty(len(s), dtype=np.int64)
    doc[order] = np.cumsum(new) - 1
    rows = rows.with_columns(_doc=pl.Series(doc))
    docs = (
        rows.group_by("_doc").agg(pl.col("_authority").first(), pl.col("_day").max()).sort("_doc")
    )
    names, heads = _authorities(kind)
    authority = docs["_authority"].to_numpy()
    flat = np.zeros(len(docs), dtype=bool)
    docs = docs.with_columns(
        doc_no=_doc_numbers(authority, heads, docs["_day"].to_numpy(), flat, flat),
        authority=words(names, authority),
    )
    return (
        rows.drop("_day", "_authority")
        .join(docs, on="_doc", how="left", maintain_order="left")
        .unique(["_doc", "_firm"], keep="first", maintain_order=True)
    )


def _level_authority(
    level: np.ndarray, district: np.ndarray, association: np.ndarray
) -> np.ndarray:
    """Issuing authority of a document at a level (index into `_LEVELS`)."""
    return np.select(
        [level == 0, level == 1, level == 2, level == 3],
        [_NATIONAL, _PROVINCIAL, _CITY, _FIRST_DISTRICT + district],
        default=_FIRST_ASSOCIATION + association,
    )


def _level_of(authority: pl.Series) -> pl.Series:
    """The level (国家/省/市/区/协会) an authority index stands for."""
    a = authority.to_numpy()
    level = np.select(
        [a == _NATIONAL, a == _PROVINCIAL, a == _CITY, a < _FIRST_ASSOCIATION], [0, 1, 2, 3], 4
    )
    return words(_LEVELS, level)


def _dated(rng: np.random.Generator, docs: pl.DataFrame, date: str) -> pl.DataFrame:
    """Spell a multi-firm document's date, level and collection date."""
    day = docs["_day"].to_numpy()
    return docs.with_columns(
        dates(day).alias(date),
        level=_level_of(docs["_authority"]),
        collected_on=dates(workdays_after(day, collection_delay(rng, len(docs)))),
    )


def publish_circulars(world: World, penalties: pl.DataFrame) -> pl.DataFrame:
    """通报批评 follow serious penalties (and some supervision findings); 通报表扬 favour
    low-risk firms. A circular may name several firms."""
    rng = world.rng
    cls = penalties["_class"].to_numpy()
    p_link = np.select([cls == _C, cls == _F, _HEAVY[cls]], [0.5, 0.15, 0.3], default=0.0)
    linked = penalties.filter(pl.lit(pl.Series(rng.random(len(penalties)) < p_link)))
    s_firm, s_day = world.yearly_events(0.01 * world.risk)
    p_firm, p_day = world.yearly_events(0.03 * np.clip(1 / world.risk, 0.2, 4.0))
    firm = np.concatenate([linked["_firm"].to_numpy(), s_firm, p_firm])
    day = np.concatenate(
        [workdays_after(linked["_day"].to_numpy(), rng.integers(5, 25, len(linked))), s_day, p_day]
    )
    praise = np.r_[np.zeros(len(linked) + len(s_firm), bool), np.ones(len(p_firm), bool)]
    category = np.concatenate(
        [
            linked["_category"].to_numpy(),
            _categories(world, s_firm, s_day, veto=False),
            np.zeros(len(p_firm), dtype=np.int64),
        ]
    )
    n = len(firm)
    level = np.where(
        praise,
        rng.choice(4, n, p=[0.02, 0.08, 0.45, 0.45]),
        rng.choice(4, n, p=[0.01, 0.04, 0.55, 0.40]),
    )
    authority = _level_authority(level, world.district[firm], np.zeros(n, dtype=np.int64))
    criticism = concat(
        "在人防监督检查中发现", words(vocab.VIOLATION_CATEGORIES, category), "问题，予以通报批评"
    )
    commendation = concat(
        "在", pl.Series(years_of(day)), "年度人防工程建设管理工作中表现突出，予以通报表扬"
    )
    rows = pl.DataFrame(
        {
            "_firm": firm,
            "_day": day,
            "_authority": authority,
            "_series": authority * 2 + praise,
            "kind": np.where(praise, "表扬", "批评"),
            "summary": where(praise, commendation, criticism),
        }
    ).filter(pl.col("_day") <= world.end)
    return _dated(rng, _multi_firm_documents(rng, rows, "circular", p_new=0.6), "issued_on")


def award_commendations(world: World) -> pl.DataFrame:
    """Awards from governments, authorities and the associations; good firms win more."""
    rng = world.rng
    firm, day = world.yearly_events(0.09 * np.clip(1 / world.risk, 0.2, 4.0))
    n = len(firm)
    level = rng.choice(len(_LEVELS), n, p=[0.03, 0.07, 0.30, 0.30, 0.30])
    authority = _level_authority(level, world.district[firm], rng.integers(0, 2, n))
    titles, title = pick_within(rng, [vocab.AWARD_TITLES[lv] for lv in _LEVELS], level)
    rows = pl.DataFrame(
        {
            "_firm": firm,
            "_day": day,
            "_authority": authority,
            "_series": authority,
            "title": words(titles, title),
        }
    )
    return _dated(rng, _multi_firm_documents(rng, rows, "award", p_new=0.5), "awarded_on")


def _case_frame(
    kind: str,
    records: pl.DataFrame,
    filed: np.ndarray,
    decided: np.ndarray,
    decision: pl.Series,
    note: pl.Series,
) -> pl.DataFrame:
    """Rows of one kind of credit case, before ids and the export-date cut."""
    return pl.DataFrame(
        {
            "kind": pl.Series([kind], dtype=pl.Utf8).gather(np.zeros(len(records), np.int64)),
            "record_doc_no": records["doc_no"],
            "_firm": records["_firm"],
            "_filed": filed,
            "_decided": decided,
            "decision": decision,
            "note": note,
        }
    )


def _objections(rng: np.random.Generator, records: pl.DataFrame) -> pl.DataFrame:
    """异议: filed within 30 days of the record, decided within 20; mostly upheld (维持)."""
    n = len(records)
    filed = records["_day"].to_numpy() + rng.integers(3, 31, n)
    decisions = ("维持", "更正", "撤销")
    decision = rng.choice(3, n, p=[0.78, 0.12, 0.10])
    notes = [vocab.OBJECTION_NOTES[d] for d in decisions]
    return _case_frame(
        "异议",
        records,
        filed,
        filed + rng.integers(3, 21, n),
        words(decisions, decision),
        words(notes, decision),
    )


def _repairs(rng: np.random.Generator, records: pl.DataFrame) -> pl.DataFrame:
    """信用修复: filed months after the record; before the minimum period (3 months, one year
    for L4) the request is refused, otherwise mostly approved."""
    n = len(records)
    minimum = np.where(records["lasting"].to_numpy(), 365, 92)
    early = rng.random(n) < 0.15
    filed = records["_day"].to_numpy() + np.where(
        early, rng.integers(30, minimum), minimum + rng.integers(0, 450, n)
    )
    outcome = np.where(early, 2, np.where(rng.random(n) < 0.85, 0, 1))
    return _case_frame(
        "信用修复",
        records,
        filed,
        filed + rng.integers(5, 21, n),
        words(("准予修复", "不予修复", "不予修复"), outcome),
        words([vocab.REPAIR_NOTES[k] for k in ("准予修复", "不予修复", "未满期限")], outcome),
    )


def file_credit_cases(world: World, penalties: pl.DataFrame, notices: pl.DataFrame) -> pl.DataFrame:
    """Objections and repair requests about penalties and correction notices; cases filed
    after the export date are unknown, decisions after it still pending."""
    rng = world.rng
    records = pl.concat(
        [
            penalties.select(
                "doc_no",
                "_firm",
                "_day",
                lasting=(pl.col("_class") == _S) | (pl.col("fine_amount") > 50_000),
                repairable=pl.col("status") == "有效",
            ),
            notices.select(
                "doc_no",
                "_firm",
                "_day",
                lasting=pl.lit(False),
                repairable=pl.col("review_result") == "合格",
            ),
        ]
    ).with_columns(pl.col("lasting", "repairable").fill_null(False))
    u = pl.lit(pl.Series(rng.random(len(records))))
    cases = pl.concat(
        [
            _objections(rng, records.filter(u < 0.05)),
            _repairs(rng, records.filter((u >= 0.05) & (u < 0.15) & pl.col("repairable"))),
        ]
    ).filter(pl.col("_filed") <= world.end)
    filed = cases["_filed"].to_numpy()
    decided = cases["_decided"].to_numpy()
    known = pl.lit(pl.Series(decided <= world.end))
    year = years_of(filed)
    return cases.with_columns(
        case_id=concat("XY-", pl.Series(year), "-", zfill(sequence(year, filed), 4)),
        filed_on=dates(filed),
        decided_on=dates(decided, decided <= world.end),
        decision=pl.when(known).then(pl.col("decision")),
        note=pl.when(known).then(pl.col("note")),
    )
