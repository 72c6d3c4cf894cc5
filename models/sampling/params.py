"""The parameters of a double-random round as typed, validated data (docs/sampling.md).

What belongs here: the frozen pydantic `RoundParams` mirroring `default_round.yaml` field for
field, parsing and validating it (every error names its field path), loading the packaged
default and re-validated overrides — the CLI and Dagster run config change a round's id, dates
and seed this way. Every number of a round lives in the YAML or its overrides, none in code.

What does not: applying the parameters — eligibility filters (the caller's), drawing firms
(`draw`), assigning inspectors (`assign`) — or reading any file other than the packaged default.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from models.contracts import default_contracts, header_key
from models.divisions import CITY_LEVEL, UnknownDistrictError, district_code, require_district
from models.identifiers import RoundId
from models.periods import month_end
from models.sampling.calendar import SuppliedCalendar
from models.yaml_data import load_yaml_mapping, packaged_text, validate_model

RATIO_CAPS: dict[str, float] = {"A": 0.05}
"""[S] Trustworthy (A) firms are inspected at most 5% per round (docs/sampling.md) — the reward of a
good record is being left alone."""

StratumKey = Literal["tier", "firm_type"]
Ratio = Annotated[float, Field(gt=0, le=1)]


class RoundParamsError(ValueError):
    """Round parameters are malformed; the message names the field path and the problem."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Eligibility(_Frozen):
    """Which firms enter the pool; the caller applies it before `draw_firms`."""

    active_statuses: tuple[str, ...] = Field(default=("正常",), min_length=1)
    exclude_inspected_within_days: int | None = Field(default=None, ge=1)
    """None inspects regardless of history; N spares firms inspected in the last N days."""


class Frequency(_Frozen):
    """How often one firm may be inspected, across every round (the 2024 State Council
    guidance on enterprise-related administrative inspections asks each department to set
    such limits). The caller applies it before `draw_firms`, counting reported inspections
    and the planned inspections of published rounds."""

    min_interval_days: int | None = Field(default=180, ge=1)
    """A firm inspected (or planned in a published round) in the N days before the window
    opens, or inside the window, is not drawn; None: no minimum."""
    max_per_year: int | None = Field(default=2, ge=1)
    """A firm with K inspections in the 365 days before the window opens or planned in it is
    not drawn; None: no cap."""
    exempt_tiers: tuple[str, ...] = ("D",)
    """Classes the limits never spare (seriously untrustworthy firms are inspected anyway)."""
    exempt_open_findings: bool = True
    """Firms with an open finding (their last inspection found a problem, or a correction
    order is not yet complied with) are inspected whatever the limits."""


class Scope(_Frozen):
    """Which firms a round covers: districts and firm types (empty: all; a district office's
    round defaults to its own district)."""

    districts: tuple[str, ...] = ()
    """Districts by full name, short name or GB/T 2260 code; stored as canonical names."""
    firm_types: tuple[str, ...] = ()
    """Firm types by code or Chinese name; stored as codes."""

    @field_validator("districts", mode="before")
    @classmethod
    def _districts(cls, value: object) -> object:
        if isinstance(value, str | int):
            value = [value]
        if not isinstance(value, list | tuple):
            return value
        try:
            names = [require_district(str(v), "scope.districts") for v in value]
        except UnknownDistrictError as exc:
            raise ValueError(str(exc).removeprefix("scope.districts: ")) from exc
        return tuple(sorted(set(names), key=names.index))

    @field_validator("firm_types", mode="before")
    @classmethod
    def _firm_types(cls, value: object) -> object:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            return value
        lookup = default_contracts().enum_lookup("firm_type")
        codes = []
        for v in value:
            code = lookup.get(header_key(str(v)))
            if code is None:
                raise ValueError(
                    f"{v!r} is not a firm type ({', '.join(sorted(set(lookup.values())))})"
                )
            codes.append(code)
        return tuple(sorted(set(codes), key=codes.index))


class RoundParams(_Frozen):
    """One complete round (`models/sampling/default_round.yaml` is the reference).

    The fields up to `order_by_risk` are those of algorithm `draw-1` (same order: a `draw-1`
    plan records exactly them); the fields after came with `draw-2` and default to what a
    round without them means.
    """

    round_id: RoundId
    """`2026Q1`, `2026-03` or another safe name (`models.identifiers`): it names the round's
    folder and files and seeds the draw."""
    tier_as_of: date
    window_start: date
    window_end: date
    ratios: dict[str, Ratio] = Field(min_length=1)
    overall_floor: float = Field(default=0.05, ge=0, le=1)
    strata: tuple[StratumKey, ...] = Field(default=("tier", "firm_type"), min_length=1)
    eligibility: Eligibility = Eligibility()
    inspectors_per_firm: int = Field(default=2, ge=2)
    max_firms_per_inspector: int = Field(default=8, ge=1)
    rotation: bool = True
    control_share: float = Field(default=0.05, ge=0, lt=0.5)
    # Strict: a published seed is exactly the integer written, never a coerced "42" or `true`;
    # below 2**63 so it fits the warehouse's BIGINT.
    seed: int = Field(ge=0, lt=2**63, strict=True)
    daily_cap_per_team: int = Field(default=3, ge=1)
    order_by_risk: bool = False
    """Within each stratum and team, give the earliest dates to the firms the risk model
    rates riskiest; the draw and the teams are unchanged either way."""
    # --- draw-2 ---------------------------------------------------------------------------
    min_per_stratum: int = Field(default=0, ge=0)
    """At least this many firms from every non-empty stratum (0: none — every firm is then
    drawn exactly at its tier's ratio; ≥ 1 raises small strata above it, as the plan shows)."""
    frequency: Frequency = Frequency()
    notice_working_days: int = Field(default=5, ge=0)
    """The first inspection falls at least this many working days after publication."""
    published_on: date | None = None
    """The day the round is published (or drafted): the notice period counts from it."""
    backdate: bool = False
    """The window may start before `published_on` (a round recorded after the fact; the
    reason is in the audit log); the notice period then does not apply."""
    office: str = CITY_LEVEL
    """The organising office: `市级` (the city's) or a district (name, short name or code)."""
    office_name: str | None = Field(default=None, max_length=100)
    """How the plan names the office, e.g. 青浦区国防动员办公室 (default: the district)."""
    scope: Scope = Scope()
    allow_city_inspectors: bool = False
    """A district office's round may also draw the city's own inspectors (`市级`)."""
    partner_departments: tuple[str, ...] = ()
    """A joint round (联合抽查): every team includes an inspector of each of these
    departments (the roster's `department`) besides the organiser's own."""
    calendar: SuppliedCalendar | None = None
    """The official calendar of years the `holidays` package does not know yet; it takes
    precedence and the plan records it."""

    @field_validator("office", mode="before")
    @classmethod
    def _office(cls, value: object) -> object:
        if value is None:
            return CITY_LEVEL
        try:
            return require_district(str(value), "office")
        except UnknownDistrictError as exc:
            raise ValueError(str(exc).removeprefix("office: ")) from exc

    @field_validator("partner_departments", mode="before")
    @classmethod
    def _departments(cls, value: object) -> object:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            names = [str(v).strip() for v in value if str(v).strip()]
            return tuple(sorted(set(names), key=names.index))
        return value

    @property
    def office_label(self) -> str:
        """`青浦区国防动员办公室` or the district/city word (plans, files, pages)."""
        if self.office_name:
            return self.office_name
        return "市级（全市）" if self.office == CITY_LEVEL else self.office

    @property
    def office_code(self) -> str | None:
        """The office's GB/T 2260 code (None for the city level)."""
        return district_code(self.office)

    @property
    def scope_districts(self) -> tuple[str, ...]:
        """The districts drawn from: the scope's, else a district office's own, else all ()."""
        if self.scope.districts:
            return self.scope.districts
        return () if self.office == CITY_LEVEL else (self.office,)

    @model_validator(mode="after")
    def _consistent(self) -> RoundParams:
        # Messages start with their field path: a whole-model validator has no location of its
        # own, and the user needs to know which line of the YAML to fix.
        if self.window_end < self.window_start:
            raise ValueError(
                f"window_end: {self.window_end} is before window_start ({self.window_start})"
            )
        values = list(self.ratios.values())
        for i in range(1, len(values)):
            if values[i] < values[i - 1]:
                names = list(self.ratios)
                raise ValueError(
                    f"ratios.{names[i]}: {values[i]} is below ratios.{names[i - 1]} "
                    f"({values[i - 1]}); ratios go from the best tier to the worst and never "
                    "decrease (国办发〔2019〕35号: good credit, lower ratio)"
                )
        if (
            self.published_on is not None
            and self.window_start < self.published_on
            and not self.backdate
        ):
            raise ValueError(
                f"window_start: {self.window_start} is before the publication date "
                f"{self.published_on}; a back-dated round needs backdate (--backdate --reason)"
            )
        for tier, cap in RATIO_CAPS.items():
            if tier in self.ratios and self.ratios[tier] > cap:
                raise ValueError(
                    f"ratios.{tier}: {self.ratios[tier]} is above the {cap} cap for tier {tier}"
                )
        if "tier" not in self.strata:
            raise ValueError("strata: must include 'tier' (the ratios are per tier)")
        if len(set(self.strata)) != len(self.strata):
            raise ValueError(f"strata: duplicate key in {list(self.strata)}")
        return self

    def with_overrides(self, **overrides: Any) -> RoundParams:
        """A copy with some fields replaced, validated again as a whole (unlike `model_copy`)."""
        data = {**self.model_dump(), **overrides}
        return validate_model(RoundParams, data, RoundParamsError, "round parameters")


PARAMS_SUFFIXES = (".yaml", ".yml")


class RoundRequest(_Frozen):
    """What a caller asks of the round job — `renfang draw`'s options and the Dagster run
    config (`ops.sampling_round.config`) are validated by this one model before anything
    runs, so both refuse the same values with the same message."""

    round_id: RoundId | None = None
    seed: int | None = Field(default=None, ge=0, lt=2**63, strict=True)
    params_file: str | None = None
    overrides: str | None = None
    publish: bool = False
    replace: bool = False
    backdate_reason: str | None = Field(default=None, max_length=500)
    calendar_file: str | None = None
    items_file: str | None = None
    draft_max_age_days: int = Field(default=7, ge=0, le=366, strict=True)
    """How long the main job keeps its default draft (`models.sampling.replacement.
    draft_is_current`); 0 draws it anew on every run."""

    @field_validator("params_file", "calendar_file", "items_file")
    @classmethod
    def _yaml_file(cls, value: str | None) -> str | None:
        # Read, never written: still only a YAML file, so the run config cannot make the
        # round job read (and echo in its error) any other file of the server.
        if value is not None and not value.lower().endswith(PARAMS_SUFFIXES):
            raise ValueError(
                f"参数文件须为 .yaml/.yml 文件：{value!r}\n"
                f"the parameter file must be a .yaml/.yml file: {value!r}"
            )
        return value


def parse_round_params(text: str) -> RoundParams:
    """Parse and validate round-parameter YAML; every error names its field path."""
    data = load_yaml_mapping(
        text, RoundParamsError, "round parameters", "round_id, tier_as_of, ratios, seed, …"
    )
    return validate_model(RoundParams, data, RoundParamsError, "round parameters")


@cache
def _packaged_default() -> RoundParams:
    return parse_round_params(packaged_text("sampling", "default_round.yaml"))


def default_round_params(**overrides: Any) -> RoundParams:
    """The packaged template (`default_round.yaml`) with `overrides` applied and re-validated."""
    base = _packaged_default()
    return base.with_overrides(**overrides) if overrides else base


def round_window(round_id: str) -> tuple[date, date] | None:
    """The inspection window a round id names: `2027Q1` a quarter, `2027H2` a half year,
    `2027-03` a month, each optionally followed by `-` and an office's tag (`2027Q1-青浦`:
    the same quarter, an office's own round); None for any other id (its dates must then be
    given)."""
    if match := re.fullmatch(r"(\d{4})Q([1-4])(?:-.+)?", round_id):
        year, quarter = int(match[1]), int(match[2])
        return date(year, 3 * quarter - 2, 1), _month_end(year, 3 * quarter)
    if match := re.fullmatch(r"(\d{4})H([12])(?:-.+)?", round_id):
        year, half = int(match[1]), int(match[2])
        return date(year, 6 * half - 5, 1), _month_end(year, 6 * half)
    if match := re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])(?:-.+)?", round_id):
        year, month = int(match[1]), int(match[2])
        return date(year, month, 1), _month_end(year, month)
    return None


def next_quarter_round(day: date) -> str:
    """The round id of the quarter after the one holding `day` (what `make run` drafts)."""
    quarter = (day.month - 1) // 3 + 1
    return f"{day.year + 1}Q1" if quarter == 4 else f"{day.year}Q{quarter + 1}"


def params_for_round(
    base: RoundParams, round_id: str, seed: int, processing_date: date, *, dated: bool
) -> RoundParams:
    """`base` (the template or a round's YAML) as round `round_id` with `seed`.

    When `dated` is False (the template: its dates belong to its own example round), the
    window is the one the round id names and the tiers are read as of the day before it
    opens — or as of the processing date when that day is still in the future, since future
    tiers are unknown. When `dated` is True, the base's own dates are kept.
    """
    if dated:
        return base.with_overrides(round_id=round_id, seed=seed)
    window = round_window(round_id)
    if window is None:
        raise RoundParamsError(
            f"round_id: {round_id!r} names no quarter (2027Q1), half year (2027H1) or month "
            "(2027-03); give a parameter file with tier_as_of, window_start and window_end"
        )
    start, end = window
    tier_as_of = min(start - timedelta(days=1), processing_date)
    return base.with_overrides(
        round_id=round_id, seed=seed, window_start=start, window_end=end, tier_as_of=tier_as_of
    )


def _month_end(year: int, month: int) -> date:
    return month_end(date(year, month, 1))


def default_seed(day: date) -> int:
    """A draft's seed when none is given: the processing date as YYYYMMDD (a published
    round always names its own seed)."""
    return int(day.strftime("%Y%m%d"))


def resolve_round_params(
    today: date,
    *,
    round_id: str | None = None,
    seed: int | None = None,
    params_text: str | None = None,
    overrides_text: str | None = None,
    options: dict[str, Any] | None = None,
) -> RoundParams:
    """A round's parameters from what its caller chose; raises `RoundParamsError` naming the
    field.

    Precedence: the parameter file's text (else the packaged template, dated by the round
    id), then `round_id` and `seed`, then `options` (fields the command line sets, e.g.
    `office`, `calendar`, `backdate`), then `overrides` (a YAML mapping of fields applied
    last; a field given replaces the whole field); `published_on` is `today`. The result is
    validated as a whole. Without a round id the next quarter after `today` is drafted, with
    `default_seed(today)`.
    """
    if params_text is not None:
        base = parse_round_params(params_text)
        params = params_for_round(
            base,
            round_id or base.round_id,
            base.seed if seed is None else seed,
            today,
            dated=True,
        )
    else:
        params = params_for_round(
            default_round_params(),
            round_id or next_quarter_round(today),
            default_seed(today) if seed is None else seed,
            today,
            dated=False,
        )
    overrides = dict(options or {})
    if overrides_text:
        overrides |= load_yaml_mapping(
            overrides_text, RoundParamsError, "overrides", "e.g. {control_share: 0.1}"
        )
    return params.with_overrides(**{**overrides, "published_on": today})
