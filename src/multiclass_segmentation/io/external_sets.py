"""External labelled sets: a folder with img/ and labels/, read as data validation reads a split.

Kedro's partitioned datasets are built from the catalog; an external set is named
in a parameter, so its files are listed here, with the same loader behaviour
(the whole file decoded on load, so a truncated file fails there, its format kept).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from PIL import Image

from multiclass_segmentation.errors import MissingInputError

# The folders of an external set, as a dataset split lays them out.
IMAGE_FOLDER, MASK_FOLDER = "img", "labels"


def _decoded(path: Path) -> Image.Image:
    image = Image.open(path)
    image.load()
    return image


def folder_partitions(folder: Path) -> dict[str, Callable[[], Image.Image]]:
    """Every file under ``folder`` (subfolders included), by its path relative to it."""
    return {
        path.relative_to(folder).as_posix(): partial(_decoded, path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def external_set_partitions(
    name: str, root: str | Path
) -> tuple[dict[str, Callable[[], Image.Image]], dict[str, Callable[[], Image.Image]]]:
    """The image and mask partitions of the external set ``name`` at ``root``.

    Raises ``MissingInputError`` naming the parameter when a folder is missing.
    """
    root = Path(root)
    missing = [f for f in (IMAGE_FOLDER, MASK_FOLDER) if not (root / f).is_dir()]
    if missing:
        raise MissingInputError(
            f"evaluation.external_sets.{name}: {root} has no {' or '.join(missing)} folder; an "
            f"external set holds its images in {IMAGE_FOLDER}/ and their masks (same file "
            f"names, class ids, 255 = ignore) in {MASK_FOLDER}/."
        )
    return folder_partitions(root / IMAGE_FOLDER), folder_partitions(root / MASK_FOLDER)
