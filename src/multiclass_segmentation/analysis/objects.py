"""Objects in a mask, as the EDA counts them and the evaluation scores them, without Kedro."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy import ndimage

# Pixels that touch at a corner belong to the same object.
EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def label_objects(mask: np.ndarray, class_id: int) -> tuple[np.ndarray, int]:
    """The 8-connected components of ``class_id`` in ``mask``: an array holding each pixel's
    object number (1..count; 0 outside the class) and the count."""
    components, count = ndimage.label(mask == class_id, structure=EIGHT_CONNECTED)
    return components, int(count)


def largest_object(mask: np.ndarray, foreground_ids: Iterable[int]) -> np.ndarray | None:
    """The boolean pixels of the largest foreground object (8-connected) in ``mask``, or None."""
    best: np.ndarray | None = None
    for class_id in foreground_ids:
        components, count = label_objects(mask, class_id)
        if count == 0:
            continue
        sizes = np.bincount(components.ravel())[1:]
        pixels = components == int(np.argmax(sizes)) + 1
        if best is None or pixels.sum() > best.sum():
            best = pixels
    return best
