"""Drawing helpers shared by every figure, so a class or a hypothesis has one colour everywhere."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from multiclass_segmentation.config.common import ClassesParams


def class_rgb(classes: ClassesParams, class_id: int) -> tuple[float, float, float]:
    """The class colour as RGB floats in [0, 1]."""
    return to_rgb(classes.color_of(class_id))


def hypothesis_colors(hypotheses: Iterable[str]) -> dict[str, tuple]:
    """One tab10 colour per hypothesis, by name order, so a hypothesis keeps its colour."""
    palette = colormaps["tab10"].colors
    return {h: palette[i % len(palette)] for i, h in enumerate(sorted(hypotheses))}


def message_figure(title: str, message: str) -> Figure:
    """A small figure that says what is missing, so a stale figure never stays behind."""
    figure = Figure(figsize=(6, 2))
    ax = figure.subplots()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=12)
    ax.set_title(title)
    ax.axis("off")
    return figure


def colorize_mask(mask: np.ndarray, classes: ClassesParams) -> np.ndarray:
    """An RGB float image of a label mask; ignore pixels are white."""
    rgb = np.ones((*mask.shape, 3), dtype=np.float32)
    for class_id in classes.ids:
        rgb[mask == class_id] = class_rgb(classes, class_id)
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
        Patch(facecolor=class_rgb(classes, i), edgecolor="black", label=classes.name_of(i))
        for i in classes.ids
    ]
    if with_ignore:
        handles.append(Patch(facecolor="white", edgecolor="black", label="ignore"))
    return handles
