"""Every `# type: ignore[...]` in the repository says why, right after it on the same line.

    x = f(y)  # type: ignore[arg-type]  # polars stubs: Series.min() may be any scalar

A bare ignore hides a type error nobody can judge later (is the stub wrong, or the code?), so
one without a reason fails here, listed by file and line. Comments are found with `tokenize`,
so the same words inside a string (like the example above) do not count.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXCLUDED_TOP = {".venv", ".tools", "data"}
"""Top-level folders that are not the project's source: the environment, uv, the data."""

_IGNORE = re.compile(r"type:\s*ignore\b(?:\[[^\]]*\])?(?P<rest>.*)$")


def python_files(root: Path) -> Iterator[Path]:
    """Every .py file under `root`, outside the excluded top-level folders and hidden ones."""
    for folder, dirs, files in os.walk(root):
        at_top = Path(folder) == root
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and d != "__pycache__" and not (at_top and d in EXCLUDED_TOP)
        )
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(folder) / name


def comments(source: str) -> Iterator[tuple[int, str]]:
    """(line number, comment text) of every comment; line by line if it does not tokenize."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                yield token.start[0], token.string
    except (tokenize.TokenError, SyntaxError):
        for number, line in enumerate(source.splitlines(), start=1):
            if "#" in line:
                yield number, line[line.index("#") :]


def is_explained(comment: str) -> bool:
    """Whether the comment has no type-ignore, or text other than `#` after its last one."""
    found = list(_IGNORE.finditer(comment))
    if not found:
        return True
    return bool(found[-1].group("rest").strip().lstrip("#").strip())


def unexplained(root: Path) -> list[tuple[str, int, str]]:
    """(path relative to `root`, line number, stripped line) of every unexplained ignore."""
    found = []
    for path in python_files(root):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for number, comment in comments(source):
            if not is_explained(comment):
                found.append((path.relative_to(root).as_posix(), number, lines[number - 1].strip()))
    return found


def test_every_type_ignore_says_why() -> None:
    offenders = unexplained(ROOT)
    assert not offenders, "`# type: ignore[...]` without a reason after it:\n" + "\n".join(
        f"  {path}:{number}: {line}" for path, number, line in offenders
    )


def test_the_scan_tells_explained_from_bare_ignores(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / ".venv").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(
        "a = f()  # type: ignore[arg-type]  # stubs: f returns Any\n"
        "b = f()  # type: ignore[arg-type]\n"
        "c = f()  # type: ignore[arg-type]  #   \n"
        "d = f()  # type: ignore\n"
        "e = f()  # type:ignore[misc] - the ABC's registry\n"
        "s = '# type: ignore[arg-type]'\n"
        "t = f()  # why # type: ignore[misc]\n",
        encoding="utf-8",
    )
    (tmp_path / "data" / "x.py").write_text("x = 1  # type: ignore\n", encoding="utf-8")
    (tmp_path / ".venv" / "y.py").write_text("y = 1  # type: ignore\n", encoding="utf-8")
    assert [(path, number) for path, number, _ in unexplained(tmp_path)] == [
        ("pkg/m.py", 2),
        ("pkg/m.py", 3),
        ("pkg/m.py", 4),
        ("pkg/m.py", 7),
    ]
