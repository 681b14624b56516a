"""Validated splits written to disk as the data_validation pipeline hands them over."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image


def write_split(
    root: Path, split: str, ids: list[str], images: list[np.ndarray], masks: list[np.ndarray]
) -> pd.DataFrame:
    """Writes each RGB image and mask as lossless PNGs under ``root``; returns their manifest.

    The manifest holds the columns the later pipelines read: id, image and mask
    paths relative to ``root``, height and width.
    """
    rows = []
    for image_id, image, mask in zip(ids, images, masks, strict=True):
        row = {"id": image_id, "image": f"img/{split}/{image_id}.png"}
        row["mask"] = f"labels/{split}/{image_id}.png"
        for column, pixels in (("image", image), ("mask", mask)):
            path = root / row[column]
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(path)
        rows.append({**row, "height": mask.shape[0], "width": mask.shape[1]})
    return pd.DataFrame(rows, columns=["id", "image", "mask", "height", "width"])
