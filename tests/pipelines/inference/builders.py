"""Tiny saved models and folders of mixed images for the inference tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from kedro.io import Version
from PIL import Image

from multiclass_segmentation.config.model import ModelParams
from multiclass_segmentation.core.models import build_model
from multiclass_segmentation.core.segmenter import Segmenter
from multiclass_segmentation.io.datasets import SegmentationModelDataset

TINY_MODEL = ModelParams(
    architecture="Unet",
    encoder_name="resnet18",
    encoder_weights=None,
    encoder_depth=3,
    extra={"decoder_channels": [16, 8, 8]},
)
CLASS_NAMES = ["background", "cat", "dog"]


def tiny_segmenter(name: str, constant_class: int | None = None) -> Segmenter:
    """A randomly initialised 64x64 Unet, or one that predicts ``constant_class`` everywhere.

    ``name`` goes into ``info``, so a report can tell which model labelled an image.
    """
    torch.manual_seed(0)
    model = build_model(TINY_MODEL, len(CLASS_NAMES)).eval()
    if constant_class is not None:
        head = model.segmentation_head[0]
        with torch.no_grad():
            head.weight.zero_()
            head.bias.zero_()
            head.bias[constant_class] = 10.0
    return Segmenter(
        model=model,
        class_names=list(CLASS_NAMES),
        image_size=64,
        mean=(0.485, 0.456, 0.406),
        std=(0.229, 0.224, 0.225),
        hypothesis="base",
        info={"name": name},
    )


def save_model(project: Path, version: str, segmenter: Segmenter, hypothesis: str = "base") -> None:
    """Saves the segmenter where the project's catalog keeps trained_model versions."""
    dataset = SegmentationModelDataset(
        filepath=str(project / "data/06_models" / hypothesis),
        version=Version(None, version),
    )
    dataset.save(segmenter)


def write_mixed_images(folder: Path) -> dict[str, tuple[int, int]]:
    """JPEGs of two sizes, RGBA, grayscale and palette PNGs (one in a subfolder), a
    truncated JPEG and a text file.

    Returns the (height, width) of each readable file by its path relative to folder.
    """
    rng = np.random.default_rng(0)

    def pixels(height: int, width: int, channels: int) -> np.ndarray:
        return rng.integers(0, 256, (height, width, channels), dtype=np.uint8).squeeze()

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sub").mkdir(exist_ok=True)
    Image.fromarray(pixels(70, 40, 3)).save(folder / "tall.jpg", quality=90)
    Image.fromarray(pixels(50, 90, 3)).save(folder / "wide.jpg", quality=90)
    Image.fromarray(pixels(21, 33, 4)).save(folder / "sub" / "rgba.png")
    Image.fromarray(pixels(31, 25, 1)).save(folder / "gray.png")
    palette = Image.fromarray(pixels(20, 30, 3)).quantize(colors=16)
    palette.save(folder / "palette.png", transparency=0)
    jpeg = (folder / "tall.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (folder / "notes.txt").write_text("not an image")
    return {
        "tall.jpg": (70, 40),
        "wide.jpg": (50, 90),
        "sub/rgba.png": (21, 33),
        "gray.png": (31, 25),
        "palette.png": (20, 30),
    }
