"""The simulated world: firms with a latent risk, certified inspectors, recusals, and the
quarterly random inspections (双随机) that sample them.

What belongs here: the entity directory (valid unique USCCs, names, districts), the inspector
directory with a latent strictness, recusal pairs, and inspection outcomes driven by firm risk
and inspector strictness. What does not: the documents inspections lead to
(`generator.documents`) or assembling the contract frames (`generator.population`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from generator import vocabulary as vocab
from generator.columns import (
    concat,
    dates,
    day_number,
    pick_within,
    sequence,
    uniform_days,
    where,
    words,
    workdays_after,
    years_of,
    zfill,
)
from generator.uscc import make_usccs

_REFORM_DAY = np.datetime64("2015-10-01", "D")  # USCC reform: later firms get `MA` codes
_ASSIGN_TRIES = 20

INSPECTION_RESULTS = ("未发现问题", "发现问题", "立案查处", "拒绝检查", "查无下落")
OK, PROBLEM, CASE, REFUSED, NOT_FOUND = range(5)


# ---------------------------------------------------------------- the simulated world


@dataclass(frozen=True)
class World:
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
        return day_number(self.start_year, 1, 1)

    @property
    def end(self) -> int:
        """Last day of the period — also the export date: later facts are not yet known."""
        return day_number(self.start_year + self.years - 1, 12, 31)

    def risk_on(self, firm: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Each firm's risk in the year of each day (the period's edges clamp)."""
        year = np.clip(years_of(days) - self.start_year, 0, self.years - 1)
        return self.risk[firm, year]

    def yearly_events(self, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(firm, day) of Poisson events with a per firm-year rate, after each firm's listing."""
        counts = self.rng.poisson(rate * self.intensity)
        cell = np.repeat(np.arange(counts.size), counts.ravel())
        firm, year = np.divmod(cell, self.years)
        first = np.array([day_number(self.start_year + y, 1, 1) for y in range(self.years + 1)])
        day = uniform_days(self.rng, first[year], first[year + 1] - 1, len(cell))
        keep = day >= self.listed[firm]
        return firm[keep], day[keep]


@dataclass(frozen=True)
class Inspectors:
    frame: pl.DataFrame
    fields: np.ndarray  # (inspectors, firm types) bool
    valid_until: np.ndarray
    strictness: np.ndarray
    conflict_keys: np.ndarray  # recusals as inspector × n_firms + firm


# ---------------------------------------------------------------- firms


def _person_names(rng: np.random.Generator, n: int) -> pl.Series:
    """Chinese names: a common surname and one or two given characters."""
    given = list(vocab.GIVEN_CHARS)
    two = rng.random(n) < 0.7
    second = words([*given, ""], np.where(two, rng.integers(0, len(given), n), len(given)))
    return concat(
        words(list(vocab.SURNAMES), rng.integers(0, len(vocab.SURNAMES), n)),
        words(given, rng.integers(0, len(given), n)),
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
    return concat("上海", words(chars, first), words(chars, second), words(all_suffixes, suffix))


def _phones(rng: np.random.Generator, n: int) -> pl.Series:
    """Shanghai landlines (021-) or mobile numbers."""
    landline = concat("021-", pl.Series(rng.integers(50_000_000, 70_000_000, n)))
    mobile = concat(
        words(("139", "138", "137", "150", "158", "186", "189", "135"), rng.integers(0, 8, n)),
        zfill(rng.integers(0, 100_000_000, n), 8),
    )
    return where(rng.random(n) < 0.6, landline, mobile)


def _firm_dates(
    rng: np.random.Generator, n: int, start_year: int, years: int
) -> tuple[np.ndarray, np.ndarray]:
    """(established_on, listed_on): most firms were listed before the period, some during it."""
    start, end = day_number(start_year, 1, 1), day_number(start_year + years - 1, 12, 31)
    established = uniform_days(rng, day_number(1993, 1, 1), day_number(start_year - 1, 6, 30), n)
    early = uniform_days(rng, np.maximum(established + 180, day_number(2016, 1, 1)), start - 1, n)
    late = uniform_days(rng, start, end - 180, n)
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


def build_firms(
    rng: np.random.Generator, n: int, start_year: int, years: int, intensity: float
) -> tuple[pl.DataFrame, World]:
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
    quals, qual = pick_within(rng, vocab.QUALIFICATIONS, firm_type)
    district_names = words([d.name for d in vocab.DISTRICTS], district)

    frame = pl.DataFrame(
        {
            "uscc": _firm_usccs(rng, district, established),
            "name": _firm_names(rng, firm_type),
            "firm_type": words(vocab.FIRM_TYPES, firm_type),
            "district": district_names,
            "qualification": words(quals, qual),
            "established_on": dates(established),
            "listed_on": dates(listed),
            "status": pl.Series(status),
            "legal_rep": _person_names(rng, n),
            "address": concat(
                "上海市",
                district_names,
                words(vocab.ROADS, rng.integers(0, len(vocab.ROADS), n)),
                pl.Series(rng.integers(1, 2000, n)),
                "号",
            ),
            "contact": _person_names(rng, n),
            "phone": _phones(rng, n),
            "latent_risk": latent,
        }
    )
    world = World(rng, start_year, years, intensity, firm_type, district, listed, risk)
    return frame, world


# ---------------------------------------------------------------- inspectors and recusals


def _inspector_fields(rng: np.random.Generator, m: int, usable: np.ndarray) -> np.ndarray:
    """1–3 firm types per inspector (weighted by how common the type is).

    Every type keeps at least four usable inspectors so each inspection can get two whose
    fields cover the firm — the assignment rule of docs/sampling.md#inspector-assignment.
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


def _certificate_expiry(rng: np.random.Generator, world: World, m: int) -> np.ndarray:
    """Most 执法证 run into 2027/2028; some expired during the period (their holders can no
    longer be drawn), a few expire next year."""
    u = rng.random(m)
    return np.where(
        u < 0.15,
        uniform_days(rng, world.start + 365, world.end, m),
        np.where(
            u < 0.22,
            uniform_days(rng, world.end + 1, world.end + 365, m),
            uniform_days(rng, day_number(2027, 1, 1), day_number(2028, 12, 31), m),
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


def build_inspectors(rng: np.random.Generator, world: World, n_firms: int) -> Inspectors:
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
            "inspector_id": concat("SH-INS-", zfill(np.arange(1, m + 1), 4)),
            "name": _person_names(rng, m),
            "unit": np.where(city, vocab.CITY_INSPECTION_UNIT, units),
            "district": np.where(city, "市级", d_names),
            "certificate_no": concat("沪执法31", zfill(rng.choice(10**6, m, replace=False), 6)),
            "certificate_valid_until": dates(valid_until),
            "fields": _field_lists(fields),
            "active": active,
            "strictness": strictness,
        }
    )
    conflicts = _conflict_pairs(rng, m, n_firms)
    return Inspectors(frame, fields, valid_until, strictness, conflicts)


def _conflict_pairs(rng: np.random.Generator, m: int, n_firms: int) -> np.ndarray:
    """Distinct inspector × firm recusal pairs, keyed inspector × n_firms + firm."""
    want = max(8, round(n_firms * 0.08))
    keys = rng.integers(0, m, 2 * want) * n_firms + rng.integers(0, n_firms, 2 * want)
    _, first = np.unique(keys, return_index=True)
    return keys[np.sort(first)][:want]


def recusals(
    rng: np.random.Generator, world: World, insp: Inspectors, firms: pl.DataFrame
) -> pl.DataFrame:
    """The 回避 list: inspector × firm pairs with a reason and validity window (some open)."""
    keys = insp.conflict_keys
    inspector, firm = np.divmod(keys, len(firms))
    n = len(keys)
    valid_from = uniform_days(rng, day_number(world.start_year - 2, 1, 1), world.end - 30, n)
    valid_until = valid_from + rng.integers(365, 1461, n)
    return pl.DataFrame(
        {
            "inspector_id": insp.frame["inspector_id"].gather(inspector),
            "uscc": firms["uscc"].gather(firm),
            "reason": words(vocab.CONFLICT_REASONS, rng.choice(3, n, p=[0.5, 0.2, 0.3])),
            "valid_from": dates(valid_from),
            "valid_until": dates(valid_until, rng.random(n) >= 0.4),
        }
    )


# ---------------------------------------------------------------- inspections


def _assign_inspectors(
    world: World, insp: Inspectors, firm: np.ndarray, day: np.ndarray
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


def run_inspections(world: World, insp: Inspectors) -> pl.DataFrame:
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
        [day_number(world.start_year + r // 4, 3 * (r % 4) + 1, 1) for r in range(rounds)]
    )
    day = workdays_after(
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
        REFUSED,
        np.where(
            u < p_refuse + 0.006,
            NOT_FOUND,
            np.where(rng.random(m) < p_problem, np.where(case, CASE, PROBLEM), OK),
        ),
    )
    found = (result == PROBLEM) | (result == CASE)
    problems = np.where(found, 1 + np.minimum(rng.poisson(0.6 * risk), 11), 0)

    order = np.lexsort((firm, day, rnd))
    firm, rnd, day, pair, result, problems = (
        a[order] for a in (firm, rnd, day, pair, result, problems)
    )
    seq = sequence(rnd, day)
    round_id = concat(pl.Series(world.start_year + rnd // 4), "Q", pl.Series(rnd % 4 + 1))
    ids = insp.frame["inspector_id"]
    return pl.DataFrame(
        {
            "inspection_id": concat("JC-", round_id, "-", zfill(seq, 6)),
            "round_id": round_id,
            "inspected_on": dates(day),
            "inspector_ids": pl.select(
                pl.concat_list(pl.lit(ids.gather(pair[:, 0])), pl.lit(ids.gather(pair[:, 1])))
            ).to_series(),
            "result": words(INSPECTION_RESULTS, result),
            "problem_count": pl.Series(problems, dtype=pl.Int64),
            "collected_on": dates(workdays_after(day, rng.integers(1, 11, m))),
            "_firm": firm,
            "_day": day,
            "_result": result,
        }
    ).with_columns(problem_count=pl.when(pl.col("_result") < REFUSED).then(pl.col("problem_count")))
