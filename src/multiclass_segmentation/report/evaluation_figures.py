"""Figures of the evaluation, Kedro-free: error examples, confusion and recall by object size."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from multiclass_segmentation.config.common import ClassesParams, DatasetParams
from multiclass_segmentation.config.evaluation import EvaluationParams
from multiclass_segmentation.core.segmenter import Segmenter
from multiclass_segmentation.io import imaging
from multiclass_segmentation.report.plotting import class_legend_handles, class_rgb, overlay_mask


def error_examples_figure(
    segmenter: Segmenter,
    manifest: pd.DataFrame,
    dataset: DatasetParams,
    scores: dict[str, Any],
    classes: ClassesParams,
    evaluation: EvaluationParams,
) -> Figure:
    """The best and worst test images by per-image Dice: image, truth, prediction, errors.

    Only the drawn images are read and predicted again, so the split's
    predictions need not be kept.
    """
    dice = [entry["dice"] for entry in scores["per_image_dice"]]
    scored = [index for index, value in enumerate(dice) if value is not None]
    order = sorted(scored, key=lambda index: dice[index])
    # Half the images at most, so no image shows up as both best and worst.
    count = min(evaluation.error_examples, max(1, len(order) // 2))
    picks = [("worst", i) for i in order[:count]] + [("best", i) for i in order[::-1][:count]]
    pairs = [
        imaging.read_pair(dataset.root, manifest["image"].iloc[i], manifest["mask"].iloc[i])
        for _, i in picks
    ]
    predictions = segmenter.predict_batch(
        [image for image, _ in pairs], hflip=evaluation.tta.hflip, scales=evaluation.tta.scales
    )
    fig = Figure(figsize=(12, 3 * len(picks)))
    axes = fig.subplots(len(picks), 4, squeeze=False)
    for row, ((kind, index), (image, mask), prediction) in enumerate(
        zip(picks, pairs, predictions, strict=True)
    ):
        wrong = (prediction != mask) & (mask != classes.ignore_index)
        errors = image.astype(np.float32) / 255.0 * 0.4
        errors[wrong] = (1.0, 0.0, 1.0)
        panels = [
            (image, f"{kind}: {manifest['id'].iloc[index]}"),
            (overlay_mask(image, mask, classes), "ground truth"),
            (overlay_mask(image, prediction, classes), "prediction"),
            (errors, f"errors (magenta), Dice {scores['per_image_dice'][index]['dice']:.3f}"),
        ]
        for ax, (picture, title) in zip(axes[row], panels, strict=True):
            ax.imshow(picture)
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    # Title, then the legend under it, then the grid: none may cover another.
    top = 1 - 0.6 / fig.get_figheight()
    fig.tight_layout(rect=(0, 0, 1, top))
    fig.suptitle("Worst and best test images by per-image Dice", y=1 - 0.1 / fig.get_figheight())
    fig.legend(
        handles=class_legend_handles(classes),
        loc="upper center",
        bbox_to_anchor=(0.5, 1 - 0.3 / fig.get_figheight()),
        ncol=classes.num_classes,
    )
    return fig


def confusion_and_size_recall_figure(scores: dict[str, Any], classes: ClassesParams) -> Figure:
    """Row-normalised test confusion matrix, and object recall by object size per class."""
    fig = Figure(figsize=(12, 4.5))
    ax_cm, ax_size = fig.subplots(1, 2)
    matrix = np.array(scores["confusion_normalized"], dtype=float)
    ax_cm.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    names = list(classes.names)
    ax_cm.set_xticks(range(len(names)), names)
    ax_cm.set_yticks(range(len(names)), names)
    for (row, col), value in np.ndenumerate(matrix):
        ax_cm.text(
            col,
            row,
            f"{value:.3f}",
            ha="center",
            va="center",
            color="white" if value > 0.5 else "black",
        )
    ax_cm.set(title="Test confusion (rows: truth, normalised)", xlabel="predicted", ylabel="truth")
    buckets = next(iter(scores["recall_by_object_size"].values()), [])
    positions = np.arange(len(buckets))
    width = 0.8 / max(1, len(classes.foreground_ids))
    for k, class_id in enumerate(classes.foreground_ids):
        rows = scores["recall_by_object_size"][classes.name_of(class_id)]
        # A bucket without objects has no recall: no bar, only its count at zero.
        values = [r["mean_recall"] if r["mean_recall"] is not None else 0.0 for r in rows]
        bars = ax_size.bar(
            positions + k * width,
            values,
            width,
            color=class_rgb(classes, class_id),
            label=classes.name_of(class_id),
        )
        for bar, row in zip(bars, rows, strict=True):
            ax_size.annotate(
                f"n={row['objects']}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )
    ax_size.set_xticks(
        positions + width * (len(classes.foreground_ids) - 1) / 2,
        [f"{b['min_share']:.0%}-{b['max_share']:.0%}" for b in buckets],
    )
    ax_size.set(
        title="Test object recall by object size",
        xlabel="object area / image area",
        ylabel="mean recall",
        ylim=(0, 1.1),
    )
    ax_size.legend()
    fig.tight_layout()
    return fig
