"""Uploads to RGB arrays: each bad upload named with its 4xx status, odd modes as the pipelines."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from multiclass_segmentation.serving.images import RejectedUpload, decode_upload
from tests.serving.conftest import encoded, random_rgb

MAX_PIXELS = 10_000


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height 8-bit grey pixels and holds one row of them."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\0" * (width + 1))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def rejection(data: bytes) -> RejectedUpload:
    with pytest.raises(RejectedUpload) as caught:
        decode_upload(data, MAX_PIXELS)
    return caught.value


def test_an_rgb_jpeg_and_png_decode_to_their_pixels():
    rgb = random_rgb(20, 30)
    assert np.array_equal(decode_upload(encoded(rgb), MAX_PIXELS), rgb)
    jpeg = decode_upload(encoded(rgb, "JPEG", quality=95), MAX_PIXELS)
    assert jpeg.shape == (20, 30, 3) and jpeg.dtype == np.uint8


def test_sixteen_bit_grey_is_scaled_by_257_like_the_pipelines():
    grey = np.array([[0, 257, 65535], [25700, 128, 129]], dtype=np.uint16)
    decoded = decode_upload(encoded(Image.fromarray(grey)), MAX_PIXELS)
    # value / 257, rounded: 0, 1, 255; 100, 0.498 -> 0, 0.502 -> 1; the same in R, G and B.
    expected = np.array([[0, 1, 255], [100, 0, 1]], dtype=np.uint8)
    assert np.array_equal(decoded, np.dstack([expected] * 3))


def test_rgba_drops_alpha_and_keeps_the_colour_under_it():
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[..., :3] = (10, 20, 30)
    rgba[0, 0, 3] = 0  # fully transparent, its colour kept
    decoded = decode_upload(encoded(rgba), MAX_PIXELS)
    assert np.array_equal(decoded, np.full((2, 2, 3), (10, 20, 30), dtype=np.uint8))


def test_palette_and_cmyk_become_their_rgb_colours():
    palette = Image.new("P", (3, 2))
    palette.putpalette([0, 0, 0, 200, 100, 50])
    palette.putpixel((1, 1), 1)
    decoded = decode_upload(encoded(palette), MAX_PIXELS)
    assert decoded[1, 1].tolist() == [200, 100, 50] and decoded[0, 0].tolist() == [0, 0, 0]
    cmyk = Image.new("CMYK", (4, 4), (0, 255, 255, 0))  # no cyan, full magenta and yellow: red
    assert decode_upload(encoded(cmyk, "JPEG", quality=100), MAX_PIXELS)[0, 0, 0] > 240


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"", 422, "empty"),
        (b"just some text, no image", 415, "not an image"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n", 415, "not an image"),
    ],
)
def test_what_is_no_image_is_refused(data: bytes, status: int, words: str):
    refused = rejection(data)
    assert (refused.status, words in refused.message) == (status, True)


def test_a_truncated_file_is_refused_not_padded():
    jpeg = encoded(random_rgb(60, 60), "JPEG")
    refused = rejection(jpeg[: len(jpeg) // 2])
    assert refused.status == 422 and "truncated" in refused.message


def test_too_many_pixels_are_refused_before_decoding():
    refused = rejection(png_header_only(101, 100))
    assert refused.status == 413 and "10,100 pixels" in refused.message


def test_a_decompression_bomb_is_refused():
    # 40,000 x 40,000 px declared (1.6 billion, above PIL's bomb threshold) in a few bytes.
    with pytest.raises(RejectedUpload) as caught:
        decode_upload(png_header_only(40_000, 40_000), max_pixels=2 * 10**9)
    assert caught.value.status == 413 and "decompression bomb" in caught.value.message


def test_a_mode_without_an_rgb_rule_is_refused():
    floats = Image.fromarray(np.zeros((4, 4), dtype=np.float32))  # mode F
    refused = rejection(encoded(floats, "TIFF"))
    assert refused.status == 415 and "mode F" in refused.message
