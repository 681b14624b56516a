"""The eda pipeline run by Kedro on small validated splits written into a project copy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from multiclass_segmentation.pipelines.eda.pipeline import SPLITS
from tests.conftest import run_kedro
from tests.manifests import write_split

FIGURES = ("image_sizes", "class_pixels", "objects_per_image", "object_sizes", "cooccurrence")


def _validated_split(num_images: int) -> dict:
    """Images of 16x16 with a 4x4 cat square; every second one adds a 3x3 dog and an ignore row."""
    rng = np.random.default_rng(num_images)
    masks = []
    for index in range(num_images):
        mask = np.zeros((16, 16), dtype=np.uint8)
        mask[1:5, 1:5] = 1
        if index % 2:
            mask[10:13, 10:13] = 2
            mask[15, :] = 255
        masks.append(mask)
    return {
        "ids": [f"image_{index}" for index in range(num_images)],
        "images": [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in masks],
        "masks": masks,
    }


@pytest.mark.slow
def test_eda_pipeline_writes_reports_figures_and_class_weights(project_copy: Path):
    sizes = {"train": 4, "val": 2, "test": 3}
    dataset = project_copy / "dataset"
    for split in SPLITS:
        manifest = write_split(dataset, split, **_validated_split(sizes[split]))
        manifest.to_csv(project_copy / "data/03_primary" / f"{split}.csv", index=False)

    # Objects here are 9 and 16 pixels, below the default speck size of 20.
    params = {"eda": {"min_component_pixels": 5}, "dataset": {"root": str(dataset)}}
    run_kedro(project_copy, env="base", pipeline="eda", params=params)

    reporting = project_copy / "data/08_reporting"
    report = json.loads((reporting / "eda.json").read_text())
    assert report["min_component_pixels"] == 5
    train = report["splits"]["train"]
    assert train["num_images"] == 4
    assert train["class_pixels"]["cat"]["pixels"] == 4 * 16
    assert train["class_pixels"]["dog"]["pixels"] == 2 * 9
    assert train["ignore_pixels"] == 2 * 16
    assert train["cooccurrence"] == [[4, 4, 2], [4, 4, 2], [2, 2, 2]]
    assert report["splits"]["test"]["images_with_class"] == {"background": 3, "cat": 3, "dog": 1}
    assert train["objects_per_image"]["dog"]["distribution"] == {"0": 2, "1": 2}

    weights = json.loads((project_copy / "data/04_feature/class_weights.json").read_text())
    assert weights["recommended"] == "median_frequency"
    assert weights["weights"] == weights["median_frequency"]
    assert np.mean(weights["weights"]) == pytest.approx(1.0, abs=1e-5)
    assert weights["weights"][0] < weights["weights"][1] < weights["weights"][2]

    figures = reporting / "figures"
    for what in (*FIGURES, "samples"):
        assert (figures / f"eda_{what}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", what
    markdown = (reporting / "eda.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert len(links) == len(FIGURES) + 1
    assert all((reporting / link).is_file() for link in links)
