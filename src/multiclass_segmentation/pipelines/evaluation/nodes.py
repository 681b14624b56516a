"""Nodes of the evaluation pipeline."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from multiclass_segmentation import imaging
from multiclass_segmentation.data import ManifestDataset, build_loader, collate_as_lists
from multiclass_segmentation.metrics import (
    confusion_matrix,
    per_image_dice,
    scores_from_confusion,
)
from multiclass_segmentation.model_selection import best_hypothesis
from multiclass_segmentation.objects import label_objects
from multiclass_segmentation.params.common import ClassesParams, DatasetParams
from multiclass_segmentation.params.evaluation import EvaluationParams
from multiclass_segmentation.plotting import class_legend_handles, overlay_mask
from multiclass_segmentation.segmenter import Segmenter


def evaluate_split(
    segmenter: Segmenter,
    manifest: pd.DataFrame,
    dataset: DatasetParams,
    classes: ClassesParams,
    evaluation: EvaluationParams,
) -> dict[str, Any]:
    """Predicts and scores one validated split in batches; no prediction outlives its batch."""
    return score_predictions(
        _predictions(segmenter, manifest, dataset, evaluation), classes, evaluation
    )


def _predictions(
    segmenter: Segmenter,
    manifest: pd.DataFrame,
    dataset: DatasetParams,
    evaluation: EvaluationParams,
) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(id, predicted mask, true mask) of each pair, each at its image's original size."""
    if torch.cuda.is_available():
        segmenter.model.to("cuda")
    loader = build_loader(
        ManifestDataset(dataset.root, manifest["image"], manifest["mask"]),
        batch_size=evaluation.batch_size,
        num_workers=evaluation.num_workers,
        collate_fn=collate_as_lists,
    )
    ids = iter(manifest["id"])
    for images, masks in loader:
        predictions = segmenter.predict_batch(
            images, hflip=evaluation.tta.hflip, scales=evaluation.tta.scales
        )
        for prediction, mask in zip(predictions, masks, strict=True):
            yield next(ids), prediction, mask


def _add_object_recalls(
    prediction: np.ndarray,
    mask: np.ndarray,
    classes: ClassesParams,
    buckets: list[float],
    recalls: dict[str, list[list[float]]],
) -> None:
    """Appends the recall of each ground-truth object (connected component) to its size bucket.

    Size is the object's share of its image's area; recall is the share of the
    object's pixels predicted as its class.
    """
    for class_id in classes.foreground_ids:
        components, count = label_objects(mask, class_id)
        for component in range(1, count + 1):
            pixels = components == component
            share = pixels.sum() / mask.size
            bucket = int(np.searchsorted(buckets, share, side="right")) - 1
            bucket = min(max(bucket, 0), len(buckets) - 2)
            recall = float((prediction[pixels] == class_id).mean())
            recalls[classes.name_of(class_id)][bucket].append(recall)


def _recall_by_object_size(
    recalls: dict[str, list[list[float]]], buckets: list[float]
) -> dict[str, list[dict[str, Any]]]:
    """Mean recall of the objects in each size bucket, per class."""
    return {
        name: [
            {
                "min_share": buckets[i],
                "max_share": buckets[i + 1],
                "objects": len(values),
                "mean_recall": float(np.mean(values)) if values else None,
            }
            for i, values in enumerate(per_bucket)
        ]
        for name, per_bucket in recalls.items()
    }


def score_predictions(
    items: Iterable[tuple[str, np.ndarray, np.ndarray]],
    classes: ClassesParams,
    evaluation: EvaluationParams,
) -> dict[str, Any]:
    """Split-level scores (TP/FP/FN summed over all pixels), per-image Dice, recall by size.

    ``items`` are (id, predicted mask, true mask), consumed one at a time.
    """
    confusion = torch.zeros(classes.num_classes, classes.num_classes, dtype=torch.long)
    per_image = []
    buckets = evaluation.size_buckets
    recalls: dict[str, list[list[float]]] = {
        classes.name_of(c): [[] for _ in buckets[:-1]] for c in classes.foreground_ids
    }
    for image_id, prediction, mask in items:
        confusion += confusion_matrix(
            torch.from_numpy(prediction).long(),
            torch.from_numpy(mask).long(),
            classes.num_classes,
            classes.ignore_index,
        )
        dice = per_image_dice(prediction, mask, classes.num_classes, classes.ignore_index)
        # An image whose pixels are all ignored has no Dice: None keeps the JSON valid.
        per_image.append({"id": image_id, "dice": None if np.isnan(dice) else dice})
        _add_object_recalls(prediction, mask, classes, buckets, recalls)
    scores = scores_from_confusion(confusion, classes.names, classes.background_id)
    scores["images"] = len(per_image)
    scores["confusion_counts"] = confusion.tolist()
    scores["per_image_dice"] = per_image
    scores["recall_by_object_size"] = _recall_by_object_size(recalls, buckets)
    return scores


def assemble_metrics(
    val_scores: dict[str, Any],
    test_scores: dict[str, Any],
    segmenter: Segmenter,
    evaluation: EvaluationParams,
    hypothesis: str,
) -> dict[str, Any]:
    """This run's metrics.json: validation and test scores and what produced them."""
    return {
        "hypothesis": hypothesis,
        "evaluated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": segmenter.info,
        "tta": evaluation.tta.model_dump(),
        "target_mdice": evaluation.target_mdice,
        "val": val_scores,
        "test": test_scores,
    }


def update_study_results(
    previous: dict[str, Any], metrics: dict[str, Any], evaluation: EvaluationParams
) -> dict[str, Any]:
    """results.json in the study's shape; this hypothesis's entry is replaced, others kept.

    The best model is chosen by validation mDice (never by test); its test mDice
    is compared with the target.
    """
    entries = dict(previous.get("hypotheses", {}))
    entries[metrics["hypothesis"]] = {
        "val_mdice": metrics["val"]["mdice"],
        "val_fg_mdice": metrics["val"]["fg_mdice"],
        "test_mdice": metrics["test"]["mdice"],
        "test_fg_mdice": metrics["test"]["fg_mdice"],
        "test_miou": metrics["test"]["miou"],
        "test_dice": metrics["test"]["dice"],
        "val_dice": metrics["val"]["dice"],
        "epochs_run": metrics["model"].get("epochs_run"),
        "evaluated_at": metrics["evaluated_at"],
    }
    best_name = best_hypothesis(entries)
    best_test = entries[best_name]["test_mdice"]
    return {
        "hypotheses": entries,
        "best_model": best_name,
        "best_selected_by": "val_mdice",
        "best_mdice": best_test,
        "target_mdice": evaluation.target_mdice,
        "target_achieved": best_test is not None and best_test > evaluation.target_mdice,
    }


def plot_error_examples(
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
    fig, axes = plt.subplots(len(picks), 4, figsize=(12, 3 * len(picks)), squeeze=False)
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


def plot_confusion_and_size_recall(scores: dict[str, Any], classes: ClassesParams) -> Figure:
    """Row-normalised test confusion matrix, and object recall by object size per class."""
    fig, (ax_cm, ax_size) = plt.subplots(1, 2, figsize=(12, 4.5))
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
            color=classes.rgb_of(class_id),
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
