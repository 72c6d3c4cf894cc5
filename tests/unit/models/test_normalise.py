"""Value normalisers: every spelling of docs/contracts.md → one typed value; unreadable → null.

Every expected value below is written by hand. Each case runs the expression on a one-row
frame, so a case that makes polars raise fails on its own instead of taking the table with it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from models.contracts import default_contracts
from models.normalise import (
    BREAK_CHARS,
    INVISIBLE_CHARS,
    PLAIN_CHARS,
    clean_text,
    has_control_characters,
    map_enum,
    map_enum_list,
    normalise_uscc,
    parse_amount,
    parse_bool,
    parse_date,
    parse_integer,
    plain_text,
    split_list,
    uscc_is_valid,
)

CONTROL_PATTERN_PY = "[\x00-\x1f\x7f-\x9f\u200e\u200f\u061c\u202a-\u202e\u2028\u2029\u2066-\u2069]"
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def one(fn: Callable[[pl.Expr], pl.Expr], value: str | None) -> object:
    """`fn` applied to a single text cell."""
    frame = pl.DataFrame({"v": [value]}, schema={"v": pl.Utf8})
    return frame.select(out=fn(pl.col("v"))).to_series().to_list()[0]


# --- clean_text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  沪国动罚〔2024〕12号  ", "沪国动罚〔2024〕12号"),
        ("ＡＢＣ１２３", "ABC123"),
        ("罚款金额（元）", "罚款金额(元)"),
        ("\u3000上海\u3000", "上海"),  # ideographic spaces around the value
        ("a  b", "a  b"),  # inner spaces are content
        ("", None),
        ("   ", None),
        ("\t\n", None),
        (None, None),
        # control characters: one line of visible text, never a second calendar event
        ("evil\r\nBEGIN:VEVENT", "evil BEGIN:VEVENT"),
        ("上海\r\n\r\n  申防", "上海 申防"),
        ("a\tb\x0bc\x0cd\x85e\u2028f\u2029g", "a b c d e f g"),
        ("某\x00公\x1b司\x7f", "某公司"),
        ("\u202egpj.exe\u202c", "gpj.exe"),  # RIGHT-TO-LEFT OVERRIDE … POP
        ("\u2066a\u2067b\u2068c\u2069\u202a\u202b\u202d\u200e\u200f\u061c", "abc"),
    ],
)
def test_clean_text(raw: str | None, expected: str | None) -> None:
    assert one(clean_text, raw) == expected
    if raw is not None and expected is not None:
        assert plain_text(unicodedata.normalize("NFKC", raw)) == expected


CONTROLS = st.sampled_from(
    ["\r", "\n", "\t", "\x00", "\x1f", "\x85", "\u2028", "\u202a", "\u202e", "\u2066", "\u2069"]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=6), CONTROLS), min_size=1, max_size=10))
def test_no_control_or_bidi_character_survives(parts: list[str]) -> None:
    raw = "".join(parts)
    cleaned = one(clean_text, raw)
    assert cleaned is None or not re.search(CONTROL_PATTERN_PY, cleaned)
    assert one(has_control_characters, raw) == bool(re.search(CONTROL_PATTERN_PY, raw))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), min_size=1, max_size=8))
def test_clean_text_is_idempotent(values: list[str | None]) -> None:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.Utf8})
    once = frame.select(v=clean_text(pl.col("v")))
    twice = once.select(v=clean_text(pl.col("v")))
    assert twice["v"].to_list() == once["v"].to_list()


def _plain_chars() -> list[str]:
    """Every character of `PLAIN_CHARS`, expanded from its regex class."""
    one = r"\\x(?:\{([0-9a-f]+)\}|([0-9a-f]{2}))"
    spans = re.findall(f"{one}(?:-{one})?", PLAIN_CHARS)
    chars = []
    for a, b, c, d in spans:
        low = int(a or b, 16)
        high = int(c or d, 16) if (c or d) else low
        chars += [chr(n) for n in range(low, high + 1)]
    return chars


def test_plain_characters_are_left_alone_by_nfkc_and_compose_with_nothing() -> None:
    """The shortcut's premise (`normalise._unless_plain`), for every character it trusts:
    NFKC (Python's and polars') returns it unchanged, it is a starter, nothing composes
    onto it, and it is no control or whitespace `clean_text` would rewrite."""
    chars = _plain_chars()
    assert len(chars) == 95 + 2 + 10 + 8 + 0x9FFF - 0x4E00 + 1
    assert {"、", "。", "〔", "〕", "《", "》", "【", "】", "中", "A", " ", "~"} <= set(chars)
    assert not {"\u3000", "（", "，", "：", "Ａ", "\t", "\u202e"} & set(chars)
    seconds = set()  # characters that are the second of a canonical pair (they may compose)
    for n in range(0x110000):
        parts = unicodedata.decomposition(chr(n)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(chr(int(parts[1], 16)))
    for ch in chars:
        assert unicodedata.normalize("NFKC", ch) == ch, hex(ord(ch))
        assert unicodedata.combining(ch) == 0, hex(ord(ch))
        assert ch not in seconds, hex(ord(ch))
    series = pl.Series([*chars, "".join(chars)], dtype=pl.Utf8)
    assert series.str.normalize("NFKC").to_list() == series.to_list()
    assert not re.search(CONTROL_PATTERN_PY, "".join(chars))


def _full_fold(values: list[str | None]) -> list[str | None]:
    """`clean_text` as it was before the shortcut: every cell folded."""
    frame = pl.DataFrame({"v": values}, schema={"v": pl.Utf8})
    return frame.select(
        pl.col("v")
        .str.normalize("NFKC")
        .str.replace_all(f"[ ]*[{BREAK_CHARS}][{BREAK_CHARS} ]*", " ")
        .str.replace_all(f"[{INVISIBLE_CHARS}]", "")
        .str.strip_chars()
        .replace("", None)
    )["v"].to_list()


CELLS = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(["A", "9", "-", " ", "中", "、", "〔", "〕"]), max_size=8),
    st.text(alphabet=st.sampled_from(list("A 中Ａ（，\u3000\t\u202e")), max_size=8),
    st.text(max_size=8),  # anything: full-width forms, controls, combining marks …
)


ROWS = st.sampled_from([0, 7, 1_200, 2_500])
"""Sizes on both sides of `DISTINCT_MIN_ROWS` (hypothesis would mostly draw small ones)."""


@settings(max_examples=150, deadline=None)
@given(st.lists(CELLS, min_size=1, max_size=40), ROWS, ROWS)
def test_the_plain_shortcut_gives_what_folding_every_cell_gives(
    values: list[str | None], plain_rows: int, odd_rows: int
) -> None:
    """Mixed columns, short (folded whole) and long (scanned, or folded whole when the
    sample is mostly full-width prose):
    `clean_text` and `normalise_uscc` equal folding every cell, and the input column is
    left as it was (the shortcut writes into its own copy)."""
    column = ["整改：ＡＢ（１）"] * odd_rows + ["JC-2021-001 中文、〔2021〕"] * plain_rows + values
    frame = pl.DataFrame({"v": column}, schema={"v": pl.Utf8})
    assert frame.select(clean_text(pl.col("v")))["v"].to_list() == _full_fold(column)
    upper = frame.select(
        pl.col("v").str.normalize("NFKC").str.replace_all(r"[\s\-]", "").str.to_uppercase()
    )["v"].replace("", None)
    assert frame.select(normalise_uscc(pl.col("v")))["v"].to_list() == upper.to_list()
    assert frame["v"].to_list() == column


# --- dates -----------------------------------------------------------------------------------

MARCH_5 = date(2024, 3, 5)


@pytest.mark.parametrize(
    "raw",
    [
        "2024-03-05",
        "2024-3-5",
        "2024/3/5",
        "2024/03/05",
        "2024.3.5",
        "2024年3月5日",
        "2024年03月05日",
        "2024 年 3 月 5 日",
        "２０２４年３月５日",
        "２０２４－０３－０５",
        "20240305",
        "２０２４０３０５",
        "45356",  # Excel serial
        "45356.0",  # Excel serial read as a float
        "４５３５６",
        "2024-03-05 00:00:00",
        "2024-03-05T08:00",
        "2024/3/5 14:30:00",
        "2024年3月5日 08:00:00",
        "  2024-03-05  ",
    ],
)
def test_parse_date_accepts_every_form(raw: str) -> None:
    assert one(parse_date, raw) == MARCH_5


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-02-29", date(2024, 2, 29)),  # leap day exists in 2024
        ("2000-02-29", date(2000, 2, 29)),  # and in 2000 (divisible by 400)
        ("1990-1-1", date(1990, 1, 1)),
        ("2024-12-31", date(2024, 12, 31)),
        ("36526", date(2000, 1, 1)),  # Excel serial of 2000-01-01
        ("19891231", date(1989, 12, 31)),  # too early is a row check, not a parse failure
    ],
)
def test_parse_date_edges(raw: str, expected: date) -> None:
    assert one(parse_date, raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "2024年13月45日",  # never rolled over into another date
        "2023-02-30",
        "2024-02-30",
        "2023-02-29",  # 2023 is not a leap year
        "2024-04-31",
        "2024-13-01",
        "2024-00-10",
        "20241305",
        "2024-03",
        "2024/3/5/6",
        "2024-03-05abc",
        "12345",  # digits, but neither a compact date nor a plausible Excel serial
        "99999",
        "45356.5",  # half a day is not a date
        "abc",
        "",
        "   ",
        None,
    ],
)
def test_parse_date_rejects_impossible_or_unreadable(raw: str | None) -> None:
    assert one(parse_date, raw) is None


def date_forms(d: date) -> list[str]:
    """Every textual form of docs/contracts.md#accepted-value-forms for one date, built by hand."""
    iso = f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    serial = (d - date(1899, 12, 30)).days  # Excel's day 0 (1900 leap-year bug)
    return [
        iso,
        f"{d.year}-{d.month}-{d.day}",
        f"{d.year}/{d.month}/{d.day}",
        f"{d.year}.{d.month}.{d.day}",
        f"{d.year}年{d.month}月{d.day}日",
        f"{d.year}年{d.month:02d}月{d.day:02d}日",
        iso.translate(FULL_WIDTH),
        f"{d.year}年{d.month}月{d.day}日".translate(FULL_WIDTH),
        f"{d.year:04d}{d.month:02d}{d.day:02d}",
        str(serial),
        f"{serial}.0",
        f"{iso} 00:00:00",
        f"{iso} 17:45:12",
        f"{iso}T08:30",
    ]


@settings(max_examples=150, deadline=None)
@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)))
def test_every_form_of_a_date_parses_back_to_it(d: date) -> None:
    forms = date_forms(d)
    parsed = pl.DataFrame({"v": forms}).select(parse_date(pl.col("v")))
    assert parsed.to_series().to_list() == [d] * len(forms), forms


def test_excel_serial_epoch_by_hand() -> None:
    # From 2024-03-05 = 45356: one day later, and 64 days earlier (31 Jan + 29 Feb + 4 Mar).
    assert one(parse_date, "45357") == MARCH_5 + timedelta(days=1)
    assert one(parse_date, "45292") == date(2024, 1, 1)


# --- amounts and integers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("15000", 15000.0),
        ("15,000元", 15000.0),
        ("15000.00元", 15000.0),
        ("￥15000", 15000.0),
        ("¥2,000.50", 2000.5),
        ("1.5万元", 15000.0),
        ("1.5万", 15000.0),
        ("人民币3万元整", 30000.0),
        ("RMB 100", 100.0),
        ("１５０００", 15000.0),
        ("１５，０００元", 15000.0),
        ("１．５万元", 15000.0),
        ("15 000", 15000.0),
        ("0", 0.0),
        ("-500", -500.0),  # parses, so the row check can say "negative" not "unreadable"
        ("－500", -500.0),
        ("abc", None),
        ("一万五", None),
        ("万", None),
        ("3千元", None),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_parse_amount(raw: str | None, expected: float | None) -> None:
    assert one(parse_amount, raw) == expected


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_parse_amount_rejects_nan_and_infinity(raw: str) -> None:
    assert one(parse_amount, raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3", 3),
        ("3.0", 3),
        ("３", 3),
        ("３个", 3),
        ("2项", 2),
        ("5处", 5),
        ("1,000", 1000),
        (" 7 ", 7),
        ("0", 0),
        ("-2", -2),  # parses; negative is reported by the row checks
        ("3.5", None),
        ("abc", None),
        ("三", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_integer(raw: str | None, expected: int | None) -> None:
    assert one(parse_integer, raw) == expected


@pytest.mark.parametrize("raw", ["nan", "inf", "99999999999999999999"])
def test_parse_integer_unreadable_numbers_become_null(raw: str) -> None:
    assert one(parse_integer, raw) is None


# --- USCC ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("91350200776049653A", "91350200776049653A"),
        ("91350200776049653a", "91350200776049653A"),
        ("91440101ma5cjq4n59", "91440101MA5CJQ4N59"),
        (" 9135 0200 7760 4965 3A ", "91350200776049653A"),
        ("9135\u30000200776049653A", "91350200776049653A"),  # ideographic space
        ("９１３５０２００７７６０４９６５３Ａ", "91350200776049653A"),
        ("９１４４０１０１ｍａ５ｃｊｑ４ｎ５９", "91440101MA5CJQ4N59"),
        ("9135-0200-7760-4965-3A", "91350200776049653A"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_normalise_uscc(raw: str | None, expected: str | None) -> None:
    assert one(normalise_uscc, raw) == expected


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("91350200776049653A", True),  # docs/contracts.md#uscc-check example
        ("91440101MA5CJQ4N59", True),  # docs/contracts.md#uscc-check example
        ("91350200776049653B", False),  # check character changed
        ("91350200776049653", False),  # 17 characters
        ("91440101MA5CJQ4N58", False),  # check character changed
        ("91440101MA5CJQ4N5", False),
        ("91350200776049653AA", False),
        ("91350200776O49653A", False),  # O is not in the charset
        (None, False),
    ],
)
def test_uscc_is_valid(code: str | None, valid: bool) -> None:
    series = pl.Series("uscc", [code], dtype=pl.Utf8)
    assert uscc_is_valid(series).to_list() == [valid]


def test_uscc_is_valid_after_normalising_messy_input() -> None:
    raw = ["９１３５０２００７７６０４９６５３ａ", " 91440101 ma5cjq4n59", "91440101MA5CJQ4N58"]
    frame = pl.DataFrame({"v": raw}).select(normalise_uscc(pl.col("v")))
    assert uscc_is_valid(frame.to_series()).to_list() == [True, True, False]


def test_uscc_is_valid_keeps_order_and_length_with_repeats() -> None:
    codes = ["91350200776049653A", "X", "91350200776049653A", None, "X"]
    series = pl.Series(codes, dtype=pl.Utf8)
    assert uscc_is_valid(series).to_list() == [True, False, True, False, False]


_USCC_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@st.composite
def _usccs(draw: st.DrawFn) -> str:
    """Codes near the valid ones: some correct, some with a wrong character or check digit,
    some with characters only stdnum's cleaning knows (dashes, spaces, full-width)."""
    head = draw(st.text(alphabet=_USCC_CHARS, min_size=17, max_size=17))
    code = (
        head + stdnum_uscc.calc_check_digit(head + "0")
        if all(c in "0123456789ABCDEFGHJKLMNPQRTUWXY" for c in head)
        else head + "0"
    )
    mutation = draw(st.sampled_from(["none", "replace", "insert"]))
    if mutation == "none":
        return code
    at = draw(st.integers(0, 17))
    char = draw(st.sampled_from([*_USCC_CHARS, "–", "-", " ", "\u3000", "５", "a", "\x1f"]))
    return code[:at] + char + code[at + (mutation == "replace") :]


@given(st.lists(_usccs(), max_size=40))
@settings(max_examples=150, deadline=None)
def test_uscc_is_valid_agrees_with_stdnum(codes: list[str]) -> None:
    """The vectorised check of plain codes gives python-stdnum's verdict on every code."""
    series = pl.Series("uscc", codes, dtype=pl.Utf8)
    assert uscc_is_valid(series).to_list() == [stdnum_uscc.is_valid(c) for c in codes]


# --- enums, lists, booleans ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enum", "raw", "expected"),
    [
        ("firm_type", "设计", "design"),
        ("firm_type", "设计单位", "design"),
        ("firm_type", "design", "design"),
        ("firm_type", "DESIGN", "design"),
        ("firm_type", "Ｄｅｓｉｇｎ", "design"),
        ("firm_type", " 监理 ", "supervision"),
        ("firm_type", "人防工程监理单位", "supervision"),
        ("firm_type", "防护设备", "protective_equipment"),
        ("firm_type", "人防设备", "protective_equipment"),
        ("firm_type", "审图", "drawing_review"),
        ("firm_type", "检测", "testing"),
        ("firm_type", "施工", None),
        ("firm_status", "存续", "正常"),
        ("firm_status", "revoked", "吊销"),
        ("penalty_status", "撤销", "已撤销"),
        ("penalty_status", "已撤销", "已撤销"),
        ("penalty_status", "生效", "有效"),
        ("penalty_status", "行政复议中", "复议中"),
        ("case_decision", "撤销", "撤销"),  # same spelling, another enum, another meaning
        ("procedure", "一般程序", "普通"),
        ("review_result", "合格", "合格"),
        ("inspection_result", "合格", "未发现问题"),
        ("inspection_result", "责令整改", "发现问题"),
        ("circular_level", "市级（直辖市）", "省"),
        ("circular_level", "市级(直辖市)", "省"),
        ("circular_level", "市级", "市"),
        ("commendation_level", "行业协会", "协会"),
        ("violation_category", "其他", "其他违反人防法规行为"),
        ("penalty_status", "unknown", None),
        ("penalty_status", "", None),
        ("penalty_status", None, None),
    ],
)
def test_map_enum(enum: str, raw: str | None, expected: str | None) -> None:
    lookup = default_contracts().enum_lookup(enum)
    assert one(lambda e: map_enum(e, lookup), raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("设计、监理", ["设计", "监理"]),
        ("设计，监理", ["设计", "监理"]),
        ("设计,监理", ["设计", "监理"]),
        ("设计；监理", ["设计", "监理"]),
        ("设计;监理", ["设计", "监理"]),
        ("设计/监理", ["设计", "监理"]),
        ("设计 监理", ["设计", "监理"]),
        ("设计\u3000监理", ["设计", "监理"]),
        ("设计|监理", ["设计", "监理"]),
        ("J001、 J002 ,J003", ["J001", "J002", "J003"]),
        ("、设计、、监理、", ["设计", "监理"]),
        ("Ｊ００１，Ｊ００２", ["J001", "J002"]),
        ("J001", ["J001"]),
        ("", None),
        (None, None),
    ],
)
def test_split_list(raw: str | None, expected: list[str] | None) -> None:
    assert one(split_list, raw) == expected


@pytest.mark.parametrize(
    ("enum", "raw", "expected"),
    [
        ("penalty_type", "警告、罚款", ["警告", "罚款"]),
        ("penalty_type", "warning/fine", ["警告", "罚款"]),
        ("penalty_type", "通报；降低资质", ["通报批评", "降低资质等级"]),
        ("firm_type", "设计, 监理 , 防护设备", ["design", "supervision", "protective_equipment"]),
        ("firm_type", "设计、施工", ["design", None]),  # unknown item kept as a null element
        ("firm_type", None, None),
    ],
)
def test_map_enum_list(enum: str, raw: str | None, expected: list[str | None] | None) -> None:
    lookup = default_contracts().enum_lookup(enum)
    assert one(lambda e: map_enum_list(e, lookup), raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("是", True),
        ("否", False),
        ("Y", True),
        ("n", False),
        ("yes", True),
        ("No", False),
        ("true", True),
        ("FALSE", False),
        ("T", True),
        ("f", False),
        ("1", True),
        ("0", False),
        ("１", True),
        ("ｙｅｓ", True),
        ("在岗", True),
        ("离岗", False),
        ("不在岗", False),
        (" 是 ", True),
        ("也许", None),
        ("2", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_bool(raw: str | None, expected: bool | None) -> None:
    assert one(parse_bool, raw) is expected
