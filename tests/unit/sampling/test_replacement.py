"""May a stored round be replaced, and is the main job's draft still current: a published
round is never silently redrawn; a draft is kept only while nothing it rests on moved."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from models.sampling.params import resolve_round_params
from models.sampling.replacement import RoundConflictError, check_replaceable, draft_is_current

DRAWN = date(2026, 7, 1)


def _draft(status: str = "draft", day: date = DRAWN, **overrides: Any) -> dict[str, Any]:
    params = resolve_round_params(day).model_dump(mode="json") | overrides
    return {"round_id": params["round_id"], "status": status, "plan_sha256": "ab" * 32,
            "parameters": json.dumps(params)}  # fmt: skip


def _today(day: date, overrides: str | None = None) -> dict[str, Any]:
    return resolve_round_params(day, overrides_text=overrides).model_dump(mode="json")


def _current(stored: dict[str, Any] | None, day: date, **options: Any) -> bool:
    kwargs = {"max_age_days": 7, "published_since": False} | options
    return draft_is_current(stored, _today(day), today=day, **kwargs)


def test_a_draft_is_kept_for_less_than_its_max_age() -> None:
    assert _today(DRAWN + timedelta(days=6))["seed"] != _today(DRAWN)["seed"]  # dated fields
    for days in range(7):
        assert _current(_draft(), DRAWN + timedelta(days=days))
    assert not _current(_draft(), DRAWN + timedelta(days=7))
    assert not _current(_draft(), DRAWN - timedelta(days=1))  # the processing date went back
    assert _current(_draft(), DRAWN + timedelta(days=20), max_age_days=30)
    assert not _current(_draft(), DRAWN, max_age_days=0)  # 0: drawn on every run


def test_a_draft_is_drawn_again_when_anything_it_rests_on_moved() -> None:
    day = DRAWN + timedelta(days=2)
    assert not _current(None, day)  # none stored
    assert not _current(_draft(status="published"), day)  # a published round is not a draft
    assert not _current(_draft(), day, published_since=True)  # its bookings would be taken
    assert not _current(_draft(control_share=0.1), day)  # other parameters
    other = draft_is_current(
        _draft(), _today(day, "{control_share: 0.1}"), today=day, max_age_days=7,
        published_since=False,
    )  # fmt: skip
    assert not other
    undated = _draft()
    undated["parameters"] = json.dumps(json.loads(undated["parameters"]) | {"published_on": None})
    assert not _current(undated, day)  # an old row without its date


def test_a_published_round_is_replaced_only_by_its_identical_plan_or_on_request() -> None:
    published = _draft(status="published")
    check_replaceable(None, "cd" * 32, status="draft", replace=False)
    check_replaceable(_draft(), "cd" * 32, status="draft", replace=False)  # a draft: freely
    check_replaceable(published, "ab" * 32, status="published", replace=False)  # identical
    with pytest.raises(RoundConflictError):
        check_replaceable(published, "cd" * 32, status="published", replace=False)
    with pytest.raises(RoundConflictError):
        check_replaceable(published, "ab" * 32, status="draft", replace=False)
    check_replaceable(published, "cd" * 32, status="published", replace=True)
