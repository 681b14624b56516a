"""Objects in a mask, as the EDA counts them and the evaluation scores them, without Kedro."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

# Pixels that touch at a corner belong to the same object.
EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def label_objects(mask: np.ndarray, class_id: int) -> tuple[np.ndarray, int]:
    """The 8-connected components of ``class_id`` in ``mask``: an array holding each pixel's
    object number (1..count; 0 outside the class) and the count."""
    components, count = ndimage.label(mask == class_id, structure=EIGHT_CONNECTED)
    return components, int(count)
