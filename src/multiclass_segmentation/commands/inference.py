"""Labelling images from a notebook or a script with the project's trained model.

from multiclass_segmentation.commands.inference import load_segmenter, predict

segmenter = load_segmenter(".", env="base")
mask = predict(segmenter, "photo.jpg")  # H x W uint8 class ids
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from kedro.io import Version
from PIL import Image

from multiclass_segmentation.core.segmenter import Segmenter
from multiclass_segmentation.errors import MissingInputError
from multiclass_segmentation.io.imaging import rgb_array


def load_segmenter(
    project_path: str | Path = ".", env: str = "base", version: str | None = None
) -> Segmenter:
    """The ``trained_model`` of ``env``'s hypothesis, read through the project's catalog.

    ``version`` is a Kedro version folder name (e.g. ``2026-01-02T10.00.00.000Z``);
    without it the latest model is loaded.
    """
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    project_path = Path(project_path).resolve()
    bootstrap_project(project_path)
    with KedroSession.create(project_path=project_path, env=env) as session:
        catalog = session.load_context().catalog
    model = catalog.get("trained_model", version=Version(version, None))
    if not model.exists():
        which = f"version {version} of the trained model" if version else "trained model"
        raise MissingInputError(
            f"There is no {which} in environment '{env}' ({model}): run "
            f"`kedro run --pipelines training --env {env}` first, or pass an existing version."
        )
    return model.load()


def predict(
    segmenter: Segmenter,
    image: np.ndarray | Image.Image | str | Path,
    *,
    hflip: bool = False,
    scales: Sequence[float] = (1.0,),
) -> np.ndarray:
    """The predicted mask (H x W uint8 class ids) at the image's own size.

    ``image`` is a uint8 array (H x W, H x W x 3 or H x W x 4), a PIL image or
    the path of an image file; ``hflip`` and ``scales`` are test-time augmentation.
    """
    if isinstance(image, (str, Path)):
        with Image.open(image) as opened:
            rgb = rgb_array(opened)
    elif isinstance(image, np.ndarray):
        if image.dtype != np.uint8:
            raise ValueError(f"predict takes uint8 image arrays, got {image.dtype}")
        rgb = rgb_array(Image.fromarray(image))
    else:
        rgb = rgb_array(image)
    return segmenter.predict(rgb, hflip=hflip, scales=tuple(scales))
