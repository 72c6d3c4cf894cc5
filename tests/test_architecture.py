"""The rooms keep their doors: which package may import which, and no import cycles.

`models/` decides (pure: no storage, orchestration or UI library), `warehouse/` remembers
(no Dagster), `pipelines/` schedules, `dashboards/` only reads `warehouse` and `models`.
Checked on the source (every `import` statement, including those inside functions), so a
lazy import cannot slip past.
"""

from __future__ import annotations

import ast
import itertools
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("models", "warehouse", "pipelines", "dashboards", "generator")

FORBIDDEN: dict[str, tuple[str, ...]] = {
    "models": ("pipelines", "warehouse", "dashboards", "generator", "dagster", "duckdb",
               "streamlit", "great_expectations"),
    "warehouse": ("pipelines", "dashboards", "dagster", "streamlit"),
    "dashboards": ("pipelines", "dagster", "generator"),
    "generator": ("pipelines", "warehouse", "dashboards", "dagster", "duckdb", "streamlit"),
}  # fmt: skip
"""Top-level modules a package must never import (directly or lazily)."""


def modules(package: str) -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(path: Path, module: str, *, typing_only: bool = True) -> set[str]:
    """Every module name imported by the file (relative imports resolved); with
    `typing_only=False`, imports under `if TYPE_CHECKING:` (never run) are left out."""
    names: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if not typing_only:
        for block in [n for n in ast.walk(tree) if isinstance(n, ast.If)]:
            if isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING":
                block.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = (
                    module.split(".")[: -node.level]
                    if path.stem != "__init__"
                    else (module.split(".")[: len(module.split(".")) - node.level + 1])
                )
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


ALL_MODULES = {name: path for package in PACKAGES for name, path in modules(package).items()}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_package_imports_what_its_room_forbids(package: str) -> None:
    broken = []
    for module, path in modules(package).items():
        for name in sorted(imports(path, module)):
            top = name.split(".")[0]
            if top in FORBIDDEN[package]:
                broken.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not broken, "\n".join(broken)


def test_no_import_cycle_between_project_modules() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in ALL_MODULES.items():
        for name in imports(path, module, typing_only=False):
            # `from a.b import c` names a.b.c, which is either a module or a name in a.b
            target = name if name in ALL_MODULES else name.rpartition(".")[0]
            if target in ALL_MODULES and target != module:
                graph[module].add(target)
    cycles = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" → ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(ALL_MODULES):
        if start not in state:
            visit(start, [start])
    # a package's __init__ re-exporting its own modules is not a cycle of meaning
    cycles = [c for c in cycles if not _init_reexport(c)]
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def _init_reexport(cycle: str) -> bool:
    steps = cycle.split(" → ")
    return any(
        (ALL_MODULES[a].stem == "__init__" and b.startswith(a + "."))
        for a, b in itertools.pairwise(steps)
    )


def test_the_rule_finds_a_forbidden_import(tmp_path: Path) -> None:
    """The scanner sees imports inside functions, and `from x import y` forms."""
    file = tmp_path / "m.py"
    file.write_text("def f():\n    from dagster import asset\n    import duckdb.x\n")
    assert {"dagster", "dagster.asset", "duckdb.x"} <= imports(file, "models.m")


TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".txt", ".cfg", ".json"}
SKIPPED = {".git", ".venv", ".tools", ".mypy_cache", ".pytest_cache", ".dagster", "data"}


def _repository_texts() -> list[Path]:
    return [
        p
        for p in ROOT.rglob("*")
        if p.is_file()
        and p.suffix in TEXT_SUFFIXES
        and not SKIPPED & set(p.relative_to(ROOT).parts)
    ]


def test_the_repository_stands_on_its_own() -> None:
    """The domain reference lives in docs/: nothing points to a design document outside."""
    outside = ("DESIGN §", "DESIGN.md", "../shared/")
    allowed = {"benchmarks"}  # the public evaluation datasets are read in place, never copied
    hits = []
    for path in _repository_texts():
        if path.relative_to(ROOT).parts[0] in allowed or path == Path(__file__):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if any(marker in line for marker in outside) and "shared/data" not in line:
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not hits, "\n".join(hits)


def test_every_local_link_in_the_docs_exists() -> None:
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
    assert not broken, "\n".join(broken)
