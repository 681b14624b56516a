"""The synthetic demo dataset: layout, determinism, statistics, safety."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from multiclass_segmentation.commands import synthetic
from multiclass_segmentation.commands.synthetic import (
    SyntheticDatasetParams,
    write_synthetic_dataset,
)
from multiclass_segmentation.config.common import ClassesParams

CLASSES = ClassesParams(
    names=("background", "cat", "dog"), ids=(0, 1, 2), colors=("#4d4d4d", "#f28e2b", "#4e79a7")
)
COUNTS = {"train": 12, "val": 6, "test": 6}
SETTINGS = SyntheticDatasetParams(counts=COUNTS, image_size=64, seed=3)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "dataset"
    write_synthetic_dataset(root, SETTINGS, CLASSES)
    return root


def _samples(root: Path, split: str) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (np.asarray(Image.open(image_path)), np.asarray(Image.open(mask_path)))
        for image_path, mask_path in zip(
            sorted((root / "img" / split).iterdir()),
            sorted((root / "labels" / split).iterdir()),
            strict=True,
        )
    ]


def _all_samples(root: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    return [sample for split in COUNTS for sample in _samples(root, split)]


def test_layout_matches_the_real_dataset(dataset: Path) -> None:
    assert sorted(path.name for path in dataset.iterdir()) == ["img", "labels"]
    for split, count in COUNTS.items():
        images = sorted((dataset / "img" / split).iterdir())
        masks = sorted((dataset / "labels" / split).iterdir())
        assert len(images) == len(masks) == count
        assert [path.stem for path in images] == [path.stem for path in masks]
        for image_path, mask_path in zip(images, masks, strict=True):
            with Image.open(image_path) as image, Image.open(mask_path) as mask:
                assert (image_path.suffix, image.format, image.mode) == (".jpg", "JPEG", "RGB")
                assert (mask_path.suffix, mask.format, mask.mode) == (".png", "PNG", "L")
                assert image.size == mask.size == (64, 64)


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    settings = SyntheticDatasetParams(counts={"train": 3, "val": 2}, image_size=64, seed=7)
    write_synthetic_dataset(tmp_path / "first", settings, CLASSES)
    write_synthetic_dataset(tmp_path / "second", settings, CLASSES)
    reseeded = settings.model_copy(update={"seed": 8})
    write_synthetic_dataset(tmp_path / "reseeded", reseeded, CLASSES)

    files = sorted(
        path.relative_to(tmp_path / "first") for path in (tmp_path / "first").rglob("*.*")
    )
    assert len(files) == 10
    for name in files:
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes()
    first_image = tmp_path / "first" / files[0]
    assert first_image.suffix == ".jpg"
    assert first_image.read_bytes() != (tmp_path / "reseeded" / files[0]).read_bytes()


def test_splits_share_no_image(dataset: Path) -> None:
    contents = {
        split: {path.read_bytes() for path in (dataset / "img" / split).iterdir()}
        for split in COUNTS
    }
    assert len(contents["train"] | contents["val"] | contents["test"]) == sum(COUNTS.values())


def test_each_image_holds_exactly_one_foreground_class(dataset: Path) -> None:
    for split in COUNTS:
        classes_seen = set()
        for _, mask in _samples(dataset, split):
            values = set(np.unique(mask).tolist())
            assert values <= set(CLASSES.ids)
            foreground = values - {CLASSES.background_id}
            assert len(foreground) == 1
            classes_seen |= foreground
        assert classes_seen == set(CLASSES.foreground_ids), split


def test_foreground_covers_about_nine_percent(dataset: Path) -> None:
    shares = [np.mean(mask != CLASSES.background_id) for _, mask in _all_samples(dataset)]
    assert 0.05 < np.mean(shares) < 0.14
    assert min(shares) > 0.04 and max(shares) < 0.15


def test_colour_does_not_give_the_class_away(dataset: Path) -> None:
    object_colours = {class_id: [] for class_id in CLASSES.foreground_ids}
    background_colours = []
    for image, mask in _all_samples(dataset):
        class_id = int(mask.max())
        object_colours[class_id].append(image[mask == class_id].mean(axis=0))
        background_colours.append(image[mask == CLASSES.background_id].mean(axis=0))
    first, second = (np.array(object_colours[class_id]) for class_id in CLASSES.foreground_ids)
    background = np.array(background_colours)
    spread = np.concatenate([first, second]).std(axis=0)
    assert np.all(np.abs(first.mean(axis=0) - second.mean(axis=0)) < spread)
    for colours in (first, second):
        assert np.all(np.abs(colours.mean(axis=0) - background.mean(axis=0)) < spread)


def test_existing_root_is_refused_and_untouched(tmp_path: Path) -> None:
    root = tmp_path / "dataset"
    root.mkdir()
    (root / "mine.txt").write_text("user data")
    with pytest.raises(FileExistsError, match="already exists"):
        write_synthetic_dataset(root, SETTINGS, CLASSES)
    assert [path.name for path in root.iterdir()] == ["mine.txt"]
    assert (root / "mine.txt").read_text() == "user data"
    assert [path.name for path in tmp_path.iterdir()] == ["dataset"]


def test_failure_midway_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def failing_encode(array: np.ndarray, image_format: str) -> bytes:
        calls.append(image_format)
        if len(calls) > 3:
            raise OSError("disk full")
        return b"data"

    monkeypatch.setattr(synthetic, "_encode", failing_encode)
    with pytest.raises(OSError, match="disk full"):
        write_synthetic_dataset(tmp_path / "dataset", SETTINGS, CLASSES)
    assert list(tmp_path.iterdir()) == []


def test_counts_must_be_positive_and_name_plain_folders() -> None:
    with pytest.raises(ValidationError, match="counts.val must be at least 1"):
        SyntheticDatasetParams(counts={"train": 4, "val": 0})
    with pytest.raises(ValidationError, match="'../train' is not a folder name"):
        SyntheticDatasetParams(counts={"../train": 4})


def test_command_line_writes_the_counts_and_refuses_an_existing_root(
    tmp_path: Path, project_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project_copy)
    root = tmp_path / "by_hand"
    args = ["--root", str(root), "--train", "3", "--val", "2", "--test", "1", "--image-size", "64"]
    assert synthetic.main(args) == 0
    assert [len(list((root / "labels" / split).iterdir())) for split in COUNTS] == [3, 2, 1]
    with pytest.raises(SystemExit) as exit_info:
        synthetic.main(args)
    assert exit_info.value.code == 1


def test_demo_context_generates_the_dataset(project_copy: Path) -> None:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="demo") as session:
        session.load_context()
    demo = project_copy / "data" / "01_raw" / "demo"
    assert len(list((demo / "img" / "train").iterdir())) == 16
    assert len(list((demo / "labels" / "val").iterdir())) == 8
