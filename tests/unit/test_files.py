"""domain.files.replace_text: whole or not at all, and no temporary file left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.files import replace_text


def test_a_file_is_replaced_whole_and_its_folder_made(tmp_path: Path) -> None:
    path = tmp_path / "new" / "state.json"
    replace_text(path, "one")
    replace_text(path, "two")
    assert path.read_text() == "two"
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.json"]


def test_a_failed_replace_keeps_nothing_half_written(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.mkdir()  # a folder where the file should be: the rename fails, even as root
    with pytest.raises(OSError):
        replace_text(path, "new")
    assert path.is_dir() and list(tmp_path.iterdir()) == [path]
