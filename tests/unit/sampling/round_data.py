"""A small synthetic directory for whole-round tests: firms of three types and tiers, a
roster that covers them, a few recusals and a previous round."""

from __future__ import annotations

from datetime import date

import polars as pl

from models.sampling.canonical import RoundInputs
from models.sampling.params import RoundParams, default_round_params

TYPES = ("design", "supervision", "protective_equipment")
DISTRICTS = ("黄浦区", "徐汇区", "浦东新区")


def round_inputs(firms: int = 120, inspectors: int = 30) -> RoundInputs:
    firm_frame = pl.DataFrame(
        {
            "uscc": [f"91310000F{i:05d}" for i in range(firms)],
            "firm_type": [TYPES[i % 3] for i in range(firms)],
            "tier": [("A", "B", "B", "B", "C", "D")[i % 6] for i in range(firms)],
            "district": [DISTRICTS[(i // 3) % 3] for i in range(firms)],
        }
    )
    roster = pl.DataFrame(
        {
            "inspector_id": [f"INS-{i:03d}" for i in range(inspectors)],
            "fields": [[TYPES[i % 3], TYPES[(i + 1) % 3]] for i in range(inspectors)],
            "certificate_valid_until": [date(2028, 12, 31)] * inspectors,
            "active": [i % 10 != 9 for i in range(inspectors)],
        }
    )
    conflicts = pl.DataFrame(
        {
            "inspector_id": ["INS-000", "INS-001"],
            "uscc": ["91310000F00000", "91310000F00001"],
            "valid_from": [date(2020, 1, 1), date(2020, 1, 1)],
            "valid_until": [None, date(2021, 1, 1)],
        }
    )
    previous = pl.DataFrame({"uscc": ["91310000F00005"], "inspector_id": ["INS-002"]})
    return RoundInputs(firm_frame, roster, conflicts, previous)


def round_params(**overrides: object) -> RoundParams:
    base = {
        "round_id": "2027Q1",
        "seed": 20270101,
        "tier_as_of": date(2026, 12, 31),
        "window_start": date(2027, 1, 1),
        "window_end": date(2027, 3, 31),
    }
    return default_round_params(**{**base, **overrides})
