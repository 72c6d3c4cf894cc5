"""Sampling layer: a double-random round (draw, assignment, schedule, publication) and its
feedback.

What belongs here: wiring `models.sampling` into two multi-assets — `sampling_round` writes
the round tables (`warehouse.catalogue.SAMPLING_TABLES`) and the round's files;
`round_feedback` joins reported outcomes back (`round_outcomes`, `round_results`) and
rewrites each round's public list — plus the blocking check that the published plan file
re-runs to itself. The round is chosen by run config (`RoundConfig`); without any, the main
job drafts the next quarter's round. What does not: any rule of the draw (models).
"""

import hashlib
import json
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import date
from pathlib import Path

import dagster as dg
from pydantic import model_validator

from models.rules import RuleSet
from models.sampling.calendar import CalendarError, parse_calendar
from models.sampling.draw import DrawError
from models.sampling.items import InspectionItems, ItemsError, default_items, parse_items
from models.sampling.params import (
    RoundParams,
    RoundParamsError,
    RoundRequest,
    resolve_round_params,
)
from models.sampling.plan_file import Verification, plan_bytes, verify_plan
from models.sampling.replacement import RoundConflictError, check_replaceable, draft_is_current
from models.sampling.round import draw_round
from pipelines.assets.ingestion import WRITER_POOL, full_rebuild
from pipelines.plan_check import PlanCheck
from pipelines.resources import Landing, Rules, Warehouse
from warehouse.catalogue import SAMPLING_TABLES
from warehouse.connection import utc_now
from warehouse.paths import PathOutsideRootError, remove_tree
from warehouse.round_exports import (
    discard_staged,
    plan_notes,
    plan_path,
    plan_rows,
    stage_round_files,
    swap_staged,
)
from warehouse.round_feedback import update_feedback, write_public_lists
from warehouse.sampling import (
    MissingRiskScoresError,
    gather_round,
    published_since,
    store_round,
    stored_round,
)

SAMPLING_VERSION = "sampling-1"
ROUND_SOURCES = [
    "firms",
    "inspectors",
    "inspector_conflicts",
    "inspection_outcomes",
    "correction_notices",
    "public_credit_grades",
    "rectification_results",
]


class RoundConfig(dg.Config):
    """Which round to draw. Every field is optional: the main job drafts the next quarter."""

    round_id: str | None = None
    """e.g. `2027Q1`; default: the quarter after the processing date."""
    seed: int | None = None
    """The published seed; default: the processing date as YYYYMMDD (drafts only)."""
    params_file: str | None = None
    """Round parameters YAML; default: the packaged template with the round id's dates."""
    overrides: str | None = None
    """YAML mapping of fields applied last, e.g. `{control_share: 0.1, rotation: false}`; a
    field given replaces the whole field (`ratios` needs every tier)."""
    publish: bool = False
    """Published rounds are announced: redrawing one to a different plan needs `replace`."""
    replace: bool = False
    backdate_reason: str | None = None
    """Why a round whose window starts before its publication is published (needs
    `overrides: {backdate: true}`; recorded with the round and in the audit log)."""
    calendar_file: str | None = None
    """The official calendar of years the holidays package lacks (YAML; recorded in the plan)."""
    items_file: str | None = None
    """The 抽查事项清单 for the record workbooks (YAML; default: the packaged list)."""
    draft_max_age_days: int = 7
    """Without a round id: days the stored draft of the next round is kept (0: drawn anew on
    every run; see `models.sampling.replacement.draft_is_current`)."""

    @model_validator(mode="after")
    def _as_the_cli(self) -> "RoundConfig":
        """The run config is checked by the model that checks `renfang draw`'s options
        (`RoundRequest`: a safe round id, a YAML parameter file, a seed in range): a run
        launched from the UI with `../x` fails at its first step, before any write."""
        RoundRequest.model_validate(self.model_dump())
        return self


def round_params_from_config(config: RoundConfig, landing: Landing) -> RoundParams:
    """The round's parameters from run config (the rule of precedence and the defaults:
    `models.sampling.params.resolve_round_params`); raises `RoundParamsError`,
    `CalendarError` or `OSError`."""
    text = Path(config.params_file).read_text(encoding="utf-8") if config.params_file else None
    options: dict = {}
    if config.calendar_file:
        calendar = parse_calendar(Path(config.calendar_file).read_text(encoding="utf-8"))
        options["calendar"] = calendar.model_dump(mode="json")
    return resolve_round_params(
        landing.processing_date,
        round_id=config.round_id,
        seed=config.seed,
        params_text=text,
        overrides_text=config.overrides,
        options=options,
    )


def round_items(config: RoundConfig) -> InspectionItems:
    if config.items_file:
        return parse_items(Path(config.items_file).read_text(encoding="utf-8"))
    return default_items()


@dg.multi_asset(
    name="sampling_round",
    group_name="sampling",
    pool=WRITER_POOL,
    specs=[
        dg.AssetSpec(
            name,
            kinds={"duckdb", "polars"},
            deps=[*ROUND_SOURCES, "credit_scores", "risk_scores"]
            if name == "sampling_rounds"
            else [],
            code_version=SAMPLING_VERSION,
            description=f"Double-random round table `{name}` (see the README).",
        )
        for name in SAMPLING_TABLES
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "plan_reproduces",
            asset="sampling_draws",
            blocking=True,
            description="The published plan file, re-run from its own inputs as a third "
            "party would (`renfang verify-draw`), gives IDENTICAL results.",
        )
    ],
)
def sampling_round(
    context: dg.AssetExecutionContext,
    config: RoundConfig,
    warehouse: Warehouse,
    landing: Landing,
    rules: Rules,
):
    """Draw a round: eligible pool with tiers as of `tier_as_of`, tier-stratified draw plus a
    control share, inspectors by max-flow with recusal and rotation, working-day schedule;
    store it and write plan.json, the published inputs, the centre's XLSX/CSV and every
    inspector's calendar under `<reports>/rounds/<round_id>/`. Without a round id, the
    main job's draft of the next round is kept while it is current
    (`models.sampling.replacement.draft_is_current`)."""
    yield from _draw_round(context, config, warehouse, landing, rules)


def _draw_round(
    context: dg.AssetExecutionContext,
    config: RoundConfig,
    warehouse: Warehouse,
    landing: Landing,
    rules: Rules,
):
    try:
        params = round_params_from_config(config, landing)
        items = round_items(config)
    except (RoundParamsError, CalendarError, ItemsError, OSError) as exc:
        raise dg.Failure(f"round parameters: {exc}") from exc
    if params.backdate and config.publish and not (config.backdate_reason or "").strip():
        raise dg.Failure(
            "backdate: 补录往期批次须说明理由 / a back-dated round needs a reason "
            "(backdate_reason, `--reason`)"
        )
    if params.tier_as_of > landing.processing_date:
        raise dg.Failure(
            f"tier_as_of {params.tier_as_of} is after the processing date "
            f"{landing.processing_date}: tiers of a future date are unknown"
        )
    rule_set = rules.load()
    with warehouse.connect() as con:
        existing = stored_round(con, params.round_id)
        if config.round_id is None and existing and existing["status"] == "published":
            # The default draft of the next round never touches a round already announced.
            context.log.info(f"round {params.round_id} is already published; nothing drafted")
            yield from _unchanged(existing, warehouse)
            return
        if config.round_id is None and existing:
            since = published_since(con, existing["created_at"])
            kept = _kept_draft(config, existing, params, warehouse, published=since)
            if kept is not None:
                context.log.info(f"round {params.round_id}: the current draft is kept")
                yield from kept
                return
    check = PlanCheck()  # the verifier loads its modules while the round is gathered
    try:
        yield from _draw_new(context, config, warehouse, params, items, rule_set, existing, check)
    finally:
        check.cancel()


def _draw_new(
    context: dg.AssetExecutionContext,
    config: RoundConfig,
    warehouse: Warehouse,
    params: RoundParams,
    items: InspectionItems,
    rule_set: RuleSet,
    existing: dict | None,
    check: PlanCheck,
):
    with warehouse.connect() as con:
        try:
            gathered = gather_round(con, params, rule_set)
        except MissingRiskScoresError as exc:
            raise dg.Failure(str(exc)) from exc
    # the check's process re-draws from the same parameters and inputs while this one draws
    texts = gathered.inputs.texts()
    check.start(params.model_dump(mode="json"), texts)
    try:
        plan = draw_round(gathered.inputs, params, texts)
    except (DrawError, ValueError) as exc:  # infeasible assignment/schedule: never relaxed
        message = f"抽查批次 {params.round_id} 无法完成 / round cannot be drawn:\n{exc}"
        if config.round_id is not None:  # a round someone asked for: fail loudly
            raise dg.Failure(message) from exc
        # The main job's default draft is optional: the rest of the run is still published,
        # and the shortfall is reported instead of a failed run.
        context.log.warning(f"{DRAFT_SKIPPED}：{message}")
        yield from _no_draft(params.round_id, str(exc))
        return
    with ThreadPoolExecutor(max_workers=1) as ahead:  # the centre's rows, while the plan's bytes
        centre_rows = ahead.submit(plan_rows, plan, gathered.firms, gathered.inspectors, rule_set)
        document = plan_bytes(plan)
    plan_sha256 = hashlib.sha256(document).hexdigest()
    status = "published" if config.publish else "draft"
    try:
        check_replaceable(existing, plan_sha256, status=status, replace=config.replace)
    except RoundConflictError as exc:
        raise dg.Failure(str(exc)) from exc

    excluded_by_reason = gathered.eligible.excluded_by_reason() if gathered.eligible else {}
    notes = plan_notes(
        plan,
        status=status,
        excluded=gathered.excluded.height,
        previous_round_id=gathered.previous_round_id,
        plan_sha256=plan_sha256,
        excluded_by_reason=excluded_by_reason,
        in_scope=gathered.eligible.in_scope if gathered.eligible else None,
        backdate_reason=config.backdate_reason,
    )
    # the blocking check's process compares the plan with its re-run while the files are written
    check.submit(document)
    try:  # nothing is written outside `<reports>/rounds/` (a planted symlink included)
        plan_file = plan_path(warehouse.reports, params.round_id, status)
    except PathOutsideRootError as exc:
        raise dg.Failure(str(exc)) from exc
    staged: Future[Path] = Future()

    def store() -> dict:
        # the round's tables are written while its files are staged (DuckDB and polars let go
        # of the GIL), and committed only once the files are: a failed staging rolls them back
        with warehouse.transaction() as con:
            row = store_round(
                con,
                plan,
                gathered,
                status=status,
                plan_file=str(plan_file),
                plan_sha256=plan_sha256,
                created_at=utc_now(),
                backdate_reason=config.backdate_reason,
                tier_order=rule_set.tier_names,
            )
            staged.result()
        return row

    with ThreadPoolExecutor(max_workers=1) as background:
        stored = background.submit(store)
        try:
            staging = stage_round_files(
                plan, document, notes, gathered.firms, gathered.inspectors, rule_set,
                warehouse.reports, status=status, items=items, rows=centre_rows.result(),
            )  # fmt: skip
        except BaseException as exc:
            staged.set_exception(exc)
            wait([stored])  # rolled back
            if isinstance(exc, PathOutsideRootError):
                raise dg.Failure(str(exc)) from exc
            raise
        staged.set_result(staging)
        try:
            row = stored.result()
        except BaseException:
            discard_staged(staging, warehouse.reports)
            raise
    with ThreadPoolExecutor(max_workers=1) as background:
        _, replaced = swap_staged(staging, warehouse.reports, params.round_id)
        removed = background.submit(remove_tree, warehouse.reports, replaced)
        verification = check.result()
        removed.result()
    context.log.info(
        f"round {params.round_id} ({status}) seed {params.seed}: {row['drawn']} drawn + "
        f"{row['control']} control of {row['pool_size']}; plan {plan_file}"
    )
    counts = {
        "sampling_rounds": 1,
        "sampling_strata": plan.strata.height,
        "sampling_draws": plan.draws.height,
        "sampling_assignments": plan.assignments.height,
        "sampling_round_facts": 1,
        "sampling_tiers": plan.tiers.height,
    }
    for name, rows in counts.items():
        metadata: dict = {"dagster/row_count": rows, "round_id": params.round_id}
        if name == "sampling_rounds":
            metadata |= {
                "status": status,
                "seed": params.seed,
                "plan_file": dg.MetadataValue.path(str(plan_file)),
                "plan_sha256": plan_sha256,
                **{f"{k}_sha256": v for k, v in plan.input_hashes.items()},
                "excluded_firms": gathered.excluded.height,
            }
        yield dg.MaterializeResult(asset_key=name, metadata=metadata)
    yield _plan_check(plan_file, verification)


DRAFT_SKIPPED = "草案未生成 / no draft round"


def _kept_draft(
    config: RoundConfig,
    existing: dict,
    params: RoundParams,
    warehouse: Warehouse,
    *,
    published: bool,
) -> list[dg.MaterializeResult | dg.AssetCheckResult] | None:
    """The results that say the stored default draft stays, if it is current (`published`:
    a round was published since it was drawn) and its plan file is still the bytes verified
    when it was drawn (else None: it is drawn again)."""
    current = draft_is_current(
        existing,
        params.model_dump(mode="json"),
        today=params.published_on or date.min,
        max_age_days=config.draft_max_age_days,
        published_since=published,
    )
    if not current:
        return None
    try:
        data = plan_path(warehouse.reports, params.round_id, "draft").read_bytes()
    except (OSError, PathOutsideRootError):
        return None
    if hashlib.sha256(data).hexdigest() != existing["plan_sha256"]:
        return None  # the file was changed or replaced: a new draft, verified anew
    drafted = json.loads(existing["parameters"])["published_on"]
    results: list[dg.MaterializeResult | dg.AssetCheckResult] = list(
        _tables_unchanged(params.round_id, f"draft of {drafted} kept", draft_kept=drafted)
    )
    results.append(
        dg.AssetCheckResult(
            asset_key="sampling_draws",
            check_name="plan_reproduces",
            passed=True,
            metadata={
                "plan_sha256": existing["plan_sha256"],
                "differences": f"IDENTICAL (verified when drawn on {drafted}; the file is "
                "byte for byte that plan)",
            },
        )
    )
    return results


def _tables_unchanged(round_id: str, why: str, **on_rounds: str):
    """One materialization per round table saying the step wrote none of them (`why`);
    `on_rounds` adds metadata to `sampling_rounds`' (what the run summary reads)."""
    for name in SAMPLING_TABLES:
        metadata = {"round_id": round_id, "unchanged": why}
        yield dg.MaterializeResult(
            asset_key=name, metadata=metadata | on_rounds if name == "sampling_rounds" else metadata
        )


def _no_draft(round_id: str, shortfall: str):
    """Materializations that say the default draft could not be made, and why."""
    yield from _tables_unchanged(round_id, "no draft", draft_skipped=shortfall)
    yield dg.AssetCheckResult(
        asset_key="sampling_draws",
        check_name="plan_reproduces",
        passed=True,
        metadata={"differences": "no plan: the draft was not drawn"},
    )


def _plan_check(plan_file: Path, verification: Verification | None = None) -> dg.AssetCheckResult:
    """The check's result: `verification` of the bytes the step wrote (made while it wrote
    them, `PlanCheck`), held to be the published file's; without one, the published file
    verified now."""
    data = plan_file.read_bytes()
    if verification is None:
        verification = verify_plan(data)
    differences = list(verification.differences)
    published = hashlib.sha256(data).hexdigest()
    if published != verification.plan_sha256:
        differences.insert(
            0,
            f"file: the published plan hashes to {published}, the plan verified to "
            f"{verification.plan_sha256} / 公布的计划文件与复核的文件不一致",
        )
    return dg.AssetCheckResult(
        asset_key="sampling_draws",
        check_name="plan_reproduces",
        passed=not differences,
        metadata={
            "plan_sha256": published,
            "differences": "\n".join(differences[:20]) or "IDENTICAL",
        },
    )


def _unchanged(existing: dict, warehouse: Warehouse):
    """Materializations that say the stored round was kept, and its plan's check."""
    yield from _tables_unchanged(existing["round_id"], "already published")
    plan_file = Path(existing["plan_file"] or plan_path(warehouse.reports, existing["round_id"],
                                                        existing["status"]))  # fmt: skip
    if not plan_file.exists():
        plan_file = plan_path(warehouse.reports, existing["round_id"], existing["status"])
    if plan_file.exists():
        yield _plan_check(plan_file)
        return
    # The stored round was not made by this run: its missing file is reported, not a reason
    # to hold back everything else the run computed.
    yield dg.AssetCheckResult(
        asset_key="sampling_draws",
        check_name="plan_reproduces",
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"differences": f"公布的计划文件缺失 / the published plan file {plan_file} "
                  "is missing: restore it from a backup"},
    )  # fmt: skip


@dg.multi_asset(
    name="round_feedback",
    group_name="sampling",
    pool=WRITER_POOL,
    specs=[
        dg.AssetSpec(
            "round_outcomes",
            kinds={"duckdb", "polars"},
            deps=["sampling_draws", "sampling_assignments", "inspection_outcomes"],
            description="One row per drawn firm of every round with its first reported "
            "outcome in that round (null until reported).",
        ),
        dg.AssetSpec(
            "round_results",
            kinds={"duckdb", "polars", "excel"},
            deps=["round_outcomes"],
            description="Planned vs inspected vs with findings, per round × tier × control "
            "flag; also rewrites each round's public list (公示) with the results.",
        ),
    ],
)
def round_feedback(context: dg.AssetExecutionContext, warehouse: Warehouse, rules: Rules):
    """Join reported inspection outcomes back to the rounds that planned them; write each
    round's public list again when what it shows changed (`warehouse.round_feedback`)."""
    clean = rules.load().inspections.clean_result
    with warehouse.transaction() as con:
        feedback = update_feedback(con, clean)
        lists = write_public_lists(
            con, warehouse.reports, feedback.per_firm, rewrite=full_rebuild(context)
        )
    for round_id, reason in lists.skipped:
        context.log.warning(f"round {round_id!r}: public list not written: {reason}")
    per_firm = feedback.per_firm
    context.log.info(
        f"round feedback: {per_firm.height} planned firms, {len(lists.written)} files written, "
        f"{len(lists.current)} rounds' public lists unchanged"
    )
    yield dg.MaterializeResult(
        asset_key="round_outcomes",
        metadata={
            "dagster/row_count": per_firm.height,
            "inspected": int(per_firm.get_column("inspection_id").is_not_null().sum()),
            "unplanned_outcomes": feedback.unplanned,
        },
    )
    yield dg.MaterializeResult(
        asset_key="round_results",
        metadata={
            "dagster/row_count": feedback.summary.height,
            "public_files": len(lists.written),
            "public_lists_unchanged": len(lists.current),
        },
    )


sampling_assets = [sampling_round, round_feedback]
