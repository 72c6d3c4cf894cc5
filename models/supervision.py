"""The supervision class (监管类别): the industry credit tier combined with the outside evaluations.

What belongs here: the rule-set table that turns a firm's three evaluations into the class that
sets its draw ratio — the industry credit tier (this product's score), the public credit
composite grade (公共信用综合评价, exported by the public credit platform, per USCC with its
date) and the industry rectification result (人防行业整治评价结果) — and applying it to a frame.
Qingpu's practice grades supervision on the three together (青国动〔2023〕13号). What does not:
reading the evaluations (`warehouse.sampling` reads them point in time), the draw.

The table, stated once (`SupervisionClasses`, the rule set's optional `supervision_classes`):
each outside evaluation maps to a class (`public_credit`, `rectification`); the rows of `table`
are tried in order and the first whose given fields all match decides the class; when none
matches (the default: no rows) the class is **the worse of the classes present** — an
evaluation not given is simply absent, so a firm with only its credit tier keeps it.
"""

from __future__ import annotations

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

CLASS_COLUMNS = ("credit_tier", "public_class", "rectification_class")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CombinationRow(_Frozen):
    """One row of the table: the fields given must all match (None: any, including absent)."""

    credit_tier: str | None = None
    public_class: str | None = None
    rectification_class: str | None = None
    supervision_class: str = Field(min_length=1)


class SupervisionClasses(_Frozen):
    """How outside evaluations become classes, and how the classes combine."""

    public_credit: dict[str, str] = {"A": "A", "B": "B", "C": "C", "D": "D"}
    """Public credit composite grade → class (the platform's A–D; spellings such as 优/良/中/差
    are synonyms in the contract)."""
    rectification: dict[str, str] = {"优秀": "A", "合格": "B", "基本合格": "C", "不合格": "D"}
    """Industry rectification result → class."""
    table: tuple[CombinationRow, ...] = ()
    """Explicit combinations, first match wins; otherwise the worse class present."""

    def classes(self) -> set[str]:
        named = {*self.public_credit.values(), *self.rectification.values()}
        for row in self.table:
            named |= {
                c
                for c in (row.credit_tier, row.public_class, row.rectification_class)
                if c is not None
            } | {row.supervision_class}
        return named


DEFAULT_SUPERVISION_CLASSES = SupervisionClasses()


def supervision_classes(
    frame: pl.DataFrame, table: SupervisionClasses, tier_order: tuple[str, ...]
) -> pl.DataFrame:
    """`frame` (uscc, credit_tier, public_grade, rectification_result; the last two may be
    null or absent) with `public_class`, `rectification_class`, `tier` (the supervision class)
    and `class_basis` (why, in words; null when the class is the credit tier alone).

    `tier_order` lists the classes best first (the rule set's tiers).
    """
    for column in ("public_grade", "rectification_result"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(column))
    rank = {t: i for i, t in enumerate(tier_order)}
    out = frame.with_columns(
        public_class=pl.col("public_grade").replace_strict(
            table.public_credit, default=None, return_dtype=pl.Utf8
        ),
        rectification_class=pl.col("rectification_result").replace_strict(
            table.rectification, default=None, return_dtype=pl.Utf8
        ),
    )
    ranks = [
        pl.col(c).replace_strict(rank, default=None, return_dtype=pl.Int32) for c in CLASS_COLUMNS
    ]
    worst = pl.max_horizontal(ranks)
    by_rank = {i: t for t, i in rank.items()}
    decided: pl.Expr = worst.replace_strict(by_rank, default=None, return_dtype=pl.Utf8)
    for row in reversed(table.table):
        condition = pl.lit(True)
        for column in CLASS_COLUMNS:
            wanted = getattr(row, column)
            if wanted is not None:
                condition = condition & (pl.col(column) == wanted).fill_null(False)
        decided = pl.when(condition).then(pl.lit(row.supervision_class)).otherwise(decided)
    basis = pl.concat_str(
        [
            pl.lit("行业信用 ") + pl.col("credit_tier").fill_null("—"),
            pl.when(pl.col("public_grade").is_not_null()).then(
                pl.lit("；公共信用综合评价 ") + pl.col("public_grade")
            ),
            pl.when(pl.col("rectification_result").is_not_null()).then(
                pl.lit("；行业整治评价 ") + pl.col("rectification_result")
            ),
            pl.lit(" → 监管类别 ") + pl.col("tier"),
        ],
        ignore_nulls=True,
    )
    return out.with_columns(tier=decided).with_columns(
        class_basis=pl.when(
            pl.col("public_class").is_not_null() | pl.col("rectification_class").is_not_null()
        ).then(basis)
    )
