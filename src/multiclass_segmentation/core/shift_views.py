"""Shifted views of a split that a model was not trained on, built once and cached; no kedro.

Three kinds of view, each deterministic for the parameters and the images:

- **close-ups**: a square crop around the image's largest object, sized so that the
  object fills a given share of it, resized to ``view_size`` (a photo taken closer);
- **zoom-outs**: the image shrunk in the middle of a frame of its own size (the
  animal far away); the new border is filled with the image's mean colour and
  ignored in the mask, since nothing there was labelled;
- **corruptions**: albumentations transforms by family and severity (noise, blur,
  weather, digital), each image's random draws seeded by the view and its id.

``cached_views`` writes the views of every split into a folder named after a hash
of all they depend on (parameters, image hashes, masks) and returns their manifest;
a second run with the same inputs reuses the folder. The folder appears whole or
not at all (``io.atomic``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from multiclass_segmentation.analysis.objects import largest_object
from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.model import TransformSpec
from multiclass_segmentation.config.robustness import CorruptionParams, RobustnessParams
from multiclass_segmentation.core.transforms import build_augmentations
from multiclass_segmentation.io import imaging
from multiclass_segmentation.io.atomic import staged_path
from multiclass_segmentation.progress import tracked

SCALE_FAMILY = "scale"
VIEWS_MANIFEST = "views.csv"
VIEW_COLUMNS = (
    "split",
    "view",
    "family",
    "level",
    "corruption",
    "id",
    "image",
    "mask",
    "coverage",
)


@dataclass(frozen=True)
class PlannedView:
    """One image's place in one view: which view, and the corruption it gets, if any."""

    view: str
    family: str
    level: float
    corruption: str = ""


def closeup(
    image: np.ndarray, mask: np.ndarray, coverage: float, size: int, classes: ClassesParams
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """A square crop in which the largest object fills ``coverage`` of the frame, resized.

    The crop's side is sqrt(object area / coverage), centred on the object's bounding
    box and moved inside the image; where the image is too small for that side the
    whole height or width is taken and the object fills more. Returns the crop resized
    to ``size`` x ``size``, its mask, and the share of the crop the object really
    fills; None for an image without a foreground object.
    """
    pixels = largest_object(mask, classes.foreground_ids)
    if pixels is None:
        return None
    rows, cols = np.nonzero(pixels)
    height, width = mask.shape
    side = min(max(1, round(math.sqrt(rows.size / coverage))), height, width)
    top = _placed(rows.min(), rows.max(), side, height)
    left = _placed(cols.min(), cols.max(), side, width)
    window = (slice(top, top + side), slice(left, left + side))
    achieved = float(pixels[window].sum() / side**2)
    shrinking = side > size
    crop = cv2.resize(
        image[window],
        (size, size),
        interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR,
    )
    crop_mask = cv2.resize(mask[window], (size, size), interpolation=cv2.INTER_NEAREST)
    return crop, crop_mask, achieved


def _placed(low: int, high: int, side: int, limit: int) -> int:
    """The start of a window of ``side`` centred on [low, high] and kept inside [0, limit)."""
    start = round((low + high + 1) / 2 - side / 2)
    return min(max(start, 0), limit - side)


def zoomout(
    image: np.ndarray, mask: np.ndarray, factor: float, ignore_index: int
) -> tuple[np.ndarray, np.ndarray]:
    """The image shrunk by ``factor`` in the middle of a frame of its own size.

    The border is the image's mean colour (no edge to find) and ``ignore_index`` in the
    mask: nothing was labelled there, so it is neither right nor wrong to predict.
    """
    height, width = mask.shape
    small_h, small_w = max(1, round(height * factor)), max(1, round(width * factor))
    top, left = (height - small_h) // 2, (width - small_w) // 2
    frame = np.empty_like(image)
    frame[:] = image.reshape(-1, image.shape[-1]).mean(axis=0).round().astype(image.dtype)
    frame_mask = np.full_like(mask, ignore_index)
    frame[top : top + small_h, left : left + small_w] = cv2.resize(
        image, (small_w, small_h), interpolation=cv2.INTER_AREA
    )
    frame_mask[top : top + small_h, left : left + small_w] = cv2.resize(
        mask, (small_w, small_h), interpolation=cv2.INTER_NEAREST
    )
    return frame, frame_mask


def corrupt(
    image: np.ndarray,
    mask: np.ndarray,
    corruption: CorruptionParams,
    severity: int,
    seed: int,
    ignore_index: int = 255,
) -> tuple[np.ndarray, np.ndarray]:
    """The pair with ``corruption`` at ``severity`` (1-based; 0 is the clean pair).

    The transform's random draws come from ``seed``, so a view is the same on every run.
    A pixel-level transform leaves the mask as it is; a geometric one moves it too.
    """
    if severity == 0:
        return image, mask
    spec = TransformSpec(
        name=corruption.transform, params={**corruption.severities[severity - 1], "p": 1.0}
    )
    transform = build_augmentations(
        [spec], ignore_index, seed=seed, parameter=f"robustness corruption {corruption.transform}"
    )
    out = transform(image=image, mask=mask)
    return out["image"], out["mask"]


def view_seed(seed: int, view: str, corruption: str, image_id: str) -> int:
    """A 32-bit seed of one image in one view: stable across runs, processes and machines."""
    digest = hashlib.sha256(f"{seed}/{view}/{corruption}/{image_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def planned_views(params: RobustnessParams, position: int) -> Iterator[PlannedView]:
    """Every view of the image at ``position`` in its split's manifest.

    Scale views take every image. Under ``rotate`` sampling each corruption family
    takes each image once: severity 1 + (position + family index) mod levels, and the
    family's corruptions in turn; under ``full`` every severity of every corruption.
    """
    for coverage in params.scale.closeup_coverages:
        yield PlannedView(f"closeup_{round(coverage * 100)}", SCALE_FAMILY, coverage)
    for factor in params.scale.zoomout_factors:
        yield PlannedView(f"zoomout_{round(factor * 100)}", SCALE_FAMILY, factor)
    levels = params.severities
    for index, (family, corruptions) in enumerate(params.corruptions.items()):
        names = list(corruptions)
        if params.sampling == "full":
            cells = [(s, name) for s in range(1, levels + 1) for name in names]
        else:
            severity = 1 + (position + index) % levels
            cells = [(severity, names[(position // levels) % len(names)])]
        for severity, name in cells:
            yield PlannedView(f"{family}_{severity}", family, severity, name)


def cache_key(
    params: RobustnessParams, manifests: dict[str, pd.DataFrame], classes: ClassesParams
) -> str:
    """A short hash of all the views depend on: parameters, classes and each pair's files."""
    parts = {
        "params": params.model_dump(exclude={"cache_dir", "worst_examples"}),
        "ignore_index": classes.ignore_index,
        "foreground": list(classes.foreground_ids),
        "splits": {
            split: manifest[["id", "image_sha256", "mask"]].astype(str).values.tolist()
            for split, manifest in sorted(manifests.items())
        },
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_views(
    manifests: dict[str, pd.DataFrame],
    root: str | Path,
    params: RobustnessParams,
    classes: ClassesParams,
) -> pd.DataFrame:
    """The manifest of every view of ``manifests``' pairs, written once under the cache.

    Paths in the manifest are relative to ``params.cache_dir``; the folder
    ``<cache_dir>/<cache_key>`` is reused when it exists.
    """
    key = cache_key(params, manifests, classes)
    folder = Path(params.cache_dir) / key
    if not (folder / VIEWS_MANIFEST).is_file():
        with staged_path(folder) as staging:
            rows = [
                row
                for split, manifest in manifests.items()
                for row in _write_split_views(manifest, Path(root), split, params, classes, staging)
            ]
            table = pd.DataFrame(rows, columns=list(VIEW_COLUMNS))
            table["image"] = key + "/" + table["image"]
            table["mask"] = key + "/" + table["mask"]
            table.to_csv(staging / VIEWS_MANIFEST, index=False)
    return read_views_manifest(folder / VIEWS_MANIFEST)


def read_views_manifest(path: Path) -> pd.DataFrame:
    """A views manifest as written by ``cached_views``: ids and names stay text."""
    text_columns = ("split", "view", "family", "corruption", "id", "image", "mask")
    return pd.read_csv(path, dtype=dict.fromkeys(text_columns, str), keep_default_na=False)


def _write_split_views(
    manifest: pd.DataFrame,
    root: Path,
    split: str,
    params: RobustnessParams,
    classes: ClassesParams,
    out: Path,
) -> Iterator[dict]:
    """Writes each view of each pair of one split as PNG files; yields its manifest rows."""
    pairs = tracked(manifest.itertuples(index=False), f"Shifted views of {split}", len(manifest))
    for position, pair in enumerate(pairs):
        image, mask = imaging.read_pair(root, pair.image, pair.mask)
        for plan in planned_views(params, position):
            made = _view_pair(image, mask, plan, str(pair.id), params, classes)
            if made is None:
                continue
            view_image, view_mask, coverage = made
            name = f"{split}/{plan.view}/{plan.corruption or 'view'}/{pair.id}"
            _write_png(out / f"{name}.png", view_image)
            _write_png(out / f"{name}_mask.png", view_mask)
            yield {
                "split": split,
                "view": plan.view,
                "family": plan.family,
                "level": plan.level,
                "corruption": plan.corruption,
                "id": str(pair.id),
                "image": f"{name}.png",
                "mask": f"{name}_mask.png",
                "coverage": coverage,
            }


def _view_pair(
    image: np.ndarray,
    mask: np.ndarray,
    plan: PlannedView,
    image_id: str,
    params: RobustnessParams,
    classes: ClassesParams,
) -> tuple[np.ndarray, np.ndarray, float | None] | None:
    """The view's image and mask (and a close-up's coverage); None when it has none."""
    if plan.view.startswith("closeup_"):
        return closeup(image, mask, plan.level, params.view_size, classes)
    if plan.view.startswith("zoomout_"):
        return (*zoomout(image, mask, plan.level, classes.ignore_index), None)
    corruption = params.corruptions[plan.family][plan.corruption]
    seed = view_seed(params.seed, plan.view, plan.corruption, image_id)
    return (*corrupt(image, mask, corruption, int(plan.level), seed, classes.ignore_index), None)


def _write_png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = cv2.cvtColor(array, cv2.COLOR_RGB2BGR) if array.ndim == 3 else array
    if not cv2.imwrite(str(path), pixels):
        raise OSError(f"could not write {path}")
