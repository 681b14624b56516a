"""What ``POST /predict`` returns: the class-id PNG, or per-class shares and optional images."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
from PIL import Image

from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.report.plotting import colorize_mask, overlay_mask


def mask_png(labels: np.ndarray) -> bytes:
    """The H x W class-id mask as an 8-bit grey PNG (pixel value = class id)."""
    return _png(Image.fromarray(labels))


def prediction_summary(
    image: np.ndarray,
    labels: np.ndarray,
    classes: ClassesParams,
    *,
    overlay_alpha: float | None = None,
    colored_mask: bool = False,
) -> dict[str, Any]:
    """Size, each class's pixel count and share, and on request the overlay (the image with
    the classes blended in at ``overlay_alpha``) and the mask in class colours, as PNG data URLs.
    """
    counts = np.bincount(labels.ravel(), minlength=classes.num_classes)
    summary: dict[str, Any] = {
        "height": int(labels.shape[0]),
        "width": int(labels.shape[1]),
        "classes": [
            {
                "id": class_id,
                "name": classes.name_of(class_id),
                "color": classes.colors[index],
                "pixels": int(counts[class_id]),
                "share": float(counts[class_id] / labels.size),
            }
            for index, class_id in enumerate(classes.ids)
        ],
    }
    if overlay_alpha is not None:
        blended = overlay_mask(image, labels, classes, overlay_alpha)
        summary["overlay"] = _data_url(Image.fromarray((blended * 255).round().astype(np.uint8)))
    if colored_mask:
        summary["colored_mask"] = _data_url(_foreground_rgba(labels, classes))
    return summary


def _foreground_rgba(labels: np.ndarray, classes: ClassesParams) -> Image.Image:
    """The foreground classes in their colours, the background transparent (for the page)."""
    rgb = (colorize_mask(labels, classes) * 255).round().astype(np.uint8)
    alpha = np.where(labels != classes.background_id, 255, 0).astype(np.uint8)
    return Image.fromarray(np.dstack([rgb, alpha]))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # Level 1: masks and overlays compress almost as well, several times faster.
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _data_url(image: Image.Image) -> str:
    return "data:image/png;base64," + base64.b64encode(_png(image)).decode("ascii")
