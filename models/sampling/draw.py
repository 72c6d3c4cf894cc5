"""The firm draw of a double-random round (docs/sampling.md#strata-and-ratios).

What belongs here: which firms a round inspects, as a pure function of (eligible pool, round
parameters) — the seed and round id are parameters — written so that a third party can re-run
it from the published plan and get the same firms; and each tier's inclusion probability,
which the plan prints. What does not: hashing the published inputs (`canonical`), eligibility
(the caller filters the directory by the round's rules before calling; every row of `pool`
is drawable), inspectors (`assign`), dates, publication or any I/O.

The policy (国办发〔2019〕35号) asks that good credit be inspected at a lower ratio than bad
credit. So the rule is stated per firm: **every eligible firm is drawn with probability equal
to its tier's ratio** (A ≤ B ≤ C ≤ D, `params.ratios`), whatever the size of its stratum — a
stratum of 5 A firms at 3 % draws one of them 15 % of the time, none otherwise. Rounding the
stratum sizes up (as `draw-1` did, with at least one per stratum) gave small good-tier strata a
far higher chance than large bad-tier ones; `min_per_stratum` keeps that rule available as an
explicit parameter (default 0), and `tier_probabilities` then reports what it costs.

The algorithm, version `ALGORITHM_VERSION` — a published plan names it, so any change to the
steps below must change the version (`draw1` keeps the previous one):

1. **Canonical pool.** Keep `uscc, firm_type, tier` (and the other stratum keys), sort by
   `uscc` (byte order of UTF-8): the result never depends on the order the caller's rows came
   in. Nulls and duplicate USCCs are errors, not guesses.
2. **Probabilities.** Each tier t has π_t = ratio_t, read as the decimal written in the YAML
   (0.3 is exactly 3/10). If Σ pool_t × π_t is below the overall floor F = ceil(overall_floor ×
   pool), every π is raised by one common factor f ≥ 1, capped at 1 (π_t = min(1, f ×
   ratio_t)), with f solved exactly so that Σ pool_t × π_t = F. A common factor keeps the
   order of the tiers. Exact fractions throughout.
3. **Random stream.** entropy = SHA-256 of the UTF-8 text `"{ALGORITHM_VERSION}:{seed}:{round_id}"`
   read as a big-endian integer; the generator is `numpy.random.Generator(PCG64(
   SeedSequence(entropy)))`. It draws `u_order = rng.random(pool)`, then
   `u_control = rng.random(pool)` (one value per firm in canonical order), then one
   `start = rng.random()`.
4. **Systematic selection.** The firms are lined up by stratum (tier first, then the other
   keys of `params.strata`, in sorted key order) and, within a stratum, by `u_order`; firm i
   covers the interval [c_{i−1}, c_i) of length π of its tier (c the running sum). The firms
   whose interval holds one of the points start, start + 1, start + 2, … are drawn. Each firm
   is drawn with probability exactly π of its tier (start is uniform); within a stratum the
   drawn firms are a uniform sample (the order is random); every stratum, and every tier,
   gets floor or ceil of its expected size pool × π; and the total is exactly F when the
   floor applies.
5. **Minimum per stratum** (`min_per_stratum` m, default 0). A stratum with fewer than
   min(m, pool) drawn firms takes the undrawn firms with the smallest `u_order` until it has
   that many. The effective probability of a firm of the stratum is then
   E[max(m, n)] / pool, where n is floor(e) + 1 with probability frac(e) and floor(e)
   otherwise (e = pool × π); `tier_probabilities` adds these up per tier.
6. **Control share.** ceil(control_share × pool_total) further firms — in addition to the
   tier-driven draw — are the not-yet-drawn firms with the smallest `u_control`, whatever
   their tier; they are marked `is_control`. They give the inspections an unbiased sample to
   check the tiers against. When fewer firms remain undrawn, all of them are taken.
7. **Order.** `draw_order` numbers the draw from 1: tier-driven firms by stratum (key order)
   and, within one, by `u_order`; then the control firms by `u_control`.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import polars as pl

from models.sampling.params import RoundParams

ALGORITHM_VERSION = "draw-2"
POOL_COLUMNS: tuple[str, ...] = ("uscc", "firm_type", "tier")

DRAW_SCHEMA = pl.Schema(
    {
        "round_id": pl.Utf8,
        "uscc": pl.Utf8,
        "firm_type": pl.Utf8,
        "tier": pl.Utf8,
        "stratum": pl.Utf8,
        "is_control": pl.Boolean,
        "draw_order": pl.Int64,
    }
)
STRATA_SCHEMA = pl.Schema(
    {
        "stratum": pl.Utf8,
        "tier": pl.Utf8,
        "firm_type": pl.Utf8,
        "pool": pl.Int64,
        "ratio": pl.Float64,
        "n_required": pl.Int64,
        "n_drawn": pl.Int64,
    }
)
"""One row per non-empty stratum (the `sampling_strata` table); `firm_type` is null when it is
not a stratum key, and `n_drawn` counts the tier-driven draw only (control firms are on top).
In `draw-2`, `ratio` is the inclusion probability π of the stratum's tier (its ratio, or
higher when the overall floor raised it) and `n_required` the minimum per stratum
(min(min_per_stratum, pool)); the plan adds each stratum's expected size."""

TIER_PROBABILITY_SCHEMA = pl.Schema(
    {
        "tier": pl.Utf8,
        "ratio": pl.Float64,
        "pool": pl.Int64,
        "probability": pl.Float64,
        "expected": pl.Float64,
        "drawn": pl.Int64,
    }
)
"""Per tier: the configured ratio, the pool, each firm's effective inclusion probability (what
the plan prints; equal to the ratio unless the floor or the minimum per stratum raised it),
the expected and the actual number drawn by tier (controls apart)."""

_MAX_LISTED = 5  # an error lists a few offending USCCs, enough to find them
_ROUND = 6  # probabilities are published to 6 decimals


class DrawError(ValueError):
    """The pool cannot be drawn from (missing columns, nulls, duplicates, a tier without ratio)."""


@dataclass(frozen=True)
class FirmDraw:
    """The drawn firms (`DRAW_SCHEMA`, in `draw_order`), the sizes of every stratum (plus
    `expected` for the plan) and each tier's inclusion probability."""

    draws: pl.DataFrame
    strata: pl.DataFrame
    tiers: pl.DataFrame
    expected: dict[str, float]


def canonical_pool(pool: pl.DataFrame, keys: tuple[str, ...] = ()) -> pl.DataFrame:
    """`uscc, firm_type, tier` (and any other `keys`) as strings, sorted by USCC; raises
    `DrawError` on bad input."""
    columns = [*POOL_COLUMNS, *(k for k in keys if k not in POOL_COLUMNS)]
    missing = [c for c in columns if c not in pool.columns]
    if missing:
        raise DrawError(f"pool: missing column(s) {missing}; needs {list(columns)}")
    frame = pool.select(pl.col(c).cast(pl.Utf8) for c in columns)
    for column in columns:
        nulls = frame.get_column(column).null_count()
        if nulls:
            raise DrawError(f"pool.{column}: {nulls} null value(s); every firm needs one")
    duplicated = frame.filter(pl.col("uscc").is_duplicated()).get_column("uscc").unique().sort()
    if len(duplicated):
        listed = ", ".join(duplicated.head(_MAX_LISTED).to_list())
        raise DrawError(f"pool.uscc: {len(duplicated)} duplicated USCC(s), e.g. {listed}")
    return frame.sort("uscc")


def seed_sequence(
    seed: int, round_id: str, purpose: str | None = None, version: str = ALGORITHM_VERSION
) -> np.random.SeedSequence:
    """The seed sequence of a round (step 3); later steps of the round (`purpose`
    "candidates", "assign", "schedule") hash `"{version}:{seed}:{round_id}:{purpose}"`
    instead, so each step has its own stream and a change in one step never shifts
    another's numbers."""
    text = f"{version}:{seed}:{round_id}" + (f":{purpose}" if purpose else "")
    entropy = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")
    return np.random.SeedSequence(entropy)


def round_rng(
    params: RoundParams, purpose: str | None, version: str = ALGORITHM_VERSION
) -> np.random.Generator:
    """The generator of one step of round `params` (`seed_sequence`)."""
    return np.random.Generator(
        np.random.PCG64(seed_sequence(params.seed, params.round_id, purpose, version))
    )


def exact(value: float) -> Fraction:
    """The decimal a YAML number was written as (0.3 → 3/10, not the binary double)."""
    return Fraction(repr(value))


def check_ratios(firms: pl.DataFrame, params: RoundParams) -> None:
    """Raise `DrawError` naming every tier of the pool the ratios do not cover."""
    unknown = firms.filter(~pl.col("tier").is_in(list(params.ratios))).get_column("tier")
    if len(unknown):
        counts = unknown.value_counts(sort=True).sort("tier").iter_rows()
        listed = ", ".join(f"{tier!r} ({n} firms)" for tier, n in counts)
        raise DrawError(f"ratios: no ratio for tier {listed}; ratios has {list(params.ratios)}")


def tier_probabilities(
    pools: dict[str, int], ratios: dict[str, float], overall_floor: float
) -> dict[str, Fraction]:
    """π per tier (step 2): the ratio, or all raised by one common factor to the floor."""
    pi = {t: exact(ratios[t]) for t in pools}
    total = sum(pools.values())
    target = math.ceil(exact(overall_floor) * total)
    if sum(pools[t] * pi[t] for t in pools) >= target:
        return pi
    # g(f) = Σ pool_t × min(1, f × r_t) is increasing and piecewise linear; walk its breaks.
    capped: set[str] = set()
    for t in sorted(pools, key=lambda t: pi[t], reverse=True):
        free = [u for u in pools if u not in capped]
        slope = sum(pools[u] * pi[u] for u in free)
        fixed = sum(pools[u] for u in capped)
        factor = (target - fixed) / slope if slope else Fraction(0)
        if factor * pi[t] <= 1:  # no other tier reaches 1 before the target
            return {u: (Fraction(1) if u in capped else factor * pi[u]) for u in pools}
        capped.add(t)
    return dict.fromkeys(pools, Fraction(1))  # target = pool: everyone


def _stratum_expected(pool: int, pi: Fraction, minimum: int) -> Fraction:
    """E[max(min(m, pool), n)], n = floor(e) + Bernoulli(frac(e)), e = pool × π (step 5)."""
    e = pool * pi
    low = math.floor(e)
    p_high = e - low
    m = min(minimum, pool)
    return max(m, low) * (1 - p_high) + max(m, low + 1 if p_high else low) * p_high


def systematic(tiers: list[str], pi: dict[str, Fraction], start: Fraction) -> list[bool]:
    """Step 4: walking the line, a firm is drawn when a point `start + k` (k ≥ 0) falls under
    its share of the running sum of π — exactly, in whole multiples of the common
    denominator of every π and `start` (the same as summing the fractions, without building
    a fraction per firm)."""
    unit = math.lcm(*(f.denominator for f in (*pi.values(), start)))
    step = {t: (p * unit).numerator for t, p in pi.items()}
    offset = (start * unit).numerator
    selected: list[bool] = []
    before = 0  # points below the running sum so far
    for running in itertools.accumulate(step[t] for t in tiers):
        after = max(0, -((offset - running) // unit))  # ceil((running - offset) / unit)
        selected.append(after > before)
        before = after
    return selected


def draw_firms(pool: pl.DataFrame, params: RoundParams) -> FirmDraw:
    """Draw the firms of round `params.round_id` from the eligible `pool` (module docstring).

    `pool` needs `uscc, firm_type, tier` (other columns are ignored) with eligibility already
    applied; `tier` is the class whose ratio applies (the supervision class).
    """
    keys = ["tier", *(k for k in params.strata if k != "tier")]
    firms = canonical_pool(pool, tuple(keys))
    total = firms.height
    check_ratios(firms, params)

    tier_pools = dict(firms.group_by("tier").len().sort("tier").iter_rows())
    pi = tier_probabilities(tier_pools, params.ratios, params.overall_floor)

    rng = round_rng(params, None)
    u_order = rng.random(total)
    u_control = rng.random(total)
    start = Fraction(float(rng.random()))

    lined = (
        firms.with_columns(
            pl.Series("u_order", u_order, dtype=pl.Float64),
            pl.Series("u_control", u_control, dtype=pl.Float64),
        )
        .sort([*keys, "u_order"])
        .with_columns(
            pl.concat_str([pl.col(k) for k in params.strata], separator="/").alias("stratum")
        )
    )
    selected = systematic(lined.get_column("tier").to_list(), pi, start)
    lined = lined.with_columns(pl.Series("drawn", selected, dtype=pl.Boolean))

    # Step 5: top up strata below the minimum, smallest u_order first (the line's order).
    if params.min_per_stratum:
        lined = lined.with_columns(
            rank=pl.int_range(pl.len(), dtype=pl.Int64).over("stratum"),
            already=pl.col("drawn").cast(pl.Int64).sum().over("stratum"),
            pool=pl.len().over("stratum").cast(pl.Int64),
        ).with_columns(
            undrawn_rank=pl.when(~pl.col("drawn"))
            .then(pl.col("rank") - pl.col("drawn").cast(pl.Int64).cum_sum().over("stratum"))
            .otherwise(None)
        )
        lined = lined.with_columns(
            drawn=pl.col("drawn")
            | (
                pl.col("undrawn_rank")
                < (
                    pl.min_horizontal(pl.lit(params.min_per_stratum), pl.col("pool"))
                    - pl.col("already")
                )
            ).fill_null(False)
        ).drop("rank", "already", "pool", "undrawn_rank")

    tiered = lined.filter(pl.col("drawn"))
    rest = lined.filter(~pl.col("drawn"))
    n_control = min(math.ceil(exact(params.control_share) * total), rest.height)
    control = rest.sort("u_control", "uscc").head(n_control)
    draws = assemble_draws(tiered, control, params.round_id)

    strata_keys = list(params.strata)
    strata = (
        lined.group_by(strata_keys, maintain_order=True)
        .agg(
            pl.col("stratum").first(),
            pl.len().cast(pl.Int64).alias("pool"),
            pl.col("drawn").sum().cast(pl.Int64).alias("n_drawn"),
        )
        .sort(strata_keys)
    )
    if "firm_type" not in strata_keys:
        strata = strata.with_columns(pl.lit(None, dtype=pl.Utf8).alias("firm_type"))
    rows = strata.select("stratum", "tier", "pool").rows()
    minimum = [min(params.min_per_stratum, pool) for _, _, pool in rows]
    expected_by_stratum = {
        stratum: _stratum_expected(pool, pi[tier], params.min_per_stratum)
        for stratum, tier, pool in rows
    }
    strata = (
        strata.with_columns(
            pl.Series("ratio", [float(pi[t]) for _, t, _ in rows], dtype=pl.Float64).round(_ROUND),
            pl.Series("n_required", minimum, dtype=pl.Int64),
        )
        .select(STRATA_SCHEMA.names())
        .cast(STRATA_SCHEMA)
    )
    per_tier: dict[str, Fraction] = {}
    for stratum, tier, _ in rows:
        per_tier[tier] = per_tier.get(tier, Fraction(0)) + expected_by_stratum[stratum]
    drawn_by_tier = dict(tiered.group_by("tier").len().iter_rows())
    tiers = pl.DataFrame(
        [
            (
                tier,
                params.ratios[tier],
                n,
                round(float(per_tier[tier] / n), _ROUND),
                round(float(per_tier[tier]), _ROUND),
                int(drawn_by_tier.get(tier, 0)),
            )
            for tier, n in tier_pools.items()
        ],
        schema=TIER_PROBABILITY_SCHEMA,
        orient="row",
    )
    return FirmDraw(
        draws=draws,
        strata=strata,
        tiers=tiers,
        expected={s: round(float(e), _ROUND) for s, e in expected_by_stratum.items()},
    )


def assemble_draws(tiered: pl.DataFrame, control: pl.DataFrame, round_id: str) -> pl.DataFrame:
    """The draw by class then the control firms, numbered from 1 (`DRAW_SCHEMA`); both
    algorithm versions order them so."""
    return (
        pl.concat(
            [
                tiered.with_columns(pl.lit(False).alias("is_control")),
                control.with_columns(pl.lit(True).alias("is_control")),
            ],
            how="diagonal_relaxed",
        )
        .with_row_index("draw_order", offset=1)
        .with_columns(
            pl.lit(round_id, dtype=pl.Utf8).alias("round_id"),
            pl.col("draw_order").cast(pl.Int64),
        )
        .select(DRAW_SCHEMA.names())
        .cast(DRAW_SCHEMA)
    )


def monotone_in_tier(tiers: pl.DataFrame, order: list[str]) -> bool:
    """Whether the effective probabilities never fall from a better tier to a worse one
    (`order` best first); tiers absent from the pool are skipped."""
    probability = dict(tiers.select("tier", "probability").iter_rows())
    present = [probability[t] for t in order if t in probability]
    return all(a <= b + 1e-12 for a, b in itertools.pairwise(present))
