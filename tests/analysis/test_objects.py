"""Objects in a mask: 8-connected components of one class."""

from __future__ import annotations

import numpy as np

from multiclass_segmentation.analysis.objects import label_objects

# Class 1: a diagonal pair (one object: the pixels touch at a corner) and a separate pixel.
# Class 2: one 2x1 bar. 255 (ignore) and 0 (background) are other classes.
MASK = np.array(
    [
        [1, 0, 0, 0, 1],
        [0, 1, 0, 0, 0],
        [0, 0, 2, 2, 0],
        [255, 0, 0, 0, 0],
    ],
    dtype=np.uint8,
)


def test_pixels_touching_at_a_corner_are_one_object():
    components, count = label_objects(MASK, 1)

    assert count == 2
    assert components[0, 0] == components[1, 1] != 0
    assert components[0, 4] not in (0, components[0, 0])
    # Every other pixel is outside class 1.
    assert np.count_nonzero(components) == 3


def test_each_class_is_labelled_on_its_own():
    components, count = label_objects(MASK, 2)

    assert count == 1
    assert components.tolist() == [
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 1, 1, 0],
        [0, 0, 0, 0, 0],
    ]
    assert label_objects(MASK, 3)[1] == 0
