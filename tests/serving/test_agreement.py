"""The service's masks are the inference pipeline's: same files, same model, same TTA."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import copy_project, run_kedro
from tests.pipelines.inference.builders import save_model, tiny_segmenter, write_mixed_images
from tests.serving.conftest import (
    FIRST_VERSION,
    mask_of,
    post_image,
    running_service,
    settings_for,
)

MIN_PIXEL_AGREEMENT = 0.999
MAX_MDICE_DIFFERENCE = 0.001


def mean_dice(predictions: list[np.ndarray], labels: list[np.ndarray], classes: int) -> float:
    """Dice per class over all pixels of all images, averaged over the classes."""
    prediction, label = (
        np.concatenate([p.ravel() for p in predictions]),
        np.concatenate([m.ravel() for m in labels]),
    )
    dice = [
        2
        * np.sum((prediction == c) & (label == c))
        / (np.sum(prediction == c) + np.sum(label == c))
        for c in range(classes)
    ]
    return float(np.mean(dice))


@pytest.mark.slow
def test_service_masks_equal_the_inference_pipelines(tmp_path: Path):
    project = copy_project(tmp_path)
    save_model(project, FIRST_VERSION, tiny_segmenter("first"))
    images = tmp_path / "images"
    sizes = write_mixed_images(images)
    run_kedro(
        project, env="base", pipeline="inference", params={"inference": {"input_dir": str(images)}}
    )
    (run,) = (project / "data/07_model_output/predictions/base").iterdir()
    pipeline, served = [], []
    with running_service(settings_for(project / "data/06_models/base")) as base:
        for name, size in sorted(sizes.items()):
            expected = np.array(Image.open(run / "masks" / Path(name).with_suffix(".png")))
            mask = mask_of(post_image(base, (images / name).read_bytes(), Path(name).name))
            assert mask.shape == expected.shape == size, name
            pipeline.append(expected)
            served.append(mask)
    same = [(s == p).ravel() for s, p in zip(served, pipeline, strict=True)]
    agreement = np.mean(np.concatenate(same))
    rng = np.random.default_rng(0)
    labels = [rng.integers(0, 3, mask.shape) for mask in pipeline]
    difference = abs(mean_dice(served, labels, 3) - mean_dice(pipeline, labels, 3))
    assert agreement >= MIN_PIXEL_AGREEMENT and difference <= MAX_MDICE_DIFFERENCE
    assert len(np.unique(np.concatenate([m.ravel() for m in pipeline]))) == 3, "not a constant"
