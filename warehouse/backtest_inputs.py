"""Reading a backtest's inputs from files: any jurisdiction's inspection export, or ours.

What belongs here: turning `renfang backtest` files into a `models.risk.history.History`.
An inspection file is read either *generically* — a CSV with an entity id, a date, the
outcome in one of its usual shapes (a flag; a count or score with a threshold and a
direction; a result text with the values that mean a problem), optionally inspectors, an
inspection id and entity attributes, column names given by options, every named column
checked to exist, rows filtered separately for the history and for the evaluation — or, when
none of that is asked and those columns are absent, as the project's own
`inspection_outcomes` export through the landing contract (Chinese headers, GBK, XLSX …).
Unreadable rows are skipped with a note naming the column and example values; a file
without a usable row is an error saying the same. Firm files likewise (generic: an id, an
opening date, every other column categorical). Penalty files are read through the contract
and turned into credit records and point-in-time credit scores and tiers by the rule set.
What does not: features, models, metrics (models.risk).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import polars as pl

from models.contracts import Contracts, default_contracts
from models.engine import no_cases, score_documents
from models.normalise import clean_text, matching_key, parse_bool, parse_date, split_list
from models.periods import month_ends, scoring_dates
from models.risk.config import RiskConfig
from models.risk.history import (
    ENTITY_SCHEMA,
    OUTCOME_SCHEMA,
    History,
    entities_from_clean,
    outcomes_from_clean,
    records_from_credit,
    scores_from_credit,
)
from models.risk.model import snapshot_dates
from models.row_checks import clean_source
from models.rules import RuleSet
from warehouse.credit import RECORD_SOURCES
from warehouse.ingestion import clean_folder
from warehouse.landing import LandingLocation, decode_text, scan_file


class BacktestInputError(ValueError):
    """An input file cannot be used; the message names the file, the column and what is
    wrong (Chinese first, then English)."""


Filter = tuple[str, str, bool]
"""(column, value, negated): keep rows whose column equals (or, negated, differs from) value."""


@dataclass(frozen=True)
class InspectionColumns:
    """How to read a generic inspection export (the `renfang backtest` options). A column
    left None takes its default name when the file has it; a named column must exist."""

    entity: str | None = None
    date: str | None = None
    problem: str | None = None
    score: str | None = None
    problem_above: float | None = None
    problem_below: float | None = None
    problem_values: tuple[str, ...] = ()
    ok_values: tuple[str, ...] = ()
    inspector: str | None = None
    inspection_id: str | None = None
    attributes: tuple[str, ...] = ()
    history_where: tuple[Filter, ...] = ()
    evaluate_where: tuple[Filter, ...] = ()

    def explicit(self) -> bool:
        """Whether any option names a generic column (the file must then be generic)."""
        named = (self.entity, self.date, self.problem, self.score, self.inspector)
        return any(c is not None for c in (*named, self.inspection_id)) or bool(
            self.attributes or self.history_where or self.evaluate_where
        )

    def outcome_shape(self) -> str:
        """How the problem is read, in words (for messages)."""
        if self.problem_values:
            return f"a result in {list(self.problem_values)}"
        if self.problem_above is not None:
            return f"a number above {self.problem_above:g}"
        if self.problem_below is not None:
            return f"a number below {self.problem_below:g}"
        return "a flag (1/0, true/false, yes/no, 是/否)"


DEFAULT_NAMES = {
    "entity": "entity_id",
    "date": "inspected_on",
    "problem": "problem",
    "inspector": "inspector_id",
    "inspection_id": "inspection_id",
}
OPTIONS = {
    "entity": "--id-col",
    "date": "--date-col",
    "problem": "--problem-col",
    "score": "--score-col",
    "inspector": "--inspector-col",
    "inspection_id": "--inspection-id-col",
}


@dataclass(frozen=True)
class FirmColumns:
    entity: str | None = None
    opened: str | None = None


@dataclass(frozen=True)
class Outcomes:
    """What the inspection files gave: the history rows, the rows that may be labels (None:
    the same), the contract-format inspections among them (for credit records), entity
    attributes carried by the inspection files, and notes for the user (skipped rows)."""

    history: pl.DataFrame
    labels: pl.DataFrame | None
    contract_rows: pl.DataFrame
    attributes: pl.DataFrame | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class BacktestInputs:
    history: History
    notes: tuple[str, ...]


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """Files as given; folders stand for every .csv/.xlsx under them (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p for p in path.rglob("*") if p.suffix.lower() in (".csv", ".xlsx") and p.is_file()
            )
        elif path.is_file():
            files.append(path)
        else:
            raise BacktestInputError(f"{path}: 文件或文件夹不存在 / no such file or folder")
    return files


def _generic_csv(path: Path) -> pl.DataFrame | None:
    if path.suffix.lower() != ".csv":
        return None
    text, _ = decode_text(path.read_bytes())
    return pl.read_csv(io.StringIO(text), infer_schema=False)


def _contract_frame(path: Path, source: str, contracts: Contracts, today: date) -> pl.DataFrame:
    scanned = scan_file(path, path.parent, contracts.source(source), contracts)
    if scanned.status != "ok":
        raise BacktestInputError(
            f"{path}: 不是可用的 {source} 文件 / not a usable {source} file "
            f"({scanned.problem}: {scanned.detail})"
        )
    return clean_source(scanned.rows, contracts.source(source), contracts, today=today).accepted


def missing_column(path: Path, column: str, option: str, columns: Sequence[str]) -> str:
    """The message for a named column the file does not have."""
    return (
        f"{path}: 列 '{column}'（{option}）不存在 / column '{column}' ({option}) not found; "
        f"columns: {', '.join(columns)}"
    )


def read_outcomes(
    paths: Sequence[Path], columns: InspectionColumns, config: RiskConfig, contracts: Contracts
) -> Outcomes:
    files = expand_paths(paths)
    history, labels, contract_rows, attributes, notes = [], [], [], [], []
    for path in files:
        frame = _generic_csv(path)
        defaults = {DEFAULT_NAMES["entity"], DEFAULT_NAMES["date"]}
        if frame is not None and (columns.explicit() or defaults <= set(frame.columns)):
            read = _generic_outcomes(path, frame, columns, len(files) > 1)
            history.append(read.history)
            labels.append(read.labels)
            if read.attributes is not None:
                attributes.append(read.attributes)
            notes += read.notes
            continue
        if columns.explicit():
            raise BacktestInputError(
                f"{path}: 列选项只适用于 CSV 文件 / the column options (--id-col …) apply to CSV "
                "files; an XLSX file is read as the project's inspection_outcomes export"
            )
        try:
            clean = _contract_frame(path, "inspection_outcomes", contracts, date.today())
        except BacktestInputError as exc:
            found = f"; columns: {', '.join(frame.columns)}" if frame is not None else ""
            raise BacktestInputError(
                f"{path}: 既没有列 'entity_id' 和 'inspected_on'（用 --id-col、--date-col 指定），"
                "也不是 inspection_outcomes 导出文件 / neither the columns 'entity_id' and "
                f"'inspected_on' (name them with --id-col, --date-col) nor an "
                f"inspection_outcomes export{found}"
            ) from exc
        contract_rows.append(clean)
        outcome = outcomes_from_clean(clean, config.problem_results)
        history.append(outcome)
        labels.append(outcome)
    if not history:
        raise BacktestInputError("没有检查结果文件 / no inspection file given")
    filtered = bool(columns.history_where or columns.evaluate_where)
    return Outcomes(
        history=pl.concat(history, how="vertical").sort("entity_id", "inspected_on"),
        labels=pl.concat(labels, how="vertical").sort("entity_id", "inspected_on")
        if filtered
        else None,
        contract_rows=pl.concat(contract_rows, how="vertical") if contract_rows else pl.DataFrame(),
        attributes=pl.concat(attributes, how="diagonal_relaxed") if attributes else None,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class _Read:
    history: pl.DataFrame
    labels: pl.DataFrame
    attributes: pl.DataFrame | None
    notes: list[str]


def _named(path: Path, frame: pl.DataFrame, columns: InspectionColumns) -> dict[str, str | None]:
    """Each role's column: the named one (which must exist) or the default if present."""
    chosen: dict[str, str | None] = {}
    for role in ("entity", "date", "problem", "score", "inspector", "inspection_id"):
        name = getattr(columns, role)
        if name is not None:
            if name not in frame.columns:
                raise BacktestInputError(missing_column(path, name, OPTIONS[role], frame.columns))
            chosen[role] = name
        else:
            default = DEFAULT_NAMES.get(role)
            chosen[role] = default if default in frame.columns else None
    for role in ("entity", "date"):
        if chosen[role] is None:
            raise BacktestInputError(
                missing_column(path, DEFAULT_NAMES[role], OPTIONS[role], frame.columns)
            )
    if chosen["score"] is None and chosen["problem"] is None:
        raise BacktestInputError(
            missing_column(path, DEFAULT_NAMES["problem"], "--problem-col", frame.columns)
            + "; 或用 --score-col / or give --score-col"
        )
    for column in columns.attributes:
        if column not in frame.columns:
            raise BacktestInputError(missing_column(path, column, "--attribute-col", frame.columns))
    for option, filters in (
        ("--history-where", columns.history_where),
        ("--evaluate-where", columns.evaluate_where),
    ):
        for column, _, _ in filters:
            if column not in frame.columns:
                raise BacktestInputError(missing_column(path, column, option, frame.columns))
    return chosen


def _matches(filters: Sequence[Filter]) -> pl.Expr:
    keep = pl.lit(True)
    for column, value, negated in filters:
        equal = (clean_text(pl.col(column)) == value.strip()).fill_null(False)
        keep = keep & (~equal if negated else equal)
    return keep


def _keys(values: Sequence[str]) -> list[str]:
    """Values as `matching_key` folds the cells (NFKC, no spaces, lower case)."""
    if not values:
        return []
    return pl.select(matching_key(pl.lit(pl.Series(list(values))))).to_series().to_list()


def _problem(columns: InspectionColumns, column: str) -> tuple[pl.Expr, pl.Expr]:
    """(problem flag, the inspection's score oriented so that higher is better)."""
    text = clean_text(pl.col(column))
    if columns.problem_values:
        key = matching_key(text)
        problem_keys, ok_keys = _keys(columns.problem_values), _keys(columns.ok_values)
        is_ok = key.is_in(ok_keys) if ok_keys else key.is_not_null()
        problem = pl.when(key.is_in(problem_keys)).then(True).when(is_ok).then(False)
        return problem.otherwise(None), pl.lit(None, dtype=pl.Float64)
    if columns.problem_above is not None or columns.problem_below is not None:
        number = text.cast(pl.Float64, strict=False)
        if columns.problem_above is not None:
            return number > columns.problem_above, -number
        return number < columns.problem_below, number
    return parse_bool(pl.col(column)), pl.lit(None, dtype=pl.Float64)


def _generic_outcomes(
    path: Path, frame: pl.DataFrame, columns: InspectionColumns, several: bool
) -> _Read:
    chosen = _named(path, frame, columns)
    frame = frame.with_columns(
        _row=pl.int_range(2, frame.height + 2),  # spreadsheet row: the header is row 1
        _history=_matches(columns.history_where),
        _evaluate=_matches(columns.evaluate_where),
    ).filter(pl.col("_history") | pl.col("_evaluate"))
    outcome_column = chosen["score"] or chosen["problem"]
    assert outcome_column is not None  # _named: one of them exists
    problem, score = _problem(columns, outcome_column)
    inspector = chosen["inspector"]
    row_id = pl.format("{}:{}", pl.lit(path.name), "_row") if several else pl.col("_row")
    own_id = chosen["inspection_id"]
    out = frame.select(
        "_history",
        "_evaluate",
        *columns.attributes,
        inspection_id=clean_text(pl.col(own_id)) if own_id else row_id.cast(pl.Utf8),
        entity_id=clean_text(pl.col(chosen["entity"] or "")),
        inspected_on=parse_date(pl.col(chosen["date"] or "")),
        problem=problem,
        inspectors=(
            split_list(pl.col(inspector)).fill_null([])
            if inspector
            else pl.lit([], dtype=pl.List(pl.Utf8))
        ),
        score=score,
        _raw_entity=pl.col(chosen["entity"] or ""),
        _raw_date=pl.col(chosen["date"] or ""),
        _raw_outcome=pl.col(outcome_column),
    ).with_columns(known_on=pl.col("inspected_on"))
    checks = (
        ("entity_id", "_raw_entity", chosen["entity"], OPTIONS["entity"], "an entity id"),
        ("inspected_on", "_raw_date", chosen["date"], OPTIONS["date"], "a date"),
        (
            "problem",
            "_raw_outcome",
            outcome_column,
            OPTIONS["score" if chosen["score"] else "problem"],
            columns.outcome_shape(),
        ),
    )
    failures = []
    for value, raw, column, option, shape in checks:
        bad = out.filter(pl.col(value).is_null())
        if bad.height:
            examples = bad[raw].fill_null("").unique(maintain_order=True).head(5).to_list()
            failures.append(
                f"列 '{column}'（{option}）有 {bad.height} 行无法读取 / column '{column}' "
                f"({option}): {bad.height} row(s) not readable as {shape}; examples: "
                + ", ".join(repr(e) for e in examples)
            )
    usable = out.drop_nulls(["entity_id", "inspected_on", "problem"])
    if usable.is_empty():
        hint = ""
        if not (columns.problem_values or columns.problem_above or columns.problem_below):
            hint = (
                "; 计数或分数用 --problem-above / --problem-below，结果文字用 --problem-values / "
                "for a count or score use --problem-above / --problem-below, for a result text "
                "--problem-values"
            )
        raise BacktestInputError(
            f"{path}: 没有可用的行 / no usable rows (of {frame.height} after filters): "
            + "; ".join(failures)
            + hint
        )
    notes = [f"{path}: 跳过 / skipped — {f}" for f in failures]
    keep = list(OUTCOME_SCHEMA)
    attributes = None
    if columns.attributes:
        attributes = (
            usable.sort("inspected_on")
            .group_by("entity_id", maintain_order=True)
            .first()
            .select("entity_id", *(clean_text(pl.col(c)).alias(c) for c in columns.attributes))
        )
    return _Read(
        history=usable.filter("_history").select(keep).cast(OUTCOME_SCHEMA),
        labels=usable.filter("_evaluate").select(keep).cast(OUTCOME_SCHEMA),
        attributes=attributes,
        notes=notes,
    )


def read_entities(
    paths: Sequence[Path], columns: FirmColumns, outcomes: pl.DataFrame, contracts: Contracts
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """(entities, the contract-format firm directory if that is what the files were).
    Without entity files, the entities are the inspected ids (no attributes)."""
    files = expand_paths(paths)
    if not files:
        ids = outcomes["entity_id"].unique().sort()
        return ids.to_frame().with_columns(opened_on=pl.lit(None, dtype=pl.Date)), None
    generic, directory = [], []
    for path in files:
        frame = _generic_csv(path)
        entity = columns.entity or "entity_id"
        if frame is not None and (columns.entity is not None or entity in frame.columns):
            generic.append(_generic_entities(path, frame, columns))
        elif columns.entity is not None or columns.opened is not None:
            raise BacktestInputError(
                f"{path}: --firm-id-col / --opened-col 只适用于 CSV 文件 / apply to CSV files"
            )
        else:
            directory.append(_contract_frame(path, "firms", contracts, date.today()))
    firms = pl.concat(directory, how="vertical") if directory else None
    parts = [*generic, *([entities_from_clean(firms)] if firms is not None else [])]
    entities = pl.concat(parts, how="diagonal_relaxed")
    return entities.unique("entity_id", keep="first", maintain_order=True), firms


def _generic_entities(path: Path, frame: pl.DataFrame, columns: FirmColumns) -> pl.DataFrame:
    entity = columns.entity or "entity_id"
    if entity not in frame.columns:
        raise BacktestInputError(missing_column(path, entity, "--firm-id-col", frame.columns))
    if columns.opened is not None and columns.opened not in frame.columns:
        raise BacktestInputError(
            missing_column(path, columns.opened, "--opened-col", frame.columns)
        )
    opened_column = columns.opened or "opened_on"
    categorical = [c for c in frame.columns if c not in (entity, opened_column)]
    opened = (
        parse_date(pl.col(opened_column))
        if opened_column in frame.columns
        else pl.lit(None, dtype=pl.Date)
    )
    return frame.select(
        entity_id=clean_text(pl.col(entity)),
        opened_on=opened,
        **{c: clean_text(pl.col(c)) for c in categorical},
    ).cast(ENTITY_SCHEMA)


def read_history(
    inspections: Sequence[Path],
    *,
    firms: Sequence[Path],
    penalties: Sequence[Path],
    inspection_columns: InspectionColumns,
    firm_columns: FirmColumns,
    config: RiskConfig,
    rules: RuleSet,
    cutoff: date,
    horizon_days: int,
) -> BacktestInputs:
    """Everything a backtest needs; with penalty files (the contract's format), also credit
    records and point-in-time credit scores at every month end and training snapshot."""
    contracts = default_contracts()
    read = read_outcomes(inspections, inspection_columns, config, contracts)
    outcomes = read.history
    entities, directory = read_entities(firms, firm_columns, outcomes, contracts)
    if read.attributes is not None:
        known = entities.drop(
            [c for c in read.attributes.columns if c != "entity_id"], strict=False
        )
        entities = known.join(read.attributes, on="entity_id", how="full", coalesce=True)
        entities = entities.with_columns(pl.col("opened_on").cast(pl.Date))
    if read.labels is not None:  # inspected entities only known from label rows
        extra = read.labels.select("entity_id").unique().join(entities, on="entity_id", how="anti")
        entities = pl.concat([entities, extra], how="diagonal_relaxed")
    base = History(outcomes=outcomes, entities=entities, label_outcomes=read.labels)
    if not penalties:
        return BacktestInputs(base, read.notes)
    decisions = pl.concat(
        [
            _contract_frame(p, "penalty_decisions", contracts, date.today())
            for p in expand_paths(penalties)
        ],
        how="vertical",
    )
    sources = {"penalty_decisions": decisions}
    if not read.contract_rows.is_empty():
        sources["inspection_outcomes"] = read.contract_rows
    ids = directory if directory is not None else entities.select(uscc="entity_id")
    first, last = outcomes["inspected_on"].min(), outcomes["inspected_on"].max()
    assert isinstance(first, date) and isinstance(last, date)  # read_outcomes: never empty
    dates = sorted(
        {*month_ends(first, last), *snapshot_dates(base, cutoff, horizon_days, config), cutoff}
    )
    # no case register among the files: objections and repairs are absent, not ignored
    result = score_documents(sources, no_cases(), ids, rules, dates)
    history = replace(
        base, records=records_from_credit(result.records), scores=scores_from_credit(result.scores)
    )
    return BacktestInputs(history, read.notes)


def history_from_landing(
    landing: LandingLocation, config: RiskConfig, rules: RuleSet, contracts: Contracts
) -> History:
    """The history the model asset group reads from the warehouse, built from a landing
    folder alone: every source cleaned as a first run would, records, statuses (from the
    folder's credit cases) and scores at every as-of date a run stores."""
    clean = clean_folder(landing, contracts, rules)
    dates = scoring_dates(rules.effective_from, landing.processing_date)
    sources = {name: clean[name] for name in RECORD_SOURCES}
    firms = clean["firms"].select("uscc", "name", "firm_type", "district", "status")
    result = score_documents(sources, clean["credit_cases"], firms, rules, dates)
    return History(
        outcomes=outcomes_from_clean(clean["inspection_outcomes"], config.problem_results),
        entities=entities_from_clean(clean["firms"]),
        records=records_from_credit(result.records),
        scores=scores_from_credit(result.scores),
    )
