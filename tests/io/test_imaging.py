"""The one RGB rule for every accepted image mode, and reading validated pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from multiclass_segmentation.errors import MissingInputError
from multiclass_segmentation.io.imaging import (
    UnsupportedImageError,
    check_files_exist,
    mask_array,
    read_pair,
    rgb_array,
)


@pytest.mark.parametrize(
    ("image", "expected_first_pixel"),
    [
        (Image.new("RGBA", (3, 2), (10, 20, 30, 0)), [10, 20, 30]),
        (Image.new("L", (3, 2), 70), [70, 70, 70]),
        (Image.new("RGB", (3, 2), (1, 2, 3)).quantize(colors=4), [1, 2, 3]),
        (Image.fromarray(np.full((2, 3), 65535, dtype=np.uint16)), [255, 255, 255]),
        (Image.fromarray(np.full((2, 3), 257 * 40, dtype=np.uint16)), [40, 40, 40]),
        # CMYK (0, 0, 0, 0) is white paper; PIL's conversion inverts the inks.
        (Image.new("CMYK", (3, 2), (0, 255, 255, 0)), [255, 0, 0]),
    ],
    ids=["rgba", "grayscale", "palette", "16-bit white", "16-bit grey", "cmyk red"],
)
def test_any_image_mode_becomes_an_rgb_array(image: Image.Image, expected_first_pixel: list):
    rgb = rgb_array(image)
    assert (rgb.shape, rgb.dtype) == ((2, 3, 3), np.uint8)
    assert rgb[0, 0].tolist() == expected_first_pixel


def test_float_images_and_colour_masks_are_refused_with_their_mode():
    with pytest.raises(UnsupportedImageError, match="mode F"):
        rgb_array(Image.fromarray(np.zeros((2, 2), dtype=np.float32)))
    with pytest.raises(ValueError, match="mode RGB"):
        mask_array(Image.new("RGB", (2, 2)))


def test_a_pair_is_read_from_paths_under_the_root_and_arrays_are_writable(tmp_path: Path):
    (tmp_path / "img").mkdir()
    (tmp_path / "labels").mkdir()
    Image.new("L", (4, 3), 9).save(tmp_path / "img" / "a.png")
    Image.fromarray(np.eye(3, 4, dtype=np.uint8)).save(tmp_path / "labels" / "a.png")

    image, mask = read_pair(tmp_path, "img/a.png", "labels/a.png")

    assert image.shape == (3, 4, 3) and (image == 9).all()
    np.testing.assert_array_equal(mask, np.eye(3, 4))
    assert image.flags.writeable and mask.flags.writeable


def test_missing_files_are_named_with_the_advice_to_validate_again(tmp_path: Path):
    (tmp_path / "here.png").write_bytes(b"")
    with pytest.raises(MissingInputError, match=r"1 file\(s\).*gone.png.*data_validation"):
        check_files_exist(tmp_path, ["here.png", "gone.png"])
    with pytest.raises(MissingInputError, match="gone.jpg.*data_validation"):
        read_pair(tmp_path, "gone.jpg", "here.png")
