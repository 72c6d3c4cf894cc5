"""Seeded simulation of Shanghai's civil-air-defence industry: the CLEAN source tables.

What belongs here: a pure function of (seed, size, period, intensity) that returns one polars
frame per contract source, with canonical column names, types and enum values (firm types as
glossary codes, every other enum as its Chinese term). A hidden per-firm `latent_risk` (in
`firms`) and per-inspector `strictness` (in `inspectors`) drive every record, so history carries
signal: riskier firms are inspected more, fail more, get heavier penalties, rectify later, and
the risk persists (with yearly noise), so the future is predictable from the past.

Everything is vectorised over records (numpy `Generator(PCG64(seed))`, `np.repeat`, polars
expressions); loops run only over small fixed sets (firm types, document kinds), so 100,000
firms take seconds.

What does not: file formats, header spellings, value formatting and defects — that is
`generator.landing`, which renders these frames into a landing folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from generator import vocabulary as vocab
from generator.uscc import make_usccs
from models.contracts import SOURCE_ORDER, default_contracts

_EPOCH = np.datetime64("1970-01-01", "D")
_REFORM_DAY = np.datetime64("2015-10-01", "D")  # USCC reform: later firms get `MA` codes
_ASSIGN_TRIES = 20

INSPECTION_RESULTS = ("未发现问题", "发现问题", "立案查处", "拒绝检查", "查无下落")
_OK, _PROBLEM, _CASE, _REFUSED, _NOT_FOUND = range(5)

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


# ---------------------------------------------------------------- small vectorised helpers


def _day(year: int, month: int, day: int) -> int:
    return int((np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D") - _EPOCH).astype(int))


def _years(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _workdays_after(days: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """`offset` working days (Mon–Fri) after each day; weekends roll forward first."""
    moved = np.busday_offset(days.astype("datetime64[D]"), offset, roll="forward")
    return (moved - _EPOCH).astype(np.int64)


def _uniform_days(rng: np.random.Generator, low: np.ndarray | int, high: np.ndarray | int, n: int):
    """A uniformly random day in [low, high] (inclusive) for each of n rows."""
    span = np.maximum(np.asarray(high) - np.asarray(low), 0) + 1
    return np.asarray(low) + np.floor(rng.random(n) * span).astype(np.int64)


def _choose(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One index per row of a (rows, k) weight matrix (rows need not sum to 1)."""
    cdf = np.cumsum(weights, axis=1)
    cdf /= cdf[:, -1:]
    return (rng.random(len(weights))[:, None] > cdf).sum(axis=1)


def _within(rng: np.random.Generator, groups: Sequence[Sequence], group: np.ndarray):
    """A uniformly random member of each row's group: (all members flat, index into them)."""
    flat = [member for g in groups for member in g]
    offset = np.cumsum([0, *(len(g) for g in groups)])[:-1]
    count = np.array([len(g) for g in groups])
    return flat, offset[group] + np.floor(rng.random(len(group)) * count[group]).astype(np.int64)


def _words(words: Sequence[str], index: np.ndarray) -> pl.Series:
    return pl.Series(list(words), dtype=pl.Utf8).gather(index)


def _concat(*parts: pl.Series | str) -> pl.Series:
    """Row-wise string concatenation of series and constant strings."""
    exprs = [pl.lit(p) if isinstance(p, str) else pl.lit(p.cast(pl.Utf8)) for p in parts]
    return pl.select(pl.concat_str(exprs)).to_series()


def _where(mask: np.ndarray, yes: pl.Series | str, no: pl.Series | str) -> pl.Series:
    """Row-wise choice between two string series (or constants)."""
    return pl.select(
        pl.when(pl.lit(pl.Series(mask))).then(pl.lit(yes)).otherwise(pl.lit(no))
    ).to_series()


def _zfill(numbers: np.ndarray, width: int) -> pl.Series:
    return pl.Series(numbers).cast(pl.Utf8).str.zfill(width)


def _dates(days: np.ndarray, known: np.ndarray | None = None) -> pl.Series:
    """Days since 1970 as pl.Date; rows where `known` is False become null."""
    series = pl.Series(days.astype(np.int32)).cast(pl.Date)
    if known is None:
        return series
    return pl.select(pl.when(pl.lit(pl.Series(known))).then(pl.lit(series))).to_series()


def _collection_delay(rng: np.random.Generator, n: int) -> np.ndarray:
    """Working days from a decision to its collection into the credit system.

    Mostly within the 7-working-day target, with a tail past the 20-day hard limit — exactly
    what the annual review (评议) is meant to flag.
    """
    u = rng.random(n)
    return np.where(
        u < 0.85,
        rng.integers(1, 8, n),
        np.where(u < 0.96, rng.integers(8, 21, n), rng.integers(21, 41, n)),
    )


# ---------------------------------------------------------------- the simulated world


@dataclass(frozen=True)
class _World:
    """Per-firm state every record generator reads: type, district, listing date, risk."""

    rng: np.random.Generator
    start_year: int
    years: int
    intensity: float
    firm_type: np.ndarray
    district: np.ndarray
    listed: np.ndarray
    risk: np.ndarray  # (firms, years): latent risk × a persistent-with-noise yearly factor

    @property
    def start(self) -> int:
        return _day(self.start_year, 1, 1)

    @property
    def end(self) -> int:
        """Last day of the period — also the export date: later facts are not yet known."""
        return _day(self.start_year + self.years - 1, 12, 31)

    def risk_on(self, firm: np.ndarray, days: np.ndarray) -> np.ndarray:
        year = np.clip(_years(days) - self.start_year, 0, self.years - 1)
        return self.risk[firm, year]

    def yearly_events(self, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(firm, day) of Poisson events with a per firm-year rate, after each firm's listing."""
        counts = self.rng.poisson(rate * self.intensity)
        cell = np.repeat(np.arange(counts.size), counts.ravel())
        firm, year = np.divmod(cell, self.years)
        first = np.array([_day(self.start_year + y, 1, 1) for y in range(self.years + 1)])
        day = _uniform_days(self.rng, first[year], first[year + 1] - 1, len(cell))
        keep = day >= self.listed[firm]
        return firm[keep], day[keep]


@dataclass(frozen=True)
class _Inspectors:
    frame: pl.DataFrame
    fields: np.ndarray  # (inspectors, firm types) bool
    valid_until: np.ndarray
    strictness: np.ndarray
    conflict_keys: np.ndarray  # recusals as inspector × n_firms + firm


# ---------------------------------------------------------------- firms


def _person_names(rng: np.random.Generator, n: int) -> pl.Series:
    given = list(vocab.GIVEN_CHARS)
    two = rng.random(n) < 0.7
    second = _words([*given, ""], np.where(two, rng.integers(0, len(given), n), len(given)))
    return _concat(
        _words(list(vocab.SURNAMES), rng.integers(0, len(vocab.SURNAMES), n)),
        _words(given, rng.integers(0, len(given), n)),
        second,
    )


def _firm_names(rng: np.random.Generator, firm_type: np.ndarray) -> pl.Series:
    """Unique names 上海 + two-character brand + type-specific suffix.

    Names are drawn without replacement from each type's (brand, suffix) space, so they are
    unique by construction; the space (~90,000 per type) bounds the directory size.
    """
    chars = list(dict.fromkeys(vocab.BRAND_CHARS))
    nb = len(chars)
    first = np.zeros(len(firm_type), dtype=np.int64)
    second = np.zeros(len(firm_type), dtype=np.int64)
    suffix = np.zeros(len(firm_type), dtype=np.int64)
    offsets = np.cumsum([0, *(len(s) for s in vocab.NAME_SUFFIXES)])
    for t, suffixes in enumerate(vocab.NAME_SUFFIXES):
        rows = np.flatnonzero(firm_type == t)
        space = nb * (nb - 1) * len(suffixes)
        if len(rows) > space:
            kind = vocab.FIRM_TYPES[t]
            raise ValueError(f"at most {space} firms of type {kind} can have unique names")
        pick = rng.choice(space, size=len(rows), replace=False)
        pair, suffix[rows] = np.divmod(pick, len(suffixes))
        first[rows], rest = np.divmod(pair, nb - 1)
        second[rows] = rest + (rest >= first[rows])
        suffix[rows] += offsets[t]
    all_suffixes = [s for group in vocab.NAME_SUFFIXES for s in group]
    return _concat(
        "上海", _words(chars, first), _words(chars, second), _words(all_suffixes, suffix)
    )


def _phones(rng: np.random.Generator, n: int) -> pl.Series:
    landline = _concat("021-", pl.Series(rng.integers(50_000_000, 70_000_000, n)))
    mobile = _concat(
        _words(("139", "138", "137", "150", "158", "186", "189", "135"), rng.integers(0, 8, n)),
        _zfill(rng.integers(0, 100_000_000, n), 8),
    )
    return _where(rng.random(n) < 0.6, landline, mobile)


def _firm_dates(
    rng: np.random.Generator, n: int, start_year: int, years: int
) -> tuple[np.ndarray, np.ndarray]:
    """(established_on, listed_on): most firms were listed before the period, some during it."""
    start, end = _day(start_year, 1, 1), _day(start_year + years - 1, 12, 31)
    established = _uniform_days(rng, _day(1993, 1, 1), _day(start_year - 1, 6, 30), n)
    early = _uniform_days(rng, np.maximum(established + 180, _day(2016, 1, 1)), start - 1, n)
    late = _uniform_days(rng, start, end - 180, n)
    return established, np.where(rng.random(n) < 0.88, early, late)


def _firm_usccs(
    rng: np.random.Generator, district: np.ndarray, established: np.ndarray
) -> np.ndarray:
    """Unique valid USCCs in the firm's district; `MA` organisation codes after the reform."""
    is_new = established.astype("datetime64[D]") >= _REFORM_DAY
    numbers = np.zeros(len(district), dtype=np.int64)
    numbers[~is_new] = rng.choice(10**8, size=int((~is_new).sum()), replace=False)
    numbers[is_new] = rng.choice(31**6, size=int(is_new.sum()), replace=False)
    codes = np.array([int(d.code) for d in vocab.DISTRICTS])[district]
    return make_usccs(codes, numbers, is_new)


def _firms(
    rng: np.random.Generator, n: int, start_year: int, years: int, intensity: float
) -> tuple[pl.DataFrame, _World]:
    """The entity directory and the per-firm world state behind every record."""
    firm_type = rng.choice(len(vocab.FIRM_TYPES), size=n, p=np.array(vocab.FIRM_TYPE_SHARE))
    d_weights = np.array([d.weight for d in vocab.DISTRICTS])
    district = rng.choice(len(vocab.DISTRICTS), size=n, p=d_weights / d_weights.sum())
    # Protective-equipment makers carry product risk; review and testing bodies less.
    type_risk = np.array([1.0, 1.0, 1.25, 0.85, 0.9])
    latent = np.exp(rng.normal(0.0, 0.75, n)) * type_risk[firm_type]
    risk = latent[:, None] * np.exp(rng.normal(0.0, 0.35, (n, years)))

    established, listed = _firm_dates(rng, n, start_year, years)
    u = rng.random(n)
    p_revoked = np.clip(0.01 * latent, 0.0, 0.1)
    status = np.where(u < p_revoked, "吊销", np.where(u < p_revoked + 0.03, "注销", "正常"))
    quals, qual = _within(rng, vocab.QUALIFICATIONS, firm_type)
    district_names = _words([d.name for d in vocab.DISTRICTS], district)

    frame = pl.DataFrame(
        {
            "uscc": _firm_usccs(rng, district, established),
            "name": _firm_names(rng, firm_type),
            "firm_type": _words(vocab.FIRM_TYPES, firm_type),
            "district": district_names,
            "qualification": _words(quals, qual),
            "established_on": _dates(established),
            "listed_on": _dates(listed),
            "status": pl.Series(status),
            "legal_rep": _person_names(rng, n),
            "address": _concat(
                "上海市",
                district_names,
                _words(vocab.ROADS, rng.integers(0, len(vocab.ROADS), n)),
                pl.Series(rng.integers(1, 2000, n)),
                "号",
            ),
            "contact": _person_names(rng, n),
            "phone": _phones(rng, n),
            "latent_risk": latent,
        }
    )
    world = _World(rng, start_year, years, intensity, firm_type, district, listed, risk)
    return frame, world


# ---------------------------------------------------------------- inspectors and recusals


def _inspector_fields(rng: np.random.Generator, m: int, usable: np.ndarray) -> np.ndarray:
    """1–3 firm types per inspector (weighted by how common the type is).

    Every type keeps at least four usable inspectors so each inspection can get two whose
    fields cover the firm — the draw rule of DESIGN §5.
    """
    gumbel = np.log(np.array(vocab.FIRM_TYPE_SHARE)) + rng.gumbel(size=(m, len(vocab.FIRM_TYPES)))
    rank = np.argsort(np.argsort(-gumbel, axis=1), axis=1)
    k = rng.choice([1, 2, 3], size=m, p=[0.3, 0.45, 0.25])
    fields = rank < k[:, None]
    for t in range(len(vocab.FIRM_TYPES)):
        missing = 4 - int((fields[:, t] & usable).sum())
        if missing > 0:
            candidates = np.flatnonzero(usable & ~fields[:, t])
            fields[rng.choice(candidates, size=missing, replace=False), t] = True
    return fields


def _certificate_expiry(rng: np.random.Generator, world: _World, m: int) -> np.ndarray:
    """Most 执法证 run into 2027/2028; some expired during the period (their holders can no
    longer be drawn), a few expire next year."""
    u = rng.random(m)
    return np.where(
        u < 0.15,
        _uniform_days(rng, world.start + 365, world.end, m),
        np.where(
            u < 0.22,
            _uniform_days(rng, world.end + 1, world.end + 365, m),
            _uniform_days(rng, _day(2027, 1, 1), _day(2028, 12, 31), m),
        ),
    )


def _field_lists(fields: np.ndarray) -> pl.Series:
    """(inspector × firm type) booleans → each inspector's list of firm-type codes."""
    flags = pl.DataFrame({code: fields[:, t] for t, code in enumerate(vocab.FIRM_TYPES)})
    return flags.select(
        pl.concat_list([pl.when(pl.col(c)).then(pl.lit(c)) for c in vocab.FIRM_TYPES])
        .list.drop_nulls()
        .alias("fields")
    ).to_series()


def _inspectors(rng: np.random.Generator, world: _World, n_firms: int) -> _Inspectors:
    """The certified inspector directory (about one per seven firms, at least 20): a third
    at the city supervision centre, the rest in district offices."""
    m = max(20, round(n_firms / 7))
    city = rng.random(m) < 0.35
    d_weights = np.array([d.weight for d in vocab.DISTRICTS])
    district = rng.choice(len(vocab.DISTRICTS), size=m, p=d_weights / d_weights.sum())
    d_names = np.array([d.name for d in vocab.DISTRICTS])[district]
    units = np.array([vocab.district_unit(d.name) for d in vocab.DISTRICTS])[district]
    valid_until = _certificate_expiry(rng, world, m)
    active = (valid_until > world.end) & (rng.random(m) < 0.95)
    fields = _inspector_fields(rng, m, active)
    strictness = rng.normal(0.0, 0.6, m)
    frame = pl.DataFrame(
        {
            "inspector_id": _concat("SH-INS-", _zfill(np.arange(1, m + 1), 4)),
            "name": _person_names(rng, m),
            "unit": np.where(city, vocab.CITY_INSPECTION_UNIT, units),
            "district": np.where(city, "市级", d_names),
            "certificate_no": _concat("沪执法31", _zfill(rng.choice(10**6, m, replace=False), 6)),
            "certificate_valid_until": _dates(valid_until),
            "fields": _field_lists(fields),
            "active": active,
            "strictness": strictness,
        }
    )
    conflicts = _conflict_pairs(rng, m, n_firms)
    return _Inspectors(frame, fields, valid_until, strictness, conflicts)


def _conflict_pairs(rng: np.random.Generator, m: int, n_firms: int) -> np.ndarray:
    """Distinct inspector × firm recusal pairs, keyed inspector × n_firms + firm."""
    want = max(8, round(n_firms * 0.08))
    keys = rng.integers(0, m, 2 * want) * n_firms + rng.integers(0, n_firms, 2 * want)
    _, first = np.unique(keys, return_index=True)
    return keys[np.sort(first)][:want]


def _conflicts_frame(
    rng: np.random.Generator, world: _World, insp: _Inspectors, firms: pl.DataFrame
) -> pl.DataFrame:
    keys = insp.conflict_keys
    inspector, firm = np.divmod(keys, len(firms))
    n = len(keys)
    valid_from = _uniform_days(rng, _day(world.start_year - 2, 1, 1), world.end - 30, n)
    valid_until = valid_from + rng.integers(365, 1461, n)
    return pl.DataFrame(
        {
            "inspector_id": insp.frame["inspector_id"].gather(inspector),
            "uscc": firms["uscc"].gather(firm),
            "reason": _words(vocab.CONFLICT_REASONS, rng.choice(3, n, p=[0.5, 0.2, 0.3])),
            "valid_from": _dates(valid_from),
            "valid_until": _dates(valid_until, rng.random(n) >= 0.4),
        }
    )


# ---------------------------------------------------------------- inspections


def _assign_inspectors(
    world: _World, insp: _Inspectors, firm: np.ndarray, day: np.ndarray
) -> np.ndarray:
    """Two distinct inspectors per inspection: certificate valid that day, no recusal, and —
    when possible — fields covering the firm's type (else any valid inspector)."""
    rng, n_firms = world.rng, len(world.firm_type)
    everyone = np.arange(len(insp.valid_until))
    pair = np.zeros((len(firm), 2), dtype=np.int64)

    def unusable(rows: np.ndarray, who: np.ndarray) -> np.ndarray:
        key = who * n_firms + firm[rows]
        conflict = np.isin(key, insp.conflict_keys)
        return (insp.valid_until[who] < day[rows]) | conflict

    for t in range(len(vocab.FIRM_TYPES)):
        rows = np.flatnonzero(world.firm_type[firm] == t)
        for pool in (np.flatnonzero(insp.fields[:, t]), everyone):
            for _ in range(_ASSIGN_TRIES):
                pair[rows] = pool[rng.integers(0, len(pool), (len(rows), 2))]
                bad = (
                    unusable(rows, pair[rows, 0])
                    | unusable(rows, pair[rows, 1])
                    | (pair[rows, 0] == pair[rows, 1])
                )
                rows = rows[bad]
                if len(rows) == 0:
                    break
    return pair


def _inspections(world: _World, insp: _Inspectors) -> pl.DataFrame:
    """Quarterly 双随机 rounds; riskier firms are drawn more often and fail more.

    The count per firm and round is Binomial(ceil λ, λ / ceil λ) with λ = share × intensity:
    at intensity 1 a firm is inspected at most once per round; higher intensities add
    follow-up visits within the round.
    """
    rng = world.rng
    rounds = 4 * world.years
    round_year = np.arange(rounds) // 4
    share = np.clip(0.05 + 0.07 * world.risk[:, round_year], 0.0, 0.95)
    lam = share * world.intensity
    trials = np.maximum(np.ceil(lam), 1).astype(np.int64)
    counts = rng.binomial(trials, lam / trials)
    cell = np.repeat(np.arange(counts.size), counts.ravel())
    firm, rnd = np.divmod(cell, rounds)
    quarter_start = np.array(
        [_day(world.start_year + r // 4, 3 * (r % 4) + 1, 1) for r in range(rounds)]
    )
    day = _workdays_after(
        quarter_start[rnd] + rng.integers(7, 72, len(cell)), np.zeros(len(cell), np.int64)
    )
    keep = day >= world.listed[firm]
    firm, rnd, day = firm[keep], rnd[keep], day[keep]
    m = len(firm)

    pair = _assign_inspectors(world, insp, firm, day)
    risk = world.risk_on(firm, day)
    strict = insp.strictness[pair].mean(axis=1)
    type_effect = np.array([0.0, 0.1, 0.2, -0.2, -0.1])[world.firm_type[firm]]
    p_problem = 1 / (1 + np.exp(-(-1.5 + 1.2 * np.log(risk) + 0.9 * strict + type_effect)))
    p_refuse = np.minimum(0.004 * risk, 0.03)
    u = rng.random(m)
    case = rng.random(m) < np.clip(0.15 + 0.1 * np.log(risk), 0.03, 0.5)
    result = np.where(
        u < p_refuse,
        _REFUSED,
        np.where(
            u < p_refuse + 0.006,
            _NOT_FOUND,
            np.where(rng.random(m) < p_problem, np.where(case, _CASE, _PROBLEM), _OK),
        ),
    )
    found = (result == _PROBLEM) | (result == _CASE)
    problems = np.where(found, 1 + np.minimum(rng.poisson(0.6 * risk), 11), 0)

    order = np.lexsort((firm, day, rnd))
    firm, rnd, day, pair, result, problems = (
        a[order] for a in (firm, rnd, day, pair, result, problems)
    )
    seq = _sequence(rnd, day)
    round_id = _concat(pl.Series(world.start_year + rnd // 4), "Q", pl.Series(rnd % 4 + 1))
    ids = insp.frame["inspector_id"]
    return pl.DataFrame(
        {
            "inspection_id": _concat("JC-", round_id, "-", _zfill(seq, 6)),
            "round_id": round_id,
            "inspected_on": _dates(day),
            "inspector_ids": pl.select(
                pl.concat_list(pl.lit(ids.gather(pair[:, 0])), pl.lit(ids.gather(pair[:, 1])))
            ).to_series(),
            "result": _words(INSPECTION_RESULTS, result),
            "problem_count": pl.Series(problems, dtype=pl.Int64),
            "collected_on": _dates(_workdays_after(day, rng.integers(1, 11, m))),
            "_firm": firm,
            "_day": day,
            "_result": result,
        }
    ).with_columns(
        problem_count=pl.when(pl.col("_result") < _REFUSED).then(pl.col("problem_count"))
    )


# ---------------------------------------------------------------- documents


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


def _sequence(group: np.ndarray, day: np.ndarray) -> np.ndarray:
    """1, 2, … within each group, in date order (ties keep row order)."""
    order = np.lexsort((day, group))
    g = group[order]
    starts = np.ones(len(g), dtype=bool)
    starts[1:] = g[1:] != g[:-1]
    position = np.arange(len(g))
    seq = np.empty(len(g), dtype=np.int64)
    seq[order] = position - np.maximum.accumulate(np.where(starts, position, 0)) + 1
    return seq


def _doc_numbers(
    series: np.ndarray,
    heads: Sequence[str],
    day: np.ndarray,
    square: np.ndarray,
    ordinal: np.ndarray,
) -> pl.Series:
    """Number documents 1, 2, … per series (index into `heads`) and year in date order, and
    spell them as 沪国动罚〔2024〕12号, 沪民防改〔2023〕第57号 or 沪民防罚决字[2021]第8号."""
    year = _years(day)
    seq = _sequence(series * 10_000 + year, day)
    sq = pl.lit(pl.Series(square))
    return pl.select(
        pl.concat_str(
            pl.lit(_words(heads, series)),
            pl.when(sq).then(pl.lit("[")).otherwise(pl.lit("〔")),
            pl.lit(pl.Series(year).cast(pl.Utf8)),
            pl.when(sq).then(pl.lit("]")).otherwise(pl.lit("〕")),
            pl.when(pl.lit(pl.Series(ordinal))).then(pl.lit("第")).otherwise(pl.lit("")),
            pl.lit(pl.Series(seq).cast(pl.Utf8)),
            pl.lit("号"),
        )
    ).to_series()


def _local_authority(rng: np.random.Generator, world: _World, firm: np.ndarray, p_city: float):
    """The city office with probability p_city, else the firm's district office."""
    return np.where(rng.random(len(firm)) < p_city, _CITY, _FIRST_DISTRICT + world.district[firm])


def _projects(rng: np.random.Generator, world: _World, firm: np.ndarray) -> pl.Series:
    n = len(firm)
    return _concat(
        _words([d.name for d in vocab.DISTRICTS], world.district[firm]),
        _words(vocab.ROADS, rng.integers(0, len(vocab.ROADS), n)),
        _words(vocab.PROJECT_KINDS, rng.integers(0, len(vocab.PROJECT_KINDS), n)),
    )


def _categories(world: _World, firm: np.ndarray, day: np.ndarray, veto: bool) -> np.ndarray:
    """Violation category per record, by firm type; veto (★) categories only when allowed,
    and then more likely for riskier firms."""
    weights = np.asarray(vocab.CATEGORY_WEIGHTS, dtype=float)[world.firm_type[firm]]
    is_veto = np.array([c in vocab.VETO_CATEGORIES for c in vocab.VIOLATION_CATEGORIES])
    factor = 0.25 * np.minimum(world.risk_on(firm, day), 4.0)[:, None] if veto else 0.0
    weights = np.where(is_veto, weights * factor, weights)
    return _choose(world.rng, weights)


def _rectification(
    world: _World, firm: np.ndarray, issued: np.ndarray, deadline: np.ndarray
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
    review = np.where(
        never,
        np.where(deadline + 10 <= world.end, "逾期未改", None),
        np.where(known, np.where(failed, "不合格", "合格"), None),
    )
    return np.where(known, rectified, -1), review


def _notices(world: _World, inspections: pl.DataFrame) -> pl.DataFrame:
    """Correction notices: most inspections that found problems, plus daily supervision.

    Riskier firms rectify later or never; facts after the export date are left unknown.
    """
    rng = world.rng
    found = inspections.filter(
        (pl.col("_result") == _PROBLEM) & pl.lit(pl.Series(rng.random(len(inspections)) < 0.92))
    )
    extra_firm, extra_day = world.yearly_events(0.10 * world.risk)
    firm = np.concatenate([found["_firm"].to_numpy(), extra_firm])
    source = np.concatenate([found["inspection_id"].to_numpy(), np.full(len(extra_firm), None)])
    issued = np.concatenate(
        [_workdays_after(found["_day"].to_numpy(), rng.integers(0, 8, len(found))), extra_day]
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
            "issued_on": _dates(issued),
            "deadline": _dates(deadline),
            "problem": _concat(
                _projects(rng, world, firm),
                "：",
                _words([vocab.CATEGORY_FACTS[c] for c in vocab.VIOLATION_CATEGORIES], category),
            ),
            "problem_category": _words(vocab.VIOLATION_CATEGORIES, category),
            "rectified_on": _dates(rectified, rectified >= 0),
            "review_result": pl.Series(review, dtype=pl.Utf8),
            "authority": _words(names, authority),
            "collected_on": _dates(_workdays_after(issued, _collection_delay(rng, n))),
            "_firm": firm,
            "_day": issued,
            "_deadline": deadline,
            "_inspection": pl.Series(source, dtype=pl.Utf8),
            "_category": category,
        }
    )


def _penalty_classes(world: _World, firm: np.ndarray, day: np.ndarray, category: np.ndarray):
    """Penalty shape per decision: heavier for riskier firms, veto categories never light,
    refusing inspection punished by a fine or a circular of criticism."""
    risk = world.risk_on(firm, day)
    weights = _CLASS_WEIGHTS * np.where(_HEAVY, np.sqrt(risk)[:, None], 1 / np.sqrt(risk)[:, None])
    veto = np.isin(category, [vocab.VIOLATION_CATEGORIES.index(c) for c in vocab.VETO_CATEGORIES])
    weights[veto] *= np.array([0, 0, 0, 1, 1, 3])
    refusal = category == vocab.VIOLATION_CATEGORIES.index(vocab.REFUSAL_CATEGORY)
    weights[refusal] = np.array([0, 0, 0.3, 0.7, 0, 0])
    return _choose(world.rng, weights)


def _fines(rng: np.random.Generator, cls: np.ndarray, category: np.ndarray) -> np.ndarray:
    """Fine in yuan (NaN = none) within the Civil Air Defence Law bands (DESIGN §4).

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


def _penalty_cases(world: _World, inspections: pl.DataFrame, notices: pl.DataFrame):
    """(firm, decided_on, inspection id or None, category) of every decision made by the
    export date: cases opened at inspections, refusals, ignored notices, complaints."""
    rng = world.rng
    opened = inspections.filter(
        (pl.col("_result") == _CASE)
        | ((pl.col("_result") == _REFUSED) & pl.lit(pl.Series(rng.random(len(inspections)) < 0.8)))
    )
    ignored = notices.filter(
        (pl.col("review_result") == "逾期未改") & pl.lit(pl.Series(rng.random(len(notices)) < 0.5))
    )
    extra_firm, extra_day = world.yearly_events(0.035 * world.risk)
    firm = np.concatenate([opened["_firm"].to_numpy(), ignored["_firm"].to_numpy(), extra_firm])
    decided = np.concatenate(
        [
            _workdays_after(opened["_day"].to_numpy(), rng.integers(15, 65, len(opened))),
            _workdays_after(ignored["_deadline"].to_numpy(), rng.integers(15, 65, len(ignored))),
            extra_day,
        ]
    )
    others = len(ignored) + len(extra_firm)
    source = np.concatenate([opened["inspection_id"].to_numpy(), np.full(others, None)])
    refusal = vocab.VIOLATION_CATEGORIES.index(vocab.REFUSAL_CATEGORY)
    preset = np.concatenate(
        [
            np.where(opened["_result"].to_numpy() == _REFUSED, refusal, -1),
            ignored["_category"].to_numpy(),
            np.full(len(extra_firm), -1),
        ]
    )
    keep = decided <= world.end
    firm, decided, source, preset = firm[keep], decided[keep], source[keep], preset[keep]
    category = np.where(preset >= 0, preset, _categories(world, firm, decided, veto=True))
    return firm, decided, source, category


def _penalties(world: _World, inspections: pl.DataFrame, notices: pl.DataFrame) -> pl.DataFrame:
    """Penalty decisions: cases opened at inspections, refusals, ignored correction notices,
    and complaints; decisions after the export date are still pending and left out."""
    rng = world.rng
    firm, decided, source, category = _penalty_cases(world, inspections, notices)
    n = len(firm)
    cls = _penalty_classes(world, firm, decided, category)
    fine = _fines(rng, cls, category)
    combos, combo = _within(rng, _PENALTY_COMBOS, cls)
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
            "decided_on": _dates(decided),
            "violation_category": _words(vocab.VIOLATION_CATEGORIES, category),
            "violation": _concat(
                "经查，当事人在", _projects(rng, world, firm), "中", _words(facts, category), "。"
            ),
            "legal_basis": _where(cls == _WS, vocab.LOCAL_BASIS, _words(basis, category)),
            "penalty_types": pl.Series([list(c) for c in combos], dtype=pl.List(pl.Utf8)).gather(
                combo
            ),
            "fine_amount": pl.Series(fine).fill_nan(None),
            "procedure": pl.Series(np.where(simple, "简易", "普通")),
            "effective_until": _dates(effective, cls == _S),
            "authority": _words(names, authority),
            "status": _words(_PENALTY_STATUS, rng.choice(4, n, p=[0.92, 0.02, 0.035, 0.025])),
            "collected_on": _dates(_workdays_after(decided, _collection_delay(rng, n))),
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
    year = _years(day)
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
        authority=_words(names, authority),
    )
    return (
        rows.drop("_day", "_authority")
        .join(docs, on="_doc", how="left", maintain_order="left")
        .unique(["_doc", "_firm"], keep="first", maintain_order=True)
    )


def _level_authority(level: np.ndarray, district: np.ndarray, association: np.ndarray):
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
    return _words(_LEVELS, level)


def _dated(rng: np.random.Generator, docs: pl.DataFrame, date: str) -> pl.DataFrame:
    """Spell a multi-firm document's date, level and collection date."""
    day = docs["_day"].to_numpy()
    return docs.with_columns(
        _dates(day).alias(date),
        level=_level_of(docs["_authority"]),
        collected_on=_dates(_workdays_after(day, _collection_delay(rng, len(docs)))),
    )


def _circulars(world: _World, penalties: pl.DataFrame) -> pl.DataFrame:
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
        [_workdays_after(linked["_day"].to_numpy(), rng.integers(5, 25, len(linked))), s_day, p_day]
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
    criticism = _concat(
        "在人防监督检查中发现", _words(vocab.VIOLATION_CATEGORIES, category), "问题，予以通报批评"
    )
    commendation = _concat(
        "在", pl.Series(_years(day)), "年度人防工程建设管理工作中表现突出，予以通报表扬"
    )
    rows = pl.DataFrame(
        {
            "_firm": firm,
            "_day": day,
            "_authority": authority,
            "_series": authority * 2 + praise,
            "kind": np.where(praise, "表扬", "批评"),
            "summary": _where(praise, commendation, criticism),
        }
    ).filter(pl.col("_day") <= world.end)
    return _dated(rng, _multi_firm_documents(rng, rows, "circular", p_new=0.6), "issued_on")


def _commendations(world: _World) -> pl.DataFrame:
    """Awards from governments, authorities and the associations; good firms win more."""
    rng = world.rng
    firm, day = world.yearly_events(0.09 * np.clip(1 / world.risk, 0.2, 4.0))
    n = len(firm)
    level = rng.choice(len(_LEVELS), n, p=[0.03, 0.07, 0.30, 0.30, 0.30])
    authority = _level_authority(level, world.district[firm], rng.integers(0, 2, n))
    titles, title = _within(rng, [vocab.AWARD_TITLES[lv] for lv in _LEVELS], level)
    rows = pl.DataFrame(
        {
            "_firm": firm,
            "_day": day,
            "_authority": authority,
            "_series": authority,
            "title": _words(titles, title),
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
        _words(decisions, decision),
        _words(notes, decision),
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
        _words(("准予修复", "不予修复", "不予修复"), outcome),
        _words([vocab.REPAIR_NOTES[k] for k in ("准予修复", "不予修复", "未满期限")], outcome),
    )


def _credit_cases(world: _World, penalties: pl.DataFrame, notices: pl.DataFrame) -> pl.DataFrame:
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
    year = _years(filed)
    return cases.with_columns(
        case_id=_concat("XY-", pl.Series(year), "-", _zfill(_sequence(year, filed), 4)),
        filed_on=_dates(filed),
        decided_on=_dates(decided, decided <= world.end),
        decision=pl.when(known).then(pl.col("decision")),
        note=pl.when(known).then(pl.col("note")),
    )


# ---------------------------------------------------------------- assembly

_ORDER: dict[str, str] = {
    "firms": "listed_on",
    "inspectors": "inspector_id",
    "inspector_conflicts": "valid_from",
    "penalty_decisions": "decided_on",
    "correction_notices": "issued_on",
    "circulars": "issued_on",
    "inspection_outcomes": "inspected_on",
    "commendations": "awarded_on",
    "credit_cases": "filed_on",
}
_HIDDEN = ("latent_risk", "strictness")


def _finish(source: str, frame: pl.DataFrame, firms: pl.DataFrame) -> pl.DataFrame:
    """Attach the firm's USCC and name, keep the contract's columns (plus hidden latents)."""
    if "_firm" in frame.columns:
        firm = frame["_firm"].to_numpy()
        frame = frame.with_columns(
            uscc=firms["uscc"].gather(firm), firm_name=firms["name"].gather(firm)
        )
    hidden = [c for c in _HIDDEN if c in frame.columns]
    columns = default_contracts().source(source).column_names
    frame = frame.select(*columns, *hidden)
    # A stable sort on one date: same-day rows keep their (deterministic) generation order.
    key = frame[_ORDER[source]]
    return frame[np.argsort(key.to_physical().to_numpy(), kind="stable")]


def _link_followups(
    inspections: pl.DataFrame, notices: pl.DataFrame, penalties: pl.DataFrame
) -> pl.DataFrame:
    """`followup_doc_no`: the correction notice or penalty decision an inspection led to."""
    followups = pl.concat(
        [f.select("_inspection", followup_doc_no="doc_no") for f in (notices, penalties)]
    ).drop_nulls("_inspection")
    return inspections.join(
        followups,
        left_on="inspection_id",
        right_on="_inspection",
        how="left",
        maintain_order="left",
    )


def generate(
    seed: int, firms: int = 400, years: int = 5, start_year: int = 2021, intensity: float = 1.0
) -> dict[str, pl.DataFrame]:
    """One clean frame per contract source, a pure function of the arguments.

    `intensity` scales every per-firm record rate (inspections, notices, penalties, circulars,
    commendations; objections and repairs follow the records). With firms=100,000 and
    years=5, intensity 1 gives ≈ 0.6M source rows and intensity 18 ≈ 10M (see the README of
    the benchmark). Firms carry a hidden `latent_risk`, inspectors a hidden `strictness`.
    """
    if firms < 1 or years < 1 or intensity < 0:
        raise ValueError("need firms ≥ 1, years ≥ 1 and intensity ≥ 0")
    rng = np.random.Generator(np.random.PCG64(seed))
    firm_frame, world = _firms(rng, firms, start_year, years, intensity)
    inspectors = _inspectors(rng, world, firms)
    conflicts = _conflicts_frame(rng, world, inspectors, firm_frame)
    inspections = _inspections(world, inspectors)
    notices = _notices(world, inspections)
    penalties = _penalties(world, inspections, notices)
    frames = {
        "firms": firm_frame,
        "inspectors": inspectors.frame,
        "inspector_conflicts": conflicts,
        "penalty_decisions": penalties,
        "correction_notices": notices,
        "circulars": _circulars(world, penalties),
        "inspection_outcomes": _link_followups(inspections, notices, penalties),
        "commendations": _commendations(world),
        "credit_cases": _credit_cases(world, penalties, notices),
    }
    return {name: _finish(name, frames[name], firm_frame) for name in SOURCE_ORDER}
