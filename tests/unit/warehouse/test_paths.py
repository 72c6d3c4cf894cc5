"""Every write, rename and delete stays under its root (`warehouse.paths`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse.paths import (
    PathOutsideRootError,
    confined,
    output_file,
    output_folder,
    remove_tree,
    rename_within,
)


@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    folder = tmp_path / "sentinel"
    folder.mkdir()
    (folder / "keep.txt").write_text("precious", encoding="utf-8")
    return folder


def intact(folder: Path) -> bool:
    return (
        sorted(p.name for p in folder.iterdir()) == ["keep.txt"]
        and (folder / "keep.txt").read_text(encoding="utf-8") == "precious"
    )


def test_a_path_under_the_root_is_returned_resolved(tmp_path: Path) -> None:
    root = tmp_path / "reports"
    assert confined(root, "rounds", "2027Q1") == (root / "rounds" / "2027Q1").resolve()
    assert confined(root, "a/../b") == (root / "b").resolve()


@pytest.mark.parametrize("part", ["..", "../sentinel", "/etc", "rounds/../../sentinel"])
def test_absolute_paths_and_dot_dot_leave_the_root_and_are_refused(
    tmp_path: Path, sentinel: Path, part: str
) -> None:
    with pytest.raises(PathOutsideRootError, match="outside its root"):
        confined(tmp_path / "reports", part)
    with pytest.raises(PathOutsideRootError):
        confined(tmp_path / "reports", str(sentinel))
    assert intact(sentinel)


def test_a_symlink_out_of_the_root_is_refused_and_never_deleted_through(
    tmp_path: Path, sentinel: Path
) -> None:
    root = tmp_path / "reports"
    (root / "rounds").mkdir(parents=True)
    (root / "rounds" / "2027Q1").symlink_to(sentinel, target_is_directory=True)
    (root / "linked").symlink_to(sentinel, target_is_directory=True)
    with pytest.raises(PathOutsideRootError):
        confined(root, "rounds", "2027Q1")
    for link in (root / "rounds" / "2027Q1", root / "linked"):
        with pytest.raises(PathOutsideRootError):
            remove_tree(root, link)
        with pytest.raises(PathOutsideRootError):
            rename_within(root, link, root / "moved")
    with pytest.raises(PathOutsideRootError):
        remove_tree(root, root)
    assert intact(sentinel)


def test_a_real_folder_under_the_root_is_renamed_and_removed(tmp_path: Path) -> None:
    root = tmp_path / "reports"
    (root / "a").mkdir(parents=True)
    moved = rename_within(root, root / "a", root / "b")
    assert moved.is_dir() and not (root / "a").exists()
    remove_tree(root, moved)
    remove_tree(root, moved)  # already gone: nothing to do
    assert not moved.exists()


def test_an_output_folder_is_new_empty_or_an_earlier_output_of_the_same_kind(
    tmp_path: Path, sentinel: Path
) -> None:
    assert output_folder(tmp_path / "new", "feed_info.csv") == (tmp_path / "new").resolve()
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "feed_info.csv").write_text("x", encoding="utf-8")
    assert output_folder(earlier, "feed_info.csv") == earlier.resolve()
    link = tmp_path / "link"
    link.symlink_to(sentinel, target_is_directory=True)
    for refused in (sentinel, link, sentinel / "keep.txt"):
        with pytest.raises(PathOutsideRootError):
            output_folder(refused, "feed_info.csv")
    for refused in (sentinel, link, tmp_path / "x.csv"):
        with pytest.raises(PathOutsideRootError):
            output_file(refused, ".xlsx")
    assert intact(sentinel)
