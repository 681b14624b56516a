"""Nodes of the data_validation pipeline.

``inspect_split`` decodes every file of one split once, keeps its facts (size,
mode, format, hashes, class pixels) and releases its pixels, and turns each
library error and each data problem into a finding instead of an exception;
``build_report`` adds the duplicate checks over all splits and the severities;
``render_report_markdown`` writes the report for people; ``check_report`` stops
the run when a check with severity error failed; ``build_validated_split``
hands a manifest of the usable pairs (paths and facts, no pixels) to the next
pipelines.
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
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from multiclass_segmentation import imaging
from multiclass_segmentation.errors import UserError
from multiclass_segmentation.params.common import ClassesParams, DatasetParams
from multiclass_segmentation.params.data_validation import DataValidationParams
from multiclass_segmentation.report.data_validation import data_validation_markdown
from multiclass_segmentation.report.format import preview

Partitions = dict[str, Callable[[], Image.Image]]
FileRef = tuple[str, str]  # (folder under the dataset root, partition id)

# The dataset's folders under its root as catalog.yml lays them out; used to name files.
IMAGE_FOLDER = "img"
MASK_FOLDER = "labels"
# Multi-picture JPEGs (written by some cameras) decode as MPO but are JPEG files.
FORMAT_ALIASES = {"MPO": "JPEG"}
# Masks of duplicate images are compared at this size, so resized copies compare too.
MASK_THUMBNAIL_SIZE = (64, 64)
SEVERITIES_REPORTED = ("error", "warning")
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


class DataValidationError(UserError):
    """The dataset failed a data validation check whose severity is error."""


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


def inspect_split(images: Partitions, masks: Partitions, classes: ClassesParams) -> SplitInspection:
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


def build_report(
    dataset: DatasetParams,
    classes: ClassesParams,
    params: DataValidationParams,
    **inspections: SplitInspection,
) -> dict:
    """The validation report: per-split summary and every finding with its severity.

    ``inspections`` maps each split name to its inspection, in the splits' order.
    """
    findings = [
        _finding(
            params, problem.check, split, [_path(split, f) for f in problem.files], problem.message
        )
        for split, inspection in inspections.items()
        for problem in inspection.problems
    ]
    findings += _duplicate_findings(inspections, classes, params)
    findings = [finding for finding in findings if finding["severity"] in SEVERITIES_REPORTED]
    findings.sort(
        key=lambda finding: (SEVERITIES_REPORTED.index(finding["severity"]), finding["check"])
    )
    severity_counts = Counter(finding["severity"] for finding in findings)
    return {
        "dataset_root": dataset.root,
        "passed": severity_counts["error"] == 0,
        "errors": severity_counts["error"],
        "warnings": severity_counts["warning"],
        "summary": {split: inspection.summary for split, inspection in inspections.items()},
        "findings": findings,
    }


def render_report_markdown(report: dict, params: DataValidationParams) -> str:
    """A short markdown report: the summary tables, then the findings by severity and check."""
    return data_validation_markdown(report, params.files_listed)


def check_report(report: dict, report_md: str, params: DataValidationParams) -> bool:
    """Raises ``DataValidationError`` naming each failed check and its files; True otherwise.

    ``report_md`` is taken only so that this gate runs after the markdown report is saved.
    """
    by_check = _group_by_check(report["findings"], "error")
    if not by_check:
        return True
    lines = [
        f"Data validation of the dataset at '{report['dataset_root']}' failed "
        f"{len(by_check)} check(s); the full report is {params.report_path} "
        "(and the JSON next to it):"
    ]
    for check, findings in by_check.items():
        files = sorted({file for finding in findings for file in finding["files"]})
        lines.append(f"  - {check}: {len(files)} file(s): {preview(files, params.files_listed)}")
    lines.append(
        "Fix or remove these files, or change a check's severity in "
        "conf/base/parameters_data_validation.yml."
    )
    raise DataValidationError("\n".join(lines))


def build_validated_split(
    inspection: SplitInspection, validation_passed: bool, classes: ClassesParams, split: str
) -> pd.DataFrame:
    """The data contract of one split: a manifest with a row per usable pair, not its pixels.

    Columns: ``id`` (the file stem), ``image`` and ``mask`` (paths relative to the
    dataset root), ``height``, ``width``, the image's ``image_mode``,
    ``image_format`` and ``image_sha256``, then ``pixels_<class>`` per class and
    ``ignore_pixels``. ``validation_passed`` is the gate's output, taken so that
    this runs only after the gate.
    """
    rows = []
    for pair_id, (image_partition, mask_partition, image, mask) in sorted(inspection.pairs.items()):
        rows.append(
            {
                "id": pair_id,
                "image": _path(split, (IMAGE_FOLDER, image_partition)),
                "mask": _path(split, (MASK_FOLDER, mask_partition)),
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


def validated_split_builder(split: str) -> Callable[..., pd.DataFrame]:
    """``build_validated_split`` of one split as a node function whose type hints Kedro reads."""

    def build_validated(
        inspection: SplitInspection, validation_passed: bool, classes: ClassesParams
    ) -> pd.DataFrame:
        return build_validated_split(inspection, validation_passed, classes, split)

    return build_validated


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
    for partition, load in sorted(partitions.items()):
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


def _duplicate_findings(
    inspections: dict[str, SplitInspection], classes: ClassesParams, params: DataValidationParams
) -> list[dict]:
    """Identical and near-identical images within and across splits, and their masks' agreement."""
    members = [
        (split, record) for split, inspection in inspections.items() for record in inspection.images
    ]
    if len(members) < 2:
        return []
    hashes = np.stack([record.perceptual_hash for _, record in members]).astype(np.float32)
    # Between vectors of 0s and 1s the Hamming distance is the L1 distance.
    close = cKDTree(hashes).query_pairs(
        r=params.near_duplicate_max_distance, p=1, output_type="ndarray"
    )
    graph = coo_matrix(
        (np.ones(len(close)), (close[:, 0], close[:, 1])), shape=(len(members), len(members))
    )
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[tuple[str, ImageRecord]]] = defaultdict(list)
    for member, label in zip(members, labels, strict=True):
        groups[label].append(member)

    findings = []
    for group in groups.values():
        if len(group) < 2:
            continue
        by_pixels: dict[str, list[tuple[str, ImageRecord]]] = defaultdict(list)
        for split, record in group:
            by_pixels[record.pixel_hash].append((split, record))
        findings += [
            _duplicates_finding(params, "duplicate_images", "identical", identical)
            for identical in by_pixels.values()
            if len(identical) > 1
        ]
        if len(by_pixels) > 1:
            kind = (
                "near-identical (perceptual hashes within "
                f"{params.near_duplicate_max_distance} bits)"
            )
            findings.append(_duplicates_finding(params, "near_duplicate_images", kind, group))
        findings += _mask_disagreement_findings(group, classes, params)
    return findings


def _duplicates_finding(
    params: DataValidationParams, check: str, kind: str, group: list[tuple[str, ImageRecord]]
) -> dict:
    splits = list(dict.fromkeys(split for split, _ in group))
    files = [_path(split, record.image) for split, record in group]
    if len(splits) > 1:
        message = (
            f"{len(group)} {kind} images in {' and '.join(splits)}: the splits leak into each "
            "other, so scores on the held-out split are optimistic; keep each picture in one split"
        )
        return _finding(params, f"{check}_across_splits", "+".join(splits), files, message)
    message = f"{len(group)} {kind} images: they weigh more than others in training and metrics"
    return _finding(params, check, splits[0], files, message)


def _mask_disagreement_findings(
    group: list[tuple[str, ImageRecord]], classes: ClassesParams, params: DataValidationParams
) -> list[dict]:
    """A finding when duplicate images' masks hold other classes or differ on many pixels."""
    labelled = [(split, record) for split, record in group if record.mask is not None]
    if len(labelled) < 2:
        return []
    first = labelled[0][1]
    for _, other in labelled[1:]:
        if other.mask_class_ids != first.mask_class_ids:
            detail = (
                f"classes {_class_names(first.mask_class_ids, classes)} vs "
                f"{_class_names(other.mask_class_ids, classes)}"
            )
        else:
            differing = float(np.mean(first.mask_thumbnail != other.mask_thumbnail))
            if differing <= params.mask_disagreement_fraction:
                continue
            detail = f"{differing:.0%} of the pixels differ"
        splits = list(dict.fromkeys(split for split, _ in labelled))
        message = (
            f"masks of {len(labelled)} duplicate images disagree ({detail}); "
            "at least one is labelled wrongly or incompletely"
        )
        files = [_path(split, record.mask) for split, record in labelled]
        return [_finding(params, "duplicate_masks_disagree", "+".join(splits), files, message)]
    return []


def _finding(
    params: DataValidationParams, check: str, split: str, files: list[str], message: str
) -> dict:
    return {
        "check": check,
        "severity": getattr(params.severity, check),
        "split": split,
        "files": files,
        "message": message,
    }


def _group_by_check(findings: list[dict], severity: str) -> dict[str, list[dict]]:
    by_check: dict[str, list[dict]] = defaultdict(list)
    for finding in findings:
        if finding["severity"] == severity:
            by_check[finding["check"]].append(finding)
    return dict(by_check)


def _path(split: str, file: FileRef) -> str:
    """A file's path relative to the dataset root."""
    folder, partition = file
    return f"{folder}/{split}/{partition}"


def _class_names(class_ids: frozenset[int], classes: ClassesParams) -> str:
    return "{" + ", ".join(classes.name_of(i) for i in sorted(class_ids)) + "}"


def _size(facts: ImageFacts | MaskFacts) -> str:
    return f"{facts.width}x{facts.height}"
