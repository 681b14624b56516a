"""A small synthetic dataset in the real dataset's layout, for the demo environment.

Every image holds one object of a foreground class on a textured, noisy
background. The classes differ only in shape and texture (class ids in
``classes.foreground_ids`` take turns over: ellipse with stripes, rectangle
with a checkerboard), never in colour: objects and background draw their
colours from one distribution, so no single pixel tells the class.

Run ``python -m multiclass_segmentation.commands.synthetic --root PATH`` to write one by hand.
"""

from __future__ import annotations

import argparse
import io
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image
from pydantic import Field, field_validator
from scipy import ndimage

from multiclass_segmentation.config.common import ClassesParams, StrictModel
from multiclass_segmentation.io.atomic import staged_directory

# The share of the image one object covers, drawn uniformly: 9% on average.
OBJECT_AREA_SHARE = (0.06, 0.12)
# Longest to shortest side of an object.
OBJECT_ASPECT = (1.0, 2.0)
# Every colour (background and objects alike) is drawn from this RGB box.
COLOUR_RANGE = (30.0, 225.0)
PIXEL_NOISE_STD = 10.0
JPEG_QUALITY = 90


class SyntheticDatasetParams(StrictModel):
    """How many images of which size to generate per split, and the random seed."""

    counts: dict[str, int] = Field(description="split name -> number of images")
    image_size: int = Field(256, ge=64, description="height and width in pixels")
    seed: int = 0

    @field_validator("counts")
    @classmethod
    def _positive_counts(cls, counts: dict[str, int]) -> dict[str, int]:
        if not counts:
            raise ValueError("synthetic_dataset.counts needs at least one split, e.g. {train: 16}")
        for split, count in counts.items():
            if not split or Path(split).name != split or split in {".", ".."}:
                raise ValueError(f"synthetic_dataset.counts: '{split}' is not a folder name")
            if count < 1:
                raise ValueError(
                    f"synthetic_dataset.counts.{split} must be at least 1, got {count}"
                )
        return counts


def write_synthetic_dataset(
    root: Path, settings: SyntheticDatasetParams, classes: ClassesParams
) -> None:
    """Writes ``root/img/<split>/<id>.jpg`` and ``root/labels/<split>/<id>.png`` for every split.

    The files appear all at once (built in a temporary sibling folder, then
    renamed); an existing ``root`` is refused, never overwritten. The same
    settings give byte-identical files.
    """
    root = Path(root)
    if root.exists():
        raise FileExistsError(
            f"{root} already exists; the synthetic dataset is only written into a new folder. "
            "Remove it or choose another root."
        )
    if not classes.foreground_ids:
        raise ValueError("classes has no foreground class to draw objects of")
    with staged_directory(root) as staging:
        for split, count in settings.counts.items():
            # Each split has its own random stream, so splits never share an image.
            rng = np.random.default_rng([settings.seed, zlib.crc32(split.encode())])
            image_dir = staging / "img" / split
            mask_dir = staging / "labels" / split
            image_dir.mkdir(parents=True)
            mask_dir.mkdir(parents=True)
            for index, class_id in enumerate(_class_sequence(classes.foreground_ids, count, rng)):
                image, mask = _draw_sample(settings.image_size, class_id, classes, rng)
                sample_id = f"{split}_{index:04d}"
                (image_dir / f"{sample_id}.jpg").write_bytes(_encode(image, "JPEG"))
                (mask_dir / f"{sample_id}.png").write_bytes(_encode(mask, "PNG"))


def _class_sequence(
    foreground_ids: Sequence[int], count: int, rng: np.random.Generator
) -> np.ndarray:
    """The object class of each image: the classes take turns, in a shuffled order."""
    return rng.permutation(np.resize(np.asarray(foreground_ids), count))


def _draw_sample(
    size: int, class_id: int, classes: ClassesParams, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One RGB image with a single object of ``class_id`` and its mask."""
    image = _background(size, rng)
    inside, pattern = _object(size, classes.foreground_ids.index(class_id), rng)
    colours = rng.uniform(*COLOUR_RANGE, size=(2, 3))
    image[inside] = colours[pattern[inside].astype(int)]
    image += rng.normal(0.0, PIXEL_NOISE_STD, size=image.shape)
    mask = np.full((size, size), classes.background_id, dtype=np.uint8)
    mask[inside] = class_id
    return np.clip(image, 0, 255).astype(np.uint8), mask


def _background(size: int, rng: np.random.Generator) -> np.ndarray:
    """Two colours blended by smooth blobs, with a grainy texture on top (float HxWx3)."""
    colours = rng.uniform(*COLOUR_RANGE, size=(2, 3))
    coarse = rng.random((5, 5))
    blend = ndimage.zoom(coarse, size / coarse.shape[0], order=3, mode="nearest")[:size, :size]
    blend = np.clip(blend, 0.0, 1.0)[..., None]
    grain = ndimage.gaussian_filter(rng.normal(0.0, 1.0, size=(size, size)), sigma=1.5)
    image = colours[0] + blend * (colours[1] - colours[0])
    return image + (grain / grain.std() * 12.0)[..., None]


def _object(size: int, shape_index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Where the object is (bool HxW) and its two-tone pattern (bool HxW).

    Even shape indices are ellipses with stripes, odd ones rectangles with a
    checkerboard; size, aspect, position, rotation and pattern scale are random.
    """
    area = rng.uniform(*OBJECT_AREA_SHARE) * size * size
    aspect = rng.uniform(*OBJECT_ASPECT)
    angle = rng.uniform(0.0, np.pi)
    ellipse = shape_index % 2 == 0
    if ellipse:
        half_long = np.sqrt(area * aspect / np.pi)
        half_short = area / (np.pi * half_long)
        reach = half_long
    else:
        half_long = np.sqrt(area * aspect) / 2
        half_short = area / (4 * half_long)
        reach = np.hypot(half_long, half_short)
    centre = rng.uniform(reach + 1, size - reach - 1, size=2)
    rows, cols = np.mgrid[0:size, 0:size].astype(float)
    along, across = _rotate(cols - centre[1], rows - centre[0], angle)
    if ellipse:
        inside = (along / half_long) ** 2 + (across / half_short) ** 2 <= 1.0
        stripe_along, _ = _rotate(cols, rows, rng.uniform(0.0, np.pi))
        pattern = np.sin(2 * np.pi * stripe_along / rng.uniform(8.0, 16.0)) > 0
    else:
        inside = (np.abs(along) <= half_long) & (np.abs(across) <= half_short)
        check_along, check_across = _rotate(cols, rows, rng.uniform(0.0, np.pi))
        cell = rng.uniform(5.0, 10.0)
        pattern = (np.floor(check_along / cell) + np.floor(check_across / cell)) % 2 == 1
    return inside, pattern


def _rotate(x: np.ndarray, y: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    cos, sin = np.cos(angle), np.sin(angle)
    return x * cos + y * sin, -x * sin + y * cos


def _encode(array: np.ndarray, image_format: str) -> bytes:
    buffer = io.BytesIO()
    options = {"quality": JPEG_QUALITY} if image_format == "JPEG" else {}
    Image.fromarray(array).save(buffer, format=image_format, **options)
    return buffer.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: writes a synthetic dataset with the project's classes."""
    parser = argparse.ArgumentParser(
        prog="python -m multiclass_segmentation.commands.synthetic", description=main.__doc__
    )
    parser.add_argument("--root", type=Path, required=True, help="new folder to write")
    parser.add_argument("--train", type=int, default=16, help="train images (default 16)")
    parser.add_argument("--val", type=int, default=8, help="val images (default 8)")
    parser.add_argument("--test", type=int, default=8, help="test images (default 8)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--env", help="Kedro environment whose `classes` to use")
    args = parser.parse_args(argv)

    from multiclass_segmentation.commands.fetch_data import locate_project
    from multiclass_segmentation.io.config_loading import environment_parameters

    try:
        settings = SyntheticDatasetParams(
            counts={"train": args.train, "val": args.val, "test": args.test},
            image_size=args.image_size,
            seed=args.seed,
        )
        parameters = environment_parameters(locate_project(None), args.env)
        classes = ClassesParams.model_validate(parameters["classes"])
        write_synthetic_dataset(args.root, settings, classes)
    except (OSError, ValueError) as error:
        parser.exit(1, f"{parser.prog}: error: {error}\n")
    print(f"Wrote a synthetic dataset to {args.root}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
