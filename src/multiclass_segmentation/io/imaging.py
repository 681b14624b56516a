"""Image files to arrays: the one RGB rule that validation, EDA, training, evaluation and
inference share, and the reading of masks.

Never imports torch or kedro. Callers look ``rgb_array`` and ``mask_array`` up on this module
at call time (``imaging.rgb_array(...)``), so a test can count the arrays that are alive.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from multiclass_segmentation.errors import MissingInputError

# 16-bit grayscale PNGs open in these modes; convert("RGB") would clip them at 255.
SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")
# Modes PIL converts to 8-bit RGB without clipping values.
EIGHT_BIT_MODES = ("1", "L", "P", "CMYK", "YCbCr", "RGBA", "LA", "PA")
ACCEPTED_IMAGE_MODES = ("RGB", *EIGHT_BIT_MODES, *SIXTEEN_BIT_MODES)
ALPHA_MODES = ("RGBA", "LA", "PA")
# One 8-bit channel; in a palette image the index is the class id.
MASK_MODES = ("L", "P")


class UnsupportedImageError(ValueError):
    """An image mode with no safe conversion to 8-bit RGB (e.g. 32-bit float)."""


def rgb_array(image: Image.Image) -> np.ndarray:
    """An H x W x 3 uint8 RGB array of any accepted PIL image.

    Grayscale, palette, CMYK and RGBA images are converted by PIL (transparency is
    dropped, the colour under it kept); 16-bit grayscale is scaled to 8 bits
    (value / 257, so 65535 becomes 255). Other modes raise ``UnsupportedImageError``.
    """
    if image.mode == "RGB":
        return np.array(image)
    if image.mode in SIXTEEN_BIT_MODES:
        scaled = np.asarray(image, dtype=np.float64) / 257.0
        image = Image.fromarray(scaled.round().clip(0, 255).astype(np.uint8))
    elif image.mode not in EIGHT_BIT_MODES:
        raise UnsupportedImageError(
            f"mode {image.mode} has no lossless conversion to 8-bit RGB; convert the file yourself"
        )
    return np.array(image.convert("RGB"))


def mask_array(image: Image.Image) -> np.ndarray:
    """An H x W uint8 array of class ids from a one-channel 8-bit mask (L or P)."""
    if image.mode not in MASK_MODES:
        raise ValueError(f"mode {image.mode}: a mask must be one 8-bit channel (L or P)")
    return np.array(image)


def read_rgb(path: str | Path) -> np.ndarray:
    """The image file at ``path`` as an H x W x 3 uint8 RGB array (see ``rgb_array``)."""
    with Image.open(path) as image:
        return rgb_array(image)


def read_mask(path: str | Path) -> np.ndarray:
    """The mask file at ``path`` as an H x W uint8 array of class ids."""
    with Image.open(path) as image:
        return mask_array(image)


def read_pair(root: str | Path, image_path: str, mask_path: str) -> tuple[np.ndarray, np.ndarray]:
    """A validated pair listed in a manifest: its RGB image and its mask, paths under ``root``."""
    root = Path(root)
    try:
        return read_rgb(root / image_path), read_mask(root / mask_path)
    except FileNotFoundError as error:
        raise MissingInputError(
            f"{error.filename} is listed among the validated pairs but is missing (dataset.root "
            f"is {root}): run the data_validation pipeline again for this dataset."
        ) from None


def check_files_exist(root: str | Path, paths: Iterable[str]) -> None:
    """Raises ``MissingInputError`` naming the listed files under ``root`` that are missing.

    Run before a long job reads them, so a moved dataset stops it at once.
    """
    root = Path(root)
    missing = [path for path in paths if not (root / path).is_file()]
    if missing:
        raise MissingInputError(
            f"{len(missing)} file(s) listed among the validated pairs are missing under "
            f"dataset.root {root}, e.g. {', '.join(missing[:3])}: run the data_validation "
            "pipeline again for this dataset."
        )
