"""Round parameters as data: the packaged template holds docs/sampling.md's numbers, overrides are
validated again, and malformed parameters fail with a message that names the offending field."""

from __future__ import annotations

from datetime import date
from importlib import resources
from typing import Any

import pytest
import yaml

from models.sampling.params import (
    RoundParamsError,
    default_round_params,
    parse_round_params,
    resolve_round_params,
)


def _default_data() -> dict[str, Any]:
    path = resources.files("models").joinpath("sampling", "default_round.yaml")
    return yaml.safe_load(path.read_text("utf-8"))


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True)


def test_default_round_holds_the_design_numbers() -> None:
    params = default_round_params()
    assert params.ratios == {"A": 0.03, "B": 0.10, "C": 0.30, "D": 1.0}
    assert params.overall_floor == 0.05
    assert params.strata == ("tier", "firm_type")
    assert params.eligibility.active_statuses == ("正常",)
    assert params.eligibility.exclude_inspected_within_days is None
    assert (params.inspectors_per_firm, params.max_firms_per_inspector) == (2, 8)
    assert (params.rotation, params.control_share, params.daily_cap_per_team) == (True, 0.05, 3)
    assert params.window_start <= params.window_end
    assert default_round_params() is params  # the packaged template is parsed once


def test_parse_round_params_reads_yaml_text() -> None:
    data = _default_data() | {"round_id": "2026-03", "seed": 20260301}
    params = parse_round_params(_dump(data))
    assert (params.round_id, params.seed) == ("2026-03", 20260301)
    assert params.tier_as_of == date(2026, 3, 31)


def test_overrides_are_applied_and_validated_again() -> None:
    params = default_round_params(round_id="2026Q2", seed=7, ratios={"A": 0.05, "B": 0.2})
    assert (params.round_id, params.seed, params.ratios) == ("2026Q2", 7, {"A": 0.05, "B": 0.2})
    again = params.with_overrides(control_share=0.0)
    assert again.control_share == 0.0 and again.seed == 7
    with pytest.raises(RoundParamsError, match="control_share"):
        params.with_overrides(control_share=0.5)
    with pytest.raises(RoundParamsError, match="unknown_field"):
        params.with_overrides(unknown_field=1)


def test_params_are_frozen() -> None:
    params = default_round_params()
    with pytest.raises(ValueError, match="frozen"):
        params.seed = 1  # type: ignore[misc]  # the frozen model must refuse this write


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"round_id": "2026 Q1"}, "round_id"),
        ({"round_id": ""}, "round_id"),
        ({"tier_as_of": "not a date"}, "tier_as_of"),
        ({"window_end": date(2026, 3, 1)}, "window_end"),
        ({"ratios": {"A": 0.06, "B": 0.1}}, "ratios.A"),
        ({"ratios": {"B": 0.0}}, "ratios.B"),
        ({"ratios": {"C": 1.5}}, "ratios.C"),
        ({"ratios": {}}, "ratios"),
        ({"overall_floor": 1.2}, "overall_floor"),
        ({"strata": ["firm_type"]}, "strata"),
        ({"strata": ["tier", "district"]}, "strata.1"),
        ({"strata": ["tier", "tier"]}, "strata"),
        ({"eligibility": {"active_statuses": []}}, "eligibility.active_statuses"),
        ({"eligibility": {"exclude_inspected_within_days": 0}}, "eligibility.exclude_inspected"),
        ({"eligibility": {"typo": 1}}, "eligibility.typo"),
        ({"inspectors_per_firm": 1}, "inspectors_per_firm"),
        ({"max_firms_per_inspector": 0}, "max_firms_per_inspector"),
        ({"control_share": -0.1}, "control_share"),
        ({"control_share": 0.5}, "control_share"),
        ({"seed": -1}, "seed"),
        ({"seed": "42"}, "seed"),
        ({"seed": 2**63}, "seed"),
        ({"daily_cap_per_team": 0}, "daily_cap_per_team"),
        ({"extra_field": 1}, "extra_field"),
    ],
)
def test_a_bad_field_is_named(change: dict[str, Any], field: str) -> None:
    data = _default_data() | change
    with pytest.raises(RoundParamsError, match=f"invalid round parameters: {field}"):
        parse_round_params(_dump(data))


def test_a_missing_required_field_is_named() -> None:
    data = _default_data()
    del data["seed"]
    with pytest.raises(RoundParamsError, match="seed: Field required"):
        parse_round_params(_dump(data))


@pytest.mark.parametrize(("text", "problem"), [("a: [", "not valid YAML"), ("- 1", "mapping")])
def test_text_that_is_not_a_mapping_fails_clearly(text: str, problem: str) -> None:
    with pytest.raises(RoundParamsError, match=problem):
        parse_round_params(text)


def test_offices_and_scopes_read_any_spelling_of_a_district() -> None:
    params = default_round_params(
        seed=1, office="310118", scope={"districts": ["浦东", "浦东新区"], "firm_types": ["设计"]}
    )
    assert params.office == "青浦区" and params.office_code == "310118"
    assert params.scope.districts == ("浦东新区",) and params.scope.firm_types == ("design",)
    assert default_round_params(seed=1, office="青浦").scope_districts == ("青浦区",)
    assert default_round_params(seed=1).scope_districts == ()  # the city: every district
    with pytest.raises(RoundParamsError, match="office: '朝阳区' is not a known district"):
        default_round_params(seed=1, office="朝阳区")
    with pytest.raises(RoundParamsError, match=r"scope\.districts"):
        default_round_params(seed=1, scope={"districts": ["火星区"]})


def test_a_window_before_publication_needs_backdate() -> None:
    with pytest.raises(RoundParamsError, match=r"window_start: .* before the publication date"):
        default_round_params(seed=1, published_on=date(2026, 5, 1))  # template: April–June
    assert default_round_params(seed=1, published_on=date(2026, 5, 1), backdate=True).backdate
    resolved = resolve_round_params(
        date(2026, 12, 6), round_id="2027Q1", overrides_text="{published_on: 2020-01-01}"
    )
    assert resolved.published_on == date(2026, 12, 6)  # publication is always the processing day
