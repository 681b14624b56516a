"""Copy-paste augmentation: another training image's animal pasted at a new size; no kedro.

Albumentations' ``OverlayElements`` pastes an image under a mask and writes its class
into the target mask, but it is handed the objects: it cannot reach into other
samples of a dataset. ``ObjectDonors`` is that missing part: it picks another image
of the split, cuts out its largest animal and draws the box the animal lands in, so
that pasted animals range from far away to close-ups that fill most of the frame
(the large-scale jitter of Ghiasi et al., CVPR 2021).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import albumentations as A
import cv2
import numpy as np

from multiclass_segmentation.analysis.objects import largest_object
from multiclass_segmentation.config.training import CopyPasteParams
from multiclass_segmentation.io import imaging

# The key under which a sample's overlays reach albumentations.
OVERLAY_KEY = "overlay_metadata"
# Boxes smaller than this many pixels a side paste nothing recognisable.
MIN_SIDE = 4


def paste_transform() -> A.OverlayElements:
    """The albumentations step that pastes what ``ObjectDonors.overlays`` hands it."""
    return A.OverlayElements(metadata_key=OVERLAY_KEY, p=1.0)


def cut_largest_object(
    image: np.ndarray, mask: np.ndarray, foreground_ids: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The bounding box of the largest animal: its pixels, its 0/255 mask and its class.

    None for a mask without foreground.
    """
    pixels = largest_object(mask, foreground_ids)
    if pixels is None:
        return None
    rows, cols = np.nonzero(pixels)
    window = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
    class_id = int(mask[rows[0], cols[0]])
    return image[window], pixels[window].astype(np.uint8) * 255, class_id


def landing_box(
    object_shape: tuple[int, int],
    frame_shape: tuple[int, int],
    longer_side: float,
    rng: np.random.Generator,
) -> tuple[int, int, int, int] | None:
    """Where the object lands in the frame: ``(top, left, height, width)`` in pixels.

    The object's longer side becomes ``longer_side`` times the frame's shorter side,
    its aspect ratio is kept (the box shrinks to fit the frame when the object is
    wider than the frame allows) and the box lands at a uniform position. None when the
    box would be under ``MIN_SIDE`` pixels a side.
    """
    object_h, object_w = object_shape
    frame_h, frame_w = frame_shape
    scale = longer_side * min(frame_h, frame_w) / max(object_h, object_w)
    scale = min(scale, frame_h / object_h, frame_w / object_w)
    box_h, box_w = int(object_h * scale), int(object_w * scale)
    if min(box_h, box_w) < MIN_SIDE:
        return None
    top = int(rng.integers(0, frame_h - box_h + 1))
    left = int(rng.integers(0, frame_w - box_w + 1))
    return top, left, box_h, box_w


def overlay(
    pixels: np.ndarray,
    object_mask: np.ndarray,
    class_id: int,
    box: tuple[int, int, int, int],
    frame_shape: tuple[int, int],
) -> dict[str, Any]:
    """``OverlayElements``' description of the object resized into ``box``.

    Resized here, smoothly (OverlayElements would upscale with INTER_AREA, which is
    blocky), so that its own resize to the normalised box is at most a pixel.
    """
    top, left, box_h, box_w = box
    frame_h, frame_w = frame_shape
    shrinking = box_h < pixels.shape[0]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return {
        "image": cv2.resize(pixels, (box_w, box_h), interpolation=interpolation),
        "mask": cv2.resize(object_mask, (box_w, box_h), interpolation=cv2.INTER_NEAREST),
        "mask_id": class_id,
        "bbox": [left / frame_w, top / frame_h, (left + box_w) / frame_w, (top + box_h) / frame_h],
    }


class ObjectDonors:
    """The animals of a split's training images, handed out as overlays for ``paste_transform``.

    Random draws come from a generator of its own (seeded; each DataLoader worker
    reseeds it, as it does the augmentations).
    """

    def __init__(
        self,
        root: str | Path,
        image_paths: Sequence[str],
        mask_paths: Sequence[str],
        foreground_ids: Sequence[int],
        params: CopyPasteParams,
        seed: int,
    ) -> None:
        self.root = Path(root)
        self.image_paths = list(image_paths)
        self.mask_paths = list(mask_paths)
        self.foreground_ids = tuple(foreground_ids)
        self.params = params
        self.rng = np.random.default_rng(seed)

    def reseed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def overlays(self, index: int, frame_shape: tuple[int, int]) -> list[dict[str, Any]]:
        """What to paste onto sample ``index`` (of ``frame_shape``): one animal, or nothing.

        Nothing with probability 1 - p, when the split has one image, or when the
        donor drawn has no animal.
        """
        count = len(self.image_paths)
        if count < 2 or self.rng.random() >= self.params.p:
            return []
        donor = int(self.rng.integers(0, count - 1))
        donor += donor >= index  # any image but the sample itself
        image, mask = imaging.read_pair(self.root, self.image_paths[donor], self.mask_paths[donor])
        cut = cut_largest_object(image, mask, self.foreground_ids)
        if cut is None:
            return []
        pixels, object_mask, class_id = cut
        longer_side = self.rng.uniform(*self.params.size)
        box = landing_box(object_mask.shape, frame_shape, longer_side, self.rng)
        if box is None:
            return []
        return [overlay(pixels, object_mask, class_id, box, frame_shape)]
