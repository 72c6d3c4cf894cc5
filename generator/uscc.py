"""Vectorised construction of valid 统一社会信用代码 (GB 32100-2015) for synthetic firms.

What belongs here: turning arrays of (district code, organisation-code number) into 18-character
USCCs with correct check characters, fast enough for 100,000 firms at once. The checksum is the
one in docs/contracts.md#uscc-check (weights 3^(i-1) mod 31); tests cross-check it with
`stdnum.cn.uscc`.

What does not: validating input USCCs (ingestion's job) or choosing which firms exist.
"""

from __future__ import annotations

import numpy as np

from models.uscc import CHARSET, WEIGHTS

ALPHABET = CHARSET
_ASCII = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
_WEIGHTS = np.array(WEIGHTS, dtype=np.int64)
# GB 11714 organisation code: 8 characters, then a check character (weights below, mod 11).
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)


def _digits(numbers: np.ndarray, base: int, width: int) -> np.ndarray:
    """Base-`base` digits of each number, most significant first, as an (n, width) array."""
    powers = base ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (numbers[:, None] // powers) % base


def _org_codes(numbers: np.ndarray, is_new: np.ndarray) -> np.ndarray:
    """Organisation codes as alphabet indices, (n, 9).

    Firms registered before the 2015 reform keep their 8-digit organisation code; newer ones
    got codes issued by the market regulator that start with `MA` (e.g. 91310115MA1H…).
    Both carry the GB 11714 check character.
    """
    old = _digits(numbers, 10, 8)
    new = np.column_stack(
        [
            np.full(len(numbers), ALPHABET.index("M")),
            np.full(len(numbers), ALPHABET.index("A")),
            _digits(numbers, 31, 6),
        ]
    )
    body = np.where(is_new[:, None], new, old)
    # GB 11714 values letters A=10 … Z=35; the USCC alphabet skips I O S V Z, so map back.
    letters = _ASCII[body].astype(np.int64)
    value = np.where(letters >= ord("A"), letters - ord("A") + 10, letters - ord("0"))
    check = (11 - (value * _ORG_WEIGHTS).sum(axis=1) % 11) % 11
    check_index = np.where(check == 10, ALPHABET.index("X"), check)
    return np.column_stack([body, check_index])


def check_index(body: np.ndarray) -> np.ndarray:
    """The GB 32100 check character (as an alphabet index) of each 17-character body."""
    return (31 - (body * _WEIGHTS).sum(axis=1) % 31) % 31


def make_usccs(district_codes: np.ndarray, numbers: np.ndarray, is_new: np.ndarray) -> np.ndarray:
    """USCC strings for legal-person enterprises (登记管理部门 9, 类别 1).

    `district_codes` holds each firm's 6-digit division code; `numbers` its organisation-code
    number (< 10^8 for old-style codes, < 31^6 for `MA` codes, per `is_new`). Numbers that are
    distinct within each style give distinct USCCs.
    """
    n = len(district_codes)
    body = np.empty((n, 17), dtype=np.int64)
    body[:, 0] = 9
    body[:, 1] = 1
    body[:, 2:8] = _digits(district_codes.astype(np.int64), 10, 6)
    body[:, 8:] = _org_codes(numbers, is_new)
    full = np.column_stack([body, check_index(body)])
    return _ASCII[full].copy().view("S18").ravel().astype(str)
