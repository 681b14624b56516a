"""Figures of the EDA, Kedro-free: one matplotlib ``Figure`` per question, splits side by side."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from multiclass_segmentation.analysis.eda_statistics import SplitStatistics
from multiclass_segmentation.config.common import ClassesParams, DatasetParams
from multiclass_segmentation.config.eda import EdaParams
from multiclass_segmentation.io import imaging
from multiclass_segmentation.report.plotting import class_legend_handles, class_rgb, overlay_mask


def _split_title(split: str, statistics: SplitStatistics) -> str:
    return f"{split} ({statistics.num_images} images)"


def image_sizes_figure(statistics_by_split: dict[str, SplitStatistics]) -> Figure:
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


def class_pixels_figure(
    classes: ClassesParams, statistics_by_split: dict[str, SplitStatistics]
) -> Figure:
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
            color=class_rgb(classes, class_id),
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


def objects_per_image_figure(
    classes: ClassesParams, eda: EdaParams, statistics_by_split: dict[str, SplitStatistics]
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
                color=class_rgb(classes, class_id),
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


def object_sizes_figure(
    classes: ClassesParams, eda: EdaParams, statistics_by_split: dict[str, SplitStatistics]
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
                color=class_rgb(classes, class_id),
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


def cooccurrence_figure(
    classes: ClassesParams, statistics_by_split: dict[str, SplitStatistics]
) -> Figure:
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
                label.set_color(class_rgb(classes, class_id))
                label.set_fontweight("bold")
        ax.set(title=_split_title(split, statistics), xlabel="class", ylabel="class")
    figure.suptitle("Class co-occurrence: images containing both classes")
    return figure


def sample_grid_figure(
    classes: ClassesParams,
    eda: EdaParams,
    dataset: DatasetParams,
    manifests: dict[str, pd.DataFrame],
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
                    ax.contour(
                        mask == class_id, levels=[0.5], colors=[class_rgb(classes, class_id)]
                    )
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
