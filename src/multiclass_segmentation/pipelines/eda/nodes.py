"""Nodes of the eda pipeline: statistics of the validated splits, their figures and reports.

``compute_split_statistics`` streams each split's files once, keeping running
sums; every other node works on the ``SplitStatistics`` it returns, one keyword
argument per split (the sample grid reads only the pairs it draws).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from multiclass_segmentation import imaging
from multiclass_segmentation.errors import BadInputError
from multiclass_segmentation.objects import label_objects
from multiclass_segmentation.params.common import ClassesParams, DatasetParams
from multiclass_segmentation.params.eda import EdaParams
from multiclass_segmentation.plotting import class_legend_handles, overlay_mask
from multiclass_segmentation.report.eda import eda_markdown

logger = logging.getLogger(__name__)


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


def compute_split_statistics(
    manifest: pd.DataFrame, dataset: DatasetParams, classes: ClassesParams, eda: EdaParams
) -> SplitStatistics:
    """Streams the validated pairs of one split from their files (one pair in memory at a time)."""
    pairs = (
        (row.id, *imaging.read_pair(dataset.root, row.image, row.mask))
        for row in manifest.itertuples()
    )
    return statistics_of_pairs(pairs, classes, eda)


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
        if image.shape[:2] != mask.shape:
            raise BadInputError(
                f"Image '{image_id}' is {image.shape[:2]} but its mask is {mask.shape}; "
                "re-run data_validation."
            )
        counts = np.bincount(mask.ravel(), minlength=num_classes)[:num_classes]
        ignored = int(np.count_nonzero(mask == classes.ignore_index))
        if counts.sum() + ignored != mask.size:
            unknown = sorted(set(np.unique(mask).tolist()) - {*classes.ids, classes.ignore_index})
            raise BadInputError(
                f"Mask of '{image_id}' holds values {unknown} that are neither class ids "
                f"{list(classes.ids)} nor classes.ignore_index {classes.ignore_index}; "
                "fix `classes` in parameters.yml or re-run data_validation."
            )
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


def channel_statistics(*statistics: SplitStatistics) -> dict[str, list[float]]:
    """Per-channel (R, G, B) mean and standard deviation over all pixels of the given splits."""
    pixels = sum(s.channel_pixels for s in statistics)
    mean = sum(s.channel_sum for s in statistics) / pixels
    # Clipped at 0: float rounding can make a constant channel's variance slightly negative.
    variance = np.maximum(sum(s.channel_squared_sum for s in statistics) / pixels - mean**2, 0)
    std = np.sqrt(variance)
    return {
        "mean_0_1": _rounded(mean / 255),
        "std_0_1": _rounded(std / 255),
        "mean_0_255": _rounded(mean),
        "std_0_255": _rounded(std),
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


def suggest_class_weights(
    train_statistics: SplitStatistics, classes: ClassesParams, eda: EdaParams
) -> dict:
    """Class weights for the loss from the train split's pixel counts, both methods.

    ``weights`` repeats the method that ``eda.class_weights_method`` recommends.
    """
    if not train_statistics.class_pixels.any():
        raise BadInputError(
            "The train split has no labelled pixels (all are classes.ignore_index), "
            "so no class weights can be suggested; check its masks."
        )
    absent = [classes.name_of(c) for c in classes.ids if train_statistics.class_pixels[c] == 0]
    if absent:
        logger.warning("Classes %s have no pixels in the train split; their weight is 0.", absent)
    weights = {
        "inverse_frequency": _rounded(inverse_frequency_weights(train_statistics.class_pixels)),
        "median_frequency": _rounded(
            median_frequency_weights(
                train_statistics.class_pixels, train_statistics.present_image_pixels
            )
        ),
    }
    return {
        "class_names": list(classes.names),
        **weights,
        "recommended": eda.class_weights_method,
        "weights": weights[eda.class_weights_method],
    }


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in values]


def _count_table(values: list) -> dict[str, int]:
    """How often each value occurs, keyed by its text so the table is valid JSON."""
    return {str(value): count for value, count in sorted(Counter(values).items())}


def _split_summary(statistics: SplitStatistics, classes: ClassesParams) -> dict:
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


def build_eda_report(
    classes: ClassesParams,
    eda: EdaParams,
    class_weights: dict,
    **statistics_by_split: SplitStatistics,
) -> dict:
    """The JSON summary: every number of the EDA, per split, plus the suggested weights."""
    return {
        "classes": list(classes.names),
        "min_component_pixels": eda.min_component_pixels,
        "splits": {
            split: _split_summary(statistics, classes)
            for split, statistics in statistics_by_split.items()
        },
        "channel_statistics": {
            **{split: channel_statistics(s) for split, s in statistics_by_split.items()},
            "all": channel_statistics(*statistics_by_split.values()),
        },
        "class_weights": class_weights,
    }


def render_eda_markdown(report: dict) -> str:
    """A short markdown summary of the EDA report: its tables and links to its figures."""
    return eda_markdown(report)


def _split_title(split: str, statistics: SplitStatistics) -> str:
    return f"{split} ({statistics.num_images} images)"


def plot_image_sizes(**statistics_by_split: SplitStatistics) -> Figure:
    """One scatter of image width against height per split, each point labelled with its count."""
    figure = Figure(figsize=(4 * len(statistics_by_split), 4), layout="constrained")
    axes = figure.subplots(1, len(statistics_by_split), sharex=True, sharey=True, squeeze=False)[0]
    for ax, (split, statistics) in zip(axes, statistics_by_split.items(), strict=True):
        sizes = Counter(statistics.image_sizes)
        heights, widths = zip(*sizes, strict=True)
        counts = np.array(list(sizes.values()))
        ax.scatter(widths, heights, s=40 + 400 * counts / counts.max(), alpha=0.6)
        for (height, width), count in sizes.items():
            ax.annotate(str(count), (width, height), textcoords="offset points", xytext=(8, 8))
        ax.set(title=_split_title(split, statistics), xlabel="width (px)", ylabel="height (px)")
        ax.grid(alpha=0.3)
    figure.suptitle("Image sizes (labels: number of images)")
    return figure


def plot_class_pixels(classes: ClassesParams, **statistics_by_split: SplitStatistics) -> Figure:
    """Pixels of each class per split as grouped bars on a log scale, labelled with their share."""
    figure = Figure(figsize=(2.5 + 2.2 * len(statistics_by_split), 4.5), layout="constrained")
    ax = figure.subplots()
    width = 0.8 / classes.num_classes
    positions = np.arange(len(statistics_by_split))
    for index, class_id in enumerate(classes.ids):
        pixels = np.array([s.class_pixels[class_id] for s in statistics_by_split.values()])
        shares = [
            p / s.class_pixels.sum()
            for p, s in zip(pixels, statistics_by_split.values(), strict=True)
        ]
        bars = ax.bar(
            positions + (index - (classes.num_classes - 1) / 2) * width,
            pixels,
            width,
            color=classes.rgb_of(class_id),
            edgecolor="black",
            label=classes.name_of(class_id),
        )
        ax.bar_label(bars, labels=[f"{100 * share:.1f}%" for share in shares], fontsize=8)
    ax.set_yscale("log")
    ax.margins(y=0.15)
    ax.set_xticks(positions, list(statistics_by_split))
    ax.set(
        title="Class pixels per split (labels: share of the split's labelled pixels)",
        xlabel="split",
        ylabel="pixels (log scale)",
    )
    ax.legend(title="class", loc="upper left", bbox_to_anchor=(1, 1))
    return figure


def plot_objects_per_image(
    classes: ClassesParams, eda: EdaParams, **statistics_by_split: SplitStatistics
) -> Figure:
    """Per split, how many images hold 0, 1, 2, ... objects of each foreground class."""
    figure = Figure(figsize=(4.5 * len(statistics_by_split), 4), layout="constrained")
    axes = figure.subplots(1, len(statistics_by_split), sharey=True, squeeze=False)[0]
    foreground = classes.foreground_ids
    width = 0.8 / len(foreground)
    most = max(
        int(s.objects_per_image[c].max()) for s in statistics_by_split.values() for c in foreground
    )
    counts_axis = np.arange(most + 1)
    for ax, (split, statistics) in zip(axes, statistics_by_split.items(), strict=True):
        for index, class_id in enumerate(foreground):
            images = np.bincount(statistics.objects_per_image[class_id], minlength=most + 1)
            ax.bar(
                counts_axis + (index - (len(foreground) - 1) / 2) * width,
                images,
                width,
                color=classes.rgb_of(class_id),
                edgecolor="black",
                label=classes.name_of(class_id),
            )
        ax.set_xticks(counts_axis)
        ax.set(
            title=_split_title(split, statistics), xlabel="objects in the image", ylabel="images"
        )
    axes[-1].legend(title="class")
    figure.suptitle(
        f"Objects per image (8-connected components of at least {eda.min_component_pixels} px)"
    )
    return figure


def plot_object_sizes(
    classes: ClassesParams, eda: EdaParams, **statistics_by_split: SplitStatistics
) -> Figure:
    """Per split, histograms of object area as a fraction of the image area, log x."""
    figure = Figure(figsize=(4.5 * len(statistics_by_split), 4), layout="constrained")
    axes = figure.subplots(1, len(statistics_by_split), sharex=True, squeeze=False)[0]
    fractions = [
        f for s in statistics_by_split.values() for f in s.object_area_fractions.values() if f.size
    ]
    everything = np.concatenate(fractions) if fractions else np.array([1e-3, 1.0])
    # Log-spaced bins over the range of all splits, so the panels compare directly.
    bins = np.geomspace(
        everything.min() / 1.1, min(everything.max() * 1.1, 1.0), eda.object_size_bins + 1
    )
    for ax, (split, statistics) in zip(axes, statistics_by_split.items(), strict=True):
        for class_id in classes.foreground_ids:
            ax.hist(
                statistics.object_area_fractions[class_id],
                bins=bins,
                histtype="step",
                linewidth=2,
                color=classes.rgb_of(class_id),
                label=f"{classes.name_of(class_id)} "
                f"({statistics.object_area_fractions[class_id].size} objects)",
            )
        ax.set_xscale("log")
        ax.set(
            title=_split_title(split, statistics),
            xlabel="object area / image area (log scale)",
            ylabel="objects",
        )
        ax.legend(title="class", fontsize=8)
    figure.suptitle("Object sizes per class")
    return figure


def plot_cooccurrence(classes: ClassesParams, **statistics_by_split: SplitStatistics) -> Figure:
    """Per split, a heatmap of how many images contain both class i and class j."""
    figure = Figure(figsize=(3.8 * len(statistics_by_split), 3.8), layout="constrained")
    axes = figure.subplots(1, len(statistics_by_split), squeeze=False)[0]
    ticks = np.arange(classes.num_classes)
    for ax, (split, statistics) in zip(axes, statistics_by_split.items(), strict=True):
        matrix = statistics.cooccurrence
        ax.imshow(matrix, cmap="Blues", vmin=0, vmax=statistics.num_images)
        for (row, column), count in np.ndenumerate(matrix):
            dark = count > statistics.num_images / 2
            ax.text(
                column,
                row,
                str(count),
                ha="center",
                va="center",
                color="white" if dark else "black",
            )
        ax.set_xticks(ticks, list(classes.names), rotation=30)
        ax.set_yticks(ticks, list(classes.names))
        for labels in (ax.get_xticklabels(), ax.get_yticklabels()):
            for label, class_id in zip(labels, classes.ids, strict=True):
                label.set_color(classes.rgb_of(class_id))
                label.set_fontweight("bold")
        ax.set(title=_split_title(split, statistics), xlabel="class", ylabel="class")
    figure.suptitle("Class co-occurrence: images containing both classes")
    return figure


def plot_sample_grid(
    classes: ClassesParams, eda: EdaParams, dataset: DatasetParams, **manifests: pd.DataFrame
) -> Figure:
    """A row of randomly picked images per split, with their foreground classes overlaid.

    Only the picked pairs are read from disk.
    """
    columns = eda.samples_per_split
    figure = Figure(figsize=(2.6 * columns, 2.8 * len(manifests) + 0.6), layout="constrained")
    axes = figure.subplots(len(manifests), columns, squeeze=False)
    rng = np.random.default_rng(eda.seed)
    for row, (split, manifest) in zip(axes, manifests.items(), strict=True):
        count = min(columns, len(manifest))
        picks = sorted(rng.choice(len(manifest), size=count, replace=False))
        # A split with fewer images than columns leaves the rest of its row empty.
        for ax, index in zip(row, picks, strict=False):
            pair = manifest.iloc[index]
            image, mask = imaging.read_pair(dataset.root, pair["image"], pair["mask"])
            ax.imshow(overlay_mask(image, mask, classes))
            # Outlines keep an object visible where its colour blends into the photo.
            for class_id in classes.foreground_ids:
                if (mask == class_id).any():
                    ax.contour(mask == class_id, levels=[0.5], colors=[classes.rgb_of(class_id)])
            ax.set_title(f"{split}: {pair['id']}", fontsize=8)
        for ax in row:
            ax.set_axis_off()
    foreground = {classes.name_of(c) for c in classes.foreground_ids}
    figure.legend(
        handles=[h for h in class_legend_handles(classes) if h.get_label() in foreground],
        loc="outside lower center",
        ncols=len(foreground),
        title="overlaid classes (background not coloured)",
    )
    figure.suptitle(f"Sample images with their masks (seed {eda.seed})")
    return figure
