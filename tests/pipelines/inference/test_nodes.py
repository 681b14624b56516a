"""The inference nodes on small in-memory inputs, without Kedro."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from kedro.io import DatasetError
from PIL import Image

from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.inference import InferenceParams
from multiclass_segmentation.pipelines.inference.nodes import (
    draw_overlays,
    label_images,
    output_names,
    start_inference_run,
)
from tests.pipelines.inference.builders import CLASS_NAMES, save_model, tiny_segmenter

CLASSES = ClassesParams(
    names=tuple(CLASS_NAMES), ids=(0, 1, 2), colors=("#000000", "#ff0000", "#0000ff")
)


def _params(tmp_path: Path, **overrides) -> InferenceParams:
    settings = {
        "input_dir": str(tmp_path / "images"),
        "output_dir": str(tmp_path / "predictions"),
        "model_dir": str(tmp_path / "data/06_models/base"),
    }
    return InferenceParams.model_validate({**settings, **overrides})


def _unreadable() -> Image.Image:
    """What a partition's load raises for a file PIL cannot decode."""
    raise DatasetError("Failed while loading data from dataset") from OSError("truncated")


class RecordingSegmenter:
    """Predicts the background everywhere and records the test-time augmentation asked for."""

    class_names = CLASS_NAMES
    hypothesis = "base"
    info: dict = {}

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def predict(self, image: np.ndarray, **tta) -> np.ndarray:
        self.calls.append({"shape": image.shape, **tta})
        return np.zeros(image.shape[:2], dtype=np.uint8)


def test_output_names_keep_subfolders_and_tell_same_stem_files_apart():
    names = output_names(["a.jpg", "a.png", "b.JPEG", "sub/b.jpg", "c"])
    assert names == {
        "a.jpg": "a.jpg.png",
        "a.png": "a.png.png",
        "b.JPEG": "b.png",
        "sub/b.jpg": "sub/b.png",
        "c": "c.png",
    }


def test_start_checks_the_folders_and_the_model_and_names_the_run(tmp_path: Path):
    params = _params(tmp_path)
    (tmp_path / "images" / "sub").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="holds no files"):
        start_inference_run(params)
    (tmp_path / "images" / "sub" / "a.jpg").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="no trained model in .*--pipelines training"):
        start_inference_run(params)
    inside = _params(tmp_path, output_dir=str(tmp_path / "images" / "predictions"))
    with pytest.raises(ValueError, match="inside inference.input_dir"):
        start_inference_run(inside)
    save_model(tmp_path, "2026-01-01T00.00.00.000Z", tiny_segmenter("latest"))
    run = start_inference_run(params)
    assert len(run) == len("2026-01-01T00.00.00.000Z") and run.endswith("Z")


def test_label_images_skips_unreadable_files_and_passes_the_tta(tmp_path: Path):
    segmenter = RecordingSegmenter()
    params = _params(tmp_path, tta={"hflip": True, "scales": [0.5, 1.0]})
    images = {
        "b.png": lambda: Image.new("L", (7, 5)),
        "a.jpg": lambda: Image.new("RGB", (3, 4)),
        "broken.jpg": _unreadable,
        "floats.tif": lambda: Image.fromarray(np.zeros((2, 2), dtype=np.float32)),
    }
    masks, labelled, report = label_images(images, segmenter, "run1", CLASSES, params)
    assert segmenter.calls == [], "the model runs only when Kedro saves each mask"
    assert labelled == {"a.jpg": "a.png", "b.png": "b.png"}
    assert {key: masks[key]().size for key in masks} == {
        "run1/masks/a.png": (3, 4),
        "run1/masks/b.png": (7, 5),
    }
    assert segmenter.calls == [
        {"shape": (4, 3, 3), "hflip": True, "scales": [0.5, 1.0]},
        {"shape": (5, 7, 3), "hflip": True, "scales": [0.5, 1.0]},
    ]
    assert report["run1/report"]["unreadable"] == [
        {"file": "broken.jpg", "error": "OSError: truncated"},
        {
            "file": "floats.tif",
            "error": "UnsupportedImageError: mode F has no lossless conversion to 8-bit RGB; "
            "convert the file yourself",
        },
    ]


def test_label_images_refuses_a_folder_without_a_single_image(tmp_path: Path):
    with pytest.raises(ValueError, match="None of the 1 files.*broken.jpg: OSError"):
        label_images(
            {"broken.jpg": _unreadable}, RecordingSegmenter(), "run1", CLASSES, _params(tmp_path)
        )


def test_label_images_refuses_a_model_with_other_classes(tmp_path: Path):
    two_classes = ClassesParams(names=("background", "cat"), ids=(0, 1), colors=("black", "red"))
    with pytest.raises(ValueError, match=r"predicts classes \['background', 'cat', 'dog'\]"):
        label_images({}, RecordingSegmenter(), "run1", two_classes, _params(tmp_path))


def test_overlays_colour_the_saved_mask_on_the_image(tmp_path: Path):
    mask = np.zeros((2, 3), dtype=np.uint8)
    mask[0, 0] = 2
    overlays = draw_overlays(
        {"x.jpg": lambda: Image.new("RGB", (3, 2), (200, 200, 200))},
        {"run1/masks/x.png": lambda: Image.fromarray(mask)},
        {"x.jpg": "x.png"},
        "run1",
        CLASSES,
        _params(tmp_path, overlay_alpha=0.4),
    )
    pixels = np.asarray(overlays["run1/overlays/x.png"]())
    assert pixels[0, 0].tolist() == [120, 120, 222], "60% image grey, 40% the dog's blue"
    assert (pixels[1] == 200).all(), "background is left as it is"
