"""A small synthetic inspection history with a known latent risk and strict inspectors.

Each entity has a latent risk; each inspection's chance of a finding rises with that risk
and with the inspector's strictness. Deterministic (seeded), a few hundred entities.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from models.risk.history import ENTITY_SCHEMA, OUTCOME_SCHEMA, History

START = date(2020, 1, 1)


def synthetic_outcomes(entities: int = 240, years: int = 4, seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    risk = rng.normal(-1.8, 1.6, entities)
    strict = rng.normal(0, 0.6, 12)
    rows = []
    for e in range(entities):
        day = START + timedelta(days=int(rng.integers(0, 120)))
        while day < START + timedelta(days=365 * years):
            inspector = int(rng.integers(0, 12))
            p = 1 / (1 + np.exp(-(risk[e] + strict[inspector])))
            found = bool(rng.random() < p)
            rows.append(
                {
                    "entity_id": f"E{e:04d}",
                    "inspected_on": day,
                    "known_on": day + timedelta(days=int(rng.integers(0, 10))),
                    "problem": found,
                    "inspectors": [f"I{inspector:02d}"],
                    "score": float(np.clip(97 - 6 * found - rng.normal(0, 2), 60, 100)),
                }
            )
            day += timedelta(days=int(rng.integers(60, 200)))
    return pl.DataFrame(rows, schema=OUTCOME_SCHEMA)


def synthetic_history(entities: int = 240, years: int = 4, seed: int = 7) -> History:
    outcomes = synthetic_outcomes(entities, years, seed)
    ids = outcomes["entity_id"].unique().sort()
    firms = ids.to_frame().with_columns(
        opened_on=pl.lit(date(2015, 1, 1)),
        district=pl.Series([f"D{i % 5}" for i in range(ids.len())]),
    )
    return History(outcomes=outcomes, entities=firms.cast(dict(ENTITY_SCHEMA)))
