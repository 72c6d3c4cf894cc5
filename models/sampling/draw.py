"""The firm draw of a double-random round (docs/sampling.md#strata-and-ratios).

What belongs here: which firms a round inspects, as a pure function of (eligible pool, round
parameters) — the seed and round id are parameters — written so that a third party can re-run
it from the published plan and get the same firms. What does not: hashing the published
inputs (`canonical`), eligibility (the caller filters the directory by
`params.eligibility` before calling; every row of `pool` is drawable), inspectors (`assign`),
dates, publication or any I/O.

The algorithm, version `ALGORITHM_VERSION` — a published plan names it, so any change to the
steps below must change the version:

1. **Canonical pool.** Keep `uscc, firm_type, tier`, sort by `uscc` (byte order of UTF-8):
   the result never depends on the order the caller's rows came in. Nulls and duplicate
   USCCs are errors, not guesses.
2. **Strata** are the distinct values of `params.strata` (default tier × firm_type), in
   sorted key order; a stratum's label joins its keys with `/` (`B/防护设备`).
3. **Sizes.** n = ceil(pool × ratio of its tier), at least 1, at most the pool. The ratio is
   read as the decimal written in the YAML (0.3 is exactly 3/10), so ceil(10 × 0.3) is 3,
   not the 4 binary floating point would give.
4. **Overall floor.** If Σ n < ceil(overall_floor × pool_total), every ratio is scaled by one
   common factor f ≥ 1, grown just far enough: the extra firms are handed out one at a time,
   each to the stratum that the growing f would enlarge first — the smallest
   n / (pool × ratio) (Adams' divisor method), ties to the stratum first in key order, never
   beyond a stratum's pool — until Σ n equals the floor exactly. Computed in exact fractions.
5. **Random stream.** entropy = SHA-256 of the UTF-8 text `"{ALGORITHM_VERSION}:{seed}:{round_id}"`
   read as a big-endian integer; the generator is `numpy.random.Generator(PCG64(
   SeedSequence(entropy)))`. Hashing keeps (seed, round id) pairs apart — no two pairs share
   a stream the way concatenated integer words could — and two rounds with the same seed differ.
   The generator draws `u_draw = rng.random(pool_total)` then `u_control = rng.random(pool_total)`,
   one value per firm in canonical order.
6. **Tier-driven draw.** In each stratum the n firms with the smallest `u_draw` are drawn (a
   uniform sample without replacement; exact ties, which a 53-bit double makes practically
   impossible, go to the smaller USCC).
7. **Control share.** ceil(control_share × pool_total) further firms — in addition to the
   tier-driven draw, not carved out of it — are the not-yet-drawn firms with the smallest
   `u_control`, whatever their tier; they are marked `is_control`. They give the inspections
   an unbiased sample to check the tiers against (a tier-driven draw over-inspects bad tiers
   by design). When fewer firms remain undrawn (e.g. an all-D pool), all of them are taken.
8. **Order.** `draw_order` numbers the draw from 1: tier-driven firms by stratum (key order)
   and, within one, by `u_draw`; then the control firms by `u_control`.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import polars as pl

from models.sampling.params import RoundParams

ALGORITHM_VERSION = "draw-1"
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
"""One row per non-empty stratum; `firm_type` is null when it is not a stratum key, and
`n_drawn` counts the tier-driven draw only (control firms are on top)."""

_MAX_LISTED = 5  # an error lists a few offending USCCs, enough to find them


class DrawError(ValueError):
    """The pool cannot be drawn from (missing columns, nulls, duplicates, a tier without ratio)."""


@dataclass(frozen=True)
class FirmDraw:
    """The drawn firms (`DRAW_SCHEMA`, in `draw_order`) and the sizes of every stratum."""

    draws: pl.DataFrame
    strata: pl.DataFrame


def canonical_pool(pool: pl.DataFrame) -> pl.DataFrame:
    """`uscc, firm_type, tier` as strings, sorted by USCC; raises `DrawError` on bad input."""
    missing = [c for c in POOL_COLUMNS if c not in pool.columns]
    if missing:
        raise DrawError(f"pool: missing column(s) {missing}; needs {list(POOL_COLUMNS)}")
    frame = pool.select(pl.col(c).cast(pl.Utf8) for c in POOL_COLUMNS)
    for column in POOL_COLUMNS:
        nulls = frame.get_column(column).null_count()
        if nulls:
            raise DrawError(f"pool.{column}: {nulls} null value(s); every firm needs one")
    duplicated = frame.filter(pl.col("uscc").is_duplicated()).get_column("uscc").unique().sort()
    if len(duplicated):
        listed = ", ".join(duplicated.head(_MAX_LISTED).to_list())
        raise DrawError(f"pool.uscc: {len(duplicated)} duplicated USCC(s), e.g. {listed}")
    return frame.sort("uscc")


def seed_sequence(seed: int, round_id: str, purpose: str | None = None) -> np.random.SeedSequence:
    """The seed sequence of a round (step 5); later steps of the round (`purpose`
    "assign", "schedule") hash `"{ALGORITHM_VERSION}:{seed}:{round_id}:{purpose}"` instead, so
    each step has its own stream and a change in one step never shifts another's numbers."""
    text = f"{ALGORITHM_VERSION}:{seed}:{round_id}" + (f":{purpose}" if purpose else "")
    entropy = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")
    return np.random.SeedSequence(entropy)


def stratum_sizes(pools: list[int], ratios: list[float], overall_floor: float) -> list[int]:
    """Firms to draw per stratum (steps 3–4), given each non-empty stratum's pool and ratio."""
    weights = [n * Fraction(repr(r)) for n, r in zip(pools, ratios, strict=True)]
    sizes = [min(n, max(1, math.ceil(w))) for n, w in zip(pools, weights, strict=True)]
    target = math.ceil(Fraction(repr(overall_floor)) * sum(pools))
    # Adams' divisor method: raising f makes ceil(w·f) step up first where n/w is smallest.
    heap = [(Fraction(sizes[i]) / weights[i], i) for i in range(len(sizes)) if sizes[i] < pools[i]]
    heapq.heapify(heap)
    total = sum(sizes)
    while total < target:  # target ≤ Σ pools, so the heap cannot run dry first
        _, i = heapq.heappop(heap)
        sizes[i] += 1
        total += 1
        if sizes[i] < pools[i]:
            heapq.heappush(heap, (Fraction(sizes[i]) / weights[i], i))
    return sizes


def draw_firms(pool: pl.DataFrame, params: RoundParams) -> FirmDraw:
    """Draw the firms of round `params.round_id` from the eligible `pool` (module docstring).

    `pool` needs `uscc, firm_type, tier` (other columns are ignored) with eligibility already
    applied; the tiers are those as of `params.tier_as_of`.
    """
    firms = canonical_pool(pool)
    keys = list(params.strata)
    total = firms.height
    unknown = firms.filter(~pl.col("tier").is_in(list(params.ratios))).get_column("tier")
    if len(unknown):
        counts = unknown.value_counts(sort=True).sort("tier").iter_rows()
        listed = ", ".join(f"{tier!r} ({n} firms)" for tier, n in counts)
        raise DrawError(f"ratios: no ratio for tier {listed}; ratios has {list(params.ratios)}")

    strata = (
        firms.group_by(keys)
        .agg(pl.len().cast(pl.Int64).alias("pool"))
        .sort(keys)
        .with_columns(pl.concat_str([pl.col(k) for k in keys], separator="/").alias("stratum"))
    )
    if "firm_type" not in keys:
        strata = strata.with_columns(pl.lit(None, dtype=pl.Utf8).alias("firm_type"))
    pools = strata.get_column("pool").to_list()
    ratios = [params.ratios[t] for t in strata.get_column("tier").to_list()]
    sizes = stratum_sizes(pools, ratios, params.overall_floor)
    strata = strata.with_columns(
        pl.Series("ratio", ratios, dtype=pl.Float64),
        pl.Series("n_required", sizes, dtype=pl.Int64),
    )

    rng = np.random.Generator(np.random.PCG64(seed_sequence(params.seed, params.round_id)))
    u_draw = rng.random(total)
    u_control = rng.random(total)
    ranked = (
        firms.with_columns(
            pl.Series("u_draw", u_draw, dtype=pl.Float64),
            pl.Series("u_control", u_control, dtype=pl.Float64),
        )
        .join(strata.select([*keys, "stratum", "n_required"]), on=keys, how="left")
        .with_columns(
            (pl.col("u_draw").rank("ordinal").over(keys) <= pl.col("n_required")).alias("drawn")
        )
    )
    tiered = ranked.filter(pl.col("drawn")).sort([*keys, "u_draw"])
    rest = ranked.filter(~pl.col("drawn"))
    n_control = min(math.ceil(Fraction(repr(params.control_share)) * total), rest.height)
    control = rest.sort("u_control").head(n_control)

    draws = (
        pl.concat(
            [
                tiered.with_columns(pl.lit(False).alias("is_control")),
                control.with_columns(pl.lit(True).alias("is_control")),
            ]
        )
        .with_row_index("draw_order", offset=1)
        .with_columns(
            pl.lit(params.round_id, dtype=pl.Utf8).alias("round_id"),
            pl.col("draw_order").cast(pl.Int64),
        )
        .select(DRAW_SCHEMA.names())
    )
    drawn_counts = tiered.group_by(keys).agg(pl.len().cast(pl.Int64).alias("n_drawn"))
    strata = (
        strata.join(drawn_counts, on=keys, how="left", nulls_equal=True)
        .with_columns(pl.col("n_drawn").fill_null(0))
        .select(STRATA_SCHEMA.names())
        .cast(STRATA_SCHEMA)
    )
    return FirmDraw(draws=draws.cast(DRAW_SCHEMA), strata=strata)
