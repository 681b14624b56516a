"""Uploaded bytes to an RGB array, with every way an upload can be bad named in a 4xx error.

The pixels go through ``io.imaging.rgb_array``, the RGB rule of the pipelines, so a
16-bit, CMYK, RGBA or palette upload is labelled as the inference pipeline labels that file.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from multiclass_segmentation.io.imaging import UnsupportedImageError, rgb_array

# Formats a photo comes in; PIL's others (e.g. EPS, which runs Ghostscript) are refused.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF")


class RejectedUpload(ValueError):
    """An upload the service refuses: ``status`` is the HTTP status, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def decode_upload(data: bytes, max_pixels: int) -> np.ndarray:
    """The H x W x 3 uint8 RGB array of an uploaded image file.

    Raises ``RejectedUpload``: 415 for what is no image of an accepted format or
    mode, 413 for more than ``max_pixels`` pixels (read from the header, before
    the pixels are decoded, so a decompression bomb never expands), 422 for a
    truncated or corrupt file.
    """
    if not data:
        raise RejectedUpload(422, "the uploaded file is empty")
    try:
        with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
            _check_pixels(image, max_pixels)
            _load_pixels(image)
            return rgb_array(image)
    except UnidentifiedImageError:
        raise RejectedUpload(
            415, f"the file is not an image in an accepted format ({', '.join(ACCEPTED_FORMATS)})"
        ) from None
    except Image.DecompressionBombError as error:
        raise RejectedUpload(413, f"decompression bomb refused: {error}") from None
    except UnsupportedImageError as error:
        raise RejectedUpload(415, f"unsupported image: {error}") from None


def _check_pixels(image: Image.Image, max_pixels: int) -> None:
    width, height = image.size
    if width * height > max_pixels:
        raise RejectedUpload(
            413,
            f"the image has {width} x {height} = {width * height:,} pixels; "
            f"the limit is {max_pixels:,}",
        )
    if width == 0 or height == 0:
        raise RejectedUpload(422, f"the image is {width} x {height} pixels: nothing to label")


def _load_pixels(image: Image.Image) -> None:
    """Decodes the pixels; a truncated or corrupt file raises here, not later."""
    try:
        with warnings.catch_warnings():
            # Our own pixel limit applies; PIL's warning below its bomb threshold is noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image.load()
    except (OSError, SyntaxError, ValueError) as error:
        raise RejectedUpload(
            422, f"the {image.format} file is truncated or corrupt: {error}"
        ) from None
