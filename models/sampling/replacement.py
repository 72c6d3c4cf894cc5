"""May a stored round be replaced? The rule that a published round is never silently redrawn.

What belongs here: the decision, from the stored round's status and plan hash and the new
plan's, whether storing the new plan is allowed — a draft may be redrawn freely; a published
round was announced, so it is only re-stored to the identical plan, never turned back into a
draft, and replaced by a different plan only when the caller explicitly says so.
What does not: reading or writing the round (`warehouse.sampling`).
"""

from __future__ import annotations

from collections.abc import Mapping
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
