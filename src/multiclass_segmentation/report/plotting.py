"""Drawing helpers shared by every figure, so a class has one colour everywhere."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Patch

from multiclass_segmentation.config.common import ClassesParams


def colorize_mask(mask: np.ndarray, classes: ClassesParams) -> np.ndarray:
    """An RGB float image of a label mask; ignore pixels are white."""
    rgb = np.ones((*mask.shape, 3), dtype=np.float32)
    for class_id in classes.ids:
        rgb[mask == class_id] = classes.rgb_of(class_id)
    return rgb


def overlay_mask(
    image: np.ndarray, mask: np.ndarray, classes: ClassesParams, alpha: float = 0.5
) -> np.ndarray:
    """The image with its foreground classes blended in their colours."""
    base = image.astype(np.float32) / 255.0
    colored = colorize_mask(mask, classes)
    foreground = (mask != classes.background_id) & (mask != classes.ignore_index)
    out = base.copy()
    out[foreground] = (1 - alpha) * base[foreground] + alpha * colored[foreground]
    return out


def class_legend_handles(classes: ClassesParams, with_ignore: bool = False) -> list[Patch]:
    """Legend patches naming each class in its colour."""
    handles = [
        Patch(facecolor=classes.rgb_of(i), edgecolor="black", label=classes.name_of(i))
        for i in classes.ids
    ]
    if with_ignore:
        handles.append(Patch(facecolor="white", edgecolor="black", label="ignore"))
    return handles
