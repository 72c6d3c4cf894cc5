"""One pattern for every name that becomes a file or folder name (`models.identifiers`)."""

from __future__ import annotations

import pytest

from models.identifiers import SAFE_NAME_MAX, UnsafeNameError, check_safe_name, is_safe_name

SAFE = ["2027Q1", "2027-03", "2027H1", "2027年第一批", "r.1", "a", "A_b-c.d", "x" * SAFE_NAME_MAX]
UNSAFE = [
    "", ".", "..", ".hidden", "-rf", "x/", "a/b", "../x", "/etc", "/tmp/x",
    "a\\b", "..\\..\\x", "C:\\Windows", "C:", "x:y", "CON", "nul", "com1", "LPT9.txt",
    "aux.csv", "evil.", "a b", "2027Q1\r\nBEGIN:VEVENT", "a\x00b", "a\tb", "\u202e2027",
    "２０２７Ｑ１", "x" * (SAFE_NAME_MAX + 1), "a*b", "a?b", "a|b", "<a>", 'a"b',
]  # fmt: skip


@pytest.mark.parametrize("name", SAFE)
def test_names_of_letters_digits_cjk_and_inner_punctuation_are_safe(name: str) -> None:
    assert is_safe_name(name) and check_safe_name(name) == name


@pytest.mark.parametrize("name", UNSAFE)
def test_paths_separators_device_names_and_controls_are_refused(name: str) -> None:
    assert not is_safe_name(name)
    with pytest.raises(UnsafeNameError) as error:
        check_safe_name(name, "抽查批次编号", "round id")
    zh, en = str(error.value).split("\n")
    assert zh.startswith("抽查批次编号") and en.startswith("round id")
    assert "\r" not in str(error.value) and "\x00" not in str(error.value)  # shown as repr
