"""The unified social credit code (统一社会信用代码, GB 32100-2015): its alphabet and shape.

What belongs here: the facts of the standard that several places need — the 31 code
characters (digits and capitals without I, O, S, V, Z), the length, the check weights
(3^(i-1) mod 31) and the shape as a regular expression. The quality gate, the generator of
sample firms and the docs (docs/contracts.md) take them from here. What does not: checking a
code's check character on input (`models.normalise`, through `stdnum.cn.uscc`).
"""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The code characters, in the order of their values 0–30."""

LENGTH = 18

WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(LENGTH - 1))
"""Weights of the first 17 characters; the 18th is the check character."""

PATTERN = f"^[{CHARSET}]{{{LENGTH}}}$"
"""18 code characters (upper case; inputs are normalised before they are matched)."""
