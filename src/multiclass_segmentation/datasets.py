"""Kedro datasets that kedro-datasets does not provide."""

from __future__ import annotations

from PIL import Image
from kedro.io.core import get_filepath_str
from kedro_datasets.pillow import ImageDataset


class DecodedImageDataset(ImageDataset):
    """``pillow.ImageDataset`` that keeps the decoded file format.

    kedro-datasets' loader returns ``Image.open(f).copy()``, and the copy drops
    ``Image.format``, which data validation compares with the file extension
    (a PNG or GIF named ``.jpg``). Here the pixels are read in full (so a
    truncated file fails on load, as it does there) and the format is kept.
    """

    def load(self) -> Image.Image:
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        with self._fs.open(load_path, **self._fs_open_args_load) as fs_file:
            image = Image.open(fs_file)
            image.load()
        return image
