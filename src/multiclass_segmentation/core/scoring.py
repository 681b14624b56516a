"""Scoring of predicted masks, Kedro-free: split-level scores, per-image Dice, recall by size.

``predictions`` streams a segmenter's predictions of a validated split batch by
batch; ``score_predictions`` consumes (id, predicted mask, true mask) one at a
time; ``study_results`` keeps one entry per hypothesis and picks the best.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from multiclass_segmentation.analysis.model_selection import best_hypothesis
from multiclass_segmentation.analysis.objects import label_objects
from multiclass_segmentation.config.common import ClassesParams
from multiclass_segmentation.config.evaluation import EvaluationParams
from multiclass_segmentation.config.results import StudyResults
from multiclass_segmentation.core.data import ManifestDataset, build_loader, collate_as_lists
from multiclass_segmentation.core.metrics import (
    confusion_matrix,
    mean_dice,
    scores_from_confusion,
)
from multiclass_segmentation.core.segmenter import Segmenter
from multiclass_segmentation.progress import ProgressCounter


def predictions(
    segmenter: Segmenter,
    manifest: pd.DataFrame,
    root: str | Path,
    evaluation: EvaluationParams,
    description: str = "Predicting",
) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(id, predicted mask, true mask) of each pair in ``manifest``'s order, each at its
    image's original size; the manifest's paths are relative to ``root``. Progress is
    shown under ``description``."""
    if torch.cuda.is_available():
        segmenter.to("cuda")
    loader = build_loader(
        ManifestDataset(root, manifest["image"], manifest["mask"]),
        batch_size=evaluation.batch_size,
        num_workers=evaluation.num_workers,
        collate_fn=collate_as_lists,
    )
    ids = iter(manifest["id"])
    images_done = ProgressCounter(f"{description} (images)", total=len(manifest))
    try:
        for images, masks in loader:
            predictions = segmenter.predict_batch(
                images, hflip=evaluation.tta.hflip, scales=evaluation.tta.scales
            )
            images_done.advance(len(images))
            for prediction, mask in zip(predictions, masks, strict=True):
                yield next(ids), prediction, mask
    finally:
        images_done.close()


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
        image_confusion = confusion_matrix(
            torch.from_numpy(prediction),
            torch.from_numpy(mask),
            classes.num_classes,
            classes.ignore_index,
        )
        confusion += image_confusion
        dice = mean_dice(image_confusion)
        # An image whose pixels are all ignored has no Dice: None keeps the JSON valid.
        # Its confusion lets a study resample images (paired bootstrap) and rescore the split.
        per_image.append(
            {
                "id": image_id,
                "dice": None if np.isnan(dice) else dice,
                "confusion": image_confusion.tolist(),
            }
        )
        _add_object_recalls(prediction, mask, classes, buckets, recalls)
    scores = scores_from_confusion(confusion, classes.names, classes.background_id)
    scores["images"] = len(per_image)
    scores["confusion_counts"] = confusion.tolist()
    scores["per_image_dice"] = per_image
    scores["recall_by_object_size"] = _recall_by_object_size(recalls, buckets)
    return scores


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


def study_results(
    previous: dict[str, Any], metrics: dict[str, Any], target_mdice: float
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
    return StudyResults(
        hypotheses=entries,
        best_model=best_name,
        best_selected_by="val_mdice",
        best_mdice=best_test,
        target_mdice=target_mdice,
        target_achieved=best_test is not None and best_test > target_mdice,
    ).to_json()
