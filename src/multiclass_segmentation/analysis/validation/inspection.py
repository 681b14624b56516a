"""Per-file and per-split checks of the dataset, Kedro-free.

``inspect_split_files`` decodes every file of one split once, keeps its facts
(size, mode, format, hashes, class pixels) and releases its pixels, and turns
each library error and each data problem into a ``Problem`` instead of an
exception; ``manifest`` lists the usable pairs (paths and facts, no pixels).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import PurePosixPath

import imagehash
import numpy as np
import pandas as pd
from PIL import Image

from multiclass_segmentation.analysis.text import preview
from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.io import imaging
from multiclass_segmentation.progress import tracked

Partitions = dict[str, Callable[[], Image.Image]]

FileRef = tuple[str, str]  # (folder under the dataset root, partition id)

# The dataset's folders under its root as catalog.yml lays them out; used to name files.
IMAGE_FOLDER = "img"

MASK_FOLDER = "labels"

# Multi-picture JPEGs (written by some cameras) decode as MPO but are JPEG files.
FORMAT_ALIASES = {"MPO": "JPEG"}

# Masks of duplicate images are compared at this size, so resized copies compare too.
MASK_THUMBNAIL_SIZE = (64, 64)

LEFT_OUT = "the pair is left out of validated data"

# The manifest's first columns; pixel counts per class and ignore pixels follow.
MANIFEST_COLUMNS = (
    "id",
    "image",
    "mask",
    "height",
    "width",
    "image_mode",
    "image_format",
    "image_sha256",
)


@dataclass(frozen=True)
class Problem:
    """One finding in one split, before its check's severity is attached."""

    check: str
    files: tuple[FileRef, ...]
    message: str


@dataclass(frozen=True)
class ImageFacts:
    """What validation keeps of a decoded image once its pixels are released."""

    height: int
    width: int
    mode: str
    format: str
    pixel_hash: str
    perceptual_hash: np.ndarray


@dataclass(frozen=True)
class MaskFacts:
    """What validation keeps of a decoded mask: its size, classes and a small thumbnail."""

    height: int
    width: int
    class_pixels: tuple[int, ...]  # pixels of each class id 0..C-1
    ignore_pixels: int
    class_ids: frozenset[int]  # foreground classes present
    thumbnail: np.ndarray


Facts = ImageFacts | MaskFacts


@dataclass(frozen=True)
class ImageRecord:
    """What the duplicate checks need of a decoded image and, for a usable pair, its mask."""

    image: FileRef
    pixel_hash: str
    perceptual_hash: np.ndarray
    mask: FileRef | None = None
    mask_thumbnail: np.ndarray | None = None
    mask_class_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class SplitInspection:
    """Counts, findings, image fingerprints and the usable pairs' facts of one split.

    ``pairs`` maps each usable pair's id (the file stem) to its image and mask
    partitions and facts; no pixels are kept.
    """

    summary: dict
    problems: tuple[Problem, ...]
    images: tuple[ImageRecord, ...]
    pairs: dict[str, tuple[str, str, ImageFacts, MaskFacts]]


def inspect_split_files(
    images: Partitions, masks: Partitions, classes: ClassesParams
) -> SplitInspection:
    """Checks every file of one split and pairs images with masks by file stem.

    Each file is decoded once and released after its facts are taken, so memory
    does not grow with the number of images. A pair is usable when both files
    decode, the image converts to RGB and the mask is one 8-bit channel of class
    ids of the image's size.
    """
    image_facts, problems = _inspect_folder(images, IMAGE_FOLDER, _image_facts)
    mask_facts, mask_problems = _inspect_folder(
        masks, MASK_FOLDER, partial(_mask_facts, classes=classes)
    )
    problems += mask_problems
    image_stems, mask_stems = _files_by_stem(images), _files_by_stem(masks)
    problems += _stem_problems(image_stems, mask_stems)

    pairs: dict[str, tuple[str, str, ImageFacts, MaskFacts]] = {}
    for stem in sorted(image_stems.keys() & mask_stems.keys()):
        if len(image_stems[stem]) > 1 or len(mask_stems[stem]) > 1:
            continue
        image_partition, mask_partition = image_stems[stem][0], mask_stems[stem][0]
        if image_partition not in image_facts or mask_partition not in mask_facts:
            continue
        image, mask = image_facts[image_partition], mask_facts[mask_partition]
        if (image.height, image.width) != (mask.height, mask.width):
            problems.append(
                Problem(
                    "mask_size_mismatch",
                    ((IMAGE_FOLDER, image_partition), (MASK_FOLDER, mask_partition)),
                    f"mask is {_size(mask)} but its image is {_size(image)}; {LEFT_OUT}",
                )
            )
            continue
        pairs[stem] = (image_partition, mask_partition, image, mask)

    paired_masks = {image_partition: mask for image_partition, _, _, mask in pairs.values()}
    mask_partitions = {image_partition: m for image_partition, m, _, _ in pairs.values()}
    records = tuple(
        _image_record(partition, facts, mask_partitions.get(partition), paired_masks)
        for partition, facts in sorted(image_facts.items())
    )
    images_only = image_stems.keys() - mask_stems.keys()
    masks_only = mask_stems.keys() - image_stems.keys()
    summary = {
        "images": len(images),
        "masks": len(masks),
        "images_without_masks": sum(len(image_stems[stem]) for stem in images_only),
        "masks_without_images": sum(len(mask_stems[stem]) for stem in masks_only),
        "complete_pairs": len(image_stems.keys() & mask_stems.keys()),
        "validated_pairs": len(pairs),
        **_mask_class_counts([mask for *_, mask in pairs.values()], classes),
    }
    return SplitInspection(summary, tuple(problems), records, pairs)


def manifest(inspection: SplitInspection, classes: ClassesParams, split: str) -> pd.DataFrame:
    """The data contract of one split: a manifest with a row per usable pair, not its pixels.

    Columns: ``id`` (the file stem), ``image`` and ``mask`` (paths relative to the
    dataset root), ``height``, ``width``, the image's ``image_mode``,
    ``image_format`` and ``image_sha256``, then ``pixels_<class>`` per class and
    ``ignore_pixels``.
    """
    rows = []
    for pair_id, (image_partition, mask_partition, image, mask) in sorted(inspection.pairs.items()):
        rows.append(
            {
                "id": pair_id,
                "image": file_path(split, (IMAGE_FOLDER, image_partition)),
                "mask": file_path(split, (MASK_FOLDER, mask_partition)),
                "height": image.height,
                "width": image.width,
                "image_mode": image.mode,
                "image_format": image.format,
                "image_sha256": image.pixel_hash,
                **{
                    f"pixels_{classes.name_of(class_id)}": mask.class_pixels[class_id]
                    for class_id in classes.ids
                },
                "ignore_pixels": mask.ignore_pixels,
            }
        )
    columns = [*MANIFEST_COLUMNS, *(f"pixels_{name}" for name in classes.names), "ignore_pixels"]
    return pd.DataFrame(rows, columns=columns)


def _decode(load: Callable[[], Image.Image]) -> tuple[Image.Image | None, str]:
    """The decoded image, or None and why it could not be decoded."""
    try:
        return load(), ""
    except Exception as error:  # PIL, fsspec and Kedro raise many types; each is a finding
        cause = error.__cause__ or error
        return None, f"{type(cause).__name__}: {cause}"


def _inspect_folder(
    partitions: Partitions,
    folder: str,
    inspect: Callable[[FileRef, Image.Image], tuple[Facts | None, list[Problem]]],
) -> tuple[dict[str, Facts], list[Problem]]:
    """The facts of the files that decode and pass ``inspect``, by partition, and the problems.

    One file is decoded at a time and its pixels released before the next.
    """
    facts: dict[str, Facts] = {}
    problems: list[Problem] = []
    files = tracked(sorted(partitions.items()), f"Checking the files in {folder}/")
    for partition, load in files:
        file = (folder, partition)
        image, error = _decode(load)
        if image is None:
            message = f"cannot be decoded ({error}); {LEFT_OUT}"
            problems.append(Problem("unreadable_file", (file,), message))
            continue
        problems += _extension_problems(file, image)
        file_facts, file_problems = inspect(file, image)
        problems += file_problems
        if file_facts is not None:
            facts[partition] = file_facts
    return facts, problems


def _extension_problems(file: FileRef, image: Image.Image) -> list[Problem]:
    suffix = PurePosixPath(file[1]).suffix.lower()
    expected = Image.registered_extensions().get(suffix)
    actual = _format(image)
    if actual == expected:
        return []
    named = f"named {suffix}" if suffix else "without extension"
    return [Problem("extension_mismatch", (file,), f"is a {actual} file {named}")]


def _format(image: Image.Image) -> str:
    return FORMAT_ALIASES.get(image.format, image.format)


def _image_facts(file: FileRef, image: Image.Image) -> tuple[ImageFacts | None, list[Problem]]:
    """The image's facts when it converts to RGB (the project's one rule), and what that did."""
    try:
        rgb = imaging.rgb_array(image)
    except imaging.UnsupportedImageError as error:
        return None, [Problem("image_mode_unsupported", (file,), f"{error}; {LEFT_OUT}")]
    facts = ImageFacts(
        height=rgb.shape[0],
        width=rgb.shape[1],
        mode=image.mode,
        format=_format(image),
        pixel_hash=hashlib.sha256(rgb.tobytes() + str(rgb.shape).encode()).hexdigest(),
        perceptual_hash=imagehash.phash(Image.fromarray(rgb)).hash.flatten(),
    )
    return facts, _conversion_problems(file, image)


def _conversion_problems(file: FileRef, image: Image.Image) -> list[Problem]:
    """What converting a non-RGB image to RGB did: scaled 16 bits, dropped alpha or converted."""
    mode = image.mode
    if mode == "RGB":
        return []
    if mode in imaging.SIXTEEN_BIT_MODES:
        return [
            Problem("image_mode_converted", (file,), f"mode {mode} scaled to 8 bits (value / 257)")
        ]
    if mode in imaging.ALPHA_MODES or "transparency" in image.info:
        transparent = np.asarray(image.convert("RGBA").getchannel("A")) < 255
        if transparent.any():
            return [
                Problem(
                    "image_transparency_dropped",
                    (file,),
                    f"mode {mode} with {transparent.mean():.0%} transparent pixels: converted "
                    "to RGB by dropping the alpha channel, so they show their stored colour",
                )
            ]
        mode = f"{mode} (fully opaque)"
    return [Problem("image_mode_converted", (file,), f"mode {mode} converted to RGB")]


def _mask_facts(
    file: FileRef, image: Image.Image, classes: ClassesParams
) -> tuple[MaskFacts | None, list[Problem]]:
    """The mask's facts when it is one channel of class ids or the ignore value, and problems."""
    try:
        mask = imaging.mask_array(image)
    except ValueError as error:
        return None, [Problem("mask_mode", (file,), f"{error} of class ids; {LEFT_OUT}")]
    counts = np.bincount(mask.ravel(), minlength=256)
    unexpected = np.setdiff1d(np.flatnonzero(counts), [*classes.ids, classes.ignore_index])
    if unexpected.size:
        return None, [
            Problem(
                "mask_values_out_of_range",
                (file,),
                f"values {preview(unexpected.tolist(), 10)} on "
                f"{counts[unexpected].sum() / mask.size:.1%} of pixels are neither class ids "
                f"{list(classes.ids)} nor the ignore value {classes.ignore_index}; {LEFT_OUT}",
            )
        ]
    class_ids = frozenset(c for c in classes.foreground_ids if counts[c])
    thumbnail = Image.fromarray(mask).resize(MASK_THUMBNAIL_SIZE, Image.Resampling.NEAREST)
    facts = MaskFacts(
        height=mask.shape[0],
        width=mask.shape[1],
        class_pixels=tuple(int(counts[c]) for c in range(classes.num_classes)),
        ignore_pixels=int(counts[classes.ignore_index]),
        class_ids=class_ids,
        thumbnail=np.asarray(thumbnail),
    )
    if class_ids:
        return facts, []
    names = " or ".join(classes.name_of(i) for i in classes.foreground_ids)
    return facts, [
        Problem(
            "mask_background_only", (file,), f"has no {names} pixels (only background or ignore)"
        )
    ]


def _files_by_stem(partitions: Partitions) -> dict[str, list[str]]:
    """Partition ids by their path without extension, which pairs an image with its mask."""
    stems: dict[str, list[str]] = defaultdict(list)
    for partition in sorted(partitions):
        stems[str(PurePosixPath(partition).with_suffix(""))].append(partition)
    return dict(stems)


def _stem_problems(
    image_stems: dict[str, list[str]], mask_stems: dict[str, list[str]]
) -> list[Problem]:
    """Unpaired files and ids that several files of one folder share."""
    problems = [
        Problem(
            "stem_collision",
            tuple((folder, partition) for partition in partitions),
            f"{len(partitions)} files share the id '{stem}', so the pair is ambiguous; keep one; "
            f"{LEFT_OUT}",
        )
        for folder, stems in ((IMAGE_FOLDER, image_stems), (MASK_FOLDER, mask_stems))
        for stem, partitions in stems.items()
        if len(partitions) > 1
    ]
    problems += [
        Problem("image_without_mask", ((IMAGE_FOLDER, partition),), "has no mask of the same name")
        for stem in sorted(image_stems.keys() - mask_stems.keys())
        for partition in image_stems[stem]
    ]
    problems += [
        Problem("mask_without_image", ((MASK_FOLDER, partition),), "has no image of the same name")
        for stem in sorted(mask_stems.keys() - image_stems.keys())
        for partition in mask_stems[stem]
    ]
    return problems


def _image_record(
    partition: str,
    facts: ImageFacts,
    mask_partition: str | None,
    paired_masks: dict[str, MaskFacts],
) -> ImageRecord:
    record = ImageRecord(
        image=(IMAGE_FOLDER, partition),
        pixel_hash=facts.pixel_hash,
        perceptual_hash=facts.perceptual_hash,
    )
    if mask_partition is None:
        return record
    mask = paired_masks[partition]
    return replace(
        record,
        mask=(MASK_FOLDER, mask_partition),
        mask_thumbnail=mask.thumbnail,
        mask_class_ids=mask.class_ids,
    )


def _mask_class_counts(masks: list[MaskFacts], classes: ClassesParams) -> dict:
    """How many masks hold no, one or several foreground classes, and each class."""
    classes_per_mask = Counter(min(len(mask.class_ids), 2) for mask in masks)
    return {
        "masks_background_only": classes_per_mask[0],
        "masks_one_class": classes_per_mask[1],
        "masks_several_classes": classes_per_mask[2],
        "masks_with_class": {
            classes.name_of(i): sum(i in mask.class_ids for mask in masks)
            for i in classes.foreground_ids
        },
    }


def file_path(split: str, file: FileRef) -> str:
    """A file's path relative to the dataset root; an external set (split "") has no
    split folder."""
    folder, partition = file
    return "/".join(part for part in (folder, split, partition) if part)


def _size(facts: ImageFacts | MaskFacts) -> str:
    return f"{facts.width}x{facts.height}"
