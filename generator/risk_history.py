"""Synthetic inspection histories for the risk model's tests and benchmarks.

`inspector_dominated_history`: findings driven mostly by who inspects and little by the
firm, a flag and no score — a history that carries little signal, where no complex model
should beat the history-only baseline and the inspector explains most of the outcome (the
generated dataset of `benchmarks/backtest_generated.py`, and a small one in the model-
selection tests). Deterministic: the same arguments give the same frame.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from models.risk.history import ENTITY_SCHEMA, OUTCOME_SCHEMA, History

START = date(2020, 1, 1)


def inspector_dominated_outcomes(
    entities: int = 300,
    years: int = 4,
    seed: int = 11,
    *,
    firm_sd: float = 0.3,
    inspector_sd: float = 1.2,
    inspectors: int = 30,
    territorial: float = 0.0,
) -> pl.DataFrame:
    """Findings driven mostly by who inspects: latent firm log-odds ~ N(−1.6, firm_sd),
    inspector strictness ~ N(0, inspector_sd); each inspection is done by the entity's home
    inspector with probability `territorial`, else by one drawn at random (双随机)."""
    rng = np.random.default_rng(seed)
    risk = rng.normal(-1.6, firm_sd, entities)
    strict = rng.normal(0, inspector_sd, inspectors)
    home = rng.integers(0, inspectors, entities)
    end = START + timedelta(days=365 * years)
    rows: list[dict[str, object]] = []
    for e in range(entities):
        day = START + timedelta(days=int(rng.integers(0, 180)))
        while day < end:
            who = int(home[e]) if rng.random() < territorial else int(rng.integers(0, inspectors))
            found = bool(rng.random() < 1 / (1 + np.exp(-(risk[e] + strict[who]))))
            rows.append(
                {
                    "inspection_id": f"G{len(rows) + 1:06d}",
                    "entity_id": f"F{e:05d}",
                    "inspected_on": day,
                    "known_on": day,
                    "problem": found,
                    "inspectors": [f"K{who:03d}"],
                    "score": None,
                }
            )
            day += timedelta(days=int(rng.integers(90, 240)))
    return pl.DataFrame(rows, schema=OUTCOME_SCHEMA)


def inspector_dominated_history(**kwargs: Any) -> History:
    """The outcomes of `inspector_dominated_outcomes(**kwargs)` and their entities (no
    attributes)."""
    outcomes = inspector_dominated_outcomes(**kwargs)
    ids = outcomes["entity_id"].unique().sort()
    entities = ids.to_frame().with_columns(opened_on=pl.lit(None, dtype=pl.Date))
    return History(outcomes=outcomes, entities=entities.cast(ENTITY_SCHEMA))
