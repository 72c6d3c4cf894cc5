"""May a stored round be replaced? The rule that a published round is never silently redrawn.

What belongs here: the decision, from the stored round's status and plan hash and the new
plan's, whether storing the new plan is allowed — a draft may be redrawn freely; a published
round was announced, so it is only re-stored to the identical plan, never turned back into a
draft, and replaced by a different plan only when the caller explicitly says so.
And whether the main job's default draft of the next round is kept rather than drawn
again (`draft_is_current`). What does not: reading or writing the round (`warehouse.sampling`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

STATUSES = ("draft", "published")
"""A round's status: a draft is freely redrawable, a published round was announced."""


class RoundConflictError(RuntimeError):
    """A published round would be replaced by a different plan without `replace`."""


def check_replaceable(
    existing: Mapping[str, Any] | None, plan_sha256: str, *, status: str, replace: bool
) -> None:
    """Raise `RoundConflictError` unless storing this plan over `existing` is allowed."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    if existing is None or existing["status"] != "published" or replace:
        return
    old = existing["plan_sha256"]
    if status != "published":
        raise RoundConflictError(
            f"抽查批次 {existing['round_id']} 已公布，不能以草案覆盖 / round "
            f"{existing['round_id']} is published; a draft cannot replace it"
        )
    if old != plan_sha256:
        raise RoundConflictError(
            f"抽查批次 {existing['round_id']} 已公布（计划哈希 {old[:12]}…），"
            f"本次结果不同（{plan_sha256[:12]}…）；如确需重抽请使用 --replace / round "
            f"{existing['round_id']} is published with plan {old[:12]}…; "
            f"this draw gives {plan_sha256[:12]}…; pass replace (--replace) to supersede it"
        )


DATED_PARAMETERS = ("seed", "published_on", "tier_as_of")
"""What a default draft takes from the day it is drawn (seed = the date as YYYYMMDD)."""


def draft_is_current(
    stored: Mapping[str, Any] | None,
    parameters: Mapping[str, Any],
    *,
    today: date,
    max_age_days: int,
    published_since: bool,
) -> bool:
    """Whether the main job keeps its stored default draft (`stored`, a `sampling_rounds`
    row) instead of drawing the next round again with today's `parameters`
    (`RoundParams.model_dump(mode="json")`): a draft of the same round with the same
    parameters but for the date, drawn less than `max_age_days` ago, with no round published
    since (its bookings would be taken). Why keep it: a draft is what the centre reviews
    before it publishes a round; redrawn every day with the day as its seed, it was a
    different national plan each morning (and ~8 s of a day's run at 100,000 firms). It is
    drawn again when older (tiers a week old at most) or on request (`renfang draw … --draft`);
    a `--full` run keeps it too — the draft is no table derived from the archive, so a
    rebuild and an incremental run leave the same one."""
    if stored is None or stored["status"] != "draft" or max_age_days <= 0 or published_since:
        return False
    old = json.loads(stored["parameters"])
    drafted = old.get("published_on")
    if not drafted or not 0 <= (today - date.fromisoformat(drafted)).days < max_age_days:
        return False
    undated = {k: v for k, v in parameters.items() if k not in DATED_PARAMETERS}
    return {k: v for k, v in old.items() if k not in DATED_PARAMETERS} == undated
