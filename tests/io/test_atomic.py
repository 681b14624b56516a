"""Atomic writes: a target is replaced whole at the end, or left as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from multiclass_segmentation.io.atomic import is_empty_dir, staged_directory, write_atomically


def test_write_atomically_replaces_the_file_and_leaves_no_temporary(tmp_path: Path):
    target = tmp_path / "sub" / "results.json"

    write_atomically(target, lambda path: path.write_text("first"))
    write_atomically(target, lambda path: path.write_text("second"))

    assert target.read_text() == "second"
    assert [path.name for path in target.parent.iterdir()] == ["results.json"]


def test_write_atomically_stages_beside_the_target_under_a_hidden_name(tmp_path: Path):
    seen: list[Path] = []

    def write(path: Path) -> None:
        seen.append(path)
        path.write_text("x")

    write_atomically(tmp_path / "a.ckpt", write)

    # .<name>.<random>/<name>: the pattern checkpointing.PARTIAL_CHECKPOINT_PATTERN finds.
    assert seen[0].name == "a.ckpt"
    assert seen[0].parent.parent == tmp_path
    assert seen[0].parent.name.startswith(".a.ckpt.")


def test_a_failed_write_keeps_the_earlier_file_whole(tmp_path: Path):
    target = tmp_path / "results.json"
    target.write_text("earlier")

    def half_write(path: Path) -> None:
        path.write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        write_atomically(target, half_write)

    assert target.read_text() == "earlier"
    assert list(tmp_path.iterdir()) == [target]


def test_write_atomically_can_write_a_folder(tmp_path: Path):
    target = tmp_path / "model"

    write_atomically(target, lambda path: (path.mkdir(), (path / "w.bin").write_bytes(b"1")))

    assert (target / "w.bin").read_bytes() == b"1"
    assert [path.name for path in tmp_path.iterdir()] == ["model"]


def test_staged_directory_becomes_the_target(tmp_path: Path):
    target = tmp_path / "data" / "dataset"

    with staged_directory(target) as staging:
        assert staging.is_dir() and is_empty_dir(staging)
        assert not target.exists()
        (staging / "img").mkdir()

    assert [path.name for path in target.iterdir()] == ["img"]
    assert [path.name for path in target.parent.iterdir()] == ["dataset"]


def test_staged_directory_replaces_an_empty_target(tmp_path: Path):
    target = tmp_path / "dataset"
    target.mkdir()

    with staged_directory(target) as staging:
        (staging / "labels").mkdir()

    assert [path.name for path in target.iterdir()] == ["labels"]


def test_staged_directory_refuses_a_target_holding_anything(tmp_path: Path):
    target = tmp_path / "dataset"
    target.mkdir()
    (target / "mine.txt").write_text("keep")

    with pytest.raises(FileExistsError, match="never overwritten"), staged_directory(target):
        pytest.fail("the block must not run")

    assert (target / "mine.txt").read_text() == "keep"
    assert [path.name for path in tmp_path.iterdir()] == ["dataset"]


def test_a_failed_block_leaves_neither_target_nor_staging(tmp_path: Path):
    target = tmp_path / "dataset"

    with pytest.raises(RuntimeError, match="failed"), staged_directory(target) as staging:
        (staging / "img").mkdir()
        raise RuntimeError("failed")

    assert list(tmp_path.iterdir()) == []


def test_is_empty_dir(tmp_path: Path):
    assert is_empty_dir(tmp_path)
    (tmp_path / "file").write_text("")
    assert not is_empty_dir(tmp_path)
    assert not is_empty_dir(tmp_path / "file")
    assert not is_empty_dir(tmp_path / "missing")
