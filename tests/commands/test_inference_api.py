"""The notebook API: loading the project's model and labelling one image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from multiclass_segmentation.commands.inference import load_segmenter, predict
from tests.conftest import copy_project
from tests.pipelines.inference.builders import save_model, tiny_segmenter


def test_predict_takes_an_array_a_pil_image_or_a_path(tmp_path: Path):
    segmenter = tiny_segmenter("latest")
    pixels = np.random.default_rng(0).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "image.png")
    from_array = predict(segmenter, pixels)
    assert (from_array.shape, from_array.dtype) == ((37, 53), np.uint8)
    assert set(np.unique(from_array)) <= {0, 1, 2}
    assert np.array_equal(predict(segmenter, Image.fromarray(pixels)), from_array)
    assert np.array_equal(predict(segmenter, tmp_path / "image.png"), from_array)
    with pytest.raises(ValueError, match="uint8"):
        predict(segmenter, pixels.astype(np.float32))


@pytest.mark.slow
def test_load_segmenter_reads_the_latest_or_a_chosen_version(tmp_path: Path):
    project = copy_project(tmp_path)
    with pytest.raises(
        FileNotFoundError,
        match="no trained model in environment .base.*--pipelines training --env base",
    ):
        load_segmenter(project, env="base")
    save_model(project, "2026-01-01T00.00.00.000Z", tiny_segmenter("earlier"))
    save_model(project, "2026-01-02T00.00.00.000Z", tiny_segmenter("latest"))
    assert load_segmenter(project, env="base").info == {"name": "latest"}
    earlier = load_segmenter(project, env="base", version="2026-01-01T00.00.00.000Z")
    assert earlier.info == {"name": "earlier"}
    with pytest.raises(FileNotFoundError, match="version 2025-01-01T00.00.00.000Z"):
        load_segmenter(project, env="base", version="2025-01-01T00.00.00.000Z")
