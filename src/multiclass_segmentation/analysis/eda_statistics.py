"""Statistics of the EDA, Kedro-free: per-split running sums, class weights, the summary.

``statistics_of_pairs`` streams (id, image, mask) pairs once, keeping running
sums in a ``SplitStatistics``; the other functions work on those.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from multiclass_segmentation.analysis.objects import label_objects
from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.eda import EdaParams
from multiclass_segmentation.errors import BadInputError


@dataclass(frozen=True)
class SplitStatistics:
    """What the EDA measures on one split.

    Arrays over classes are indexed by class id (ids are 0..C-1). Objects are the
    8-connected components of a foreground class with at least
    ``eda.min_component_pixels`` pixels; the background is the complement of the
    objects, so it has none.

    Attributes:
        ids: the image ids, in the split's order.
        image_sizes: (height, width) of each image.
        class_pixels: (C,) pixels of each class; ignore pixels are not counted.
        ignore_pixels: pixels holding the ignore value.
        present_image_pixels: (C,) labelled pixels of the images that contain the class.
        cooccurrence: (C, C) number of images that contain both class i and class j.
        objects_per_image: foreground class id -> number of objects in each image.
        object_area_fractions: foreground class id -> area / image area of each object.
        channel_sum: (3,) sum of the 0..255 values of each RGB channel.
        channel_squared_sum: (3,) sum of their squares.
        channel_pixels: pixels summed per channel.
    """

    ids: list[str]
    image_sizes: list[tuple[int, int]]
    class_pixels: np.ndarray
    ignore_pixels: int
    present_image_pixels: np.ndarray
    cooccurrence: np.ndarray
    objects_per_image: dict[int, np.ndarray]
    object_area_fractions: dict[int, np.ndarray]
    channel_sum: np.ndarray
    channel_squared_sum: np.ndarray
    channel_pixels: int

    @property
    def num_images(self) -> int:
        return len(self.ids)


def object_areas(mask: np.ndarray, class_id: int, min_pixels: int) -> np.ndarray:
    """Pixel areas of the 8-connected components of ``class_id`` with at least ``min_pixels``."""
    components, _ = label_objects(mask, class_id)
    areas = np.bincount(components.ravel())[1:]
    return areas[areas >= min_pixels]


def statistics_of_pairs(
    pairs: Iterable[tuple[str, np.ndarray, np.ndarray]], classes: ClassesParams, eda: EdaParams
) -> SplitStatistics:
    """Counts pixels, objects, co-occurrences and channel sums of (id, image, mask) pairs.

    Running sums only: the pairs may come from a generator, one at a time.
    """
    num_classes = classes.num_classes
    class_pixels = np.zeros(num_classes, dtype=np.int64)
    present_image_pixels = np.zeros(num_classes, dtype=np.int64)
    cooccurrence = np.zeros((num_classes, num_classes), dtype=np.int64)
    objects_per_image: dict[int, list[int]] = {c: [] for c in classes.foreground_ids}
    area_fractions: dict[int, list[np.ndarray]] = {c: [] for c in classes.foreground_ids}
    channel_sum = np.zeros(3)
    channel_squared_sum = np.zeros(3)
    image_sizes = []
    ids = []
    ignore_pixels = 0

    for image_id, image, mask in pairs:
        ids.append(image_id)
        counts, ignored = _class_counts(image_id, image, mask, classes)
        present = counts > 0
        class_pixels += counts
        ignore_pixels += ignored
        present_image_pixels[present] += counts.sum()
        cooccurrence += np.outer(present, present)
        image_sizes.append(mask.shape)
        for class_id in classes.foreground_ids:
            areas = object_areas(mask, class_id, eda.min_component_pixels)
            objects_per_image[class_id].append(areas.size)
            area_fractions[class_id].append(areas / mask.size)
        pixels = image.reshape(-1, 3).astype(np.float64)
        channel_sum += pixels.sum(axis=0)
        channel_squared_sum += np.square(pixels).sum(axis=0)

    if not ids:
        raise BadInputError(
            "A validated split holds no images; run data_validation on a dataset "
            "with images in every split."
        )
    return SplitStatistics(
        ids=ids,
        image_sizes=image_sizes,
        class_pixels=class_pixels,
        ignore_pixels=ignore_pixels,
        present_image_pixels=present_image_pixels,
        cooccurrence=cooccurrence,
        objects_per_image={c: np.array(n) for c, n in objects_per_image.items()},
        object_area_fractions={c: np.concatenate(f) for c, f in area_fractions.items()},
        channel_sum=channel_sum,
        channel_squared_sum=channel_squared_sum,
        channel_pixels=sum(h * w for h, w in image_sizes),
    )


def _class_counts(
    image_id: str, image: np.ndarray, mask: np.ndarray, classes: ClassesParams
) -> tuple[np.ndarray, int]:
    """Pixels per class id and ignored pixels of a mask that fits its image and the classes."""
    if image.shape[:2] != mask.shape:
        raise BadInputError(
            f"Image '{image_id}' is {image.shape[:2]} but its mask is {mask.shape}; "
            "re-run data_validation."
        )
    counts = np.bincount(mask.ravel(), minlength=classes.num_classes)[: classes.num_classes]
    ignored = int(np.count_nonzero(mask == classes.ignore_index))
    if counts.sum() + ignored != mask.size:
        unknown = sorted(set(np.unique(mask).tolist()) - {*classes.ids, classes.ignore_index})
        raise BadInputError(
            f"Mask of '{image_id}' holds values {unknown} that are neither class ids "
            f"{list(classes.ids)} nor classes.ignore_index {classes.ignore_index}; "
            "fix `classes` in parameters.yml or re-run data_validation."
        )
    return counts, ignored


def channel_statistics(*statistics: SplitStatistics) -> dict[str, list[float]]:
    """Per-channel (R, G, B) mean and standard deviation over all pixels of the given splits."""
    pixels = sum(s.channel_pixels for s in statistics)
    mean = sum(s.channel_sum for s in statistics) / pixels
    # Clipped at 0: float rounding can make a constant channel's variance slightly negative.
    variance = np.maximum(sum(s.channel_squared_sum for s in statistics) / pixels - mean**2, 0)
    std = np.sqrt(variance)
    return {
        "mean_0_1": rounded(mean / 255),
        "std_0_1": rounded(std / 255),
        "mean_0_255": rounded(mean),
        "std_0_255": rounded(std),
    }


def _normalised_to_mean_one(weights: np.ndarray, present: np.ndarray) -> np.ndarray:
    """The weights scaled to mean 1 over the present classes; absent classes get 0."""
    normalised = np.zeros_like(weights, dtype=np.float64)
    normalised[present] = weights[present] / weights[present].mean()
    return normalised


def inverse_frequency_weights(class_pixels: np.ndarray) -> np.ndarray:
    """Inverse class frequency, ``w_c = total / (C * count_c)``, scaled to mean 1.

    ``total`` is the number of labelled pixels and ``C`` the number of classes
    that have pixels; a class without pixels gets weight 0.
    """
    present = class_pixels > 0
    weights = np.zeros(class_pixels.size)
    weights[present] = class_pixels.sum() / (present.sum() * class_pixels[present])
    return _normalised_to_mean_one(weights, present)


def median_frequency_weights(
    class_pixels: np.ndarray, present_image_pixels: np.ndarray
) -> np.ndarray:
    """Median frequency balancing (Eigen & Fergus, 2015), scaled to mean 1.

    ``freq_c = count_c / pixels of the images where class c is present`` and
    ``w_c = median(freq) / freq_c``, the median taken over the classes that have
    pixels; a class without pixels gets weight 0.
    """
    present = class_pixels > 0
    frequency = class_pixels[present] / present_image_pixels[present]
    weights = np.zeros(class_pixels.size)
    weights[present] = np.median(frequency) / frequency
    return _normalised_to_mean_one(weights, present)


def rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in values]


def _count_table(values: list) -> dict[str, int]:
    """How often each value occurs, keyed by its text so the table is valid JSON."""
    return {str(value): count for value, count in sorted(Counter(values).items())}


def split_summary(statistics: SplitStatistics, classes: ClassesParams) -> dict:
    labelled = statistics.class_pixels.sum()
    objects = {}
    object_sizes = {}
    for class_id in classes.foreground_ids:
        counts = statistics.objects_per_image[class_id]
        fractions = statistics.object_area_fractions[class_id]
        objects[classes.name_of(class_id)] = {
            "mean": round(float(counts.mean()), 4),
            "median": float(np.median(counts)),
            "max": int(counts.max()),
            "images_without": int(np.count_nonzero(counts == 0)),
            "distribution": _count_table(counts.tolist()),
        }
        object_sizes[classes.name_of(class_id)] = {
            "objects": int(fractions.size),
            **(
                {
                    "mean": round(float(fractions.mean()), 6),
                    "median": round(float(np.median(fractions)), 6),
                    "min": round(float(fractions.min()), 6),
                    "max": round(float(fractions.max()), 6),
                }
                if fractions.size
                else {}
            ),
        }
    return {
        "num_images": statistics.num_images,
        "image_sizes": _count_table([f"{h}x{w}" for h, w in statistics.image_sizes]),
        "heights": _count_table([h for h, _ in statistics.image_sizes]),
        "widths": _count_table([w for _, w in statistics.image_sizes]),
        "class_pixels": {
            classes.name_of(c): {
                "pixels": int(statistics.class_pixels[c]),
                "share": round(float(statistics.class_pixels[c] / labelled), 6),
            }
            for c in classes.ids
        },
        "ignore_pixels": statistics.ignore_pixels,
        "images_with_class": {
            classes.name_of(c): int(statistics.cooccurrence[c, c]) for c in classes.ids
        },
        "objects_per_image": objects,
        "object_area_fraction": object_sizes,
        "cooccurrence": statistics.cooccurrence.tolist(),
    }


def class_weight_suggestion(
    train_statistics: SplitStatistics, classes: ClassesParams, method: str
) -> dict:
    """Class weights from the train split's pixel counts, both methods.

    ``weights`` repeats the weights of ``method``.
    """
    weights = {
        "inverse_frequency": rounded(inverse_frequency_weights(train_statistics.class_pixels)),
        "median_frequency": rounded(
            median_frequency_weights(
                train_statistics.class_pixels, train_statistics.present_image_pixels
            )
        ),
    }
    return {
        "class_names": list(classes.names),
        **weights,
        "recommended": method,
        "weights": weights[method],
    }


def eda_report(
    classes: ClassesParams,
    min_component_pixels: int,
    class_weights: dict,
    statistics_by_split: dict[str, SplitStatistics],
) -> dict:
    """The JSON summary: every number of the EDA, per split, plus the suggested weights."""
    return {
        "classes": list(classes.names),
        "min_component_pixels": min_component_pixels,
        "splits": {
            split: split_summary(statistics, classes)
            for split, statistics in statistics_by_split.items()
        },
        "channel_statistics": {
            **{split: channel_statistics(s) for split, s in statistics_by_split.items()},
            "all": channel_statistics(*statistics_by_split.values()),
        },
        "class_weights": class_weights,
    }
