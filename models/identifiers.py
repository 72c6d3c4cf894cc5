"""Names that become file or folder names: one pattern, checked wherever a name is parsed.

What belongs here: the rule every identifier obeys before it may name a file or a folder
(round ids today; export or scenario names when they come), as a plain function and as a
pydantic type, so the CLI options, the Dagster run config and the YAML files are checked by
the same code and fail with the same bilingual message. What does not: where files live or
the check that a path stays under its root (`warehouse.paths`).

The pattern (a deliberate choice, see the README's "Production deployment"):
- letters A–Z a–z, digits 0–9 and CJK ideographs (U+3400–U+4DBF, U+4E00–U+9FFF: Chinese
  regulators name rounds like `2027年第一批`); `-`, `_` and `.` inside the name;
- the first character a letter, digit or ideograph (never `.`, so no hidden files, `.` or
  `..`; never `-`, so a name is never read as a command-line option), the last never `.`
  (Windows drops it);
- at most 64 characters (192 bytes of UTF-8: far below any file system's 255-byte limit,
  even with the prefixes and suffixes the product adds);
- not a Windows device name (`CON`, `NUL`, `COM1`, `lpt9.txt` …), since reports are opened
  on Windows desktops.
Everything else — `/`, `\\`, `:`, spaces, control characters, full-width look-alikes — is
refused rather than rewritten: a round id is announced, so it must be exactly what was typed.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

SAFE_NAME_MAX = 64
_WORD = "0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff"
SAFE_NAME = re.compile(rf"[{_WORD}](?:[{_WORD}._-]{{0,{SAFE_NAME_MAX - 2}}}[{_WORD}_-])?")
"""A whole safe name (use `fullmatch`)."""
_DEVICE = re.compile(r"(?i)(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\..*)?")


class UnsafeNameError(ValueError):
    """A name that must not become a file or folder name; the message is Chinese, then English
    on the next line."""

    def __init__(self, value: str, what_zh: str, what_en: str) -> None:
        shown = repr(value if len(value) <= 80 else value[:80] + "…")
        self.zh = (
            f"{what_zh} {shown} 不能用作文件名：只允许字母、数字、汉字和 - _ .（以字母、数字或"
            f"汉字开头，不以 . 结尾，最长 {SAFE_NAME_MAX} 个字符，不能是 Windows 设备名）"
        )
        self.en = (
            f"{what_en} {shown} cannot name a file: use letters, digits, CJK characters and "
            f"- _ . (starting with a letter, digit or CJK character, not ending with '.', at most "
            f"{SAFE_NAME_MAX} characters, not a Windows device name)"
        )
        super().__init__(f"{self.zh}\n{self.en}")


def is_safe_name(value: str) -> bool:
    return SAFE_NAME.fullmatch(value) is not None and _DEVICE.fullmatch(value) is None


def check_safe_name(value: str, what_zh: str = "名称", what_en: str = "name") -> str:
    """`value` unchanged if it may name a file or folder; else `UnsafeNameError`."""
    if not is_safe_name(value):
        raise UnsafeNameError(value, what_zh, what_en)
    return value


def _round_id(value: str) -> str:
    return check_safe_name(value, "抽查批次编号", "round id")


RoundId = Annotated[str, AfterValidator(_round_id)]
"""A round id (`2027Q1`, `2027-03`, `2027年第一批`): it names the round's folder and files."""
