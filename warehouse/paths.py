"""Every path the product writes, renames or removes stays under its configured root.

What belongs here: the one check all writers use (round folders, publications, reports,
model artefacts, operator-chosen output folders) — a path is resolved (symlinks followed,
`..` collapsed) and must lie under its resolved root before anything is written, renamed or
deleted there — and the guarded rename and delete built on it. What does not: which names
are acceptable (`models.identifiers`), where the roots are (`warehouse.connection`).

Why both checks: a validated name cannot contain `/` or `..`, but the folders on the way may
be symlinks planted by anyone who can write to the reports folder; resolving catches that,
and a symlink is never renamed or deleted in place of the folder it stands for.
"""

from __future__ import annotations

import shutil
from pathlib import Path


class PathOutsideRootError(ValueError):
    """A path the product was about to write, rename or delete is not under its root."""

    def __init__(self, path: Path, root: Path, why: str = "") -> None:
        self.path = path
        self.root = root
        detail = f" ({why})" if why else ""
        super().__init__(
            f"路径 {str(path)!r} 不在允许的目录 {str(root)!r} 之内{detail}，未做任何写入或删除\n"
            f"path {str(path)!r} is outside its root {str(root)!r}{detail}; nothing was written "
            "or removed"
        )


def confined(root: Path, *parts: str | Path) -> Path:
    """`root / parts`, resolved, if it lies under `root` (resolved); else
    `PathOutsideRootError`. An absolute part, `..` or a symlink leading elsewhere all fail."""
    base = root.expanduser().resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and not target.is_relative_to(base):
        raise PathOutsideRootError(base.joinpath(*parts), base)
    return target


def check_under(root: Path, path: Path) -> Path:
    """`path` resolved, if it lies under `root`; else `PathOutsideRootError`."""
    return confined(root, path)


def _not_a_link(root: Path, path: Path) -> Path:
    if path.is_symlink():
        raise PathOutsideRootError(path, root, "symlink / 符号链接")
    return confined(root, path)


def remove_tree(root: Path, path: Path) -> None:
    """Delete the folder `path` (missing is fine) if it is a real folder under `root`."""
    if not path.exists() and not path.is_symlink():
        return
    target = _not_a_link(root, path)
    if target == root.expanduser().resolve():
        raise PathOutsideRootError(path, root, "the root itself / 根目录本身")
    shutil.rmtree(target)


def rename_within(root: Path, source: Path, target: Path) -> Path:
    """Rename `source` to `target`, both real paths under `root` (neither a symlink)."""
    src = _not_a_link(root, source)
    dst = _not_a_link(root, target)
    src.rename(dst)
    return dst


def output_folder(path: Path, marker: str) -> Path:
    """An operator-chosen output folder (`--out`) the product may write its files into:
    not a symlink, and either absent, empty or holding an earlier output of the same kind
    (`marker` present) — so a mistyped path never overwrites someone else's files."""
    if path.is_symlink():
        raise PathOutsideRootError(path, path.parent, "symlink / 符号链接")
    if path.exists():
        if not path.is_dir():
            raise PathOutsideRootError(path, path.parent, "not a folder / 不是文件夹")
        if any(path.iterdir()) and not (path / marker).is_file():
            raise PathOutsideRootError(
                path, path.parent, f"not empty and no {marker} / 非空且不含 {marker}"
            )
    return path.expanduser().resolve()


def output_file(path: Path, suffix: str) -> Path:
    """An operator-chosen output file (`--out FILE`): ends with `suffix`, is not a symlink
    or a folder; its folder is created if needed."""
    if not path.name.lower().endswith(suffix):
        why = f"must end with {suffix} / 须以 {suffix} 结尾"
        raise PathOutsideRootError(path, path.parent, why)
    if path.is_symlink() or path.is_dir():
        raise PathOutsideRootError(path, path.parent, "symlink or folder / 符号链接或文件夹")
    return path.expanduser().resolve()
