"""The published inputs: the documented serialisation, a hash that sees every value but not
the row order, and text that reads back to the same text (what verify-draw relies on)."""

from __future__ import annotations

import hashlib
from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.sampling.canonical import (
    INPUT_SCHEMAS,
    INPUT_SCHEMAS_V1,
    CanonicalInputError,
    RoundInputs,
    canonical_text,
    read_canonical,
    sha256_text,
)

FIRMS = pl.DataFrame(
    {
        "uscc": [f"U{i:03d}" for i in range(60)],
        "firm_type": ["design", "supervision", "testing"] * 20,
        "tier": ["A", "B", "C", "D"] * 15,
        "district": ["黄浦区", None, "浦东新区"] * 20,
    }
)


def test_the_firm_list_is_the_documented_serialisation() -> None:
    firms = pl.DataFrame(
        {
            "uscc": ["U2", "U1"],
            "firm_type": ["施工", "设计,监理"],
            "tier": "A",
            "district": [None, 'a"b'],
        }
    )
    header = "uscc,firm_type,tier,district,credit_tier,public_grade,rectification_result\n"
    text = header + 'U1,"设计,监理",A,"a""b",,,\nU2,施工,A,,,,\n'
    assert canonical_text("firms", firms) == text  # absent evaluations are empty
    assert sha256_text(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_inspectors_serialise_lists_dates_and_booleans() -> None:
    inspectors = pl.DataFrame(
        {
            "inspector_id": ["I2", "I1"],
            "fields": [["supervision", "design", "design"], []],
            "certificate_valid_until": [date(2027, 1, 31), None],
            "active": [True, None],
            "name": ["张三", "李四"],  # personal data never reaches the published input
        }
    )
    assert canonical_text("inspectors", inspectors) == (
        "inspector_id,fields,certificate_valid_until,active,department\n"
        "I1,,,,\n"
        "I2,design、supervision,2027-01-31,true,\n"
    )


def test_draw_1_inputs_keep_their_columns() -> None:
    # Plans of algorithm draw-1 hash the four-column firm list; it must not change.
    firms = pl.DataFrame({"uscc": ["U1"], "firm_type": ["施工"], "tier": ["A"], "district": [None]})
    text = canonical_text("firms", firms, INPUT_SCHEMAS_V1)
    assert text == "uscc,firm_type,tier,district\nU1,施工,A,\n"
    bookings = pl.DataFrame(
        {"inspector_id": ["I1"], "day": [date(2027, 1, 4)], "booked": [2]},
        schema=INPUT_SCHEMAS["bookings"],
    )
    text = canonical_text("bookings", bookings)
    assert text == "inspector_id,day,booked\nI1,2027-01-04,2\n"
    assert read_canonical("bookings", text).equals(bookings)


def test_the_hash_sees_every_value_but_not_the_row_order_or_extra_columns() -> None:
    reference = canonical_text("firms", FIRMS)
    assert canonical_text("firms", FIRMS.reverse()) == reference
    assert canonical_text("firms", FIRMS.with_columns(pl.lit(0).alias("other"))) == reference
    for column in ("uscc", "firm_type", "tier", "district"):
        changed = FIRMS.with_columns(
            pl.when(pl.int_range(pl.len()) == 5)
            .then(pl.lit("x"))
            .otherwise(pl.col(column))
            .alias(column)
        )
        assert sha256_text(canonical_text("firms", changed)) != sha256_text(reference), column
    assert canonical_text("firms", FIRMS.head(59)) != reference


def test_a_missing_column_or_an_odd_boolean_is_named() -> None:
    with pytest.raises(CanonicalInputError, match="firms: missing column"):
        canonical_text("firms", FIRMS.drop("district"))
    with pytest.raises(CanonicalInputError, match=r"inspectors\.active: 'maybe'"):
        read_canonical(
            "inspectors",
            "inspector_id,fields,certificate_valid_until,active,department\nI1,,,maybe,\n",
        )
    with pytest.raises(CanonicalInputError, match="unreadable value"):
        read_canonical("conflicts", "inspector_id,uscc,valid_from,valid_until\nI1,U1,2027-13-01,\n")


def test_a_spreadsheet_resaved_file_reads_the_same() -> None:
    text = canonical_text("firms", FIRMS)
    resaved = "\ufeff" + text.replace("\n", "\r\n")  # BOM and CRLF, as Excel writes
    assert canonical_text("firms", read_canonical("firms", resaved.lstrip("\ufeff"))) == text


_text = st.text(alphabet=st.sampled_from(list('ab,"\n 设计、')), max_size=6)
_day = st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 12, 31)))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            _text,
            st.lists(_text, max_size=3),
            _day,
            st.one_of(st.none(), st.booleans()),
            st.one_of(st.none(), _text),
        ),
        max_size=8,
    )
)
def test_text_reads_back_to_the_same_text(rows: list[tuple]) -> None:
    frame = pl.DataFrame(rows, schema=INPUT_SCHEMAS["inspectors"], orient="row")
    text = canonical_text("inspectors", frame)
    assert canonical_text("inspectors", read_canonical("inspectors", text)) == text


def test_round_inputs_round_trip_through_their_texts() -> None:
    inputs = RoundInputs(
        firms=FIRMS,
        inspectors=pl.DataFrame(schema=INPUT_SCHEMAS["inspectors"]),
        conflicts=pl.DataFrame(schema=INPUT_SCHEMAS["conflicts"]),
        previous=pl.DataFrame(schema=INPUT_SCHEMAS["previous"]),
    )
    texts = inputs.texts()
    assert RoundInputs.from_texts(texts).texts() == texts
