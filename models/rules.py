"""The credit rule set as typed, validated data (docs/rules.md, docs/credit-engine.md).
("docs §N" below: section N of docs/credit-engine.md, the engine's specification.)

What belongs here: the frozen pydantic models mirroring `rulesets/*.yaml` field for field,
parsing and validating a rule set (every error names its field path), loading the packaged
default, and the few small lookups every consumer needs to read the rules the same way —
the tier of a score, the rank of a tier, the minimum repair period of a record, the length
of the refusal-extended window. A jurisdiction changes its rules by editing the YAML; no
number of the rules lives in code.

`load_rule_set` reads a rule-set file named by its caller (the one file read here, so the CLI,
the Dagster resource and the backtest load rules the same way).

What does not: applying the rules to documents (`credit_records`), statuses
(`record_status`), scoring (`scoring`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.yaml_data import load_yaml_mapping, packaged_text, validate_model

SEVERITY_LEVELS: tuple[str, ...] = ("L1", "L2", "L3", "L4")
"""The severity names the document mapping assigns (docs §2); a rule set sets their numbers."""
BONUS_LEVELS: tuple[str, ...] = ("国家", "省", "市", "区", "协会", "clean_inspection")
"""Good-record kinds a rule set must price: award levels of circulars and commendations, and
a clean random inspection."""

Months = Annotated[int, Field(gt=0)]
Points = Annotated[float, Field(gt=0)]
Names = tuple[str, ...]


class RuleSetError(ValueError):
    """A rule set is malformed; the message names the field path and the problem."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Score(_Frozen):
    """score = clamp(base + min(Σ bonus, bonus_cap) − Σ deduction, min, max)."""

    base: float
    bonus_cap: float = Field(ge=0)
    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> Score:
        if not self.min < self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        if not self.min <= self.base <= self.max:
            raise ValueError(f"base ({self.base}) must lie in [min, max]")
        return self


class Tier(_Frozen):
    tier: str = Field(min_length=1)
    min_score: float
    label_zh: str
    label_en: str


class Severity(_Frozen):
    label_zh: str
    points: Points
    months: Months


class Bonus(_Frozen):
    points: Points
    months: Months


class FineLimit(_Frozen):
    """The largest fine the law allows for some violation categories (`categories` empty:
    every category no other limit names), with the article it comes from."""

    categories: Names = ()
    max: float = Field(gt=0)
    basis: str = Field(min_length=1)


class Penalties(_Frozen):
    """Penalty decision → severity, first match wins: L4, L3, L2, else L1 (docs §2).

    `no_penalty_types` are decisions not to penalise (不予处罚, 轻微违法免罚: 处罚法 art. 33):
    a decision holding only these is a kind of its own, scored at `no_penalty_severity`
    (None: no record at all) and never published. `fine_limits` are the statutory maxima a
    fine is checked against at ingestion (a fine above its limit is quarantined).
    Both default to the behaviour of rule sets written before they existed."""

    ignored_statuses: Names
    l4_penalty_types: Names
    l4_fine_above: float = Field(ge=0)
    l3_fine_from: float = Field(gt=0)
    l2_penalty_types: Names
    no_penalty_types: Names = ()
    no_penalty_severity: str | None = None
    fine_limits: tuple[FineLimit, ...] = ()

    def fine_limit(self, category: str | None) -> FineLimit | None:
        """The limit that applies to a category (its own, else the catch-all), if any."""
        for limit in self.fine_limits:
            if category is not None and category in limit.categories:
                return limit
        return next((limit for limit in self.fine_limits if not limit.categories), None)


class Corrections(_Frozen):
    on_time_severity: str
    failed_severity: str
    failed_review_results: Names
    never_rectified_review_results: Names = ("逾期未改",)
    """Review results that mean the order was ignored, like a missing rectification date:
    they get the refusal extension and count toward the overdue-corrections veto."""
    refusal_extension: float = Field(ge=0)


class Circulars(_Frozen):
    criticism_kind: str
    criticism_severity: str
    commendation_kind: str


class Inspections(_Frozen):
    clean_result: str
    refused_result: str
    not_found_result: str
    not_found_severity: str


class Repeat(_Frozen):
    multiplier: float = Field(ge=1)
    window_months: Months


class Veto(_Frozen):
    months: Months
    categories: Names
    overdue_corrections: int = Field(ge=1)
    overdue_window_months: Months


class Repair(_Frozen):
    min_months: Months
    severe_min_months: Months
    severe_severities: Names
    severe_categories: Names


OBJECTION_BLOCKS: tuple[str, ...] = ("veto", "listing", "publication")
"""What an open objection can keep from resting on the disputed record (docs §4)."""


class Objection(_Frozen):
    """An objection (异议) is decided within `decision_days` of filing (calendar days, or
    working days with `working_days`). While it is open the disputed record keeps its
    points; `blocks` names what may not rest on it meanwhile: a veto, a 严重失信 listing,
    the publication of the decision in the penalty feed (default for older rule sets:
    nothing, as they were applied)."""

    decision_days: Months
    working_days: bool = False
    blocks: Names = ()

    @model_validator(mode="after")
    def _known_blocks(self) -> Objection:
        for i, name in enumerate(self.blocks):
            if name not in OBJECTION_BLOCKS:
                raise ValueError(f"blocks.{i}: {name!r} is not one of {OBJECTION_BLOCKS}")
        return self


class SameFactMatch(_Frozen):
    """When a document of another source records the violation of a penalty decision
    without citing its number: same firm, dated on or after the decision and at most
    `within_days` later, the decision holding one of `penalty_types` (empty: any), and —
    with `same_category` — the same violation category."""

    within_days: int = Field(ge=0)
    penalty_types: Names = ()
    same_category: bool = False


class SameFact(_Frozen):
    """One fact, one deduction (docs §2): a criticism circular or a correction order that
    records the violation a penalty decision already carries adds no deduction of its own
    while that decision stands. `by_citation`: the document names the decision's number
    (`penalty_doc_no`); the matches apply to documents that cite nothing (null: none)."""

    by_citation: bool = True
    circulars: SameFactMatch | None = None
    correction_notices: SameFactMatch | None = None


class Disclosure(_Frozen):
    """行政处罚信息公示: a penalty decision is published within `publish_within_working_days`
    of its date (双公示), for `period_months` by severity unless the decision states its own
    publication end (公示截止期), and withdrawn within `withdraw_within_working_days` of a
    revocation (处罚法 art. 48)."""

    publish_within_working_days: int = Field(default=7, gt=0)
    withdraw_within_working_days: int = Field(default=3, gt=0)
    period_months: dict[str, Months] = Field(
        default_factory=lambda: {"L1": 3, "L2": 6, "L3": 12, "L4": 36}
    )


class Listing(_Frozen):
    """The 严重失信主体名单 procedure (国办发〔2020〕49号): a notice (告知书) gives the firm
    `statement_working_days` to state its case (陈述申辩); a decision (决定书) lists it for
    `months`; repair can remove it after `repair_min_months`."""

    name_zh: str = "严重失信主体名单"
    name_en: str = "list of seriously dishonest entities"
    statement_working_days: int = Field(default=5, gt=0)
    months: Months = 36
    repair_min_months: Months = 12
    notice_prefix: str = Field(default="人防信用告", min_length=1)
    decision_prefix: str = Field(default="人防信用决", min_length=1)


PUBLIC_LISTS: tuple[str, ...] = ("serious_dishonesty", "penalties")
"""Lists an audience can receive: the decided 严重失信 listings and the penalty feed."""
EXTRA_FIELDS: tuple[str, ...] = ("score", "veto", "qualification")
"""Fields beyond a firm's identity and tier that an audience may be given."""


class Audience(_Frozen):
    """What one audience receives: the tiers listed (a firm of another tier is not named
    in the tier list), the extra fields, and the lists."""

    tiers: Names
    fields: Names = ()
    lists: Names = PUBLIC_LISTS

    @model_validator(mode="after")
    def _known(self) -> Audience:
        for i, name in enumerate(self.fields):
            if name not in EXTRA_FIELDS:
                raise ValueError(f"fields.{i}: {name!r} is not one of {EXTRA_FIELDS}")
        for i, name in enumerate(self.lists):
            if name not in PUBLIC_LISTS:
                raise ValueError(f"lists.{i}: {name!r} is not one of {PUBLIC_LISTS}")
        return self


def _default_audiences() -> dict[str, Audience]:
    return {
        "association": Audience(tiers=("A", "B", "C", "D"), fields=("score", "veto")),
        "public": Audience(tiers=("A",)),
    }


class Publication(_Frozen):
    """Who receives what (docs/rules.md#publication): per audience (`association`,
    `public`), and the names the law reserves for a decided list — a tier label holding
    one is never published (a score is not a listing)."""

    reserved_terms: Names = ("严重失信", "失信联合惩戒", "黑名单")
    audiences: dict[str, Audience] = Field(default_factory=_default_audiences)

    @model_validator(mode="after")
    def _both(self) -> Publication:
        for name in ("association", "public"):
            if name not in self.audiences:
                raise ValueError(f"audiences.{name}: missing")
        return self


class RuleSet(_Frozen):
    """One complete, consistent rule set (`models/rulesets/default.yaml` is the reference).

    Its identity is its `version` plus `content_sha256`, the hash of its canonical JSON (the
    validated content, so comments and layout of the YAML file do not change it).
    """

    version: str = Field(min_length=1)
    effective_from: date
    title_zh: str
    score: Score
    tiers: tuple[Tier, ...] = Field(min_length=1)
    veto_tier: str
    severities: dict[str, Severity]
    bonuses: dict[str, Bonus]
    penalties: Penalties
    corrections: Corrections
    circulars: Circulars
    inspections: Inspections
    repeat: Repeat
    veto: Veto
    repair: Repair
    objection: Objection
    same_fact: SameFact | None = None
    disclosure: Disclosure = Field(default_factory=Disclosure)
    listing: Listing = Field(default_factory=Listing)
    publication: Publication = Field(default_factory=Publication)

    @model_validator(mode="after")
    def _consistent(self) -> RuleSet:
        # Raised messages start with their field path: the pydantic location of a whole-model
        # validator is empty, and the user needs to know which line of the YAML to fix.
        names = [t.tier for t in self.tiers]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValueError(f"tiers.{i}.tier: duplicate tier {name!r}")
        for i in range(1, len(self.tiers)):
            if self.tiers[i].min_score >= self.tiers[i - 1].min_score:
                raise ValueError(
                    f"tiers.{i}.min_score: {self.tiers[i].min_score} must be below "
                    f"tiers.{i - 1}.min_score ({self.tiers[i - 1].min_score}); tiers go best first"
                )
        last = len(self.tiers) - 1
        if self.tiers[last].min_score > self.score.min:
            raise ValueError(
                f"tiers.{last}.min_score: {self.tiers[last].min_score} is above score.min "
                f"({self.score.min}); the last tier must take every score"
            )
        if self.veto_tier not in names:
            raise ValueError(f"veto_tier: {self.veto_tier!r} is not one of the tiers {names}")
        for level in self.severities:
            if level not in SEVERITY_LEVELS:
                raise ValueError(
                    f"severities.{level}: unknown severity; the mapping uses {SEVERITY_LEVELS}"
                )
        for level in SEVERITY_LEVELS:
            if level not in self.severities:
                raise ValueError(f"severities.{level}: missing")
        references = {
            "corrections.on_time_severity": (self.corrections.on_time_severity,),
            "corrections.failed_severity": (self.corrections.failed_severity,),
            "circulars.criticism_severity": (self.circulars.criticism_severity,),
            "inspections.not_found_severity": (self.inspections.not_found_severity,),
            "repair.severe_severities": self.repair.severe_severities,
        }
        for level in BONUS_LEVELS:
            if level not in self.bonuses:
                raise ValueError(f"bonuses.{level}: missing")
        if self.penalties.no_penalty_severity is not None:
            references["penalties.no_penalty_severity"] = (self.penalties.no_penalty_severity,)
        for path, levels in references.items():
            for level in levels:
                if level not in self.severities:
                    raise ValueError(f"{path}: unknown severity {level!r}")
        for level in SEVERITY_LEVELS:
            if level not in self.disclosure.period_months:
                raise ValueError(f"disclosure.period_months.{level}: missing")
        for name, audience in self.publication.audiences.items():
            for i, tier in enumerate(audience.tiers):
                if tier not in names:
                    raise ValueError(
                        f"publication.audiences.{name}.tiers.{i}: {tier!r} is not one of the "
                        f"tiers {names}"
                    )
        catch_alls = [i for i, f in enumerate(self.penalties.fine_limits) if not f.categories]
        if len(catch_alls) > 1:
            raise ValueError(
                f"penalties.fine_limits.{catch_alls[1]}: only one limit may leave `categories` "
                "empty (the catch-all)"
            )
        if self.penalties.l3_fine_from > self.penalties.l4_fine_above:
            raise ValueError(
                f"penalties.l3_fine_from: {self.penalties.l3_fine_from} is above "
                f"penalties.l4_fine_above ({self.penalties.l4_fine_above})"
            )
        return self

    # --- lookups shared by the engine's modules -------------------------------------------

    @property
    def tier_names(self) -> tuple[str, ...]:
        """Tier letters, best first."""
        return tuple(t.tier for t in self.tiers)

    def tier_rank(self, tier: str) -> int:
        """0 for the best tier, 1 for the next …; a lower rank is a better tier."""
        return self.tier_names.index(tier)

    def tier_rank_expr(self, tier: pl.Expr) -> pl.Expr:
        """`tier_rank` on a column of tier letters (null stays null)."""
        ranks = {name: rank for rank, name in enumerate(self.tier_names)}
        return tier.replace_strict(ranks, default=None, return_dtype=pl.Int32)

    def tier_expr(self, score: pl.Expr) -> pl.Expr:
        """The tier of a score: the first tier (best first) whose min_score it reaches.

        The last tier also takes anything below its threshold (a score is clamped to
        `score.min` ≥ that threshold anyway), so the result is never null for a number.
        The veto override is the caller's: it needs to know whether a veto counts.
        """
        *better, last = self.tiers
        expr: pl.Expr = pl.when(score.is_not_null()).then(pl.lit(last.tier))
        for t in reversed(better):
            expr = pl.when(score >= t.min_score).then(pl.lit(t.tier)).otherwise(expr)
        return expr

    def repair_min_months(self, severity: pl.Expr, category: pl.Expr, veto: pl.Expr) -> pl.Expr:
        """Months a bad record must have counted before it can be repaired (NDRC Decree 58).

        The longer period applies to the severe severities (L4), the safety categories and
        every veto record; everything else gets the short one.
        """
        severe = (
            severity.is_in(list(self.repair.severe_severities)).fill_null(False)
            | category.is_in(list(self.repair.severe_categories)).fill_null(False)
            | veto.fill_null(False)
        )
        return (
            pl.when(severe)
            .then(pl.lit(self.repair.severe_min_months))
            .otherwise(pl.lit(self.repair.min_months))
            .cast(pl.Int32)
        )

    def canonical_json(self) -> str:
        """The validated content as JSON with sorted keys: the same rules, the same text."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)

    @property
    def content_sha256(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    @property
    def refusal_months(self) -> int:
        """The failed-correction window grown by the refusal extension, in whole months.

        Calendar arithmetic needs whole months, so a fractional result is rounded half up
        (24 × 1.5 = 36 exactly; 6 × 1.25 = 7.5 → 8).
        """
        months = self.severities[self.corrections.failed_severity].months
        return math.floor(months * (1 + self.corrections.refusal_extension) + 0.5)

    def blocks(self, what: str) -> bool:
        """Whether an open objection keeps `what` (veto, listing, publication) from resting
        on the disputed record."""
        return what in self.objection.blocks

    def public_label(self, tier: str, lang: str = "zh") -> str:
        """A tier's label as it may be published: its label from the rule set, unless that
        holds a name the law reserves for a decided list (e.g. 严重失信 in the labels of rule
        sets written before labels became risk classes) — then the neutral risk-class name.
        A score never makes a listing."""
        found = next((t for t in self.tiers if t.tier == tier), None)
        if found is None:
            return tier
        label = found.label_zh if lang == "zh" else found.label_en
        reserved = self.publication.reserved_terms
        if any(term in found.label_zh or term in found.label_en for term in reserved):
            rank = self.tier_rank(tier)
            last = len(self.tiers) - 1
            if lang == "zh":
                return "信用风险高" if rank == last else f"信用风险{rank + 1}级"
            return "high credit risk" if rank == last else f"credit risk class {rank + 1}"
        return label


def parse_rule_set(text: str) -> RuleSet:
    """Parse and validate rule-set YAML; every error names its field path."""
    data = load_yaml_mapping(text, RuleSetError, "rule set", "version, score, tiers, severities, …")
    return validate_model(RuleSet, data, RuleSetError, "rule set")


@cache
def default_rule_set() -> RuleSet:
    """The rule set shipped with the package (`models/rulesets/default.yaml`)."""
    return parse_rule_set(packaged_text("rulesets", "default.yaml"))


def load_rule_set(path: str | Path | None) -> RuleSet:
    """The rule set file at `path`, else the packaged default."""
    if not path:
        return default_rule_set()
    return parse_rule_set(Path(path).read_text(encoding="utf-8"))


class RuleSetIdentityError(RuleSetError):
    """A rule set claims a version that is already known with other content."""


def check_identity(rules: RuleSet, known: Mapping[str, str]) -> None:
    """Refuse a rule set whose version is registered (`known`: version → content hash) with
    other content: one version, one meaning, or no score can be explained later."""
    registered = known.get(rules.version)
    if registered is not None and registered != rules.content_sha256:
        raise RuleSetIdentityError(
            f"评价标准版本 {rules.version} 已以另一内容登记（{registered[:12]}…），本文件内容为 "
            f"{rules.content_sha256[:12]}…，请使用新的版本号 / rule set version {rules.version} is "
            f"registered with content {registered}; this file's content is "
            f"{rules.content_sha256}: give the changed rules a new version"
        )


@dataclass(frozen=True)
class OfficialRules:
    """The official rule sets, each in force from its `effective_from` until the next one:
    every as-of date is scored by the rule set in force on it, so adopting a new rule set
    changes scores from its date on and none before."""

    adopted: tuple[tuple[date, RuleSet], ...]  # (in force from, rule set), by date

    def __post_init__(self) -> None:
        days = [d for d, _ in self.adopted]
        if days != sorted(days) or len(set(days)) != len(days):
            raise ValueError("official rule sets must have distinct, ordered start dates")

    @property
    def earliest(self) -> date | None:
        return self.adopted[0][0] if self.adopted else None

    def for_date(self, day: date) -> RuleSet | None:
        """The rule set in force on `day` (None before the first one)."""
        found = None
        for start, rules in self.adopted:
            if start <= day:
                found = rules
        return found

    def partition(self, dates: Sequence[date]) -> list[tuple[RuleSet, list[date]]]:
        """The dates grouped by the rule set in force on each (dates before the first
        official rule set are left out: nothing official scores them)."""
        groups: dict[str, tuple[RuleSet, list[date]]] = {}
        for day in sorted(dates):
            rules = self.for_date(day)
            if rules is not None:
                groups.setdefault(rules.version, (rules, []))[1].append(day)
        return list(groups.values())

    @property
    def latest(self) -> RuleSet | None:
        return self.adopted[-1][1] if self.adopted else None
