"""Small datasets on disk for the data_validation tests, read back as the catalog reads them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from kedro_datasets.partitions import PartitionedDataset
from PIL import Image

from multiclass_segmentation.config.common import ClassesParams, DatasetParams
from multiclass_segmentation.config.data_validation import DataValidationParams
from multiclass_segmentation.io import imaging
from multiclass_segmentation.pipelines.data_validation.nodes import (
    build_report,
    build_validated_split,
    inspect_split,
)
from multiclass_segmentation.pipelines.data_validation.pipeline import SPLITS

SIZE = 32
CLASSES = ClassesParams(
    names=("background", "cat", "dog"),
    ids=(0, 1, 2),
    colors=("#4d4d4d", "#f28e2b", "#4e79a7"),
    ignore_index=255,
    background_id=0,
)
PARAMS = DataValidationParams(report_path="data/08_reporting/data_validation.md")
GOOD_COUNTS = {"train": 3, "val": 2, "test": 2}


def picture(seed: int, size: int = SIZE) -> np.ndarray:
    """A smooth RGB picture; different seeds give perceptually different pictures."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] / size
    channels = [
        sum(
            np.cos(2 * np.pi * (rng.uniform(0, 2) * x + rng.uniform(0, 2) * y + rng.uniform()))
            for _ in range(3)
        )
        for _ in range(3)
    ]
    image = np.stack(channels, axis=-1)
    image = (image - image.min()) / (image.max() - image.min())
    return (image * 255).astype(np.uint8)


def label_mask(class_id: int, size: int = SIZE) -> np.ndarray:
    """Background with a square of ``class_id`` in the middle."""
    mask = np.zeros((size, size), dtype=np.uint8)
    mask[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = class_id
    return mask


def write_image(path: Path, image: np.ndarray | Image.Image, **save_args) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    image.save(path, **save_args)
    return path


def image_path(root: Path, split: str, name: str) -> Path:
    return root / "img" / split / name


def mask_path(root: Path, split: str, name: str) -> Path:
    return root / "labels" / split / name


def write_good_dataset(root: Path, counts: dict[str, int] = GOOD_COUNTS) -> Path:
    """Distinct pairs named <split>_<i>, cat and dog masks alternating."""
    seed = 0
    for split, count in counts.items():
        for index in range(count):
            stem = f"{split}_{index}"
            write_image(image_path(root, split, f"{stem}.jpg"), picture(seed), quality=95)
            write_image(mask_path(root, split, f"{stem}.png"), label_mask(1 + index % 2))
            seed += 1
    return root


def load_split(root: Path, split: str) -> tuple[dict, dict]:
    """The split's image and mask partitions, loaded as catalog.yml's raw_*_{split} load them."""
    return tuple(
        PartitionedDataset(
            path=str(root / folder / split),
            dataset="multiclass_segmentation.io.datasets.DecodedImageDataset",
        ).load()
        for folder in ("img", "labels")
    )


def validate(root: Path, params: DataValidationParams = PARAMS) -> tuple[dict, dict[str, dict]]:
    """The report of the dataset at ``root`` and the usable pairs of each split.

    The pairs are read back through each split's manifest, as the later
    pipelines read them: {id: (RGB image, mask)}.
    """
    inspections, pairs = {}, {}
    for split in SPLITS:
        inspections[split] = inspect_split(*load_split(root, split), CLASSES)
        manifest = build_validated_split(inspections[split], True, CLASSES, split)
        pairs[split] = {
            row.id: imaging.read_pair(root, row.image, row.mask) for row in manifest.itertuples()
        }
    report = build_report(DatasetParams(root=str(root)), CLASSES, params, **inspections)
    return report, pairs


def findings_of(report: dict, check: str) -> list[dict]:
    return [finding for finding in report["findings"] if finding["check"] == check]


def files_of(report: dict, check: str) -> list[str]:
    return sorted(file for finding in findings_of(report, check) for file in finding["files"])
